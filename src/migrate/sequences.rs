//! Sequence values, set once the rows are in. They run on sessions of their
//! own, opened for the purpose and retried as a whole: the sessions of the
//! start of the run may have been ended since (a target restart, an
//! administrator), and `setval` is absolute, so running it again is safe.

use super::TARGET_DDL_SETUP;
use crate::config::Endpoints;
use crate::pg::connect;
use crate::plan::Plan;
use anyhow::Context;

/// Sets every sequence on the target to the source's value, on sessions of
/// its own (those of the start of the run may have been ended since) and
/// durably: a barrier on the same session flushes the values before the
/// task is recorded finished. Safe to run again (`setval` is absolute).
/// Sequences are not transactional, so this reads their current value (at
/// least the snapshot's), which can only be ahead of the rows copied, never
/// behind.
pub(super) async fn set(ends: &Endpoints, plan: &Plan) -> anyhow::Result<usize> {
    if plan.sequences.is_empty() {
        return Ok(0);
    }
    let source = connect(&ends.source, "sequences").await?;
    let target = connect(&ends.target, "sequences").await?;
    target
        .batch_execute(TARGET_DDL_SETUP)
        .await
        .context("setting up the target sequences session")?;
    copy_values(&source, &target, plan).await?;
    crate::exec::barrier(&target)
        .await
        .context("flushing the sequence values on the target")?;
    Ok(plan.sequences.len())
}

/// Reads every planned sequence's value on the source and sets it on the
/// target, in batches (one round trip per end for up to 500 sequences: a
/// database may have thousands). Also the cut-over's last step in follow mode.
pub(super) async fn copy_values(
    source: &tokio_postgres::Client,
    target: &tokio_postgres::Client,
    plan: &Plan,
) -> anyhow::Result<()> {
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
            .query_typed(&read, &[])
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
    Ok(())
}
