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

/// When to split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitPolicy {
    /// Split only a table that would keep one worker busy well after the
    /// others ran out of work: bigger than 1.5 times the fair share (all
    /// bytes / workers), into pieces of about one share. A whole table loads
    /// with `TRUNCATE` + `COPY FREEZE`, which later index builds and ANALYZE
    /// read faster (no hint bits to set), so splitting is not free.
    Auto { jobs: usize },
    /// Split every table larger than this many bytes (0: never).
    Larger(i64),
}

impl SplitPolicy {
    /// How many parts `bytes` is cut into, given all tables' `total` bytes.
    pub fn parts(self, bytes: i64, total: i64) -> i64 {
        let threshold = match self {
            SplitPolicy::Larger(t) => t,
            SplitPolicy::Auto { jobs } => {
                let share = total / jobs.max(1) as i64;
                if jobs < 2 || bytes * 2 <= share * 3 {
                    return 1;
                }
                share
            }
        };
        if threshold <= 0 || bytes <= threshold {
            1
        } else {
            ((bytes + threshold - 1) / threshold).clamp(2, MAX_PARTS)
        }
    }
}

/// Replaces every table the policy says to split by its ranges, then orders
/// all units largest first. `source` reads under the snapshot.
pub async fn split_big_tables(
    source: &Client,
    copies: Vec<TableCopy>,
    policy: SplitPolicy,
    version_num: i32,
) -> anyhow::Result<Vec<TableCopy>> {
    let total: i64 = copies.iter().map(|c| c.bytes.max(0)).sum();
    let mut out = Vec::with_capacity(copies.len());
    for tc in copies {
        let parts = policy.parts(tc.bytes, total);
        if parts < 2 {
            out.push(tc);
            continue;
        }
        let ranges = match &tc.split_key {
            Some(key) => key_ranges(source, &tc, key, parts).await?,
            None if version_num >= crate::pg::PG14 => page_ranges(source, &tc, parts).await?,
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
        .query_typed_one(
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

#[cfg(test)]
mod tests {
    use super::SplitPolicy;

    #[test]
    fn auto_splits_only_a_dominant_table() {
        let auto = SplitPolicy::Auto { jobs: 2 };
        // Two equal halves: each is one worker's share, nothing to gain.
        assert_eq!(auto.parts(500, 1000), 1);
        // One table of 90%: cut into pieces of about a share.
        assert_eq!(auto.parts(900, 1000), 2);
        assert_eq!(SplitPolicy::Auto { jobs: 4 }.parts(900, 1000), 4);
        assert_eq!(SplitPolicy::Auto { jobs: 1 }.parts(900, 1000), 1);
        assert_eq!(SplitPolicy::Larger(100).parts(250, 1000), 3);
        assert_eq!(SplitPolicy::Larger(0).parts(250, 1000), 1);
    }
}
