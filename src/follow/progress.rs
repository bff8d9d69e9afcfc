//! The applied position, kept on the target in a small table pgferry owns
//! (`_pgferry.follow_progress`), written in the same target transaction as
//! the changes it covers. So the position and the data can never disagree:
//! after a crash of pgferry, the target or the machine, `--resume` restarts
//! the stream exactly after the last transaction that is on the target,
//! neither before (duplicates) nor after (loss). A replication origin would
//! do the same but needs a superuser on the target; a table needs nothing.
//!
//! The table is dropped at cut-over.

use crate::repl::Lsn;
use anyhow::Context;
use tokio_postgres::{Client, GenericClient};

/// The schema of pgferry's objects on the target.
pub const SCHEMA: &str = "_pgferry";

/// Creates the table with the slot's consistent point (everything before it
/// is in the full load's snapshot).
pub async fn create(target: &Client, slot: &str, start: Lsn) -> anyhow::Result<()> {
    target
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {SCHEMA}; \
             CREATE TABLE IF NOT EXISTS {SCHEMA}.follow_progress (\
                slot text PRIMARY KEY, lsn pg_lsn NOT NULL, \
                source_commit_time timestamptz, updated_at timestamptz NOT NULL DEFAULT now())"
        ))
        .await
        .context("creating the follow progress table on the target")?;
    target
        .execute(
            &format!(
                "INSERT INTO {SCHEMA}.follow_progress (slot, lsn) VALUES ($1, $2::text::pg_lsn) \
                 ON CONFLICT (slot) DO NOTHING"
            ),
            &[&slot, &start.to_string()],
        )
        .await
        .context("recording the start position on the target")?;
    Ok(())
}

/// The last applied position, or `None` without the table or row.
pub async fn read(target: &Client, slot: &str) -> anyhow::Result<Option<Lsn>> {
    let exists: bool = target
        .query_one(
            &format!("SELECT pg_catalog.to_regclass('{SCHEMA}.follow_progress') IS NOT NULL"),
            &[],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = target
        .query_opt(
            &format!("SELECT lsn::text FROM {SCHEMA}.follow_progress WHERE slot = $1"),
            &[&slot],
        )
        .await
        .context("reading the applied position on the target")?;
    match row {
        None => Ok(None),
        Some(r) => {
            let s: String = r.get(0);
            Ok(Some(
                s.parse().with_context(|| format!("bad position {s}"))?,
            ))
        }
    }
}

/// The statement that records a position inside the caller's transaction.
pub fn update_sql() -> String {
    format!(
        "UPDATE {SCHEMA}.follow_progress SET lsn = $2::text::pg_lsn, \
         source_commit_time = pg_catalog.to_timestamp($3::text::float8), updated_at = now() WHERE slot = $1"
    )
}

/// Records a position in a transaction of its own (used when the stream
/// moved past WAL with nothing to apply), durably.
pub async fn record(target: &impl GenericClient, slot: &str, lsn: Lsn) -> anyhow::Result<()> {
    target
        .batch_execute("BEGIN; SET LOCAL synchronous_commit = on")
        .await?;
    target
        .execute(
            &format!(
                "UPDATE {SCHEMA}.follow_progress SET lsn = GREATEST(lsn, $2::text::pg_lsn), \
                 updated_at = now() WHERE slot = $1"
            ),
            &[&slot, &lsn.to_string()],
        )
        .await
        .context("recording the applied position on the target")?;
    target.batch_execute("COMMIT").await?;
    Ok(())
}

/// Drops pgferry's schema on the target (cut-over, cleanup).
pub async fn drop(target: &Client) -> anyhow::Result<bool> {
    let exists: bool = target
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
            &[&SCHEMA],
        )
        .await?
        .get(0);
    if exists {
        target
            .batch_execute(&format!("DROP SCHEMA {SCHEMA} CASCADE"))
            .await
            .context("dropping pgferry's schema on the target")?;
    }
    Ok(exists)
}
