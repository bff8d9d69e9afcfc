//! The one integration-test binary: every module here drives the real `pgferry`
//! binary and library against real PostgreSQL servers that `support` starts.
//!
//! One binary (as in ripgrep and supabase/etl) means each PostgreSQL major is
//! started once per `cargo test` run and shared by every test, instead of once
//! per test file. Tests that take more than a few seconds (kill/resume, corpora,
//! a million rows) are `#[ignore = "slow"]`: `cargo test` runs the fast set,
//! `cargo test -- --include-ignored` (what `scripts/test.sh` and CI run) runs all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod cli_errors;
mod connections;
mod corpora;
mod data_engine;
mod durability;
mod edge_cases;
mod faults;
mod first_run;
mod fix_scripts;
mod follow;
mod follow_harness;
mod hardening;
mod hardening_plan;
mod harness;
mod keywords;
mod labels_transforms;
mod large_objects;
mod legacy;
mod lock_table;
mod migrate_basic;
mod owners;
mod precheck;
mod regression_lessons;
mod replication;
mod resume;
mod selection;
mod structure_routines;
mod structure_tables;
mod structure_types;
mod structure_views;
mod tablespaces;
mod vendor_builds;
mod verify_checksum;
mod verify_fast;
mod verify_schema;
