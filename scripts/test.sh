#!/usr/bin/env bash
# The project's test command: check Rust, install the PostgreSQL servers the
# tests start (idempotent, fast when already there), then run every test.
# Use `cargo test`, not nextest: one process per test binary lets the tests of
# a binary share one cluster per PostgreSQL major.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_rust

step "PostgreSQL servers (scripts/install-postgres.sh): the first run installs them, a few minutes; later runs only check"
scripts/install-postgres.sh

step "cargo test: the first build compiles about 150 crates (a few minutes on 2 cores), then the tests start their own servers (slow tests included)"
cargo test --all-targets --no-fail-fast "$@" -- --include-ignored
