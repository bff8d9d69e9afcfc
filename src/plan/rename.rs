//! Renames of schemas, tables and columns, done by PostgreSQL itself.
//!
//! Everything is created under the source names, rows are copied, post-data
//! is built, and then the plan's last phase runs `ALTER TABLE .. RENAME
//! COLUMN`, `ALTER TABLE .. RENAME TO` and `ALTER SCHEMA .. RENAME TO`.
//! Views, rules, indexes, constraints, foreign keys, triggers (WHEN clauses
//! too), policies and owned sequences refer to tables and columns by oid, so
//! they follow without any text rewriting. Sequence values are set after the
//! renames, under the final names. Function bodies are text: precheck names
//! those that mention a renamed object.

use super::{Phase, Plan, Step};
use crate::catalog::{Catalog, Table};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::step::StepKind;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One rename as the user wrote it, already parsed into exact names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameEntry {
    /// `key = value` as written, for messages.
    pub entry: String,
    /// Source name parts: `[schema]`, `[schema, table]` or `[schema, table, column]`.
    pub from: Vec<String>,
    /// New name: the last part (a table's may be `schema.table`, same schema).
    pub to: Vec<String>,
}

/// The `[rename]` section.
#[derive(Debug, Clone, Default)]
pub struct Renames {
    pub schemas: Vec<RenameEntry>,
    pub tables: Vec<RenameEntry>,
    pub columns: Vec<RenameEntry>,
}

impl Renames {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.tables.is_empty() && self.columns.is_empty()
    }
}

/// Source name -> final name on the target, for every consumer of the plan
/// (ANALYZE, sequence values, verify, `--data-only`).
#[derive(Debug, Clone, Default)]
pub struct NameMap {
    schemas: HashMap<String, String>,
    tables: HashMap<(String, String), String>,
    columns: HashMap<(String, String, String), String>,
}

impl NameMap {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.tables.is_empty() && self.columns.is_empty()
    }
    /// Final name of a source schema.
    pub fn schema(&self, s: &str) -> String {
        self.schemas
            .get(s)
            .cloned()
            .unwrap_or_else(|| s.to_string())
    }
    /// Final (schema, name) of a source table (or any relation of its schema).
    pub fn table(&self, s: &str, t: &str) -> (String, String) {
        let name = self.tables.get(&(s.into(), t.into())).cloned();
        (self.schema(s), name.unwrap_or_else(|| t.to_string()))
    }
    /// Final name of a source column.
    pub fn column(&self, s: &str, t: &str, c: &str) -> String {
        let key = (s.to_string(), t.to_string(), c.to_string());
        self.columns
            .get(&key)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    }
    /// The raw source names that are renamed (schemas, tables, columns).
    pub fn raw_sources(&self) -> Vec<String> {
        let mut out: Vec<String> = self.schemas.keys().cloned().collect();
        out.extend(self.tables.keys().map(|(_, t)| t.clone()));
        out.extend(self.columns.keys().map(|(_, _, c)| c.clone()));
        out
    }

    /// Renamed columns as (source name, final name), raw.
    pub fn column_pairs(&self) -> Vec<(String, String)> {
        self.columns
            .iter()
            .map(|((_, _, c), n)| (c.clone(), n.clone()))
            .collect()
    }

    /// Renamed schemas and tables as (kind, source parts, final parts), raw.
    pub fn listing_raw(&self) -> Vec<(&'static str, Vec<String>, Vec<String>)> {
        let mut out = Vec::new();
        for (s, n) in &self.schemas {
            out.push(("schema", vec![s.clone()], vec![n.clone()]));
        }
        for ((s, t), n) in &self.tables {
            let fs = self.schema(s);
            out.push(("table", vec![s.clone(), t.clone()], vec![fs, n.clone()]));
        }
        out
    }

    /// Renamed schemas, tables and columns as (kind, source, final) display strings.
    pub fn listing(&self) -> Vec<(&'static str, String, String)> {
        let mut out: Vec<(&'static str, String, String)> = Vec::new();
        for (s, n) in &self.schemas {
            out.push(("schema", quote_ident(s), quote_ident(n)));
        }
        for ((s, t), n) in &self.tables {
            let (fs, _) = self.table(s, t);
            out.push(("table", qualified(s, t), qualified(&fs, n)));
        }
        for ((s, t, c), n) in &self.columns {
            let (fs, ft) = self.table(s, t);
            let from = format!("{}.{}", qualified(s, t), quote_ident(c));
            let to = format!("{}.{}", qualified(&fs, &ft), quote_ident(n));
            out.push(("column", from, to));
        }
        out.sort();
        out
    }
}

/// Checks the renames against the (selected) source model and returns the
/// name map. Every problem is listed, each naming its entry, in the order:
/// schemas, tables, columns (each kind's own errors, then its collisions).
pub fn resolve(cat: &Catalog, r: &Renames) -> Result<NameMap, Vec<String>> {
    let mut errors = Vec::new();
    let mut map = NameMap::default();
    resolve_schemas(cat, &r.schemas, &mut map, &mut errors);
    schema_collisions(cat, &map, &mut errors);
    resolve_tables(cat, &r.tables, &mut map, &mut errors);
    relation_collisions(cat, &map, &mut errors);
    resolve_columns(cat, &r.columns, &mut map, &mut errors);
    column_collisions(cat, &map, &mut errors);
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// Schema renames: the schema must exist (and be selected), once.
fn resolve_schemas(
    cat: &Catalog,
    entries: &[RenameEntry],
    map: &mut NameMap,
    errors: &mut Vec<String>,
) {
    let schemas: HashSet<&str> = cat.schemas.iter().map(|s| s.name.as_str()).collect();
    for e in entries {
        let (from, to) = (&e.from[0], &e.to[0]);
        if !schemas.contains(from.as_str()) {
            errors.push(format!(
                "rename `{}`: schema {} does not exist on the source or is not selected",
                e.entry,
                quote_ident(from)
            ));
        } else if map.schemas.insert(from.clone(), to.clone()).is_some() {
            errors.push(format!(
                "rename `{}`: schema {from} is renamed twice",
                e.entry
            ));
        }
    }
}

/// No two schemas may end up with the same final name.
fn schema_collisions(cat: &Catalog, map: &NameMap, errors: &mut Vec<String>) {
    let mut finals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &cat.schemas {
        finals
            .entry(map.schema(&s.name))
            .or_default()
            .push(s.name.clone());
    }
    for (fin, from) in finals.iter().filter(|(_, v)| v.len() > 1) {
        errors.push(format!(
            "renames collide: schemas {} would all be named {}",
            from.join(", "),
            quote_ident(fin)
        ));
    }
}

/// The (selected) source table an entry names by its first two parts, or the
/// error that says it is not there.
fn entry_table<'a>(cat: &'a Catalog, e: &RenameEntry) -> Result<&'a Table, String> {
    let (s, t) = (&e.from[0], &e.from[1]);
    cat.tables
        .iter()
        .find(|x| &x.schema == s && &x.name == t)
        .ok_or_else(|| {
            format!(
                "rename `{}`: table {} does not exist on the source or is not selected",
                e.entry,
                qualified(s, t)
            )
        })
}

/// Table renames: the table must exist, stay in its schema, and be renamed once.
fn resolve_tables(
    cat: &Catalog,
    entries: &[RenameEntry],
    map: &mut NameMap,
    errors: &mut Vec<String>,
) {
    for e in entries {
        let (s, t) = (&e.from[0], &e.from[1]);
        let table = match entry_table(cat, e) {
            Ok(table) => table,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        if e.to.len() == 2 && e.to[0] != *s && e.to[0] != map.schema(s) {
            errors.push(format!(
                "rename `{}`: moving a table to another schema is not supported; rename the \
                 schema, or keep the table in {}",
                e.entry,
                quote_ident(&map.schema(s))
            ));
            continue;
        }
        let to = e.to[e.to.len() - 1].clone();
        if map.tables.insert((s.clone(), t.clone()), to).is_some() {
            errors.push(format!(
                "rename `{}`: table {} is renamed twice",
                e.entry, table.name
            ));
        }
    }
}

/// Column renames: the column must exist (and be selected), be the table's
/// own (an inherited one is renamed on the parent), and be renamed once.
fn resolve_columns(
    cat: &Catalog,
    entries: &[RenameEntry],
    map: &mut NameMap,
    errors: &mut Vec<String>,
) {
    for e in entries {
        let (s, t, c) = (&e.from[0], &e.from[1], &e.from[2]);
        let table = match entry_table(cat, e) {
            Ok(table) => table,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let Some(col) = table.columns.iter().find(|x| &x.name == c) else {
            errors.push(format!(
                "rename `{}`: table {} has no (selected) column {}",
                e.entry,
                qualified(s, t),
                quote_ident(c)
            ));
            continue;
        };
        if col.inh_count > 0 {
            errors.push(format!(
                "rename `{}`: column {} is inherited; rename it on the parent table",
                e.entry,
                quote_ident(c)
            ));
            continue;
        }
        let key = (s.clone(), t.clone(), c.clone());
        if map.columns.insert(key, e.to[0].clone()).is_some() {
            errors.push(format!("rename `{}`: column {c} is renamed twice", e.entry));
        }
    }
}

/// No two columns of a table may end up with the same final name.
fn column_collisions(cat: &Catalog, map: &NameMap, errors: &mut Vec<String>) {
    for t in &cat.tables {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for c in &t.columns {
            let fin = map.column(&t.schema, &t.name, &c.name);
            if let Some(other) = seen.insert(fin.clone(), &c.name) {
                errors.push(format!(
                    "renames collide: columns {} and {} of {} would both be named {}",
                    quote_ident(other),
                    quote_ident(&c.name),
                    qualified(&t.schema, &t.name),
                    quote_ident(&fin)
                ));
            }
        }
    }
}

/// Relations share one namespace per schema (tables, views, sequences,
/// indexes): no two may end up with the same final name.
fn relation_collisions(cat: &Catalog, map: &NameMap, errors: &mut Vec<String>) {
    let mut rels: Vec<(String, String)> = Vec::new();
    rels.extend(
        cat.tables
            .iter()
            .map(|t| (t.schema.clone(), t.name.clone())),
    );
    rels.extend(
        cat.views
            .views
            .iter()
            .map(|v| (v.schema.clone(), v.name.clone())),
    );
    rels.extend(
        cat.sequences
            .iter()
            .map(|s| (s.schema.clone(), s.name.clone())),
    );
    let schema_of = |oid: Oid| cat.table(oid).map(|t| t.schema.clone());
    rels.extend(
        cat.indexes
            .iter()
            .filter_map(|i| Some((schema_of(i.table_oid)?, i.name.clone()))),
    );
    rels.extend(
        cat.constraints
            .iter()
            .filter(|c| matches!(c.contype.as_str(), "p" | "u" | "x"))
            .filter_map(|c| Some((schema_of(c.table_oid)?, c.name.clone()))),
    );
    let mut finals: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (s, n) in rels {
        finals
            .entry(map.table(&s, &n))
            .or_default()
            .push(qualified(&s, &n));
    }
    for ((s, n), from) in finals.iter().filter(|(_, v)| v.len() > 1) {
        errors.push(format!(
            "renames collide: {} would all be named {}",
            from.join(", "),
            qualified(s, n)
        ));
    }
}

/// One rename statement of the plan with the names it works on, so that a
/// resumed run can tell from the target catalog whether it already ran.
#[derive(Debug, Clone)]
pub struct RenameTarget {
    pub step: Step,
    /// Source names: `[schema]`, `[schema, table]` or `[schema, table, column]`.
    pub from: Vec<String>,
    /// The new name (last part only).
    pub to: String,
}

/// The rename statements, in the order they run: columns, then tables (under
/// their source schema), then schemas.
pub fn targets(map: &NameMap) -> Vec<RenameTarget> {
    let ph = Phase::Rename;
    let mut out = Vec::new();
    let mut cols: Vec<_> = map.columns.iter().collect();
    cols.sort();
    for ((s, t, c), to) in cols {
        let obj = format!("{}.{}", qualified(s, t), quote_ident(c));
        let sql = format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {};",
            qualified(s, t),
            quote_ident(c),
            quote_ident(to)
        );
        out.push(RenameTarget {
            step: Step::new(ph, StepKind::RenameColumn, obj, sql),
            from: vec![s.clone(), t.clone(), c.clone()],
            to: to.clone(),
        });
    }
    let mut tabs: Vec<_> = map.tables.iter().collect();
    tabs.sort();
    for ((s, t), to) in tabs {
        let sql = format!(
            "ALTER TABLE {} RENAME TO {};",
            qualified(s, t),
            quote_ident(to)
        );
        out.push(RenameTarget {
            step: Step::new(ph, StepKind::RenameTable, qualified(s, t), sql),
            from: vec![s.clone(), t.clone()],
            to: to.clone(),
        });
    }
    let mut schemas: Vec<_> = map.schemas.iter().collect();
    schemas.sort();
    for (s, to) in schemas {
        let sql = format!(
            "ALTER SCHEMA {} RENAME TO {};",
            quote_ident(s),
            quote_ident(to)
        );
        out.push(RenameTarget {
            step: Step::new(ph, StepKind::RenameSchema, quote_ident(s), sql),
            from: vec![s.clone()],
            to: to.clone(),
        });
    }
    out
}

/// Adds the rename phase to the plan and gives sequence values their final names.
pub fn finish(plan: &mut Plan, cat: &Catalog, map: &NameMap) {
    plan.renames
        .extend(targets(map).into_iter().map(|t| t.step));
    if map.schemas.is_empty() && map.tables.is_empty() {
        return;
    }
    // One lookup table, not a scan of every sequence per sequence (thousands
    // of them make that seconds).
    let by_name: std::collections::HashMap<String, &crate::catalog::Sequence> = cat
        .sequences
        .iter()
        .map(|s| (qualified(&s.schema, &s.name), s))
        .collect();
    for sv in plan.sequences.iter_mut() {
        if let Some(s) = by_name.get(&sv.source) {
            let (fs, fname) = map.table(&s.schema, &s.name);
            sv.target = qualified(&fs, &fname);
        }
    }
}
