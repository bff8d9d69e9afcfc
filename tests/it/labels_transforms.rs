//! Transforms and security labels (issue 13): two kinds pg_dump carries
//! that belong to other objects.
//!
//! - Transforms (`CREATE TRANSFORM`), one over a built-in type and
//!   functions (as the regression database has) and one over a user type
//!   and user functions, with a function that uses it (so the order type,
//!   functions, transform, function using it is needed): from 10 and 15 to
//!   17 and 18, `pg_dump --schema-only` of both ends equal (where the
//!   installed pg_dump can read the target; else the transforms as the
//!   catalogs hold them), `verify --schema` equal, and `verify --schema`
//!   naming a transform dropped from the target.
//! - Security labels need a provider loaded on the server: PostgreSQL's test
//!   module dummy_seclabel (provider `dummy`, tests/fixtures/dummy_seclabel,
//!   built and installed into the upstream 15 by scripts/install-postgres.sh)
//!   is preloaded in a 15 cluster of this module's own. 15 -> 15 with it on
//!   both ends: every label on the target, same text, `pg_dump` equal
//!   (it prints the labels). 15 -> 17, which has no provider: the precheck
//!   fails with `target.seclabel_provider` and writes nothing; with
//!   `--ignore-check target.seclabel_provider` the migration exits 0 and the
//!   report lists each label as skipped, which `verify --schema` accepts.

use crate::support::compare::assert_same_schema;
use crate::support::output_text as text;
use crate::support::pg_dump_major;
use crate::support::{assert_verified_equal, cluster, fresh_db, pg_dump_schema, pgferry, Migrate};
use pgferry::localpg::{ClusterOptions, LocalCluster};
use std::sync::OnceLock;

const TRANSFORMS: &str = r#"
CREATE TRANSFORM FOR int LANGUAGE SQL (
    FROM SQL WITH FUNCTION prsd_lextype(internal),
    TO SQL WITH FUNCTION int4recv(internal));
COMMENT ON TRANSFORM FOR int LANGUAGE SQL IS 'the regression database''s transform';
CREATE SCHEMA "Tr";
CREATE TYPE "Tr".pt AS (a int, b text);
CREATE FUNCTION "Tr".fs(internal) RETURNS internal
    LANGUAGE internal STRICT IMMUTABLE AS 'prsd_lextype';
CREATE FUNCTION "Tr".ts(internal) RETURNS "Tr".pt
    LANGUAGE internal STRICT IMMUTABLE AS 'int4recv';
CREATE TRANSFORM FOR "Tr".pt LANGUAGE SQL (
    FROM SQL WITH FUNCTION "Tr".fs(internal),
    TO SQL WITH FUNCTION "Tr".ts(internal));
CREATE FUNCTION "Tr".uses(x "Tr".pt) RETURNS int LANGUAGE sql
    TRANSFORM FOR TYPE "Tr".pt AS 'SELECT ($1).a';
CREATE TABLE "Tr".t (id int PRIMARY KEY, p "Tr".pt);
INSERT INTO "Tr".t SELECT g, ROW(g, 'x' || g)::"Tr".pt FROM generate_series(1, 100) g;
"#;

/// Every transform as the catalog holds it, one line each.
const LIST_TRANSFORMS: &str = "SELECT pg_catalog.format_type(trftype, NULL), \
     (SELECT lanname FROM pg_language WHERE oid = trflang), trffromsql::regprocedure, \
     trftosql::regprocedure, obj_description(oid, 'pg_transform') \
     FROM pg_transform ORDER BY 1, 2;";

const LABELS: &str = r#"
CREATE SCHEMA lab;
CREATE TABLE lab.t (id int PRIMARY KEY, "B c" text);
INSERT INTO lab.t SELECT g, 'row ' || g FROM generate_series(1, 50) g;
CREATE TABLE lab.idt (id int GENERATED ALWAYS AS IDENTITY, v text);
CREATE VIEW lab.v AS SELECT id FROM lab.t;
CREATE MATERIALIZED VIEW lab.mv AS SELECT id FROM lab.t;
CREATE SEQUENCE lab.sq;
CREATE FUNCTION lab.f(int, text) RETURNS int LANGUAGE sql AS 'SELECT $1';
CREATE TYPE lab.en AS ENUM ('a', 'b');
CREATE TYPE lab.comp AS (x int, y text);
CREATE DOMAIN lab.dm AS int CHECK (VALUE > 0);
SECURITY LABEL FOR dummy ON SCHEMA lab IS 'classified';
SECURITY LABEL FOR dummy ON TABLE lab.t IS 'classified';
SECURITY LABEL FOR dummy ON COLUMN lab.t."B c" IS 'unclassified';
SECURITY LABEL FOR dummy ON SEQUENCE lab.idt_id_seq IS 'classified';
SECURITY LABEL FOR dummy ON VIEW lab.v IS 'classified';
SECURITY LABEL FOR dummy ON MATERIALIZED VIEW lab.mv IS 'unclassified';
SECURITY LABEL FOR dummy ON SEQUENCE lab.sq IS 'classified';
SECURITY LABEL FOR dummy ON FUNCTION lab.f(int, text) IS 'secret';
SECURITY LABEL FOR dummy ON TYPE lab.en IS 'classified';
SECURITY LABEL FOR dummy ON TYPE lab.comp IS 'classified';
SECURITY LABEL FOR dummy ON COLUMN lab.comp.y IS 'unclassified';
SECURITY LABEL FOR dummy ON DOMAIN lab.dm IS 'top secret';
"#;

/// The labels the fixture sets.
const LABEL_COUNT: usize = 12;

/// Every label of the database, one line each (names, not oids).
const LIST_LABELS: &str = "SELECT objtype, objname, provider, label FROM pg_seclabels \
     ORDER BY 1, 2, 3;";

/// A 15 cluster with the provider `dummy` loaded in every session
/// (`shared_preload_libraries`: a `LOAD` lasts one session only).
fn label_cluster() -> &'static LocalCluster {
    static C: OnceLock<LocalCluster> = OnceLock::new();
    C.get_or_init(|| {
        LocalCluster::start(&ClusterOptions {
            major: 15,
            extra_conf: vec![("shared_preload_libraries".into(), "'dummy_seclabel'".into())],
            ..Default::default()
        })
        .unwrap_or_else(|e| {
            panic!(
                "cannot start PostgreSQL 15 with dummy_seclabel preloaded (run \
                 scripts/install-postgres.sh, which builds it): {e:#}"
            )
        })
    })
}

fn transforms_case(source: u32, target: u32) {
    let (src, dst) = (cluster(source), cluster(target));
    let sdb = fresh_db(src, "transforms_src");
    let tdb = fresh_db(dst, "transforms_dst");
    src.psql(&sdb, TRANSFORMS).expect("transforms fixture");
    let report = Migrate::new(src, &sdb, dst, &tdb).report();
    let pair = format!("{source} -> {target}");
    assert_eq!(
        report["skipped"].as_array().map_or(0, Vec::len),
        0,
        "{pair}: skipped: {}",
        report["skipped"]
    );
    assert_eq!(
        src.psql(&sdb, LIST_TRANSFORMS).unwrap(),
        dst.psql(&tdb, LIST_TRANSFORMS).unwrap(),
        "{pair}: transforms"
    );
    assert_eq!(
        dst.psql(&tdb, "SELECT \"Tr\".uses(p) FROM \"Tr\".t WHERE id = 7;")
            .unwrap()
            .trim(),
        "7",
        "{pair}: the function that uses the transform"
    );
    if pg_dump_major() >= target {
        assert_same_schema(
            &pg_dump_schema(src, &sdb),
            &pg_dump_schema(dst, &tdb),
            &format!("transforms {pair}"),
        );
    } else {
        eprintln!("{pair}: no pg_dump {target} installed: the dump comparison is left out");
    }
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}

#[test]
fn transforms_10_to_17() {
    transforms_case(10, 17);
}

#[test]
#[ignore = "slow"]
fn transforms_10_to_18() {
    transforms_case(10, 18);
}

#[test]
#[ignore = "slow"]
fn transforms_15_to_17() {
    transforms_case(15, 17);
}

#[test]
fn transforms_15_to_18() {
    transforms_case(15, 18);
}

/// `verify --schema` compares transforms: one dropped from the target is
/// named.
#[test]
fn verify_schema_names_a_missing_transform() {
    let (src, dst) = (cluster(15), cluster(17));
    let sdb = fresh_db(src, "transforms_vsrc");
    let tdb = fresh_db(dst, "transforms_vdst");
    src.psql(&sdb, TRANSFORMS).expect("transforms fixture");
    Migrate::new(src, &sdb, dst, &tdb).ok();
    dst.psql(&tdb, "DROP TRANSFORM FOR int LANGUAGE sql CASCADE;")
        .unwrap();
    let out = pgferry(&[
        "verify",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--schema",
        "--json",
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FOR integer LANGUAGE sql") && stdout.contains("missing on target"),
        "{}",
        text(&out)
    );
}

/// 15 -> 15 with the provider on both ends: every label is on the target,
/// with the same text, set on the migrated objects.
#[test]
fn security_labels_15_to_15_with_the_provider() {
    let c = label_cluster();
    let sdb = fresh_db(c, "labels_src");
    let tdb = fresh_db(c, "labels_dst");
    c.psql(&sdb, LABELS).expect("labels fixture");
    let report = Migrate::new(c, &sdb, c, &tdb).report();
    assert_eq!(
        report["skipped"].as_array().map_or(0, Vec::len),
        0,
        "skipped: {}",
        report["skipped"]
    );
    let want = c.psql(&sdb, LIST_LABELS).unwrap();
    assert_eq!(want.lines().count(), LABEL_COUNT, "{want}");
    assert_eq!(want, c.psql(&tdb, LIST_LABELS).unwrap(), "labels");
    // pg_dump prints the labels (SECURITY LABEL FOR dummy ON ...), all but
    // that of a composite type's column, which it leaves out (pgferry
    // carries it: it is in the list compared above).
    let dump = pg_dump_schema(c, &sdb);
    assert_eq!(
        dump.matches("SECURITY LABEL FOR dummy").count(),
        LABEL_COUNT - 1
    );
    assert_same_schema(&dump, &pg_dump_schema(c, &tdb), "labels 15 -> 15");
    assert_verified_equal(&c.uri(&sdb), &c.uri(&tdb));
}

/// 15 -> 17 where the target has no provider `dummy`: the precheck says so
/// with its own code and nothing is written; with the check ignored, the
/// migration exits 0 and lists each label as skipped.
#[test]
fn security_labels_15_to_17_without_the_provider() {
    let (src, dst) = (label_cluster(), cluster(17));
    let sdb = fresh_db(src, "labels_nsrc");
    let tdb = fresh_db(dst, "labels_ndst");
    src.psql(&sdb, LABELS).expect("labels fixture");
    let (s, t) = (src.uri(&sdb), dst.uri(&tdb));

    let out = pgferry(&["precheck", "--source", &s, "--target", &t, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("precheck json");
    let findings = doc["findings"].as_array().expect("findings");
    let failed: Vec<&str> = findings
        .iter()
        .filter(|f| f["severity"] == "failure")
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(failed, ["target.seclabel_provider"], "{doc:#}");
    let finding = findings
        .iter()
        .find(|f| f["code"] == "target.seclabel_provider")
        .unwrap();
    let msg = finding["message"].as_str().unwrap();
    assert!(
        msg.contains("dummy") && msg.contains(&format!("{LABEL_COUNT} label(s)")),
        "{msg}"
    );
    assert!(msg.contains("TABLE lab.t"), "{msg}");
    assert!(finding["fix"]
        .as_str()
        .unwrap()
        .contains("--ignore-check target.seclabel_provider"));
    // The rehearsal did not report the labels as rejections of their own.
    assert_eq!(doc["rejected"].as_array().map_or(0, Vec::len), 0, "{doc:#}");

    let before = pg_dump_schema(dst, &tdb);
    let out = Migrate::new(src, &sdb, dst, &tdb).run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("target.seclabel_provider"),
        "{}",
        text(&out)
    );
    assert_same_schema(&before, &pg_dump_schema(dst, &tdb), "nothing written");

    let report = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--ignore-check", "target.seclabel_provider"])
        .report();
    let skipped = report["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), LABEL_COUNT, "{skipped:#?}");
    assert!(
        skipped.iter().all(|s| s["kind"] == "security label"
            && s["reason"]
                .as_str()
                .unwrap()
                .contains("no security label provider dummy loaded")),
        "{skipped:#?}"
    );
    let objects: Vec<&str> = skipped
        .iter()
        .filter_map(|s| s["object"].as_str())
        .collect();
    for o in [
        "TABLE lab.t",
        "COLUMN lab.t.\"B c\"",
        "SCHEMA lab",
        "DOMAIN lab.dm",
        "VIEW lab.v",
    ] {
        assert!(objects.contains(&o), "{o} not in {objects:?}");
    }
    assert_eq!(dst.psql(&tdb, LIST_LABELS).unwrap(), "");
    assert_eq!(
        dst.psql(&tdb, "SELECT count(*) FROM lab.t;")
            .unwrap()
            .trim(),
        "50"
    );
    // The structure is otherwise the source's: verify --schema explains
    // the missing labels by the skips.
    assert_verified_equal(&s, &t);
}

/// A label the target refuses (dummy lets only a superuser set `secret` and
/// `top secret`) is rejected by the rehearsal on its own: with
/// `--ignore-check target.ddl` its object and everything else is migrated,
/// and only that label is skipped.
#[test]
fn a_label_the_target_refuses_is_skipped_alone() {
    let c = label_cluster();
    let sdb = fresh_db(c, "labels_rsrc");
    let tdb = fresh_db(c, "labels_rdst");
    c.psql(&sdb, LABELS).expect("labels fixture");
    c.psql(
        "postgres",
        &format!(
            "CREATE ROLE labels_login LOGIN PASSWORD 'labels-pw'; \
             ALTER DATABASE {tdb} OWNER TO labels_login;"
        ),
    )
    .unwrap();
    let target = format!(
        "postgres://labels_login:labels-pw@127.0.0.1:{}/{tdb}",
        c.port()
    );
    let source = c.uri(&sdb);
    let out = pgferry(&[
        "precheck", "--source", &source, "--target", &target, "--json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("precheck json");
    let rejected: Vec<&str> = doc["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .filter_map(|r| r["object"].as_str())
        .collect();
    assert_eq!(
        rejected,
        ["DOMAIN lab.dm", "FUNCTION lab.f(integer,pg_catalog.text)"],
        "{doc:#}"
    );
    let out = pgferry(&[
        "migrate",
        "--source",
        &source,
        "--target",
        &target,
        "--json",
        "--ignore-check",
        "target.ddl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["object"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("security label", "DOMAIN lab.dm"),
            ("security label", "FUNCTION lab.f(integer,pg_catalog.text)")
        ]
    );
    assert_eq!(
        c.psql(&tdb, LIST_LABELS).unwrap().lines().count(),
        LABEL_COUNT - 2
    );
    assert_eq!(
        c.psql(
            &tdb,
            "SELECT lab.f(3, 'x'), 5::lab.dm, count(*) FROM lab.t;"
        )
        .unwrap()
        .trim(),
        "3|5|50"
    );
}

/// With renames, labels are set under the source's names and stay on their
/// objects through the renames that end the migration; `verify --schema`
/// maps the names back.
#[test]
fn labels_follow_renamed_objects() {
    let c = label_cluster();
    let sdb = fresh_db(c, "labels_msrc");
    let tdb = fresh_db(c, "labels_mdst");
    c.psql(&sdb, LABELS).expect("labels fixture");
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("renames.toml");
    std::fs::write(
        &task,
        "[rename]\nschemas = { lab = \"lab2\" }\ntables = { \"lab.t\" = \"t2\" }\n\
         columns = { 'lab.t.\"B c\"' = \"bc\" }\n",
    )
    .unwrap();
    let task = task.display().to_string();
    Migrate::new(c, &sdb, c, &tdb).args(&["--task", &task]).ok();
    let labels = c.psql(&tdb, LIST_LABELS).unwrap();
    assert_eq!(labels.lines().count(), LABEL_COUNT, "{labels}");
    for want in [
        "table|lab2.t2|dummy|classified",
        "column|lab2.t2.bc|dummy|unclassified",
        "schema|lab2|dummy|classified",
    ] {
        assert!(labels.lines().any(|l| l == want), "{want} not in\n{labels}");
    }
    let out = pgferry(&[
        "verify",
        "--source",
        &c.uri(&sdb),
        "--target",
        &c.uri(&tdb),
        "--task",
        &task,
        "--schema",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
