//! `verify --schema`: the structure of both ends compared object by object,
//! equal after a migration (across versions, and with renames), and each
//! kind of drift made on the target afterwards found and named.

use crate::support::{cluster, fresh_db, pgferry, scratch_dir, Migrate};

const FIXTURE: &str = r#"
CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('ok', 'sad');
CREATE TABLE shop.orders (id int PRIMARY KEY, qty int NOT NULL CHECK (qty > 0),
                          note text DEFAULT 'none', m shop.mood);
CREATE INDEX orders_qty ON shop.orders (qty) WHERE qty > 10;
CREATE TABLE shop.lines (id serial PRIMARY KEY, order_id int REFERENCES shop.orders (id),
                         amount numeric(10, 2));
CREATE VIEW shop.big AS SELECT id, qty FROM shop.orders WHERE qty > 100;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders
    FOR EACH ROW EXECUTE PROCEDURE shop.touch();
COMMENT ON TABLE shop.orders IS 'orders of the shop';
INSERT INTO shop.orders VALUES (1, 5, 'a', 'ok'), (2, 500, NULL, 'sad');
INSERT INTO shop.lines (order_id, amount) VALUES (1, 1.50), (2, 2.25);
"#;

fn verify_schema(src: &str, dst: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec![
        "verify",
        "--schema",
        "--counts-only",
        "--json",
        "--source",
        src,
        "--target",
        dst,
    ];
    args.extend_from_slice(extra);
    let out = pgferry(&args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify --schema --json: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn differences(doc: &serde_json::Value) -> Vec<String> {
    doc["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}: {} {} {}",
                d["kind"], d["object"], d["difference"], d["source"], d["target"]
            )
        })
        .collect()
}

#[test]
fn equal_after_migrate_then_each_drift_is_found() {
    for (sm, tm) in [(10, 15), (15, 17)] {
        let (src, dst) = (cluster(sm), cluster(tm));
        let (sdb, tdb) = (fresh_db(src, "vschema"), fresh_db(dst, "vschema"));
        src.psql(&sdb, FIXTURE).unwrap();
        Migrate::new(src, &sdb, dst, &tdb).ok();
        let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
        let (code, doc) = verify_schema(&s, &d, &[]);
        assert_eq!(code, 0, "{sm} -> {tm}: {:?}", differences(&doc));
        assert!(doc["schema"]["compared"].as_u64().unwrap() >= 10, "{doc:#}");

        // Drift on the target: each kind is named.
        dst.psql(
            &tdb,
            "DROP INDEX shop.orders_qty;
             ALTER TABLE shop.orders ALTER COLUMN note SET DEFAULT 'changed';
             CREATE VIEW shop.extra AS SELECT 1 AS one;
             DROP TRIGGER orders_touch ON shop.orders;",
        )
        .unwrap();
        let (code, doc) = verify_schema(&s, &d, &[]);
        assert_eq!(code, 1, "{doc:#}");
        let diffs = differences(&doc);
        let has = |needle: &str| diffs.iter().any(|x| x.contains(needle));
        assert!(has("orders_qty") && has("missing on target"), "{diffs:?}");
        assert!(has("\"table\" \"shop.orders\": \"differs\""), "{diffs:?}");
        assert!(has("shop.extra") && has("only on target"), "{diffs:?}");
        assert!(has("orders_touch"), "{diffs:?}");
        assert_eq!(diffs.len(), 4, "{diffs:?}");
    }
}

#[test]
fn equal_after_a_migration_with_renames() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "vschema_r"), fresh_db(dst, "vschema_r"));
    src.psql(&sdb, FIXTURE).unwrap();
    let task = scratch_dir().join("vschema_renames.toml");
    std::fs::write(
        &task,
        "[rename]\nschemas = { shop = \"store\" }\n\
         tables = { \"shop.orders\" = \"store.purchases\" }\n\
         columns = { \"shop.orders.qty\" = \"quantity\" }\n",
    )
    .unwrap();
    let task = task.display().to_string();
    Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--task", &task])
        .ok();
    let (s, d) = (src.uri(&sdb), dst.uri(&tdb));
    let (code, doc) = verify_schema(&s, &d, &["--task", &task]);
    assert_eq!(code, 0, "{:?}", differences(&doc));
    // The renamed column really is there under its new name.
    let cols = dst
        .psql(
            &tdb,
            "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = 'store.purchases'::regclass AND attnum > 0",
        )
        .unwrap();
    assert!(cols.contains("quantity"), "{cols}");
}
