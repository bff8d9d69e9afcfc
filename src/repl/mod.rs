//! Logical replication client: a `replication=database` session to the
//! source, a `pgoutput` slot with an exported snapshot, the CopyBoth stream,
//! and a pgoutput (protocol 1) decoder. PostgreSQL 10 to 18.
//!
//! Why our own: tokio-postgres has no replication sessions or CopyBoth, and
//! the crates that do either need PostgreSQL 14+ (they always send newer
//! pgoutput options) or git forks (see `shared/research/cdc.md`). This is
//! the small, exact part incremental migration needs, on the same
//! connection settings, TLS and errors as every other pgferry connection.
//!
//! Typical use:
//! ```no_run
//! # async fn demo(spec: &pgferry::pg::ConnSpec) -> anyhow::Result<()> {
//! use pgferry::repl::{ReplConnection, PgOutputOptions, StreamEvent, PgOutputMessage};
//! let holder = ReplConnection::connect(spec, "snapshot holder").await?
//!     .create_slot_with_snapshot("pgferry", false).await?;
//! // copy sessions: SET TRANSACTION SNAPSHOT '<holder.snapshot_name()>'
//! let start = holder.slot().consistent_point;
//! let mut stream = ReplConnection::connect(spec, "stream").await?
//!     .start_logical("pgferry", start, &PgOutputOptions::new(["pgferry"])).await?;
//! while let Some(ev) = stream.next().await? {
//!     if let StreamEvent::Message { message: PgOutputMessage::Commit(c), .. } = ev {
//!         // once the transaction is durably stored:
//!         stream.confirm(c.end_lsn).await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Not done yet (and why):
//! - pgoutput protocol 2-4 (streaming of in-progress transactions, two-phase,
//!   parallel apply) and the `binary` option: protocol 1 works on every
//!   version we support, and streamed transactions may abort after we have
//!   seen them, which the apply side would have to undo.
//! - SCRAM channel binding (`SCRAM-SHA-256-PLUS`): tokio-postgres keeps the
//!   TLS end-point hash private; computing it needs an X.509 parser. SCRAM
//!   without it still never sends the password, and `verify-full` already
//!   authenticates the server.
//! - GSSAPI/SSPI/certificate (client) authentication, `sslcert`/`sslkey`:
//!   pgferry's other connections do not support them either.
//! - Status updates are sent from inside [`LogicalStream::next`]; a caller
//!   that stops polling for more than `wal_sender_timeout` must call
//!   [`LogicalStream::send_status`] itself.
//! - Reconnecting after a lost connection is the caller's job: open a new
//!   stream from the last confirmed position (the server then re-sends every
//!   transaction whose commit ends after it, Relation messages included).
//! - `keepalives_idle` is not applied to the socket (tokio cannot set it
//!   without socket2); TCP keepalives use the OS idle time.
//! - PostgreSQL 10 does not decode TRUNCATE at all (an empty transaction
//!   arrives); callers must guard it some other way (see cdc.md).
//!
//! Positions: Begin and change messages arrive at their WAL record's LSN, a
//! Commit at the end of its commit record ([`Commit::end_lsn`], the value to
//! confirm), Relation and Type messages at 0/0 (they belong to no record).

mod conn;
mod connect;
mod error;
mod lsn;
pub mod pgoutput;
mod stream;
mod wire;

pub use conn::{
    CreatedSlot, QueryResult, ReplConnection, SnapshotAction, SnapshotHolder, SystemIdentity,
};
pub use error::ReplError;
pub use lsn::{Lsn, LsnParseError, PgTimestamp};
pub use pgoutput::{
    Begin, Column, Commit, DecodeError, LogicalMessage, OldTuple, Origin, PgOutputDecoder,
    PgOutputMessage, Relation, ReplicaIdentity, Tuple, TypeInfo, Value,
};
pub use stream::{
    LogicalStream, PgOutputOptions, Positions, RawEvent, StreamEvent, STATUS_INTERVAL,
};
