//! Running plan steps on the target: serial steps one by one, runs of
//! concurrent steps (index builds, foreign-key validation) on a pool of
//! sessions. Each step is recorded in the task state once done and durable
//! (by batches, after a barrier on the session that ran them, see
//! `exec::durable`) and skipped on resume.
//!
//! A transient failure (the session ended, the target restarting) opens a
//! new session and tries again, for the retry window, as the copy does.
//! Steps the lost session had finished but not yet made durable may have
//! been undone by a restart: they run again on the new session first, "already
//! exists" meaning they had survived, and the barrier on the new session then
//! covers them too (it flushes every commit visible to it). Only a rename,
//! which cannot tell "done" from "missing" when run twice, stops the run
//! for `--resume` instead.

use super::{barrier, Pending};
use crate::pg::transient::RetryPolicy;
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
    let started = std::time::Instant::now();
    client
        .batch_execute(&step.sql)
        .await
        .with_context(|| format!("{} {}: {}", step.kind, step.object, one_line(&step.sql)))?;
    crate::journal::record(step.kind.label(), &step.object, started, None);
    Ok(())
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
    /// How long a step failing transiently is retried.
    pub retry: RetryPolicy,
}

/// Steps finished on one session, waiting for a barrier to be recorded.
type Marks = Pending<Step>;

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
                self.settle(&mut main, &mut marks).await?;
                return Err(e);
            }
            if steps[i].parallel == Parallel::Serial || self.jobs <= 1 {
                self.one(&mut main, &mut marks, &steps[i]).await?;
                i += 1;
                continue;
            }
            // Concurrent steps may depend on serial ones before them: those
            // are recorded first.
            self.settle(&mut main, &mut marks).await?;
            let start = i;
            while i < steps.len() && steps[i].parallel == Parallel::Concurrent {
                i += 1;
            }
            self.concurrent(&steps[start..i]).await?;
        }
        self.settle(&mut main, &mut marks).await
    }

    /// Records the steps finished on `session` once a barrier on it made
    /// them durable. When the barrier fails transiently, they run again on a
    /// new session (see the module comment) and its barrier is tried.
    async fn settle(&self, session: &mut Option<Client>, marks: &mut Marks) -> anyhow::Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let mut attempts = self.retry.start();
        let mut redo = false;
        loop {
            let result = async {
                // Test hook: as if the connection broke before the barrier.
                if crate::fault::fails("lost-step-barrier") {
                    return Err(anyhow::Error::new(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "injected: connection lost before the barrier",
                    )));
                }
                let client = self.open(session).await?;
                if redo {
                    for step in marks.items() {
                        self.again(client, step).await?;
                    }
                }
                barrier(client).await.map_err(anyhow::Error::from)
            }
            .await;
            let Err(e) = result else { break };
            if marks.items().iter().any(|s| s.kind.is_rename()) {
                return Err(e.context(LOST_BEFORE_DURABLE));
            }
            let what = format!("making {} statement(s) durable", marks.items().len());
            let Some(wait) = attempts.retry_after(&e, &what) else {
                return Err(e.context(LOST_BEFORE_DURABLE));
            };
            tracing::warn!(
                "{} finished statement(s) were not known to be on disk when the target \
                 session broke; running them again on a new session",
                marks.items().len()
            );
            redo = true;
            *session = None;
            tokio::time::sleep(wait).await;
        }
        for step in marks.take() {
            if let Some(st) = self.state {
                st.mark_step(
                    &step.key(),
                    step_phase(&step),
                    step.kind.label(),
                    &step.object,
                )?;
            }
            crate::fault::point("step-done");
        }
        Ok(())
    }

    /// The session, opened (with the post-data settings) when there is none.
    async fn open<'s>(&self, session: &'s mut Option<Client>) -> anyhow::Result<&'s Client> {
        if session.is_none() {
            *session = Some(self.session("post-data").await?);
        }
        session
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no post-data session"))
    }

    /// Runs again a step that may already have committed: "already exists"
    /// means it had.
    async fn again(&self, client: &Client, step: &Step) -> anyhow::Result<()> {
        match run_step(client, step).await {
            Err(e) if already_exists(&e, step.kind) => Ok(()),
            r => r,
        }
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
        let mut attempts = self.retry.start();
        // Finished on a session that broke before their barrier: run again
        // before this step.
        let mut redo: Vec<Step> = Vec::new();
        loop {
            let result = async {
                let client = self.open(session).await?;
                for s in &redo {
                    self.again(client, s).await?;
                }
                run_step(client, step).await
            }
            .await;
            match result {
                Ok(()) => {
                    // Test hook: killed after the server ran a rename, before
                    // it is recorded (resume decides from the target catalog).
                    if step.kind.is_rename() {
                        crate::fault::point("rename-ran");
                    }
                    break;
                }
                // A retried statement whose first try committed just before
                // the connection broke, or, on resume, one that committed just
                // before the interrupted run could record it: its object is
                // there, which is the goal. (Precheck refused objects that
                // existed before the task began.)
                Err(e)
                    if (attempts.tries() > 1
                        || self.resuming
                        || self.maybe_done.contains(&key))
                        && already_exists(&e, step.kind) =>
                {
                    tracing::info!("{} {} already exists: done", step.kind, step.object);
                    break;
                }
                Err(e) => {
                    let what = format!("{} {}", step.kind, step.object);
                    let Some(wait) = attempts.retry_after(&e, &what) else {
                        return Err(e);
                    };
                    if !marks.is_empty() {
                        tracing::warn!(
                            "{} finished statement(s) were not known to be on disk when the \
                             target session broke; running them again on a new session",
                            marks.items().len()
                        );
                        redo.extend(marks.take());
                    }
                    *session = None;
                    tokio::time::sleep(wait).await;
                }
            }
        }
        for s in redo {
            marks.push(s, 0);
        }
        marks.push(step.clone(), 0);
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
                    return self.settle(&mut session, &mut marks).await;
                }
                let next = match queue.lock() {
                    Ok(mut q) => q.pop(),
                    Err(_) => anyhow::bail!("post-data queue poisoned"),
                };
                let Some(step) = next else {
                    return self.settle(&mut session, &mut marks).await;
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

/// The phase a step is counted under in the task state (and `status`):
/// post-data statements, renames and ANALYZE are counted apart, as in the
/// migrate report.
pub fn step_phase(step: &Step) -> &'static str {
    if step.kind.is_rename() {
        "rename"
    } else if step.kind == StepKind::Analyze {
        "analyze"
    } else {
        "post-data"
    }
}

/// Why a run stops when a target session breaks after finishing statements
/// that were not yet known durable (and cannot run again: renames).
const LOST_BEFORE_DURABLE: &str = "the target connection was lost before the statements it \
    had just finished were known to be on disk (a restart of the target may have undone \
    them); run again with --resume, which checks and redoes them";
