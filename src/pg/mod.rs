//! Connections to PostgreSQL: connection strings, the libpq environment,
//! `.pgpass`, TLS, session settings, identifier quoting, and `Oid`, the type
//! of catalog object identities.
//!
//! Everything a user can write for psql should work here too, so parsing and
//! defaults follow libpq; see `spec.rs` for where and why we differ.

mod connect;
mod conninfo;
mod db_error;
mod deparse;
pub mod ident;
pub mod names;
pub mod oid;
mod pgpass;
mod snapshot;
mod spec;
mod tls;
pub mod transient;
pub mod version;

pub use connect::{connect, connect_at_start, AtStart, ConnError, End, SESSION_SETUP};
pub use db_error::db_error;
pub use deparse::{lower_option_names, plain_bit_literals};
pub use ident::{qualified, quote_ident, quote_literal};
pub use oid::Oid;
pub use snapshot::{
    import_snapshot, is_lock_timeout, lock_slots, renew_snapshot, SnapshotHolder, SnapshotLost,
    TablesLocked,
};
pub use spec::{ConnSpec, RootCert, SslMode};
pub use tls::install_crypto_provider;
pub use version::{PG10, PG11, PG12, PG13, PG14, PG15, PG16, PG17, PG18};

// For the replication client (`crate::repl`), which opens its own sockets
// but must check certificates and hide passwords exactly as connect() does.
pub(crate) use connect::scrub;
pub(crate) use tls::{connector as tls_connector, verification as tls_verification, Verification};
