//! What verify reads: every table that holds rows, cut into units of work.
//!
//! A table bigger than the split size with a one-column integer primary key
//! is read in key ranges of about that size, each range its own unit, so a
//! big table keeps every `--jobs` worker busy; and its rows are summed per
//! finer key range (see `digest`) so a difference is located. Units are
//! queued largest first, so the big work starts at once and small tables
//! fill the gaps at the end.

use super::ranges::{unit_ranges, Split};
use super::rowhash::{key_first, ColumnKind, KeyRange};
use crate::catalog::{Catalog, Column, Table};
use crate::pg::{qualified, quote_ident};
use anyhow::Context;
use std::collections::HashMap;
use tokio_postgres::Client;

/// A table to check, with everything the workers need to build its queries.
#[derive(Debug, Clone)]
pub struct Job {
    /// Quoted source name (also the name in the report).
    pub name: String,
    /// Quoted columns and how each is sent; the split key first.
    pub columns: Vec<(String, ColumnKind)>,
    /// The same table and columns under their final names on the target.
    pub target_name: String,
    pub target_columns: Vec<(String, ColumnKind)>,
    /// How the key is cut to locate differences, when it is.
    pub split: Option<Split>,
    /// The key's raw name on the target.
    pub target_key: Option<String>,
}

/// One unit of work: one key range (or all) of one job.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    /// Index of the job in the plan.
    pub job: usize,
    pub range: KeyRange,
    /// Estimated bytes, for the largest-first order.
    pub bytes: i64,
}

/// Resolves how each column is sent, which tables are split and how, and
/// returns the jobs and their units (largest first). With a selection, only
/// the selected tables and columns, under their renamed names on the
/// target; tables whose data is excluded are not compared.
pub async fn plan(
    client: &Client,
    cat: &Catalog,
    plan: &crate::plan::Plan,
    split_larger_than: i64,
) -> anyhow::Result<(Vec<Job>, Vec<Unit>)> {
    let tables: Vec<&Table> = cat
        .tables
        .iter()
        .filter(|t| !t.is_partitioned())
        .filter(|t| !plan.no_data.contains(&qualified(&t.schema, &t.name)))
        .collect();
    let type_oids: Vec<i64> = tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|c| c.type_oid))
        .collect();
    let kinds = column_kinds(client, &type_oids).await?;
    let oids: Vec<i64> = tables.iter().map(|t| t.oid).collect();
    let keys: HashMap<i64, String> = client
        .query(include_str!("../../sql/verify/int_keys.sql"), &[&oids])
        .await
        .context("reading integer primary keys (sql/verify/int_keys.sql)")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names = &plan.names;
    let mut jobs = Vec::with_capacity(tables.len());
    let mut units = Vec::new();
    for t in tables {
        let kind = |c: &Column| kinds.get(&c.type_oid).copied().unwrap_or(ColumnKind::Text);
        let final_col = |c: &str| names.column(&t.schema, &t.name, c);
        let (fs, ft) = names.table(&t.schema, &t.name);
        let name = qualified(&t.schema, &t.name);
        // A key whose column was left out cannot locate ranges.
        let key = keys
            .get(&t.oid)
            .filter(|_| t.bytes > split_larger_than)
            .filter(|k| t.columns.iter().any(|c| &c.name == *k));
        let bounds = match key {
            Some(k) => key_bounds(client, &name, k).await?,
            None => None,
        };
        // Generated columns cannot be COPYed; they follow from the others.
        let mut columns: Vec<(String, ColumnKind)> = t
            .columns
            .iter()
            .filter(|c| !c.is_generated())
            .map(|c| (quote_ident(&c.name), kind(c)))
            .collect();
        let mut target_columns: Vec<(String, ColumnKind)> = t
            .columns
            .iter()
            .filter(|c| !c.is_generated())
            .map(|c| (quote_ident(&final_col(&c.name)), kind(c)))
            .collect();
        let (split, target_key, ranges) = match (key, bounds) {
            (Some(k), Some((min, max))) => {
                key_first(&mut columns, k);
                let tk = final_col(k);
                key_first(&mut target_columns, &tk);
                let parts = (t.bytes + split_larger_than.max(1) - 1) / split_larger_than.max(1);
                let ranges = unit_ranges(min, max, parts);
                (Some(Split::locate(k, min, max)), Some(tk), ranges)
            }
            _ => (None, None, vec![KeyRange::All]),
        };
        let share = t.bytes / ranges.len() as i64;
        units.extend(ranges.into_iter().map(|range| Unit {
            job: jobs.len(),
            range,
            bytes: share,
        }));
        jobs.push(Job {
            name,
            columns,
            target_name: qualified(&fs, &ft),
            target_columns,
            split,
            target_key,
        });
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.bytes));
    Ok((jobs, units))
}

/// The source's smallest and largest key (under the snapshot), or `None`
/// for an empty table.
async fn key_bounds(client: &Client, table: &str, key: &str) -> anyhow::Result<Option<(i64, i64)>> {
    let k = quote_ident(key);
    let row = client
        .query_one(
            &format!("SELECT min({k})::int8, max({k})::int8 FROM ONLY {table}"),
            &[],
        )
        .await
        .with_context(|| format!("reading the key range of {table}"))?;
    let (min, max): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
    Ok(min.zip(max))
}

/// The [`ColumnKind`] of each type oid, domains (also of array elements)
/// resolved on the source with `sql/verify/column_bases.sql`.
async fn column_kinds(
    client: &Client,
    type_oids: &[i64],
) -> anyhow::Result<HashMap<i64, ColumnKind>> {
    let mut oids = type_oids.to_vec();
    oids.sort_unstable();
    oids.dedup();
    let bases = |oids: Vec<i64>| async move {
        let rows = client
            .query(include_str!("../../sql/verify/column_bases.sql"), &[&oids])
            .await
            .context("resolving column base types (sql/verify/column_bases.sql)")?;
        anyhow::Ok(
            rows.iter()
                .map(|r| (r.get::<_, i64>(0), (r.get::<_, i64>(1), r.get::<_, i64>(2))))
                .collect::<HashMap<i64, (i64, i64)>>(),
        )
    };
    let types = bases(oids).await?;
    let elems: Vec<i64> = types.values().map(|v| v.1).filter(|e| *e != 0).collect();
    let elem_bases = bases(elems).await?;
    Ok(types
        .iter()
        .map(|(oid, (base, elem))| {
            let elem_base = (*elem != 0).then(|| elem_bases.get(elem).map_or(*elem, |e| e.0));
            (*oid, ColumnKind::from_oids(*base, elem_base))
        })
        .collect())
}
