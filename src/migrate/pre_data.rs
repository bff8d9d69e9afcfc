//! Pre-data: every object that must exist before rows arrive, in one target
//! transaction; and the `--data-only` check that the tables to load exist
//! and are empty.

use crate::exec::run_step;
use crate::plan::{Plan, Step};
use anyhow::Context;
use tokio_postgres::Client;

/// Pre-data statements sent in one round trip.
const PRE_DATA_BATCH: usize = 200;

/// Pre-data in as few target transactions as the target's lock table allows:
/// one, so that a failure leaves the target as it was, unless the plan is too
/// big for it (tens of thousands of relations on default settings: "out of
/// shared memory"), see [`in_parts`]. Recorded as one step, skipped on
/// resume when done.
pub(super) async fn pre_data(
    target: &Client,
    plan: &Plan,
    state: Option<&crate::state::State>,
) -> anyhow::Result<()> {
    const KEY: &str = "pre-data";
    if let Some(st) = state {
        if st.step_done(KEY)? {
            return Ok(());
        }
    }
    let parts = parts(&plan.pre_data, statements_per_transaction(target).await?);
    in_parts(target, &parts, state).await?;
    if let Some(st) = state {
        st.mark_step(KEY, "pre-data", "pre-data", "all")?;
    }
    tracing::info!(
        statements = plan.pre_data.len(),
        transactions = parts.len(),
        "pre-data created"
    );
    Ok(())
}

/// Runs `steps` in the open transaction: in batches (one round trip for
/// many), and when a batch fails, rolled back and run again statement by
/// statement, to name the one that fails. The transaction is rolled back on
/// failure.
async fn run_in_transaction(target: &Client, steps: &[Step]) -> anyhow::Result<()> {
    let mut failed = false;
    for batch in steps.chunks(PRE_DATA_BATCH) {
        let sql: String = batch.iter().map(|s| format!("{}\n", s.sql)).collect();
        if target.batch_execute(&sql).await.is_err() {
            failed = true;
            break;
        }
    }
    if failed {
        target.batch_execute("ROLLBACK; BEGIN").await?;
        for step in steps {
            if let Err(e) = run_step(target, step).await {
                target.batch_execute("ROLLBACK").await.ok();
                return Err(e);
            }
        }
    }
    Ok(())
}

/// How many pre-data statements one transaction may run: each holds a lock
/// on the relations it creates (a table, its TOAST table and index) until
/// the commit, in a lock table shared by every session of the target. An
/// eighth of it: most pre-data statements lock nothing, some lock three.
async fn statements_per_transaction(target: &Client) -> anyhow::Result<usize> {
    let slots = crate::pg::lock_slots(target).await?;
    Ok((slots / 8).max(PRE_DATA_BATCH))
}

/// A statement that fails when its object exists: run first in a part, it
/// tells whether an earlier run committed that part.
fn probes(step: &Step) -> bool {
    let sql = step.sql.trim_start();
    sql.starts_with("CREATE ")
        && !sql.starts_with("CREATE OR REPLACE")
        && !sql.contains(" IF NOT EXISTS ")
}

/// `steps` cut into parts of about `size` statements, each after the first
/// starting with a statement that [`probes`] (the first part has one early:
/// its first schema or table).
fn parts(steps: &[Step], size: usize) -> Vec<&[Step]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < steps.len() {
        let mut end = (start + size).min(steps.len());
        while end < steps.len() && !probes(&steps[end]) {
            end += 1;
        }
        out.push(&steps[start..end]);
        start = end;
    }
    out
}

/// Pre-data in `parts`, one transaction each, each recorded when committed.
/// A part started by an earlier run but not recorded may still have
/// committed (a run killed between the two): its first statement that
/// [`probes`], run again, says so by failing with "already exists". A part
/// that fails leaves the earlier ones on the target, to `--resume`.
async fn in_parts(
    target: &Client,
    parts: &[&[Step]],
    state: Option<&crate::state::State>,
) -> anyhow::Result<()> {
    for (i, part) in parts.iter().enumerate() {
        let key = format!("pre-data {}", i + 1);
        let started = format!("{key} started");
        let mut maybe_committed = false;
        if let Some(st) = state {
            if st.step_done(&key)? {
                continue;
            }
            // `pre_data_started`: the marker of builds with one transaction.
            maybe_committed =
                st.get(&started)?.is_some() || (i == 0 && st.get("pre_data_started")?.is_some());
            st.set(&started, "yes")?;
        }
        target.batch_execute("BEGIN").await?;
        if maybe_committed && committed_before(target, part).await? {
            target.batch_execute("ROLLBACK").await?;
        } else {
            run_in_transaction(target, part)
                .await
                .map_err(|e| match parts.len() {
                    1 => e.context("pre-data failed; nothing was left on the target"),
                    n => e.context(format!(
                        "pre-data failed in part {} of {n}: the earlier parts are on the target; \
                     fix the cause and run again with --resume",
                        i + 1
                    )),
                })?;
            // Flushed: the state records the part as done next (see copy::durable).
            target
                .batch_execute("SET LOCAL synchronous_commit = on; COMMIT")
                .await
                .with_context(|| format!("committing pre-data part {}", i + 1))?;
            crate::fault::point("pre-data-committed");
        }
        if let Some(st) = state {
            st.mark_step(&key, "pre-data", "pre-data", &(i + 1).to_string())?;
        }
        crate::fault::point("pre-data-part");
    }
    Ok(())
}

/// Whether the part's first statement that [`probes`] finds its object
/// already there (the statements before it, which do not fail on objects
/// that exist, run with it), in the open transaction, left as it was.
async fn committed_before(target: &Client, part: &[Step]) -> anyhow::Result<bool> {
    let Some(n) = part.iter().position(probes) else {
        return Ok(false);
    };
    let sql: String = part[..=n].iter().map(|s| format!("{}\n", s.sql)).collect();
    target.batch_execute("SAVEPOINT pgferry_probe").await?;
    let outcome = target.batch_execute(&sql).await;
    target
        .batch_execute("ROLLBACK TO SAVEPOINT pgferry_probe; RELEASE SAVEPOINT pgferry_probe")
        .await?;
    Ok(match outcome {
        Ok(()) => false,
        Err(e) => e
            .code()
            .is_some_and(|c| matches!(c.code(), "42P07" | "42710" | "42723" | "42P06" | "42701")),
    })
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
            .query_typed_opt(&format!("SELECT 1 FROM ONLY {name} LIMIT 1"), &[])
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
