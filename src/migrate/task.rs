//! The task around a migration: its state directory and lock, whether this
//! run starts, resumes or restarts, and Ctrl-C.

use super::identity::Identity;
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
    /// `--resume` of a task that already ran to its end: nothing to do.
    pub complete: bool,
    /// `--restart`: the recorded task is forgotten by [`Task::begin`], once
    /// the new run passed its precheck, not before (a failed precheck keeps
    /// the finished task's record).
    restart: bool,
    identity: Identity,
}

/// Opens the task state under `dir` and checks it against what was asked.
/// Nothing is written here: a run records its identity in [`Task::begin`].
pub fn open(dir: &Path, identity: &Identity, mode: StartMode) -> anyhow::Result<Task> {
    let lock = StateLock::acquire(dir).map_err(|e| unusable(dir, e))?;
    let state = State::open(dir).map_err(|e| unusable(dir, e))?;
    let recorded = state.get("identity")?;
    let finished = state.is_finished()?;
    let task = |resuming, complete, restart| Task {
        _lock: lock,
        state: state.clone(),
        resuming,
        complete,
        restart,
        identity: identity.clone(),
    };
    match (mode, recorded) {
        (StartMode::Restart, r) => Ok(task(false, false, r.is_some())),
        (StartMode::Fresh, None) => Ok(task(false, false, false)),
        (StartMode::Fresh, Some(_)) if finished => Err(usage(format!(
            "the task in {} already finished; use --restart to run it again \
             (into an empty target), or another --state-dir",
            dir.display()
        ))),
        (StartMode::Fresh, Some(_)) => Err(usage(format!(
            "an unfinished migration is recorded in {}: continue it with \
             `pgferry migrate --resume`, or start over with --restart",
            dir.display()
        ))),
        // A run stopped before its precheck passed wrote nothing, here or on
        // the target: resuming it is starting it (whose precheck still
        // refuses a target that already holds the objects).
        (StartMode::Resume, None) => {
            tracing::warn!(
                "nothing to resume in {}: the previous run stopped before writing anything; \
                 starting from the beginning",
                dir.display()
            );
            Ok(task(false, false, false))
        }
        (StartMode::Resume, Some(r)) => {
            let changes = match state.get("identity_parts")? {
                Some(parts) => identity.changes_from(&parts),
                // A state written before the parts were recorded.
                None if r != identity.line => vec![format!("the task was {r}")],
                None => Vec::new(),
            };
            if !changes.is_empty() {
                return Err(usage(format!(
                    "--resume asks for another task than the one in {}: {}; resume with the \
                     same source, target, selection, renames and options, or use --restart",
                    dir.display(),
                    changes.join("; ")
                )));
            }
            Ok(task(!finished, finished, false))
        }
    }
}

impl Task {
    /// Records this run as the task, once its precheck passed: forgets the
    /// previous task first under `--restart`. A resumed task keeps its record.
    pub fn begin(&self) -> anyhow::Result<()> {
        if self.resuming {
            return Ok(());
        }
        if self.restart {
            self.state.clear()?;
        }
        self.state.set("identity", &self.identity.line)?;
        self.state
            .set("identity_parts", &self.identity.parts_json())
    }
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
