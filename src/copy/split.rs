//! Splitting big tables into ranges, each its own unit of work, so one huge
//! table does not leave the other workers idle.
//!
//! Ranges come from a single-column integer key (min/max read under the
//! snapshot, cut into equal slices), or, without such a key, from heap pages
//! by `ctid` where the server scans TID ranges efficiently (PostgreSQL 14+).
//! Otherwise the table is copied whole.

use crate::plan::{CopyRange, TableCopy};
use anyhow::Context;
use tokio_postgres::Client;

/// Most slices one table is cut into.
const MAX_PARTS: i64 = 64;

/// Replaces every table larger than `threshold` bytes by its ranges, then
/// orders all units largest first. `source` reads under the snapshot.
pub async fn split_big_tables(
    source: &Client,
    copies: Vec<TableCopy>,
    threshold: i64,
    version_num: i32,
) -> anyhow::Result<Vec<TableCopy>> {
    let mut out = Vec::with_capacity(copies.len());
    for tc in copies {
        if threshold <= 0 || tc.bytes <= threshold {
            out.push(tc);
            continue;
        }
        let parts = ((tc.bytes + threshold - 1) / threshold).clamp(2, MAX_PARTS);
        let ranges = match &tc.split_key {
            Some(key) => key_ranges(source, &tc, key, parts).await?,
            None if version_num >= 140000 => page_ranges(source, &tc, parts).await?,
            None => Vec::new(),
        };
        if ranges.len() < 2 {
            out.push(tc);
            continue;
        }
        tracing::debug!(table = %tc.source_qualified(), parts = ranges.len(), "split");
        let share = tc.bytes / ranges.len() as i64;
        let rows = tc.est_rows / ranges.len() as f64;
        for r in ranges {
            let mut unit = tc.clone();
            unit.bytes = share;
            unit.est_rows = rows;
            unit.range = Some(r);
            out.push(unit);
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.bytes));
    Ok(out)
}

/// Equal slices of `[min, max]` of the key; the first and last are open so
/// that no row can fall outside every slice.
async fn key_ranges(
    source: &Client,
    tc: &TableCopy,
    key: &str,
    parts: i64,
) -> anyhow::Result<Vec<CopyRange>> {
    let col = crate::pg::quote_ident(key);
    let row = source
        .query_one(
            &format!(
                "SELECT min({col})::int8, max({col})::int8 FROM ONLY {}",
                tc.source_qualified()
            ),
            &[],
        )
        .await
        .with_context(|| format!("reading the key range of {}", tc.source_qualified()))?;
    let (Some(min), Some(max)): (Option<i64>, Option<i64>) = (row.get(0), row.get(1)) else {
        return Ok(Vec::new());
    };
    let span = (max as i128) - (min as i128) + 1;
    let parts = (parts as i128).min(span).max(1);
    let step = span / parts;
    let cut = |i: i128| -> i64 { (min as i128 + step * i) as i64 };
    Ok((0..parts)
        .map(|i| CopyRange::Key {
            column: key.to_string(),
            lo: (i > 0).then(|| cut(i)),
            hi: (i + 1 < parts).then(|| cut(i + 1)),
        })
        .collect())
}

/// Equal slices of the heap's pages; the last is open-ended.
async fn page_ranges(
    source: &Client,
    tc: &TableCopy,
    parts: i64,
) -> anyhow::Result<Vec<CopyRange>> {
    let row = source
        .query_one(
            "SELECT (pg_catalog.pg_relation_size($1::text::regclass) \
             / pg_catalog.current_setting('block_size')::int8)::int8",
            &[&tc.source_qualified()],
        )
        .await
        .with_context(|| format!("reading the size of {}", tc.source_qualified()))?;
    let pages: i64 = row.get(0);
    if pages < parts {
        return Ok(Vec::new());
    }
    let step = pages / parts;
    Ok((0..parts)
        .map(|i| CopyRange::Pages {
            lo: i * step,
            hi: (i + 1 < parts).then(|| (i + 1) * step),
        })
        .collect())
}
