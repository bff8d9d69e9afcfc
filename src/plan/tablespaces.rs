//! The tablespace rule: where each relation that the source keeps outside its
//! database's default tablespace is created on the target.
//!
//! A target rarely has the source's tablespaces (a managed one has none of
//! its own), so by default such relations are created in the target
//! database's default tablespace, each listed as rewritten and the
//! tablespaces named by the precheck (`source.tablespace`). A map entry
//! (`--tablespace-map OLD=NEW`, or `[tablespaces]` in the task file) creates
//! the relations of `OLD` in `NEW` instead (`TABLESPACE NEW`, `USING INDEX
//! TABLESPACE NEW` for the index of a key or exclusion constraint), also
//! listed, so that every difference between both ends' `pg_dump` is
//! explained; `OLD=` or `OLD=pg_default` means the target's default. The
//! precheck fails (`target.tablespace`) when a `NEW` does not exist on the
//! target or the login may not create in it, before anything is written.
//!
//! A `NEW` that is the target database's own default tablespace is written
//! as no clause at all: PostgreSQL refuses to name it for a partitioned
//! table or index ("cannot specify default tablespace for partitioned
//! relations"), and for the others it means the same.

use super::Rewritten;
use crate::catalog::Catalog;
use crate::pg::{qualified, quote_ident, Oid};
use std::collections::BTreeMap;

/// The precheck code that names this rule.
pub const CODE: &str = "source.tablespace";

/// Source tablespace -> target tablespace (`None`: the target database's
/// default), names as stored in `pg_tablespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablespaceMap {
    pub entries: BTreeMap<String, Option<String>>,
}

impl TablespaceMap {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `OLD=NEW` entries, `OLD=` for the default, in name order (for the
    /// task's identity and messages).
    pub fn listing(&self) -> String {
        self.entries
            .iter()
            .map(|(old, new)| format!("{old}={}", new.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A relation of the model that the source keeps outside its database's
/// default tablespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub oid: Oid,
    /// `table`, `partitioned table`, `index`, `materialized view`.
    pub kind: &'static str,
    /// As the plan's steps name it (`t_pkey on public.t` for an index).
    pub name: String,
    /// Its tablespace on the source.
    pub tablespace: String,
}

/// Every relation of the model (tables, their indexes and the indexes behind
/// their constraints, materialized views and their indexes) that the source
/// keeps outside its database's default tablespace.
pub fn placed(cat: &Catalog) -> Vec<Placed> {
    let of = &cat.tablespaces.of;
    let mut out = Vec::new();
    let mut add = |oid: Oid, kind: &'static str, name: &dyn Fn() -> String| {
        if let Some(ts) = of.get(&oid) {
            out.push(Placed {
                oid,
                kind,
                name: name(),
                tablespace: ts.clone(),
            });
        }
    };
    let table_name = |oid: Oid| {
        cat.table(oid)
            .map(|t| qualified(&t.schema, &t.name))
            .unwrap_or_else(|| format!("<table {oid}>"))
    };
    for t in &cat.tables {
        let kind = if t.is_partitioned() {
            "partitioned table"
        } else {
            "table"
        };
        add(t.oid, kind, &|| qualified(&t.schema, &t.name));
    }
    for c in cat
        .constraints
        .iter()
        .filter(|c| matches!(c.contype.as_str(), "p" | "u" | "x"))
    {
        let Some(index_oid) = c.index_oid else {
            continue;
        };
        add(index_oid, "index", &|| {
            format!("{} on {}", quote_ident(&c.name), table_name(c.table_oid))
        });
    }
    for i in &cat.indexes {
        add(i.oid, "index", &|| {
            format!("{} on {}", quote_ident(&i.name), table_name(i.table_oid))
        });
    }
    for v in cat.views.views.iter().filter(|v| v.is_materialized()) {
        add(v.oid, "materialized view", &|| {
            qualified(&v.schema, &v.name)
        });
    }
    for i in &cat.views.matview_indexes {
        let Some(v) = cat.views.view(i.matview_oid) else {
            continue;
        };
        add(i.oid, "index", &|| {
            format!(
                "{} on {}",
                quote_ident(&i.name),
                qualified(&v.schema, &v.name)
            )
        });
    }
    out
}

/// Applies `map` to the relations of `cat` (their target tablespace goes to
/// `cat.tablespaces.create_in`, the map to `cat.tablespaces.mapped`) and
/// returns one rewrite per relation that is not created where the source
/// keeps it. `target_default`: the target database's default tablespace,
/// when known.
pub fn apply(
    cat: &mut Catalog,
    map: &TablespaceMap,
    target_default: Option<&str>,
) -> Vec<Rewritten> {
    let placed = placed(cat);
    let ts = &mut cat.tablespaces;
    ts.mapped = map.entries.clone();
    ts.create_in.clear();
    let mut out = Vec::with_capacity(placed.len());
    for p in placed {
        let old = quote_ident(&p.tablespace);
        let change = match map.entries.get(&p.tablespace) {
            Some(Some(new)) if Some(new.as_str()) != target_default => {
                ts.create_in.insert(p.oid, new.clone());
                format!(
                    "created in tablespace {} (--tablespace-map {}={}), not in {old} as on \
                     the source",
                    quote_ident(new),
                    p.tablespace,
                    new
                )
            }
            Some(new) => format!(
                "created in the target database's default tablespace (--tablespace-map {}={}), \
                 not in {old} as on the source",
                p.tablespace,
                new.as_deref().unwrap_or("")
            ),
            None => format!(
                "created in the target database's default tablespace, not in {old} as on the \
                 source (no --tablespace-map entry for {old})"
            ),
        };
        out.push(Rewritten {
            kind: p.kind,
            object: p.name,
            change,
            code: CODE,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Index, Table};

    fn catalog() -> Catalog {
        let mut cat = Catalog {
            tables: vec![
                Table {
                    oid: Oid::new(1),
                    schema: "public".into(),
                    name: "t".into(),
                    relkind: "r".into(),
                    ..Default::default()
                },
                Table {
                    oid: Oid::new(2),
                    schema: "public".into(),
                    name: "p".into(),
                    relkind: "p".into(),
                    ..Default::default()
                },
                Table {
                    oid: Oid::new(3),
                    schema: "public".into(),
                    name: "u".into(),
                    relkind: "r".into(),
                    ..Default::default()
                },
            ],
            indexes: vec![Index {
                oid: Oid::new(10),
                table_oid: Oid::new(1),
                name: "t_i".into(),
                definition: String::new(),
                partitioned: false,
                parent_oid: None,
                clustered: false,
                replica_identity: false,
                comment: None,
            }],
            ..Default::default()
        };
        cat.tablespaces.of = [(1, "ts_a"), (2, "ts_a"), (10, "ts_c"), (3, "ts_d")]
            .into_iter()
            .map(|(o, t)| (Oid::new(o), t.to_string()))
            .collect();
        cat.tablespaces.create_in = cat.tablespaces.of.clone();
        cat.reindex();
        cat
    }

    #[test]
    fn mapped_relations_move_and_the_others_go_to_the_default() {
        let mut cat = catalog();
        let map = TablespaceMap {
            entries: [
                ("ts_a".to_string(), Some("ts_b".to_string())),
                ("ts_d".to_string(), None),
            ]
            .into_iter()
            .collect(),
        };
        let out = apply(&mut cat, &map, Some("pg_default"));
        assert_eq!(cat.tablespaces.create_in(Oid::new(1)), Some("ts_b"));
        assert_eq!(cat.tablespaces.create_in(Oid::new(2)), Some("ts_b"));
        assert_eq!(
            cat.tablespaces.create_in(Oid::new(10)),
            None,
            "ts_c is not mapped"
        );
        assert_eq!(
            cat.tablespaces.create_in(Oid::new(3)),
            None,
            "ts_d is mapped to the default"
        );
        assert_eq!(out.len(), 4);
        let idx = out.iter().find(|r| r.kind == "index").unwrap();
        assert_eq!(idx.object, "t_i on public.t");
        assert!(idx.change.contains("no --tablespace-map entry for ts_c"));
        assert!(out
            .iter()
            .any(|r| r.kind == "partitioned table" && r.change.contains("tablespace ts_b")));
        assert!(out.iter().all(|r| r.code == CODE));
        assert_eq!(map.listing(), "ts_a=ts_b, ts_d=");
    }

    #[test]
    fn the_target_databases_own_default_is_written_as_no_clause() {
        let mut cat = catalog();
        let map = TablespaceMap {
            entries: [("ts_a".to_string(), Some("big".to_string()))]
                .into_iter()
                .collect(),
        };
        apply(&mut cat, &map, Some("big"));
        assert_eq!(cat.tablespaces.create_in(Oid::new(2)), None);
        // Unknown target (dry run): written as asked.
        apply(&mut cat, &map, None);
        assert_eq!(cat.tablespaces.create_in(Oid::new(2)), Some("big"));
    }

    #[test]
    fn create_table_names_the_tablespace() {
        let mut cat = catalog();
        let map = TablespaceMap {
            entries: [("ts_a".to_string(), Some("Fast".to_string()))]
                .into_iter()
                .collect(),
        };
        apply(&mut cat, &map, None);
        let t = cat.table(Oid::new(1)).unwrap().clone();
        assert!(crate::ddl::create_table(&t, &cat).ends_with(")\nTABLESPACE \"Fast\";"));
        let u = cat.table(Oid::new(3)).unwrap().clone();
        assert!(!crate::ddl::create_table(&u, &cat).contains("TABLESPACE"));
    }
}
