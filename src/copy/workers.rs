//! Parallel copy workers: each holds one source session (inside the shared
//! snapshot) and one target session, and takes the next-largest unit (a
//! table, a range of one, or a batch of large objects).
//!
//! A unit is recorded `copying` before it starts and `done` once its target
//! transaction is committed and durable (see [`super::durable`]). Transient
//! failures (a dropped connection, a server
//! restart, admin shutdown) reconnect and redo the unit, clearing what it may
//! have left; a first Ctrl-C stops handing out units.

use super::largeobjects::copy_batch;
use super::units::{redo_clear, LoadMode, TableResult, Unit, Work};
use super::{copy_table, Clear, EarlySteps};
use crate::copy::progress::Counters;
use crate::exec::{barrier, Pending};
use crate::pg::transient::{is_transient, RetryPolicy};
use crate::pg::{connect, ConnSpec, SnapshotLost};
use crate::pg::{import_snapshot, renew_snapshot};
use crate::state::{State, UnitStatus};
use anyhow::Context;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_postgres::Client;

/// Session settings for bulk load on the target.
/// (`maintenance_work_mem` for the index builds of [`EarlySteps`].)
const TARGET_LOAD_SETUP: &str =
    "SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET default_tablespace = ''";

/// Everything the workers share.
pub struct CopyJob<'a> {
    pub source: &'a ConnSpec,
    pub target: &'a ConnSpec,
    pub snapshot: &'a str,
    pub jobs: usize,
    pub mode: LoadMode,
    pub counters: Arc<Counters>,
    pub state: Option<State>,
    /// Set by the first Ctrl-C: finish units in flight, start no new one.
    pub stop: Arc<AtomicBool>,
    /// Index builds to run on workers that have no data left to copy.
    pub early: Option<Arc<EarlySteps>>,
    /// How long a unit failing transiently is retried.
    pub retry: RetryPolicy,
}

impl<'a> CopyJob<'a> {
    /// A load into empty tables with no task state, no early index builds
    /// and the default retries: the base the data phase adds its own to
    /// (and what tests of the copy engine run).
    pub fn fresh(ends: &'a crate::config::Endpoints, snapshot: &'a str, jobs: usize) -> Self {
        CopyJob {
            source: &ends.source,
            target: &ends.target,
            snapshot,
            jobs,
            mode: LoadMode::Fresh,
            counters: Arc::new(Counters::default()),
            state: None,
            stop: Arc::new(AtomicBool::new(false)),
            early: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Copies every unit (already ordered largest first). Stops handing out work
/// at the first permanent failure and returns it.
pub async fn run_copies(job: CopyJob<'_>, units: Vec<Unit>) -> anyhow::Result<Vec<TableResult>> {
    let jobs = job.jobs.max(1).min(units.len().max(1));
    let queue = Arc::new(Mutex::new(VecDeque::from(units)));
    let mut handles = Vec::new();
    for w in 0..jobs {
        let queue = Arc::clone(&queue);
        let ctx = WorkerCtx {
            n: w,
            source: job.source.clone(),
            target: job.target.clone(),
            snapshot: job.snapshot.to_string(),
            mode: job.mode,
            counters: Arc::clone(&job.counters),
            state: job.state.clone(),
            stop: Arc::clone(&job.stop),
            early: job.early.clone(),
            retry: job.retry,
        };
        // One OS thread and one single-threaded runtime per worker: its two
        // connections and its pump wake each other on the same thread. On a
        // shared runtime every row batch crossed threads (futex wake-ups,
        // contended locks): measured 1.0 s of CPU against 1.3 s for the bench.
        let handle = std::thread::Builder::new()
            .name(format!("pgferry-copy-{w}"))
            .spawn(move || -> anyhow::Result<Vec<TableResult>> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting a copy worker's runtime")?;
                let r = rt.block_on(ctx.run(&queue));
                // Connection drivers of this worker are not waited for.
                rt.shutdown_background();
                r
            })
            .context("starting a copy worker thread")?;
        handles.push(handle);
    }
    let joined = tokio::task::spawn_blocking(move || {
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("copy worker thread panicked")))
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| anyhow::anyhow!("copy workers stopped: {e}"))?;
    let mut results = Vec::new();
    let mut first_err = None;
    for r in joined {
        match r {
            Ok(mut r) => results.append(&mut r),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(super::merge_ranges(results)),
    }
}

/// What one worker holds between units.
#[derive(Default)]
struct Local {
    sessions: Option<(Client, Client)>,
    /// Units read in the source session's current transaction: each holds a
    /// lock on its table until the transaction ends (see `renew_snapshot`).
    units_in_snapshot: usize,
    /// Committed units waiting for a durability barrier.
    pending: Pending<(Unit, TableResult)>,
    /// Units whose commit may have been lost with a target restart, to copy
    /// again before taking new ones.
    redo: VecDeque<Unit>,
    /// Units committed, durable and recorded.
    done: Vec<TableResult>,
}

struct WorkerCtx {
    n: usize,
    source: ConnSpec,
    target: ConnSpec,
    snapshot: String,
    mode: LoadMode,
    counters: Arc<Counters>,
    state: Option<State>,
    stop: Arc<AtomicBool>,
    early: Option<Arc<EarlySteps>>,
    retry: RetryPolicy,
}

impl WorkerCtx {
    async fn sessions(&self) -> anyhow::Result<(Client, Client)> {
        let n = self.n;
        let src = connect(&self.source, &format!("copy worker {n} (source)")).await?;
        import_snapshot(&src, &self.snapshot).await?;
        let dst = connect(&self.target, &format!("copy worker {n} (target)")).await?;
        dst.batch_execute(TARGET_LOAD_SETUP)
            .await
            .context("setting bulk-load options on the target")?;
        if self.mode == LoadMode::Existing {
            if let Err(e) = dst
                .batch_execute("SET session_replication_role = replica")
                .await
            {
                tracing::warn!(
                    "cannot turn off triggers and foreign-key checks on the target ({}); \
                     rows are loaded with them on",
                    crate::pg::db_error(&e)
                );
            }
        }
        Ok((src, dst))
    }

    async fn run(&self, queue: &Mutex<VecDeque<Unit>>) -> anyhow::Result<Vec<TableResult>> {
        let mut l = Local::default();
        let outcome = loop {
            if self.stop.load(Ordering::SeqCst) {
                break Ok(());
            }
            let next = match l.redo.pop_front() {
                Some(u) => Some(u),
                None => match queue.lock() {
                    Ok(mut q) => q.pop_front(),
                    Err(_) => break Err(anyhow::anyhow!("copy queue poisoned by a failed worker")),
                },
            };
            let Some(unit) = next else {
                // Before idling or leaving: what was copied becomes durable.
                if let Err(e) = self.settle(&mut l).await {
                    break Err(e);
                }
                if !l.redo.is_empty() {
                    continue;
                }
                match self.early_work(&mut l.sessions).await {
                    Ok(true) => continue,
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            match self.unit_with_retries(&unit, &mut l).await {
                Ok(r) => {
                    if let Some(e) = &self.early {
                        e.unit_done(&r.table);
                    }
                    let bytes = r.stats.bytes;
                    l.pending.push((unit, r), bytes);
                    if l.pending.due() {
                        if let Err(e) = self.settle(&mut l).await {
                            break Err(e);
                        }
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = outcome {
            // Fail fast: leave nothing more for the others to start, and
            // nothing for them to wait for. Units committed but not settled
            // stay `copying` in the state: resume redoes them.
            if let Ok(mut q) = queue.lock() {
                q.clear();
            }
            if let Some(early) = &self.early {
                early.abandon();
            }
            return Err(e);
        }
        // Stopped by Ctrl-C: record what is durable.
        self.settle(&mut l).await?;
        if let Some((src, _)) = l.sessions {
            src.batch_execute("COMMIT").await.ok();
        }
        Ok(l.done)
    }

    /// Makes the pending units durable with a barrier on this worker's target
    /// session, then records them done. If the barrier fails with a transient
    /// error (the target restarted), their commits may be lost: they are
    /// queued to be copied again, clearing whatever of them did survive.
    async fn settle(&self, l: &mut Local) -> anyhow::Result<()> {
        if l.pending.is_empty() {
            return Ok(());
        }
        // Test hook: as if the connection broke before the barrier.
        let lost = crate::fault::fails("lost-barrier");
        let result = match l.sessions.as_ref() {
            Some(_) if lost => Err(anyhow::anyhow!("injected: connection lost")),
            Some((_, dst)) => barrier(dst).await.map_err(anyhow::Error::from),
            None => Err(anyhow::anyhow!("no target session")),
        };
        match result {
            Ok(()) => {
                for (unit, r) in l.pending.take() {
                    if let Some(st) = &self.state {
                        st.mark_unit(
                            &unit.id,
                            &r.table,
                            unit.range_json().as_deref(),
                            UnitStatus::Done,
                            Some((r.stats.rows, r.stats.bytes, r.stats.seconds)),
                        )?;
                    }
                    crate::fault::point("unit-done");
                    l.done.push(r);
                }
                Ok(())
            }
            Err(e) if lost || is_transient(&e) || l.sessions.is_none() => {
                l.sessions = None;
                self.requeue(l)
            }
            Err(e) => Err(e.context("making copied rows durable on the target")),
        }
    }

    /// Queues the pending units to be copied again, each clearing what of it
    /// may have survived on the target.
    fn requeue(&self, l: &mut Local) -> anyhow::Result<()> {
        for (mut unit, _) in l.pending.take() {
            let range = unit.table_copy().map(|c| c.range.as_ref());
            unit.clear = match range.map(|r| redo_clear(r, self.mode)) {
                Some(Some(c)) => c,
                // A batch of large objects removes what it may have left.
                None => Clear::Nothing,
                Some(None) => anyhow::bail!(
                    "the target restarted before the copy of {} was known to be on \
                     disk, and a page range cannot be redone alone; run again with \
                     --resume",
                    unit.label()
                ),
            };
            tracing::warn!(
                "the copy of {} was not known to be on disk when the target \
                 connection broke (the target may have restarted); copying it again",
                unit.label()
            );
            l.redo.push_back(unit);
        }
        Ok(())
    }

    /// With no data left to copy: builds the indexes of loaded tables.
    /// Returns true when builds still wait for tables other workers copy
    /// (after a short pause, so the caller loops), false when all is done.
    async fn early_work(&self, sessions: &mut Option<(Client, Client)>) -> anyhow::Result<bool> {
        let Some(early) = &self.early else {
            return Ok(false);
        };
        if self.stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
        if sessions.is_none() {
            match self.sessions().await {
                Ok(s) => *sessions = Some(s),
                // This worker has no rows left to copy: the lost snapshot
                // is for a worker that still has to say so. The builds are
                // left to post-data.
                Err(e) if e.is::<SnapshotLost>() => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let Some((_, dst)) = sessions.as_ref() else {
            return Ok(false);
        };
        let waiting = early.run_ready(dst).await;
        if dst.is_closed() {
            // The builds that failed with it are left to post-data; the
            // next unit or build opens new sessions.
            *sessions = None;
        }
        if waiting {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(waiting)
    }

    /// Copies one unit, retrying transient failures for the retry window.
    /// Before a retry drops the sessions, the units pending on them are
    /// settled on the old target connection if it still answers, or else
    /// queued again: a barrier on a new connection would not prove that
    /// their commits survived.
    async fn unit_with_retries(&self, unit: &Unit, l: &mut Local) -> anyhow::Result<TableResult> {
        let name = unit.table();
        let label = unit.label();
        let range = unit.range_json();
        if let Some(st) = &self.state {
            st.mark_unit(&unit.id, &name, range.as_deref(), UnitStatus::Copying, None)?;
        }
        let started = Instant::now();
        let mut clear = unit.clear;
        let mut attempts = self.retry.start();
        let mut stats = loop {
            let result = async {
                if l.sessions.is_none() {
                    l.sessions = Some(self.sessions().await?);
                    l.units_in_snapshot = 0;
                }
                let Some((src, dst)) = l.sessions.as_mut() else {
                    anyhow::bail!("no copy sessions");
                };
                renew_snapshot(src, &self.snapshot, &mut l.units_in_snapshot).await?;
                // Test hook: the target ends this session, as a server
                // restart would; the copy below then fails as transient.
                if crate::fault::fails("drop-target") {
                    dst.batch_execute("SELECT pg_terminate_backend(pg_backend_pid())")
                        .await
                        .ok();
                }
                self.counters.start_unit(&name);
                let bytes = &self.counters.bytes;
                let r = match &unit.work {
                    Work::Table(tc) => copy_table(src, dst, tc, clear, bytes).await,
                    Work::LargeObjects(batch) => copy_batch(src, dst, batch, bytes).await,
                };
                let done = r.as_ref().ok().map(|s| (unit.bytes(), s.bytes));
                self.counters.end_unit(&name, &unit.id, done);
                r
            }
            .await;
            match result {
                Ok(stats) => break stats,
                Err(e) => {
                    let Some(wait) = attempts.retry_after(&e, &format!("copy of {label}")) else {
                        return Err(e.context(format!("copying {label}")));
                    };
                    self.settle(l).await?;
                    l.sessions = None;
                    // The failed transaction rolled back, but be exact about
                    // what a redo must remove.
                    let range = unit.table_copy().and_then(|c| c.range.as_ref());
                    if range.is_some() && clear == Clear::Nothing {
                        clear = Clear::DeleteRange;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        };
        let ended = Instant::now();
        stats.seconds = ended.duration_since(started).as_secs_f64();
        tracing::debug!(unit = %label, rows = stats.rows, bytes = stats.bytes, "copied");
        crate::journal::record("copy", &label, started, Some((stats.rows, stats.bytes)));
        Ok(TableResult {
            table: name,
            format: match &unit.work {
                Work::Table(tc) if tc.binary => "binary",
                Work::Table(_) => "text",
                Work::LargeObjects(_) => "large objects",
            },
            ranges: 1,
            stats,
            span: Some((started, ended)),
        })
    }
}
