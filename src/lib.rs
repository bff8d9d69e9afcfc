//! pgferry: move a live PostgreSQL database to another PostgreSQL server.
//!
//! The binary (`src/main.rs`) is a thin shell over this library so that the
//! integration tests drive exactly the code users run.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod copy;
pub mod ddl;
pub mod error;
pub mod fault;
pub mod localpg;
pub mod migrate;
pub mod pg;
pub mod plan;
pub mod precheck;
pub mod repl;
pub mod report;
pub mod state;
pub mod verify;
