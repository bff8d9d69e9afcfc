//! Real sample databases (corpora/): Pagila (the PostgreSQL 10 variant on a 10
//! source), Chinook and Northwind migrate with zero `pg_dump --schema-only`
//! differences, and `pgferry verify` finds every table's rows equal.

use crate::support::{cluster, compare, fresh_db, pg_dump_schema, pgferry};
use std::path::Path;

fn corpus(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpora")
        .join(rel)
}

/// Loads corpus files into database `db`.
pub fn load(src: &pgferry::localpg::LocalCluster, db: &str, files: &[&str]) {
    for f in files {
        let text = std::fs::read_to_string(corpus(f)).expect("read corpus");
        // Chinook makes and enters its own database: load it into ours instead.
        let text: String = text
            .lines()
            .filter(|l| {
                !(l.starts_with("DROP DATABASE")
                    || l.starts_with("CREATE DATABASE")
                    || l.starts_with("\\c "))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        src.psql(db, &text).expect("load corpus");
    }
}

fn migrate_and_check(source_major: u32, target_major: u32, files: &[&str], what: &str) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, what), fresh_db(dst, what));
    load(src, &sdb, files);
    let out = pgferry(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{what} migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(
        report["skipped"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    compare::assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        &format!("{what} {source_major} -> {target_major}"),
    );
    let out = pgferry(&[
        "verify",
        "--schema",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify json");
    assert_eq!(out.status.code(), Some(0), "{what} verify: {v}");
    assert_eq!(v["equal"], true);
    assert!(v["tables"].as_array().is_some_and(|t| t.len() >= 10));
}

#[test]
#[ignore = "slow"]
fn pagila_pg10_to_15() {
    migrate_and_check(
        10,
        15,
        &["pagila/pagila-schema-pg10.sql", "pagila/pagila-data.sql"],
        "pagila",
    );
}

#[test]
#[ignore = "slow"]
fn pagila_pg15_to_15() {
    migrate_and_check(
        15,
        15,
        &["pagila/pagila-schema.sql", "pagila/pagila-data.sql"],
        "pagila",
    );
}

#[test]
#[ignore = "slow"]
fn pagila_pg15_to_17() {
    migrate_and_check(
        15,
        17,
        &["pagila/pagila-schema.sql", "pagila/pagila-data.sql"],
        "pagila",
    );
}

#[test]
#[ignore = "slow"]
fn northwind_pg10_to_15() {
    migrate_and_check(10, 15, &["northwind/northwind.sql"], "northwind");
}

#[test]
#[ignore = "slow"]
fn chinook_pg10_to_17() {
    migrate_and_check(10, 17, &["chinook/Chinook_PostgreSql.sql"], "chinook");
}

/// Item 24: one definition of the counts. On Pagila (21 tables holding rows,
/// one partitioned table, public.payment, holding none) the dry run,
/// precheck, the migrate report and summary, `status` and verify count the
/// same tables and post-data statements (ANALYZE and renames apart).
#[test]
fn counts_agree_across_commands_on_pagila() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "counts"), fresh_db(dst, "counts"));
    load(
        src,
        &sdb,
        &["pagila/pagila-schema.sql", "pagila/pagila-data.sql"],
    );
    let (su, du) = (src.uri(&sdb), dst.uri(&tdb));
    let state = tempfile::tempdir().unwrap();
    let st = state.path().to_string_lossy().to_string();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = pgferry(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let plan = json(&[
        "migrate",
        "--source",
        &su,
        "--target",
        &du,
        "--dry-run",
        "--json",
    ]);
    let counts = plan["counts"].clone();
    assert_eq!(counts["tables"], 21, "{counts}");
    assert_eq!(counts["partitioned_tables"], 1, "{counts}");
    let tables = counts["tables"].as_u64().unwrap();
    let post = counts["post_data_statements"].as_u64().unwrap();

    let text = pgferry(&["migrate", "--source", &su, "--target", &du, "--dry-run"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("-- {tables} tables (and 1 partitioned"))
            && text.contains(&format!("and {post} post-data statements")),
        "dry run: {}",
        text.lines().last().unwrap_or("")
    );
    let pre = json(&["precheck", "--source", &su, "--target", &du, "--json"]);
    let findings = pre["findings"].as_array().unwrap();
    let message = |code: &str| {
        findings
            .iter()
            .find(|f| f["code"] == code)
            .map(|f| f["message"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert!(
        message("source.privilege.select").contains(&format!("all {tables} table(s)")),
        "{}",
        message("source.privilege.select")
    );
    assert!(message("target.space").contains(&format!("the {tables} selected table(s)")));

    let report = json(&[
        "migrate",
        "--source",
        &su,
        "--target",
        &du,
        "--state-dir",
        &st,
        "--json",
    ]);
    assert_eq!(report["counts"], counts, "the report counts differently");
    assert_eq!(report["tables"].as_array().unwrap().len() as u64, tables);
    assert_eq!(report["post_data_statements"].as_u64(), Some(post));

    let status = json(&["status", "--state-dir", &st, "--json"]);
    let task = &status["tasks"][0];
    assert_eq!(task["counts"], counts);
    assert_eq!(
        task["post_data_steps_done"].as_u64(),
        Some(post),
        "status counts other statements: {task}"
    );
    assert_eq!(task["units_total"].as_u64(), Some(tables));

    let verify = json(&["verify", "--source", &su, "--target", &du, "--json"]);
    assert_eq!(verify["tables"].as_array().unwrap().len() as u64, tables);
}
