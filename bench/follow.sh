#!/usr/bin/env bash
# Follow-mode benchmark: apply throughput and lag under `pgbench -c 4`, and
# the cut-over time (writes stopped -> done) on pgbench scale 10.
#
#   1. two throwaway PostgreSQL servers (wal_level = logical on the source);
#   2. pgbench -i -s SCALE on the source;
#   3. pgbench -c CLIENTS writes during the full load and FOLLOW seconds of
#      following; pgferry logs its lag every 10 s;
#   4. writes stop; `pgferry cutover --json` reports how long they had to stop.
#
# Prints pgbench's TPS, the lag lines, the apply rate and the cut-over
# times. No number is asserted: this box is shared.
set -euo pipefail

SCALE=10
CLIENTS=4
FOLLOW=60
FSYNC=on
PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
SERVER_USER_NAME="${PGFERRY_BENCH_USER:-pgferry}"
BUILD=1

usage() {
    cat <<EOF
usage: bench/follow.sh [--scale N] [--clients N] [--follow SECONDS] [--fsync on|off] [--no-build]
  --scale N         pgbench scale of the source (default $SCALE)
  --clients N       pgbench clients writing on the source (default $CLIENTS)
  --follow SECONDS  how long to follow under load after the full load (default $FOLLOW)
  --fsync on|off    fsync on both servers (default $FSYNC)
  --no-build        use the existing target/release/pgferry
Env: PG_BINDIR (default $PG_BINDIR), PGFERRY_BENCH_USER (server user when root).
EOF
}
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --follow) FOLLOW="$2"; shift 2 ;;
        --fsync) FSYNC="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "follow.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[follow-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for p in initdb pg_ctl psql pgbench; do
    [ -x "$PG_BINDIR/$p" ] || die "$PG_BINDIR/$p missing"
done
for v in $(compgen -e); do
    case "$v" in PG*) [[ "$v" == PGFERRY_BENCH_* ]] || unset "$v" ;; esac
done
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    id "$SERVER_USER_NAME" >/dev/null 2>&1 || die "running as root but user $SERVER_USER_NAME does not exist"
    RUN_AS=(runuser -u "$SERVER_USER_NAME" --)
fi
PGFERRY="$REPO/target/release/pgferry"
if [ "$BUILD" -eq 1 ]; then
    log "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pgferry-follow-bench.XXXXXX")"
chmod 755 "$WORK"
CLUSTERS=()
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for c in "${CLUSTERS[@]}"; do
        "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$c" -w -m fast stop >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_cluster() { # name -> port
    local dir="$WORK/$1" port
    port="$(free_port)"
    mkdir -p "$dir" && chown "${SERVER_USER_NAME}" "$dir" 2>/dev/null || true
    "${RUN_AS[@]}" "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
    cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = $FSYNC
shared_buffers = 256MB
max_wal_size = 4GB
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
EOF
    "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
    CLUSTERS+=("$dir/data")
    echo "$port"
}

SPORT="$(start_cluster src)"
TPORT="$(start_cluster dst)"
SRC="postgres://postgres@127.0.0.1:$SPORT/postgres"
DST="postgres://postgres@127.0.0.1:$TPORT/postgres"
log "source :$SPORT, target :$TPORT; pgbench -i -s $SCALE"
"$PG_BINDIR/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$SPORT" -U postgres postgres >/dev/null 2>&1
"$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$SPORT" -U postgres postgres \
    -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL"

log "pgbench -c $CLIENTS on the source, during the full load and $FOLLOW s of following"
"$PG_BINDIR/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" -T 100000 -P 10 -h 127.0.0.1 -p "$SPORT" -U postgres postgres \
    >"$WORK/pgbench.out" 2>&1 &
BENCH=$!
PIDS+=("$BENCH")
sleep 1
RUST_LOG=info "$PGFERRY" migrate --follow --source "$SRC" --target "$DST" --state-dir "$WORK/state" \
    >"$WORK/follow.out" 2>"$WORK/follow.log" &
FOLLOWER=$!
PIDS+=("$FOLLOWER")
T0=$(date +%s)
until grep -q "following the source's changes" "$WORK/follow.log"; do
    kill -0 "$FOLLOWER" 2>/dev/null || { cat "$WORK/follow.log" >&2; die "migrate --follow ended"; }
    sleep 0.5
done
log "full load done in $(( $(date +%s) - T0 )) s under load; following for $FOLLOW s"
sleep "$FOLLOW"

log "stopping writes, then pgferry cutover"
kill -TERM "$BENCH"; wait "$BENCH" || true   # SIGINT is ignored by background jobs of a script
"$PGFERRY" cutover --source "$SRC" --target "$DST" --state-dir "$WORK/state" --json >"$WORK/cutover.json"
wait "$FOLLOWER" || true

echo "== pgbench (source, -c $CLIENTS): progress every 10 s"
grep -E "^progress|tps" "$WORK/pgbench.out" | tail -n 20
echo "== pgferry following: lag every 10 s"
grep -E "following: applied" "$WORK/follow.log" | sed -E 's/^.*following: /  /'
echo "== cut-over"
cat "$WORK/cutover.json"
