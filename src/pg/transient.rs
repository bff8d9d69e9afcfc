//! Which errors are worth retrying: the connection or the server went away
//! for a moment, or the server asked us to try again. Anything else (a
//! missing object, a constraint violation, bad SQL) fails at once.

use super::ConnError;
use std::time::Duration;
use tokio_postgres::error::SqlState;

/// True when `err` (anywhere in its chain) is a transient failure.
pub fn is_transient(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<tokio_postgres::Error>() {
            return match e.code() {
                Some(code) => transient_code(code),
                // No SQLSTATE: the connection broke (reset, EOF, closed).
                None => e.is_closed() || e.as_db_error().is_none(),
            };
        }
        if let Some(c) = cause.downcast_ref::<ConnError>() {
            // A restarting server refuses connections for a while.
            return matches!(c, ConnError::Unreachable { .. } | ConnError::Other { .. });
        }
        cause.downcast_ref::<std::io::Error>().is_some()
    })
}

fn transient_code(code: &SqlState) -> bool {
    let c = code.code();
    c.starts_with("08") // connection exception
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::IDLE_SESSION_TIMEOUT
}

/// How many times a unit of work is tried before it fails the run.
pub const ATTEMPTS: u32 = 6;

/// Wait before attempt `n` (1-based): 0.5 s, 1 s, 2 s, 4 s, 8 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.saturating_sub(1).min(5))
}
