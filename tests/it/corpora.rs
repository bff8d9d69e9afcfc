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

fn migrate_and_check(source_major: u32, target_major: u32, files: &[&str], what: &str) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, what), fresh_db(dst, what));
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
        src.psql(&sdb, &text).expect("load corpus");
    }
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
