//! The whole job, in the seed's order: read the source under one snapshot,
//! create pre-data objects, copy rows, then post-data objects and sequence values.

mod execute;

pub use execute::{run_step, run_steps};

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::{run_copies, LoadMode, SnapshotHolder, TableResult};
use crate::pg::connect;
use crate::plan::{self, Plan};
use crate::report::progress::{self, Counters, Display};
use anyhow::Context;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// What the user asked `migrate` to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    pub index_jobs: usize,
    pub schema_only: bool,
    pub data_only: bool,
    /// How to show data-phase progress.
    pub progress: Display,
    /// Precheck codes whose failures must not stop the migration (`--ignore-check`).
    pub ignore_checks: Vec<String>,
    /// Print precheck failures as the JSON document rather than a table.
    pub json: bool,
}

/// Seconds spent in each phase.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PhaseTimes {
    pub catalog: f64,
    pub pre_data: f64,
    pub data: f64,
    pub post_data: f64,
    pub sequences: f64,
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
pub async fn plan_only(ends: &Endpoints) -> anyhow::Result<(Catalog, Plan)> {
    let src = connect(&ends.source, "catalog").await?;
    let holder = SnapshotHolder::open(src).await?;
    let cat = Catalog::read(holder.client()).await?;
    holder.close().await?;
    let plan = plan::build(&cat);
    Ok((cat, plan))
}

/// Runs the migration.
pub async fn migrate(ends: &Endpoints, opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut times = PhaseTimes::default();
    let src = connect(&ends.source, "snapshot holder").await?;
    let target = connect(&ends.target, "ddl").await?;
    target
        .batch_execute(TARGET_DDL_SETUP)
        .await
        .context("setting up the target DDL session")?;
    let target_version = crate::catalog::server_version_num(&target).await?;
    let holder = SnapshotHolder::open(src).await?;
    let t = Instant::now();
    let cat = Catalog::read(holder.client())
        .await
        .context("reading the source catalog")?;
    let plan = plan::build(&cat);
    times.catalog = t.elapsed().as_secs_f64();
    tracing::info!(
        tables = cat.tables.len(),
        sequences = cat.sequences.len(),
        "read the source catalog"
    );
    // Precheck before the first write: a failure ends here, target untouched.
    let checks = crate::precheck::Options {
        data_only: opts.data_only,
        ignore: opts.ignore_checks.clone(),
    };
    crate::precheck::gate(ends, &cat, &plan, &checks, opts.json).await?;

    if !opts.data_only {
        let t = Instant::now();
        // One transaction: a failure leaves the target as it was.
        target.batch_execute("BEGIN").await?;
        for step in &plan.pre_data {
            if let Err(e) = run_step(&target, step).await {
                target.batch_execute("ROLLBACK").await.ok();
                return Err(e.context("pre-data failed; nothing was left on the target"));
            }
        }
        target
            .batch_execute("COMMIT")
            .await
            .context("committing pre-data")?;
        times.pre_data = t.elapsed().as_secs_f64();
        tracing::info!(statements = plan.pre_data.len(), "pre-data created");
    }

    let mut tables = Vec::new();
    if !opts.schema_only {
        let t = Instant::now();
        let counters = Arc::new(Counters::default());
        let mode = if opts.data_only {
            ensure_empty(&target, &plan).await?;
            LoadMode::Existing
        } else {
            LoadMode::Fresh
        };
        let total: u64 = plan.copies.iter().map(|c| c.bytes.max(0) as u64).sum();
        let ticker = progress::start(
            opts.progress,
            Arc::clone(&counters),
            total,
            plan.copies.len(),
        );
        let copied = run_copies(
            &ends.source,
            &ends.target,
            holder.id(),
            plan.copies.clone(),
            opts.jobs,
            mode,
            counters,
        )
        .await;
        ticker.finish().await;
        tables = copied.context("data phase")?;
        times.data = t.elapsed().as_secs_f64();
    }

    if !opts.data_only {
        let t = Instant::now();
        run_steps(
            &target,
            &ends.target,
            &plan.post_data,
            opts.index_jobs,
            TARGET_DDL_SETUP,
        )
        .await
        .context("post-data")?;
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
    times.total = started.elapsed().as_secs_f64();
    Ok(Report {
        source_version: cat.version_num,
        target_version,
        pre_data_statements: plan.pre_data.len(),
        post_data_statements: plan.post_data.len(),
        tables,
        sequences_set,
        phases: times,
    })
}

/// Sets every sequence on the target to the source's value. Sequences are not
/// transactional, so this reads their current value (at least the snapshot's),
/// which can only be ahead of the rows copied, never behind.
async fn set_sequences(
    source: &tokio_postgres::Client,
    target: &tokio_postgres::Client,
    plan: &Plan,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for s in &plan.sequences {
        let row = source
            .query_one(
                &format!("SELECT last_value, is_called FROM {}", s.source),
                &[],
            )
            .await
            .with_context(|| format!("reading sequence {}", s.source))?;
        let value: i64 = row.get(0);
        let called: bool = row.get(1);
        target
            .execute(
                "SELECT pg_catalog.setval($1::text::regclass, $2, $3)",
                &[&s.target, &value, &called],
            )
            .await
            .with_context(|| format!("setting sequence {}", s.target))?;
        n += 1;
    }
    Ok(n)
}

/// `--data-only` loads into existing tables and never deletes rows there: every
/// target table must exist and be empty, or nothing is copied.
async fn ensure_empty(target: &tokio_postgres::Client, plan: &Plan) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for c in &plan.copies {
        let name = c.target_qualified();
        match target
            .query_opt(&format!("SELECT 1 FROM ONLY {name} LIMIT 1"), &[])
            .await
        {
            Ok(Some(_)) => problems.push(format!("{name} is not empty")),
            Ok(None) => {}
            Err(e) => problems.push(format!("{name}: {}", crate::report::db_error(&e))),
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
