//! `pgferry verify` with checksums, against real servers: equal data is
//! reported equal across PostgreSQL 10 and 15 (floats, timestamps, numeric,
//! jsonb, arrays, NULLs), and every kind of difference the issue lists is
//! found, named, and (for a big table) located by key range.

use crate::support::{cluster, fresh_db, pgferry, Migrate};
use serde_json::Value;
use std::time::Instant;

/// Values whose text form differs between versions or settings, or that
/// look alike: NaN, infinities, -0, 0.1 (17 digits on 10, shortest on 12+),
/// NULL beside '', float arrays (with NaN and NULL elements, 2-D, non-1
/// lower bound), timestamptz, interval, numeric, jsonb, bytea, money.
const FIXTURE: &str = "
CREATE TABLE public.vals (
    id int PRIMARY KEY, f4 real, f8 double precision, n numeric, ts timestamptz,
    d date, iv interval, j jsonb, t text, fa float8[], f4a real[], ta text[], b bytea, m money);
INSERT INTO public.vals VALUES
 (1, 'NaN', 'NaN', 'NaN', '2020-01-01 10:00:00.123456+02', '2020-02-29', '1 day 02:03:04',
  '{\"k\": [1, 2.50, {\"x\": null}]}', 'a', '{NaN,Infinity,-Infinity}', '{NaN}', '{a,NULL,\"\"}', '\\x00ff', 1.5),
 (2, 'Infinity', '-Infinity', 123456789012345678901234567890.123456789, 'infinity', 'infinity', '-1 mons',
  '[]', 'b', '{{0.1,0.2},{0.3,NULL}}', '[0:1]={1.5,2.5}', '{}', '', -2.25),
 (3, '-0', '-0', '-0.0', '-infinity', '-infinity', '0', '\"s\"', 'c', '{-0,0}', '{}', NULL, NULL, 0),
 (4, 0.1, 0.1, 0.1, '1999-12-31 23:59:59.999999+00', '0001-01-01', '100 years', '{\"e\": \"😀\"}', 'Ünïcødé',
  '{0.1,1e308,5e-324}', '{0.1,3.4e38}', '{\"x,y\"}', '\\x5c0a', 1e6),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, 1.17549435e-38, 2.2250738585072014e-308, 1e-30, now(), now(), '1 sec', 'null', '', '{NULL}', '{NULL,NaN}', '{NULL}', '\\x', NULL);
CREATE TABLE public.nopk (t text, f float8);
INSERT INTO public.nopk SELECT 'row ' || g, g / 7.0 FROM generate_series(1, 1000) g;
INSERT INTO public.nopk SELECT 'dup', 1 FROM generate_series(1, 3);
CREATE TABLE public.empty_one (a int);
";

/// Only on 12+: a stored generated column, whose values must match too.
const FIXTURE_12: &str = "
CREATE TABLE public.gen (id int PRIMARY KEY, a float8, twice float8 GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO public.gen (id, a) VALUES (1, 0.1), (2, NULL), (3, 'NaN');
";

/// Runs `pgferry verify` (checksums) with `extra` flags; returns the exit
/// code and the JSON document.
pub(crate) fn verify(src: &str, dst: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", "--source", src, "--target", dst, "--json"];
    args.extend_from_slice(extra);
    let out = pgferry(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("verify --json ({code}): {e}\n{stdout}\n{stderr}"));
    assert_eq!(doc["mode"], "checksum", "{stdout}");
    (code, doc)
}

/// Runs `pgferry verify --counts-only --json`; returns the exit code and
/// the JSON document.
pub(crate) fn verify_counts(src: &str, dst: &str) -> (i32, Value) {
    let args = [
        "verify",
        "--source",
        src,
        "--target",
        dst,
        "--json",
        "--counts-only",
    ];
    let out = pgferry(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "verify --counts-only --json ({code}): {e}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(doc["mode"], "counts", "{stdout}");
    (code, doc)
}

/// Asserts exit `code` and, for 1, that exactly `table` is named.
fn expect(src: &str, dst: &str, code: i32, table: Option<&str>, what: &str) -> Value {
    let (c, doc) = verify(src, dst, &[]);
    assert_eq!(c, code, "{what}: exit code; report:\n{doc:#}");
    let different: Vec<&str> = doc["different"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match table {
        Some(t) => assert_eq!(different, vec![t], "{what}: differing tables"),
        None => assert!(different.is_empty(), "{what}: {doc:#}"),
    }
    doc
}

/// The report entry of one table.
pub(crate) fn table<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["tables"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["table"] == name))
        .unwrap_or_else(|| panic!("{name} not in the report: {doc:#}"))
}

/// Migrates the fixture, finds it equal, then makes each difference on the
/// target, checks it is found and named, and undoes it (the undo puts rows
/// back at another place in the heap: equal again proves order independence).
fn migrated_then_changed(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "vsum"), fresh_db(dst, "vsum"));
    src.psql(&sdb, FIXTURE).expect("load fixture");
    if source_major >= 12 {
        src.psql(&sdb, FIXTURE_12).expect("load generated columns");
    }
    Migrate::new(src, &sdb, dst, &tdb).report();
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    let doc = expect(&s, &d, 0, None, "after migrate");
    let tables = doc["tables"].as_array().map_or(0, Vec::len);
    assert_eq!(tables, if source_major >= 12 { 4 } else { 3 }, "{doc:#}");
    assert_eq!(table(&doc, "public.nopk")["source_rows"], 1003, "{doc:#}");

    let change = |sql: &str| dst.psql(&tdb, sql).expect(sql);
    change("UPDATE public.vals SET f8 = 0.1000000000000001 WHERE id = 4;");
    expect(
        &s,
        &d,
        1,
        Some("public.vals"),
        "float 0.1 -> 0.1000000000000001",
    );
    change("UPDATE public.vals SET f8 = 0.1 WHERE id = 4;");
    expect(&s, &d, 0, None, "float restored");

    change("UPDATE public.vals SET t = '' WHERE id = 5;");
    expect(&s, &d, 1, Some("public.vals"), "NULL -> ''");
    change("UPDATE public.vals SET t = NULL WHERE id = 5;");

    change("UPDATE public.vals SET f4a = '{NaN,NULL}' WHERE id = 6;");
    expect(&s, &d, 1, Some("public.vals"), "array elements swapped");
    change("UPDATE public.vals SET f4a = '{NULL,NaN}' WHERE id = 6;");

    change("DELETE FROM public.nopk WHERE t = 'row 500';");
    let doc = expect(&s, &d, 1, Some("public.nopk"), "one missing row");
    assert_eq!(table(&doc, "public.nopk")["target_rows"], 1002, "{doc:#}");
    change("INSERT INTO public.nopk VALUES ('row 500', 500 / 7.0);");
    expect(&s, &d, 0, None, "missing row put back");

    change("INSERT INTO public.nopk VALUES ('dup', 1);");
    expect(&s, &d, 1, Some("public.nopk"), "one extra (duplicate) row");
    change(
        "DELETE FROM public.nopk WHERE ctid = (SELECT max(ctid) FROM public.nopk WHERE t = 'dup');",
    );

    change("DELETE FROM public.vals WHERE id = 2; INSERT INTO public.vals SELECT 2, 'Infinity', '-Infinity', 123456789012345678901234567890.123456789, 'infinity', 'infinity', '-1 mons', '[]', 'b', '{{0.1,0.2},{0.3,NULL}}', '[0:1]={1.5,2.5}', '{}', '', -2.25;");
    expect(&s, &d, 0, None, "row rewritten with the same values");

    if source_major >= 12 {
        change("ALTER TABLE public.gen DROP COLUMN twice; ALTER TABLE public.gen ADD COLUMN twice float8 GENERATED ALWAYS AS (a * 3) STORED;");
        expect(&s, &d, 1, Some("public.gen"), "generated column values");
        change("ALTER TABLE public.gen DROP COLUMN twice; ALTER TABLE public.gen ADD COLUMN twice float8 GENERATED ALWAYS AS (a * 2) STORED;");
        expect(&s, &d, 0, None, "generated column restored");
    }
    change("DROP TABLE public.empty_one;");
    let doc = expect(
        &s,
        &d,
        1,
        Some("public.empty_one"),
        "table missing on the target",
    );
    assert!(table(&doc, "public.empty_one")["note"]
        .as_str()
        .is_some_and(|n| n.contains("missing")));
}

#[test]
fn pg10_to_15_equal_then_each_difference_found() {
    migrated_then_changed(10, 15);
}

#[test]
fn pg15_to_15_equal_then_each_difference_found() {
    migrated_then_changed(15, 15);
}

/// The same INSERTs run on 10 and on 15 (no pgferry copy in between, so no
/// binary COPY hides a text difference): the checksums must agree, which is
/// the version independence itself. Includes domains over float8 and
/// float8[] (arrays of domains need 11+).
#[test]
fn same_data_typed_into_10_and_15_is_equal() {
    same_data_typed_into(10, 15);
}

/// The same, on the newest major: 10 and 18 print the same values alike.
#[test]
fn same_data_typed_into_10_and_18_is_equal() {
    same_data_typed_into(10, 18);
}

fn same_data_typed_into(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "vsame"), fresh_db(dst, "vsame"));
    let extra = "CREATE DOMAIN public.ratio AS float8; CREATE DOMAIN public.ratios AS float8[]; \
        CREATE TABLE public.dom (id int PRIMARY KEY, r public.ratio, rs public.ratios); \
        INSERT INTO public.dom VALUES (1, 0.1, '{0.1,NaN}'), (2, NULL, NULL), (3, -0, '{}');";
    for (c, db) in [(src, &sdb), (dst, &tdb)] {
        c.psql(db, &FIXTURE.replace("now()", "'2021-06-01 12:00:00+00'"))
            .expect("fixture");
        c.psql(db, extra).expect("domain fixture");
    }
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    expect(&s, &d, 0, None, "same inserts on both majors");
    dst.psql(
        &tdb,
        "UPDATE public.dom SET r = 0.1000000000000001 WHERE id = 1;",
    )
    .expect("update");
    expect(&s, &d, 1, Some("public.dom"), "domain over float8 changed");
}

/// A million rows: verify (per key range) finds one changed value and names
/// its range; prints how long verify takes beside migrate's data phase.
#[test]
#[ignore = "slow"]
fn million_rows_one_changed_value_located_by_range() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "vbig"), fresh_db(dst, "vbig"));
    src.psql(
        &sdb,
        "CREATE TABLE public.big (id int8 PRIMARY KEY, v int, s text, f float8, ts timestamptz); \
         INSERT INTO public.big SELECT g, g % 1000, md5(g::text), g / 3.0, \
         '2020-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 1000000) g; \
         ANALYZE public.big;",
    )
    .expect("million rows");
    let report = Migrate::new(src, &sdb, dst, &tdb).report();
    let data_secs = report["phases"]["data"].as_f64().unwrap_or(f64::NAN);
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    let split = ["--split-larger-than", "1MB"];

    let t = Instant::now();
    let (code, doc) = verify(&s, &d, &split);
    let split_secs = t.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{doc:#}");
    let ranges = table(&doc, "public.big")["split"]["ranges"]
        .as_i64()
        .unwrap_or(0);
    assert!(ranges >= 2, "big table not split: {doc:#}");
    let t = Instant::now();
    let (code, _) = verify(&s, &d, &[]);
    let whole_secs = t.elapsed().as_secs_f64();
    assert_eq!(code, 0);

    dst.psql(&tdb, "UPDATE public.big SET v = v + 1 WHERE id = 777777;")
        .expect("update");
    let (code, doc) = verify(&s, &d, &split);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["different"][0], "public.big");
    let diffs = table(&doc, "public.big")["differing_ranges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(diffs.len(), 1, "{doc:#}");
    let (from, to) = (diffs[0]["from"].as_i64(), diffs[0]["to"].as_i64());
    assert!(
        from.is_some_and(|f| f <= 777_777) && to.is_some_and(|t| t >= 777_777),
        "range {from:?}..{to:?} should hold 777777"
    );
    assert!(to.zip(from).is_some_and(|(t, f)| t - f < 100_000));
    // The human report names the table and the range too.
    let out = pgferry(&[
        "verify",
        "--source",
        &s,
        "--target",
        &d,
        "--split-larger-than",
        "1MB",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DIFFERENT: public.big") && text.contains("id "),
        "{text}"
    );
    eprintln!(
        "TIMING million rows (15->15): migrate data phase {data_secs:.2}s; verify per range \
         {split_secs:.2}s ({ranges} ranges); verify whole table {whole_secs:.2}s"
    );
}
