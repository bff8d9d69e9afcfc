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
