#!/usr/bin/env bash
# The project's test command: install the PostgreSQL servers the tests start
# (idempotent, fast when already there), then run every test.
# Use `cargo test`, not nextest: one process per test binary lets the tests of
# a binary share one cluster per PostgreSQL major.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-postgres.sh
cargo test --all-targets --no-fail-fast "$@" -- --include-ignored
