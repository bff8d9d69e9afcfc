//! Exact row counts of every table on both ends, the source read under one
//! snapshot so the counts belong to a single moment; and sequence values,
//! which cost next to nothing.

use super::sequences::{compare_sequences, SequenceCheck};
use super::session::{connect_at_start, SnapshotHolder};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::pg::qualified;
use anyhow::Context;
use serde::Serialize;
use tokio_postgres::Client;

/// One table's counts.
#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    pub table: String,
    pub source_rows: i64,
    /// `None` when the table is missing on the target.
    pub target_rows: Option<i64>,
    pub equal: bool,
}

async fn count(client: &Client, table: &str) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_typed_one(&format!("SELECT count(*) FROM ONLY {table}"), &[])
        .await?;
    Ok(row.get(0))
}

/// Counts rows of every table that holds rows (partitioned parents hold none;
/// their partitions are counted) on both servers, in parallel per table.
///
/// Only the selected tables are counted, and the target's under their
/// renamed names; tables whose data is excluded are not compared. Also
/// compares every selected sequence's value.
pub async fn compare_counts(
    ends: &Endpoints,
    sel: &crate::plan::Selection,
) -> anyhow::Result<(Vec<TableCount>, Vec<SequenceCheck>)> {
    let src = connect_at_start(&ends.source, "verify (source)").await?;
    let target = connect_at_start(&ends.target, "verify (target)").await?;
    let holder = SnapshotHolder::open(src).await?;
    let mut cat = Catalog::read(holder.client()).await?;
    let plan = crate::plan::prepare(&mut cat, sel)?;
    // Counted on a session of its own under the snapshot, which ends its
    // transaction now and then (see `renew_snapshot`); the holder keeps it.
    let reader = connect_at_start(&ends.source, "verify (count)").await?;
    super::session::import_snapshot(&reader, holder.id()).await?;
    let mut reads = 0;
    let mut out = Vec::new();
    for t in cat.tables.iter().filter(|t| !t.is_partitioned()) {
        let name = qualified(&t.schema, &t.name);
        if plan.no_data.contains(&name) {
            continue;
        }
        let (fs, ft) = plan.names.table(&t.schema, &t.name);
        let target_name = qualified(&fs, &ft);
        super::session::renew_snapshot(&reader, holder.id(), &mut reads).await?;
        let (s, d) = tokio::join!(count(&reader, &name), count(&target, &target_name));
        let source_rows = s.with_context(|| format!("counting {name} on the source"))?;
        let target_rows = match d {
            Ok(n) => Some(n),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => None,
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("counting {name} on the target")))
            }
        };
        out.push(TableCount {
            equal: target_rows == Some(source_rows),
            table: name,
            source_rows,
            target_rows,
        });
    }
    let sequences = compare_sequences(holder.client(), &target, &plan).await?;
    holder.close().await?;
    Ok((out, sequences))
}
