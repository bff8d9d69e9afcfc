//! pgferry: move a live PostgreSQL database to another PostgreSQL server.
//!
//! The binary (`src/main.rs`) is a thin shell over this library so that the
//! integration tests drive exactly the code users run.
//!
//! Modules form layers, lowest first: `pg`, `fault` < `error`, `localpg` <
//! `catalog`, `state` < `step` < `ddl` < `plan` < `config` < `precheck`, `exec`
//! < `copy` < `verify` < `migrate` < `report` < `cli`. A module uses only lower
//! layers; `layers.rs` holds the order and the test that enforces it, and
//! `docs/architecture.md` says what each layer owns.
//!
//! Modules the integration tests drive directly (the test harness `localpg`,
//! connections, the catalog, plan and copy engine) are `pub`; the others are
//! internal (`pub(crate)`) and reached through `cli`.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod copy;
pub(crate) mod ddl;
pub mod error;
pub(crate) mod exec;
pub mod fault;
pub(crate) mod html;
pub(crate) mod journal;
#[cfg(test)]
mod layers;
pub mod localpg;
pub(crate) mod migrate;
pub mod pg;
pub mod plan;
pub(crate) mod precheck;
pub mod repl;
pub mod report;
pub mod state;
pub(crate) mod step;
pub(crate) mod verify;
