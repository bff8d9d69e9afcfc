//! Errors of the replication client once it is connected (start-up errors
//! are [`crate::pg::ConnError`], so they exit 2 like every other connection).
//!
//! Every message names the end ("the source", with the redacted connection
//! string) and what was being done, and never contains the password: server
//! texts pass through [`crate::pg::scrub`] before they are stored here.

use super::pgoutput::DecodeError;
use super::Lsn;

/// A failure on an open replication connection.
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    /// The server answered a command with an ErrorResponse.
    #[error("{target}: {command} failed: {message} (SQLSTATE {code}){extra}")]
    Server {
        target: String,
        /// The replication command (first word, or the SQL), for the message.
        command: String,
        code: String,
        message: String,
        /// `; DETAIL: ..; HINT: ..` when the server sent them.
        extra: String,
    },
    /// Reading or writing the socket failed.
    #[error("{target}: connection lost while {during}: {source}")]
    Io {
        target: String,
        during: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection without an error message.
    #[error("{target}: the server closed the connection while {during}")]
    Closed {
        target: String,
        during: &'static str,
    },
    /// The server sent something the protocol does not allow here.
    #[error("{target}: protocol violation while {during}: {detail}")]
    Protocol {
        target: String,
        during: &'static str,
        detail: String,
    },
    /// A pgoutput message could not be decoded.
    #[error("{target}: cannot decode the pgoutput message at {lsn}: {source}")]
    Decode {
        target: String,
        lsn: Lsn,
        #[source]
        source: DecodeError,
    },
    /// The caller asked for something this server or this client cannot do.
    #[error("{target}: {detail}")]
    Unsupported { target: String, detail: String },
    /// A slot or publication name we refuse to send (see the detail).
    #[error("invalid {what} name \"{name}\": {why}")]
    InvalidName {
        what: &'static str,
        name: String,
        why: &'static str,
    },
    /// An earlier error left the connection in an unknown protocol state.
    #[error("{target}: the replication connection is unusable after an earlier error")]
    Broken { target: String },
}

impl ReplError {
    /// The SQLSTATE, when the server reported the error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ReplError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}
