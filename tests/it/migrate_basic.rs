//! The foundation's end-to-end path against real servers: a PostgreSQL 10 or 15
//! source, a 15 or 17 target, quoted names, NULLs and special values, a dropped
//! column, sequences; checked with real queries on both ends.

use crate::support::{cluster, compare, fresh_db, pg_dump_schema, pgferry};

const FIXTURE: &str = include_str!("../fixtures/basic.sql");

/// Every row of every user table as text, in a stable order, with settings
/// pinned so that output does not depend on the server version. Floats print
/// differently on 10 and 12+ with extra_float_digits > 0, so they are shown
/// with 15 digits and, to be exact, as their binary form too.
const ROWS_SQL: &str = "SET extra_float_digits = 0; SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; \
    SET IntervalStyle = 'postgres'; SET bytea_output = 'hex';
SELECT '\"Sales Dept\".\"Order\"', string_agg(t::text || coalesce(encode(float8send(t.ratio), 'hex'), 'null'), E'\\n' ORDER BY t.\"Id\") FROM \"Sales Dept\".\"Order\" t
UNION ALL SELECT 'items', string_agg(t::text, E'\\n' ORDER BY t.id) FROM public.items t
UNION ALL SELECT 'CamelCase', string_agg(t::text, E'\\n' ORDER BY t.\"ID\") FROM public.\"CamelCase\" t
UNION ALL SELECT 'scratch', string_agg(t::text, E'\\n' ORDER BY t.k) FROM public.scratch t
UNION ALL SELECT 'empty', count(*)::text FROM public.empty_one;";

fn case(source_major: u32, target_major: u32) {
    let src = cluster(source_major);
    let dst = cluster(target_major);
    let sdb = fresh_db(src, "basic");
    let tdb = fresh_db(dst, "basic");
    src.psql(&sdb, FIXTURE).expect("load fixture");

    let out = pgferry(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "migrate failed: {stderr}\n{stdout}");
    assert!(
        !stdout.contains(src.password()) && !stderr.contains(src.password()),
        "a password leaked into the output"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("migrate --json");
    assert_eq!(report["tables"].as_array().map(Vec::len), Some(5));

    // The rows themselves, compared as text on both ends.
    let a = src.psql(&sdb, ROWS_SQL).expect("source rows");
    let b = dst.psql(&tdb, ROWS_SQL).expect("target rows");
    assert!(
        a.contains("toast") && a.len() > 1_000_000,
        "fixture rows missing"
    );
    compare::assert_same_text(&a, &b, "rows of every table");

    // Sequences continue where the source stopped.
    let seq = "SELECT nextval('public.ticket_seq'), nextval(pg_get_serial_sequence('\"Sales Dept\".\"Order\"', 'Id')), \
               nextval(pg_get_serial_sequence('public.items', 'id'));";
    assert_eq!(src.psql(&sdb, seq).unwrap(), dst.psql(&tdb, seq).unwrap());

    // A dropped column on the source does not exist on the target.
    let cols = "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute \
                WHERE attrelid = '\"Sales Dept\".\"Order\"'::regclass AND attnum > 0 AND NOT attisdropped;";
    assert_eq!(src.psql(&sdb, cols).unwrap(), dst.psql(&tdb, cols).unwrap());

    // The structure, as pg_dump sees it.
    compare::assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        &format!("basic {source_major} -> {target_major}"),
    );

    // verify --counts-only agrees, and notices a difference.
    let verify = |expect: i32| {
        let out = pgferry(&[
            "verify",
            "--counts-only",
            "--source",
            &src.uri(&sdb),
            "--target",
            &dst.uri(&tdb),
        ]);
        assert_eq!(
            out.status.code(),
            Some(expect),
            "verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    verify(0);
    dst.psql(&tdb, "DELETE FROM public.items WHERE id = 100;")
        .unwrap();
    verify(1);
}

#[test]
fn pg10_to_15() {
    case(10, 15);
}

#[test]
fn pg15_to_15() {
    case(15, 15);
}

#[test]
fn pg15_to_17() {
    case(15, 17);
}

/// The managed-cloud case: the target login is not a superuser, only the
/// owner of the target database (on 15+ it owns `public` through
/// pg_database_owner). Everything still migrates, and belongs to it.
#[test]
fn into_a_database_owned_by_a_non_superuser() {
    let src = cluster(10);
    let dst = cluster(15);
    let sdb = fresh_db(src, "managed");
    src.psql(&sdb, FIXTURE).expect("load fixture");
    let tdb = format!("managed_{}", std::process::id());
    dst.psql(
        "postgres",
        &format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_admin') THEN \
             CREATE ROLE app_admin LOGIN PASSWORD 'app-secret-pw'; END IF; END $$; \
             CREATE DATABASE {tdb} OWNER app_admin;"
        ),
    )
    .expect("target database");
    let target = format!(
        "postgres://app_admin:app-secret-pw@127.0.0.1:{}/{tdb}",
        dst.port()
    );
    let state = tempfile::tempdir().unwrap();
    let out = pgferry(&[
        "migrate",
        "--source",
        &src.uri(&sdb),
        "--target",
        &target,
        "--state-dir",
        &state.path().to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "migrate as a database owner failed: {stderr}"
    );
    assert!(!stderr.contains("app-secret-pw"));
    let owners = "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class \
                  WHERE relnamespace::regnamespace::text IN ('public', '\"Sales Dept\"') AND relkind = 'r';";
    assert_eq!(dst.psql(&tdb, owners).unwrap().trim(), "app_admin");
    let a = src.psql(&sdb, ROWS_SQL).unwrap();
    let b = dst.psql(&tdb, ROWS_SQL).unwrap();
    compare::assert_same_text(&a, &b, "rows");
}

/// The founding case's source login: not a superuser, only USAGE on the
/// schemas and SELECT on the tables and sequences (what precheck asks for).
#[test]
fn from_a_read_only_source_login() {
    let src = cluster(10);
    let dst = cluster(15);
    let sdb = fresh_db(src, "reader");
    let tdb = fresh_db(dst, "reader");
    src.psql(&sdb, FIXTURE).expect("load fixture");
    src.psql(
        &sdb,
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_reader') THEN \
         CREATE ROLE app_reader LOGIN PASSWORD 'reader-secret-pw'; END IF; END $$;
         GRANT USAGE ON SCHEMA public, \"Sales Dept\" TO app_reader;
         GRANT SELECT ON ALL TABLES IN SCHEMA public, \"Sales Dept\" TO app_reader;
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, \"Sales Dept\" TO app_reader;",
    )
    .expect("grants");
    let source = format!(
        "postgres://app_reader:reader-secret-pw@127.0.0.1:{}/{sdb}",
        src.port()
    );
    let state = tempfile::tempdir().unwrap();
    let out = pgferry(&[
        "migrate",
        "--source",
        &source,
        "--target",
        &dst.uri(&tdb),
        "--state-dir",
        &state.path().to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "migrate from a read-only login failed: {stderr}"
    );
    compare::assert_same_text(
        &src.psql(&sdb, ROWS_SQL).unwrap(),
        &dst.psql(&tdb, ROWS_SQL).unwrap(),
        "rows",
    );
    compare::assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        "read-only source",
    );
    crate::support::assert_verified_equal(&source, &dst.uri(&tdb));
}
