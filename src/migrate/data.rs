//! The data phase of a migration: which units to copy (all of them, or on
//! resume the unfinished ones, cleared first: see `resume`), then the
//! parallel copy. The large objects are units of the same copy, in batches
//! (see `copy::largeobjects`), scheduled largest first among the tables.

use super::{Options, Task};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::largeobjects::{self as lob, LargeObject, LARGE_OBJECTS};
use crate::copy::link::{fewest_bytes, Link};
use crate::copy::progress::{self, Counters};
use crate::copy::{
    merge_ranges, number_units, run_copies, split_big_tables, CopyJob, EarlySteps, LoadMode,
    SplitPolicy, TableResult, Unit,
};
use crate::pg::{SnapshotHolder, SnapshotLost};
use crate::plan::{Parallel, Plan, Step};
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio_postgres::Client;

/// The post-data steps run during the data phase, by key.
#[derive(Default)]
pub struct EarlyKeys {
    /// Done and recorded: post-data skips them.
    pub done: HashSet<String>,
    /// Run but not known durable: post-data runs them again, "already
    /// exists" meaning done.
    pub unconfirmed: HashSet<String>,
}

/// What the data phase did.
pub struct DataDone {
    /// Per-table results, including units a resumed task had finished before.
    pub tables: Vec<TableResult>,
    /// The post-data steps done early.
    pub early: EarlyKeys,
    /// Large objects of the source (all copied, in this run or before).
    pub large_objects: usize,
}

/// Copies the rows and the large objects, building indexes of loaded tables
/// on otherwise idle workers.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    ends: &Endpoints,
    opts: &Options,
    cat: &Catalog,
    plan: &Plan,
    holder: &SnapshotHolder,
    target: &Client,
    task: Option<&Task>,
    stop: Arc<AtomicBool>,
    link: Link,
) -> anyhow::Result<DataDone> {
    let mode = if opts.data_only {
        LoadMode::Existing
    } else {
        LoadMode::Fresh
    };
    // Read under the snapshot: an error may mean its session ended.
    let lost = |e: anyhow::Error| {
        if holder.is_lost() {
            anyhow::Error::new(SnapshotLost)
        } else {
            e
        }
    };
    let los = lob::list(holder.client()).await.map_err(lost)?;
    // With --keep-owners, the roles the owner and privilege statements may name.
    let roles = match opts.keep_owners && !los.is_empty() {
        true => Some(super::target_roles(target).await?),
        false => None,
    };
    let ownership = |lo: &LargeObject| match &roles {
        Some(r) => lob::ownership_sql(lo, r),
        None => String::new(),
    };
    let resumed = match task {
        Some(t) if t.resuming => {
            super::resume::resume_units(t, plan, target, mode, &los, &ownership).await?
        }
        _ => None,
    };
    // Sized from `link` before the precheck (see `start::probe_link`).
    let jobs = opts.jobs.max(1);
    let (units, mut finished) = match resumed {
        Some(r) => r,
        None => {
            if mode == LoadMode::Existing {
                super::ensure_empty(target, plan).await?;
            }
            // Format samples and split points at once, pipelined on the
            // snapshot session.
            let (text, copies) = tokio::join!(
                async {
                    match link.far() {
                        true => fewest_bytes(holder.client(), &plan.copies).await,
                        false => HashSet::new(),
                    }
                },
                split_big_tables(
                    holder.client(),
                    plan.copies.clone(),
                    match opts.split_threshold {
                        Some(t) => SplitPolicy::Larger(t),
                        None => SplitPolicy::Auto {
                            jobs: split_streams(opts),
                        },
                    },
                    cat.version_num,
                )
            );
            let mut copies = copies.map_err(lost)?;
            for c in copies.iter_mut() {
                if text.contains(&c.source_qualified()) {
                    c.binary = false;
                }
            }
            let mut units: Vec<Unit> = copies.into_iter().map(|c| Unit::new(c, mode)).collect();
            units.extend(
                lob::batches(&los, ownership)
                    .into_iter()
                    .map(Unit::large_objects),
            );
            // Largest first, large objects among the tables (stable: tables
            // of equal size keep the plan's order).
            units.sort_by_key(|u| std::cmp::Reverse(u.bytes()));
            number_units(&mut units);
            if let Some(t) = task {
                super::resume::record(t, &units)?;
            }
            (units, Vec::new())
        }
    };
    let names: Vec<String> = units.iter().map(Unit::table).collect();
    let counters = Arc::new(Counters::new(
        names
            .iter()
            .zip(&units)
            .map(|(n, u)| (n.as_str(), u.id.as_str(), u.bytes())),
    ));
    let ticker = progress::start(opts.progress, Arc::clone(&counters));
    let early = (mode == LoadMode::Fresh).then(|| {
        Arc::new(EarlySteps::new(
            early_steps(plan, cat, opts.analyze),
            names.iter().cloned(),
            task.map(|t| t.state.clone()),
        ))
    });
    let copied = run_copies(
        CopyJob {
            mode,
            counters,
            state: task.map(|t| t.state.clone()),
            stop: Arc::clone(&stop),
            early: early.clone(),
            retry: opts.retry,
            ..CopyJob::fresh(ends, holder.id(), jobs)
        },
        units,
    )
    .await;
    ticker.finish().await;
    finished.extend(copied.context("data phase")?);
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!(crate::error::Interrupted);
    }
    let done_early = early
        .map(|e| EarlyKeys {
            done: e.done(),
            unconfirmed: e.not_confirmed(),
        })
        .unwrap_or_default();
    let (lo_results, tables): (Vec<TableResult>, Vec<TableResult>) = merge_ranges(finished)
        .into_iter()
        .partition(|r| r.table == LARGE_OBJECTS);
    if let Some(r) = lo_results.first() {
        tracing::info!(
            count = r.stats.rows,
            bytes = r.stats.bytes,
            batches = r.ranges,
            seconds = r.stats.seconds,
            "large objects copied"
        );
    }
    Ok(DataDone {
        tables,
        early: done_early,
        large_objects: los.len(),
    })
}

/// The index builds of each copied table (by target name) that may run as
/// soon as the table is loaded: concurrent post-data builds of plain indexes
/// and of the unique indexes behind keys, on tables that receive rows, and
/// ANALYZE.
fn early_steps(plan: &Plan, cat: &Catalog, analyze: bool) -> HashMap<String, Vec<Step>> {
    let copied: HashSet<String> = plan.copies.iter().map(|c| c.target_qualified()).collect();
    let mut out: HashMap<String, Vec<Step>> = HashMap::new();

    for (s, oid) in plan
        .post_data
        .iter()
        .filter(|s| s.parallel == Parallel::Concurrent && s.kind.is_index_build())
        .filter_map(|s| Some((s, s.oid?)))
    {
        let table_oid = cat
            .index(oid)
            .map(|i| i.table_oid)
            .or_else(|| cat.constraint(oid).map(|c| c.table_oid));
        let Some(t) = table_oid.and_then(|o| cat.table(o)) else {
            continue;
        };
        let name = crate::pg::qualified(&t.schema, &t.name);
        if copied.contains(&name) {
            out.entry(name).or_default().push(s.clone());
        }
    }
    // ANALYZE after the table's indexes (it would wait for their lock anyway,
    // and then also samples expression indexes). Not for a table renamed at
    // the end: its final name does not exist yet.
    for step in super::analyze_steps(plan).into_iter().filter(|_| analyze) {
        if copied.contains(&step.object) {
            out.entry(step.object.clone()).or_default().push(step);
        }
    }
    out
}

/// Streams a big table may be split across: as sized with `--jobs`
/// (`start::probe_link`), else `--jobs`.
pub(super) fn split_streams(opts: &Options) -> usize {
    match opts.split_streams {
        0 => opts.jobs.max(1),
        n => n.min(opts.jobs.max(1)),
    }
}
