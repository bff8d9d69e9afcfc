//! From a source relation of the stream to the statements that apply its
//! changes on the target: final (renamed) table and column names, the task's
//! column selection, and the row identity (key columns, or the whole row for
//! `REPLICA IDENTITY FULL`).
//!
//! Why a separate, pure part: every statement the apply side sends is built
//! here from plan data and tested without a server. Values are never put in
//! SQL; they are bound as text parameters (`$n`), exactly as the source
//! rendered them.
//!
//! The source's own description of a table arrives as a Relation message
//! before its first change and again after any change to its definition. It
//! is compared with the columns the plan was built from: a difference is DDL
//! on the source during follow, which pgferry does not carry, so applying
//! stops with a clear message instead of diverging silently.

use crate::catalog::Catalog;
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::plan::Plan;
use crate::repl::{Relation, ReplicaIdentity, Value};
use std::collections::HashMap;

/// One source table of the plan, as the apply side needs it.
#[derive(Debug, Clone)]
pub struct TableTarget {
    /// Final qualified name on the target (renames applied).
    pub target: String,
    /// The source's columns that pgoutput sends (not generated), in order,
    /// with their type oids, as they were when the slot was created.
    pub expected: Vec<(String, u32)>,
    /// Source column name -> (final target column, GENERATED ALWAYS identity).
    pub selected: HashMap<String, (String, bool)>,
    /// Types compared as text when matching a whole row (no `=` operator).
    pub text_compare: Vec<String>,
}

/// Source (schema, table) -> what to apply, for every table the plan copies.
#[derive(Debug, Clone, Default)]
pub struct TableMap {
    tables: HashMap<(String, String), TableTarget>,
}

/// Type oids without a default equality operator (json, xml, point, line,
/// path, polygon and their arrays): matched through their text form.
const NO_EQUALITY: &[Oid] = &[
    Oid::new(114),
    Oid::new(199),
    Oid::new(142),
    Oid::new(143),
    Oid::new(600),
    Oid::new(1017),
    Oid::new(628),
    Oid::new(629),
    Oid::new(602),
    Oid::new(1019),
    Oid::new(604),
    Oid::new(1027),
];

/// Why a change cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error(
        "DDL on the source during follow: {table} changed ({detail}). pgferry does not carry \
         schema changes in follow mode, so applying stopped before any change of the new shape \
         was applied (the target table is {target}). Remedy: `pgferry cleanup` (same options), \
         empty the target, and migrate again with --follow --restart; keep DDL off the source \
         until cut-over"
    )]
    Ddl {
        table: String,
        target: String,
        detail: String,
    },
    #[error("the stream sent changes of {0}, which the migration does not include")]
    Unknown(String),
    #[error(
        "{table} has no replica identity the apply can use ({what}); give it a primary key or \
         REPLICA IDENTITY FULL / USING INDEX"
    )]
    NoIdentity { table: String, what: String },
}

impl TableMap {
    /// Every table copied by the plan, under its final names. `columns`:
    /// what the source published when the slot was created (see
    /// `source::create`); a table missing there falls back to the catalog.
    pub fn new(cat: &Catalog, plan: &Plan, columns: &super::Columns) -> TableMap {
        let mut tables = HashMap::new();
        for c in &plan.copies {
            let key = (c.source_schema.clone(), c.source_name.clone());
            if tables.contains_key(&key) {
                continue; // ranges of one table
            }
            let Some(t) = cat
                .tables
                .iter()
                .find(|t| t.schema == c.source_schema && t.name == c.source_name)
            else {
                continue;
            };
            let (s, n) = plan.names.table(&c.source_schema, &c.source_name);
            let expected = match columns.get(&qualified(&t.schema, &t.name)) {
                Some(c) => c.clone(),
                None => t
                    .columns
                    .iter()
                    .filter(|x| !x.is_generated())
                    .map(|x| (x.name.clone(), x.type_oid.get()))
                    .collect(),
            };
            let selected = c
                .source_columns
                .iter()
                .map(|col| {
                    let always = t
                        .columns
                        .iter()
                        .any(|x| &x.name == col && x.identity == "a");
                    let fin = plan.names.column(&c.source_schema, &c.source_name, col);
                    (col.clone(), (fin, always))
                })
                .collect();
            let text_compare = t
                .columns
                .iter()
                .filter(|x| NO_EQUALITY.contains(&x.type_oid))
                .map(|x| x.name.clone())
                .collect();
            tables.insert(
                key,
                TableTarget {
                    target: qualified(&s, &n),
                    expected,
                    selected,
                    text_compare,
                },
            );
        }
        TableMap { tables }
    }

    /// The target of a relation, after checking that its columns are the
    /// ones the plan was built from.
    pub fn check(&self, rel: &Relation) -> Result<&TableTarget, MapError> {
        let name = qualified(&rel.namespace, &rel.name);
        let t = self
            .tables
            .get(&(rel.namespace.clone(), rel.name.clone()))
            .ok_or_else(|| MapError::Unknown(name.clone()))?;
        let got: Vec<&str> = rel.columns.iter().map(|c| c.name.as_str()).collect();
        let want: Vec<&str> = t.expected.iter().map(|(n, _)| n.as_str()).collect();
        let detail = if got != want {
            let added: Vec<&str> = got.iter().filter(|c| !want.contains(c)).copied().collect();
            let dropped: Vec<&str> = want.iter().filter(|c| !got.contains(c)).copied().collect();
            Some(if added.is_empty() && dropped.is_empty() {
                format!("columns reordered: now {}", got.join(", "))
            } else {
                format!(
                    "columns added: [{}], dropped or renamed: [{}]",
                    added.join(", "),
                    dropped.join(", ")
                )
            })
        } else {
            rel.columns
                .iter()
                .zip(&t.expected)
                .find(|(c, (_, oid))| *oid != 0 && c.type_oid != *oid)
                .map(|(c, _)| format!("column {} changed type", c.name))
        };
        if let Some(detail) = detail {
            return Err(MapError::Ddl {
                table: name,
                target: t.target.clone(),
                detail,
            });
        }
        if rel.replica_identity == ReplicaIdentity::Nothing {
            return Err(MapError::NoIdentity {
                table: name,
                what: "REPLICA IDENTITY NOTHING".into(),
            });
        }
        Ok(t)
    }

    /// Target names of some relations, for TRUNCATE.
    pub fn target_of(&self, rel: &Relation) -> Result<&str, MapError> {
        self.check(rel).map(|t| t.target.as_str())
    }
}

/// A statement and the relation column index of each `$n`, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub sql: String,
    /// `(tuple, column)`: tuple 0 = the new row, 1 = the old row or key.
    pub params: Vec<(u8, usize)>,
}

fn sendable(v: &Value) -> bool {
    !matches!(v, Value::UnchangedToast)
}

/// `INSERT` of the selected columns. Identity ALWAYS columns take the
/// source's value (`OVERRIDING SYSTEM VALUE`).
pub fn insert(t: &TableTarget, rel: &Relation) -> Bound {
    let mut cols = Vec::new();
    let mut params = Vec::new();
    for (i, c) in rel.columns.iter().enumerate() {
        if let Some((fin, _)) = t.selected.get(&c.name) {
            cols.push(quote_ident(fin));
            params.push((0, i));
        }
    }
    let values: Vec<String> = (1..=params.len()).map(|n| format!("${n}")).collect();
    Bound {
        sql: format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
            t.target,
            cols.join(", "),
            values.join(", ")
        ),
        params,
    }
}

/// The `WHERE` that finds the one row a change is about: the key columns
/// (primary key or `USING INDEX`), or, for identity FULL, the first row whose
/// selected columns all match (`ctid` of one row, so one of several equal
/// rows is changed, as on the source).
fn row_filter(
    t: &TableTarget,
    rel: &Relation,
    tuple: u8,
    values: &[Value],
    params: &mut Vec<(u8, usize)>,
) -> Result<String, MapError> {
    let mut conds = Vec::new();
    let full = rel.replica_identity == ReplicaIdentity::Full;
    for (i, c) in rel.columns.iter().enumerate() {
        if !(full || c.is_key) {
            continue;
        }
        let Some((fin, _)) = t.selected.get(&c.name) else {
            if full {
                continue;
            }
            return Err(MapError::NoIdentity {
                table: qualified(&rel.namespace, &rel.name),
                what: format!("key column {} is not migrated", c.name),
            });
        };
        let v = values.get(i).unwrap_or(&Value::Null);
        if !sendable(v) {
            continue;
        }
        params.push((tuple, i));
        let n = params.len();
        let col = quote_ident(fin);
        conds.push(if full {
            if t.text_compare.contains(&c.name) {
                format!("{col}::text IS NOT DISTINCT FROM ${n}::text")
            } else {
                format!("{col} IS NOT DISTINCT FROM ${n}")
            }
        } else {
            format!("{col} = ${n}")
        });
    }
    if conds.is_empty() {
        return Err(MapError::NoIdentity {
            table: qualified(&rel.namespace, &rel.name),
            what: "no identity column is migrated".into(),
        });
    }
    let conds = conds.join(" AND ");
    Ok(if full {
        format!(
            "ctid = (SELECT ctid FROM ONLY {} WHERE {conds} LIMIT 1)",
            t.target
        )
    } else {
        conds
    })
}

/// `UPDATE` of the selected, changed columns (unchanged TOAST values are
/// left as they are; identity ALWAYS columns cannot be set). `old` is the
/// old key or row when the source sent one, else the key is in `new`.
/// `None` when nothing is left to set.
pub fn update(
    t: &TableTarget,
    rel: &Relation,
    old: Option<&[Value]>,
    new: &[Value],
) -> Result<Option<Bound>, MapError> {
    let mut sets = Vec::new();
    let mut params = Vec::new();
    for (i, c) in rel.columns.iter().enumerate() {
        let Some((fin, always)) = t.selected.get(&c.name) else {
            continue;
        };
        if *always || !new.get(i).is_some_and(sendable) {
            continue;
        }
        params.push((0, i));
        sets.push(format!("{} = ${}", quote_ident(fin), params.len()));
    }
    if sets.is_empty() {
        return Ok(None);
    }
    let filter = match old {
        Some(o) => row_filter(t, rel, 1, o, &mut params)?,
        None => row_filter(t, rel, 0, new, &mut params)?,
    };
    Ok(Some(Bound {
        sql: format!(
            "UPDATE ONLY {} SET {} WHERE {filter}",
            t.target,
            sets.join(", ")
        ),
        params,
    }))
}

/// `DELETE` of the row the old key or row identifies.
pub fn delete(t: &TableTarget, rel: &Relation, old: &[Value]) -> Result<Bound, MapError> {
    let mut params = Vec::new();
    let filter = row_filter(t, rel, 1, old, &mut params)?;
    Ok(Bound {
        sql: format!("DELETE FROM ONLY {} WHERE {filter}", t.target),
        params,
    })
}

/// `TRUNCATE ONLY` of the target tables, with the source's options.
pub fn truncate(targets: &[&str], cascade: bool, restart_identity: bool) -> String {
    format!(
        "TRUNCATE ONLY {}{}{}",
        targets.join(", "),
        if restart_identity {
            " RESTART IDENTITY"
        } else {
            ""
        },
        if cascade { " CASCADE" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::Column;

    fn rel(identity: ReplicaIdentity, keys: &[bool]) -> Relation {
        let names = ["id", "Name", "doc"];
        Relation {
            id: 1,
            namespace: "s".into(),
            name: "T".into(),
            replica_identity: identity,
            columns: names
                .iter()
                .zip(keys)
                .map(|(n, k)| Column {
                    name: (*n).into(),
                    type_oid: 25,
                    type_modifier: -1,
                    is_key: *k,
                })
                .collect(),
        }
    }

    fn target(selected: &[&str]) -> TableTarget {
        TableTarget {
            target: "\"S2\".t2".into(),
            expected: vec![("id".into(), 25), ("Name".into(), 25), ("doc".into(), 25)],
            selected: selected
                .iter()
                .map(|c| ((*c).to_string(), (format!("{c}_new"), false)))
                .collect(),
            text_compare: vec!["doc".into()],
        }
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn insert_names_the_selected_columns_under_their_final_names() {
        let b = insert(
            &target(&["id", "doc"]),
            &rel(ReplicaIdentity::Default, &[true, false, false]),
        );
        assert_eq!(
            b.sql,
            "INSERT INTO \"S2\".t2 (id_new, doc_new) OVERRIDING SYSTEM VALUE VALUES ($1, $2)"
        );
        assert_eq!(b.params, [(0, 0), (0, 2)]);
    }

    #[test]
    fn update_by_key_leaves_unchanged_toast_out() {
        let r = rel(ReplicaIdentity::Default, &[true, false, false]);
        let new = [t("1"), t("x"), Value::UnchangedToast];
        let b = update(&target(&["id", "Name", "doc"]), &r, None, &new)
            .unwrap()
            .unwrap();
        assert_eq!(
            b.sql,
            "UPDATE ONLY \"S2\".t2 SET id_new = $1, \"Name_new\" = $2 WHERE id_new = $3"
        );
        assert_eq!(b.params, [(0, 0), (0, 1), (0, 0)]);
        // A changed key: the old key identifies the row.
        let old = [t("0"), Value::Null, Value::Null];
        let b = update(&target(&["id", "Name"]), &r, Some(&old), &new)
            .unwrap()
            .unwrap();
        assert_eq!(b.params.last(), Some(&(1, 0)));
    }

    #[test]
    fn full_identity_matches_one_row_by_ctid() {
        let r = rel(ReplicaIdentity::Full, &[true, true, true]);
        let old = [t("1"), Value::Null, t("{}")];
        let b = delete(&target(&["id", "Name", "doc"]), &r, &old).unwrap();
        assert_eq!(
            b.sql,
            "DELETE FROM ONLY \"S2\".t2 WHERE ctid = (SELECT ctid FROM ONLY \"S2\".t2 WHERE \
             id_new IS NOT DISTINCT FROM $1 AND \"Name_new\" IS NOT DISTINCT FROM $2 AND \
             doc_new::text IS NOT DISTINCT FROM $3::text LIMIT 1)"
        );
    }

    #[test]
    fn a_key_column_left_out_by_selection_is_an_error() {
        let r = rel(ReplicaIdentity::Default, &[true, false, false]);
        let e = delete(&target(&["Name"]), &r, &[t("1"), Value::Null, Value::Null]);
        assert!(matches!(e, Err(MapError::NoIdentity { .. })));
    }

    #[test]
    fn relation_columns_different_from_the_plan_are_ddl() {
        let mut m = TableMap::default();
        m.tables
            .insert(("s".into(), "T".into()), target(&["id", "Name", "doc"]));
        let mut r = rel(ReplicaIdentity::Default, &[true, false, false]);
        assert!(m.check(&r).is_ok());
        r.columns[2].type_oid = 3802;
        let e = m.check(&r).unwrap_err().to_string();
        assert!(e.contains("column doc changed type"), "{e}");
        r.columns.pop();
        let e = m.check(&r).unwrap_err().to_string();
        assert!(e.contains("DDL on the source") && e.contains("dropped or renamed: [doc]"));
    }

    #[test]
    fn truncate_keeps_the_source_options() {
        assert_eq!(
            truncate(&["a.b", "c.d"], true, true),
            "TRUNCATE ONLY a.b, c.d RESTART IDENTITY CASCADE"
        );
        assert_eq!(truncate(&["a.b"], false, false), "TRUNCATE ONLY a.b");
    }
}
