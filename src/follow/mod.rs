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
pub mod progress;
pub mod source;

pub use apply::{Diverged, Outcome, Run};
pub use map::{MapError, TableMap};
pub use source::{current_lsn, drop_all, slot_health, SlotError, SourceObjects};

use crate::repl::Lsn;
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
}

/// Qualified source table -> the columns pgoutput sends for it.
pub type Columns = std::collections::HashMap<String, Vec<String>>;

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

/// Parses an LSN for messages and files.
pub fn parse_lsn(s: &str) -> Option<Lsn> {
    s.trim().parse().ok()
}
