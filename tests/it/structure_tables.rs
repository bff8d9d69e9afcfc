//! Tables and everything on them: identity and generated columns, storage and
//! statistics settings, reloptions, unlogged tables, range/list/hash and
//! sub-partitions with their bounds, a partition whose column order differs,
//! inheritance with a column added to the parent later (exact child column
//! order), indexes of every access method and shape, PK/unique/check/
//! exclusion/foreign keys (deferrable, NOT VALID, actions, a cycle), CLUSTER,
//! replica identity, comments; compared with pg_dump and real queries.

use crate::support::{cluster, compare, fresh_db, pg_dump_schema, pgferry, Migrate};

const BASE: &str = include_str!("../fixtures/tables.sql");
const PG12: &str = include_str!("../fixtures/tables_pg12.sql");

/// Column order of every user table, as the catalog has it.
const COLUMNS: &str = "SELECT c.relname || ': ' || string_agg(a.attname || (CASE WHEN a.attislocal THEN '' ELSE '*' END), ',' ORDER BY a.attnum)
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace::regnamespace::text IN ('shop', 'modern') AND c.relkind IN ('r', 'p')
GROUP BY c.relname ORDER BY c.relname;";

const ROWS: &str = "SET extra_float_digits = 0; SET TimeZone = 'UTC';
SELECT 'customer', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM shop.customer t
UNION ALL SELECT 'orders', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM shop.orders t
UNION ALL SELECT 'events', count(*), md5(string_agg(t::text || tableoid::regclass::text, ',' ORDER BY id)) FROM shop.events t
UNION ALL SELECT 'doc', count(*), md5(string_agg(t::text || tableoid::regclass::text, ',' ORDER BY id)) FROM shop.doc t
UNION ALL SELECT 'ab', count(*), string_agg(a.id || '-' || a.b_id, ',' ORDER BY a.id) FROM shop.a a
ORDER BY 1;";

fn case(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "tables"), fresh_db(dst, "tables"));
    src.psql(&sdb, BASE).expect("fixture");
    if source_major >= 12 {
        src.psql(&sdb, PG12).expect("pg12 fixture");
    }
    Migrate::new(src, &sdb, dst, &tdb).json().ok();

    compare::assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        &format!("tables {source_major} -> {target_major}"),
    );
    compare::assert_same_text(
        &src.psql(&sdb, COLUMNS).unwrap(),
        &dst.psql(&tdb, COLUMNS).unwrap(),
        "column order",
    );
    compare::assert_same_text(
        &src.psql(&sdb, ROWS).unwrap(),
        &dst.psql(&tdb, ROWS).unwrap(),
        "rows",
    );
    // The inheritance child keeps the parent's late column last (pg_dump would not).
    let child = dst.psql(&tdb, COLUMNS).unwrap();
    assert!(
        child.contains("doc_pdf: id*,title*,pages,updated*"),
        "{child}"
    );
    // The same behaviour: identity continues, constraints bite the same way.
    let probe = "INSERT INTO shop.customer (email) VALUES ('new@x.org') RETURNING id;";
    assert_eq!(
        src.psql(&sdb, probe).unwrap(),
        dst.psql(&tdb, probe).unwrap()
    );
    for bad in [
        "INSERT INTO shop.customer (email) VALUES ('no-at-sign');",
        "INSERT INTO shop.orders (customer_id, placed) VALUES (999999, now());",
        "INSERT INTO shop.spaces VALUES (1000, tsrange('2020-01-02', '2020-01-03'), point(0,0));",
        "INSERT INTO shop.events VALUES (1, '2030-01-01', 'click', NULL);",
    ] {
        assert!(src.psql(&sdb, bad).is_err(), "source accepted {bad}");
        assert!(dst.psql(&tdb, bad).is_err(), "target accepted {bad}");
    }
    // Deferred unique constraint: a swap inside one transaction works on both.
    let swap = "BEGIN; UPDATE shop.customer SET email = 'tmp@x.org' WHERE email = 'u1@x.org'; \
                UPDATE shop.customer SET email = 'u1@x.org' WHERE email = 'u2@x.org'; \
                UPDATE shop.customer SET email = 'u2@x.org' WHERE email = 'tmp@x.org'; COMMIT;";
    src.psql(&sdb, swap).unwrap();
    dst.psql(&tdb, swap).unwrap();
    // NOT VALID stays NOT VALID; indexes are valid.
    let q = "SELECT conname || ':' || convalidated FROM pg_constraint WHERE connamespace = 'shop'::regnamespace ORDER BY 1;";
    assert_eq!(src.psql(&sdb, q).unwrap(), dst.psql(&tdb, q).unwrap());
}

#[test]
fn tables_pg10_to_15() {
    case(10, 15);
}

#[test]
fn tables_pg15_to_15() {
    case(15, 15);
}

#[test]
fn tables_pg15_to_17() {
    case(15, 17);
}

/// `--schema-only` then `--data-only` gives the same database as one run.
#[test]
fn schema_only_then_data_only() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "split"), fresh_db(dst, "split"));
    src.psql(&sdb, BASE).expect("fixture");
    let state = tempfile::tempdir().unwrap();
    let st = state.path().to_string_lossy().to_string();
    for mode in ["--schema-only", "--data-only"] {
        let out = pgferry(&[
            "migrate",
            mode,
            "--source",
            &src.uri(&sdb),
            "--target",
            &dst.uri(&tdb),
            "--state-dir",
            &format!("{st}{mode}"),
        ]);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if mode == "--schema-only" {
            assert_eq!(
                dst.psql(&tdb, "SELECT count(*) FROM shop.orders;").unwrap(),
                "0\n"
            );
        }
    }
    compare::assert_same_text(
        &src.psql(&sdb, ROWS).unwrap(),
        &dst.psql(&tdb, ROWS).unwrap(),
        "rows",
    );
    compare::assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        "schema-only + data-only",
    );
}
