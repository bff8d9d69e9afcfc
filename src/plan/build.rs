//! Source model -> ordered plan.

use super::{Phase, Plan, SequenceValue, Step, TableCopy};
use crate::catalog::{Catalog, Table};
use crate::ddl;
use crate::pg::{qualified, quote_ident};
use std::collections::HashSet;

/// Builds the plan for migrating everything in `cat`.
pub fn build(cat: &Catalog) -> Plan {
    let pre = Phase::PreData;
    let mut plan = Plan::default();
    for s in &cat.schemas {
        let name = quote_ident(&s.name);
        plan.pre_data.push(Step::new(
            pre,
            "schema",
            name.clone(),
            format!("CREATE SCHEMA IF NOT EXISTS {name};"),
        ));
        if let Some(c) = ddl::comment(&format!("SCHEMA {name}"), &s.comment) {
            plan.pre_data.push(Step::new(pre, "comment", name, c));
        }
    }
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        let name = qualified(&s.schema, &s.name);
        plan.pre_data.push(Step::new(
            pre,
            "sequence",
            name.clone(),
            ddl::create_sequence(s),
        ));
    }
    let ordered = parents_first(cat);
    for t in &ordered {
        let name = qualified(&t.schema, &t.name);
        plan.pre_data.push(Step::new(
            pre,
            "table",
            name.clone(),
            ddl::create_table(t, cat),
        ));
        for sql in ddl::inherited_column_fixups(t, cat) {
            plan.pre_data
                .push(Step::new(pre, "column default", name.clone(), sql));
        }
    }
    for t in &ordered {
        if let Some(sql) = ddl::attach_partition(t, cat) {
            let name = qualified(&t.schema, &t.name);
            plan.pre_data
                .push(Step::new(pre, "partition attach", name, sql));
        }
    }
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        if let Some(sql) = ddl::sequence_owned_by(s, cat) {
            plan.pre_data.push(Step::new(
                pre,
                "sequence owned by",
                qualified(&s.schema, &s.name),
                sql,
            ));
        }
    }
    table_comments(cat, &ordered, &mut plan.pre_data);

    for t in ordered.iter().filter(|t| !t.is_partitioned()) {
        plan.copies.push(copy_of(t));
    }
    plan.copies.sort_by_key(|c| std::cmp::Reverse(c.bytes));

    plan.post_data.extend(ddl::index_steps(cat));
    plan.post_data.extend(ddl::constraint_steps(cat));
    for s in &cat.sequences {
        let name = qualified(&s.schema, &s.name);
        plan.sequences.push(SequenceValue {
            source: name.clone(),
            target: name,
        });
    }
    plan
}

/// Tables ordered so that every inheritance or partition parent comes before
/// its children (the catalog gives them by name).
fn parents_first(cat: &Catalog) -> Vec<&Table> {
    let mut done: HashSet<i64> = HashSet::new();
    let mut out = Vec::with_capacity(cat.tables.len());
    fn visit<'a>(
        t: &'a Table,
        cat: &'a Catalog,
        done: &mut HashSet<i64>,
        out: &mut Vec<&'a Table>,
    ) {
        if !done.insert(t.oid) {
            return;
        }
        for p in t.parent_oids.iter().filter_map(|o| cat.table(*o)) {
            visit(p, cat, done, out);
        }
        out.push(t);
    }
    for t in &cat.tables {
        visit(t, cat, &mut done, &mut out);
    }
    out
}

fn copy_of(t: &Table) -> TableCopy {
    let cols: Vec<&crate::catalog::Column> =
        t.columns.iter().filter(|c| !c.is_generated()).collect();
    TableCopy {
        source_schema: t.schema.clone(),
        source_name: t.name.clone(),
        target_schema: t.schema.clone(),
        target_name: t.name.clone(),
        source_columns: cols.iter().map(|c| c.name.clone()).collect(),
        target_columns: cols.iter().map(|c| c.name.clone()).collect(),
        binary: cols.iter().all(|c| c.binary_ok),
        bytes: t.bytes,
        est_rows: t.est_rows,
    }
}

fn table_comments(cat: &Catalog, tables: &[&Table], out: &mut Vec<Step>) {
    let pre = Phase::PreData;
    for t in tables {
        let name = qualified(&t.schema, &t.name);
        if let Some(c) = ddl::comment(&format!("TABLE {name}"), &t.comment) {
            out.push(Step::new(pre, "comment", name.clone(), c));
        }
        for col in &t.columns {
            let what = format!("COLUMN {name}.{}", quote_ident(&col.name));
            if let Some(c) = ddl::comment(&what, &col.comment) {
                out.push(Step::new(pre, "comment", name.clone(), c));
            }
        }
    }
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        let name = qualified(&s.schema, &s.name);
        if let Some(c) = ddl::comment(&format!("SEQUENCE {name}"), &s.comment) {
            out.push(Step::new(pre, "comment", name, c));
        }
    }
}
