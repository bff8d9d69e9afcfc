//! Exit codes of docs/design.md section 2, and the error kinds that map onto them.
//!
//! Everything below `main` returns `anyhow::Result`; `main` walks the error chain
//! looking for one of the typed markers here to choose the exit code, so a
//! connection error deep inside a worker still ends as "bad configuration" (2).

use std::fmt;

/// Process exit codes, as promised to users and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Ok = 0,
    /// The job ran and found a problem (precheck failure, verify mismatch).
    Problem = 1,
    /// Bad usage or configuration (including unreachable servers, bad credentials).
    Usage = 2,
    /// The job failed part-way; it can be resumed.
    Failed = 3,
}

/// Bad usage or configuration: the user must change what they asked for.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

/// The job ran to its end and found something wrong (exit 1). The details
/// were already printed or put in the JSON document.
#[derive(Debug)]
pub struct ProblemFound(pub String);

impl fmt::Display for ProblemFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ProblemFound {}

/// The run was interrupted by Ctrl-C after saving its state (exit 3).
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted; state saved: run `pgferry migrate --resume` to continue")
    }
}
impl std::error::Error for Interrupted {}

/// Shorthand for returning a [`UsageError`] through `anyhow`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Chooses the exit code for an error by looking through its whole chain.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return Exit::Usage;
        }
        if cause.is::<ProblemFound>() {
            return Exit::Problem;
        }
        if cause.is::<Interrupted>() {
            return Exit::Failed;
        }
        if let Some(c) = cause.downcast_ref::<crate::pg::ConnError>() {
            if c.is_configuration() {
                return Exit::Usage;
            }
        }
    }
    Exit::Failed
}
