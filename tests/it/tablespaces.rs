//! Relations in non-default tablespaces (issue 13), on real servers from 10
//! and 15 to 17 and 18: a table, a partial index, a primary key's index
//! (`USING INDEX TABLESPACE`), an exclusion constraint's index, a
//! partitioned table with its partitions and indexes (10 keeps no tablespace
//! for a partitioned table: there the partitions are in it), and a
//! materialized view with its index, all in tablespace A of the source.
//!
//! - `--tablespace-map A=B`: every one of them is in B on the target
//!   (`pg_class.reltablespace`, `pg_tables`, `pg_indexes`, `pg_matviews`),
//!   the rest stays in the default, `pg_dump --schema-only` of both ends is
//!   the same but for `SET default_tablespace = B`, the rows are equal, and
//!   `verify --schema` agrees given the map (and, without it, names the
//!   moved relations: it does compare tablespaces).
//! - No map: everything in the target's default, the precheck warns naming
//!   A and how many relations, migrate exits 0, `verify --schema` agrees.
//! - A map to a tablespace the target lacks, or one the login may not
//!   create in: the precheck fails with `target.tablespace`, and `migrate`
//!   stops before writing anything (the target's dump is unchanged).
//!
//! Tablespaces are per cluster and the clusters are shared by every test of
//! the run, so each test makes its own, in a directory of the run's scratch
//! directory owned by the server's user.

use crate::support::compare::assert_same_schema;
use crate::support::{
    assert_verified_equal, cluster, fresh_db, pg_dump_schema, pgferry, scratch_dir, Migrate,
};
use pgferry::localpg::{find_client_tool, LocalCluster};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

/// Creates a tablespace with a name of its own on `c` and returns the name.
fn tablespace(c: &LocalCluster, prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        N.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    );
    // Next to the cluster's data directory: the server's user can reach it
    // whatever the checkout's path (a clone under a private temp directory
    // cannot be traversed by it).
    let base = c.data_dir().parent().unwrap_or(c.data_dir());
    let dir = base.join("tablespaces").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    // The server runs as its own user when the tests run as root.
    let owner = std::fs::metadata(c.data_dir()).unwrap();
    std::os::unix::fs::chown(&dir, Some(owner.uid()), Some(owner.gid())).unwrap();
    c.psql(
        "postgres",
        &format!("CREATE TABLESPACE {name} LOCATION '{}';", dir.display()),
    )
    .unwrap();
    name
}

/// The fixture, its relations in tablespace `ts` but `app.plain` (and its
/// primary key), and the second partition.
fn load(c: &LocalCluster, db: &str, ts: &str) {
    let partitioned = if c.major() >= 12 {
        format!(
            "CREATE TABLE app.p (id int, k int, note text, PRIMARY KEY (k, id) USING INDEX \
             TABLESPACE {ts}) PARTITION BY RANGE (k) TABLESPACE {ts};
             CREATE TABLE app.p1 PARTITION OF app.p FOR VALUES FROM (0) TO (100);
             CREATE TABLE app.p2 PARTITION OF app.p FOR VALUES FROM (100) TO (200) TABLESPACE pg_default;
             CREATE INDEX p_note ON app.p (note) TABLESPACE {ts};"
        )
    } else {
        // 10: no tablespace, key or index on a partitioned table itself.
        format!(
            "CREATE TABLE app.p (id int, k int, note text) PARTITION BY RANGE (k);
             CREATE TABLE app.p1 PARTITION OF app.p FOR VALUES FROM (0) TO (100) TABLESPACE {ts};
             CREATE TABLE app.p2 PARTITION OF app.p FOR VALUES FROM (100) TO (200);
             ALTER TABLE app.p1 ADD PRIMARY KEY (k, id) USING INDEX TABLESPACE {ts};
             ALTER TABLE app.p2 ADD PRIMARY KEY (k, id);
             CREATE INDEX p1_note ON app.p1 (note) TABLESPACE {ts};"
        )
    };
    c.psql(
        db,
        &format!(
            "CREATE SCHEMA app;
             CREATE TABLE app.t (id int PRIMARY KEY USING INDEX TABLESPACE {ts}, v text, w int)
                 TABLESPACE {ts};
             CREATE INDEX t_v ON app.t (v) TABLESPACE {ts} WHERE w > 0;
             CREATE TABLE app.slots (id int PRIMARY KEY, during int4range,
                 EXCLUDE USING gist (during WITH &&) USING INDEX TABLESPACE {ts}) TABLESPACE {ts};
             CREATE TABLE app.plain (id int PRIMARY KEY, x int);
             CREATE INDEX plain_x ON app.plain (x) TABLESPACE {ts};
             {partitioned}
             INSERT INTO app.t SELECT g, 'v' || g, g % 7 FROM generate_series(1, 500) g;
             INSERT INTO app.slots SELECT g, int4range(g * 10, g * 10 + 5) FROM generate_series(1, 50) g;
             INSERT INTO app.plain SELECT g, g FROM generate_series(1, 100) g;
             INSERT INTO app.p SELECT g, g % 200, 'n' || g FROM generate_series(1, 400) g;
             CREATE MATERIALIZED VIEW app.mv TABLESPACE {ts} AS
                 SELECT t.w, count(*) AS n FROM app.t JOIN app.plain ON plain.id = t.id
                 GROUP BY t.w;
             CREATE UNIQUE INDEX mv_w ON app.mv (w) TABLESPACE {ts};"
        ),
    )
    .unwrap();
}

/// `relation|tablespace` of every relation of `app`, one per line, sorted;
/// the tablespace empty for the database's default.
fn placement(c: &LocalCluster, db: &str) -> String {
    c.psql(
        db,
        "SELECT c.relname || '|' || COALESCE(t.spcname, '')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
         WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p', 'i', 'I', 'm')
         ORDER BY c.relname::text COLLATE \"C\"",
    )
    .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn findings<'a>(doc: &'a Value, code: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn precheck(src: &LocalCluster, sdb: &str, target: &str, extra: &[&str]) -> (Output, Value) {
    let s = src.uri(sdb);
    let fixes = scratch_dir().join(format!("fixes-{sdb}"));
    let fixes = fixes.display().to_string();
    let mut args = vec!["precheck", "--source", &s, "--target", target, "--json"];
    args.extend(["--fix-dir", &fixes]);
    args.extend(extra);
    let out = pgferry(&args);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("precheck --json: {e}: {}", text(&out)));
    (out, doc)
}

/// The newest pg_dump can dump this server (pg_dump refuses newer servers).
fn dumpable(c: &LocalCluster) -> bool {
    let pd = find_client_tool("pg_dump", None).unwrap();
    let out = std::process::Command::new(pd)
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    let major: u32 = v
        .split_whitespace()
        .find_map(|w| w.split('.').next()?.parse().ok())
        .unwrap_or(0);
    major >= c.major()
}

fn mapped_case(src_major: u32, dst_major: u32) {
    let (src, dst) = (cluster(src_major), cluster(dst_major));
    let (ts_a, ts_b) = (tablespace(src, "ts_a"), tablespace(dst, "ts_b"));
    let sdb = fresh_db(src, "tblspc_src");
    load(src, &sdb, &ts_a);
    let tdb = fresh_db(dst, "tblspc_dst");
    let map = format!("{ts_a}={ts_b}");
    let report = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--tablespace-map", &map])
        .report();
    let what = format!("{src_major} -> {dst_major}");

    // Each relation where the source has it, A read as B.
    let expected = placement(src, &sdb).replace(&format!("|{ts_a}\n"), &format!("|{ts_b}\n"));
    let got = placement(dst, &tdb);
    assert_eq!(got, expected, "{what}: placement on the target");
    assert!(got.contains(&format!("t_pkey|{ts_b}")), "{what}: {got}");
    assert!(got.contains("plain_pkey|\n"), "{what}: {got}");
    let q = |sql: &str| dst.psql(&tdb, sql).unwrap();
    assert_eq!(
        q(
            "SELECT tablename || '=' || COALESCE(tablespace, '') FROM pg_tables
           WHERE schemaname = 'app' ORDER BY tablename::text COLLATE \"C\""
        ),
        if src_major >= 12 {
            format!("p={ts_b}\np1={ts_b}\np2=\nplain=\nslots={ts_b}\nt={ts_b}\n")
        } else {
            format!("p=\np1={ts_b}\np2=\nplain=\nslots={ts_b}\nt={ts_b}\n")
        },
        "{what}: pg_tables"
    );
    let indexes = q(
        "SELECT indexname || '=' || COALESCE(tablespace, '') FROM pg_indexes
                     WHERE schemaname = 'app' ORDER BY 1",
    );
    for i in [
        "t_pkey",
        "t_v",
        "slots_during_excl",
        "plain_x",
        "mv_w",
        "p1_pkey",
    ] {
        assert!(
            indexes.contains(&format!("{i}={ts_b}\n")),
            "{what}: {i} not in {ts_b}:\n{indexes}"
        );
    }
    assert_eq!(
        q("SELECT COALESCE(tablespace, '') FROM pg_matviews WHERE matviewname = 'mv'"),
        format!("{ts_b}\n")
    );
    // Each listed as rewritten; the closing structure comparison agrees.
    let rewritten: Vec<&Value> = report["rewritten"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "source.tablespace")
        .collect();
    let in_a = expected.matches(&format!("|{ts_b}\n")).count();
    assert_eq!(rewritten.len(), in_a, "{what}: {rewritten:?}");
    assert_eq!(
        report["schema_differences"],
        serde_json::json!([]),
        "{what}"
    );

    // verify --schema given the map agrees, rows too; without it, the
    // moved relations are differences.
    let (s, t) = (src.uri(&sdb), dst.uri(&tdb));
    let v = pgferry(&[
        "verify",
        "--source",
        &s,
        "--target",
        &t,
        "--schema",
        "--tablespace-map",
        &map,
    ]);
    assert_eq!(v.status.code(), Some(0), "{what}: {}", text(&v));
    let v = pgferry(&[
        "verify",
        "--source",
        &s,
        "--target",
        &t,
        "--schema",
        "--counts-only",
    ]);
    assert_eq!(v.status.code(), Some(1), "{what}: {}", text(&v));
    assert!(
        text(&v).contains(&format!("TABLESPACE {ts_b}")),
        "{}",
        text(&v)
    );

    if dumpable(src) && dumpable(dst) {
        // `SET default_tablespace = A;` and the `Tablespace: A` of headers.
        let source = pg_dump_schema(src, &sdb).replace(&ts_a, &ts_b);
        assert_same_schema(&source, &pg_dump_schema(dst, &tdb), &what);
    } else {
        eprintln!("{what}: no pg_dump for PostgreSQL {dst_major}: dumps not compared");
    }
}

#[test]
fn mapped_relations_are_created_in_the_new_tablespace_15_to_17() {
    mapped_case(15, 17);
}

#[test]
#[ignore = "slow"]
fn mapped_relations_are_created_in_the_new_tablespace_across_versions() {
    for (s, t) in [(10, 17), (10, 18), (15, 18)] {
        mapped_case(s, t);
    }
}

#[test]
#[ignore = "slow"]
fn unmapped_relations_go_to_the_default_with_a_warning() {
    for (src_major, dst_major) in [(10, 18), (15, 17)] {
        let (src, dst) = (cluster(src_major), cluster(dst_major));
        let ts_a = tablespace(src, "ts_a");
        let sdb = fresh_db(src, "tblspc_src");
        load(src, &sdb, &ts_a);
        let tdb = fresh_db(dst, "tblspc_dst");
        let what = format!("{src_major} -> {dst_major}");
        let in_a = placement(src, &sdb).matches(&format!("|{ts_a}\n")).count();

        let (out, doc) = precheck(src, &sdb, &dst.uri(&tdb), &[]);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out));
        let warn = findings(&doc, "source.tablespace");
        assert_eq!(warn.len(), 1, "{what}: {warn:?}");
        assert_eq!(warn[0]["severity"], "warning");
        let msg = warn[0]["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("{in_a} relation(s)")) && msg.contains(&ts_a),
            "{what}: {msg}"
        );
        assert!(warn[0]["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("--tablespace-map {ts_a}=")));
        assert!(
            findings(&doc, "source.unsupported.other")
                .iter()
                .all(|f| !f["message"].as_str().unwrap().contains("tablespace")),
            "{what}: tablespaces are no longer 'not migrated'"
        );

        let report = Migrate::new(src, &sdb, dst, &tdb).report();
        let got = placement(dst, &tdb);
        assert!(got.lines().all(|l| l.ends_with('|')), "{what}: {got}");
        assert_eq!(
            got,
            placement(src, &sdb).replace(&format!("|{ts_a}\n"), "|\n"),
            "{what}"
        );
        let moved = report["rewritten"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["code"] == "source.tablespace")
            .count();
        assert_eq!(moved, in_a, "{what}");
        assert_eq!(
            report["schema_differences"],
            serde_json::json!([]),
            "{what}"
        );
        assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));

        // `OLD=` accepts the default: no warning.
        let (_, doc) = precheck(
            src,
            &sdb,
            &dst.uri(&tdb),
            &["--tablespace-map", &format!("{ts_a}=")],
        );
        let f = findings(&doc, "source.tablespace");
        assert!(f.iter().all(|f| f["severity"] == "pass"), "{what}: {f:?}");
    }
}

#[test]
fn a_mapped_tablespace_the_target_lacks_fails_the_precheck_and_writes_nothing() {
    let (src, dst) = (cluster(15), cluster(17));
    let ts_a = tablespace(src, "ts_a");
    let sdb = fresh_db(src, "tblspc_src");
    load(src, &sdb, &ts_a);
    let tdb = fresh_db(dst, "tblspc_dst");
    let before = pg_dump_schema(dst, &tdb);
    let map = format!("{ts_a}=no_such_tablespace");

    let (out, doc) = precheck(src, &sdb, &dst.uri(&tdb), &["--tablespace-map", &map]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let fail = findings(&doc, "target.tablespace");
    assert_eq!(fail.len(), 1, "{fail:?}");
    assert_eq!(fail[0]["severity"], "failure");
    let msg = fail[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("no_such_tablespace") && msg.contains(&ts_a),
        "{msg}"
    );

    let out = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--tablespace-map", &map])
        .run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("target.tablespace"), "{}", text(&out));
    assert_eq!(
        dst.psql(
            &tdb,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'"
        )
        .unwrap(),
        "0\n"
    );
    assert_same_schema(
        &before,
        &pg_dump_schema(dst, &tdb),
        "target after a failed precheck",
    );

    // A tablespace the login may not create in: the same code, and its GRANT.
    let ts_b = tablespace(dst, "ts_b");
    let role = format!("tblspc_login_{}", std::process::id());
    dst.psql(
        &tdb,
        &format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'pw';
             GRANT CREATE ON DATABASE {tdb} TO {role};"
        ),
    )
    .unwrap();
    let login = format!("postgres://{role}:pw@127.0.0.1:{}/{tdb}", dst.port());
    let map = format!("{ts_a}={ts_b}");
    let (out, doc) = precheck(src, &sdb, &login, &["--tablespace-map", &map]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let fail = findings(&doc, "target.tablespace");
    assert_eq!(fail.len(), 1, "{fail:?}");
    let fix = fail[0]["fix"].as_str().unwrap();
    assert!(fail[0]["message"]
        .as_str()
        .unwrap()
        .contains("lacks CREATE"));
    let script = fail[0]["script"].as_str().expect("a fix script");
    assert!(
        std::fs::read_to_string(script)
            .unwrap()
            .contains(&format!("GRANT CREATE ON TABLESPACE {ts_b} TO {role};")),
        "{fix}"
    );
    dst.psql(
        &tdb,
        &format!("GRANT CREATE ON TABLESPACE {ts_b} TO {role};"),
    )
    .unwrap();
    let (_, doc) = precheck(src, &sdb, &login, &["--tablespace-map", &map]);
    let f = findings(&doc, "target.tablespace");
    assert!(f.iter().all(|f| f["severity"] == "pass"), "{f:?}");
}

/// A target whose database (or login) sets `default_tablespace`: what the
/// source keeps in its database's default goes to the target database's
/// default too, not to that tablespace (pg_dump's scripts reset it the same
/// way), and the rest follows the map.
#[test]
fn the_targets_default_tablespace_setting_is_not_followed_15_to_17() {
    let (src, dst) = (cluster(15), cluster(17));
    let ts_a = tablespace(src, "ts_a");
    let ts_t = tablespace(dst, "ts_t");
    let sdb = fresh_db(src, "tblspc_src");
    load(src, &sdb, &ts_a);
    let tdb = fresh_db(dst, "tblspc_dst");
    dst.psql(
        "postgres",
        &format!("ALTER DATABASE {tdb} SET default_tablespace = {ts_t};"),
    )
    .unwrap();
    Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--tablespace-map", &format!("{ts_a}=")])
        .ok();
    let got = placement(dst, &tdb);
    assert!(
        !got.contains(&ts_t) && got.lines().all(|l| l.ends_with('|')),
        "{got}"
    );
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}
