//! The task around a migration: its state directory and lock, whether this
//! run starts, resumes or restarts, and Ctrl-C.

use crate::error::usage;
use crate::state::{State, StateLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How the user asked to treat an existing task state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// A new task: refuse if an unfinished one is in the state directory.
    Fresh,
    /// Continue the unfinished task.
    Resume,
    /// Forget the recorded task and start over.
    Restart,
}

/// The state directory of a task: `dir` itself when given by `--state-dir`,
/// else `.pgferry/<hash of the task identity>` under the current directory,
/// so that different source/target pairs never share state.
pub fn state_dir(explicit: Option<&Path>, identity: &str) -> PathBuf {
    match explicit {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from(".pgferry").join(format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(identity.as_bytes())
        )),
    }
}

/// An open task: its lock (held until dropped), state, and whether it resumes.
pub struct Task {
    _lock: StateLock,
    pub state: State,
    pub resuming: bool,
}

/// Opens the task state under `dir` and checks it against what was asked.
/// `identity` names the source, target and options (never a password).
pub fn open(dir: &Path, identity: &str, mode: StartMode) -> anyhow::Result<Task> {
    let lock = StateLock::acquire(dir).map_err(|e| unusable(dir, e))?;
    let state = State::open(dir).map_err(|e| unusable(dir, e))?;
    let recorded = state.get("identity")?;
    let finished = state.is_finished()?;
    let resuming = match (mode, recorded) {
        (StartMode::Restart, _) => {
            state.clear()?;
            false
        }
        (StartMode::Fresh, None) => false,
        (StartMode::Fresh, Some(_)) if finished => {
            return Err(usage(format!(
                "the task in {} already finished; use --restart to run it again \
                 (into an empty target), or another --state-dir",
                dir.display()
            )))
        }
        (StartMode::Fresh, Some(_)) => {
            return Err(usage(format!(
                "an unfinished migration is recorded in {}: continue it with \
                 `pgferry migrate --resume`, or start over with --restart",
                dir.display()
            )))
        }
        (StartMode::Resume, None) => {
            return Err(usage(format!(
                "nothing to resume: no task is recorded in {}",
                dir.display()
            )))
        }
        (StartMode::Resume, Some(r)) if r != identity => {
            return Err(usage(format!(
                "the task in {} is another migration ({r}); \
                 resume it with the same source, target and options, or use --restart",
                dir.display()
            )))
        }
        (StartMode::Resume, Some(_)) => true,
    };
    if !resuming {
        state.set("identity", identity)?;
    }
    Ok(Task {
        _lock: lock,
        state,
        resuming,
    })
}

/// A state directory that cannot be created, locked or written (a file, a
/// path under a file, no permission) is a usage error: the user must give
/// another `--state-dir` (exit 2). Errors that already are usage errors (the
/// lock held by another pgferry) pass unchanged.
fn unusable(dir: &Path, e: anyhow::Error) -> anyhow::Error {
    if crate::error::exit_for(&e) == crate::error::Exit::Usage {
        return e;
    }
    usage(format!(
        "cannot use the state directory {}: {e:#}; give a writable directory with --state-dir",
        dir.display()
    ))
}

/// Installs the Ctrl-C handler: the first press sets the returned flag (work
/// in flight finishes, nothing new starts, state is saved); the second ends
/// the process at once, which is still safe to resume.
pub fn install_interrupt() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        flag.store(true, Ordering::SeqCst);
        eprintln!(
            "pgferry: interrupted: finishing the work in flight and saving state \
             (press Ctrl-C again to stop now; it is safe to resume either way)"
        );
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("pgferry: stopped; run `pgferry migrate --resume` to continue");
            std::process::exit(crate::error::Exit::Failed as i32);
        }
    });
    stop
}
