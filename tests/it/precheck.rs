//! `pgferry precheck` against real servers: each test makes one check warn or
//! fail, and asserts its code, the objects it names and the fix it gives; the
//! last ones prove that `migrate` writes nothing when the precheck fails.

use crate::support::{cluster, compare, fresh_db, pg_dump_schema, pgferry};
use serde_json::Value;

/// Runs `pgferry <cmd> --json` and returns the exit code and the document.
fn run_json(args: &[&str]) -> (i32, Value, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    let out = pgferry(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn precheck(source: &str, target: &str) -> (i32, Value) {
    let (code, doc, _) = run_json(&["precheck", "--source", source, "--target", target]);
    assert_eq!(doc["command"], "precheck");
    assert_eq!(doc["ok"], code == 0, "ok must match the exit code: {doc:#}");
    (code, doc)
}

/// The single finding with this code (panics, showing all, when not exactly one).
fn finding<'a>(doc: &'a Value, code: &str) -> &'a Value {
    let all: Vec<&Value> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect();
    assert_eq!(all.len(), 1, "expected one {code} finding in {doc:#}");
    all[0]
}

fn text<'a>(f: &'a Value, key: &str) -> &'a str {
    f[key].as_str().unwrap_or("")
}

/// A unique login role with password `x` on a cluster (roles are cluster-wide).
fn login_role(c: &pgferry::localpg::LocalCluster, db: &str, prefix: &str) -> String {
    let role = format!("{prefix}_{}_{}", db.len(), std::process::id());
    c.psql(
        db,
        &format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'x';"),
    )
    .expect("create role");
    role
}

fn uri_as(c: &pgferry::localpg::LocalCluster, role: &str, db: &str) -> String {
    format!("postgres://{role}:x@127.0.0.1:{}/{db}", c.port())
}

#[test]
fn clean_databases_pass_and_report_both_servers() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_clean"), fresh_db(dst, "pc_clean"));
    src.psql(
        &sdb,
        "CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1);",
    )
    .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["source"]["version_num"].as_i64().map(|v| v / 10000),
        Some(10)
    );
    assert_eq!(
        doc["target"]["version_num"].as_i64().map(|v| v / 10000),
        Some(15)
    );
    assert_eq!(doc["source"]["superuser"], true);
    assert_eq!(finding(&doc, "source.version")["severity"], "pass");
    assert_eq!(finding(&doc, "target.conflict")["severity"], "pass");
    let space = finding(&doc, "target.space");
    assert_eq!(space["severity"], "warning");
    assert!(text(space, "fix").contains("at least"), "{space}");
    assert!(!doc.to_string().contains(src.password()), "password leaked");

    // Human output when not on a terminal: one line per item, and a summary.
    let out = pgferry(&[
        "precheck",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS source.privilege.select:"), "{stdout}");
    assert!(stdout.contains("WARN target.space:"), "{stdout}");
    assert!(stdout.contains("0 failure(s)"), "{stdout}");
}

#[test]
fn missing_select_and_usage_grants_are_named_with_the_grant() {
    for major in [10, 15] {
        let (src, dst) = (cluster(major), cluster(15));
        let (sdb, tdb) = (fresh_db(src, "pc_grant"), fresh_db(dst, "pc_grant"));
        let role = login_role(src, &sdb, "pf_reader");
        src.psql(
            &sdb,
            &format!(
                "CREATE TABLE public.open_t (id int PRIMARY KEY);
                 CREATE TABLE public.secret_t (id int PRIMARY KEY);
                 CREATE SEQUENCE public.secret_seq;
                 CREATE SCHEMA hidden; CREATE TABLE hidden.h (id int PRIMARY KEY);
                 GRANT SELECT ON public.open_t, hidden.h TO {role};"
            ),
        )
        .unwrap();
        let (code, doc) = precheck(&uri_as(src, &role, &sdb), &dst.uri(&tdb));
        assert_eq!(code, 1, "{doc:#}");
        assert_eq!(doc["source"]["login"], role.as_str());
        assert_eq!(doc["source"]["superuser"], false);

        let sel = finding(&doc, "source.privilege.select");
        assert_eq!(sel["severity"], "failure");
        let msg = text(sel, "message");
        assert!(
            msg.contains("public.secret_t") && msg.contains("public.secret_seq"),
            "{msg}"
        );
        assert!(
            !msg.contains("open_t") && !msg.contains("hidden.h"),
            "{msg}"
        );
        let fix = text(sel, "fix");
        assert!(
            fix.contains(&format!("GRANT SELECT ON TABLE public.secret_t TO {role};")),
            "{fix}"
        );
        assert!(
            fix.contains(&format!(
                "GRANT SELECT ON SEQUENCE public.secret_seq TO {role};"
            )),
            "{fix}"
        );

        let usage = finding(&doc, "source.privilege.usage");
        assert_eq!(usage["severity"], "failure");
        assert!(text(usage, "message").contains("hidden"), "{usage}");
        assert!(
            text(usage, "fix").contains(&format!("GRANT USAGE ON SCHEMA hidden TO {role};")),
            "{usage}"
        );
    }
}

#[test]
fn target_login_without_create_fails() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_tpriv"), fresh_db(dst, "pc_tpriv"));
    let role = login_role(dst, &tdb, "pf_writer");
    dst.psql(&tdb, &format!("REVOKE CREATE ON DATABASE {tdb} FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC;"))
        .unwrap();
    src.psql(&sdb, "CREATE TABLE public.t (id int PRIMARY KEY);")
        .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &uri_as(dst, &role, &tdb));
    assert_eq!(code, 1, "{doc:#}");
    let db = finding(&doc, "target.privilege.create");
    assert_eq!(db["severity"], "failure");
    assert!(
        text(db, "fix").contains(&format!("GRANT CREATE ON DATABASE {tdb} TO {role};")),
        "{db}"
    );
    let schema = finding(&doc, "target.privilege.schema");
    assert_eq!(schema["severity"], "failure");
    assert!(text(schema, "message").contains("public"), "{schema}");
    assert!(
        text(schema, "fix").contains(&format!("GRANT USAGE, CREATE ON SCHEMA public TO {role};")),
        "{schema}"
    );
}

#[test]
fn conflicting_objects_on_the_target_fail_with_choices() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_conf"), fresh_db(dst, "pc_conf"));
    src.psql(
        &sdb,
        "CREATE TABLE public.orders (id int PRIMARY KEY);
         CREATE TABLE public.\"Fresh\" (id int PRIMARY KEY);
         CREATE VIEW public.report AS SELECT 1 AS one;
         CREATE FUNCTION public.twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';",
    )
    .unwrap();
    dst.psql(
        &tdb,
        "CREATE TABLE public.orders (note text);
         CREATE TABLE public.report (x int);
         CREATE FUNCTION public.twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 + $1';",
    )
    .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    assert_eq!(code, 1, "{doc:#}");
    let f = finding(&doc, "target.conflict");
    assert_eq!(f["severity"], "failure");
    let msg = text(f, "message");
    assert!(msg.contains("table public.orders"), "{msg}");
    assert!(
        msg.contains("view public.report (a table of that name exists)"),
        "{msg}"
    );
    assert!(msg.contains("function public.twice(integer)"), "{msg}");
    assert!(!msg.contains("Fresh"), "{msg}");
    let fix = text(f, "fix");
    for want in [
        "DROP TABLE public.orders;",
        "DROP TABLE public.report;",
        "DROP ROUTINE public.twice(integer);",
        "--data-only",
        "exclude or rename",
    ] {
        assert!(fix.contains(want), "{want} missing from {fix}");
    }
}

#[test]
fn c_language_function_is_named_with_its_dependents() {
    for major in [10, 15] {
        let (src, dst) = (cluster(major), cluster(15));
        let (sdb, tdb) = (fresh_db(src, "pc_cfun"), fresh_db(dst, "pc_cfun"));
        src.psql(
            &sdb,
            "CREATE FUNCTION public.c_abs(int) RETURNS int LANGUAGE c STRICT
                 AS '$libdir/plpgsql', 'plpgsql_call_handler';
             CREATE VIEW public.uses_c AS SELECT public.c_abs(1) AS v;",
        )
        .unwrap();
        let (_, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
        let f = finding(&doc, "source.unsupported.c_function");
        assert_eq!(f["severity"], "warning", "{f}");
        let msg = text(f, "message");
        assert!(msg.contains("public.c_abs(integer)"), "{msg}");
        assert!(msg.contains("$libdir/plpgsql"), "{msg}");
        assert!(msg.contains("view public.uses_c"), "{msg}");
        assert!(text(f, "fix").contains("shared library"), "{f}");
    }
}

#[test]
fn extension_missing_on_the_target_fails() {
    // chkpass ships with PostgreSQL 10 and was removed in 11.
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_ext"), fresh_db(dst, "pc_ext"));
    src.psql(&sdb, "CREATE EXTENSION chkpass; CREATE EXTENSION hstore;")
        .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    assert_eq!(code, 1, "{doc:#}");
    let f = finding(&doc, "target.extension.missing");
    assert_eq!(f["severity"], "failure");
    assert!(text(f, "message").contains("extension chkpass"), "{f}");
    assert!(
        text(f, "message").contains("not available on the target"),
        "{f}"
    );
    assert!(!text(f, "message").contains("hstore"), "{f}");
    assert!(
        text(f, "fix").contains("install the package that provides chkpass"),
        "{f}"
    );
}

#[test]
fn tables_without_a_key_and_reg_columns_warn() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_nokey"), fresh_db(dst, "pc_nokey"));
    src.psql(
        &sdb,
        "CREATE TABLE public.log (msg text, at regclass);
         CREATE TABLE public.keyed (id int NOT NULL UNIQUE);
         CREATE TABLE public.nullable_key (id int UNIQUE);
         CREATE TABLE public.pk (id int PRIMARY KEY);",
    )
    .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    assert_eq!(code, 0, "warnings only: {doc:#}");
    let f = finding(&doc, "source.table.no_key");
    assert_eq!(f["severity"], "warning");
    let msg = text(f, "message");
    assert!(
        msg.contains("public.log") && msg.contains("public.nullable_key"),
        "{msg}"
    );
    assert!(
        !msg.contains("public.keyed") && !msg.contains("public.pk,"),
        "{msg}"
    );
    assert!(text(f, "fix").contains("ADD PRIMARY KEY"), "{f}");
    let reg = finding(&doc, "source.unsupported.reg_column");
    assert_eq!(reg["severity"], "warning");
    assert!(
        text(reg, "message").contains("public.log.at (regclass)"),
        "{reg}"
    );
}

/// The target's user relations and full schema dump, to prove nothing changed.
fn target_state(c: &pgferry::localpg::LocalCluster, db: &str) -> (String, String) {
    let count = c
        .psql(
            db,
            "SELECT count(*) FROM pg_class WHERE relnamespace NOT IN \
             (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema') \
              OR nspname LIKE 'pg_toast%' OR nspname LIKE 'pg_temp%');",
        )
        .unwrap();
    (count, compare::normalize_dump(&pg_dump_schema(c, db)))
}

#[test]
fn migrate_with_a_failing_item_writes_nothing() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_gate"), fresh_db(dst, "pc_gate"));
    src.psql(
        &sdb,
        "CREATE SCHEMA sales; CREATE TABLE sales.a (id serial PRIMARY KEY, v text);
         INSERT INTO sales.a (v) SELECT 'x' FROM generate_series(1, 100);
         CREATE TABLE public.clash (id int PRIMARY KEY); CREATE TABLE public.b (id int);",
    )
    .unwrap();
    dst.psql(&tdb, "CREATE TABLE public.clash (other text);")
        .unwrap();
    let before = target_state(dst, &tdb);

    let (code, doc, stderr) = run_json(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
    ]);
    assert_eq!(code, 1, "{doc:#}\n{stderr}");
    assert_eq!(doc["command"], "precheck");
    assert_eq!(doc["ok"], false);
    assert_eq!(finding(&doc, "target.conflict")["severity"], "failure");
    assert!(
        stderr.contains("nothing was written to the target"),
        "{stderr}"
    );
    assert_eq!(target_state(dst, &tdb), before, "the target changed");

    // Human output names the failure too, and still writes nothing.
    let out = pgferry(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL target.conflict:"));
    assert_eq!(target_state(dst, &tdb), before, "the target changed");

    // An unknown code for --ignore-check is a usage error, before any connection.
    let out = pgferry(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--ignore-check",
        "target.conflicts",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown --ignore-check code"));
}

#[test]
fn ignore_check_downgrades_the_item_and_migrate_goes_on() {
    // An SQL_ASCII target database fails target.encoding for a UTF8 source.
    let (src, dst) = (cluster(15), cluster(15));
    let sdb = fresh_db(src, "pc_ign");
    let tdb = format!("pc_ign_ascii_{}", std::process::id());
    dst.psql(
        "postgres",
        &format!("CREATE DATABASE {tdb} TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';"),
    )
    .unwrap();
    src.psql(&sdb, "CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'plain');")
        .unwrap();
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    assert_eq!(code, 1, "{doc:#}");
    let f = finding(&doc, "target.encoding");
    assert_eq!(f["severity"], "failure");
    assert!(
        text(f, "message").contains("target encoding SQL_ASCII"),
        "{f}"
    );
    assert!(text(f, "fix").contains("ENCODING 'UTF8'"), "{f}");

    let (code, report, stderr) = run_json(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--ignore-check",
        "target.encoding",
    ]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert!(
        stderr.contains("target.encoding"),
        "the ignored item is still reported: {stderr}"
    );
    assert_eq!(
        dst.psql(&tdb, "SELECT v FROM public.t;").unwrap().trim(),
        "plain"
    );
}

#[test]
fn data_only_into_existing_tables_is_no_conflict() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_data"), fresh_db(dst, "pc_data"));
    src.psql(
        &sdb,
        "CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1);",
    )
    .unwrap();
    dst.psql(&tdb, "CREATE TABLE public.t (id int PRIMARY KEY);")
        .unwrap();
    let (code, doc, stderr) = run_json(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--data-only",
    ]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(
        dst.psql(&tdb, "SELECT count(*) FROM public.t;")
            .unwrap()
            .trim(),
        "1"
    );
}

#[test]
fn writes_on_the_source_during_precheck_warn() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "pc_writes"), fresh_db(dst, "pc_writes"));
    src.psql(&sdb, "CREATE TABLE public.w (id serial PRIMARY KEY);")
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, db) = (std::sync::Arc::clone(&stop), sdb.clone());
        // Short sessions: each one's statistics are flushed when it exits.
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                src.psql(&db, "INSERT INTO public.w DEFAULT VALUES;")
                    .unwrap();
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let f = finding(&doc, "source.writes");
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(text(f, "message").contains("not carried over"), "{f}");
    assert!(
        text(f, "fix").contains("stop the applications writing"),
        "{f}"
    );
}

/// Kinds pgferry does not migrate are named, never left behind silently.
#[test]
fn objects_pgferry_does_not_migrate_are_named() {
    for major in [10, 15] {
        let (src, dst) = (cluster(major), cluster(15));
        let (sdb, tdb) = (fresh_db(src, "pc_other"), fresh_db(dst, "pc_other"));
        src.psql(
            &sdb,
            "CREATE TABLE public.t (id int PRIMARY KEY);
             CREATE TEXT SEARCH CONFIGURATION public.my_cfg (COPY = english);
             CREATE PUBLICATION my_pub FOR TABLE public.t;
             CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
             CREATE EVENT TRIGGER my_evt ON ddl_command_start EXECUTE PROCEDURE public.on_ddl();
             ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC;",
        )
        .unwrap();
        let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb));
        assert_eq!(code, 0, "warnings only: {doc:#}");
        let f = finding(&doc, "source.unsupported.other");
        assert_eq!(f["severity"], "warning", "{f}");
        let msg = text(f, "message");
        for needle in [
            "text search configuration: public.my_cfg",
            "publication: my_pub",
            "event trigger: my_evt",
            "default privileges",
        ] {
            assert!(msg.contains(needle), "{major}: {needle} not in {msg}");
        }
        src.psql(&sdb, "DROP EVENT TRIGGER my_evt;").unwrap();
    }
}
