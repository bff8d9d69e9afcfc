#!/usr/bin/env bash
# The demo command of the README: check Rust, install the PostgreSQL servers
# the demo starts (idempotent: only a check once they are there), build
# pgferry, then run `pgferry demo` with the arguments given here (e.g. --keep,
# --source-major 15 --target-major 17, --jobs 4). Each step says what it does
# before it starts, and long ones show their progress.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_rust

# The majors asked for are installed too (the installer knows 10 to 18).
majors="${PGFERRY_NPM_MAJORS:-10 17 18}"
prev=""
for a in "$@"; do
    m=""
    case "$prev" in --source-major | --target-major) m="$a" ;; esac
    case "$a" in --source-major=* | --target-major=*) m="${a#*=}" ;; esac
    prev="$a"
    case "$m" in 1[0-46-8]) case " $majors " in *" $m "*) ;; *) majors="$majors $m" ;; esac ;; esac
done
export PGFERRY_NPM_MAJORS="$majors"

step "PostgreSQL servers (scripts/install-postgres.sh): the first run installs them, a few minutes; later runs only check"
scripts/install-postgres.sh

step "building pgferry (cargo build): the first build compiles about 150 crates, a few minutes on 2 cores"
cargo build
bin="${CARGO_TARGET_DIR:-target}/debug/pgferry"

step "pgferry demo${*:+ $*}"
exec "$bin" demo "$@"
