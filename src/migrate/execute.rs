//! Running plan steps on the target: serial steps one by one, runs of
//! concurrent steps (index builds, foreign-key validation) on a pool of sessions.

use crate::pg::{connect, ConnSpec};
use crate::plan::{Parallel, Step};
use anyhow::Context;
use std::sync::{Arc, Mutex};
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

/// Runs post-data steps: consecutive `Concurrent` steps share `jobs` extra
/// sessions; `Serial` steps run alone on `main`, in order.
pub async fn run_steps(
    main: &Client,
    target: &ConnSpec,
    steps: &[Step],
    jobs: usize,
    session_setup: &str,
) -> anyhow::Result<()> {
    let mut i = 0;
    while i < steps.len() {
        if steps[i].parallel == Parallel::Serial || jobs <= 1 {
            run_step(main, &steps[i]).await?;
            i += 1;
            continue;
        }
        let start = i;
        while i < steps.len() && steps[i].parallel == Parallel::Concurrent {
            i += 1;
        }
        run_concurrent(target, &steps[start..i], jobs, session_setup).await?;
    }
    Ok(())
}

async fn run_concurrent(
    target: &ConnSpec,
    steps: &[Step],
    jobs: usize,
    session_setup: &str,
) -> anyhow::Result<()> {
    let queue = Arc::new(Mutex::new(steps.to_vec()));
    let mut handles = Vec::new();
    for n in 0..jobs.min(steps.len()) {
        let queue = Arc::clone(&queue);
        let target = target.clone();
        let setup = session_setup.to_string();
        handles.push(tokio::spawn(async move {
            let client = connect(&target, &format!("post-data worker {n}")).await?;
            client
                .batch_execute(&setup)
                .await
                .context("post-data session settings")?;
            loop {
                let next = match queue.lock() {
                    Ok(mut q) => q.pop(),
                    Err(_) => anyhow::bail!("post-data queue poisoned"),
                };
                let Some(step) = next else { break };
                if let Err(e) = run_step(&client, &step).await {
                    if let Ok(mut q) = queue.lock() {
                        q.clear();
                    }
                    return Err(e);
                }
            }
            anyhow::Ok(())
        }));
    }
    let mut first_err = None;
    for h in handles {
        let r = h
            .await
            .map_err(|e| anyhow::anyhow!("post-data worker stopped: {e}"))
            .and_then(|r| r);
        if let (Err(e), None) = (r, &first_err) {
            first_err = Some(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}
