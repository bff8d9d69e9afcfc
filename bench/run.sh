#!/usr/bin/env bash
# pgferry benchmark: the same source migrated to an empty target by
#   pgferry migrate | pg_dump -Fd -j + pg_restore -j | pg_dump | psql | pgcopydb clone
# on two throwaway PostgreSQL servers, several interleaved runs each.
# Source shape (--shape): pgbench (pgbench -i -s SCALE + a wide table) or many
# (N small tables chained by foreign keys).
# After each pgferry migration, `pgferry verify` of the result is timed too.
# Prints median/min/max seconds, ratio pgferry/tool, verify's time and its
# ratio to the migration, pgferry's peak RSS, and writes
# bench/results/<timestamp>.json.  See bench/README.md.
set -euo pipefail

# ---------------------------------------------------------------- options
SHAPE=pgbench
SCALE=30
WIDE_ROWS=200000
TABLES=2000
MANY_ROWS=20   # rows per table of shape many
RUNS=3
WARMUP=1
JOBS="$(nproc)"
FSYNC=on
TOOLS="pgferry,pgdump_dir,pgdump_psql,pgcopydb"
BUILD=1
KEEP=0
VERIFY=1
PG_BINDIR="${PG_BINDIR:-}"
SERVER_USER_NAME="${PGFERRY_BENCH_USER:-pgferry}"
PROFILES=local
RTT_MS=40
CONN_MB_S=12
TOTAL_MB_S=60
JOBS_GIVEN=0

usage() {
    cat <<EOF
usage: bench/run.sh [options]
  --shape S        source shape (default $SHAPE):
                   pgbench: pgbench -i -s SCALE + a wide table of WIDE_ROWS rows
                   many: TABLES tables of $MANY_ROWS rows, each with a serial primary
                   key, a CHECK, a secondary index and a foreign key to the previous one
  --scale N        shape pgbench: pgbench scale of the source (default $SCALE)
  --wide-rows N    shape pgbench: rows in the wide text/jsonb/bytea table (default $WIDE_ROWS;
                   0: no wide table, plain pgbench -i)
  --tables N       shape many: number of tables (default $TABLES)
  --runs N         runs per tool, interleaved (default $RUNS)
  --warmup N       untimed pg_dump | psql runs first (default $WARMUP): a fresh
                   target cluster creates its WAL segments on the first run
  --jobs N         parallelism given to every tool (default: nproc = $JOBS for the
                   peers; pgferry gets --jobs only when this option is given,
                   otherwise it runs with its own default, as a user would)
  --profile LIST   comma list among: local (every tool talks to both servers
                   directly), wan (every tool reads the SOURCE through
                   bench/wanproxy, a long-distance link; the target stays
                   local). One table per profile. Default: $PROFILES
  --rtt-ms N       profile wan: round-trip time added (default $RTT_MS)
  --conn-mb-s X    profile wan: MB/s per connection and direction (default $CONN_MB_S)
  --total-mb-s X   profile wan: MB/s per direction, all connections (default $TOTAL_MB_S)
  --fsync on|off   fsync on both servers (default $FSYNC)
  --tools LIST     comma list among: pgferry,pgdump_dir,pgdump_psql,pgcopydb
                   (default: all), and floor,floor_analyze (bench/floor.sh:
                   one binary COPY FREEZE pipe per table, then post-data,
                   without / with ANALYZE; the one-stream floor)
  --quick          smoke test: --scale 2 --wide-rows 10000 --tables 50 --runs 1
  --no-verify      do not time pgferry verify after each pgferry migration
  --no-build       use the existing target/release/pgferry
  --keep           keep the servers and temp dir at exit (prints where)
  -h, --help       this help
Env: PG_BINDIR (default: PostgreSQL 15 bindir), PGFERRY_BENCH_USER (server
user when run as root, default pgferry), TMPDIR (where data dirs go).
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --shape) SHAPE="$2"; shift 2 ;;
        --scale) SCALE="$2"; shift 2 ;;
        --tables) TABLES="$2"; shift 2 ;;
        --wide-rows) WIDE_ROWS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --jobs|-j) JOBS="$2"; JOBS_GIVEN=1; shift 2 ;;
        --profile) PROFILES="$2"; shift 2 ;;
        --rtt-ms) RTT_MS="$2"; shift 2 ;;
        --conn-mb-s) CONN_MB_S="$2"; shift 2 ;;
        --total-mb-s) TOTAL_MB_S="$2"; shift 2 ;;
        --fsync) FSYNC="$2"; shift 2 ;;
        --tools) TOOLS="$2"; shift 2 ;;
        --quick) SCALE=2; WIDE_ROWS=10000; TABLES=50; RUNS=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-verify) VERIFY=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$SHAPE" in pgbench|many) ;; *) echo "bench: --shape takes pgbench or many" >&2; exit 2 ;; esac
[[ "$WIDE_ROWS" =~ ^[0-9]+$ ]] || { echo "bench: WIDE_ROWS must be a non-negative integer" >&2; exit 2; }
for v in SCALE TABLES RUNS JOBS; do
    [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || { echo "bench: $v must be a positive integer" >&2; exit 2; }
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "bench: WARMUP must be a non-negative integer" >&2; exit 2; }
case "$FSYNC" in on|off) ;; *) echo "bench: --fsync takes on or off" >&2; exit 2 ;; esac
IFS=',' read -r -a TOOL_LIST <<<"$TOOLS"
IFS=',' read -r -a PROFILE_LIST <<<"$PROFILES"
for p in "${PROFILE_LIST[@]}"; do
    case "$p" in local|wan) ;; *) echo "bench: unknown profile $p (local, wan)" >&2; exit 2 ;; esac
done
# Shape many builds its source in one transaction (one DO block) and pgferry
# creates all tables in one target transaction: about 6 lock-table entries per
# table (table, its index, primary key, sequence, TOAST table and index). With
# the default 64 x 122 backends the DO block failed with "out of shared memory"
# at table 2091: room for N/10 locks per transaction on both servers.
MAX_LOCKS=64
if [ "$SHAPE" = many ]; then
    SHAPE_DESC="$TABLES tables x $MANY_ROWS rows with FKs"
    MAX_LOCKS=$(( TABLES / 10 > MAX_LOCKS ? TABLES / 10 : MAX_LOCKS ))
else
    SHAPE_DESC="pgbench scale $SCALE + wide $WIDE_ROWS rows"
    [ "$WIDE_ROWS" -eq 0 ] && SHAPE_DESC="plain pgbench scale $SCALE"
fi
for t in "${TOOL_LIST[@]}"; do
    case "$t" in pgferry|pgdump_dir|pgdump_psql|pgcopydb|floor|floor_analyze) ;; *) echo "bench: unknown tool $t" >&2; exit 2 ;; esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools
if [ -z "$PG_BINDIR" ]; then
    if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
        PG_BINDIR=/usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null; then
        PG_BINDIR="$(pg_config --bindir)"
    fi
fi
[ -x "$PG_BINDIR/initdb" ] || die "no PostgreSQL server binaries (PG_BINDIR=$PG_BINDIR); run scripts/install-postgres.sh"
for p in pg_ctl postgres psql pg_dump pg_restore pgbench; do
    [ -x "$PG_BINDIR/$p" ] || die "$PG_BINDIR/$p missing"
done
# Every tool (and pgcopydb, which runs pg_dump/pg_restore itself) uses the same binaries.
export PATH="$PG_BINDIR:$PATH"
# libpq variables of the caller's environment must not redirect our commands.
for v in $(compgen -e); do
    case "$v" in PG*) [[ "$v" == PGFERRY_BENCH_* ]] || unset "$v" ;; esac
done

if [ ! -x /usr/bin/time ]; then
    log "installing the Debian package 'time' (for peak RSS)"
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; } \
            || log "could not install 'time'; peak RSS will be read from /proc"
    elif command -v sudo >/dev/null; then
        sudo apt-get install -y -qq time >/dev/null 2>&1 || log "could not install 'time'; peak RSS will be read from /proc"
    fi
fi

HAVE_PGCOPYDB=1
if [[ ",$TOOLS," == *",pgcopydb,"* ]] && ! command -v pgcopydb >/dev/null; then
    HAVE_PGCOPYDB=0
    log "pgcopydb is not installed (scripts/install-postgres.sh installs the Debian package); it will be reported as SKIPPED"
fi

RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    id "$SERVER_USER_NAME" >/dev/null 2>&1 || die "running as root but user $SERVER_USER_NAME does not exist; run scripts/install-postgres.sh"
    RUN_AS=(runuser -u "$SERVER_USER_NAME" --)
fi

# ---------------------------------------------------------------- build
# PGFERRY_BENCH_BIN: another pgferry binary (e.g. a build of main, for before/after).
PGFERRY="${PGFERRY_BENCH_BIN:-$REPO/target/release/pgferry}"
if [[ ",$TOOLS," == *",pgferry,"* ]]; then
    if [ "$BUILD" -eq 1 ]; then
        log "cargo build --release"
        (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
    fi
    [ -x "$PGFERRY" ] || die "$PGFERRY not found (drop --no-build)"
fi

WANPROXY="$REPO/target/wanproxy/release/wanproxy"
if [[ ",$PROFILES," == *",wan,"* ]]; then
    if [ "$BUILD" -eq 1 ] || [ ! -x "$WANPROXY" ]; then
        log "cargo build --release (bench/wanproxy)"
        CARGO_TARGET_DIR="$REPO/target/wanproxy" cargo build --release --quiet \
            --manifest-path "$BENCH/wanproxy/Cargo.toml" || die "building bench/wanproxy failed"
    fi
    [ -x "$WANPROXY" ] || die "$WANPROXY not found"
fi
PGFERRY_JOBS=()
[ "$JOBS_GIVEN" -eq 1 ] && PGFERRY_JOBS=(--jobs "$JOBS")
# PGFERRY_BENCH_ARGS: extra options for pgferry migrate (experiments, e.g.
# "--split-tables-larger-than 0"), split on spaces.
read -r -a PGFERRY_EXTRA <<<"${PGFERRY_BENCH_ARGS:-}"

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pgferry-bench.XXXXXX")"
chmod 755 "$WORK"
CHILD=""
CLUSTERS=()
PROXY_PID=""
stop_proxy() {
    if [ -n "$PROXY_PID" ]; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
        PROXY_PID=""
    fi
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    stop_proxy
    if [ -n "$CHILD" ]; then
        # The timed command runs in its own process group (setsid): end all of it.
        kill -TERM -- "-$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    if [ "$KEEP" -eq 1 ]; then
        log "--keep: servers still running; data in $WORK"
        for c in "${CLUSTERS[@]}"; do log "  stop with: ${RUN_AS[*]} $PG_BINDIR/pg_ctl -D $c/data stop -m fast"; done
        exit "$rc"
    fi
    for c in "${CLUSTERS[@]}"; do
        if [ -f "$c/data/postmaster.pid" ]; then
            "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$c/data" -w -t 60 -m fast stop >/dev/null 2>&1 \
                || "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$c/data" -m immediate stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Runs "$@" in its own process group in the background and waits, so that a
# signal reaches our trap at once and cleanup can end the whole pipeline.
run_child() {
    setsid "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- servers
# start_cluster NAME -> sets PORT_<NAME>
start_cluster() {
    local name="$1" dir="$WORK/$1" port attempt
    mkdir -p "$dir"
    [ "${#RUN_AS[@]}" -gt 0 ] && chown "$SERVER_USER_NAME" "$dir"
    CLUSTERS+=("$dir")
    (cd "$dir" && "${RUN_AS[@]}" "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; die "initdb $name failed"; }
    echo "include 'bench.conf'" >>"$dir/data/postgresql.conf"
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        cat >"$dir/data/bench.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 100
shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
fsync = $FSYNC
max_locks_per_transaction = $MAX_LOCKS
EOF
        [ "${#RUN_AS[@]}" -gt 0 ] && chown "$SERVER_USER_NAME" "$dir/data/bench.conf"
        if (cd "$dir" && "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null 2>&1); then
            printf -v "PORT_$name" '%s' "$port"
            return 0
        fi
        if ! grep -qE 'could not bind|already in use' "$dir/server.log" 2>/dev/null; then
            tail -20 "$dir/server.log" >&2 || true
            die "cannot start the $name server"
        fi
    done
    die "cannot start the $name server: no free port after 5 attempts"
}

LOAD_AT_START="$(cut -d' ' -f1 /proc/loadavg)"
# Rough need: source + target + a dump, plus WAL (~16 MB per pgbench scale unit,
# ~2.5 KB a wide row, ~PER_TABLE_KB a small table of shape many).
PER_TABLE_KB=128   # measured: ~110 KB a table in the source database
if [ "$SHAPE" = many ]; then
    NEED_MB=$(( TABLES * PER_TABLE_KB * 4 / 1024 + 2048 ))
else
    NEED_MB=$(( (SCALE * 16 + WIDE_ROWS * 25 / 10240) * 4 + 2048 ))
fi
AVAIL_MB=$(( $(df -Pk "$WORK" | awk 'NR==2 {print $4}') / 1024 ))
[ "$AVAIL_MB" -ge "$NEED_MB" ] || log "WARNING: $AVAIL_MB MB free in $(dirname "$WORK"), about $NEED_MB MB needed (set TMPDIR)"
log "work dir $WORK; PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'); fsync=$FSYNC"
start_cluster src
start_cluster dst
SRC_URI="postgres://postgres@127.0.0.1:${PORT_src}/bench"
DST_URI="postgres://postgres@127.0.0.1:${PORT_dst}/bench"
log "source $SRC_URI, target $DST_URI"

# psql_at PORT DB SQL -> unaligned tuples-only output
psql_at() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -p "$1" -d "$2" -c "$3"
}

# many_counts PORT -> "TABLES ROWS": tables in schema public of database bench
# and their total row count, summed by one query that the server builds.
many_counts() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -U postgres -p "$1" -d bench <<'EOF' | paste -sd' '
SELECT count(*) FROM pg_tables WHERE schemaname = 'public';
SELECT 'SELECT ' || coalesce(string_agg(format('(SELECT count(*) FROM %I.%I)', schemaname, tablename), ' + '), '0')
FROM pg_tables WHERE schemaname = 'public' \gexec
EOF
}

# ---------------------------------------------------------------- source
build_source_pgbench() {
    log "building the source: pgbench -i -s $SCALE, wide table of $WIDE_ROWS rows"
    pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$PORT_src" -U postgres bench >"$WORK/pgbench.log" 2>&1 \
        || { cat "$WORK/pgbench.log" >&2; die "pgbench -i failed"; }
    if [ "$WIDE_ROWS" -eq 0 ]; then
        psql_at "$PORT_src" bench "VACUUM ANALYZE" >/dev/null
        psql_at "$PORT_src" bench "CHECKPOINT" >/dev/null
        return
    fi
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -p "$PORT_src" -d bench >/dev/null <<EOF
CREATE TABLE wide (
    id      bigint PRIMARY KEY,
    title   text NOT NULL,
    body    text,
    doc     jsonb,
    blob    bytea,
    created timestamptz NOT NULL
);
-- ~1 KB of non-repeating text, a small jsonb document, a 512-byte blob per row
INSERT INTO wide
SELECT g,
       'row ' || g,
       (SELECT string_agg(md5((g * 32 + i)::text), '') FROM generate_series(1, 32) i),
       jsonb_build_object('id', g, 'name', 'item ' || g, 'price', (g % 1000) / 10.0,
                          'tags', jsonb_build_array('t' || (g % 7), 't' || (g % 11)),
                          'attrs', jsonb_build_object('color', md5(g::text), 'size', g % 50,
                                                      'ok', g % 2 = 0)),
       decode((SELECT string_agg(md5((g * 7 + i)::text), '') FROM generate_series(1, 32) i), 'hex'),
       timestamptz '2020-01-01' + g * interval '1 minute'
FROM generate_series(1, $WIDE_ROWS) g;
CREATE INDEX wide_created_idx ON wide (created);
VACUUM ANALYZE;
CHECKPOINT;
EOF
}

build_source_many() {
    log "building the source: $SHAPE_DESC (one DO block; max_locks_per_transaction=$MAX_LOCKS)"
    # Each table t<i>: serial primary key, a CHECK, an index on v, MANY_ROWS
    # rows, and (from t2 on) a foreign key ref -> t<i-1>.id.
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -p "$PORT_src" -d bench >/dev/null <<EOF
DO \$\$ BEGIN FOR i IN 1..$TABLES LOOP EXECUTE format('CREATE TABLE public.t%s (id serial PRIMARY KEY, ref int, v text, CONSTRAINT c%s CHECK (id > 0)); CREATE INDEX ON public.t%s (v); INSERT INTO public.t%s (ref, v) SELECT g, md5(g::text) FROM generate_series(1, $MANY_ROWS) g;', i, i, i, i); IF i > 1 THEN EXECUTE format('ALTER TABLE public.t%s ADD FOREIGN KEY (ref) REFERENCES public.t%s (id)', i, i-1); END IF; END LOOP; END \$\$;
VACUUM ANALYZE;
CHECKPOINT;
EOF
}

psql_at "$PORT_src" postgres "CREATE DATABASE bench" >/dev/null
T0=$(date +%s.%N)
if [ "$SHAPE" = many ]; then build_source_many; else build_source_pgbench; fi
sync
SRC_BYTES="$(psql_at "$PORT_src" bench "SELECT pg_database_size('bench')")"
if [ "$SHAPE" = many ]; then
    read -r SRC_TABLES SRC_ROWS _ <<<"$(many_counts "$PORT_src")"
    if [ "$SRC_TABLES" != "$TABLES" ] || [ "$SRC_ROWS" != $((TABLES * MANY_ROWS)) ]; then
        die "source has $SRC_TABLES tables and $SRC_ROWS rows, expected $TABLES and $((TABLES * MANY_ROWS))"
    fi
    SRC_SUMMARY="tables=$SRC_TABLES rows=$SRC_ROWS"
    SHAPE_META=("tables=$TABLES" "rows_per_table=$MANY_ROWS" "source_tables=$SRC_TABLES" "source_rows=$SRC_ROWS")
else
    SRC_ACCOUNTS="$(psql_at "$PORT_src" bench "SELECT count(*) FROM pgbench_accounts")"
    SRC_WIDE=none
    [ "$WIDE_ROWS" -gt 0 ] && SRC_WIDE="$(psql_at "$PORT_src" bench "SELECT count(*) FROM wide")"
    SRC_SUMMARY="pgbench_accounts=$SRC_ACCOUNTS wide=$SRC_WIDE"
    SHAPE_META=("scale=$SCALE" "wide_rows=$WIDE_ROWS" "source_accounts=$SRC_ACCOUNTS" "source_wide=$SRC_WIDE")
fi
log "source ready in $(python3 -c "print(round($(date +%s.%N)-$T0,1))")s ($SHAPE_DESC): $SRC_SUMMARY size=$((SRC_BYTES / 1048576)) MB"

# ---------------------------------------------------------------- runs
OUT="$WORK/out"
mkdir -p "$OUT"
RUNS_TSV="$OUT/runs.tsv"
: >"$RUNS_TSV"
SCRATCH="$WORK/scratch"

reset_target() {
    psql_at "$PORT_dst" postgres "DROP DATABASE IF EXISTS bench WITH (FORCE)" >/dev/null
    psql_at "$PORT_dst" postgres "CREATE DATABASE bench" >/dev/null
    # Leave no dirty buffers of the previous run to be paid by this one.
    psql_at "$PORT_dst" postgres "CHECKPOINT" >/dev/null
    # ...nor dirty kernel pages: their write-back would slow the next tool.
    sync
    rm -rf "$SCRATCH"
    mkdir -p "$SCRATCH"
}

# The timed commands. Each writes its log to $1.
tool_pgferry() {
    local logf="$1" run="$2"
    local rss="$OUT/pgferry-$run.rss" json="$OUT/pgferry-$run.json"
    if [ -x /usr/bin/time ]; then
        run_child /usr/bin/time -f '%M' -o "$rss" \
            "$PGFERRY" migrate --source "$SRC_URI" --target "$DST_URI" "${PGFERRY_JOBS[@]}" "${PGFERRY_EXTRA[@]}" \
            --state-dir "$SCRATCH/state" --json >"$json" 2>"$logf"
    else
        # Fallback: poll VmHWM from /proc while it runs.
        setsid "$PGFERRY" migrate --source "$SRC_URI" --target "$DST_URI" "${PGFERRY_JOBS[@]}" "${PGFERRY_EXTRA[@]}" \
            --state-dir "$SCRATCH/state" --json >"$json" 2>"$logf" &
        CHILD=$!
        local hwm=0 v rc=0
        while kill -0 "$CHILD" 2>/dev/null; do
            v="$(awk '/VmHWM/ {print $2}' "/proc/$CHILD/status" 2>/dev/null || true)"
            [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm="$v"
            sleep 0.05
        done
        wait "$CHILD" || rc=$?
        CHILD=""
        echo "$hwm" >"$rss"
        return "$rc"
    fi
}
tool_pgdump_dir() {
    local logf="$1"
    run_child bash -c 'set -e
        pg_dump -Fd -j "$1" -f "$2" "$3"
        pg_restore -j "$1" -d "$4" "$2"' _ "$JOBS" "$SCRATCH/dump" "$SRC_URI" "$DST_URI" >"$logf" 2>&1
}
tool_pgdump_psql() {
    local logf="$1"
    run_child bash -c 'set -o pipefail
        pg_dump "$1" | psql -X -q -v ON_ERROR_STOP=1 -d "$2" >/dev/null' _ "$SRC_URI" "$DST_URI" >"$logf" 2>&1
}
# The one-stream COPY floor (bench/floor.sh), without and with ANALYZE.
tool_floor() {
    run_child "$BENCH/floor.sh" "$SRC_URI" "$DST_URI" 0 >"$1" 2>&1
}
tool_floor_analyze() {
    run_child "$BENCH/floor.sh" "$SRC_URI" "$DST_URI" 1 >"$1" 2>&1
}
tool_pgcopydb() {
    local logf="$1"
    # --no-owner/--no-acl: same superuser on both ends, nothing to map; they
    # keep pg_restore from needing roles that might not exist on the target.
    run_child env PGCOPYDB_SOURCE_PGURI="$SRC_URI" PGCOPYDB_TARGET_PGURI="$DST_URI" \
        pgcopydb clone --table-jobs "$JOBS" --index-jobs "$JOBS" \
        --dir "$SCRATCH/pgcopydb" --no-owner --no-acl --notice >"$logf" 2>&1
}

# pgferry verify of the migration just made (same jobs), timed on its own;
# writes "<seconds>\t<exit code>" to pgferry-verify-<run>.tsv and its report
# to pgferry-verify-<run>.json. Exit 1 (a difference) is a failed migration.
time_verify() {
    local run="$1" rc=0 t0 t1 secs
    sync
    t0=$(date +%s%N)
    run_child "$PGFERRY" verify --source "$SRC_URI" --target "$DST_URI" "${PGFERRY_JOBS[@]}" --json \
        >"$OUT/pgferry-verify-$run.json" 2>"$OUT/pgferry-verify-$run.log" || rc=$?
    t1=$(date +%s%N)
    secs="$(python3 -c "print(f'{($t1-$t0)/1e9:.3f}')")"
    printf '%s\t%s\n' "$secs" "$rc" >"$OUT/pgferry-verify-$run.tsv"
    if [ "$rc" -eq 0 ]; then
        log "  pgferry verify: ${secs}s"
    else
        log "  pgferry verify FAILED (exit $rc) after ${secs}s: see pgferry-verify-$run.log/json"
    fi
}

check_target() {
    if [ "$SHAPE" = many ]; then
        local t r
        read -r t r _ <<<"$(many_counts "$PORT_dst" 2>/dev/null || echo missing missing)"
        if [ "$t" = "$SRC_TABLES" ] && [ "$r" = "$SRC_ROWS" ]; then
            echo ok
        else
            echo "counts differ: tables in public ${t:-missing}/$SRC_TABLES, rows ${r:-missing}/$SRC_ROWS"
        fi
        return
    fi
    local a w
    a="$(psql_at "$PORT_dst" bench "SELECT count(*) FROM pgbench_accounts" 2>/dev/null || echo missing)"
    w=none
    [ "$SRC_WIDE" = none ] || w="$(psql_at "$PORT_dst" bench "SELECT count(*) FROM wide" 2>/dev/null || echo missing)"
    if [ "$a" = "$SRC_ACCOUNTS" ] && [ "$w" = "$SRC_WIDE" ]; then
        echo ok
    else
        echo "row counts differ: pgbench_accounts $a/$SRC_ACCOUNTS, wide $w/$SRC_WIDE"
    fi
}

# Warm-up, untimed: the first migration into a fresh target cluster pays for
# creating (zero-filling and fsyncing) its WAL segments, which later runs
# recycle; the source's files get into the page cache. Without it the first
# tool of run 1 was 20-80% slower than in later runs, whichever tool it was.
for w in $(seq 1 "$WARMUP"); do
    reset_target
    log "warm-up $w/$WARMUP (untimed): pg_dump | psql"
    tool_pgdump_psql "$OUT/warmup-$w.log" || log "  warm-up run failed (ignored): see $OUT/warmup-$w.log"
done

# ---------------------------------------------------------------- report
RESULTS="$BENCH/results"
mkdir -p "$RESULTS"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
DIRECT_SRC_URI="$SRC_URI"
STATUS=0

# run_profile PROFILE: every tool, RUNS times, then the table of PROFILE.
run_profile() {
    local profile="$1" link_desc="direct" proxy_port rc
    OUT="$WORK/out-$profile"
    mkdir -p "$OUT"
    RUNS_TSV="$OUT/runs.tsv"
    : >"$RUNS_TSV"
    SRC_URI="$DIRECT_SRC_URI"
    if [ "$profile" = wan ]; then
        proxy_port="$(free_port)"
        "$WANPROXY" --listen "127.0.0.1:$proxy_port" --upstream "127.0.0.1:$PORT_src" \
            --rtt-ms "$RTT_MS" --conn-mb-s "$CONN_MB_S" --total-mb-s "$TOTAL_MB_S" \
            2>"$OUT/wanproxy.log" &
        PROXY_PID=$!
        for _ in $(seq 1 50); do
            psql_at "$proxy_port" bench "SELECT 1" >/dev/null 2>&1 && break
            sleep 0.1
        done
        psql_at "$proxy_port" bench "SELECT 1" >/dev/null 2>&1 || die "wanproxy did not come up (see $OUT/wanproxy.log)"
        SRC_URI="postgres://postgres@127.0.0.1:${proxy_port}/bench"
        link_desc="source through wanproxy: RTT ${RTT_MS} ms, ${CONN_MB_S} MB/s per connection, ${TOTAL_MB_S} MB/s total"
        log "profile wan: $link_desc ($SRC_URI)"
    else
        log "profile local: both servers direct"
    fi
    NTOOLS="${#TOOL_LIST[@]}"
    for run in $(seq 1 "$RUNS"); do
        # Rotate the order each run so that no tool always goes first (or after the same one).
        for k in $(seq 0 $((NTOOLS - 1))); do
            t="${TOOL_LIST[$(( (k + run - 1) % NTOOLS ))]}"
            if [ "$t" = pgcopydb ] && [ "$HAVE_PGCOPYDB" -eq 0 ]; then
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$run" SKIPPED 0 "$(cut -d' ' -f1 /proc/loadavg)" "pgcopydb not installed" >>"$RUNS_TSV"
                continue
            fi
            reset_target
            logf="$OUT/$t-$run.log"
            load="$(cut -d' ' -f1 /proc/loadavg)"
            log "run $run/$RUNS: $t (load $load)"
            rc=0
            t0=$(date +%s%N)
            "tool_$t" "$logf" "$run" || rc=$?
            t1=$(date +%s%N)
            secs="$(python3 -c "print(f'{($t1-$t0)/1e9:.3f}')")"
            if [ "$rc" -ne 0 ]; then
                status=FAILED
                note="exit $rc: $(grep -v '^\s*$' "$logf" | grep -iE 'error|fatal|fail' | tail -3 | tr '\t\n' '  ' | cut -c1-400)"
                [ "$note" = "exit $rc: " ] && note="exit $rc: $(tail -3 "$logf" | tr '\t\n' '  ' | cut -c1-400)"
            else
                note="$(check_target)"
                if [ "$note" = ok ]; then status=OK; note=""; else status=FAILED; fi
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$run" "$status" "$secs" "$load" "$note" >>"$RUNS_TSV"
            if [ "$status" = OK ]; then
                log "  $t: ${secs}s"
                if [ "$t" = pgferry ] && [ "$VERIFY" -eq 1 ]; then time_verify "$run"; fi
            else
                log "  $t FAILED after ${secs}s: $note (log kept in bench/results/<stamp>-logs/$t-$run.log)"
            fi
        done
    done
    stop_proxy

    local json="$RESULTS/$STAMP-$profile.json" logdir="$RESULTS/$STAMP-$profile-logs"
    # Logs of failed runs and pgferry's reports are worth keeping for the notes.
    mkdir -p "$logdir"
    cp "$OUT"/*.log "$OUT"/pgferry-*.json "$OUT"/pgferry-verify-*.tsv "$logdir"/ 2>/dev/null || true
    python3 "$BENCH/report.py" \
        --runs-tsv "$RUNS_TSV" --out-dir "$OUT" --json "$json" \
        --meta "profile=$profile" "link=$link_desc" "shape=$SHAPE" "shape_desc=$SHAPE_DESC" "${SHAPE_META[@]}" \
        "max_locks_per_transaction=$MAX_LOCKS" "runs=$RUNS" "jobs=$JOBS" \
        "pgferry_jobs=$([ "$JOBS_GIVEN" -eq 1 ] && echo "$JOBS" || echo default)" \
        "pgferry_args=${PGFERRY_BENCH_ARGS:-}" "fsync=$FSYNC" \
        "nproc=$(nproc)" "postgres=$("$PG_BINDIR/postgres" --version | awk '{print $3}')" \
        "pgcopydb=$(pgcopydb --version 2>/dev/null | awk '/pgcopydb version/ {print $NF; exit}' || true)" \
        "pgferry_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "source_bytes=$SRC_BYTES" \
        "host=$(hostname)" "started=$STAMP" "load_at_start=$LOAD_AT_START" || STATUS=1
    log "results: $json (logs in $logdir)"
}

for profile in "${PROFILE_LIST[@]}"; do
    run_profile "$profile"
done
[ "$STATUS" -eq 0 ] || log "some runs FAILED (see the tables and the logs)"
exit "$STATUS"
