//! The data engine against real servers: range splitting, snapshot
//! consistency, text fallback, partitions, unlogged tables, column order.

use crate::support::{cluster, compare, fresh_db, pgferry, Scenario, RESUME_FIXTURE};
use pgferry::config::Endpoints;
use pgferry::copy::{run_copies, CopyJob, LoadMode, Unit};
use pgferry::pg::SnapshotHolder;
use pgferry::pg::{connect, ConnSpec};

const FIXTURE: &str = include_str!("../fixtures/data_engine.sql");

/// Every row of the fixture's tables, as text, in key order.
const ROWS: &str = "SET extra_float_digits = 0; SET DateStyle = 'ISO';
SELECT 'big_keyed', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM public.big_keyed t
UNION ALL SELECT 'big_heap', count(*), md5(string_agg(t::text, ',' ORDER BY a, b)) FROM public.big_heap t
UNION ALL SELECT 'acl_t', count(*), string_agg(t::text, ',' ORDER BY id) FROM public.acl_t t
UNION ALL SELECT 'measure', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM public.measure t
UNION ALL SELECT 'measure_other', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM public.measure_other t
UNION ALL SELECT 'cache', count(*), md5(string_agg(t::text, ',' ORDER BY k)) FROM public.cache t
ORDER BY 1;";

fn migrate_json(args: &[&str]) -> serde_json::Value {
    let out = pgferry(args);
    assert!(
        out.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("migrate --json")
}

fn table<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["tables"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["table"] == name))
        .unwrap_or_else(|| panic!("{name} missing from report: {report}"))
}

fn case(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "data"), fresh_db(dst, "data"));
    // Default partitions arrived in PostgreSQL 11.
    let fixture = if source_major < 11 {
        FIXTURE.replace(
            "CREATE TABLE public.measure_other PARTITION OF public.measure DEFAULT;",
            "CREATE TABLE public.measure_other PARTITION OF public.measure FOR VALUES FROM ('2019-01-01') TO ('2020-01-01');",
        )
    } else {
        FIXTURE.to_string()
    };
    src.psql(&sdb, &fixture).expect("fixture");
    let report = migrate_json(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--split-tables-larger-than",
        "512kB",
        "--jobs",
        "3",
        "--json",
    ]);
    compare::assert_same_text(
        &src.psql(&sdb, ROWS).unwrap(),
        &dst.psql(&tdb, ROWS).unwrap(),
        "rows",
    );
    let keyed = table(&report, "public.big_keyed");
    assert!(
        keyed["ranges"].as_u64().unwrap_or(0) >= 3,
        "not split: {keyed}"
    );
    assert_eq!(keyed["rows"], 60000);
    let heap = table(&report, "public.big_heap");
    // Without a key, only servers with TID range scans (14+) split by pages.
    let heap_ranges = heap["ranges"].as_u64().unwrap_or(0);
    if source_major >= 14 {
        assert!(heap_ranges >= 2, "heap not split by pages: {heap}");
    } else {
        assert_eq!(heap_ranges, 1);
    }
    assert_eq!(table(&report, "public.acl_t")["format"], "text");
    assert_eq!(table(&report, "public.big_keyed")["format"], "binary");
    // Unlogged stays unlogged; partitions stay attached.
    let kinds = "SELECT relname || ':' || relpersistence::text || ':' || relispartition::text FROM pg_class \
                 WHERE relname IN ('cache', 'measure_2020', 'measure_other') ORDER BY 1;";
    assert_eq!(
        src.psql(&sdb, kinds).unwrap(),
        dst.psql(&tdb, kinds).unwrap()
    );
}

#[test]
fn split_text_fallback_partitions_unlogged_10_to_15() {
    case(10, 15);
}

#[test]
fn split_text_fallback_partitions_unlogged_15_to_15() {
    case(15, 15);
}

/// Rows written after the snapshot was exported are not copied: the copy
/// workers read only what the snapshot saw.
#[test]
fn rows_written_after_the_snapshot_are_not_copied() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "snap"), fresh_db(dst, "snap"));
    src.psql(&sdb, "CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t SELECT g, 'before' FROM generate_series(1, 1000) g;").unwrap();
    dst.psql(&tdb, "CREATE TABLE public.t (id int PRIMARY KEY, v text);")
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ends = Endpoints {
            source: ConnSpec::parse(&src.uri(&sdb)).unwrap(),
            target: ConnSpec::parse(&dst.uri(&tdb)).unwrap(),
        };
        let holder = SnapshotHolder::open(connect(&ends.source, "test").await.unwrap())
            .await
            .unwrap();
        let cat = pgferry::catalog::Catalog::read(holder.client()).await.unwrap();
        let plan = pgferry::plan::build(&cat, &pgferry::plan::BuildOptions::default());
        // Written after the snapshot: must not arrive.
        src.psql(&sdb, "INSERT INTO public.t SELECT g, 'after' FROM generate_series(1001, 1500) g; UPDATE public.t SET v = 'changed' WHERE id <= 10;").unwrap();
        let units = plan
            .copies
            .iter()
            .cloned()
            .map(|c| Unit::new(c, LoadMode::Fresh))
            .collect();
        let results = run_copies(
            CopyJob::fresh(&ends, holder.id(), 2),
            units,
        )
        .await
        .unwrap();
        assert_eq!(results[0].stats.rows, 1000);
        holder.close().await.unwrap();
    });
    assert_eq!(
        dst.psql(
            &tdb,
            "SELECT count(*), count(*) FILTER (WHERE v = 'before') FROM public.t;"
        )
        .unwrap(),
        "1000|1000\n"
    );
}

/// `--data-only` into a table whose column order differs from the source's:
/// every value lands in the column of the same name.
#[test]
fn values_follow_column_names_not_positions() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "order"), fresh_db(dst, "order"));
    src.psql(&sdb, "CREATE TABLE public.p (id int PRIMARY KEY, a text, b int, c date); INSERT INTO public.p VALUES (1, 'x', 2, '2020-01-03'), (2, NULL, 5, NULL);").unwrap();
    dst.psql(
        &tdb,
        "CREATE TABLE public.p (c date, b int, id int PRIMARY KEY, a text);",
    )
    .unwrap();
    migrate_json(&[
        "migrate",
        "--data-only",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--json",
    ]);
    let q = "SELECT id, a, b, c FROM public.p ORDER BY id;";
    assert_eq!(src.psql(&sdb, q).unwrap(), dst.psql(&tdb, q).unwrap());
}

/// Rows written to the source while the data is copied are not on the target
/// (the snapshot), and the report says how many changed meanwhile.
#[test]
fn writes_during_the_copy_are_reported() {
    let s = Scenario::new(15, 15, "writes").load("CREATE TABLE public.big (id int, pad text); INSERT INTO public.big SELECT g, repeat('x', 300) FROM generate_series(1, 400000) g; CREATE TABLE public.busy (n int);");
    let (src, sdb) = (s.src(), &s.sdb);
    let child = s.migrate().json().spawn();
    // Write from separate sessions (each flushes its statistics when it ends)
    // until the copy is over.
    let pid = child.id();
    let mut writes = 0;
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && writes < 200 {
        src.psql(
            sdb,
            "INSERT INTO public.busy SELECT generate_series(1, 10);",
        )
        .unwrap();
        writes += 1;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") Z") {
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["source_writes_during_copy"].as_i64().unwrap_or(0) > 0,
        "writes during the copy not reported ({writes} inserts made): {}",
        report["source_writes_during_copy"]
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("changed on the source while the data was copied"));
}

/// Items 25 and 26: a table split in ranges is one line of the report, its
/// time the wall time (within the data phase, not the sum of its ranges,
/// which ran side by side), and the progress lines count tables, not
/// ranges, ending at 100% with every table done.
#[test]
fn a_split_table_is_reported_once_with_its_wall_time_and_progress_ends_at_100() {
    let s = Scenario::new(15, 15, "wall").load(RESUME_FIXTURE);
    let out = s
        .migrate()
        .args(&["--split-tables-larger-than", "1MB", "--jobs", "2"])
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Progress (plain lines: stderr is not a terminal): the last line.
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with("pgferry: data:"))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    assert!(
        last.starts_with("pgferry: data: 100%") && last.contains("tables 5/5"),
        "{last}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.state().join("report.json")).expect("report.json"))
            .unwrap();
    let big = table(&report, "public.big");
    let ranges = big["ranges"].as_u64().unwrap();
    assert!(ranges >= 4, "public.big was not split: {big}");
    let listed = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"] == "public.big")
        .count();
    assert_eq!(listed, 1);
    let data = report["phases"]["data"].as_f64().unwrap();
    let secs = big["seconds"].as_f64().unwrap();
    assert!(
        secs <= data + 0.01,
        "public.big took {secs} s in a data phase of {data} s: ranges summed, not wall time"
    );
    assert_eq!(big["rows"], 60000);
}

/// Item 27: table sizes count TOAST (`pg_table_size`): a table whose rows
/// live in TOAST is big for scheduling, shown with its size, and split.
#[test]
fn toast_heavy_tables_are_sized_with_their_toast() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "toast"), fresh_db(dst, "toast"));
    // 300 rows of 20 kB that do not compress: about 6 MB of TOAST, a heap
    // of a few pages.
    src.psql(
        &sdb,
        "CREATE TABLE public.docs (id int PRIMARY KEY, body text);
         INSERT INTO public.docs SELECT g, (SELECT string_agg(md5(g::text || '/' || i), '')
                                            FROM generate_series(1, 640) i)
         FROM generate_series(1, 300) g;
         CREATE TABLE public.plain (id int PRIMARY KEY, v int);
         INSERT INTO public.plain SELECT g, g FROM generate_series(1, 1000) g;",
    )
    .unwrap();
    let (su, du) = (src.uri(&sdb), dst.uri(&tdb));
    let plan = migrate_json(&[
        "migrate",
        "--source",
        &su,
        "--target",
        &du,
        "--dry-run",
        "--json",
    ]);
    let docs = plan["copies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source_name"] == "docs")
        .expect("docs in the plan");
    let bytes = docs["bytes"].as_i64().unwrap();
    assert!(
        bytes > 5_000_000,
        "docs sized without its TOAST: {bytes} bytes"
    );
    assert_eq!(
        plan["copies"][0]["source_name"], "docs",
        "the TOAST-heavy table is not scheduled first"
    );
    let report = migrate_json(&[
        "migrate",
        "--source",
        &su,
        "--target",
        &du,
        "--split-tables-larger-than",
        "1MB",
        "--json",
    ]);
    let ranges = table(&report, "public.docs")["ranges"].as_u64().unwrap();
    assert!(ranges > 1, "the TOAST-heavy table was not split");
    crate::support::assert_verified_equal(&su, &du);
}
