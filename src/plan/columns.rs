//! Column selection: the columns a pattern's column list leaves out of a
//! selected table (`schema.table(a, b)` keeps a and b; an exclude pattern's
//! list drops its columns), what follows them (generated columns computed
//! from them, inherited copies), and the objects that use them.
//!
//! Part of [`super::select::apply`], apart because it is its own rule set.

use super::select::{SelectError, Selection};
use crate::catalog::Catalog;
use crate::pg::names::Pattern;
use crate::pg::{qualified, Oid};
use std::collections::{HashMap, HashSet};

/// Drops the columns the patterns leave out; returns them by (table, attnum)
/// with a readable name. Generated columns computed from a left-out column
/// are left out too.
pub(super) fn select_columns(
    cat: &mut Catalog,
    sel: &Selection,
    unselected: &HashSet<Oid>,
) -> Result<HashMap<(Oid, i32), String>, SelectError> {
    let mut errors = Vec::new();
    let mut drop: HashMap<(Oid, i32), String> = HashMap::new();
    for t in cat.tables.iter().filter(|t| !unselected.contains(&t.oid)) {
        let exact = |p: &Pattern| {
            p.schema.exact().as_deref() == Some(t.schema.as_str())
                && p.table.as_ref().and_then(|x| x.exact()).as_deref() == Some(t.name.as_str())
        };
        let mut keep: Option<HashSet<&str>> = None;
        let mut gone: HashSet<&str> = HashSet::new();
        for (p, is_include) in sel
            .include
            .iter()
            .map(|p| (p, true))
            .chain(sel.exclude.iter().map(|p| (p, false)))
        {
            let (Some(cols), true) = (&p.columns, exact(p)) else {
                continue;
            };
            for c in cols {
                if !t.columns.iter().any(|x| &x.name == c) {
                    errors.push(format!(
                        "`{}`: table {} has no column {}",
                        p.text,
                        qualified(&t.schema, &t.name),
                        crate::pg::quote_ident(c)
                    ));
                }
            }
            if is_include {
                keep.get_or_insert_with(HashSet::new)
                    .extend(cols.iter().map(String::as_str));
            } else {
                gone.extend(cols.iter().map(String::as_str));
            }
        }
        for c in &t.columns {
            let out = gone.contains(c.name.as_str())
                || keep.as_ref().is_some_and(|k| !k.contains(c.name.as_str()));
            if out {
                let name = format!("{}.{}", qualified(&t.schema, &t.name), c.name);
                drop.insert((t.oid, c.num), name);
            }
        }
    }
    if !errors.is_empty() {
        return Err(SelectError(errors));
    }
    // Generated columns over a left-out column, and inherited copies of it.
    loop {
        let mut more = Vec::new();
        for u in cat.column_uses.iter().filter(|u| u.kind == "default") {
            let owner = (u.table_oid, u.owner_attnum);
            if drop.contains_key(&(u.table_oid, u.attnum)) && !drop.contains_key(&owner) {
                more.push(owner);
            }
        }
        for t in &cat.tables {
            for p in &t.parent_oids {
                let Some(parent) = cat.table(*p) else {
                    continue;
                };
                for pc in parent.columns.iter() {
                    if !drop.contains_key(&(parent.oid, pc.num)) {
                        continue;
                    }
                    if let Some(c) = t.columns.iter().find(|c| c.name == pc.name && !c.is_local) {
                        if !drop.contains_key(&(t.oid, c.num)) {
                            more.push((t.oid, c.num));
                        }
                    }
                }
            }
        }
        if more.is_empty() {
            break;
        }
        for (toid, num) in more {
            let name = cat
                .table(toid)
                .and_then(|t| {
                    let c = t.columns.iter().find(|c| c.num == num)?;
                    Some(format!("{}.{}", qualified(&t.schema, &t.name), c.name))
                })
                .unwrap_or_default();
            drop.insert((toid, num), name);
        }
    }
    for t in cat.tables.iter_mut() {
        let oid = t.oid;
        t.columns.retain(|c| !drop.contains_key(&(oid, c.num)));
    }
    Ok(drop)
}

/// The objects (other than defaults) that use a left-out column, with the reason.
pub(super) fn users_of_columns(
    cat: &Catalog,
    dropped_cols: &HashMap<(Oid, i32), String>,
) -> HashMap<Oid, String> {
    let mut roots: HashMap<Oid, String> = HashMap::new();
    for u in &cat.column_uses {
        if let Some(col) = dropped_cols.get(&(u.table_oid, u.attnum)) {
            if u.kind != "default" {
                roots
                    .entry(u.obj)
                    .or_insert_with(|| format!("uses left-out column {col}"));
            }
        }
    }
    roots
}
