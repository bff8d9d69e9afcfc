#!/usr/bin/env bash
# The demo command of the README: install the PostgreSQL servers it starts
# (idempotent, fast when already there), then run `pgferry demo` with any
# arguments given here (e.g. --keep, --source-major 15).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-postgres.sh >/dev/null
cargo run --quiet -- demo "$@"
