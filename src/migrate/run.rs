//! One run of `migrate`, phase by phase. [`run`] is the list of phases; each
//! is a method of [`Run`] (what every phase reads: the endpoints, the
//! options, the task) and hands its product to the next.

use super::check::check_options;
use super::finish::structure_differences;
use super::pre_data::pre_data;
use super::start::{
    lock_for_copy, probe_link, read_catalog, resume_room, source_row_changes, target_roles,
};
use super::{
    analyze_steps, data, follow, identity, install_interrupt, renames, sequences, state_dir,
    Options, PhaseTimes, Report, Task, TARGET_DDL_SETUP,
};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::link::Link;
use crate::copy::TableResult;
use crate::exec::StepRunner;
use crate::pg::transient::with_retries;
use crate::pg::{connect_at_start, SnapshotHolder, TablesLocked};
use crate::plan::{self, Plan};
use crate::state::State;
use anyhow::Context;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::Client;

/// Runs the migration: connect, read the catalog and plan, precheck, then
/// pre-data, data, post-data and renames, sequences, ANALYZE, the report.
pub(super) async fn run(
    ends: &Endpoints,
    opts: &Options,
    task: Option<Task>,
) -> anyhow::Result<Report> {
    let mut run = Run::new(ends, opts, task);
    let mut times = PhaseTimes::default();
    if let Some(report) = run.resume_follow().await? {
        return Ok(report);
    }
    let (mut holder, target, target_version) = run.connect().await?;
    run.size_jobs(&holder).await;
    let planned = run
        .read_and_plan(&holder, &target, target_version, &mut times)
        .await?;
    let (cat, mut plan, source_as_read) = (planned.cat, planned.plan, planned.source_as_read);
    run.announce_plan(&plan)?;
    let rejected = run.gate(&mut plan, &cat, planned.precheck_sessions).await?;
    let versions = (cat.version_num, target_version);
    run.begin(rejected, &holder, &target, &plan, versions)
        .await?;
    let mut slot_holder = run.start_follow(&cat, &plan, &target, &mut holder).await?;
    if !run.opts.data_only {
        let t = Instant::now();
        pre_data(&target, &plan, run.state()).await?;
        times.pre_data = t.elapsed().as_secs_f64();
    }
    let mut copied = run
        .data(
            &cat,
            &plan,
            &holder,
            &target,
            planned.writes_before,
            &mut slot_holder,
            &mut times,
        )
        .await?;
    // Every row is copied: the snapshot and its table locks are released, so
    // DDL on the source waits no longer than the copy (a snapshot lost by
    // now costs nothing).
    if let Err(e) = holder.close().await {
        tracing::debug!("closing the snapshot: {e:#}");
    }
    let runner = run.step_runner(std::mem::take(&mut copied.done_early));
    run.post_data(&runner, &target, &plan, &mut times).await?;
    let sequences_set = run.sequences(&runner, &plan, &mut times).await?;
    let report = run
        .report(
            versions,
            &plan,
            source_as_read,
            copied,
            sequences_set,
            times,
        )
        .await;
    run.record(&report, &cat, &plan).await?;
    Ok(report)
}

/// What every phase of a run reads.
pub(super) struct Run<'a> {
    started: Instant,
    ends: &'a Endpoints,
    /// As given, with `--jobs` sized from the link once connected.
    pub(super) opts: Options,
    /// `pgferry precheck`: the plan is built, nothing is locked or written.
    checking_only: bool,
    /// The link to the source, measured once connected ([`Run::size_jobs`]).
    link: Link,
    task: Option<Task>,
    /// This run continues an interrupted one (`--resume`).
    resuming: bool,
    /// Set on Ctrl-C (with a task): work stops at the next safe point.
    stop: Arc<AtomicBool>,
}

/// The catalog read and the plan built from it.
pub(super) struct Planned {
    pub(super) cat: Catalog,
    /// The catalog as read, before the plan's selection changed it, for the
    /// closing structure check (none when there is none to make).
    source_as_read: Option<Catalog>,
    pub(super) plan: Plan,
    /// The source's write counters before the copy (see `source_row_changes`).
    writes_before: Option<i64>,
    /// The precheck's sessions, opened during the catalog read (none on resume).
    pub(super) precheck_sessions: Option<anyhow::Result<(Client, Client)>>,
}

/// What the data phase did.
#[derive(Default)]
struct Copied {
    tables: Vec<TableResult>,
    done_early: data::EarlyKeys,
    large_objects: usize,
    source_writes: i64,
}

impl<'a> Run<'a> {
    pub(super) fn new(ends: &'a Endpoints, opts: &Options, task: Option<Task>) -> Run<'a> {
        let started = Instant::now();
        let resuming = task.as_ref().is_some_and(|t| t.resuming);
        let stop = if task.is_some() {
            install_interrupt()
        } else {
            Arc::new(AtomicBool::new(false))
        };
        Run {
            started,
            ends,
            opts: opts.clone(),
            checking_only: false,
            link: Link { rtt: None },
            task,
            resuming,
            stop,
        }
    }

    /// A run for `pgferry precheck`: no task, no lock, nothing written.
    pub(super) fn checking_only(ends: &'a Endpoints, opts: &Options) -> Run<'a> {
        Run {
            checking_only: true,
            ..Run::new(ends, opts, None)
        }
    }

    /// Measures the link to the source once (see `start::probe_link`) and,
    /// without `--jobs` (0), sizes the copy streams from it, so that the
    /// precheck checks the room for the sessions the copy will open.
    pub(super) async fn size_jobs(&mut self, holder: &SnapshotHolder) {
        (self.link, self.opts.jobs, self.opts.split_streams) =
            probe_link(holder, self.ends, self.opts.jobs).await;
    }

    fn state(&self) -> Option<&State> {
        self.task.as_ref().map(|t| &t.state)
    }

    /// A resumed follow task past its load goes straight back to following.
    async fn resume_follow(&self) -> anyhow::Result<Option<Report>> {
        match self.task.as_ref().filter(|_| self.opts.follow) {
            Some(t) => follow::resume(self.ends, &self.opts, t, Arc::clone(&self.stop)).await,
            None => Ok(None),
        }
    }

    /// The snapshot holder on the source and the DDL session on the target,
    /// with the target's version.
    pub(super) async fn connect(&self) -> anyhow::Result<(SnapshotHolder, Client, i32)> {
        let src = connect_at_start(&self.ends.source, "snapshot holder").await?;
        let target = connect_at_start(&self.ends.target, "ddl").await?;
        target
            .batch_execute(TARGET_DDL_SETUP)
            .await
            .context("setting up the target DDL session")?;
        let target_version = crate::catalog::server_version_num(&target).await?;
        let holder = SnapshotHolder::open(src).await?;
        if self.resuming {
            tracing::warn!(
                "resuming: the interrupted run's snapshot is gone, so rows still to copy are read \
                 as of now, not as of the first run. If the source was written in between, the \
                 copy mixes two moments: writes must stay stopped during a full migration. \
                 Run `pgferry verify` afterwards."
            );
        }
        Ok((holder, target, target_version))
    }

    /// Reads the catalog under the snapshot and builds the plan; locks the
    /// tables to copy on the source.
    pub(super) async fn read_and_plan(
        &self,
        holder: &SnapshotHolder,
        target: &Client,
        target_version: i32,
        times: &mut PhaseTimes,
    ) -> anyhow::Result<Planned> {
        let (opts, resuming) = (&self.opts, self.resuming);
        let t = Instant::now();
        let forget = |e| self.forget(e);
        // Together, pipelined on the one session: a far source answers both in
        // the round trips of one. Precheck's sessions open meanwhile (their
        // handshakes are round trips too).
        let precheck_sessions = async {
            match resuming {
                true => None,
                false => Some(crate::precheck::connect_both(self.ends).await),
            }
        };
        let (writes_before, cat, precheck_sessions) = tokio::join!(
            source_row_changes(holder.client()),
            read_catalog(holder),
            precheck_sessions
        );
        let mut cat = cat.map_err(forget)?;
        let build = plan::BuildOptions {
            keep_owners: opts.keep_owners,
            // Also decides which user mappings can be created (their role exists).
            target_roles: Some(target_roles(target).await?),
            create_roles: opts.create_roles,
            // Labels of a provider the target lacks are left out (precheck
            // target.seclabel_provider says so).
            label_providers: Some(
                crate::catalog::seclabels::loaded_for(target, &cat.security_labels).await?,
            ),
            target: plan::compat::Target {
                version: Some(target_version),
                map_removed_types: opts.map_removed_types,
            },
            target_default_tablespace: Some(
                crate::catalog::tablespaces::database_default(target).await?,
            ),
            tablespaces_as_read: false,
        };
        let read_secs = t.elapsed().as_secs_f64();
        let source_as_read = (!opts.data_only && !self.checking_only).then(|| cat.clone());
        let mut plan = plan::prepare_with(&mut cat, &opts.selection, &build)?;
        // Now that the tables to copy are known: no DDL or TRUNCATE may change
        // them on the source until the snapshot is closed.
        if !opts.schema_only && !self.checking_only {
            let tables: Vec<String> = cat
                .tables
                .iter()
                .map(|t| crate::pg::qualified(&t.schema, &t.name))
                .collect();
            lock_for_copy(holder, &tables).await.map_err(forget)?;
        }
        tracing::debug!(
            read = read_secs,
            plan = t.elapsed().as_secs_f64() - read_secs,
            "catalog read and plan built"
        );
        if opts.data_only {
            final_target_names(&mut plan);
        }
        times.catalog = t.elapsed().as_secs_f64();
        Ok(Planned {
            cat,
            source_as_read,
            plan,
            writes_before,
            precheck_sessions,
        })
    }

    /// An error before the first write: a fresh task that stops there
    /// leaves no task to resume behind; a table locked on the source is a
    /// problem found (exit 1), named.
    fn forget(&self, e: anyhow::Error) -> anyhow::Error {
        if let (Some(t), false) = (&self.task, self.resuming) {
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
    }

    /// Says what the plan moves, and what it leaves out or changes and why;
    /// records the counts for `status`.
    fn announce_plan(&self, plan: &Plan) -> anyhow::Result<()> {
        tracing::info!(
            skipped = plan.skipped.len(),
            "read the source catalog: {}",
            plan.counts.describe()
        );
        if let Some(t) = &self.task {
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
        Ok(())
    }

    /// Precheck before the first write: a failure ends here, target
    /// untouched. A resumed task already wrote its objects, which precheck
    /// would call conflicts: it leaves out what the first run's precheck
    /// found the target rejects. Returns this run's rejections (none on
    /// resume).
    async fn gate(
        &self,
        plan: &mut Plan,
        cat: &Catalog,
        precheck_sessions: Option<anyhow::Result<(Client, Client)>>,
    ) -> anyhow::Result<Option<Vec<plan::Rejection>>> {
        let (ends, opts) = (self.ends, &self.opts);
        if self.resuming {
            let recorded = self.state().map(|st| st.get("rejected")).transpose()?;
            if let Some(json) = recorded.flatten() {
                let rejected: Vec<plan::Rejection> =
                    serde_json::from_str(&json).context("reading the task's rejected objects")?;
                plan::drop_rejected(plan, cat, &rejected);
            }
            return Ok(None);
        }
        let fix_dir = opts
            .task
            .as_ref()
            .map(|t| state_dir(t.state_dir.as_deref(), &identity(ends, opts).line).join("fixes"));
        let checks = crate::precheck::Options {
            ignore: opts.ignore_checks.clone(),
            // migrate counts the source's writes over its whole copy instead.
            skip_write_sample: true,
            ..check_options(opts, plan, fix_dir)
        };
        // A failure leaves the task state as it was: nothing recorded for a
        // new task, the previous task's record under --restart.
        let sessions = precheck_sessions.transpose()?;
        let report = crate::precheck::gate(ends, cat, plan, &checks, opts.json, sessions).await?;
        // `--ignore-check target.ddl`: what the target refuses is left out
        // with its dependents, each listed in the report.
        plan::drop_rejected(plan, cat, &report.rejected);
        for r in &report.rejected {
            tracing::warn!(
                "not migrated (the target rejects it): {} {}: {}",
                r.kind,
                r.object,
                r.error
            );
        }
        Ok(Some(report.rejected))
    }

    /// Marks the task begun (with the rejections, which a resumed run reads
    /// instead of prechecking); on resume, checks the room for its sessions
    /// (--jobs may have grown).
    async fn begin(
        &self,
        rejected: Option<Vec<plan::Rejection>>,
        holder: &SnapshotHolder,
        target: &Client,
        plan: &Plan,
        versions: (i32, i32),
    ) -> anyhow::Result<()> {
        if let Some(t) = &self.task {
            t.begin()?;
            if let Some(r) = &rejected {
                // A resumed run skips the precheck: it reads them here.
                t.state.set("rejected", &serde_json::to_string(r)?)?;
            }
        }
        if self.resuming {
            // The one check a resume runs. Open now: the snapshot holder and
            // the DDL session.
            resume_room(holder, target, plan, &self.opts, versions.0, versions.1).await?;
        }
        Ok(())
    }

    /// Follow mode: publication and slot now; the load reads under the
    /// slot's snapshot, whose holder must live until every copy started.
    async fn start_follow(
        &self,
        cat: &Catalog,
        plan: &Plan,
        target: &Client,
        holder: &mut SnapshotHolder,
    ) -> anyhow::Result<Option<crate::repl::SnapshotHolder>> {
        let Some(t) = self.task.as_ref().filter(|_| self.opts.follow) else {
            return Ok(None);
        };
        let (h, snap) = follow::start(self.ends, cat, plan, &t.state, target).await?;
        let old = std::mem::replace(holder, h);
        old.close().await?;
        Ok(Some(snap))
    }

    /// Copies the rows and the large objects, building indexes of loaded
    /// tables early; counts the source's writes meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn data(
        &self,
        cat: &Catalog,
        plan: &Plan,
        holder: &SnapshotHolder,
        target: &Client,
        writes_before: Option<i64>,
        slot_holder: &mut Option<crate::repl::SnapshotHolder>,
        times: &mut PhaseTimes,
    ) -> anyhow::Result<Copied> {
        let opts = &self.opts;
        let mut out = Copied::default();
        if opts.schema_only {
            return Ok(out);
        }
        let t = Instant::now();
        let done = data::run(
            self.ends,
            opts,
            cat,
            plan,
            holder,
            target,
            self.task.as_ref(),
            Arc::clone(&self.stop),
            self.link,
        )
        .await?;
        (out.tables, out.done_early, out.large_objects) =
            (done.tables, done.early, done.large_objects);
        times.data = t.elapsed().as_secs_f64();
        drop(slot_holder.take()); // every copy has imported the snapshot
        out.source_writes = match (writes_before, source_row_changes(holder.client()).await) {
            (Some(a), Some(b)) => (b - a).max(0),
            _ => 0,
        };
        if out.source_writes > 0 && !opts.follow {
            tracing::warn!(
                "{} row(s) changed on the source while the data was copied; \
                 they are not on the target (writes must stop during a full migration: \
                 pgferry has no incremental migration yet)",
                out.source_writes
            );
        }
        Ok(out)
    }

    /// Runs the statements after the data, skipping those the data phase
    /// already ran (and confirmed).
    fn step_runner(&self, done_early: data::EarlyKeys) -> StepRunner<'_> {
        StepRunner {
            target: &self.ends.target,
            jobs: self.opts.index_jobs,
            session_setup: TARGET_DDL_SETUP,
            state: self.state(),
            stop: Arc::clone(&self.stop),
            resuming: self.resuming,
            skip: done_early.done,
            maybe_done: done_early.unconfirmed,
            retry: self.opts.retry,
        }
    }

    /// Post-data, then the renames (those a killed run already made found
    /// on the target first).
    async fn post_data(
        &self,
        runner: &StepRunner<'_>,
        target: &Client,
        plan: &Plan,
        times: &mut PhaseTimes,
    ) -> anyhow::Result<()> {
        if self.opts.data_only {
            return Ok(());
        }
        let t = Instant::now();
        runner.run(&plan.post_data).await.context("post-data")?;
        renames::prepare(target, plan, self.state())
            .await
            .context("checking the target for renames already made")?;
        runner.run(&plan.renames).await.context("renames")?;
        times.post_data = t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Sets the sequences' values, then (`--analyze`) runs ANALYZE where the
    /// data phase did not. Returns how many sequences were set.
    async fn sequences(
        &self,
        runner: &StepRunner<'_>,
        plan: &Plan,
        times: &mut PhaseTimes,
    ) -> anyhow::Result<usize> {
        let opts = &self.opts;
        let t = Instant::now();
        let sequences_set = if opts.schema_only {
            0
        } else {
            with_retries(opts.retry, "setting sequence values", || {
                sequences::set(self.ends, plan)
            })
            .await?
        };
        times.sequences = t.elapsed().as_secs_f64();
        if opts.analyze && !opts.schema_only {
            let t = Instant::now();
            runner.run(&analyze_steps(plan)).await.context("analyze")?;
            times.analyze = t.elapsed().as_secs_f64();
        }
        Ok(sequences_set)
    }

    /// The run's report; compares the structure of both ends first.
    async fn report(
        &self,
        (source_version, target_version): (i32, i32),
        plan: &Plan,
        source_as_read: Option<Catalog>,
        copied: Copied,
        sequences_set: usize,
        mut times: PhaseTimes,
    ) -> Report {
        let schema_differences =
            structure_differences(self.ends, &self.opts, plan, source_as_read).await;
        times.total = self.started.elapsed().as_secs_f64();
        Report {
            source_version,
            target_version,
            counts: plan.counts.clone(),
            pre_data_statements: plan.counts.pre_data_statements,
            post_data_statements: plan.counts.post_data_statements,
            tables: copied.tables,
            sequences_set,
            large_objects: copied.large_objects,
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
            resumed: self.resuming,
            source_writes_during_copy: copied.source_writes,
            schema_differences,
            phases: times,
        }
    }

    /// Writes the report into the task state and marks the task finished,
    /// or, with `--follow`, goes on following the source.
    async fn record(&self, report: &Report, cat: &Catalog, plan: &Plan) -> anyhow::Result<()> {
        let Some(t) = &self.task else {
            return Ok(());
        };
        // Sequence values and post-data statements were each made durable
        // by a barrier on their own sessions before this.
        let json = serde_json::to_string_pretty(report).unwrap_or_default();
        let path = t.state.dir().join("report.json");
        std::fs::write(&path, json)
            .with_context(|| format!("writing the report {}", path.display()))?;
        if self.opts.follow {
            t.state.set(crate::follow::keys::LOADED, "yes")?;
            follow::after_load(self.ends, cat, plan, t, Arc::clone(&self.stop)).await?;
        } else {
            t.state.mark_finished()?;
        }
        Ok(())
    }
}

/// With `--data-only` the structure (an earlier --schema-only run) has its
/// final names: the copies go to them.
fn final_target_names(plan: &mut Plan) {
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
