//! Connections to PostgreSQL: connection strings, the libpq environment,
//! `.pgpass`, TLS, session settings, and identifier quoting.
//!
//! Everything a user can write for psql should work here too, so parsing and
//! defaults follow libpq; see `spec.rs` for where and why we differ.

mod connect;
mod conninfo;
pub mod ident;
mod pgpass;
mod spec;
mod tls;
pub mod transient;

pub use connect::{connect, ConnError, SESSION_SETUP};
pub use ident::{qualified, quote_ident, quote_literal};
pub use spec::{ConnSpec, RootCert, SslMode};
pub use tls::install_crypto_provider;

// For the replication client (`crate::repl`), which opens its own sockets
// but must check certificates and hide passwords exactly as connect() does.
pub(crate) use connect::scrub;
pub(crate) use tls::{connector as tls_connector, verification as tls_verification, Verification};
