#!/usr/bin/env bash
# Release builds must carry no fault points (src/fault.rs): without the
# `fault-injection` feature, `fault::point` and `fault::fails` are empty and
# the binary never reads PGFERRY_FAULT. Builds the binary the way users do
# (`cargo build --release`, no feature: target/release, apart from the
# tests' target/debug binary that `cargo test` builds with the feature) and
# fails if the variable's name is in it. `--dev` checks a debug build instead
# (faster when the release dependencies are not built yet).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--dev" ]; then
    cargo build --bin pgferry
    bin=target/debug/pgferry
else
    cargo build --release --bin pgferry
    bin=target/release/pgferry
fi
if grep -q PGFERRY_FAULT "$bin"; then
    echo "check-no-faults: $bin contains fault points (PGFERRY_FAULT)" >&2
    exit 1
fi
echo "check-no-faults: $bin has no fault points"
