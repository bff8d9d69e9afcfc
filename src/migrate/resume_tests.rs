//! Unit tests of sorting the recorded units on resume, without a server.

use super::*;
use crate::copy::range_json;

fn copy(schema: &str, name: &str, bytes: i64) -> TableCopy {
    TableCopy {
        source_schema: schema.into(),
        source_name: name.into(),
        target_schema: schema.into(),
        target_name: name.into(),
        source_columns: vec!["id".into()],
        target_columns: vec!["id".into()],
        binary: true,
        bytes,
        est_rows: 0.0,
        split_key: Some("id".into()),
        range: None,
    }
}

fn record(table: &str, range: Option<&CopyRange>, status: &'static str) -> UnitRecord {
    let id = match range {
        Some(r) => format!("{table}|{}", r.predicate()),
        None => table.to_string(),
    };
    UnitRecord {
        id,
        table: table.into(),
        range: range.map(range_json),
        status,
        rows: Some(10),
        bytes: Some(100),
    }
}

fn key(lo: Option<i64>, hi: Option<i64>) -> CopyRange {
    CopyRange::Key {
        column: "id".into(),
        lo,
        hi,
    }
}

fn plan() -> Plan {
    Plan {
        copies: vec![
            copy("public", "a", 10),
            copy("public", "big", 1000),
            copy("public", "pages", 500),
        ],
        ..Default::default()
    }
}

#[test]
fn done_units_are_results_and_the_others_are_cleared_for_their_kind() {
    let (k1, k2) = (key(None, Some(100)), key(Some(100), None));
    let (p1, p2) = (
        CopyRange::Pages {
            lo: 0,
            hi: Some(10),
        },
        CopyRange::Pages { lo: 10, hi: None },
    );
    let records = vec![
        record("public.a", None, "done"),
        record("public.big", Some(&k1), "done"),
        record("public.big", Some(&k2), "pending"),
        record("public.pages", Some(&p1), "done"),
        record("public.pages", Some(&p2), "copying"),
    ];
    let parts = part_numbers(&records);
    let r = sort_recorded(&records, &parts, &plan(), LoadMode::Fresh).unwrap();
    let done: Vec<&str> = r.done.iter().map(|d| d.table.as_str()).collect();
    assert_eq!(done, ["public.a", "public.big", "public.pages"]);
    assert_eq!(r.done[0].stats.rows, 10);
    assert_eq!(r.done[0].format, "binary");
    let units: Vec<_> = r
        .units
        .iter()
        .map(|u| (u.id.as_str(), u.clear, u.part))
        .collect();
    assert_eq!(
        units,
        [
            ("public.big|id >= 100", Clear::DeleteRange, Some((2, 2))),
            (
                "public.pages|ctid >= '(10,0)'::tid",
                Clear::Nothing,
                Some((2, 2))
            ),
        ]
    );
    // A page range cannot be cleared alone: its table is redone whole.
    assert_eq!(r.reset_tables, HashSet::from(["public.pages".to_string()]));
}

#[test]
fn a_whole_table_is_truncated_on_a_fresh_load_and_emptied_on_an_existing_one() {
    let records = vec![record("public.a", None, "pending")];
    let parts = part_numbers(&records);
    let fresh = sort_recorded(&records, &parts, &plan(), LoadMode::Fresh).unwrap();
    assert_eq!(fresh.units[0].clear, Clear::Truncate);
    let existing = sort_recorded(&records, &parts, &plan(), LoadMode::Existing).unwrap();
    assert_eq!(existing.units[0].clear, Clear::DeleteAll);
    assert!(existing.done.is_empty() && existing.reset_tables.is_empty());
}

#[test]
fn a_recorded_table_the_plan_no_longer_has_asks_for_restart() {
    let records = vec![record("public.gone", None, "pending")];
    let err =
        sort_recorded(&records, &part_numbers(&records), &plan(), LoadMode::Fresh).unwrap_err();
    assert!(
        err.to_string().contains("public.gone") && err.to_string().contains("--restart"),
        "{err}"
    );
}

fn object(oid: u32) -> LargeObject {
    LargeObject {
        oid,
        size: 10,
        owner: "alice".into(),
        acl: None,
    }
}

fn lo_record(span: OidSpan, status: &'static str) -> UnitRecord {
    UnitRecord {
        id: span.unit_id(),
        table: LARGE_OBJECTS.into(),
        range: Some(span.to_json()),
        status,
        rows: None,
        bytes: None,
    }
}

#[test]
fn batches_of_large_objects_left_are_found_again_by_their_spans() {
    let objects: Vec<LargeObject> = [5, 50, 60, 500].into_iter().map(object).collect();
    let records = vec![
        lo_record(
            OidSpan {
                lo: 0,
                hi: Some(50),
            },
            "done",
        ),
        lo_record(
            OidSpan {
                lo: 50,
                hi: Some(500),
            },
            "copying",
        ),
        lo_record(OidSpan { lo: 500, hi: None }, "pending"),
    ];
    let units = large_object_units(&records, &objects, |o| format!("-- {}\n", o.oid)).unwrap();
    let got: Vec<_> = units
        .iter()
        .map(|u| (u.label(), u.bytes(), u.clear))
        .collect();
    assert_eq!(
        got,
        [
            ("large objects [batch 2/3]".to_string(), 20, Clear::Nothing),
            ("large objects [batch 3/3]".to_string(), 10, Clear::Nothing),
        ]
    );
    match &units[0].work {
        Work::LargeObjects(b) => assert_eq!(b.ownership, "-- 50\n-- 60\n"),
        Work::Table(_) => panic!("a table"),
    }
    // None recorded (the source had none then): every object, in new batches.
    let fresh = large_object_units(&[], &objects, |_| String::new()).unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].id, "large objects|oid >= 0");
    // A span that cannot be read is an error, not a silent skip.
    let mut bad = lo_record(OidSpan { lo: 0, hi: None }, "pending");
    bad.range = Some("{".into());
    assert!(large_object_units(&[bad], &objects, |_| String::new()).is_err());
}
