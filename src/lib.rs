//! pgferry: move a live PostgreSQL database to another PostgreSQL server.
//!
//! The binary (`src/main.rs`) is a thin shell over this library so that the
//! integration tests drive exactly the code users run.
//!
//! Modules form layers, lowest first: `pg`, `fault` < `error`, `localpg` <
//! `catalog`, `state` < `step` < `ddl` < `plan` < `config` < `precheck`, `exec`
//! < `copy` < `verify` < `follow` < `migrate` < `report` < `cli`. A module uses only lower
//! layers; `layers.rs` holds the order and the test that enforces it, and
//! `docs/architecture.md` says what each layer owns.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod copy;
pub mod ddl;
pub mod error;
pub mod exec;
pub mod fault;
pub mod follow;
pub mod layers;
pub mod localpg;
pub mod migrate;
pub mod pg;
pub mod plan;
pub mod precheck;
pub mod repl;
pub mod report;
pub mod state;
pub mod step;
pub mod verify;
