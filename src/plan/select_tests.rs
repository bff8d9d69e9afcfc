//! Unit tests of `plan::select` on hand-made catalogs.

use super::*;
use crate::catalog::Table;

fn oid(n: u32) -> Oid {
    Oid::new(n)
}

fn table(n: u32, name: &str, parents: &[u32]) -> Table {
    Table {
        oid: oid(n),
        schema: "public".into(),
        name: name.into(),
        parent_oids: parents.iter().map(|p| oid(*p)).collect(),
        ..Default::default()
    }
}

#[test]
fn dependents_say_whether_their_cause_was_unselected_or_left_out() {
    let cat = Catalog {
        tables: vec![table(5, "p", &[]), table(6, "c", &[])],
        // 10 uses schema 1, 20 uses 10; table 6 references table 5 (a
        // foreign key folded into the table), 30 uses column-root 40.
        depends: [(10, 1), (20, 10), (6, 5), (30, 40)]
            .map(|(a, b)| (oid(a), oid(b)))
            .to_vec(),
        ..Default::default()
    };
    let names = HashMap::from([
        (oid(1), "schema s".to_string()),
        (oid(10), "type s.t".to_string()),
    ]);
    let unselected = HashSet::from([oid(1), oid(5)]);
    let roots = HashMap::from([(oid(40), "uses left-out column public.a.x".to_string())]);
    let d = dependents(&cat, &unselected, roots, &names);
    assert_eq!(d[&oid(10)], "depends on schema s, which is not selected");
    assert_eq!(d[&oid(20)], "depends on type s.t, which is left out");
    assert_eq!(d[&oid(30)], "depends on object 40, which is left out");
    assert_eq!(d[&oid(40)], "uses left-out column public.a.x");
    // Table-to-table links never leave a whole table out.
    assert!(!d.contains_key(&oid(6)));
    assert_eq!(d.len(), 4);
}

#[test]
fn children_of_a_left_out_table_go_with_it_down_the_tree() {
    let cat = Catalog {
        tables: vec![
            table(5, "p", &[]),
            table(6, "c", &[5]),
            table(7, "g", &[6]),
            table(8, "other", &[]),
        ],
        ..Default::default()
    };
    let names = HashMap::from([
        (oid(5), "table public.p".to_string()),
        (oid(6), "table public.c".to_string()),
    ]);
    let mut rep = SelectionReport {
        unselected: HashSet::from([oid(5)]),
        ..Default::default()
    };
    inheritors(&cat, &mut rep, &names);
    assert_eq!(
        rep.dependents[&oid(6)],
        "inherits from table public.p, which is left out"
    );
    assert_eq!(
        rep.dependents[&oid(7)],
        "inherits from table public.c, which is left out"
    );
    assert_eq!(rep.dependents.len(), 2);
}

#[test]
fn a_selected_table_brings_the_standalone_sequences_it_uses() {
    let seq = crate::catalog::Sequence {
        oid: oid(50),
        schema: "public".into(),
        name: "a_id_seq".into(),
        type_sql: "bigint".into(),
        start: 1,
        increment: 1,
        min: 1,
        max: i64::MAX,
        cache: 1,
        cycle: false,
        unlogged: false,
        is_identity: false,
        owned_by: None,
        comment: None,
    };
    let cat = Catalog {
        schemas: vec![crate::catalog::Schema {
            oid: oid(1),
            name: "public".into(),
            comment: None,
        }],
        tables: vec![table(11, "a", &[]), table(12, "b", &[])],
        sequences: vec![seq],
        depends: vec![(oid(11), oid(50))],
        ..Default::default()
    };
    let sel = |include: &[&str], exclude: &[&str]| Selection {
        include: include.iter().map(|p| Pattern::parse(p).unwrap()).collect(),
        exclude: exclude.iter().map(|p| Pattern::parse(p).unwrap()).collect(),
        ..Default::default()
    };
    assert_eq!(
        unselected(&cat, &sel(&["public.a"], &[])),
        HashSet::from([oid(12)])
    );
    assert_eq!(
        unselected(&cat, &sel(&["public.a"], &["public.a_id_seq"])),
        HashSet::from([oid(12), oid(50)])
    );
    assert_eq!(
        unselected(&cat, &sel(&["public.b"], &[])),
        HashSet::from([oid(11), oid(50)])
    );
}
