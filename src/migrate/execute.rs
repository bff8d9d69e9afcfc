//! Running plan steps on the target: serial steps one by one, runs of
//! concurrent steps (index builds, foreign-key validation) on a pool of
//! sessions. Each step is recorded in the task state once done and skipped
//! on resume; a transient failure reconnects and retries it.

use crate::pg::transient::{backoff, is_transient, ATTEMPTS};
use crate::pg::{connect, ConnSpec};
use crate::plan::{Parallel, Step};
use crate::state::State;
use anyhow::Context;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Runs one step, naming it in the error.
pub async fn run_step(client: &Client, step: &Step) -> anyhow::Result<()> {
    tracing::debug!(kind = step.kind, object = %step.object, "{}", step.sql);
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

/// The step's identity in the task state: its phase and a hash of its SQL, so
/// a plan rebuilt on resume finds the steps it already ran.
pub fn step_key(step: &Step) -> String {
    format!(
        "{:?}:{:016x}",
        step.phase,
        xxhash_rust::xxh3::xxh3_64(step.sql.as_bytes())
    )
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
}

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
        let mut i = 0;
        while i < steps.len() {
            self.check_stop()?;
            if steps[i].parallel == Parallel::Serial || self.jobs <= 1 {
                self.one(&mut main, &steps[i]).await?;
                i += 1;
                continue;
            }
            let start = i;
            while i < steps.len() && steps[i].parallel == Parallel::Concurrent {
                i += 1;
            }
            self.concurrent(&steps[start..i]).await?;
        }
        Ok(())
    }

    fn check_stop(&self) -> anyhow::Result<()> {
        if self.stop.load(Ordering::SeqCst) {
            anyhow::bail!(crate::migrate::Interrupted);
        }
        Ok(())
    }

    /// One step with state and retries, on `session` (opened when needed).
    async fn one(&self, session: &mut Option<Client>, step: &Step) -> anyhow::Result<()> {
        let key = step_key(step);
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
                Err(e) if (attempt > 1 || self.resuming) && already_exists(&e) => {
                    tracing::info!("{} {} already exists: done", step.kind, step.object);
                    break;
                }
                Err(e) if attempt < ATTEMPTS && is_transient(&e) => {
                    tracing::warn!("{e:#}; retrying (attempt {} of {ATTEMPTS})", attempt + 1);
                    *session = None;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(st) = self.state {
            st.mark_step(&key, "post-data", step.kind, &step.object)?;
        }
        crate::fault::point("step-done");
        Ok(())
    }

    async fn concurrent(&self, steps: &[Step]) -> anyhow::Result<()> {
        let queue = Mutex::new(steps.iter().collect::<Vec<_>>());
        let failed = AtomicBool::new(false);
        let worker = |_n: usize| async {
            let mut session = None;
            loop {
                if self.stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let next = match queue.lock() {
                    Ok(mut q) => q.pop(),
                    Err(_) => anyhow::bail!("post-data queue poisoned"),
                };
                let Some(step) = next else { return Ok(()) };
                if let Err(e) = self.one(&mut session, step).await {
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

fn already_exists(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| {
                *code == SqlState::DUPLICATE_TABLE
                    || *code == SqlState::DUPLICATE_OBJECT
                    || *code == SqlState::DUPLICATE_SCHEMA
            })
    })
}
