//! Owners and privileges. By default the target login owns everything and no
//! GRANT is copied (what managed targets need); `migrate --keep-owners` keeps
//! the source's owners and ACLs (table, column, sequence, view, materialized
//! view, schema, function, aggregate, type, domain privileges, grants made by
//! a non-owner with grant option), so `pg_dump --schema-only` WITH owners and
//! privileges has zero differing lines. A role the target lacks is reported
//! and the run still succeeds.

use crate::support::compare::assert_same_schema;
use crate::support::{cluster, fresh_db, pg_dump_schema_full, pgferry, Migrate};
use pgferry::localpg::LocalCluster;

/// Creates roles `<p>_owner`, `<p>_reader`, `<p>_writer` unless they exist
/// (roles are cluster-wide: each test uses its own prefix).
fn create_roles(c: &LocalCluster, p: &str) {
    crate::support::ensure_roles(
        c,
        &["owner", "reader", "writer"].map(|r| format!("{p}_{r}")),
    );
}

/// Objects owned by `<p>_owner` with grants to reader and writer.
fn objects(p: &str) -> String {
    format!(
        r#"
CREATE SCHEMA app AUTHORIZATION {p}_owner;
GRANT USAGE ON SCHEMA app TO {p}_reader, {p}_writer;
CREATE TABLE app.items (id serial PRIMARY KEY, name text, qty int);
CREATE TABLE app.plain (id int);
CREATE SEQUENCE app.counter;
CREATE VIEW app.item_names AS SELECT id, name FROM app.items;
CREATE MATERIALIZED VIEW app.item_mv AS SELECT count(*) AS n FROM app.items;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE DOMAIN app.posint AS int CHECK (VALUE > 0);
CREATE FUNCTION app.secret(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';
CREATE FUNCTION app.open_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE app.total(int) (sfunc = int4pl, stype = int);
CREATE TABLE public.pub_owned (id int);
ALTER TABLE app.items OWNER TO {p}_owner;
ALTER TABLE app.plain OWNER TO {p}_owner;
ALTER SEQUENCE app.counter OWNER TO {p}_owner;
ALTER VIEW app.item_names OWNER TO {p}_owner;
ALTER MATERIALIZED VIEW app.item_mv OWNER TO {p}_owner;
ALTER TYPE app.mood OWNER TO {p}_owner;
ALTER DOMAIN app.posint OWNER TO {p}_owner;
ALTER FUNCTION app.secret(int) OWNER TO {p}_owner;
ALTER FUNCTION app.open_fn() OWNER TO {p}_owner;
ALTER AGGREGATE app.total(int) OWNER TO {p}_owner;
ALTER TABLE public.pub_owned OWNER TO {p}_writer;
GRANT SELECT ON app.items, app.item_names, app.item_mv TO {p}_reader;
GRANT INSERT ON app.items TO {p}_writer;
GRANT UPDATE (qty) ON app.items TO {p}_writer;
GRANT SELECT ON app.items TO {p}_writer WITH GRANT OPTION;
SET ROLE {p}_writer;
GRANT SELECT ON app.items TO {p}_reader;
RESET ROLE;
GRANT USAGE ON SEQUENCE app.counter, app.items_id_seq TO {p}_writer;
REVOKE EXECUTE ON FUNCTION app.secret(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.secret(int) TO {p}_reader;
REVOKE USAGE ON TYPE app.mood FROM PUBLIC;
GRANT USAGE ON TYPE app.mood TO {p}_reader;
GRANT USAGE ON DOMAIN app.posint TO {p}_writer;
REVOKE ALL ON TABLE public.pub_owned FROM {p}_writer;
GRANT SELECT ON TABLE public.pub_owned TO PUBLIC;
INSERT INTO app.items (name, qty) VALUES ('a', 1), ('b', 2);
"#
    )
}

fn keeps_owners_and_grants(src_major: u32, tgt_major: u32, p: &str) {
    let (src, tgt) = (cluster(src_major), cluster(tgt_major));
    create_roles(src, p);
    create_roles(tgt, p);
    let sdb = fresh_db(src, "own_src");
    src.psql(&sdb, &objects(p)).unwrap();
    let tdb = fresh_db(tgt, "own_tgt");
    let out = Migrate::new(src, &sdb, tgt, &tdb)
        .args(&["--keep-owners"])
        .json()
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["skipped"], serde_json::json!([]), "{out}");
    let source_dump = pg_dump_schema_full(src, &sdb);
    // The comparison means something only if the dump shows what we set up.
    for line in [
        format!("ALTER TABLE app.items OWNER TO {p}_owner;"),
        format!("ALTER AGGREGATE app.total(integer) OWNER TO {p}_owner;"),
        format!("GRANT UPDATE(qty) ON TABLE app.items TO {p}_writer;"),
        format!("GRANT USAGE ON SCHEMA app TO {p}_reader;"),
        "REVOKE ALL ON FUNCTION app.secret(integer) FROM PUBLIC;".to_string(),
        "REVOKE ALL ON TYPE app.mood FROM PUBLIC;".to_string(),
        format!("SET SESSION AUTHORIZATION {p}_writer;"),
    ] {
        assert!(source_dump.contains(&line), "{line} not in\n{source_dump}");
    }
    assert_same_schema(
        &source_dump,
        &pg_dump_schema_full(tgt, &tdb),
        &format!("owners {src_major} -> {tgt_major}"),
    );
}

#[test]
fn keeps_owners_and_grants_10_to_15() {
    keeps_owners_and_grants(10, 15, "own_a");
}

#[test]
fn keeps_owners_and_grants_15_to_15() {
    keeps_owners_and_grants(15, 15, "own_b");
}

/// Without --keep-owners: every object belongs to the target login and no
/// privilege is granted.
#[test]
fn default_gives_everything_to_the_target_login() {
    let (src, tgt) = (cluster(15), cluster(15));
    create_roles(src, "own_c");
    let sdb = fresh_db(src, "own_src");
    src.psql(&sdb, &objects("own_c")).unwrap();
    let tdb = fresh_db(tgt, "own_tgt");
    Migrate::new(src, &sdb, tgt, &tdb).json().ok();
    let q = "SELECT n.nspname || '.' || c.relname || ' ' || pg_get_userbyid(c.relowner) || ' ' \
                    || coalesce(c.relacl::text, 'NULL') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('app', 'public') AND c.relkind IN ('r', 'v', 'm', 'S') \
               AND (c.relowner <> 'postgres'::regrole OR c.relacl IS NOT NULL) \
             UNION ALL SELECT 'proc ' || p.proname FROM pg_proc p \
             WHERE p.pronamespace = 'app'::regnamespace AND (p.proowner <> 'postgres'::regrole OR p.proacl IS NOT NULL) \
             UNION ALL SELECT 'type ' || t.typname FROM pg_type t \
             WHERE t.typnamespace = 'app'::regnamespace AND (t.typowner <> 'postgres'::regrole OR t.typacl IS NOT NULL) \
             UNION ALL SELECT 'schema app' FROM pg_namespace \
             WHERE nspname = 'app' AND (nspowner <> 'postgres'::regrole OR nspacl IS NOT NULL) \
             UNION ALL SELECT 'column ' || attname FROM pg_attribute \
             WHERE attrelid = 'app.items'::regclass AND attacl IS NOT NULL";
    assert_eq!(tgt.psql(&tdb, q).unwrap().trim(), "");
    let dump = pg_dump_schema_full(tgt, &tdb);
    assert!(!dump.contains("GRANT "), "{dump}");
    assert!(!dump.contains("own_c"), "{dump}");
}

/// A role only the source has: its ownership and grants are reported as
/// skipped, the object stays with the target login, and the run succeeds.
#[test]
fn missing_role_is_reported_and_the_run_succeeds() {
    let (src, tgt) = (cluster(10), cluster(15));
    create_roles(src, "own_d");
    create_roles(tgt, "own_d");
    src.psql(
        "postgres",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'own_d_ghost') \
         THEN CREATE ROLE own_d_ghost; END IF; END $$;",
    )
    .unwrap();
    let sdb = fresh_db(src, "own_src");
    src.psql(
        &sdb,
        "CREATE TABLE public.haunted (id int); ALTER TABLE public.haunted OWNER TO own_d_ghost;
         CREATE TABLE public.shown (id int); ALTER TABLE public.shown OWNER TO own_d_owner;
         GRANT SELECT ON public.shown TO own_d_ghost, own_d_reader;",
    )
    .unwrap();
    let tdb = fresh_db(tgt, "own_tgt");
    let out = Migrate::new(src, &sdb, tgt, &tdb)
        .args(&["--keep-owners"])
        .json()
        .ok();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    let has = |kind: &str, object: &str| {
        skipped.iter().any(|s| {
            s["kind"] == kind
                && s["object"].as_str().unwrap().contains(object)
                && s["reason"].as_str().unwrap().contains("own_d_ghost")
        })
    };
    assert!(has("owner", "public.haunted"), "{out}");
    assert!(has("grant", "public.shown"), "{out}");
    assert_eq!(skipped.len(), 2, "{out}");
    let owners = tgt
        .psql(
            &tdb,
            "SELECT relname || ' ' || pg_get_userbyid(relowner) || ' ' || coalesce(relacl::text, '') \
             FROM pg_class WHERE relname IN ('haunted', 'shown') ORDER BY 1",
        )
        .unwrap();
    assert_eq!(
        owners.trim(),
        "haunted postgres \nshown own_d_owner {own_d_owner=arwdDxt/own_d_owner,own_d_reader=r/own_d_owner}"
    );
}

/// A target login that is not a member of an owner role: precheck fails with
/// `target.privilege.owner` (exit 1) and nothing is written.
#[test]
fn precheck_fails_when_the_login_cannot_act_as_an_owner() {
    let (src, tgt) = (cluster(15), cluster(15));
    create_roles(src, "own_e");
    let login = "own_e_login";
    tgt.psql(
        "postgres",
        &format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') \
             THEN CREATE ROLE {login} LOGIN PASSWORD 'pw'; END IF; END $$;"
        ),
    )
    .unwrap();
    let sdb = fresh_db(src, "own_src");
    src.psql(
        &sdb,
        "CREATE TABLE public.t (id int); ALTER TABLE public.t OWNER TO own_e_owner;",
    )
    .unwrap();
    let tdb = fresh_db(tgt, "own_tgt");
    tgt.psql(
        &tdb,
        &format!("ALTER DATABASE {tdb} OWNER TO {login}; ALTER SCHEMA public OWNER TO {login};"),
    )
    .unwrap();
    let s = src.uri(&sdb);
    let t = format!("postgres://{login}:pw@127.0.0.1:{}/{tdb}", tgt.port());
    let out = pgferry(&[
        "migrate",
        "--source",
        &s,
        "--target",
        &t,
        "--keep-owners",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("target.privilege.owner"), "{stdout}");
    assert!(
        stdout.contains("GRANT own_e_owner TO own_e_login"),
        "{stdout}"
    );
    let tables = tgt
        .psql(&tdb, "SELECT count(*) FROM pg_class WHERE relname = 't'")
        .unwrap();
    assert_eq!(tables.trim(), "0");
}

/// Every kind `ALTER ... OWNER TO` is rendered for (operators, operator
/// classes and families, ordered-set and zero-argument aggregates,
/// procedures, collations, range types...) is accepted by the target: the
/// routines and types fixtures migrate with `--keep-owners` and the full
/// dumps match.
fn every_kind_of_owner_statement_runs(src_major: u32, fixtures: &[&str]) {
    let (src, tgt) = (cluster(src_major), cluster(15));
    let sdb = fresh_db(src, "own_src");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for f in fixtures {
        src.psql_file(&sdb, &dir.join(f)).unwrap();
    }
    let tdb = fresh_db(tgt, "own_tgt");
    Migrate::new(src, &sdb, tgt, &tdb)
        .args(&["--keep-owners"])
        .json()
        .ok();
    assert_same_schema(
        &pg_dump_schema_full(src, &sdb),
        &pg_dump_schema_full(tgt, &tdb),
        &format!("{fixtures:?} with --keep-owners, {src_major} -> 15"),
    );
}

#[test]
fn every_kind_of_owner_statement_runs_10_to_15() {
    // types.sql's ranges gain multirange names on 14+: compared 15 -> 15 only.
    every_kind_of_owner_statement_runs(10, &["routines.sql"]);
}

#[test]
fn every_kind_of_owner_statement_runs_15_to_15() {
    every_kind_of_owner_statement_runs(
        15,
        &[
            "routines.sql",
            "routines_modern.sql",
            "types.sql",
            "types_pg14.sql",
        ],
    );
}

/// Item 23: `--keep-owners` on Pagila, whose public.payment is partitioned:
/// the partitioned table (and with it its partitioned indexes) gets its
/// owner like every other table, so the full dumps match.
#[test]
fn partitioned_tables_and_their_indexes_get_their_owner() {
    let (src, tgt) = (cluster(15), cluster(15));
    create_roles(src, "own_f");
    create_roles(tgt, "own_f");
    let sdb = fresh_db(src, "own_src");
    let pagila = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/pagila");
    src.psql_file(&sdb, &pagila.join("pagila-schema.sql"))
        .unwrap();
    src.psql(
        &sdb,
        "ALTER TABLE public.payment OWNER TO own_f_owner;          ALTER TABLE public.payment_p2022_01 OWNER TO own_f_writer;",
    )
    .unwrap();
    let tdb = fresh_db(tgt, "own_tgt");
    Migrate::new(src, &sdb, tgt, &tdb)
        .args(&["--keep-owners", "--schema-only"])
        .json()
        .ok();
    let q =
        "SELECT relname || ' ' || relkind::text || ' ' || pg_get_userbyid(relowner) FROM pg_class \
             WHERE relname IN ('payment', 'payment_pkey', 'payment_p2022_01', 'payment_p2022_02') \
             ORDER BY 1";
    assert_eq!(
        tgt.psql(&tdb, q).unwrap(),
        src.psql(&sdb, q).unwrap(),
        "owners of the partitioned table, its index and partitions"
    );
    assert!(src.psql(&sdb, q).unwrap().contains("payment p own_f_owner"));
    assert_same_schema(
        &pg_dump_schema_full(src, &sdb),
        &pg_dump_schema_full(tgt, &tdb),
        "Pagila with --keep-owners",
    );
}
