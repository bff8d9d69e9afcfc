//! `pgferry verify` as streamed and hashed by pgferry, against real servers
//! (PostgreSQL 10 -> 15 and 15 -> 15): a table read in many key ranges in
//! parallel is equal after a migration, and each small difference made on
//! the target afterwards is found (exit 1) and located to its key range:
//! one changed value, one float's last bit (float8 and float4), a NULL
//! turned into '', one element of an array of an enum and of a composite
//! type; a duplicated row in a table without a key; a sequence's value.

use crate::support::Migrate;
use crate::support::{cluster, fresh_db};
use crate::verify_checksum::{table, verify};
use serde_json::Value;

/// `items` (int8 key, split into many ranges by the flags below) with floats,
/// text, an enum array and an array of a composite holding a float, an enum
/// and text; `bag` without a key, with duplicates; a sequence.
const FIXTURE: &str = "
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE public.pt AS (x float8, label text, m public.mood);
CREATE TABLE public.items (id int8 PRIMARY KEY, v int, f8 float8, f4 real, t text,
    moods public.mood[], pts public.pt[]);
INSERT INTO public.items
SELECT g, g % 100, g / 10.0, g / 10.0, 'r' || g, ARRAY['sad', 'happy']::public.mood[],
       ARRAY[ROW(g / 3.0, 'p' || g, 'ok')::public.pt, ROW(0.5, NULL, 'sad')::public.pt]
FROM generate_series(1, 20000) g;
UPDATE public.items SET f8 = 0.1, f4 = 0.1 WHERE id = 100;
UPDATE public.items SET t = NULL WHERE id = 777;
ANALYZE public.items;
CREATE TABLE public.bag (t text, n int);
INSERT INTO public.bag SELECT 'x' || (g % 10), g % 3 FROM generate_series(1, 500) g;
CREATE SEQUENCE public.counter;
SELECT pg_catalog.setval('public.counter', 42);
";

/// Small split size: `items` (a few MB) is read in many ranges, three at once.
const FLAGS: [&str; 4] = ["--split-larger-than", "200kB", "--jobs", "3"];

fn different(doc: &Value, key: &str) -> Vec<String> {
    doc[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Verifies, expecting equal.
fn equal(s: &str, d: &str, what: &str) -> Value {
    let (code, doc) = verify(s, d, &FLAGS);
    assert_eq!(code, 0, "{what}: expected equal; report:\n{doc:#}");
    doc
}

/// Verifies, expecting exactly `items` to differ, in the one range that
/// holds key `id`.
fn located(s: &str, d: &str, id: i64, what: &str) {
    let (code, doc) = verify(s, d, &FLAGS);
    assert_eq!(code, 1, "{what}: exit code; report:\n{doc:#}");
    assert_eq!(different(&doc, "different"), ["public.items"], "{what}");
    let ranges = table(&doc, "public.items")["differing_ranges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ranges.len(), 1, "{what}: {doc:#}");
    let (from, to) = (ranges[0]["from"].as_i64(), ranges[0]["to"].as_i64());
    assert!(
        from.is_some_and(|f| f <= id) && to.is_some_and(|t| t >= id),
        "{what}: range {from:?}..={to:?} should hold {id}"
    );
    assert!(
        to.zip(from).is_some_and(|(t, f)| t - f < 1000),
        "{what}: range too wide"
    );
}

fn each_difference_found(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "vfast"), fresh_db(dst, "vfast"));
    src.psql(&sdb, FIXTURE).expect("load fixture");
    Migrate::new(src, &sdb, dst, &tdb).report();
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    let doc = equal(&s, &d, "after migrate");
    let items = table(&doc, "public.items");
    assert_eq!(items["source_rows"], 20000, "{doc:#}");
    assert!(
        items["units"].as_i64().unwrap_or(0) >= 4,
        "not split: {doc:#}"
    );
    assert!(
        items["split"]["ranges"].as_i64().unwrap_or(0) >= 100,
        "{doc:#}"
    );
    assert_eq!(table(&doc, "public.bag")["target_rows"], 500, "{doc:#}");
    let seqs = doc["sequences"].as_array().cloned().unwrap_or_default();
    assert!(
        seqs.iter()
            .any(|q| q["sequence"] == "public.counter" && q["equal"] == true),
        "{doc:#}"
    );

    let change = |sql: &str| dst.psql(&tdb, sql).expect(sql);
    change("UPDATE public.items SET v = v + 1 WHERE id = 12345;");
    located(&s, &d, 12345, "one changed value");
    change("UPDATE public.items SET v = v - 1 WHERE id = 12345;");
    equal(&s, &d, "value restored");

    // 0.1 is 0x3FB999999999999A; one ulp up is ...9B, 0.10000000000000002.
    change("UPDATE public.items SET f8 = '0.10000000000000002' WHERE id = 100;");
    let bits = change("SELECT pg_catalog.encode(pg_catalog.float8send(f8), 'hex') FROM public.items WHERE id = 100;");
    assert_eq!(bits.trim(), "3fb999999999999b", "not one ulp from 0.1");
    located(&s, &d, 100, "float8 last bit");
    change("UPDATE public.items SET f8 = 0.1 WHERE id = 100;");
    // float4 0.1 is 0x3DCCCCCD; one ulp up is ...CE, 0.10000001.
    change("UPDATE public.items SET f4 = '0.10000001' WHERE id = 100;");
    let bits = change("SELECT pg_catalog.encode(pg_catalog.float4send(f4), 'hex') FROM public.items WHERE id = 100;");
    assert_eq!(bits.trim(), "3dccccce", "not one ulp from 0.1");
    located(&s, &d, 100, "float4 last bit");
    change("UPDATE public.items SET f4 = 0.1 WHERE id = 100;");
    equal(&s, &d, "floats restored");

    change("UPDATE public.items SET t = '' WHERE id = 777;");
    located(&s, &d, 777, "NULL -> ''");
    change("UPDATE public.items SET t = NULL WHERE id = 777;");

    change("UPDATE public.items SET moods[2] = 'ok' WHERE id = 5000;");
    located(&s, &d, 5000, "one element of an enum array");
    change("UPDATE public.items SET moods[2] = 'happy' WHERE id = 5000;");

    change("UPDATE public.items SET pts[2] = ROW(0.5, '', 'sad')::public.pt WHERE id = 19999;");
    located(&s, &d, 19999, "one element of a composite array");
    change("UPDATE public.items SET pts[2] = ROW(0.5, NULL, 'sad')::public.pt WHERE id = 19999;");
    equal(&s, &d, "arrays restored");

    change("INSERT INTO public.bag SELECT * FROM public.bag WHERE t = 'x3' LIMIT 1;");
    let (code, doc) = verify(&s, &d, &FLAGS);
    assert_eq!(code, 1, "duplicated row: {doc:#}");
    assert_eq!(different(&doc, "different"), ["public.bag"], "{doc:#}");
    assert_eq!(table(&doc, "public.bag")["target_rows"], 501, "{doc:#}");
    change(
        "DELETE FROM public.bag WHERE ctid = (SELECT max(ctid) FROM public.bag WHERE t = 'x3');",
    );
    equal(&s, &d, "duplicate removed");

    for (set, what) in [
        (
            "SELECT pg_catalog.setval('public.counter', 41);",
            "sequence value",
        ),
        (
            "SELECT pg_catalog.setval('public.counter', 42, false);",
            "sequence is_called",
        ),
    ] {
        change(set);
        let (code, doc) = verify(&s, &d, &FLAGS);
        assert_eq!(code, 1, "{what}: {doc:#}");
        assert!(different(&doc, "different").is_empty(), "{what}: {doc:#}");
        assert_eq!(
            different(&doc, "different_sequences"),
            ["public.counter"],
            "{what}"
        );
    }
    change("SELECT pg_catalog.setval('public.counter', 42);");
    equal(&s, &d, "sequence restored");
    // Counts-only compares sequences too.
    change("SELECT pg_catalog.setval('public.counter', 1);");
    let (code, doc) = crate::verify_checksum::verify_counts(&s, &d);
    assert_eq!(code, 1, "counts-only, sequence: {doc:#}");
    assert_eq!(different(&doc, "different_sequences"), ["public.counter"]);
}

/// The fixture typed into 10 and into 18 (no copy in between): equal,
/// though 10 is read in key ranges and 18 in page ranges, and the floats
/// inside the composite print alike on both.
#[test]
fn fixture_typed_into_10_and_18_is_equal() {
    let (src, dst) = (cluster(10), cluster(18));
    let (sdb, tdb) = (fresh_db(src, "vfsame"), fresh_db(dst, "vfsame"));
    src.psql(&sdb, FIXTURE).expect("fixture on 10");
    dst.psql(&tdb, FIXTURE).expect("fixture on 18");
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    let doc = equal(&s, &d, "same inserts on 10 and 18");
    assert!(table(&doc, "public.items")["units"].as_i64().unwrap_or(0) >= 4);
    dst.psql(
        &tdb,
        "UPDATE public.items SET moods[1] = 'ok' WHERE id = 3;",
    )
    .expect("update");
    located(&s, &d, 3, "enum array element on 18");
}

#[test]
fn pg10_to_15_each_difference_found_and_located() {
    each_difference_found(10, 15);
}

#[test]
fn pg15_to_15_each_difference_found_and_located() {
    each_difference_found(15, 15);
}
