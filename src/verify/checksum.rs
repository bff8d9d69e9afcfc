//! Row counts and order-independent checksums of every table on both ends.
//!
//! Each unit of work (a table, or a key range of a big one; see `units`) is
//! streamed from both servers at once with `COPY ... TO STDOUT` (see
//! `rowhash`) and hashed by pgferry as it arrives (see `digest`), so a unit
//! costs one scan on the slower server and the servers do no hashing; memory
//! stays at a few COPY messages per stream. The source is read under one
//! exported snapshot, so every table's sums belong to the same moment even
//! with `--jobs` workers, each holding a session on both ends.

use super::digest::{Cut, Digest};
use super::ranges::{compare_buckets, RangeDiff, Split, MAX_LISTED_RANGES};
use super::rowhash::copy_sql;
use super::sequences::{compare_sequences, SequenceCheck};
use super::session::{
    connect_at_start, missing_on_target, open_end, server_version, End, SnapshotHolder,
};
use super::units::{Job, PlanEnds, Unit};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::pg::quote_ident;
use anyhow::Context;
use futures_util::TryStreamExt;
use serde::Serialize;
use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_postgres::CopyOutStream;

/// Tables bigger than this (`pg_relation_size`) are read in key ranges of
/// about this size and located per key range.
pub const DEFAULT_SPLIT_BYTES: i64 = 64 * 1024 * 1024;

/// Parts of a big table across a long link: a stream gets only a share of
/// the link (about 12 MB/s on the bench's model of a cross-cloud path), so
/// a 164 MB table must be cut into more parts than the 64 MB default gives
/// (3) to keep the 16 streams of a far source busy.
pub const FAR_SPLIT_BYTES: i64 = 8 * 1024 * 1024;

/// What the user asked `verify` to do.
#[derive(Debug, Clone)]
pub struct ChecksumOptions {
    /// Units read at once, each with a session on both ends; 0: sized from
    /// the link to the source, as migrate's copy streams.
    pub jobs: usize,
    /// Read in key ranges, and locate differences in, the tables larger
    /// than this many bytes; `None`: [`DEFAULT_SPLIT_BYTES`] near the
    /// source, [`FAR_SPLIT_BYTES`] across a long link.
    pub split_larger_than: Option<i64>,
}

/// One table's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TableChecksum {
    pub table: String,
    pub source_rows: i64,
    /// `None` when the table (or one of its columns) is missing on the target.
    pub target_rows: Option<i64>,
    pub source_checksum: String,
    pub target_checksum: Option<String>,
    pub equal: bool,
    /// How the key was cut, when the table was compared per range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    /// Units the table was read in (key ranges read in parallel).
    pub units: usize,
    /// Key ranges whose rows differ (at most [`MAX_LISTED_RANGES`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differing_ranges: Vec<RangeDiff>,
    /// Differing ranges beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_differing_ranges: usize,
    /// Why the target could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// From the start of its first unit to the end of its last.
    pub seconds: f64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Everything verify compared.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub tables: Vec<TableChecksum>,
    pub sequences: Vec<SequenceCheck>,
}

/// Checks every table that holds rows (partitioned parents hold none; their
/// partitions are checked). See [`verify_all`].
pub async fn compare_checksums(
    ends: &Endpoints,
    sel: &crate::plan::Selection,
    opts: &ChecksumOptions,
) -> anyhow::Result<Vec<TableChecksum>> {
    Ok(verify_all(ends, sel, opts).await?.tables)
}

/// Checks every table that holds rows, largest units first, `opts.jobs` at
/// a time, and every sequence's value. With a selection, only the selected
/// tables, columns and sequences, compared with the target's under their
/// renamed names; tables whose data is excluded are not compared.
pub async fn verify_all(
    ends: &Endpoints,
    sel: &crate::plan::Selection,
    opts: &ChecksumOptions,
) -> anyhow::Result<Verdict> {
    let src = connect_at_start(&ends.source, "verify (snapshot)").await?;
    let holder = SnapshotHolder::open(src).await?;
    // Like migrate's copy streams: a far source needs many sessions in
    // flight to fill the link, a near one is bound by CPU.
    let link = match (opts.jobs, opts.split_larger_than) {
        (0, _) | (_, None) => crate::copy::link::Link::probe(holder.client()).await,
        _ => crate::copy::link::Link { rtt: None },
    };
    let workers = match opts.jobs {
        0 => {
            let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
            let jobs = link.default_jobs(cpus);
            tracing::debug!(jobs, "verify sessions sized from the link");
            jobs
        }
        n => n,
    };
    let split = opts.split_larger_than.unwrap_or(match link.far() {
        true => FAR_SPLIT_BYTES,
        false => DEFAULT_SPLIT_BYTES,
    });
    let mut cat = Catalog::read(holder.client()).await?;
    let plan = crate::plan::prepare(&mut cat, sel)?;
    let target = connect_at_start(&ends.target, "verify (plan)").await?;
    let planning = PlanEnds {
        source: holder.client(),
        source_version: cat.version_num,
        target: &target,
        target_version: server_version(&target).await?,
    };
    let (jobs, units) = super::units::plan(&planning, &cat, &plan, split).await?;
    let sequences = compare_sequences(holder.client(), &target, &plan).await?;
    drop(target);
    let jobs = Arc::new(jobs);
    let done = run_units(ends, holder.id(), &jobs, units, workers).await?;
    holder.close().await?;
    let mut tables = settle(&jobs, done);
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(Verdict { tables, sequences })
}

/// One unit read on both ends.
struct UnitDone {
    job: usize,
    source: Digest,
    /// The target's rows, or why the target could not be read.
    target: Result<Digest, String>,
    started: Instant,
    ended: Instant,
}

type Queue = Arc<Mutex<VecDeque<Unit>>>;

async fn run_units(
    ends: &Endpoints,
    snapshot: &str,
    jobs: &Arc<Vec<Job>>,
    units: Vec<Unit>,
    workers: usize,
) -> anyhow::Result<Vec<UnitDone>> {
    let workers = workers.max(1).min(units.len().max(1));
    let queue: Queue = Arc::new(Mutex::new(VecDeque::from(units)));
    let mut handles = Vec::new();
    for n in 0..workers {
        let (mine, ends, jobs) = (Arc::clone(&queue), ends.clone(), Arc::clone(jobs));
        let snapshot = snapshot.to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Each worker is a thread with its own single-threaded runtime, on
        // which its two connections' tasks run too: COPY messages are
        // received and hashed on one core, without a cross-thread wake-up
        // per batch of messages (about a tenth of pgferry's CPU time, in
        // the kernel, on the shared multi-threaded runtime).
        let body = move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(worker(n, &ends, &snapshot, &jobs, &mine)));
            let _ = tx.send(result);
        };
        let spawned = std::thread::Builder::new()
            .name(format!("pgferry-verify-{n}"))
            .spawn(body);
        if let Err(e) = spawned {
            // The workers already started stop at their next unit.
            if let Ok(mut q) = queue.lock() {
                q.clear();
            }
            anyhow::bail!("starting verify worker {n}: {e}");
        }
        handles.push(rx);
    }
    let mut out = Vec::new();
    let mut first_err = None;
    for h in handles {
        match h.await {
            Ok(Ok(mut r)) => out.append(&mut r),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert(anyhow::anyhow!("a verify worker stopped (panicked)"));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

async fn worker(
    n: usize,
    ends: &Endpoints,
    snapshot: &str,
    jobs: &[Job],
    queue: &Mutex<VecDeque<Unit>>,
) -> anyhow::Result<Vec<UnitDone>> {
    let (s_purpose, t_purpose) = (
        format!("verify {n} (source)"),
        format!("verify {n} (target)"),
    );
    let (src, dst) = tokio::try_join!(
        open_end(&ends.source, &s_purpose, Some(snapshot)),
        open_end(&ends.target, &t_purpose, None),
    )?;
    let mut done = Vec::new();
    let mut reads = 0;
    loop {
        let next = match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(_) => anyhow::bail!("verify queue poisoned by a failed worker"),
        };
        let Some(unit) = next else { break };
        let Some(job) = jobs.get(unit.job) else {
            anyhow::bail!("verify unit of unknown table {}", unit.job)
        };
        super::session::renew_snapshot(&src.client, snapshot, &mut reads).await?;
        match read_unit(&src, &dst, job, unit).await {
            Ok(d) => done.push(d),
            Err(e) => {
                // Stop the other workers at their next unit.
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                return Err(e);
            }
        }
    }
    src.client.batch_execute("COMMIT").await.ok();
    Ok(done)
}

/// The COPY of one unit as this end names the table, its columns and key.
fn unit_sql(end: &End, job: &Job, unit: &Unit) -> String {
    let source_key = job.split.as_ref().map(|s| s.key.as_str());
    let (name, columns, key, part) = if end.is_target {
        let key = job.target_key.as_deref();
        (&job.target_name, &job.target_columns, key, unit.target)
    } else {
        (&job.name, &job.columns, source_key, unit.source)
    };
    let key = key.map(quote_ident);
    copy_sql(name, columns, key.as_deref(), part)
}

/// Streams one unit from both ends at once, hashing whichever has rows.
async fn read_unit(src: &End, dst: &End, job: &Job, unit: Unit) -> anyhow::Result<UnitDone> {
    let started = Instant::now();
    let cut = job.split.as_ref().map(Cut::from);
    let (s_sql, t_sql) = (unit_sql(src, job, &unit), unit_sql(dst, job, &unit));
    let (s, t) = tokio::join!(src.client.copy_out(&s_sql), dst.client.copy_out(&t_sql));
    let s = s.with_context(|| format!("reading {} on the source", job.name))?;
    let (source, target) = match t {
        Ok(t) => {
            let (s, t) = tokio::join!(drain(s, cut), drain(t, cut));
            let t = t.with_context(|| format!("reading {} on the target", job.name))?;
            (s, Ok(t))
        }
        Err(e) => match missing_on_target(&e) {
            Some(m) => (
                drain(s, cut).await,
                Err(format!("missing on the target: {m}")),
            ),
            None => {
                return Err(
                    anyhow::Error::new(e).context(format!("reading {} on the target", job.name))
                )
            }
        },
    };
    let source = source.with_context(|| format!("reading {} on the source", job.name))?;
    tracing::debug!(table = %job.name, source = ?unit.source, target = ?unit.target,
        rows = source.total.rows, secs = started.elapsed().as_secs_f64(), "unit read");
    Ok(UnitDone {
        job: unit.job,
        source,
        target,
        started,
        ended: Instant::now(),
    })
}

/// Hashes every row of one COPY stream.
async fn drain(stream: CopyOutStream, cut: Option<Cut>) -> Result<Digest, tokio_postgres::Error> {
    let mut stream = pin!(stream);
    let mut d = Digest::new(cut);
    while let Some(msg) = stream.try_next().await? {
        d.row(&msg);
    }
    d.finish();
    Ok(d)
}

/// Adds up the units of each table and compares the two ends.
fn settle(jobs: &[Job], done: Vec<UnitDone>) -> Vec<TableChecksum> {
    let mut per_job: Vec<Vec<UnitDone>> = jobs.iter().map(|_| Vec::new()).collect();
    for d in done {
        if let Some(v) = per_job.get_mut(d.job) {
            v.push(d);
        }
    }
    jobs.iter()
        .zip(per_job)
        .map(|(job, units)| compare_table(job, units))
        .collect()
}

fn compare_table(job: &Job, units: Vec<UnitDone>) -> TableChecksum {
    let cut = job.split.as_ref().map(Cut::from);
    let mut out = TableChecksum {
        table: job.name.clone(),
        source_rows: 0,
        target_rows: None,
        source_checksum: String::new(),
        target_checksum: None,
        equal: false,
        split: job.split.clone(),
        units: units.len(),
        differing_ranges: Vec::new(),
        more_differing_ranges: 0,
        note: None,
        seconds: 0.0,
    };
    let started = units.iter().map(|u| u.started).min();
    let ended = units.iter().map(|u| u.ended).max();
    if let Some((s, e)) = started.zip(ended) {
        out.seconds = e.duration_since(s).as_secs_f64();
    }
    let (mut source, mut target) = (Digest::new(cut), Some(Digest::new(cut)));
    for u in units {
        source.merge(u.source);
        match (u.target, &mut target) {
            (Ok(t), Some(acc)) => acc.merge(t),
            (Err(note), _) => {
                out.note.get_or_insert(note);
                target = None;
            }
            (Ok(_), None) => {}
        }
    }
    out.source_rows = source.total.rows;
    out.source_checksum = source.total.fingerprint();
    let Some(target) = target else {
        return out;
    };
    out.target_rows = Some(target.total.rows);
    out.target_checksum = Some(target.total.fingerprint());
    out.equal = target.total == source.total;
    if let Some(split) = &job.split {
        let mut diffs = compare_buckets(split, &source.ranges, &target.ranges);
        if diffs.len() > MAX_LISTED_RANGES {
            out.more_differing_ranges = diffs.len() - MAX_LISTED_RANGES;
            diffs.truncate(MAX_LISTED_RANGES);
        }
        out.differing_ranges = diffs;
        if target.keyless.rows > 0 {
            out.note = Some(format!(
                "{} target rows have a NULL {}",
                target.keyless.rows,
                quote_ident(job.target_key.as_deref().unwrap_or(&split.key))
            ));
        }
    }
    out
}
