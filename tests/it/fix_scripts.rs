//! Precheck fixes that are SQL run as given: each test makes a check fail,
//! takes the script whose path the finding gives (`script` in the JSON, and
//! in the fix text), runs it with `psql -v ON_ERROR_STOP=1 -f` on the real
//! server, and precheck then passes.

use crate::support::{cluster, fresh_db, pgferry};
use serde_json::Value;
use std::path::Path;

fn corpus(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpora")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `pgferry precheck --json --fix-dir DIR`: exit code and document.
fn precheck(source: &str, target: &str, fix_dir: &Path) -> (i32, Value) {
    let out = pgferry(&[
        "precheck",
        "--source",
        source,
        "--target",
        target,
        "--json",
        "--fix-dir",
        &fix_dir.display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn finding<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .and_then(|v| v.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| panic!("no {code} finding in {doc:#}"))
}

/// The script of a failed finding: its path is in `script` and in the fix
/// text; returns the path and the statements (lines that are not comments,
/// psql settings or the transaction's BEGIN/COMMIT).
fn script_of(f: &Value) -> (String, Vec<String>) {
    assert_eq!(f["severity"], "failure", "{f:#}");
    let path = f["script"]
        .as_str()
        .unwrap_or_else(|| panic!("no script: {f:#}"))
        .to_string();
    assert!(
        f["fix"].as_str().unwrap_or("").contains(&path),
        "the fix text names the script: {f:#}"
    );
    let text = std::fs::read_to_string(&path).expect("read script");
    let statements = text
        .lines()
        .filter(|l| !l.starts_with("--") && !l.starts_with('\\'))
        .filter(|l| *l != "BEGIN;" && *l != "COMMIT;")
        .map(str::to_string)
        .collect::<Vec<_>>();
    for s in &statements {
        assert!(s.ends_with(';'), "one statement per line: {s:?}");
    }
    (path, statements)
}

#[test]
fn pagila_already_on_the_target_is_dropped_by_the_script_in_dependency_order() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "fix_pagila"), fresh_db(dst, "fix_pagila"));
    src.psql(&sdb, &corpus("pagila/pagila-schema-pg10.sql"))
        .expect("load Pagila into the source");
    // The whole structure already on the target, as after an earlier run.
    dst.psql(&tdb, &corpus("pagila/pagila-schema.sql"))
        .expect("load Pagila into the target");
    let dir = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb), dir.path());
    assert_eq!(code, 1, "{doc:#}");
    let (path, statements) = script_of(finding(&doc, "target.conflict"));
    assert!(path.ends_with("target.conflict.sql"), "{path}");
    assert!(statements.len() > 30, "{statements:#?}");
    assert!(
        statements.iter().all(|s| s.starts_with("DROP ")),
        "{statements:#?}"
    );
    // Triggers on the tables call last_updated(): the tables go first.
    let pos = |needle: &str| {
        statements
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {statements:#?}"))
    };
    assert!(pos("DROP TABLE public.actor;") < pos("public.last_updated()"));
    assert!(pos("DROP VIEW public.actor_info;") < pos("DROP TABLE public.actor;"));
    assert!(pos("DROP DOMAIN public.year;") > pos("DROP TABLE public.film;"));
    // A sequence used by a column default (not owned: Pagila's are not) after its table.
    assert!(pos("DROP SEQUENCE public.actor_actor_id_seq;") > pos("DROP TABLE public.actor;"));
    // Partitions go with their parent: no DROP of their own.
    assert!(!statements.iter().any(|s| s.contains("payment_p2022_01")));

    dst.psql_file(&tdb, Path::new(&path))
        .expect("the drop script runs as given");
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb), dir.path());
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(finding(&doc, "target.conflict")["severity"], "pass");
    assert!(
        !Path::new(&path).exists(),
        "a fixed item's old script is removed"
    );
}

#[test]
fn conflict_script_names_target_objects_that_block_it() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "fix_block"), fresh_db(dst, "fix_block"));
    let ddl = "CREATE DOMAIN public.pos AS int CHECK (VALUE > 0);
         CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql
             AS 'BEGIN RETURN NEW; END';
         CREATE TABLE public.t (id serial PRIMARY KEY, n public.pos);
         CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
             FOR EACH ROW EXECUTE FUNCTION public.touch();";
    src.psql(&sdb, ddl).unwrap();
    dst.psql(&tdb, ddl).unwrap();
    dst.psql(&tdb, "CREATE VIEW public.mine AS SELECT id FROM public.t;")
        .unwrap();
    let dir = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb), dir.path());
    assert_eq!(code, 1, "{doc:#}");
    let f = finding(&doc, "target.conflict");
    let msg = f["message"].as_str().unwrap_or("");
    assert!(msg.contains("view public.mine"), "{msg}");
    let (path, statements) = script_of(f);
    // The serial's sequence is owned by the table: it goes with it.
    assert_eq!(
        statements,
        vec![
            "DROP TABLE public.t;",
            "DROP DOMAIN public.pos;",
            "DROP ROUTINE public.touch();",
        ]
    );
    // The view is the target's own: the script stops (and changes nothing)
    // until it is dropped.
    assert!(dst.psql_file(&tdb, Path::new(&path)).is_err());
    dst.psql(&tdb, "DROP VIEW public.mine;").unwrap();
    dst.psql_file(&tdb, Path::new(&path)).expect("script runs");
    let (code, doc) = precheck(&src.uri(&sdb), &dst.uri(&tdb), dir.path());
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn missing_select_grants_are_a_script_for_the_source() {
    let (src, dst) = (cluster(15), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "fix_grant"), fresh_db(dst, "fix_grant"));
    let role = format!("fixer_{}", std::process::id());
    src.psql(
        &sdb,
        &format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'x';
             CREATE TABLE public.secret (id serial PRIMARY KEY);
             CREATE TABLE public.open (id int);
             GRANT SELECT ON public.open TO {role};"
        ),
    )
    .unwrap();
    let source = format!("postgres://{role}:x@127.0.0.1:{}/{sdb}", src.port());
    let dir = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let (code, doc) = precheck(&source, &dst.uri(&tdb), dir.path());
    assert_eq!(code, 1, "{doc:#}");
    let (path, statements) = script_of(finding(&doc, "source.privilege.select"));
    assert_eq!(
        statements,
        vec![
            format!("GRANT SELECT ON TABLE public.secret TO {role};"),
            format!("GRANT SELECT ON SEQUENCE public.secret_id_seq TO {role};"),
        ]
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("-- Run on the source"), "{text}");
    src.psql_file(&sdb, Path::new(&path)).expect("script runs");
    let (code, doc) = precheck(&source, &dst.uri(&tdb), dir.path());
    assert_eq!(code, 0, "{doc:#}");
}
