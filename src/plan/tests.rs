//! The plan built from a hand-made catalog, without a server: selection,
//! dependents left out with their reason, foreign keys to left-out tables,
//! column selection, renames. (The integration tests run the same rules
//! against real servers; these pin the pure logic and run in milliseconds.)

use super::rename::{RenameEntry, Renames};
use super::{prepare, Plan, Selection, StepKind};
use crate::catalog::{Catalog, Column, Constraint, Schema, Table};
use crate::pg::names::Pattern;
use crate::pg::Oid;

fn column(num: i32, name: &str, ty: &str) -> Column {
    Column {
        num,
        name: name.into(),
        type_sql: ty.into(),
        type_oid: Oid::new(23),
        type_name: ty.into(),
        not_null: num == 1,
        not_null_name: None,
        not_null_no_inherit: false,
        compression: String::new(),
        binary_ok: true,
        default_sql: None,
        identity: String::new(),
        generated: String::new(),
        collation: None,
        is_local: true,
        inh_count: 0,
        storage: "p".into(),
        type_storage: "p".into(),
        stat_target: -1,
        comment: None,
        options: Vec::new(),
        inherit_generation: false,
    }
}

fn table(oid: u32, schema: &str, name: &str, cols: &[&str]) -> Table {
    Table {
        oid: Oid::new(oid),
        schema: schema.into(),
        name: name.into(),
        relkind: "r".into(),
        replica_identity: "d".into(),
        bytes: 8192,
        columns: cols
            .iter()
            .enumerate()
            .map(|(i, c)| column(i as i32 + 1, c, "integer"))
            .collect(),
        ..Default::default()
    }
}

fn constraint(oid: u32, table_oid: u32, name: &str, contype: &str, def: &str) -> Constraint {
    Constraint {
        oid: Oid::new(oid),
        table_oid: Oid::new(table_oid),
        name: name.into(),
        contype: contype.into(),
        definition: def.into(),
        ref_table_oid: None,
        index_oid: None,
        index_definition: None,
        parent_oid: None,
        key_columns: Vec::new(),
        index_clustered: false,
        index_replica_identity: false,
        validated: true,
        period: false,
        deferrable: false,
        deferred: false,
        is_local: true,
        comment: None,
    }
}

/// public.a (id, v), public.b (id, a_id) with a foreign key to a, sales.c (id).
fn catalog() -> Catalog {
    let mut fk = constraint(
        31,
        12,
        "b_a_fk",
        "f",
        "FOREIGN KEY (a_id) REFERENCES public.a(id)",
    );
    fk.ref_table_oid = Some(Oid::new(11));
    let mut cat = Catalog {
        version_num: crate::pg::PG15,
        schemas: vec![
            Schema {
                oid: Oid::new(1),
                name: "public".into(),
                comment: None,
            },
            Schema {
                oid: Oid::new(2),
                name: "sales".into(),
                comment: None,
            },
        ],
        tables: vec![
            table(11, "public", "a", &["id", "v"]),
            table(12, "public", "b", &["id", "a_id"]),
            table(13, "sales", "c", &["id"]),
        ],
        constraints: vec![fk],
        depends: [(31, 11), (31, 12), (11, 1), (12, 1), (13, 2)]
            .map(|(a, b)| (Oid::new(a), Oid::new(b)))
            .to_vec(),
        ..Default::default()
    };
    cat.reindex();
    cat
}

fn patterns(list: &[&str]) -> Vec<Pattern> {
    list.iter().map(|p| Pattern::parse(p).unwrap()).collect()
}

fn plan(sel: &Selection) -> Plan {
    prepare(&mut catalog(), sel).unwrap()
}

fn copied(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan.copies.iter().map(|c| c.target_qualified()).collect();
    v.sort();
    v
}

fn sql_of(plan: &Plan, kind: StepKind) -> Vec<&str> {
    plan.pre_data
        .iter()
        .chain(&plan.post_data)
        .chain(&plan.renames)
        .filter(|s| s.kind == kind)
        .map(|s| s.sql.as_str())
        .collect()
}

#[test]
fn everything_by_default_in_the_seeds_order() {
    let p = plan(&Selection::default());
    assert_eq!(copied(&p), ["public.a", "public.b", "sales.c"]);
    assert_eq!(
        sql_of(&p, StepKind::Schema),
        [
            "CREATE SCHEMA IF NOT EXISTS public;",
            "CREATE SCHEMA IF NOT EXISTS sales;"
        ]
    );
    assert_eq!(sql_of(&p, StepKind::Table).len(), 3);
    let fks = sql_of(&p, StepKind::ForeignKey);
    assert_eq!(fks.len(), 1, "{fks:?}");
    assert!(fks[0].contains("REFERENCES public.a(id)"), "{fks:?}");
    // Tables are created before the data, foreign keys after.
    assert!(p.pre_data.iter().all(|s| s.kind != StepKind::ForeignKey));
    assert!(p.skipped.is_empty() && p.excluded.is_empty());
}

#[test]
fn a_schema_pattern_selects_the_schema_only() {
    let sel = Selection {
        include: patterns(&["sales"]),
        ..Default::default()
    };
    let p = plan(&sel);
    assert_eq!(copied(&p), ["sales.c"]);
    assert!(sql_of(&p, StepKind::ForeignKey).is_empty());
}

#[test]
fn excluding_a_referenced_table_drops_the_foreign_key_and_says_so() {
    let sel = Selection {
        exclude: patterns(&["public.a"]),
        ..Default::default()
    };
    let p = plan(&sel);
    assert_eq!(copied(&p), ["public.b", "sales.c"]);
    assert!(sql_of(&p, StepKind::ForeignKey).is_empty());
    let reported: Vec<String> = p
        .excluded
        .iter()
        .map(|s| format!("{} {}: {}", s.kind, s.object, s.reason))
        .collect();
    assert!(
        reported.iter().any(|r| r.contains("b_a_fk")),
        "the dropped foreign key is reported: {reported:?}"
    );
}

#[test]
fn exclusion_wins_over_inclusion() {
    let sel = Selection {
        include: patterns(&["public"]),
        exclude: patterns(&["public.b"]),
        ..Default::default()
    };
    assert_eq!(copied(&plan(&sel)), ["public.a"]);
}

#[test]
fn a_column_list_copies_those_columns_only() {
    let sel = Selection {
        include: patterns(&["public.a(id)"]),
        ..Default::default()
    };
    let p = plan(&sel);
    assert_eq!(copied(&p), ["public.a"]);
    let a = &p.copies[0];
    assert_eq!(a.source_columns, ["id"]);
    assert_eq!(a.target_columns, ["id"]);
    let create = sql_of(&p, StepKind::Table).join("\n");
    assert!(!create.contains(" v "), "{create}");
}

#[test]
fn a_column_the_table_does_not_have_is_a_configuration_error() {
    let sel = Selection {
        include: patterns(&["public.a(id, nosuch)"]),
        ..Default::default()
    };
    let err = prepare(&mut catalog(), &sel).unwrap_err();
    assert_eq!(crate::error::exit_for(&err), crate::error::Exit::Usage);
    assert!(format!("{err:#}").contains("nosuch"), "{err:#}");
}

#[test]
fn a_table_rename_runs_last_and_maps_the_name() {
    let sel = Selection {
        renames: Renames {
            tables: vec![RenameEntry {
                entry: "public.a = a2".into(),
                from: vec!["public".into(), "a".into()],
                to: vec!["a2".into()],
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let p = plan(&sel);
    let renames = sql_of(&p, StepKind::RenameTable);
    assert_eq!(renames, ["ALTER TABLE public.a RENAME TO a2;"]);
    // Created and copied under the source name, renamed at the end.
    assert_eq!(copied(&p), ["public.a", "public.b", "sales.c"]);
    assert!(p.renames.iter().all(|s| s.phase == super::Phase::Rename));
}

fn rename(entry: &str, from: &[&str], to: &[&str]) -> RenameEntry {
    RenameEntry {
        entry: entry.into(),
        from: from.iter().map(|s| s.to_string()).collect(),
        to: to.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn every_rename_problem_is_listed_in_kind_order() {
    let r = Renames {
        schemas: vec![
            rename("nosuch = x", &["nosuch"], &["x"]),
            rename("sales = public", &["sales"], &["public"]),
        ],
        tables: vec![
            rename("public.zz = y", &["public", "zz"], &["y"]),
            rename("public.a = sales.a", &["public", "a"], &["sales", "a"]),
            rename("public.b = a", &["public", "b"], &["a"]),
        ],
        columns: vec![
            rename("public.q.id = k", &["public", "q", "id"], &["k"]),
            rename("public.a.nope = k", &["public", "a", "nope"], &["k"]),
            rename("public.a.id = v", &["public", "a", "id"], &["v"]),
        ],
    };
    let errors = super::rename::resolve(&catalog(), &r).unwrap_err();
    assert_eq!(
        errors,
        [
            "rename `nosuch = x`: schema nosuch does not exist on the source or is not selected",
            "renames collide: schemas public, sales would all be named public",
            "rename `public.zz = y`: table public.zz does not exist on the source or is not selected",
            "rename `public.a = sales.a`: moving a table to another schema is not supported; \
             rename the schema, or keep the table in public",
            "renames collide: public.a, public.b would all be named public.a",
            "rename `public.q.id = k`: table public.q does not exist on the source or is not selected",
            "rename `public.a.nope = k`: table public.a has no (selected) column nope",
            "renames collide: columns id and v of public.a would both be named v",
        ]
    );
}

#[test]
fn renames_that_fit_give_the_name_map() {
    let r = Renames {
        schemas: vec![rename("sales = shop", &["sales"], &["shop"])],
        tables: vec![rename("sales.c = c2", &["sales", "c"], &["c2"])],
        columns: vec![rename("public.a.v = w", &["public", "a", "v"], &["w"])],
    };
    let map = super::rename::resolve(&catalog(), &r).unwrap();
    assert_eq!(map.schema("sales"), "shop");
    assert_eq!(map.table("sales", "c"), ("shop".into(), "c2".into()));
    assert_eq!(map.column("public", "a", "v"), "w");
    assert_eq!(map.column("public", "a", "id"), "id");
}

#[test]
fn every_statement_in_plan_order() {
    let mut cat = catalog();
    cat.sequences.push(crate::catalog::Sequence {
        oid: Oid::new(40),
        schema: "public".into(),
        name: "a_id_seq".into(),
        type_sql: "integer".into(),
        start: 1,
        increment: 1,
        min: 1,
        max: 2147483647,
        cache: 1,
        cycle: false,
        unlogged: false,
        is_identity: false,
        owned_by: Some((Oid::new(11), "id".into())),
        comment: Some("ids of a".into()),
    });
    cat.schemas[1].comment = Some("the shop".into());
    let p = prepare(&mut cat, &Selection::default()).unwrap();
    let all: Vec<String> = p
        .pre_data
        .iter()
        .chain(&p.post_data)
        .chain(&p.renames)
        .map(|s| format!("{} {:?} {}", s.kind.label(), s.oid.map(|o| o.get()), s.sql))
        .collect();
    // Pinned from the plan builder before it was split into schema, sequence,
    // table and owner steps: the split moved code, not statements.
    let expected = [
        "schema Some(1) CREATE SCHEMA IF NOT EXISTS public;",
        "schema Some(2) CREATE SCHEMA IF NOT EXISTS sales;",
        "comment Some(2) COMMENT ON SCHEMA sales IS 'the shop';",
        "sequence Some(40) CREATE SEQUENCE public.a_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;",
        "comment Some(40) COMMENT ON SEQUENCE public.a_id_seq IS 'ids of a';",
        "table Some(11) CREATE TABLE public.a (\n    id integer NOT NULL,\n    v integer\n);",
        "sequence owned by Some(11) ALTER SEQUENCE public.a_id_seq OWNED BY public.a.id;",
        "table Some(12) CREATE TABLE public.b (\n    id integer NOT NULL,\n    a_id integer\n);",
        "table Some(13) CREATE TABLE sales.c (\n    id integer NOT NULL\n);",
        "foreign key Some(31) ALTER TABLE ONLY public.b ADD CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES public.a(id) NOT VALID;",
        "foreign key validation Some(31) ALTER TABLE public.b VALIDATE CONSTRAINT b_a_fk;",
    ];
    assert_eq!(all, expected, "{all:#?}");
}
