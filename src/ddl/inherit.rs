//! Exact column order for inheritance children.
//!
//! `CREATE TABLE child (...) INHERITS (parent)` puts the parent's columns first.
//! When a column was added to the parent after the child existed, the child
//! has it last instead; pg_dump loses that order. We keep it by replaying the
//! history: create the parent with the columns it had when each child was
//! created, create those children, then `ALTER TABLE parent ADD COLUMN` the
//! rest, which appends them to every child, exactly as on the source.
//!
//! Handled: a parent without parents of its own whose children each have this
//! one parent and no children. Other shapes keep pg_dump's behaviour.

use super::tables::{add_checks, add_column, create_table_with};
use crate::catalog::{Catalog, Table};
use crate::pg::Oid;
use crate::step::StepKind;

/// One statement of a replay: the object it belongs to and the SQL.
pub struct ReplayStep {
    pub oid: Oid,
    pub kind: StepKind,
    pub sql: String,
}

/// The column order `CREATE TABLE child (local columns) INHERITS (parent)`
/// gives when the parent has its first `k` columns, followed by the parent's
/// later columns appended by `ADD COLUMN`.
fn simulated_order(parent: &Table, child: &Table, k: usize) -> Vec<String> {
    let first: Vec<&str> = parent.columns[..k]
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut order: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    for c in child.columns.iter().filter(|c| c.is_local) {
        if !first.contains(&c.name.as_str()) {
            order.push(c.name.clone());
        }
    }
    for p in &parent.columns[k..] {
        if !order.contains(&p.name) {
            order.push(p.name.clone());
        }
    }
    order
}

/// The number of parent columns that existed when `child` was created, or
/// `None` when no such history gives the child's order.
fn columns_at_creation(parent: &Table, child: &Table) -> Option<usize> {
    let actual: Vec<String> = child.columns.iter().map(|c| c.name.clone()).collect();
    (0..=parent.columns.len())
        .rev()
        .find(|&k| simulated_order(parent, child, k) == actual)
}

/// The replay for `parent`, when one is needed and possible.
pub fn replay(parent: &Table, cat: &Catalog) -> Option<Vec<ReplayStep>> {
    if parent.is_partitioned() || parent.is_partition || !parent.parent_oids.is_empty() {
        return None;
    }
    let children: Vec<&Table> = cat
        .tables
        .iter()
        .filter(|t| t.parent_oids.contains(&parent.oid))
        .collect();
    if children.is_empty() {
        return None;
    }
    let mut ks = Vec::new();
    for c in &children {
        let single = c.parent_oids.len() == 1 && !c.is_partition;
        let leaf = !cat.tables.iter().any(|t| t.parent_oids.contains(&c.oid));
        if !single || !leaf {
            return None;
        }
        ks.push((columns_at_creation(parent, c)?, *c));
    }
    let n = parent.columns.len();
    if ks.iter().all(|(k, _)| *k == n) {
        return None;
    }
    ks.sort_by_key(|(k, _)| *k);
    let first_k = ks.first().map_or(n, |(k, _)| *k);
    let mut out = vec![ReplayStep {
        oid: parent.oid,
        kind: StepKind::Table,
        sql: create_table_with(parent, cat, first_k, false),
    }];
    let mut have = first_k;
    for (k, child) in &ks {
        for c in &parent.columns[have..*k] {
            out.push(ReplayStep {
                oid: parent.oid,
                kind: StepKind::Column,
                sql: add_column(parent, c, cat),
            });
        }
        have = have.max(*k);
        out.push(ReplayStep {
            oid: parent.oid,
            kind: StepKind::Table,
            sql: create_table_with(child, cat, child.columns.len(), true),
        });
    }
    for c in &parent.columns[have..] {
        out.push(ReplayStep {
            oid: parent.oid,
            kind: StepKind::Column,
            sql: add_column(parent, c, cat),
        });
    }
    for sql in add_checks(parent, cat) {
        out.push(ReplayStep {
            oid: parent.oid,
            kind: StepKind::CheckConstraint,
            sql,
        });
    }
    Some(out)
}
