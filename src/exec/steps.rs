//! Running plan steps on the target: serial steps one by one, runs of
//! concurrent steps (index builds, foreign-key validation) on a pool of
//! sessions. Each step is recorded in the task state once done and durable
//! (by batches, after a barrier on the session that ran them, see
//! `copy::durable`) and skipped on resume; a transient failure reconnects and
//! retries it, unless finished steps of that session were not yet known
//! durable: then the run stops and `--resume` checks them.

use super::{barrier, Pending};
use crate::pg::transient::{backoff, is_transient, ATTEMPTS};
use crate::pg::{connect, ConnSpec};
use crate::state::State;
use crate::step::{Parallel, Step, StepKind};
use anyhow::Context;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Runs one step, naming it in the error.
pub async fn run_step(client: &Client, step: &Step) -> anyhow::Result<()> {
    tracing::debug!(kind = step.kind.label(), object = %step.object, "{}", step.sql);
    client
        .batch_execute(&step.sql)
        .await
        .with_context(|| format!("{} {}: {}", step.kind, step.object, one_line(&step.sql)))
}

/// The first line of a statement, for error messages.
fn one_line(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or("");
    if sql.lines().nth(1).is_some() {
        format!("{first} ...")
    } else {
        first.to_string()
    }
}

/// Where post-data work runs and how it is recorded.
pub struct StepRunner<'a> {
    pub target: &'a ConnSpec,
    pub jobs: usize,
    pub session_setup: &'a str,
    pub state: Option<&'a State>,
    pub stop: Arc<AtomicBool>,
    /// Continuing an interrupted run: a statement may have committed just
    /// before the run died and before it was recorded.
    pub resuming: bool,
    /// Keys of steps already done in this run (index builds done during the
    /// data phase): skipped.
    pub skip: HashSet<String>,
    /// Keys of steps that ran earlier in this run without being known
    /// durable: run again, "already exists" meaning done.
    pub maybe_done: HashSet<String>,
}

/// Steps finished on one session, waiting for a barrier to be recorded.
type Marks = Pending<(String, &'static str, String)>;

impl StepRunner<'_> {
    async fn session(&self, what: &str) -> anyhow::Result<Client> {
        let client = connect(self.target, what).await?;
        client
            .batch_execute(self.session_setup)
            .await
            .context("post-data session settings")?;
        Ok(client)
    }

    /// Runs `steps` in order (concurrent runs in parallel), skipping those the
    /// state records as done. Stops between steps after a first Ctrl-C.
    pub async fn run(&self, steps: &[Step]) -> anyhow::Result<()> {
        let mut main: Option<Client> = None;
        let mut marks = Marks::default();
        let mut i = 0;
        while i < steps.len() {
            if let Err(e) = self.check_stop() {
                self.settle(&main, &mut marks).await?;
                return Err(e);
            }
            if steps[i].parallel == Parallel::Serial || self.jobs <= 1 {
                self.one(&mut main, &mut marks, &steps[i]).await?;
                i += 1;
                continue;
            }
            // Concurrent steps may depend on serial ones before them: those
            // are recorded first.
            self.settle(&main, &mut marks).await?;
            let start = i;
            while i < steps.len() && steps[i].parallel == Parallel::Concurrent {
                i += 1;
            }
            self.concurrent(&steps[start..i]).await?;
        }
        self.settle(&main, &mut marks).await
    }

    /// Records the steps finished on `session` once a barrier on it made
    /// them durable.
    async fn settle(&self, session: &Option<Client>, marks: &mut Marks) -> anyhow::Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        // Test hook: as if the connection broke before the barrier.
        if crate::fault::fails("lost-step-barrier") {
            anyhow::bail!(LOST_BEFORE_DURABLE);
        }
        let Some(client) = session else {
            anyhow::bail!(LOST_BEFORE_DURABLE);
        };
        barrier(client).await.context(LOST_BEFORE_DURABLE)?;
        for (key, kind, object) in marks.take() {
            if let Some(st) = self.state {
                st.mark_step(&key, "post-data", kind, &object)?;
            }
            crate::fault::point("step-done");
        }
        Ok(())
    }

    fn check_stop(&self) -> anyhow::Result<()> {
        if self.stop.load(Ordering::SeqCst) {
            anyhow::bail!(crate::error::Interrupted);
        }
        Ok(())
    }

    /// One step with state and retries, on `session` (opened when needed);
    /// recorded with the next batch of `marks`.
    async fn one(
        &self,
        session: &mut Option<Client>,
        marks: &mut Marks,
        step: &Step,
    ) -> anyhow::Result<()> {
        let key = step.key();
        if self.skip.contains(&key) {
            return Ok(());
        }
        if let Some(st) = self.state {
            if st.step_done(&key)? {
                return Ok(());
            }
        }
        let mut attempt = 1;
        loop {
            let result = async {
                if session.is_none() {
                    *session = Some(self.session("post-data").await?);
                }
                let Some(client) = session.as_ref() else {
                    anyhow::bail!("no post-data session");
                };
                run_step(client, step).await
            }
            .await;
            match result {
                Ok(()) => break,
                // A retried statement whose first try committed just before
                // the connection broke, or, on resume, one that committed just
                // before the interrupted run could record it: its object is
                // there, which is the goal. (Precheck refused objects that
                // existed before the task began.)
                Err(e)
                    if (attempt > 1 || self.resuming || self.maybe_done.contains(&key))
                        && already_exists(&e, step.kind) =>
                {
                    tracing::info!("{} {} already exists: done", step.kind, step.object);
                    break;
                }
                Err(e) if attempt < ATTEMPTS && is_transient(&e) => {
                    if !marks.is_empty() {
                        // The statements this session finished may be lost
                        // with a restart of the target.
                        return Err(e.context(LOST_BEFORE_DURABLE));
                    }
                    tracing::warn!("{e:#}; retrying (attempt {} of {ATTEMPTS})", attempt + 1);
                    *session = None;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
        marks.push((key, step.kind.label(), step.object.clone()), 0);
        // A rename cannot be told apart from a missing object when run
        // twice: each is recorded on its own, right away.
        if marks.due() || step.kind.is_rename() {
            self.settle(session, marks).await?;
        }
        Ok(())
    }

    async fn concurrent(&self, steps: &[Step]) -> anyhow::Result<()> {
        let queue = Mutex::new(steps.iter().collect::<Vec<_>>());
        let failed = AtomicBool::new(false);
        let worker = |_n: usize| async {
            let mut session = None;
            let mut marks = Marks::default();
            loop {
                if self.stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) {
                    return self.settle(&session, &mut marks).await;
                }
                let next = match queue.lock() {
                    Ok(mut q) => q.pop(),
                    Err(_) => anyhow::bail!("post-data queue poisoned"),
                };
                let Some(step) = next else {
                    return self.settle(&session, &mut marks).await;
                };
                if let Err(e) = self.one(&mut session, &mut marks, step).await {
                    failed.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        };
        let results =
            futures_util::future::join_all((0..self.jobs.min(steps.len())).map(worker)).await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        self.check_stop()
    }
}

/// What a step that already ran gets when run again: its object exists. A
/// key attached with `USING INDEX` says instead that the table already has a
/// primary key, or that the index already belongs to a constraint (which can
/// only be this one: precheck refused existing target objects).
fn already_exists(e: &anyhow::Error, kind: StepKind) -> bool {
    let attach = matches!(kind, StepKind::PrimaryKey | StepKind::UniqueConstraint);
    e.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| {
                *code == SqlState::DUPLICATE_TABLE
                    || *code == SqlState::DUPLICATE_OBJECT
                    || *code == SqlState::DUPLICATE_SCHEMA
                    || (kind == StepKind::PrimaryKey && *code == SqlState::INVALID_TABLE_DEFINITION)
                    || (attach && *code == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE)
            })
    })
}

/// Why a run stops when a target session breaks after finishing statements
/// that were not yet known durable.
const LOST_BEFORE_DURABLE: &str = "the target connection was lost before the statements it \
    had just finished were known to be on disk (a restart of the target may have undone \
    them); run again with --resume, which checks and redoes them";
