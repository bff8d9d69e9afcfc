//! What verify reads: every table that holds rows, cut into units of work.
//!
//! A table bigger than the split size is read in parts of about that size,
//! each unit one part on each end, so a big table keeps every `--jobs`
//! worker busy. A part is a range of heap pages on PostgreSQL 14+ (a TID
//! range scan: a slice of a sequential scan, no index), else a range of a
//! one-column integer primary key (an index scan); without either the table
//! is read whole. The two ends may cut differently (a 10 -> 15 migration:
//! key ranges on 10, pages on 15): each end's parts cover all of its rows,
//! and only sums over the whole table, or per key value range, are compared.
//!
//! A big table with such a key is also summed per finer key range, from the
//! key values themselves (see `digest`), so a difference is located whatever
//! the parts. Units are queued largest first, so the big work starts at once
//! and small tables fill the gaps at the end.

use super::ranges::{page_ranges, unit_ranges, Split, MAX_UNITS};
use super::rowhash::{key_first, ColumnKind, Part};
use crate::catalog::{Catalog, Column, Table};
use crate::pg::Oid;
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

/// One unit of work: one part of one job on each end.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    /// Index of the job in the plan.
    pub job: usize,
    pub source: Part,
    pub target: Part,
    /// Estimated bytes, for the largest-first order.
    pub bytes: i64,
}

/// Either end's planning session and `server_version_num`.
pub struct PlanEnds<'a> {
    pub source: &'a Client,
    pub source_version: i32,
    pub target: &'a Client,
    pub target_version: i32,
}

/// TID range scans, which make page ranges cheap, came in PostgreSQL 14.
const TID_RANGE_SCAN: i32 = crate::pg::PG14;

/// Resolves how each column is sent, which tables are split and how, and
/// returns the jobs and their units (largest first). With a selection, only
/// the selected tables and columns, under their renamed names on the
/// target; tables whose data is excluded are not compared.
pub async fn plan(
    ends: &PlanEnds<'_>,
    cat: &Catalog,
    plan: &crate::plan::Plan,
    split_larger_than: i64,
) -> anyhow::Result<(Vec<Job>, Vec<Unit>)> {
    let client = ends.source;
    let tables: Vec<&Table> = cat
        .tables
        .iter()
        .filter(|t| !t.is_partitioned())
        .filter(|t| !plan.no_data.contains(&qualified(&t.schema, &t.name)))
        .collect();
    let type_oids: Vec<Oid> = tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|c| c.type_oid))
        .collect();
    let kinds = column_kinds(client, &type_oids).await?;
    let oids: Vec<Oid> = tables.iter().map(|t| t.oid).collect();
    let keys: HashMap<Oid, String> = client
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
        // Generated columns too: `COPY (SELECT ...)` reads them (only the
        // `COPY t (cols)` form refuses), and their values are compared.
        let mut columns: Vec<(String, ColumnKind)> = t
            .columns
            .iter()
            .map(|c| (quote_ident(&c.name), kind(c)))
            .collect();
        let mut target_columns: Vec<(String, ColumnKind)> = t
            .columns
            .iter()
            .map(|c| (quote_ident(&final_col(&c.name)), kind(c)))
            .collect();
        let (split, target_key) = match (key, bounds) {
            (Some(k), Some((min, max))) => {
                key_first(&mut columns, k);
                let tk = final_col(k);
                key_first(&mut target_columns, &tk);
                (Some(Split::locate(k, min, max)), Some(tk))
            }
            _ => (None, None),
        };
        let target_name = qualified(&fs, &ft);
        let parts = if t.bytes > split_larger_than {
            let size = split_larger_than.max(1) as i128;
            let wanted = (t.bytes as i128 + size - 1) / size;
            let cut = Cut {
                parts: wanted.clamp(1, MAX_UNITS as i128) as usize,
                keys: bounds.filter(|_| split.is_some()),
            };
            cut_parts(ends, &name, &target_name, cut).await?
        } else {
            vec![(Part::All, Part::All)]
        };
        let share = t.bytes / parts.len() as i64;
        units.extend(parts.into_iter().map(|(source, target)| Unit {
            job: jobs.len(),
            source,
            target,
            bytes: share,
        }));
        jobs.push(Job {
            name,
            columns,
            target_name,
            target_columns,
            split,
            target_key,
        });
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.bytes));
    Ok((jobs, units))
}

/// How a big table is to be cut: into about `parts` units, by key over
/// `keys` (the source's smallest and largest) where pages cannot be used.
#[derive(Debug, Clone, Copy)]
struct Cut {
    parts: usize,
    keys: Option<(i64, i64)>,
}

/// Each unit's part on the source and on the target (see the module
/// documentation); one unit of all rows when an end can be cut neither way.
async fn cut_parts(
    ends: &PlanEnds<'_>,
    source: &str,
    target: &str,
    cut: Cut,
) -> anyhow::Result<Vec<(Part, Part)>> {
    let whole = vec![(Part::All, Part::All)];
    let src_pages = match ends.source_version >= TID_RANGE_SCAN {
        true => pages(ends.source, source).await?,
        false => None,
    };
    let dst_pages = match ends.target_version >= TID_RANGE_SCAN {
        true => pages(ends.target, target).await?,
        false => None,
    };
    // Key ranges where pages cannot be used; they fix the number of units.
    let key_parts = match (cut.keys, src_pages.is_none() || dst_pages.is_none()) {
        (Some((min, max)), true) => Some(unit_ranges(min, max, cut.parts as i64)),
        (None, true) => return Ok(whole),
        (_, false) => None,
    };
    let n = key_parts.as_ref().map_or(cut.parts, Vec::len);
    if n < 2 {
        return Ok(whole);
    }
    let side = |pages: Option<i64>| -> Option<Vec<Part>> {
        match (pages, &key_parts) {
            (Some(p), _) => Some(page_ranges(p, n).into_iter().map(Part::Pages).collect()),
            (None, Some(k)) => Some(k.iter().map(|r| Part::Keys(*r)).collect()),
            (None, None) => None,
        }
    };
    Ok(match (side(src_pages), side(dst_pages)) {
        (Some(s), Some(t)) => s.into_iter().zip(t).collect(),
        _ => whole,
    })
}

/// The table's heap pages on this end, `None` when it is missing there.
async fn pages(client: &Client, table: &str) -> anyhow::Result<Option<i64>> {
    let row = client
        .query_one(
            "SELECT pg_catalog.pg_relation_size($1::text::pg_catalog.regclass) \
             / pg_catalog.current_setting('block_size')::int8",
            &[&table],
        )
        .await;
    match row {
        Ok(r) => Ok(Some(r.get(0))),
        Err(e) if super::session::missing_on_target(&e).is_some() => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("reading the size of {table}"))),
    }
}

/// The source's smallest and largest key (under the snapshot), or `None`
/// for an empty table.
async fn key_bounds(client: &Client, table: &str, key: &str) -> anyhow::Result<Option<(i64, i64)>> {
    let k = quote_ident(key);
    let row = client
        .query_typed_one(
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
    type_oids: &[Oid],
) -> anyhow::Result<HashMap<Oid, ColumnKind>> {
    let mut oids = type_oids.to_vec();
    oids.sort_unstable();
    oids.dedup();
    let bases = |oids: Vec<Oid>| async move {
        let rows = client
            .query(include_str!("../../sql/verify/column_bases.sql"), &[&oids])
            .await
            .context("resolving column base types (sql/verify/column_bases.sql)")?;
        anyhow::Ok(
            rows.iter()
                .map(|r| {
                    let elem = r.get::<_, Oid>(2).nonzero();
                    (r.get::<_, Oid>(0), (r.get::<_, Oid>(1), elem))
                })
                .collect::<HashMap<Oid, (Oid, Option<Oid>)>>(),
        )
    };
    let types = bases(oids).await?;
    let elems: Vec<Oid> = types.values().filter_map(|v| v.1).collect();
    let elem_bases = bases(elems).await?;
    Ok(types
        .iter()
        .map(|(oid, (base, elem))| {
            let elem_base = elem.map(|e| elem_bases.get(&e).map_or(e, |b| b.0));
            (*oid, ColumnKind::from_oids(*base, elem_base))
        })
        .collect())
}
