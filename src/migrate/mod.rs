//! The whole job, in the seed's order: read the source under one snapshot,
//! create pre-data objects, copy rows, then post-data objects and sequence
//! values; recorded in the task state as it goes, so it can be resumed.

mod check;
mod data;
mod finish;
mod follow;
mod identity;
mod pre_data;
mod renames;
mod resume;
mod run;
mod sequences;
mod sessions;
mod start;
mod task;

pub use check::precheck_only;
pub use follow::{cutover_sequences, follow_state_dir};
pub use identity::identity;
pub use sessions::{sessions, SessionOptions};
pub use task::{install_interrupt, state_dir, StartMode, Task};

pub(crate) use pre_data::ensure_empty;
use start::{read_catalog, target_roles};

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::progress::Display;
use crate::copy::TableResult;
use crate::pg::transient::RetryPolicy;
use crate::pg::{connect_at_start, SnapshotHolder};
use crate::plan::{self, Counts, Phase, Plan, Skipped, Step};
use crate::step::StepKind;
use serde::Serialize;
use std::path::PathBuf;

/// What the user asked `migrate` to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Copy streams; 0: decided by the round trip to the source
    /// (`copy::link`).
    pub jobs: usize,
    /// Streams a big table may be split across; 0: `jobs`. Sized with
    /// `jobs` from the link and where the servers run (`copy::link`).
    pub split_streams: usize,
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
/// restore allows), index builds get room to sort, and what the plan puts in
/// no tablespace goes to the database's default, as on the source, whatever
/// `default_tablespace` the target login or database sets (pg_dump's
/// scripts start with the same `SET default_tablespace = ''`).
pub const TARGET_DDL_SETUP: &str =
    "SET check_function_bodies = false; SET maintenance_work_mem = '256MB'; \
     SET synchronous_commit = off; SET default_tablespace = ''";

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
    Box::pin(run::run(ends, opts, task))
        .await
        .map(|r| Outcome::Migrated(Box::new(r)))
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
