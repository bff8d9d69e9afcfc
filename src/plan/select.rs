//! Selection: which schemas, tables and columns are migrated.
//!
//! Applied to the catalog before the plan is built, so every family's DDL is
//! rendered from the selected model only. Rules (documented in
//! docs/selection.md):
//! - A schema pattern selects or excludes a whole schema; a `schema.table`
//!   pattern selects relations (tables, views, materialized views,
//!   standalone sequences). Other objects (types, functions, operators...)
//!   follow their schema; extensions are always kept.
//! - Exclusion wins over inclusion.
//! - Whatever depends on a left-out object (`pg_depend`) is left out with it
//!   and reported with the reason; a foreign key to a left-out table is
//!   dropped and reported (precheck warns, so the user decides before the
//!   first write). Nothing is left to fail half-way through the migration.

use super::{Plan, Skipped};
use crate::catalog::Catalog;
use crate::pg::names::Pattern;
use crate::pg::qualified;
use crate::pg::Oid;
use crate::step::StepKind;
use std::collections::{HashMap, HashSet};

/// What the user selected, parsed (task file `[select]` and flags).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
    pub exclude_data: Vec<Pattern>,
    pub renames: super::rename::Renames,
    /// Where relations of the source's non-default tablespaces go
    /// (`--tablespace-map`, `[tablespaces]`; see `plan::tablespaces`).
    pub tablespaces: super::tablespaces::TablespaceMap,
}

impl Selection {
    /// True when nothing is filtered, excluded or renamed.
    pub fn is_everything(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.exclude_data.is_empty()
            && self.renames.is_empty()
    }

    fn schema_selected(&self, schema: &str) -> bool {
        let included =
            self.include.is_empty() || self.include.iter().any(|p| p.schema.matches(schema));
        let excluded = self
            .exclude
            .iter()
            .any(|p| p.table.is_none() && p.schema.matches(schema));
        included && !excluded
    }

    /// Whether an exclude pattern names this relation itself (not a column list).
    fn relation_excluded(&self, schema: &str, name: &str) -> bool {
        self.exclude.iter().any(|p| {
            p.columns.is_none()
                && p.schema.matches(schema)
                && p.table.as_ref().is_some_and(|t| t.matches(name))
        })
    }

    /// A relation (table, view, standalone sequence) by schema and name.
    fn relation_selected(&self, schema: &str, name: &str) -> bool {
        let hit = |p: &Pattern| {
            p.schema.matches(schema) && p.table.as_ref().is_none_or(|t| t.matches(name))
        };
        self.schema_selected(schema)
            && (self.include.is_empty() || self.include.iter().any(hit))
            && !self
                .exclude
                .iter()
                .any(|p| p.table.is_some() && p.columns.is_none() && hit(p))
    }
}

/// A configuration error found while applying the selection (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError(pub Vec<String>);

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}
impl std::error::Error for SelectError {}

/// What selection left out, beyond what the user named.
#[derive(Debug, Clone, Default)]
pub struct SelectionReport {
    /// Objects not selected by the patterns themselves (not reported one by one).
    pub unselected: HashSet<Oid>,
    /// Objects left out because of something left out, with the reason.
    pub dependents: HashMap<Oid, String>,
    /// Core objects (tables, constraints, indexes, columns) left out with a reason.
    pub left_out: Vec<Skipped>,
    /// `schema.table` (quoted) of tables whose rows are not copied.
    pub no_data: HashSet<String>,
}

impl SelectionReport {
    fn gone(&self, oid: Oid) -> bool {
        self.unselected.contains(&oid) || self.dependents.contains_key(&oid)
    }
}

/// Readable names of the catalog objects that reasons refer to.
fn names(cat: &Catalog) -> HashMap<Oid, String> {
    let mut m = HashMap::new();
    for s in &cat.schemas {
        m.insert(s.oid, format!("schema {}", crate::pg::quote_ident(&s.name)));
    }
    for t in &cat.tables {
        m.insert(t.oid, format!("table {}", qualified(&t.schema, &t.name)));
        for c in cat.constraints.iter().filter(|c| c.table_oid == t.oid) {
            m.insert(c.oid, format!("constraint {} on {}", c.name, t.name));
        }
        for i in cat.indexes.iter().filter(|i| i.table_oid == t.oid) {
            m.insert(i.oid, format!("index {}", qualified(&t.schema, &i.name)));
        }
    }
    for s in &cat.sequences {
        m.insert(s.oid, format!("sequence {}", qualified(&s.schema, &s.name)));
    }
    for v in &cat.views.views {
        m.insert(v.oid, format!("view {}", qualified(&v.schema, &v.name)));
    }
    for f in &cat.routines.functions {
        let n = format!("{}({})", qualified(&f.schema, &f.name), f.identity_args);
        m.insert(f.oid, format!("function {n}"));
    }
    let ty = &cat.types;
    for (oid, s, n) in ty
        .enums
        .iter()
        .map(|e| (e.oid, &e.schema, &e.name))
        .chain(ty.composites.iter().map(|e| (e.oid, &e.schema, &e.name)))
        .chain(ty.ranges.iter().map(|e| (e.oid, &e.schema, &e.name)))
        .chain(ty.base_types.iter().map(|e| (e.oid, &e.schema, &e.name)))
        .chain(ty.domains.iter().map(|e| (e.oid, &e.schema, &e.name)))
    {
        m.insert(oid, format!("type {}", qualified(s, n)));
    }
    m
}

/// Every schema-contained object of the families, with its schema, so that
/// schema selection reaches all of them from one place.
fn family_objects(cat: &Catalog) -> Vec<(Oid, &str)> {
    let (ty, r, v) = (&cat.types, &cat.routines, &cat.views);
    let mut out: Vec<(Oid, &str)> = Vec::new();
    out.extend(ty.collations.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ty.enums.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ty.composites.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ty.ranges.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ty.base_types.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ty.domains.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(r.functions.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(r.aggregates.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(r.operators.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(r.opfamilies.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(r.opclasses.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(v.rules.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(v.triggers.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(v.policies.iter().map(|x| (x.oid, x.schema.as_str())));
    let ts = &cat.text_search;
    out.extend(ts.templates.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ts.parsers.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ts.dictionaries.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(ts.configurations.iter().map(|x| (x.oid, x.schema.as_str())));
    out.extend(cat.conversions.iter().map(|x| (x.oid, x.schema.as_str())));
    // A transform follows its type's schema: one of a built-in type goes
    // with `pg_catalog`, kept unless the selection names schemas to include
    // (as pg_dump keeps it only when dumping everything).
    out.extend(
        cat.transforms
            .iter()
            .map(|x| (x.oid, x.type_schema.as_str())),
    );
    let acls = cat.default_acls.iter();
    out.extend(acls.filter_map(|x| Some((x.oid, x.schema.as_deref()?))));
    let ft = &cat.foreign.tables;
    out.extend(ft.iter().map(|x| (x.oid, x.schema.as_str())));
    out
}

/// Applies the selection to the catalog; returns what was left out and why.
/// Errors name columns that a pattern lists but the table does not have.
pub fn apply(cat: &mut Catalog, sel: &Selection) -> Result<SelectionReport, SelectError> {
    let mut rep = SelectionReport::default();
    if sel.include.is_empty() && sel.exclude.is_empty() && sel.exclude_data.is_empty() {
        return Ok(rep);
    }
    let unmatched = super::unmatched::unmatched_patterns(cat, sel);
    if !unmatched.is_empty() {
        return Err(SelectError(unmatched));
    }
    let names = names(cat);
    // 1. What the patterns leave out.
    rep.unselected = unselected(cat, sel);
    // 2. Column subsets, and the objects that use a left-out column.
    let dropped_cols = super::columns::select_columns(cat, sel, &rep.unselected)?;
    let roots = super::columns::users_of_columns(cat, &dropped_cols);
    // 3. Dependents, by pg_depend, and the children of left-out tables.
    rep.dependents = dependents(cat, &rep.unselected, roots, &names);
    inheritors(cat, &mut rep, &names);
    remove_left_out(cat, &mut rep, &names);
    rep.no_data = no_data(cat, sel);
    Ok(rep)
}

/// What the patterns themselves leave out: schemas (not those of
/// extensions), relations, and every family object of a left-out schema.
fn unselected(cat: &Catalog, sel: &Selection) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let ext_schemas: HashSet<&str> = cat
        .types
        .extensions
        .iter()
        .map(|e| e.schema.as_str())
        .collect();
    for s in &cat.schemas {
        if !sel.schema_selected(&s.name) && !ext_schemas.contains(s.name.as_str()) {
            out.insert(s.oid);
        }
    }
    let mut tables_selected = HashSet::new();
    for t in &cat.tables {
        if sel.relation_selected(&t.schema, &t.name) {
            tables_selected.insert(t.oid);
        } else {
            out.insert(t.oid);
        }
    }
    for v in &cat.views.views {
        if !sel.relation_selected(&v.schema, &v.name) {
            out.insert(v.oid);
        }
    }
    // A selected table brings along the standalone sequences its defaults
    // use (`nextval('actor_actor_id_seq')` in Pagila), as pg_dump does for
    // owned ones: without them the table could not be created. Only an
    // explicit exclusion of the sequence (or its schema) leaves it out, and
    // the table with it, reported.
    let used_by_selected: HashSet<Oid> = cat
        .depends
        .iter()
        .filter(|(obj, _)| tables_selected.contains(obj))
        .map(|(_, seq)| *seq)
        .collect();
    for s in cat.sequences.iter().filter(|s| s.owned_by.is_none()) {
        let brought = used_by_selected.contains(&s.oid)
            && sel.schema_selected(&s.schema)
            && !sel.relation_excluded(&s.schema, &s.name);
        if !sel.relation_selected(&s.schema, &s.name) && !brought {
            out.insert(s.oid);
        }
    }
    for (oid, schema) in family_objects(cat) {
        if !sel.schema_selected(schema) {
            out.insert(oid);
        }
    }
    out
}

/// Everything that depends (`pg_depend`, transitively) on an unselected
/// object or on one of `roots`, with the reason; `roots` are included.
/// Table-to-table links are foreign keys and inheritance folded into the
/// table: handled apart, never a reason to leave a whole table out.
fn dependents(
    cat: &Catalog,
    unselected: &HashSet<Oid>,
    roots: HashMap<Oid, String>,
    names: &HashMap<Oid, String>,
) -> HashMap<Oid, String> {
    let tables: HashSet<Oid> = cat.tables.iter().map(|t| t.oid).collect();
    let edges: Vec<(Oid, Oid)> = cat
        .depends
        .iter()
        .copied()
        .filter(|(a, b)| !(tables.contains(a) && tables.contains(b)))
        .collect();
    let mut by_ref: HashMap<Oid, Vec<Oid>> = HashMap::new();
    for (obj, refd) in &edges {
        by_ref.entry(*refd).or_default().push(*obj);
    }
    let mut stack: Vec<Oid> = unselected.iter().copied().collect();
    stack.extend(roots.keys().copied());
    let mut dependents = roots;
    while let Some(x) = stack.pop() {
        for &d in by_ref.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
            if unselected.contains(&d) || dependents.contains_key(&d) {
                continue;
            }
            let what = names
                .get(&x)
                .cloned()
                .unwrap_or_else(|| format!("object {x}"));
            let why = if unselected.contains(&x) {
                format!("depends on {what}, which is not selected")
            } else {
                format!("depends on {what}, which is left out")
            };
            dependents.insert(d, why);
            stack.push(d);
        }
    }
    dependents
}

/// Inheritance and partition children of a left-out table go with it.
fn inheritors(cat: &Catalog, rep: &mut SelectionReport, names: &HashMap<Oid, String>) {
    loop {
        let more: Vec<(Oid, String)> = cat
            .tables
            .iter()
            .filter(|t| !rep.gone(t.oid))
            .filter_map(|t| {
                let p = t.parent_oids.iter().find(|p| rep.gone(**p))?;
                let what = names.get(p).cloned().unwrap_or_default();
                Some((t.oid, format!("inherits from {what}, which is left out")))
            })
            .collect();
        if more.is_empty() {
            break;
        }
        rep.dependents.extend(more);
    }
}

/// Removes left-out objects from the catalog's core lists, reporting the
/// surprising ones (dependents, foreign keys to left-out tables).
fn remove_left_out(cat: &mut Catalog, rep: &mut SelectionReport, names: &HashMap<Oid, String>) {
    let mut left_out = Vec::new();
    let mut note = |kind: &'static str, oid: Oid, reason: &str| {
        let name = names.get(&oid).cloned().unwrap_or_else(|| oid.to_string());
        // The names say their kind ("table x"); the kind is said apart.
        let object = match name.split_once(' ') {
            Some((k, rest)) if k == kind || (kind == "foreign key" && k == "constraint") => {
                rest.to_string()
            }
            _ => name,
        };
        left_out.push(Skipped {
            kind,
            object,
            reason: reason.to_string(),
            oid: Some(oid),
        });
    };
    cat.schemas.retain(|s| !rep.unselected.contains(&s.oid));
    for t in cat.tables.iter() {
        if let Some(why) = rep.dependents.get(&t.oid) {
            note("table", t.oid, why);
        }
    }
    let gone_tables: HashSet<Oid> = cat
        .tables
        .iter()
        .filter(|t| rep.gone(t.oid))
        .map(|t| t.oid)
        .collect();
    cat.tables.retain(|t| !gone_tables.contains(&t.oid));
    cat.reindex();
    let mut fk_drops = Vec::new();
    for c in &cat.constraints {
        if gone_tables.contains(&c.table_oid) {
            continue;
        }
        if let Some(why) = rep.dependents.get(&c.oid) {
            note("constraint", c.oid, why);
        } else if c.contype == "f" && c.ref_table_oid.is_some_and(|r| gone_tables.contains(&r)) {
            let what = c
                .ref_table_oid
                .and_then(|r| names.get(&r))
                .cloned()
                .unwrap_or_default();
            let why = format!("foreign key to {what}, which is not migrated");
            note("foreign key", c.oid, &why);
            fk_drops.push((c.oid, why));
        }
    }
    rep.dependents.extend(fk_drops);
    cat.constraints
        .retain(|c| !gone_tables.contains(&c.table_oid) && !rep.gone(c.oid));
    for i in &cat.indexes {
        if !gone_tables.contains(&i.table_oid) {
            if let Some(why) = rep.dependents.get(&i.oid) {
                note("index", i.oid, why);
            }
        }
    }
    cat.indexes
        .retain(|i| !gone_tables.contains(&i.table_oid) && !rep.gone(i.oid));
    cat.sequences.retain(|s| {
        !rep.gone(s.oid)
            && s.owned_by
                .as_ref()
                .is_none_or(|o| !gone_tables.contains(&o.0))
    });
    rep.left_out = left_out;
}

/// Tables whose rows are not copied (`exclude_data`), partitions of a
/// matched partitioned table included.
fn no_data(cat: &Catalog, sel: &Selection) -> HashSet<String> {
    let mut oids: HashSet<Oid> = cat
        .tables
        .iter()
        .filter(|t| {
            sel.exclude_data.iter().any(|p| {
                p.schema.matches(&t.schema) && p.table.as_ref().is_none_or(|x| x.matches(&t.name))
            })
        })
        .map(|t| t.oid)
        .collect();
    loop {
        let more: Vec<Oid> = cat
            .tables
            .iter()
            .filter(|t| !oids.contains(&t.oid) && t.parent_oids.iter().any(|p| oids.contains(p)))
            .map(|t| t.oid)
            .collect();
        if more.is_empty() {
            break;
        }
        oids.extend(more);
    }
    cat.tables
        .iter()
        .filter(|t| oids.contains(&t.oid))
        .map(|t| qualified(&t.schema, &t.name))
        .collect()
}

/// Drops the plan's statements of left-out family objects (types, routines,
/// views, triggers, rules, policies...) by their oid, one place for every
/// family, and the copies of `exclude_data` tables. Dependents are listed in
/// `plan.excluded` with the reason.
pub fn prune(plan: &mut Plan, rep: &SelectionReport) {
    let mut excluded = rep.left_out.clone();
    let mut seen: HashSet<Oid> = excluded.iter().filter_map(|s| s.oid).collect();
    for steps in [&mut plan.pre_data, &mut plan.post_data] {
        steps.retain(|s| {
            let Some(oid) = s.oid.filter(|o| rep.gone(*o)) else {
                return true;
            };
            if let Some(why) = rep.dependents.get(&oid) {
                if seen.insert(oid) {
                    excluded.push(Skipped {
                        kind: s.kind.label(),
                        object: s.object.clone(),
                        reason: why.clone(),
                        oid: s.oid,
                    });
                }
            }
            false
        });
    }
    plan.skipped.retain(|s| !s.oid.is_some_and(|o| rep.gone(o)));
    plan.copies
        .retain(|c| !rep.no_data.contains(&c.source_qualified()));
    plan.excluded = excluded;
    let mut no_data: Vec<String> = rep.no_data.iter().cloned().collect();
    no_data.sort();
    plan.no_data = no_data;
}

/// Foreign keys that point at an exclude-data table cannot be validated: the
/// referenced rows are not copied. The key is still created, `NOT VALID`
/// (enforced for new rows, existing ones unchecked), and reported; on a
/// partitioned table, where `NOT VALID` keys do not exist before 18, it is
/// left out and reported.
pub fn keep_keys_to_empty_tables(plan: &mut Plan, cat: &Catalog, rep: &SelectionReport) {
    if rep.no_data.is_empty() {
        return;
    }
    let qualified = |oid: Oid| {
        cat.table(oid)
            .map(|t| crate::pg::qualified(&t.schema, &t.name))
    };
    for c in cat.constraints.iter().filter(|c| c.contype == "f") {
        let (Some(referenced), Some(own)) =
            (c.ref_table_oid.and_then(qualified), qualified(c.table_oid))
        else {
            continue;
        };
        if !rep.no_data.contains(&referenced) || rep.no_data.contains(&own) {
            continue;
        }
        let partitioned = cat.table(c.table_oid).is_some_and(|t| t.is_partitioned());
        let before = plan.post_data.len();
        plan.post_data.retain(|s| {
            !(s.oid == Some(c.oid) && (partitioned || s.kind == StepKind::ForeignKeyValidation))
        });
        if plan.post_data.len() != before {
            plan.excluded.push(Skipped {
                kind: "foreign key",
                object: format!("{} on {own}", crate::pg::quote_ident(&c.name)),
                reason: if partitioned {
                    format!("references {referenced}, whose rows are not copied; left out")
                } else {
                    format!("references {referenced}, whose rows are not copied; created NOT VALID")
                },
                oid: Some(c.oid),
            });
        }
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
