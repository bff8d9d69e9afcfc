//! Selection (schemas, tables, columns, data) and renames (schema, table,
//! column) against real servers, from PostgreSQL 10 and 15 sources to a 15
//! target: what arrives is what was selected, under the new names, and it
//! behaves like the source (views, foreign keys, triggers, sequences);
//! `verify` compares the source's selection with the renamed target.

use crate::support::{cluster, compare, fresh_db, pgferry, source_majors};
use pgferry::localpg::{find_client_tool, LocalCluster};
use std::process::{Command, Output};

const FIXTURE: &str = include_str!("../fixtures/selection.sql");
const TARGET: u32 = 15;

/// Source majors of this run that this file tests (10 and 15 by default).
fn sources() -> Vec<u32> {
    source_majors()
        .into_iter()
        .filter(|m| [10, 15].contains(m))
        .collect()
}

struct Pair {
    src: &'static LocalCluster,
    dst: &'static LocalCluster,
    src_db: String,
    dst_db: String,
}

impl Pair {
    fn new(major: u32, name: &str) -> Pair {
        let src = cluster(major);
        let dst = cluster(TARGET);
        let src_db = fresh_db(src, &format!("{name}_src"));
        let dst_db = fresh_db(dst, &format!("{name}_dst"));
        src.psql(&src_db, FIXTURE).expect("fixture");
        Pair {
            src,
            dst,
            src_db,
            dst_db,
        }
    }

    fn ends(&self) -> Vec<String> {
        vec![
            "--source".into(),
            self.src.uri(&self.src_db),
            "--target".into(),
            self.dst.uri(&self.dst_db),
        ]
    }

    /// Runs `pgferry <cmd> <ends> <extra...>`.
    fn run(&self, cmd: &str, extra: &[&str]) -> Output {
        let mut args: Vec<String> = vec![cmd.to_string()];
        args.extend(self.ends());
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        pgferry(&refs)
    }

    /// Runs a command that must succeed with `--json` and returns its document.
    fn json(&self, cmd: &str, extra: &[&str]) -> serde_json::Value {
        let mut e = extra.to_vec();
        e.push("--json");
        let out = self.run(cmd, &e);
        assert!(
            out.status.success(),
            "pgferry {cmd} {extra:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON document")
    }

    fn src_sql(&self, sql: &str) -> String {
        self.src.psql(&self.src_db, sql).expect("source query")
    }
    fn dst_sql(&self, sql: &str) -> String {
        self.dst.psql(&self.dst_db, sql).expect("target query")
    }
}

/// `pg_dump --schema-only -n schema` with the newest pg_dump.
fn dump_schema(c: &LocalCluster, db: &str, schema: &str) -> String {
    let pg_dump = find_client_tool("pg_dump", None).expect("pg_dump");
    let mut cmd = Command::new(pg_dump);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PG")) {
        cmd.env_remove(k);
    }
    let out = cmd
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-n",
            schema,
            "-d",
        ])
        .arg(c.socket_conninfo(db))
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Differing lines of two `pg_dump -n` dumps. The order is not compared:
/// pg_dump's dependency sort of the source also sees the objects of the
/// schemas left out (a view in `hr` over `shop.orders` moves that table).
fn same_lines(a: &str, b: &str) -> Vec<String> {
    compare::dump_differences(a, b)
        .into_iter()
        .filter(|l| l != "(same lines, different order)")
        .collect()
}

/// What `excluded` of a migrate JSON report lists, as "kind object" lines.
fn excluded(report: &serde_json::Value) -> Vec<String> {
    report["excluded"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("{} {}", x["kind"].as_str().unwrap_or(""), x["object"]))
                .collect()
        })
        .unwrap_or_default()
}

fn write_task(name: &str, text: &str) -> std::path::PathBuf {
    let p = crate::support::scratch_dir().join(format!("{name}.toml"));
    std::fs::write(&p, text).expect("task file");
    p
}

fn state_dir(name: &str) -> String {
    crate::support::scratch_dir()
        .join(format!("state_{name}"))
        .display()
        .to_string()
}

#[test]
fn one_schema_of_three() {
    for major in sources() {
        let p = Pair::new(major, "sel_a");
        let st = state_dir(&format!("a{major}"));
        let report = p.json("migrate", &["--include", "shop", "--state-dir", &st]);
        assert!(excluded(&report).is_empty(), "{report}");
        let schemas = p.dst_sql(
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace \
             WHERE nspname IN ('shop', 'hr', 'ops')",
        );
        assert_eq!(schemas.trim(), "shop");
        let (a, b) = (
            dump_schema(p.src, &p.src_db, "shop"),
            dump_schema(p.dst, &p.dst_db, "shop"),
        );
        let diffs = same_lines(&a, &b);
        assert!(diffs.is_empty(), "{major}: {}", diffs.join("\n"));
        let v = p.json("verify", &["--include", "shop"]);
        assert_eq!(v["equal"], true, "{v}");

        // The other way round: hr alone keeps its table, but its foreign key
        // to shop and its view over shop are left out and reported.
        let plan = p.json("migrate", &["--dry-run", "--include", "hr"]);
        let ex = plan["excluded"].to_string();
        assert!(ex.contains("staff_customer_id_fkey"), "{ex}");
        assert!(ex.contains("staff_orders"), "{ex}");
        let pre = plan["pre_data"].to_string();
        assert!(pre.contains("CREATE TABLE hr.staff"), "{pre}");
        assert!(!pre.contains("shop.") && !pre.contains("ops."), "{pre}");
    }
}

#[test]
fn subset_of_columns() {
    for major in sources() {
        let p = Pair::new(major, "sel_b");
        let st = state_dir(&format!("b{major}"));
        let sel = [
            "--include",
            "shop",
            "--exclude",
            "shop.customers(ssn, note)",
        ];
        let mut args = sel.to_vec();
        args.extend(["--state-dir", &st]);
        let report = p.json("migrate", &args);
        let ex = excluded(&report).join("\n");
        for gone in ["customers_ssn", "ssn_len", "customer_ssn"] {
            assert!(ex.contains(gone), "{gone} not reported:\n{ex}");
        }
        assert!(!ex.contains("customers_email"), "{ex}");
        let cols = p.dst_sql(
            "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute \
             WHERE attrelid = 'shop.customers'::regclass AND attnum > 0 AND NOT attisdropped",
        );
        assert_eq!(cols.trim(), "id,name,email");
        let idx = p.dst_sql(
            "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index \
             WHERE indrelid = 'shop.customers'::regclass",
        );
        assert!(
            idx.contains("customers_email") && !idx.contains("ssn"),
            "{idx}"
        );
        assert_eq!(
            p.dst_sql("SELECT to_regclass('shop.customer_ssn') IS NULL")
                .trim(),
            "t"
        );
        let mut vargs = sel.to_vec();
        vargs.push("--counts-only");
        assert_eq!(p.json("verify", &vargs)["equal"], true);
        assert_eq!(p.json("verify", &sel)["equal"], true);
    }
}

const RENAMES: &str = r#"
[select]
include = ["shop"]
[rename]
schemas = { shop = "store" }
tables  = { "shop.orders" = "store.purchases" }
columns = { "shop.orders.qty" = "quantity" }
"#;

#[test]
fn renames_keep_dependents_working() {
    for major in sources() {
        let p = Pair::new(major, "sel_c");
        let task = write_task(&format!("c{major}"), RENAMES);
        let task = task.display().to_string();
        let st = state_dir(&format!("c{major}"));

        let pre = p.json("precheck", &["--task", &task]);
        let findings = pre["findings"].to_string();
        assert!(
            findings.contains("selection.function_bodies")
                && findings.contains("audit_order() mentions shop"),
            "{findings}"
        );
        let plan = p.run("migrate", &["--dry-run", "--task", &task]);
        let text = String::from_utf8_lossy(&plan.stdout);
        assert!(
            text.contains("ALTER SCHEMA shop RENAME TO store;")
                && text.contains("ALTER TABLE shop.orders RENAME TO purchases;")
                && text.contains("RENAME COLUMN qty TO quantity;"),
            "{text}"
        );

        p.json("migrate", &["--task", &task, "--state-dir", &st]);
        assert_eq!(
            p.dst_sql("SELECT to_regnamespace('shop') IS NULL, to_regclass('store.purchases') IS NOT NULL")
                .trim(),
            "t|t"
        );
        // The view, the materialized view, the index and the trigger now use the new names.
        let view = "SELECT string_agg(t::text, ' ' ORDER BY t.id) FROM {s}.big_orders t";
        assert_eq!(
            p.src_sql(&view.replace("{s}", "shop")),
            p.dst_sql(&view.replace("{s}", "store"))
        );
        let def = p.dst_sql("SELECT pg_get_viewdef('store.big_orders'::regclass)");
        assert!(
            def.contains("quantity") && def.contains("purchases"),
            "{def}"
        );
        let idx = p.dst_sql("SELECT pg_get_indexdef('store.orders_qty'::regclass)");
        assert!(
            idx.contains("purchases") && idx.contains("(quantity)"),
            "{idx}"
        );
        let trg =
            p.dst_sql("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'orders_big'");
        assert!(trg.contains("new.quantity > 10"), "{trg}");
        let mv = "SELECT string_agg(t::text, ' ' ORDER BY t.customer_id) FROM {s}.order_totals t";
        assert_eq!(
            p.src_sql(&mv.replace("{s}", "shop")),
            p.dst_sql(&mv.replace("{s}", "store"))
        );

        // Checksums compare the source's names with the renamed target's.
        let v = p.json("verify", &["--task", &task]);
        assert_eq!(v["equal"], true, "{v}");

        // The function body named `shop` (precheck said so): fixed by hand,
        // as its finding tells the user to.
        p.dst_sql(
            "CREATE OR REPLACE FUNCTION store.audit_order() RETURNS trigger LANGUAGE plpgsql AS \
             $$BEGIN INSERT INTO store.audit (order_id, what) VALUES (NEW.id, TG_NAME); \
             RETURN NEW; END$$",
        );
        // Writes behave the same: the serial sequence continues under its new
        // schema, the trigger's WHEN clause fires on the renamed column, the
        // foreign key from shipments still points at the renamed table.
        let write = |s: &str, t: &str, q: &str| {
            format!(
                "INSERT INTO {s}.{t} (customer_id, {q}) VALUES (3, 12), (4, 2) RETURNING id;
                 SELECT count(*) FROM {s}.audit;
                 INSERT INTO {s}.shipments (order_id) SELECT max(id) FROM {s}.{t} RETURNING id;"
            )
        };
        assert_eq!(
            p.src_sql(&write("shop", "orders", "qty")),
            p.dst_sql(&write("store", "purchases", "quantity"))
        );
        let bad = "INSERT INTO {s}.shipments (order_id) VALUES (999999)";
        let s_err = p
            .src
            .psql(&p.src_db, &bad.replace("{s}", "shop"))
            .unwrap_err();
        let d_err = p
            .dst
            .psql(&p.dst_db, &bad.replace("{s}", "store"))
            .unwrap_err();
        assert!(format!("{s_err:#}").contains("foreign key"), "{s_err:#}");
        assert!(format!("{d_err:#}").contains("foreign key"), "{d_err:#}");
    }
}

#[test]
fn exclude_data_keeps_structure() {
    for major in sources() {
        let p = Pair::new(major, "sel_d");
        let st = state_dir(&format!("d{major}"));
        let sel = ["--include", "shop", "--exclude-data", "shop.audit"];
        let mut args = sel.to_vec();
        args.extend(["--state-dir", &st]);
        let report = p.json("migrate", &args);
        assert_eq!(report["no_data"].to_string(), r#"["shop.audit"]"#);
        let counts = p.dst_sql(
            "SELECT (SELECT count(*) FROM shop.audit), (SELECT count(*) FROM shop.orders)",
        );
        assert_eq!(counts.trim(), "0|300");
        let diffs = same_lines(
            &dump_schema(p.src, &p.src_db, "shop"),
            &dump_schema(p.dst, &p.dst_db, "shop"),
        );
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
        assert_eq!(p.json("verify", &sel)["equal"], true);
    }
}

/// Excluding the rows of a table that foreign keys point at: the keys are
/// created NOT VALID (new rows checked, old ones not) and reported, and the
/// migration does not fail validating rows that cannot be there.
#[test]
fn exclude_data_of_a_referenced_table() {
    let p = Pair::new(TARGET, "sel_f");
    let st = state_dir("f");
    let report = p.json(
        "migrate",
        &[
            "--include",
            "shop",
            "--exclude-data",
            "shop.customers",
            "--state-dir",
            &st,
        ],
    );
    assert!(
        report["excluded"].to_string().contains("created NOT VALID"),
        "{}",
        report["excluded"]
    );
    let fk = p.dst_sql(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = 'shop.orders'::regclass AND contype = 'f'",
    );
    assert_eq!(fk.trim(), "f");
    assert_eq!(p.dst_sql("SELECT count(*) FROM shop.customers").trim(), "0");
}

fn usage_error(p: &Pair, extra: &[&str], needles: &[&str]) {
    let out = p.run("migrate", extra);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{extra:?}: {n:?} not in {err}");
    }
}

#[test]
fn configuration_errors_exit_2() {
    let p = Pair::new(TARGET, "sel_e");
    usage_error(&p, &["--dry-run", "--include", "shop.a.b"], &["shop.a.b"]);
    usage_error(&p, &["--dry-run", "--exclude", "shop.t("], &["shop.t("]);
    let collide = write_task(
        "collide",
        "[rename]\ntables = { \"shop.orders\" = \"x\", \"shop.audit\" = \"x\" }\n",
    );
    usage_error(
        &p,
        &["--dry-run", "--task", &collide.display().to_string()],
        &["collide", "shop.orders", "shop.audit"],
    );
    let missing = write_task(
        "missing",
        "[rename]\ntables = { \"shop.nope\" = \"x\" }\ncolumns = { \"shop.orders.nope\" = \"y\" }\n",
    );
    usage_error(
        &p,
        &["--dry-run", "--task", &missing.display().to_string()],
        &["shop.nope", "nope"],
    );
    let onto = write_task(
        "onto",
        "[rename]\ntables = { \"shop.orders\" = \"audit\" }\n",
    );
    usage_error(
        &p,
        &["--dry-run", "--task", &onto.display().to_string()],
        &["shop.orders", "shop.audit"],
    );
    // A rename onto a name the target already uses.
    p.dst_sql("CREATE SCHEMA store");
    let schema = write_task("schema", "[rename]\nschemas = { shop = \"store\" }\n");
    usage_error(
        &p,
        &[
            "--task",
            &schema.display().to_string(),
            "--state-dir",
            &state_dir("e"),
        ],
        &["store"],
    );
}
