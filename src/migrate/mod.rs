//! The whole job, in the seed's order: read the source under one snapshot,
//! create pre-data objects, copy rows, then post-data objects and sequence
//! values; recorded in the task state as it goes, so it can be resumed.

mod data;
mod finish;
mod follow;
mod identity;
mod pre_data;
mod renames;
mod resume;
mod sequences;
mod sessions;
mod start;
mod task;

pub use follow::{cutover_sequences, follow_state_dir};
pub use identity::identity;
pub use sessions::{sessions, SessionOptions};
pub use task::{install_interrupt, state_dir, StartMode, Task};

use finish::structure_differences;
pub(crate) use pre_data::ensure_empty;
use pre_data::pre_data;
use start::{read_catalog, resume_room, session_options, source_row_changes, target_roles};

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::progress::Display;
use crate::copy::TableResult;
use crate::exec::StepRunner;
use crate::pg::transient::{with_retries, RetryPolicy};
use crate::pg::{connect_at_start, SnapshotHolder, TablesLocked};
use crate::plan::{self, Counts, Phase, Plan, Skipped, Step};
use crate::step::StepKind;
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// What the user asked `migrate` to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Copy streams; 0: decided by the round trip to the source
    /// (`copy::link`).
    pub jobs: usize,
    pub index_jobs: usize,
    pub schema_only: bool,
    pub data_only: bool,
    /// How to show data-phase progress.
    pub progress: Display,
    /// Which tables are copied in ranges; `None` lets pgferry decide.
    pub split_threshold: Option<i64>,
    /// Run ANALYZE on every loaded table at the end.
    pub analyze: bool,
    /// Task state: `None` runs without any (the demo, library callers).
    pub task: Option<TaskOptions>,
    /// Precheck codes whose failures must not stop the migration (`--ignore-check`).
    pub ignore_checks: Vec<String>,
    /// Print precheck failures as the JSON document rather than a table.
    pub json: bool,
    /// `--keep-owners`: give objects the source's owners and ACLs where the
    /// roles exist on the target (default: the target login owns everything
    /// and no GRANT is copied, as managed targets need).
    pub keep_owners: bool,
    /// What to migrate and under which names (`[select]`, `[rename]`, flags).
    pub selection: plan::Selection,
    /// How long work that fails transiently (a lost connection, a server
    /// restarting) is retried before the run stops (`--retry-for`).
    pub retry: RetryPolicy,
    /// `--map-removed-types`: columns of types removed in 12 (`abstime`...)
    /// are created as their nearest successor (see `plan::compat`).
    pub map_removed_types: bool,
    /// `--create-roles`: create the roles the migrated objects name that the
    /// target lacks (see `ddl::roles`).
    pub create_roles: bool,
    /// `--follow`: after the full load, apply the source's changes until
    /// `pgferry cutover` (see `crate::follow`).
    pub follow: bool,
}

/// Where the task state lives and how to treat it.
#[derive(Debug, Clone)]
pub struct TaskOptions {
    /// `--state-dir`, or `None` for the per-task default.
    pub state_dir: Option<PathBuf>,
    pub mode: StartMode,
}

/// Seconds spent in each phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PhaseTimes {
    pub catalog: f64,
    pub pre_data: f64,
    pub data: f64,
    pub post_data: f64,
    pub sequences: f64,
    pub analyze: f64,
    pub total: f64,
}

/// The outcome of a migration, printed and saved as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source_version: i32,
    pub target_version: i32,
    /// What the plan moves, counted as every command counts it (README,
    /// "What is counted").
    pub counts: Counts,
    pub pre_data_statements: usize,
    pub post_data_statements: usize,
    pub tables: Vec<TableResult>,
    pub sequences_set: usize,
    /// Large objects copied (contents, OIDs, and owners with `--keep-owners`).
    pub large_objects: usize,
    /// Objects that could not be migrated, and why.
    pub skipped: Vec<Skipped>,
    /// Objects left out by selection because of what they depend on (a
    /// left-out table or column), and why.
    pub excluded: Vec<Skipped>,
    /// Tables created without their rows (`exclude_data`).
    pub no_data: Vec<String>,
    /// Objects changed by a version rule so that the target accepts them.
    pub rewritten: Vec<plan::Rewritten>,
    /// Renames done on the target, as `kind source -> final`.
    pub renamed: Vec<String>,
    /// True when this run continued an interrupted one.
    pub resumed: bool,
    /// Rows inserted, updated or deleted on the source (by anyone) while the
    /// data was copied, from `pg_stat_database`: changes the target does not
    /// have. Should be 0: writes must stop during a full migration.
    pub source_writes_during_copy: i64,
    /// `verify --schema` after the migration: differences of structure not
    /// explained by the skipped list (renamed objects show up here too).
    pub schema_differences: Vec<crate::verify::SchemaDifference>,
    pub phases: PhaseTimes,
}

/// Settings for every target session that runs DDL: function bodies are not
/// checked at creation (they may mention objects created later, as pg_dump's
/// restore allows), and index builds get room to sort.
pub const TARGET_DDL_SETUP: &str =
    "SET check_function_bodies = false; SET maintenance_work_mem = '256MB'; \
     SET synchronous_commit = off";

/// How long the snapshot session waits for its ACCESS SHARE lock on a source
/// table that another session holds (ALTER TABLE, TRUNCATE, VACUUM FULL...).
pub const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads the source model and builds the plan under a fresh snapshot (for
/// `--dry-run` and tests).
/// With `keep_owners`, owner and grant steps are listed as if every role
/// existed on the target (the dry run does not ask it).
pub async fn plan_only(
    ends: &Endpoints,
    sel: &plan::Selection,
    keep_owners: bool,
    map_removed_types: bool,
) -> anyhow::Result<(Catalog, Plan)> {
    let src = connect_at_start(&ends.source, "catalog").await?;
    let holder = SnapshotHolder::open(src).await?;
    let mut cat = read_catalog(&holder).await?;
    holder.close().await?;
    let opts = plan::BuildOptions {
        keep_owners,
        target_roles: None,
        create_roles: false,
        label_providers: None,
        target: plan::compat::Target {
            version: None,
            map_removed_types,
        },
        target_default_tablespace: None,
        tablespaces_as_read: false,
    };
    let plan = plan::prepare_with(&mut cat, sel, &opts)?;
    Ok((cat, plan))
}

/// What a run ended with.
#[derive(Debug)]
pub enum Outcome {
    /// The migration ran (or a resumed one finished).
    Migrated(Box<Report>),
    /// `--resume` of a task that already ran to its end: nothing was done.
    AlreadyComplete { state_dir: PathBuf },
}

/// Runs the migration.
pub async fn migrate(ends: &Endpoints, opts: &Options) -> anyhow::Result<Outcome> {
    let task = match &opts.task {
        Some(t) => {
            let identity = identity(ends, opts);
            let dir = state_dir(t.state_dir.as_deref(), &identity.line);
            let task = task::open(&dir, &identity, t.mode)?;
            if task.complete {
                return Ok(Outcome::AlreadyComplete { state_dir: dir });
            }
            Some(task)
        }
        None => None,
    };
    // The run's joined futures are large: on the heap, not in every caller's.
    Box::pin(run(ends, opts, task))
        .await
        .map(|r| Outcome::Migrated(Box::new(r)))
}

async fn run(ends: &Endpoints, opts: &Options, task: Option<Task>) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut times = PhaseTimes::default();
    let state = task.as_ref().map(|t| &t.state);
    let resuming = task.as_ref().is_some_and(|t| t.resuming);
    let stop = if task.is_some() {
        install_interrupt()
    } else {
        Arc::new(AtomicBool::new(false))
    };
    if let Some(t) = task.as_ref().filter(|_| opts.follow) {
        if let Some(report) = follow::resume(ends, opts, t, Arc::clone(&stop)).await? {
            return Ok(report);
        }
    }
    let src = connect_at_start(&ends.source, "snapshot holder").await?;
    let target = connect_at_start(&ends.target, "ddl").await?;
    target
        .batch_execute(TARGET_DDL_SETUP)
        .await
        .context("setting up the target DDL session")?;
    let target_version = crate::catalog::server_version_num(&target).await?;
    let mut holder = SnapshotHolder::open(src).await?;
    if resuming {
        tracing::warn!(
            "resuming: the interrupted run's snapshot is gone, so rows still to copy are read \
             as of now, not as of the first run. If the source was written in between, the \
             copy mixes two moments: writes must stay stopped during a full migration. \
             Run `pgferry verify` afterwards."
        );
    }
    let t = Instant::now();
    // A fresh task that stops before writing anything leaves no task to
    // resume behind.
    let forget = |e: anyhow::Error| -> anyhow::Error {
        if let (Some(t), false) = (&task, resuming) {
            if let Err(c) = t.state.clear() {
                return c;
            }
        }
        match e.downcast::<TablesLocked>() {
            Ok(locked) => anyhow::Error::new(crate::error::ProblemFound {
                message: locked.to_string(),
                document_printed: false,
            }),
            Err(e) => e,
        }
    };
    // Together, pipelined on the one session: a far source answers both in
    // the round trips of one. Precheck's sessions open meanwhile (their
    // handshakes are round trips too).
    let precheck_sessions = async {
        match resuming {
            true => None,
            false => Some(crate::precheck::connect_both(ends).await),
        }
    };
    let (writes_before, cat, precheck_sessions) = tokio::join!(
        source_row_changes(holder.client()),
        read_catalog(&holder),
        precheck_sessions
    );
    let mut cat = cat.map_err(forget)?;
    let build = plan::BuildOptions {
        keep_owners: opts.keep_owners,
        // Also decides which user mappings can be created (their role exists).
        target_roles: Some(target_roles(&target).await?),
        create_roles: opts.create_roles,
        // Labels of a provider the target lacks are left out (precheck
        // target.seclabel_provider says so).
        label_providers: Some(
            crate::catalog::seclabels::loaded_for(&target, &cat.security_labels).await?,
        ),
        target: plan::compat::Target {
            version: Some(target_version),
            map_removed_types: opts.map_removed_types,
        },
        target_default_tablespace: Some(
            crate::catalog::tablespaces::database_default(&target).await?,
        ),
        tablespaces_as_read: false,
    };
    let read_secs = t.elapsed().as_secs_f64();
    let mut plan = plan::prepare_with(&mut cat, &opts.selection, &build)?;
    // Now that the tables to copy are known: no DDL or TRUNCATE may change
    // them on the source until the snapshot is closed.
    if !opts.schema_only {
        let tables: Vec<String> = cat
            .tables
            .iter()
            .map(|t| crate::pg::qualified(&t.schema, &t.name))
            .collect();
        holder
            .lock_tables(&tables, LOCK_TIMEOUT)
            .await
            .map_err(forget)?;
    }
    tracing::debug!(
        read = read_secs,
        plan = t.elapsed().as_secs_f64() - read_secs,
        "catalog read and plan built"
    );
    if opts.data_only {
        // The structure (an earlier --schema-only run) has its final names.
        for c in plan.copies.iter_mut() {
            let (s, t) = plan.names.table(&c.source_schema, &c.source_name);
            c.target_columns = c
                .source_columns
                .iter()
                .map(|x| plan.names.column(&c.source_schema, &c.source_name, x))
                .collect();
            (c.target_schema, c.target_name) = (s, t);
        }
    }
    times.catalog = t.elapsed().as_secs_f64();
    tracing::info!(
        skipped = plan.skipped.len(),
        "read the source catalog: {}",
        plan.counts.describe()
    );
    if let Some(t) = &task {
        // For `status`: what is left is counted against these.
        t.state.set(
            "counts",
            &serde_json::to_string(&plan.counts).unwrap_or_default(),
        )?;
    }
    for s in &plan.skipped {
        tracing::warn!("not migrated: {} {}: {}", s.kind, s.object, s.reason);
    }
    for r in &plan.rewritten {
        tracing::warn!(
            "rewritten ({}): {} {}: {}",
            r.code,
            r.kind,
            r.object,
            r.change
        );
    }
    for s in &plan.excluded {
        tracing::warn!(
            "left out by selection: {} {}: {}",
            s.kind,
            s.object,
            s.reason
        );
    }
    // Precheck before the first write: a failure ends here, target untouched.
    // A resumed task already wrote its objects, which precheck would call conflicts.
    let mut rejected = None;
    if resuming {
        if let Some(json) = state.map(|st| st.get("rejected")).transpose()?.flatten() {
            let rejected: Vec<plan::Rejection> =
                serde_json::from_str(&json).context("reading the task's rejected objects")?;
            plan::drop_rejected(&mut plan, &cat, &rejected);
        }
    } else {
        let checks = crate::precheck::Options {
            data_only: opts.data_only,
            ignore: opts.ignore_checks.clone(),
            keep_owners: opts.keep_owners,
            skip_write_sample: true,
            fix_dir: opts.task.as_ref().map(|t| {
                state_dir(t.state_dir.as_deref(), &identity(ends, opts).line).join("fixes")
            }),
            // Open now: the snapshot holder and the DDL session, and the
            // precheck's own session on each end.
            sessions: Some(sessions(&plan, session_options(opts), (2, 2))),
            follow: opts.follow,
        };
        // A failure leaves the task state as it was: nothing recorded for a
        // new task, the previous task's record under --restart.
        let sessions = precheck_sessions.transpose()?;
        let report = crate::precheck::gate(ends, &cat, &plan, &checks, opts.json, sessions).await?;
        // `--ignore-check target.ddl`: what the target refuses is left out
        // with its dependents, each listed in the report.
        plan::drop_rejected(&mut plan, &cat, &report.rejected);
        for r in &report.rejected {
            tracing::warn!(
                "not migrated (the target rejects it): {} {}: {}",
                r.kind,
                r.object,
                r.error
            );
        }
        rejected = Some(report.rejected);
    }
    if let Some(t) = &task {
        t.begin()?;
        if let Some(r) = &rejected {
            // A resumed run skips the precheck: it reads them here.
            t.state.set("rejected", &serde_json::to_string(r)?)?;
        }
    }
    if resuming {
        // The one check a resume runs: room for its sessions (--jobs may
        // have grown). Open now: the snapshot holder and the DDL session.
        resume_room(
            &holder,
            &target,
            &plan,
            opts,
            cat.version_num,
            target_version,
        )
        .await?;
    }

    // Follow mode: publication and slot now; the load reads under the slot's snapshot.
    let mut slot_holder = None;
    if let Some(t) = task.as_ref().filter(|_| opts.follow) {
        let (h, snap) = follow::start(ends, &cat, &plan, &t.state, &target).await?;
        holder.close().await?;
        holder = h;
        slot_holder = Some(snap);
    }

    if !opts.data_only {
        let t = Instant::now();
        pre_data(&target, &plan, state).await?;
        times.pre_data = t.elapsed().as_secs_f64();
    }

    let mut tables = Vec::new();
    let mut source_writes = 0;
    let mut done_early = data::EarlyKeys::default();
    let mut large_objects = 0;
    if !opts.schema_only {
        let t = Instant::now();
        (tables, done_early) = data::run(
            ends,
            opts,
            &cat,
            &plan,
            &holder,
            &target,
            task.as_ref(),
            Arc::clone(&stop),
        )
        .await?;
        large_objects = data::large_objects(&holder, &target, state, opts.keep_owners).await?;
        times.data = t.elapsed().as_secs_f64();
        drop(slot_holder.take()); // every copy has imported the snapshot
        source_writes = match (writes_before, source_row_changes(holder.client()).await) {
            (Some(a), Some(b)) => (b - a).max(0),
            _ => 0,
        };
        if source_writes > 0 && !opts.follow {
            tracing::warn!(
                "{source_writes} row(s) changed on the source while the data was copied; \
                 they are not on the target (writes must stop during a full migration: \
                 pgferry has no incremental migration yet)"
            );
        }
    }
    // Every row is copied: the snapshot and its table locks are released, so
    // DDL on the source waits no longer than the copy (a snapshot lost by
    // now costs nothing).
    if let Err(e) = holder.close().await {
        tracing::debug!("closing the snapshot: {e:#}");
    }

    let runner = StepRunner {
        target: &ends.target,
        jobs: opts.index_jobs,
        session_setup: TARGET_DDL_SETUP,
        state,
        stop: Arc::clone(&stop),
        resuming,
        skip: done_early.done,
        maybe_done: done_early.unconfirmed,
        retry: opts.retry,
    };
    if !opts.data_only {
        let t = Instant::now();
        runner.run(&plan.post_data).await.context("post-data")?;
        renames::prepare(&target, &plan, state)
            .await
            .context("checking the target for renames already made")?;
        runner.run(&plan.renames).await.context("renames")?;
        times.post_data = t.elapsed().as_secs_f64();
    }

    let t = Instant::now();
    let sequences_set = if opts.schema_only {
        0
    } else {
        with_retries(opts.retry, "setting sequence values", || {
            sequences::set(ends, &plan)
        })
        .await?
    };
    times.sequences = t.elapsed().as_secs_f64();
    if opts.analyze && !opts.schema_only {
        let t = Instant::now();
        runner.run(&analyze_steps(&plan)).await.context("analyze")?;
        times.analyze = t.elapsed().as_secs_f64();
    }
    let schema_differences = structure_differences(ends, opts, &plan).await;
    times.total = started.elapsed().as_secs_f64();
    let report = Report {
        source_version: cat.version_num,
        target_version,
        counts: plan.counts.clone(),
        pre_data_statements: plan.counts.pre_data_statements,
        post_data_statements: plan.counts.post_data_statements,
        tables,
        sequences_set,
        large_objects,
        skipped: plan.skipped.clone(),
        excluded: plan.excluded.clone(),
        no_data: plan.no_data.clone(),
        rewritten: plan.rewritten.clone(),
        renamed: plan
            .names
            .listing()
            .into_iter()
            .map(|(k, a, b)| format!("{k} {a} -> {b}"))
            .collect(),
        resumed: resuming,
        source_writes_during_copy: source_writes,
        schema_differences,
        phases: times,
    };
    if let Some(t) = &task {
        // Sequence values and post-data statements were each made durable
        // by a barrier on their own sessions before this.
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        let path = t.state.dir().join("report.json");
        std::fs::write(&path, json)
            .with_context(|| format!("writing the report {}", path.display()))?;
        if opts.follow {
            t.state.set(crate::follow::keys::LOADED, "yes")?;
            follow::after_load(ends, &cat, &plan, t, Arc::clone(&stop)).await?;
        } else {
            t.state.mark_finished()?;
        }
    }
    Ok(report)
}

/// `ANALYZE` of every loaded table, in parallel, under its final name.
pub(crate) fn analyze_steps(plan: &Plan) -> Vec<Step> {
    plan.copies
        .iter()
        .map(|c| {
            let (s, t) = plan.names.table(&c.target_schema, &c.target_name);
            let name = crate::pg::qualified(&s, &t);
            Step::new(
                Phase::PostData,
                StepKind::Analyze,
                name.clone(),
                format!("ANALYZE {name};"),
            )
            .concurrent()
        })
        .collect()
}
