#!/usr/bin/env bash
# Large objects beside a table: migrate time and peak RSS of one or more
# pgferry binaries (e.g. a build of main and of a branch) on the same two
# throwaway servers, runs interleaved, medians printed. See bench/README.md.
#
#   bench/lo.sh [--runs N] [--table-mb N] [--small N] [--small-kb N] [--big N] [--big-mb N] BIN...
#
# Source: table public.t (id int primary key, pad text) of about --table-mb MB,
# --small objects of --small-kb kB and --big objects of --big-mb MB (MD5 bytes,
# which do not compress). Defaults: 200 MB table, 4000 x 25 kB + 5 x 20 MB
# (about 200 MB of large objects). Each run: target database dropped and
# created, CHECKPOINT, then `BIN migrate --json` timed with /usr/bin/time, then
# `pgferry verify` of it (not timed) must exit 0.
set -euo pipefail

RUNS=3 TABLE_MB=200 SMALL=4000 SMALL_KB=25 BIG=5 BIG_MB=20
PG_BINDIR="${PG_BINDIR:-/opt/pgferry/pg/17/bin}"
PSQL="${PSQL:-$(ls -d /opt/pgferry/pg/clients/*/bin 2>/dev/null | sort -V | tail -1)/psql}"
BINS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --table-mb) TABLE_MB="$2"; shift 2 ;;
        --small) SMALL="$2"; shift 2 ;;
        --small-kb) SMALL_KB="$2"; shift 2 ;;
        --big) BIG="$2"; shift 2 ;;
        --big-mb) BIG_MB="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) BINS+=("$(realpath "$1")"); shift ;;
    esac
done
[ "${#BINS[@]}" -gt 0 ] || { echo "bench/lo.sh: give at least one pgferry binary" >&2; exit 2; }
RUN_AS=()
[ "$(id -u)" -eq 0 ] && RUN_AS=(runuser -u pgferry --)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pgferry-lo.XXXXXX")"
chmod 755 "$WORK"
[ "${#RUN_AS[@]}" -gt 0 ] && chown pgferry "$WORK"
cleanup() {
    for c in src dst; do
        [ -f "$WORK/$c/postmaster.pid" ] && "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$WORK/$c" -m fast -w stop >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # name -> port on stdout
    local p; p="$(port)"
    "${RUN_AS[@]}" "$PG_BINDIR/initdb" -D "$WORK/$1" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
    cat >>"$WORK/$1/postgresql.conf" <<EOF
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
EOF
    "${RUN_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$WORK/$1" -l "$WORK/$1.log" -w start >/dev/null
    echo "$p"
}
SP="$(start src)" DP="$(start dst)"
S="postgresql://postgres@127.0.0.1:$SP/bench" T="postgresql://postgres@127.0.0.1:$DP/bench"
q() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
q "postgresql://postgres@127.0.0.1:$SP/postgres" -c "CREATE DATABASE bench"
echo "bench/lo.sh: building the source (table ${TABLE_MB} MB, $SMALL x ${SMALL_KB} kB + $BIG x ${BIG_MB} MB large objects)" >&2
q "$S" >/dev/null <<EOF
CREATE TABLE public.t (id int PRIMARY KEY, pad text);
INSERT INTO public.t SELECT g, repeat(md5(g::text), 12) FROM generate_series(1, $((TABLE_MB * 2500))) g;
SELECT count(pg_catalog.lo_from_bytea(100000 + k,
         (SELECT string_agg(decode(md5((i + k * 100000)::text), 'hex'), ''::bytea)
          FROM generate_series(1, $((SMALL_KB * 64))) i)))
  FROM generate_series(1, $SMALL) k;
SELECT count(pg_catalog.lo_from_bytea(900000 + k,
         (SELECT string_agg(decode(md5((i * k)::text), 'hex'), ''::bytea)
          FROM generate_series(1, $((BIG_MB * 65536))) i)))
  FROM generate_series(1, $BIG) k;
VACUUM ANALYZE;
CHECKPOINT;
EOF
LO_MB="$(q "$S" -c "SELECT round(sum(length(lo_get(oid))) / 1e6) FROM pg_largeobject_metadata")"
echo "bench/lo.sh: source ready: $(q "$S" -c "SELECT pg_size_pretty(pg_table_size('public.t'))") table, $LO_MB MB of large objects; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A TIMES RSS
for run in $(seq 1 "$RUNS"); do
    for b in "${BINS[@]}"; do
        q "postgresql://postgres@127.0.0.1:$DP/postgres" -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench" -c "CHECKPOINT"
        sync
        st="$WORK/state-$run-$(basename "$b")"
        out="$( { /usr/bin/time -f '%e %M' "$b" migrate --source "$S" --target "$T" --state-dir "$st" --json --quiet >/dev/null; } 2>&1 | tail -1)"
        set -- $out
        TIMES[$b]+="$1 " RSS[$b]+="$2 "
        "$b" verify --source "$S" --target "$T" --json >/dev/null || { echo "verify of $b failed" >&2; exit 1; }
        echo "run $run $b: $1 s, peak RSS $(($2 / 1024)) MB (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for b in "${BINS[@]}"; do
    echo "$b: median $(median "${TIMES[$b]}") s, peak RSS max $(( $(printf '%s\n' ${RSS[$b]} | sort -g | tail -1) / 1024 )) MB over $RUNS run(s)"
done
