//! The whole job, in the seed's order: read the source under one snapshot,
//! create pre-data objects, copy rows, then post-data objects and sequence
//! values; recorded in the task state as it goes, so it can be resumed.

mod data;

mod task;

pub use task::{install_interrupt, state_dir, StartMode, Task};

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::progress::Display;
use crate::copy::TableResult;
use crate::exec::{run_step, StepRunner};
use crate::pg::connect;
use crate::pg::SnapshotHolder;
use crate::plan::{self, Phase, Plan, Skipped, Step};
use crate::step::StepKind;
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::Client;

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
    pub pre_data_statements: usize,
    pub post_data_statements: usize,
    pub tables: Vec<TableResult>,
    pub sequences_set: usize,
    /// Objects that could not be migrated, and why.
    pub skipped: Vec<Skipped>,
    /// Objects left out by selection because of what they depend on (a
    /// left-out table or column), and why.
    pub excluded: Vec<Skipped>,
    /// Tables created without their rows (`exclude_data`).
    pub no_data: Vec<String>,
    /// Renames done on the target, as `kind source -> final`.
    pub renamed: Vec<String>,
    /// True when this run continued an interrupted one.
    pub resumed: bool,
    /// Rows inserted, updated or deleted on the source (by anyone) while the
    /// data was copied, from `pg_stat_database`: changes the target does not
    /// have. Should be 0: writes must stop during a full migration.
    pub source_writes_during_copy: i64,
    pub phases: PhaseTimes,
}

/// Settings for every target session that runs DDL: function bodies are not
/// checked at creation (they may mention objects created later, as pg_dump's
/// restore allows), and index builds get room to sort.
pub const TARGET_DDL_SETUP: &str =
    "SET check_function_bodies = false; SET maintenance_work_mem = '256MB'; \
     SET synchronous_commit = off";

/// Reads the source model and builds the plan under a fresh snapshot (for
/// `--dry-run` and tests).
/// With `keep_owners`, owner and grant steps are listed as if every role
/// existed on the target (the dry run does not ask it).
pub async fn plan_only(
    ends: &Endpoints,
    sel: &plan::Selection,
    keep_owners: bool,
) -> anyhow::Result<(Catalog, Plan)> {
    let src = connect(&ends.source, "catalog").await?;
    let holder = SnapshotHolder::open(src).await?;
    let mut cat = Catalog::read(holder.client()).await?;
    holder.close().await?;
    let opts = plan::BuildOptions {
        keep_owners,
        target_roles: None,
    };
    let plan = plan::prepare_with(&mut cat, sel, &opts)?;
    Ok((cat, plan))
}

/// Names the task: source, target and what is migrated, never a password.
pub fn task_identity(ends: &Endpoints, opts: &Options) -> String {
    format!(
        "{} -> {}{}{}{}",
        ends.source.redacted(),
        ends.target.redacted(),
        if opts.schema_only {
            " (schema only)"
        } else {
            ""
        },
        if opts.data_only { " (data only)" } else { "" },
        if opts.keep_owners {
            " (keep owners)"
        } else {
            ""
        }
    )
}

/// Runs the migration.
pub async fn migrate(ends: &Endpoints, opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut times = PhaseTimes::default();
    let mut fix_dir = None;
    let task = match &opts.task {
        Some(t) => {
            let identity = task_identity(ends, opts);
            let dir = state_dir(t.state_dir.as_deref(), &identity);
            fix_dir = Some(dir.join("fixes"));
            Some(task::open(&dir, &identity, t.mode)?)
        }
        None => None,
    };
    let state = task.as_ref().map(|t| &t.state);
    let resuming = task.as_ref().is_some_and(|t| t.resuming);
    let stop = if task.is_some() {
        install_interrupt()
    } else {
        Arc::new(AtomicBool::new(false))
    };
    let src = connect(&ends.source, "snapshot holder").await?;
    let target = connect(&ends.target, "ddl").await?;
    target
        .batch_execute(TARGET_DDL_SETUP)
        .await
        .context("setting up the target DDL session")?;
    let target_version = crate::catalog::server_version_num(&target).await?;
    let holder = SnapshotHolder::open(src).await?;
    if resuming {
        tracing::warn!(
            "resuming: the interrupted run's snapshot is gone, so rows still to copy are read \
             as of now, not as of the first run. If the source was written in between, the \
             copy mixes two moments: writes must stay stopped during a full migration. \
             Run `pgferry verify` afterwards."
        );
    }
    let t = Instant::now();
    // Together, pipelined on the one session: a far source answers both in
    // the round trips of one.
    // Precheck's sessions open meanwhile (its handshakes are round trips too).
    let precheck_sessions = async {
        match resuming {
            true => None,
            false => Some(crate::precheck::connect_both(ends).await),
        }
    };
    let (writes_before, cat, precheck_sessions) = tokio::join!(
        source_row_changes(holder.client()),
        Catalog::read(holder.client()),
        precheck_sessions
    );
    let mut cat = cat.context("reading the source catalog")?;
    let build = plan::BuildOptions {
        keep_owners: opts.keep_owners,
        target_roles: if opts.keep_owners {
            Some(target_roles(&target).await?)
        } else {
            None
        },
    };
    let read_secs = t.elapsed().as_secs_f64();
    let mut plan = plan::prepare_with(&mut cat, &opts.selection, &build)?;
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
        tables = cat.tables.len(),
        sequences = cat.sequences.len(),
        skipped = plan.skipped.len(),
        "read the source catalog"
    );
    for s in &plan.skipped {
        tracing::warn!("not migrated: {} {}: {}", s.kind, s.object, s.reason);
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
    if !resuming {
        let checks = crate::precheck::Options {
            data_only: opts.data_only,
            ignore: opts.ignore_checks.clone(),
            keep_owners: opts.keep_owners,
            skip_write_sample: true,
            fix_dir,
        };
        let gate = match precheck_sessions.transpose() {
            Ok(sessions) => {
                crate::precheck::gate(ends, &cat, &plan, &checks, opts.json, sessions).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = gate {
            // Nothing was done: do not leave a task to resume behind.
            if let Some(t) = &task {
                t.state.clear()?;
            }
            return Err(e);
        }
    }

    if !opts.data_only {
        let t = Instant::now();
        pre_data(&target, &plan, state).await?;
        times.pre_data = t.elapsed().as_secs_f64();
    }

    let mut tables = Vec::new();
    let mut source_writes = 0;
    let mut done_early = data::EarlyKeys::default();
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
        times.data = t.elapsed().as_secs_f64();
        source_writes = match (writes_before, source_row_changes(holder.client()).await) {
            (Some(a), Some(b)) => (b - a).max(0),
            _ => 0,
        };
        if source_writes > 0 {
            tracing::warn!(
                "{source_writes} row(s) changed on the source while the data was copied; \
                 they are not on the target (writes must stop during a full migration: \
                 pgferry has no incremental migration yet)"
            );
        }
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
    };
    if !opts.data_only {
        let t = Instant::now();
        runner.run(&plan.post_data).await.context("post-data")?;
        runner.run(&plan.renames).await.context("renames")?;
        times.post_data = t.elapsed().as_secs_f64();
    }

    let t = Instant::now();
    let sequences_set = if opts.schema_only {
        0
    } else {
        set_sequences(holder.client(), &target, &plan).await?
    };
    times.sequences = t.elapsed().as_secs_f64();
    holder.close().await?;
    if opts.analyze && !opts.schema_only {
        let t = Instant::now();
        runner.run(&analyze_steps(&plan)).await.context("analyze")?;
        times.analyze = t.elapsed().as_secs_f64();
    }
    times.total = started.elapsed().as_secs_f64();
    let report = Report {
        source_version: cat.version_num,
        target_version,
        pre_data_statements: plan.pre_data.len(),
        post_data_statements: plan.post_data.len(),
        tables,
        sequences_set,
        skipped: plan.skipped.clone(),
        excluded: plan.excluded.clone(),
        no_data: plan.no_data.clone(),
        renamed: plan
            .names
            .listing()
            .into_iter()
            .map(|(k, a, b)| format!("{k} {a} -> {b}"))
            .collect(),
        resumed: resuming,
        source_writes_during_copy: source_writes,
        phases: times,
    };
    if let Some(t) = &task {
        // Sequence values and the last statements on disk before the task
        // is recorded finished.
        crate::exec::barrier(&target)
            .await
            .context("flushing the target before recording the task finished")?;
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        let path = t.state.dir().join("report.json");
        std::fs::write(&path, json)
            .with_context(|| format!("writing the report {}", path.display()))?;
        t.state.mark_finished()?;
    }
    Ok(report)
}

/// Pre-data statements sent in one round trip.
const PRE_DATA_BATCH: usize = 200;

/// Pre-data in one target transaction, so a failure leaves the target as it
/// was. Recorded as one step: on resume it is skipped when done. A run killed
/// between the commit and the record finds the objects there: the first table
/// of the plan existing means the transaction committed.
async fn pre_data(
    target: &Client,
    plan: &Plan,
    state: Option<&crate::state::State>,
) -> anyhow::Result<()> {
    const KEY: &str = "pre-data";
    if let Some(st) = state {
        if st.step_done(KEY)? {
            return Ok(());
        }
        if let Some(first) = plan.copies.first() {
            let row = target
                .query_one(
                    "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
                    &[&first.target_qualified()],
                )
                .await
                .context("checking the target for earlier pre-data")?;
            if row.get::<_, bool>(0) && !st.is_empty()? && st.get("pre_data_started")?.is_some() {
                st.mark_step(KEY, "pre-data", "pre-data", "all")?;
                return Ok(());
            }
        }
        st.set("pre_data_started", "yes")?;
    }
    // Statements go in batches (one round trip for many: thousands of tables
    // make thousands of statements). When a batch fails, the transaction is
    // rolled back and run again statement by statement, to name the one that
    // fails.
    target.batch_execute("BEGIN").await?;
    let mut failed = false;
    for batch in plan.pre_data.chunks(PRE_DATA_BATCH) {
        let sql: String = batch.iter().map(|s| format!("{}\n", s.sql)).collect();
        if target.batch_execute(&sql).await.is_err() {
            failed = true;
            break;
        }
    }
    if failed {
        target.batch_execute("ROLLBACK; BEGIN").await?;
        for step in &plan.pre_data {
            if let Err(e) = run_step(target, step).await {
                target.batch_execute("ROLLBACK").await.ok();
                return Err(e.context("pre-data failed; nothing was left on the target"));
            }
        }
    }
    // Flushed: the state records pre-data as done next (see copy::durable).
    target
        .batch_execute("SET LOCAL synchronous_commit = on; COMMIT")
        .await
        .context("committing pre-data")?;
    if let Some(st) = state {
        st.mark_step(KEY, "pre-data", "pre-data", "all")?;
    }
    tracing::info!(statements = plan.pre_data.len(), "pre-data created");
    Ok(())
}

/// Every role of the target, so `--keep-owners` can leave out (and report)
/// statements naming roles it lacks instead of failing on them.
async fn target_roles(target: &Client) -> anyhow::Result<std::collections::HashSet<String>> {
    let rows = target
        .query("SELECT rolname::text FROM pg_catalog.pg_roles", &[])
        .await
        .context("reading the target's roles")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
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

/// Sets every sequence on the target to the source's value. Sequences are not
/// transactional, so this reads their current value (at least the snapshot's),
/// which can only be ahead of the rows copied, never behind.
async fn set_sequences(
    source: &tokio_postgres::Client,
    target: &tokio_postgres::Client,
    plan: &Plan,
) -> anyhow::Result<usize> {
    // Batches: one round trip per end for many sequences (a database may have
    // thousands of them).
    for batch in plan.sequences.chunks(500) {
        let read = batch
            .iter()
            .enumerate()
            .map(|(i, s)| format!("SELECT {i}, last_value, is_called FROM {}", s.source))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows = source
            .query(&read, &[])
            .await
            .with_context(|| format!("reading sequences ({} ...)", batch[0].source))?;
        let mut set = String::new();
        for r in &rows {
            let (i, value, called): (i32, i64, bool) = (r.get(0), r.get(1), r.get(2));
            let Some(s) = usize::try_from(i).ok().and_then(|i| batch.get(i)) else {
                continue;
            };
            set.push_str(&format!(
                "SELECT pg_catalog.setval({}, {value}, {called});\n",
                crate::pg::quote_literal(&s.target)
            ));
        }
        target
            .batch_execute(&set)
            .await
            .with_context(|| format!("setting sequences ({} ...)", batch[0].target))?;
    }
    Ok(plan.sequences.len())
}

/// `--data-only` loads into existing tables and never deletes rows there: every
/// target table must exist and be empty, or nothing is copied.
pub(crate) async fn ensure_empty(
    target: &tokio_postgres::Client,
    plan: &Plan,
) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for c in &plan.copies {
        let name = c.target_qualified();
        match target
            .query_opt(&format!("SELECT 1 FROM ONLY {name} LIMIT 1"), &[])
            .await
        {
            Ok(Some(_)) => problems.push(format!("{name} is not empty")),
            Ok(None) => {}
            Err(e) => problems.push(format!("{name}: {}", crate::pg::db_error(&e))),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "--data-only needs every target table to exist and be empty: {}",
        problems.join("; ")
    )))
}

/// Rows changed in the source database so far, or `None` when the counters
/// cannot be read (then nothing is reported).
async fn source_row_changes(source: &Client) -> Option<i64> {
    crate::precheck::write_counters(source)
        .await
        .ok()
        .map(|(_, rows)| rows)
}
