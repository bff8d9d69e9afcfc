//! Connections to PostgreSQL: connection strings, the libpq environment,
//! `.pgpass`, TLS, session settings, and identifier quoting.

mod connect;
mod conninfo;
pub mod ident;

pub use connect::{connect, ConnError};
pub use conninfo::ConnSpec;
pub use ident::{qualified, quote_ident, quote_literal};
