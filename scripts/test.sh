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

# The HTML report's test opens the page in a real headless browser.
if ! command -v chromium >/dev/null 2>&1; then
    step "chromium (Debian package; the HTML report's test opens the page in it): apt-get install, about a minute"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi

step "cargo test: the first build compiles about 150 crates (a few minutes on 2 cores), then the tests start their own servers (slow tests included)"
cargo test --all-targets --no-fail-fast "$@" -- --include-ignored
