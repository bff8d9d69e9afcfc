//! Follow mode (incremental migration): after the full load, apply the
//! source's changes through logical replication until a cut-over of
//! seconds.
//!
//! Why it is exact:
//! - The full load reads under the snapshot the slot exported when it was
//!   created, and the stream starts at the slot's consistent point: every
//!   committed transaction is either in the snapshot or in the stream,
//!   never both, never neither.
//! - Each batch of source transactions commits on the target together with
//!   its position (`progress`); the source is told "flushed" only after
//!   that commit returned with `synchronous_commit = on`. A restart resumes
//!   from the target's recorded position and skips what is before it.
//! - A change the target cannot apply to exactly one row, DDL on the
//!   source, or a slot the source lost stop the run with the reason and the
//!   remedy; nothing diverges silently.
//!
//! The pieces: `source` (publication, PostgreSQL 10 TRUNCATE guard, slot,
//! their removal), `map` (statements per relation, renames, column
//! selection, DDL check), `progress` (the position on the target), `apply`
//! (the engine). `migrate` runs the full load and then [`follow`];
//! `cli::cutover` and `cli::cleanup` end a task.

pub mod apply;
pub mod map;
mod pipeline;
pub mod progress;
pub mod source;

pub use apply::{Diverged, Outcome, Run};
pub use map::{MapError, TableMap};
pub use source::{current_lsn, drop_all, slot_health, SlotError, SourceObjects};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Task state keys of follow mode.
pub mod keys {
    /// The slot's name (recorded before it is created).
    pub const SLOT: &str = "follow.slot";
    pub const PUBLICATION: &str = "follow.publication";
    /// PostgreSQL 10: the schema of the TRUNCATE guard.
    pub const GUARD: &str = "follow.guard";
    /// The full load, post-data and sequences are done: from here on the
    /// task only follows.
    pub const LOADED: &str = "follow.loaded";
    /// The published columns of every table when the slot was created
    /// (JSON), to tell DDL in the stream.
    pub const COLUMNS: &str = "follow.columns";
    /// Written by the follower every 10 s, read by `pgferry status`.
    pub const APPLIED: &str = "follow.applied";
    pub const RETAINED: &str = "follow.retained_bytes";
    pub const CHECKED_AT: &str = "follow.checked_at";
}

/// `pgferry status` warns when the slot keeps more WAL than this.
pub const RETAINED_WARN_BYTES: i64 = 1 << 30;

/// What `pgferry status` says about a follow task.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowStatus {
    pub slot: String,
    pub loaded: bool,
    pub applied: Option<String>,
    pub retained_bytes: Option<i64>,
    /// Unix seconds of the last report of a running follower.
    pub checked_at: Option<i64>,
    /// A warning to print, if any.
    pub warning: Option<String>,
}

/// The follow part of a task's state, if it follows.
pub fn status(state: &crate::state::State) -> anyhow::Result<Option<FollowStatus>> {
    let Some(slot) = state.get(keys::SLOT)? else {
        return Ok(None);
    };
    let retained: Option<i64> = state.get(keys::RETAINED)?.and_then(|v| v.parse().ok());
    let checked_at: Option<i64> = state.get(keys::CHECKED_AT)?.and_then(|v| v.parse().ok());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let finished = state.is_finished()?;
    let warning = if finished {
        None
    } else if retained.is_some_and(|r| r > RETAINED_WARN_BYTES) {
        Some(format!(
            "the slot {slot} keeps {} MB of WAL on the source: let the follower catch up, cut \
             over, or drop it with `pgferry cleanup` before the source's disk fills",
            retained.unwrap_or(0) >> 20
        ))
    } else if checked_at.is_some_and(|t| now - t > 60) {
        Some(format!(
            "no follower has reported for {} s: while nothing reads the slot {slot}, the source \
             keeps all WAL since; resume (`migrate --follow --resume`), cut over, or `pgferry cleanup`",
            now - checked_at.unwrap_or(now)
        ))
    } else {
        None
    };
    Ok(Some(FollowStatus {
        slot,
        loaded: state.get(keys::LOADED)?.is_some(),
        applied: state.get(keys::APPLIED)?,
        retained_bytes: retained,
        checked_at,
        warning,
    }))
}

/// Qualified source table -> the columns pgoutput sends for it, with their
/// type oids.
pub type Columns = std::collections::HashMap<String, Vec<(String, u32)>>;

/// The published columns recorded when the slot was created.
pub fn recorded_columns(state: &crate::state::State) -> anyhow::Result<Columns> {
    match state.get(keys::COLUMNS)? {
        Some(j) => Ok(serde_json::from_str(&j)?),
        None => Ok(Columns::new()),
    }
}

/// The file through which `pgferry cutover` asks a running follower to
/// apply up to a position and stop (the follower holds the state lock).
pub fn request_file(state_dir: &Path) -> PathBuf {
    state_dir.join("cutover-request")
}

/// How many times in a row a lost connection is retried before giving up.
const RETRIES: u32 = 10;

/// Errors that a new connection will not cure.
fn permanent(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<MapError>()
            || c.is::<SlotError>()
            || c.is::<Diverged>()
            || c.is::<crate::error::Interrupted>()
            || c.is::<crate::error::UsageError>()
    })
}

/// Follows until cut-over (or `until`), reconnecting after lost connections
/// (a source or target restart, a network cut): each attempt resumes from
/// the position recorded on the target.
pub async fn follow(run: Run<'_>) -> anyhow::Result<Outcome> {
    let stop: Arc<AtomicBool> = Arc::clone(&run.stop);
    let mut failures = 0;
    loop {
        let attempt = Run {
            source: run.source,
            target: run.target,
            map: run.map,
            objs: run.objs,
            stop: Arc::clone(&stop),
            request_file: run.request_file.clone(),
            until: run.until,
            state: run.state.clone(),
        };
        match apply::run(attempt).await {
            Ok(o) => return Ok(o),
            Err(e) if permanent(&e) || failures >= RETRIES || stop.load(Ordering::SeqCst) => {
                return Err(e)
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(
                    "following stopped ({e:#}); reconnecting in 2 s (attempt {failures} of {RETRIES})"
                );
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}
