//! Exit codes of docs/design.md section 2, and the error kinds that map onto them.
//!
//! Everything below `main` returns `anyhow::Result`; `main` walks the error chain
//! looking for one of the typed markers here to choose the exit code. A
//! connection that fails as a command starts ([`crate::pg::AtStart`]) is bad
//! configuration (2); the same failure in the middle of a run (a server gone,
//! a password changed) is a failed run that `--resume` continues (3).
//!
//! Under `--json` every exit prints one document; [`error_document`] is the
//! one for errors, and [`print_out`] ends a command quietly when the reader
//! of its output went away (`pgferry status | head -1`).

use crate::pg::{AtStart, ConnError, End};
use std::fmt;
use std::io::Write;

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
/// were already printed; under `--json`, `document_printed` says whether
/// they went out as the command's one JSON document (which then also says
/// `exit_code` and `error`, so `main` prints no second one).
#[derive(Debug)]
pub struct ProblemFound {
    pub message: String,
    pub document_printed: bool,
}

impl fmt::Display for ProblemFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
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

/// Standard output was closed by its reader: the command ends quietly, as
/// Unix tools do (`pgferry status | head -1`).
#[derive(Debug)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("standard output was closed")
    }
}
impl std::error::Error for StdoutClosed {}

/// Writes `text` to standard output (flushed). A closed pipe becomes
/// [`StdoutClosed`] instead of the panic of `println!`.
pub fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(StdoutClosed))
        }
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// True when the command already printed its JSON document for this error.
pub fn document_printed(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<ProblemFound>()
            .is_some_and(|p| p.document_printed)
    })
}

/// True when the error only says that standard output was closed.
pub fn is_stdout_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<StdoutClosed>())
}

/// The connection error in the chain, whether it happened at the start or later.
fn conn_error(err: &anyhow::Error) -> Option<&ConnError> {
    err.chain().find_map(|c| {
        c.downcast_ref::<AtStart>()
            .map(|a| &a.0)
            .or_else(|| c.downcast_ref::<ConnError>())
    })
}

/// Which end an error is about, when it is a connection error.
pub fn end_of(err: &anyhow::Error) -> Option<End> {
    conn_error(err).and_then(ConnError::end)
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
        if cause.is::<StdoutClosed>() {
            return Exit::Ok;
        }
        if let Some(AtStart(c)) = cause.downcast_ref::<AtStart>() {
            if c.is_configuration() {
                return Exit::Usage;
            }
        }
        // A connection string cannot go bad half-way through a run.
        if let Some(ConnError::Malformed { .. }) = cause.downcast_ref::<ConnError>() {
            return Exit::Usage;
        }
    }
    Exit::Failed
}

/// What kind of error ended the command, for the JSON document: `usage`,
/// `connection`, `problem`, `interrupted` or `failed`.
pub fn kind_of(err: &anyhow::Error) -> &'static str {
    let exit = exit_for(err);
    if err.chain().any(|c| c.is::<Interrupted>()) {
        "interrupted"
    } else if conn_error(err).is_some() && exit != Exit::Problem {
        "connection"
    } else {
        match exit {
            Exit::Usage => "usage",
            Exit::Problem => "problem",
            _ => "failed",
        }
    }
}

/// The one JSON document of a command that ended with `err` under `--json`:
/// `command`, `ok` (false), `exit_code`, and `error` with its `kind`, the
/// whole `message` and the `end` it is about (`source`, `target` or null).
pub fn error_document(command: &str, err: &anyhow::Error) -> serde_json::Value {
    serde_json::json!({
        "command": command,
        "ok": false,
        "exit_code": exit_for(err) as i32,
        "error": {
            "kind": kind_of(err),
            "message": format!("{err:#}"),
            "end": end_of(err),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> ConnError {
        ConnError::Unreachable {
            end: Some(End::Target),
            target: "postgresql://h/db".into(),
            host: "h:5432".into(),
            detail: "refused".into(),
        }
    }

    #[test]
    fn a_connection_lost_mid_run_is_resumable() {
        let mid = anyhow::Error::new(unreachable()).context("copying public.t");
        assert_eq!(exit_for(&mid), Exit::Failed);
        let start = anyhow::Error::new(AtStart(unreachable()));
        assert_eq!(exit_for(&start), Exit::Usage);
        let doc = error_document("migrate", &start);
        assert_eq!(doc["exit_code"], 2);
        assert_eq!(doc["error"]["end"], "target");
        assert_eq!(doc["error"]["kind"], "connection");
        assert!(doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("target: cannot reach")));
    }
}
