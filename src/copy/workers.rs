//! Parallel copy workers: each holds one source session (inside the shared
//! snapshot) and one target session, and takes the next-largest table.

use super::{copy_table, import_snapshot, CopyStats};
use crate::pg::{connect, ConnSpec};
use crate::plan::TableCopy;
use crate::report::progress::Counters;
use anyhow::Context;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The outcome of one table's copy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableResult {
    pub table: String,
    pub format: &'static str,
    /// Number of ranges the table was copied in (1 when whole).
    pub ranges: usize,
    #[serde(flatten)]
    pub stats: CopyStats,
}

/// Session settings for bulk load on the target.
const TARGET_LOAD_SETUP: &str = "SET synchronous_commit = off";

/// How the target tables receive rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Tables created by this run, without constraints or triggers yet:
    /// TRUNCATE + COPY FREEZE in one transaction.
    Fresh,
    /// Structure that already exists (`--data-only`): plain COPY into empty
    /// tables, with triggers and foreign-key checks off when the login may
    /// (`session_replication_role = replica`), as pg_restore --disable-triggers.
    Existing,
}

/// Copies every table in `copies` (already ordered largest first) with `jobs`
/// workers. Stops handing out work at the first failure and returns it.
pub async fn run_copies(
    source: &ConnSpec,
    target: &ConnSpec,
    snapshot: &str,
    copies: Vec<TableCopy>,
    jobs: usize,
    mode: LoadMode,
    counters: Arc<Counters>,
) -> anyhow::Result<Vec<TableResult>> {
    let jobs = jobs.max(1).min(copies.len().max(1));
    let queue = Arc::new(Mutex::new(VecDeque::from(copies)));
    let mut handles = Vec::new();
    for w in 0..jobs {
        let queue = Arc::clone(&queue);
        let source = source.clone();
        let target = target.clone();
        let snapshot = snapshot.to_string();
        let counters = Arc::clone(&counters);
        handles.push(tokio::spawn(async move {
            worker(w, &source, &target, &snapshot, &queue, mode, &counters).await
        }));
    }
    let mut results = Vec::new();
    let mut first_err = None;
    for h in handles {
        match h.await {
            Ok(Ok(mut r)) => results.append(&mut r),
            Ok(Err(e)) => {
                if first_err.is_none() {
                    first_err = Some(e);
                }
            }
            Err(join) => {
                if first_err.is_none() {
                    first_err = Some(anyhow::anyhow!("copy worker stopped: {join}"));
                }
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(merge_ranges(results)),
    }
}

async fn worker(
    n: usize,
    source: &ConnSpec,
    target: &ConnSpec,
    snapshot: &str,
    queue: &Mutex<VecDeque<TableCopy>>,
    mode: LoadMode,
    counters: &Counters,
) -> anyhow::Result<Vec<TableResult>> {
    let src = connect(source, &format!("copy worker {n} (source)")).await?;
    import_snapshot(&src, snapshot).await?;
    let mut dst = connect(target, &format!("copy worker {n} (target)")).await?;
    dst.batch_execute(TARGET_LOAD_SETUP)
        .await
        .context("setting bulk-load options on the target")?;
    if mode == LoadMode::Existing {
        if let Err(e) = dst
            .batch_execute("SET session_replication_role = replica")
            .await
        {
            tracing::warn!(
                "cannot turn off triggers and foreign-key checks on the target ({e}); \
                 rows are loaded with them on"
            );
        }
    }
    let mut done = Vec::new();
    loop {
        let next = match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(_) => anyhow::bail!("copy queue poisoned by a failed worker"),
        };
        let Some(tc) = next else { break };
        tracing::debug!(worker = n, table = %tc.source_qualified(), "copying");
        counters.start_table(&tc.target_qualified());
        let result = copy_table(
            &src,
            &mut dst,
            &tc,
            // A split table's ranges load side by side: none may truncate.
            mode == LoadMode::Fresh && tc.range.is_none(),
            &counters.bytes,
        )
        .await;
        counters.end_table(&tc.target_qualified());
        let stats = match result {
            Ok(s) => s,
            Err(e) => {
                // Leave nothing more for the others to start: fail fast.
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                return Err(e);
            }
        };
        tracing::debug!(
            table = %tc.target_qualified(),
            rows = stats.rows,
            bytes = stats.bytes,
            secs = format!("{:.2}", stats.seconds),
            "copied"
        );
        done.push(TableResult {
            table: tc.target_qualified(),
            format: if tc.binary { "binary" } else { "text" },
            ranges: 1,
            stats,
        });
    }
    src.batch_execute("COMMIT").await.ok();
    Ok(done)
}

/// One result per table: the ranges of a split table summed up (seconds are
/// worker-seconds, so MB/s stays a per-worker rate).
fn merge_ranges(results: Vec<TableResult>) -> Vec<TableResult> {
    let mut out: Vec<TableResult> = Vec::new();
    for r in results {
        match out.iter_mut().find(|x| x.table == r.table) {
            Some(x) => {
                x.ranges += 1;
                x.stats.rows += r.stats.rows;
                x.stats.bytes += r.stats.bytes;
                x.stats.seconds += r.stats.seconds;
            }
            None => out.push(r),
        }
    }
    out
}
