//! Which errors are worth retrying, and for how long.
//!
//! Only what is known to pass: the connection broke (reset, EOF, closed by
//! the server), nothing answers yet (a server restarting or failing over),
//! or the server said to try again (SQLSTATE class 08; 57P01 admin shutdown,
//! 57P02 crash shutdown, 57P03 "the database system is starting up", 57P05
//! idle-session timeout; 53300 too many connections; 40001 serialization
//! failure; 40P01 deadlock). Anything else (a missing object, a constraint
//! violation, bad SQL, and every client-side error: a parameter of the wrong
//! type, a row that does not decode, an unexpected message) is a bug or a
//! real problem and fails at once.
//!
//! Retries are bounded by time, not by a count: a target restarted with
//! `pg_ctl -m immediate` replays its WAL before it accepts connections
//! again, and a managed server's failover takes a minute or two. Each piece
//! of work keeps trying, with a capped exponential backoff, until the window
//! (`--retry-for`) since its first failure is spent, and logs every wait.

use super::ConnError;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

/// True when `err` is a transient failure. The first PostgreSQL error (or
/// connection error) in the chain decides; an I/O error with neither is a
/// broken connection.
pub fn is_transient(err: &anyhow::Error) -> bool {
    for cause in err.chain() {
        if cause.is::<super::SnapshotLost>() {
            return false;
        }
        if let Some(e) = cause.downcast_ref::<tokio_postgres::Error>() {
            return match e.code() {
                Some(code) => transient_code(code),
                // No SQLSTATE: only a broken connection is transient (closed,
                // or an I/O error underneath). ToSql, FromSql, row counts,
                // unexpected messages and the like are client-side errors.
                None => e.is_closed() || io_underneath(e),
            };
        }
        if let Some(c) = cause.downcast_ref::<ConnError>() {
            return c.is_transient();
        }
        if cause.is::<std::io::Error>() {
            return true;
        }
    }
    false
}

/// The error's own cause is an I/O error (tokio-postgres' `Io` and
/// `Connect` kinds: reset, broken pipe, refused).
fn io_underneath(e: &tokio_postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// SQLSTATEs after which the same work may succeed when tried again.
pub(crate) fn transient_code(code: &SqlState) -> bool {
    code.code().starts_with("08") // connection exception
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::IDLE_SESSION_TIMEOUT
        || *code == SqlState::TOO_MANY_CONNECTIONS
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
}

/// How long work that keeps failing transiently is retried (`--retry-for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Time from a piece of work's first failure to its last try.
    pub window: Duration,
}

/// Two minutes: a crash restart replays WAL first, and a managed server's
/// failover (RDS Multi-AZ, Aurora) takes about one to two minutes.
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(120);

/// The longest single wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            window: DEFAULT_RETRY_WINDOW,
        }
    }
}

impl RetryPolicy {
    /// Tracks the tries of one piece of work.
    pub fn start(self) -> Attempts {
        Attempts {
            policy: self,
            first_failure: None,
            tries: 1,
        }
    }
}

/// The tries of one piece of work under a [`RetryPolicy`].
#[derive(Debug)]
pub struct Attempts {
    policy: RetryPolicy,
    first_failure: Option<Instant>,
    tries: u32,
}

impl Attempts {
    /// The number of the current try (1 for the first).
    pub fn tries(&self) -> u32 {
        self.tries
    }

    /// After `err`: how long to wait before trying again, or `None` when
    /// `err` is not transient or the window is spent. Logs the wait, naming
    /// `what` failed.
    pub fn retry_after(&mut self, err: &anyhow::Error, what: &str) -> Option<Duration> {
        if !is_transient(err) {
            return None;
        }
        let now = Instant::now();
        let first = *self.first_failure.get_or_insert(now);
        let spent = now.duration_since(first);
        let left = self.policy.window.checked_sub(spent)?;
        if left.is_zero() {
            return None;
        }
        let wait = backoff(self.tries).min(left);
        tracing::warn!(
            "{what} failed ({err:#}); transient: retrying in {:.1} s (try {}, {} s left of \
             the {} s retry window, --retry-for)",
            wait.as_secs_f64(),
            self.tries + 1,
            left.as_secs(),
            self.policy.window.as_secs()
        );
        self.tries += 1;
        Some(wait)
    }
}

/// Runs `work` until it succeeds, retrying transient failures under
/// `policy`; `what` names it in the log. `work` must be safe to run again
/// from the start (it opens its own sessions).
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    what: &str,
    mut work: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut attempts = policy.start();
    loop {
        match work().await {
            Ok(v) => return Ok(v),
            Err(e) => match attempts.retry_after(&e, what) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(e),
            },
        }
    }
}

/// Wait after try `n` (1-based): 0.5 s, 1 s, 2 s, 4 s, then 8 s each time.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis(500u64 << n.saturating_sub(1).min(4)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_stays_capped() {
        let secs: Vec<f64> = (1..=8).map(|n| backoff(n).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]);
    }

    #[test]
    fn the_window_bounds_retries_in_time() {
        let transient =
            anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let mut a = RetryPolicy {
            window: Duration::from_millis(50),
        }
        .start();
        assert!(a.retry_after(&transient, "test").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(a.retry_after(&transient, "test"), None);
        // Never more than what is left of the window.
        let mut b = RetryPolicy {
            window: Duration::from_secs(1),
        }
        .start();
        for _ in 0..5 {
            assert!(b.retry_after(&transient, "test").unwrap() <= Duration::from_secs(1));
        }
    }

    #[test]
    fn only_known_transient_errors_are_retried() {
        let permanent = anyhow::anyhow!("a bug");
        assert!(!is_transient(&permanent));
        assert_eq!(
            RetryPolicy::default().start().retry_after(&permanent, "x"),
            None
        );
        let lost = anyhow::Error::new(crate::pg::SnapshotLost).context("copy");
        assert!(!is_transient(&lost));
        let refused = ConnError::Unreachable {
            end: None,
            target: "t".into(),
            host: "h".into(),
            detail: "refused".into(),
        };
        assert!(is_transient(&anyhow::Error::new(refused)));
        let starting = ConnError::Other {
            end: None,
            target: "t".into(),
            detail: "the database system is starting up".into(),
            code: Some(SqlState::CANNOT_CONNECT_NOW),
        };
        assert!(is_transient(&anyhow::Error::new(starting)));
        let denied = ConnError::Other {
            end: None,
            target: "t".into(),
            detail: "no".into(),
            code: Some(SqlState::INSUFFICIENT_PRIVILEGE),
        };
        assert!(!is_transient(&anyhow::Error::new(denied)));
        for code in [
            SqlState::CONNECTION_FAILURE,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ] {
            assert!(transient_code(&code), "{code:?}");
        }
        for code in [
            SqlState::UNDEFINED_TABLE,
            SqlState::UNIQUE_VIOLATION,
            SqlState::QUERY_CANCELED,
            SqlState::INVALID_PARAMETER_VALUE,
        ] {
            assert!(!transient_code(&code), "{code:?}");
        }
    }
}
