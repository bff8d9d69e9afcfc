//! Pre-data: every object that must exist before rows arrive, in one target
//! transaction; and the `--data-only` check that the tables to load exist
//! and are empty.

use crate::exec::run_step;
use crate::plan::Plan;
use anyhow::Context;
use tokio_postgres::Client;

/// Pre-data statements sent in one round trip.
const PRE_DATA_BATCH: usize = 200;

/// Pre-data in one target transaction, so a failure leaves the target as it
/// was. Recorded as one step: on resume it is skipped when done. A run killed
/// between the commit and the record finds the objects there: the first table
/// of the plan existing means the transaction committed.
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
