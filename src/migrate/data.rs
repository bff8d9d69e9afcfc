//! The data phase of a migration: which units to copy (all of them, or on
//! resume the unfinished ones, cleared first: see `resume`), then the
//! parallel copy.

use super::{Options, Task};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::link::{fewest_bytes, Link};
use crate::copy::progress::{self, Counters};
use crate::copy::{
    merge_ranges, number_units, range_json, run_copies, split_big_tables, CopyJob, EarlySteps,
    LoadMode, SplitPolicy, TableResult, Unit,
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

/// Copies the rows, building indexes of loaded tables on otherwise idle
/// workers. Returns per-table results (including units a resumed task had
/// already finished) and the post-data steps done early.
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
) -> anyhow::Result<(Vec<TableResult>, EarlyKeys)> {
    let mode = if opts.data_only {
        LoadMode::Existing
    } else {
        LoadMode::Fresh
    };
    let resumed = match task {
        Some(t) if t.resuming => super::resume::resume_units(t, plan, target, mode).await?,
        _ => None,
    };
    // `jobs` 0: as many streams as the link to the source needs.
    let link = Link::probe(holder.client()).await;
    let jobs = match opts.jobs {
        0 => link.default_jobs(std::thread::available_parallelism().map_or(2, |n| n.get())),
        n => n,
    };
    tracing::info!(
        jobs,
        source_rtt_ms = link.rtt.map(|d| (d.as_secs_f64() * 1e4).round() / 10.0),
        "copy streams"
    );
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
                        None => SplitPolicy::Auto { jobs },
                    },
                    cat.version_num,
                )
            );
            let mut copies = copies.map_err(|e| {
                // Ranges are read under the snapshot: its session ended.
                if holder.is_lost() {
                    anyhow::Error::new(SnapshotLost)
                } else {
                    e
                }
            })?;
            for c in copies.iter_mut() {
                if text.contains(&c.source_qualified()) {
                    c.binary = false;
                }
            }
            let mut units: Vec<Unit> = copies.into_iter().map(|c| Unit::new(c, mode)).collect();
            number_units(&mut units);
            if let Some(t) = task {
                let rows: Vec<_> = units
                    .iter()
                    .map(|u| {
                        (
                            u.id.clone(),
                            u.copy.target_qualified(),
                            u.copy.range.as_ref().map(range_json),
                        )
                    })
                    .collect();
                t.state.record_units(&rows)?;
            }
            (units, Vec::new())
        }
    };
    let names: Vec<String> = units.iter().map(|u| u.copy.target_qualified()).collect();
    let counters =
        Arc::new(Counters::new(names.iter().zip(&units).map(|(n, u)| {
            (n.as_str(), u.id.as_str(), u.copy.bytes.max(0) as u64)
        })));
    let ticker = progress::start(opts.progress, Arc::clone(&counters));
    let early = (mode == LoadMode::Fresh).then(|| {
        Arc::new(EarlySteps::new(
            early_steps(plan, cat, opts.analyze),
            units.iter().map(|u| u.copy.target_qualified()),
            task.map(|t| t.state.clone()),
        ))
    });
    let copied = run_copies(
        CopyJob {
            source: &ends.source,
            target: &ends.target,
            snapshot: holder.id(),
            jobs,
            mode,
            counters,
            state: task.map(|t| t.state.clone()),
            stop: Arc::clone(&stop),
            early: early.clone(),
            retry: opts.retry,
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
    Ok((merge_ranges(finished), done_early))
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

/// Copies every large object (see `copy::largeobjects`), then, with
/// `--keep-owners`, gives each to its source owner where that role exists.
/// Recorded in the task state once durable; a resumed run copies them again
/// unless they were recorded.
pub(super) async fn large_objects(
    holder: &SnapshotHolder,
    target: &Client,
    state: Option<&crate::state::State>,
    keep_owners: bool,
) -> anyhow::Result<usize> {
    const KEY: &str = "large-objects";
    let los = crate::copy::largeobjects::list(holder.client()).await?;
    if los.is_empty() {
        return Ok(0);
    }
    if let Some(st) = state {
        if st.step_done(KEY)? {
            return Ok(los.len());
        }
    }
    let bytes = crate::copy::largeobjects::copy_all(holder.client(), target, &los).await?;
    if keep_owners {
        let roles = super::target_roles(target).await?;
        let sql: String = los
            .iter()
            .map(|lo| crate::copy::largeobjects::ownership_sql(lo, &roles))
            .collect();
        target
            .batch_execute(&sql)
            .await
            .context("giving large objects their owners")?;
    }
    crate::exec::barrier(target)
        .await
        .context("flushing the large objects")?;
    if let Some(st) = state {
        st.mark_step(KEY, "large objects", "large objects", "all")?;
    }
    tracing::info!(count = los.len(), bytes, "large objects copied");
    Ok(los.len())
}
