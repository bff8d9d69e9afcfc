//! `migrate --follow`: the few places where the migration meets follow
//! mode (`crate::follow`), kept here so that the phases in `mod.rs` only
//! gain a call each: create the publication and slot before the load and
//! read under the slot's snapshot, follow after the load, and on `--resume`
//! of a loaded task go straight back to following.

use super::{plan_only, Options, Report, Task};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::follow::{self, keys, SourceObjects, TableMap};
use crate::pg::{connect, SnapshotHolder};
use crate::plan::Plan;
use crate::state::State;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio_postgres::Client;

/// Creates the source objects and the progress table, and returns a source
/// session reading under the slot's snapshot (which the copy workers
/// import) and the slot's holder, which must live until every copy started.
pub(super) async fn start(
    ends: &Endpoints,
    cat: &Catalog,
    plan: &Plan,
    state: &State,
    target: &Client,
) -> anyhow::Result<(SnapshotHolder, crate::repl::SnapshotHolder)> {
    let setup = connect(&ends.source, "follow setup").await?;
    let (objs, snap) =
        follow::source::create(&ends.source, &setup, plan, cat.version_num, state).await?;
    follow::progress::create(target, &objs.slot, snap.slot().consistent_point).await?;
    crate::fault::delay("follow-slot-created").await;
    let reader = connect(&ends.source, "snapshot holder").await?;
    let holder = SnapshotHolder::adopt(reader, snap.snapshot_name()).await?;
    Ok((holder, snap))
}

/// Follows after the full load until `pgferry cutover` takes over.
pub(super) async fn after_load(
    ends: &Endpoints,
    cat: &Catalog,
    plan: &Plan,
    task: &Task,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let objs = SourceObjects::recorded(&task.state)?
        .context("the task state lost the follow slot's name")?;
    let map = TableMap::new(cat, plan, &follow::recorded_columns(&task.state)?);
    let request = follow::request_file(task.state.dir());
    std::fs::remove_file(&request).ok();
    eprintln!(
        "pgferry: full load done; following the source's changes (slot {}). To cut over: stop \
         the writes, then run `pgferry cutover` with the same connections and --state-dir {}",
        objs.slot,
        task.state.dir().display()
    );
    let out = follow::follow(follow::Run {
        source: &ends.source,
        target: &ends.target,
        map: &map,
        objs: &objs,
        stop,
        request_file: Some(request),
        until: None,
        state: Some(task.state.clone()),
    })
    .await?;
    eprintln!(
        "pgferry: applied up to {} ({} transactions); cut-over continues in `pgferry cutover`",
        out.applied, out.transactions
    );
    Ok(())
}

/// `--resume` of a follow task: after the load, back to following (returns
/// the report); during the load, refused (the snapshot is gone, so the
/// copy cannot be finished exactly); otherwise `None` (a normal resume).
pub(super) async fn resume(
    ends: &Endpoints,
    opts: &Options,
    task: &Task,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Option<Report>> {
    if !task.resuming {
        return Ok(None);
    }
    if task.state.get(keys::LOADED)?.is_none() {
        if task.state.get(keys::SLOT)?.is_some() {
            return Err(crate::error::usage(
                "the full load of this --follow task was interrupted: the slot's snapshot is \
                 gone, so the rest of the copy cannot be read as of the same moment. Run \
                 `pgferry cleanup` (same options), empty the target, then \
                 `pgferry migrate --follow --restart`",
            ));
        }
        return Ok(None);
    }
    let (cat, plan) = plan_only(
        ends,
        &opts.selection,
        opts.keep_owners,
        opts.map_removed_types,
    )
    .await?;
    after_load(ends, &cat, &plan, task, stop).await?;
    Ok(Some(Report {
        source_version: cat.version_num,
        target_version: 0,
        pre_data_statements: 0,
        post_data_statements: 0,
        tables: Vec::new(),
        sequences_set: 0,
        skipped: Vec::new(),
        excluded: Vec::new(),
        no_data: Vec::new(),
        renamed: Vec::new(),
        resumed: true,
        source_writes_during_copy: 0,
        phases: Default::default(),
        counts: plan.counts.clone(),
        large_objects: 0,
        rewritten: Vec::new(),
        schema_differences: Vec::new(),
    }))
}

/// The state directory `migrate --follow` used for these connections (for
/// `cutover` and `cleanup`, which name the same task).
pub fn follow_state_dir(
    ends: &Endpoints,
    explicit: Option<&Path>,
    selection: &crate::plan::Selection,
    keep_owners: bool,
) -> PathBuf {
    let opts = Options {
        jobs: 1,
        split_streams: 0,
        index_jobs: 1,
        schema_only: false,
        data_only: false,
        progress: crate::copy::progress::Display::Off,
        split_threshold: None,
        analyze: false,
        task: None,
        ignore_checks: Vec::new(),
        json: false,
        keep_owners,
        selection: selection.clone(),
        follow: true,
        retry: Default::default(),
        map_removed_types: false,
        create_roles: false,
    };
    super::state_dir(explicit, &super::identity(ends, &opts).line)
}

/// Sets every sequence on the target from the source's live values (cut-over).
pub async fn cutover_sequences(
    source: &Client,
    target: &Client,
    plan: &Plan,
) -> anyhow::Result<usize> {
    super::sequences::copy_values(source, target, plan).await?;
    Ok(plan.sequences.len())
}
