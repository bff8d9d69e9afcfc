//! The apply engine: reads the slot's stream and applies each source
//! transaction on the target, exactly once.
//!
//! - A reader task owns the stream and hands decoded messages over a
//!   channel bounded in messages and in bytes of row values
//!   ([`BUFFER_BYTES`]), so memory stays bounded however big a transaction is
//!   (a huge one is applied change by change inside one open target
//!   transaction, never held whole).
//! - Source transactions are applied in commit order. Several go into one
//!   target transaction (a batch) while more are already waiting in the
//!   channel, up to [`BATCH_TXNS`] or [`BATCH_TIME`]; a source transaction is
//!   never split across target transactions. The batch commits together with
//!   the new position in `_pgferry.follow_progress` (see `progress`), with
//!   `synchronous_commit = on`, and only then is that position reported to
//!   the source as flushed: the slot never forgets a change the target could
//!   still lose.
//! - Changes go to the target through a pipeline (`pipeline`): many
//!   statements on the wire at once, answers checked in order.
//! - On (re)start the stream begins at the recorded position and every
//!   transaction whose commit lies before it is skipped.
//! - Every UPDATE and DELETE must touch exactly one row (for identity FULL,
//!   one of several equal rows, by `ctid`); anything else means the two ends
//!   diverged, and applying stops rather than hiding it.

use super::map::{self, MapError, TableMap, TableTarget};
use super::pipeline::Pipeline;
use super::progress;
use super::source::{self, SlotError, SourceObjects};
use crate::pg::{connect, ConnSpec};
use crate::repl::{
    LogicalStream, Lsn, PgOutputMessage, PgOutputOptions, PgTimestamp, ReplConnection, ReplError,
    StreamEvent, Value,
};
use anyhow::Context;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// Source transactions per target transaction at most.
pub const BATCH_TXNS: usize = 2000;
/// A batch commits at least this often while more keeps coming.
pub const BATCH_TIME: Duration = Duration::from_millis(500);
/// Messages buffered between the reader and the applier...
const CHANNEL: usize = 8192;
/// ...and the bytes of row values they may hold at most: memory stays
/// bounded however large the transactions and rows are.
const BUFFER_BYTES: usize = 64 << 20;

/// A message and its share of [`BUFFER_BYTES`], given back once applied.
type Buffered = (StreamEvent, tokio::sync::OwnedSemaphorePermit);

/// The approximate memory of a message: its row values.
fn event_bytes(ev: &StreamEvent) -> usize {
    let tuple = |t: &crate::repl::Tuple| -> usize {
        t.0.iter()
            .map(|v| match v {
                Value::Text(s) => s.len(),
                Value::Binary(b) => b.len(),
                _ => 0,
            })
            .sum()
    };
    64 + match ev {
        StreamEvent::Message { message, .. } => match message {
            PgOutputMessage::Insert { new, .. } => tuple(new),
            PgOutputMessage::Update { old, new, .. } => {
                tuple(new) + old.as_ref().map_or(0, |o| tuple(o.tuple()))
            }
            PgOutputMessage::Delete { old, .. } => tuple(old.tuple()),
            _ => 0,
        },
        StreamEvent::Keepalive { .. } => 0,
    }
}
/// How often lag and retained WAL are shown.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Session settings of the apply connection: values arrive as the source's
/// text output under the same settings (see `repl`).
const SESSION: &str = "SET datestyle = ISO; SET intervalstyle = postgres; SET timezone = 'UTC'; \
                       SET extra_float_digits = 3; SET synchronous_commit = off; \
                       SET statement_timeout = 0; SET lock_timeout = 0";

/// What one follow run is asked to do.
pub struct Run<'a> {
    pub source: &'a ConnSpec,
    pub target: &'a ConnSpec,
    pub map: &'a TableMap,
    pub objs: &'a SourceObjects,
    /// Ctrl-C: commit the batch if it is whole, then stop.
    pub stop: Arc<AtomicBool>,
    /// Where `pgferry cutover` asks a running follower to stop at a position.
    pub request_file: Option<PathBuf>,
    /// Stop once everything up to here is applied (cut-over).
    pub until: Option<Lsn>,
    /// Where lag and retained WAL are recorded for `pgferry status`.
    pub state: Option<crate::state::State>,
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Everything before this is applied and recorded on the target.
    pub applied: Lsn,
    pub transactions: u64,
    pub changes: u64,
}

/// The target diverged from the source (a change matched no row, or many).
#[derive(Debug, thiserror::Error)]
#[error(
    "the target diverged from the source: {what} (source transaction committed at {lsn}). \
     Nothing of that transaction was applied. Run `pgferry verify` to see the differences"
)]
pub struct Diverged {
    pub what: String,
    pub lsn: Lsn,
}

/// The reader: owns the stream, reports the flushed position, forwards
/// messages until the applier goes away or the stream ends.
async fn read_loop(
    mut stream: LogicalStream,
    tx: mpsc::Sender<Buffered>,
    flushed: Arc<AtomicU64>,
    budget: Arc<tokio::sync::Semaphore>,
) -> Result<(), ReplError> {
    stream.set_status_interval(Duration::from_secs(1));
    loop {
        let f = Lsn::from(flushed.load(Ordering::SeqCst));
        stream.set_positions(f, f, f);
        let ev = tokio::select! {
            ev = stream.next() => ev?,
            _ = tx.closed() => {
                let f = Lsn::from(flushed.load(Ordering::SeqCst));
                stream.set_positions(f, f, f);
                let _ = stream.stop().await;
                return Ok(());
            }
        };
        match ev {
            None => return Ok(()),
            Some(ev) => {
                let n = u32::try_from(event_bytes(&ev).min(BUFFER_BYTES)).unwrap_or(u32::MAX);
                let Ok(permit) = Arc::clone(&budget).acquire_many_owned(n).await else {
                    return Ok(());
                };
                if tx.send((ev, permit)).await.is_err() {
                    let _ = stream.stop().await;
                    return Ok(());
                }
            }
        }
    }
}

/// Starts the stream at `start`, waiting a little for a slot still held by
/// a follower that just stopped.
async fn start_stream(
    spec: &ConnSpec,
    objs: &SourceObjects,
    start: Lsn,
) -> anyhow::Result<LogicalStream> {
    let opts = PgOutputOptions::new([objs.publication.clone()]);
    let mut tries = 0;
    loop {
        let conn = ReplConnection::connect(spec, "follow stream").await?;
        match conn.start_logical(&objs.slot, start, &opts).await {
            Ok(s) => return Ok(s),
            Err(ReplError::Server { message, .. })
                if message.contains("is active for PID") && tries < 50 =>
            {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

struct Applier<'a> {
    target: &'a Client,
    map: &'a TableMap,
    slot: &'a str,
    pipeline: Pipeline,
    targets: HashMap<u32, TableTarget>,
    /// Transactions committed before this are on the target.
    applied: Lsn,
    /// A target transaction is open.
    open: bool,
    batch_txns: usize,
    batch_started: Instant,
    /// Inside a source transaction (between Begin and Commit).
    in_txn: bool,
    skip: bool,
    final_lsn: Lsn,
    last_commit: Option<(Lsn, PgTimestamp)>,
    last_record: Instant,
    out: Outcome,
}

impl Applier<'_> {
    fn target_of(&mut self, rel: &crate::repl::Relation) -> Result<TableTarget, MapError> {
        if let Some(t) = self.targets.get(&rel.id) {
            return Ok(t.clone());
        }
        let t = self.map.check(rel)?.clone();
        self.targets.insert(rel.id, t.clone());
        Ok(t)
    }

    async fn begin_batch(&mut self) -> anyhow::Result<()> {
        if !self.open {
            self.target.batch_execute("BEGIN").await?;
            self.open = true;
            self.batch_started = Instant::now();
            self.batch_txns = 0;
        }
        Ok(())
    }

    /// Commits the open batch with its position; returns the new position.
    async fn commit_batch(&mut self, flushed: &AtomicU64) -> anyhow::Result<()> {
        if !self.open {
            return Ok(());
        }
        self.pipeline.flush(self.target).await?;
        let Some((lsn, time)) = self.last_commit else {
            self.target.batch_execute("COMMIT").await?;
            self.open = false;
            return Ok(());
        };
        crate::fault::point("follow-before-progress");
        let secs = time
            .to_system_time()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64())
            .to_string();
        self.target
            .execute(
                &progress::update_sql(),
                &[&self.slot, &lsn.to_string(), &secs],
            )
            .await
            .context("recording the applied position on the target")?;
        crate::fault::point("follow-before-commit");
        self.target
            .batch_execute("SET LOCAL synchronous_commit = on; COMMIT")
            .await
            .context("committing applied changes on the target")?;
        crate::fault::point("follow-after-commit");
        self.open = false;
        self.applied = lsn;
        self.last_record = Instant::now();
        flushed.store(lsn.as_u64(), Ordering::SeqCst);
        Ok(())
    }

    async fn message(&mut self, m: PgOutputMessage, flushed: &AtomicU64) -> anyhow::Result<()> {
        match m {
            PgOutputMessage::Begin(b) => {
                self.in_txn = true;
                self.final_lsn = b.final_lsn;
                self.skip = b.final_lsn < self.applied;
                if !self.skip {
                    self.begin_batch().await?;
                }
            }
            PgOutputMessage::Commit(c) => {
                self.in_txn = false;
                if self.skip {
                    self.skip = false;
                    return Ok(());
                }
                self.last_commit = Some((c.end_lsn, c.commit_time));
                self.batch_txns += 1;
                self.out.transactions += 1;
                crate::fault::point("follow-source-commit");
                if self.batch_txns >= BATCH_TXNS || self.batch_started.elapsed() >= BATCH_TIME {
                    self.commit_batch(flushed).await?;
                }
            }
            PgOutputMessage::Relation(rel) => {
                self.targets.remove(&rel.id);
                self.target_of(&rel)?;
            }
            PgOutputMessage::Insert { relation, new } if !self.skip => {
                let t = self.target_of(&relation)?;
                let b = map::insert(&t, &relation);
                self.pipeline
                    .queue(self.target, &b, &new.0, &[], None, self.final_lsn)
                    .await?;
                self.out.changes += 1;
                crate::fault::point("follow-change");
            }
            PgOutputMessage::Update { relation, old, new } if !self.skip => {
                let t = self.target_of(&relation)?;
                let oldv = old.as_ref().map(|o| o.tuple().0.as_slice());
                if let Some(b) = map::update(&t, &relation, oldv, &new.0)? {
                    let check = Some(("UPDATE", t.target.clone()));
                    let old = oldv.unwrap_or(&[]);
                    self.pipeline
                        .queue(self.target, &b, &new.0, old, check, self.final_lsn)
                        .await?;
                }
                self.out.changes += 1;
            }
            PgOutputMessage::Delete { relation, old } if !self.skip => {
                let t = self.target_of(&relation)?;
                let b = map::delete(&t, &relation, &old.tuple().0)?;
                let check = Some(("DELETE", t.target.clone()));
                self.pipeline
                    .queue(self.target, &b, &[], &old.tuple().0, check, self.final_lsn)
                    .await?;
                self.out.changes += 1;
            }
            PgOutputMessage::Truncate {
                relations,
                cascade,
                restart_identity,
            } if !self.skip => {
                let mut names = Vec::new();
                for r in &relations {
                    names.push(self.target_of(r)?.target);
                }
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let sql = map::truncate(&refs, cascade, restart_identity);
                self.pipeline.flush(self.target).await?;
                self.target
                    .batch_execute(&sql)
                    .await
                    .with_context(|| format!("applying {sql}"))?;
                self.out.changes += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Applies the stream until stopped, asked to cut over, or an error.
pub async fn run(r: Run<'_>) -> anyhow::Result<Outcome> {
    let src = connect(r.source, "follow monitor").await?;
    let target = connect(r.target, "follow apply").await?;
    target
        .batch_execute(SESSION)
        .await
        .context("setting up the apply session on the target")?;
    if let Err(e) = target
        .batch_execute("SET session_replication_role = replica")
        .await
    {
        tracing::warn!(
            "cannot set session_replication_role = replica on the target ({}): triggers on the \
             target fire for applied changes and foreign keys are checked per statement; \
             run follow with a superuser target login to avoid that",
            crate::pg::db_error(&e)
        );
    }
    let start = progress::read(&target, &r.objs.slot)
        .await?
        .ok_or_else(|| {
            crate::error::usage(
                "the target has no follow position (_pgferry.follow_progress): the full load of \
             this task did not finish; migrate again with --follow --restart into an empty target",
            )
        })?;
    let health = source::slot_health(&src, &r.objs.slot).await?;
    if health.confirmed_flush > start {
        return Err(SlotError::Lost {
            slot: r.objs.slot.clone(),
            why: format!(
                " past the target's position (the slot confirmed {} but the target has only \
                 {start}: the target lost changes, e.g. it was restored from a backup)",
                health.confirmed_flush
            ),
        }
        .into());
    }
    let stream = match start_stream(r.source, r.objs, start).await {
        Ok(s) => s,
        Err(e) => {
            source::slot_health(&src, &r.objs.slot).await?;
            return Err(e);
        }
    };
    tracing::info!(slot = %r.objs.slot, from = %start, "following the source");
    let flushed = Arc::new(AtomicU64::new(start.as_u64()));
    let (tx, mut rx) = mpsc::channel::<Buffered>(CHANNEL);
    let budget = Arc::new(tokio::sync::Semaphore::new(BUFFER_BYTES));
    let reader = tokio::spawn(read_loop(stream, tx, Arc::clone(&flushed), budget));
    let mut a = Applier {
        target: &target,
        map: r.map,
        slot: &r.objs.slot,
        pipeline: Pipeline::default(),
        targets: HashMap::new(),
        applied: start,
        open: false,
        batch_txns: 0,
        batch_started: Instant::now(),
        in_txn: false,
        skip: false,
        final_lsn: start,
        last_commit: None,
        last_record: Instant::now(),
        out: Outcome::default(),
    };
    let mut until = r.until;
    let mut seen = start;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut last_report = Instant::now();
    let mut reported = (0u64, Instant::now());
    let result: anyhow::Result<()> = async {
        loop {
            if until.is_some_and(|l| a.applied >= l) && !a.open {
                return Ok(());
            }
            // A batch commits when nothing more is waiting.
            let ev = if a.open && !a.in_txn {
                match rx.try_recv() {
                    Ok(ev) => Some(ev),
                    Err(mpsc::error::TryRecvError::Empty) => {
                        a.commit_batch(&flushed).await?;
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            } else {
                tokio::select! {
                    ev = rx.recv() => ev,
                    _ = tick.tick() => {
                        if r.stop.load(Ordering::SeqCst) && !a.in_txn {
                            a.commit_batch(&flushed).await?;
                            return Err(crate::error::Interrupted.into());
                        }
                        if until.is_none() {
                            until = requested(r.request_file.as_ref());
                            if let Some(l) = until {
                                tracing::info!("cut-over asked: applying up to {l}, then stopping");
                            }
                        }
                        if last_report.elapsed() >= REPORT_EVERY {
                            last_report = Instant::now();
                            let h = source::slot_health(&src, &r.objs.slot).await?;
                            let rate = (a.out.changes - reported.0) as f64
                                / reported.1.elapsed().as_secs_f64().max(0.001);
                            reported = (a.out.changes, Instant::now());
                            report(&a, seen, &h, rate, rx.len());
                            if let Some(st) = &r.state {
                                record_status(st, a.applied, h.retained_bytes)?;
                            }
                        }
                        continue;
                    }
                }
            };
            let Some((ev, _permit)) = ev else {
                break;
            };
            match ev {
                StreamEvent::Message { lsn, message, .. } => {
                    seen = seen.max(lsn);
                    a.message(message, &flushed).await?;
                }
                StreamEvent::Keepalive { wal_end, .. } => {
                    seen = seen.max(wal_end);
                    // Nothing pending: the source has sent every commit before
                    // wal_end, so the target is up to date to there.
                    if !a.open && !a.in_txn && wal_end > a.applied {
                        let due = until.is_some_and(|l| wal_end >= l)
                            || a.last_record.elapsed() >= Duration::from_secs(1);
                        if due {
                            progress::record(&target, &r.objs.slot, wal_end).await?;
                            a.applied = wal_end;
                            a.last_record = Instant::now();
                            flushed.store(wal_end.as_u64(), Ordering::SeqCst);
                        }
                    }
                }
            }
        }
        // The reader ended: its error, or the server closed the stream.
        Err(anyhow::anyhow!(
            "the replication stream from the source ended"
        ))
    }
    .await;
    drop(rx);
    let read_result = tokio::time::timeout(Duration::from_secs(10), reader).await;
    match result {
        Ok(()) => Ok(a.out_with(a.applied)),
        Err(e) => {
            if a.open {
                a.pipeline.clear();
                target.batch_execute("ROLLBACK").await.ok();
            }
            if let Ok(Ok(Err(re))) = read_result {
                if e.to_string().contains("stream from the source ended") {
                    source::slot_health(&src, &r.objs.slot).await?;
                    return Err(anyhow::Error::new(re).context("following the source"));
                }
            }
            Err(e)
        }
    }
}

impl Applier<'_> {
    fn out_with(&self, applied: Lsn) -> Outcome {
        Outcome {
            applied,
            ..self.out.clone()
        }
    }
}

fn record_status(st: &crate::state::State, applied: Lsn, retained: i64) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    st.set(super::keys::APPLIED, &applied.to_string())?;
    st.set(super::keys::RETAINED, &retained.to_string())?;
    st.set(super::keys::CHECKED_AT, &now.to_string())
}

/// The position a `pgferry cutover` asked for, if any.
fn requested(file: Option<&PathBuf>) -> Option<Lsn> {
    let text = std::fs::read_to_string(file?).ok()?;
    text.trim().parse().ok()
}

/// One line of lag, rate and retained WAL.
fn report(a: &Applier<'_>, seen: Lsn, h: &source::SlotHealth, rate: f64, queued: usize) {
    let lag_bytes = seen.as_u64().saturating_sub(a.applied.as_u64());
    let lag_secs = match a.last_commit {
        Some((_, t)) if queued > 0 || a.open => t
            .to_system_time()
            .and_then(|t| t.elapsed().ok())
            .map_or(0.0, |d| d.as_secs_f64()),
        _ => 0.0,
    };
    tracing::info!(
        "following: applied to {} ({} transactions, {} changes, {rate:.0} changes/s); lag {} \
         bytes, {lag_secs:.1} s; the source keeps {} MB of WAL for the slot",
        a.applied,
        a.out.transactions,
        a.out.changes,
        lag_bytes,
        h.retained_bytes / (1 << 20)
    );
}
