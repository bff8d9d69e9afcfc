//! Functions, procedures, aggregates, operators and casts: migrated exactly
//! (`pg_dump --schema-only` of source and target has zero differing lines) and
//! behaving the same (the same queries give the same answers on both sides),
//! from every source major to every target major. C-language functions are
//! skipped, with everything that depends on them, and reported.

use crate::support::compare::assert_same_schema;
use crate::support::{cluster, fresh_db, pg_dump_schema, source_majors, target_majors, Migrate};
use pgferry::localpg::LocalCluster;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// One row of results of every function, aggregate, operator and cast of
/// routines.sql, as text.
const BEHAVIOUR: &str = r#"
SELECT public.add_one(41), public.add_one('x'), (public.stats(2)).*, public.stats(3, 4),
       public.swap(1, 2), public.sum_all(1, 2, 3),
       (SELECT string_agg(i || ':' || sq, ',') FROM public.series(3)),
       (SELECT string_agg(x || '-' || y, ',') FROM public.all_pt()),
       public.first_of(ARRAY[7, 8]), "Rütinen"."Grüß Gott"(NULL), public.my_abs(-5),
       (SELECT string_agg(r::text, ',') FROM (SELECT public.my_rank() OVER (ORDER BY v) r
                                             FROM (VALUES (1), (1), (2)) t(v)) w);
SELECT public.concat_agg(t ORDER BY t), public.msum(n), public.my_max(n), public.my_avg(n),
       public.sspace_avg(n), public.my_pct(0.5) WITHIN GROUP (ORDER BY n),
       public.my_hrank(3) WITHIN GROUP (ORDER BY n), public.my_count(*),
       "Rütinen"."Summe"(n), "Rütinen"."Summe"(n::bigint)
FROM (SELECT n, n::text AS t FROM generate_series(1, 10) n) g;
SELECT string_agg(s::text, ',') FROM (SELECT public.msum(n) OVER (ORDER BY n ROWS 2 PRECEDING) s
                                      FROM generate_series(1, 6) n) w;
SELECT 3 OPERATOR(public.=~=) 13, 3 OPERATOR(public.!~=) 13, OPERATOR(public.@@@) 4,
       'a' OPERATOR(public.===) 'a', ROW(1, 2)::public.pt OPERATOR("Rütinen".+) ROW(3, 4)::public.pt,
       1 OPERATOR(public.<<<) '2', '2' OPERATOR(public.>>>) 1,
       (SELECT count(*) FROM generate_series(1, 30) n WHERE n OPERATOR(public.=~=) 5);
SELECT ROW(1, 2)::public.pt::text, '\x41'::bytea::text, ROW(5, 6)::public.pt2::varchar;
SELECT * FROM public.routine_view;
SET enable_seqscan = off;
SELECT count(*) FROM public.nums WHERE n OPERATOR(public.=~=) 3;
SELECT count(*) FROM (SELECT DISTINCT p FROM (SELECT * FROM public.pt UNION ALL SELECT * FROM public.pt) u(x, y)
                      CROSS JOIN LATERAL (SELECT ROW(u.x, u.y)::public.pt) v(p)) d;
"#;

/// The 14+ additions (routines_modern.sql): procedures, SQL-standard bodies.
const BEHAVIOUR_MODERN: &str = r#"
CALL public.bump(5, 2);
CALL public.log_it('hello');
SELECT public.count_audit(), public.pt_total();
INSERT INTO public.totals (id) VALUES (1);
SELECT total FROM public.totals;
SELECT public.rw_concat(t ORDER BY t), public.sh_concat(t ORDER BY t)
FROM (VALUES ('b'), ('a')) v(t);
"#;

fn has_modern(major: u32) -> bool {
    major >= 14
}

/// `modern`: the source had routines_modern.sql.
fn behaviour(c: &LocalCluster, db: &str, modern: bool) -> String {
    let mut out = c.psql(db, BEHAVIOUR).unwrap();
    if modern {
        out.push_str(&c.psql(db, BEHAVIOUR_MODERN).unwrap());
    }
    out
}

fn source_db(src: &LocalCluster, prefix: &str) -> String {
    let db = fresh_db(src, prefix);
    src.psql_file(&db, &fixture("routines.sql")).unwrap();
    if has_modern(src.major()) {
        src.psql_file(&db, &fixture("routines_modern.sql")).unwrap();
    }
    db
}

fn exact_and_same_behaviour(src_major: u32, tgt_major: u32) {
    let (src, tgt) = (cluster(src_major), cluster(tgt_major));
    let sdb = source_db(src, "rt_src");
    let tdb = fresh_db(tgt, "rt_tgt");
    Migrate::new(src, &sdb, tgt, &tdb).ok();
    let what = format!("routines {src_major} -> {tgt_major}");
    assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(tgt, &tdb),
        &what,
    );
    // After the copy, both sides hold the same rows; the checks write the same on each.
    let modern = has_modern(src_major);
    let expected = behaviour(src, &sdb, modern);
    assert_eq!(
        behaviour(tgt, &tdb, modern),
        expected,
        "{what}: results differ"
    );
}

#[test]
fn routines_migrate_exactly_and_behave_the_same() {
    for s in source_majors() {
        for t in target_majors().into_iter().filter(|t| *t >= s) {
            exact_and_same_behaviour(s, t);
        }
    }
}

/// Two C-language functions, and an operator, an aggregate, an operator class
/// (and family), a table (column default), a view and (14+) an SQL-standard
/// function that need them; on sources before 14, a postfix operator (which
/// 14+ targets cannot have) is skipped too.
const C_FIXTURE: &str = r#"
CREATE FUNCTION public.my_c_func(integer) RETURNS integer
    LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_call_handler';
COMMENT ON FUNCTION public.my_c_func(integer) IS 'native';
CREATE FUNCTION public.my_c_step(integer, integer) RETURNS integer
    LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE OPERATOR public.### (PROCEDURE = public.my_c_func, RIGHTARG = integer);
CREATE AGGREGATE public.c_agg(integer) (SFUNC = public.my_c_step, STYPE = integer);
CREATE TABLE public.c_table (id integer, v integer DEFAULT public.my_c_func(1));
INSERT INTO public.c_table (id, v) VALUES (1, 1);
CREATE TABLE public.kept (id integer);
INSERT INTO public.kept SELECT generate_series(1, 3);
CREATE VIEW public.c_view AS SELECT public.my_c_func(id) AS v FROM public.kept;
CREATE OPERATOR CLASS public.c_ops FOR TYPE integer USING hash AS
    OPERATOR 1 =(integer, integer), FUNCTION 1 public.my_c_func(integer);
CREATE FUNCTION public.plain(integer) RETURNS integer LANGUAGE sql AS $$ SELECT $1 * 2 $$;
"#;

const C_FIXTURE_MODERN: &str = r#"
CREATE FUNCTION public.c_atomic(integer) RETURNS integer
    LANGUAGE sql RETURN public.my_c_func($1);
"#;

fn c_functions_skipped(src_major: u32, tgt_major: u32) {
    let (src, tgt) = (cluster(src_major), cluster(tgt_major));
    let sdb = fresh_db(src, "rtc_src");
    src.psql(&sdb, C_FIXTURE).unwrap();
    if has_modern(src_major) {
        src.psql(&sdb, C_FIXTURE_MODERN).unwrap();
    } else {
        // Postfix operators exist up to 13 and cannot be created on 14+.
        src.psql(
            &sdb,
            "CREATE OPERATOR public.!!! (PROCEDURE = public.plain, LEFTARG = integer);",
        )
        .unwrap();
    }
    let tdb = fresh_db(tgt, "rtc_tgt");
    let what = format!("C functions {src_major} -> {tgt_major}");
    let out = Migrate::new(src, &sdb, tgt, &tdb).json().ok();
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what}: bad JSON ({e}): {out}"));
    assert!(
        report["skipped"].is_array(),
        "{what}: no skipped list in {out}"
    );
    let skipped = crate::support::kind_objects(&report["skipped"]);
    let mut expect = vec![
        "function public.my_c_func(integer)",
        "function public.my_c_step(integer, integer)",
        "operator public.### (NONE, integer)",
        "aggregate public.c_agg(integer)",
        "table public.c_table",
        "view public.c_view",
        "operator family public.c_ops USING hash",
        "operator class public.c_ops USING hash",
    ];
    if has_modern(src_major) {
        expect.push("function public.c_atomic(integer)");
    } else {
        expect.push("operator public.!!! (integer, NONE)");
    }
    for e in &expect {
        assert!(
            skipped.iter().any(|s| s == e),
            "{what}: {e} not reported as skipped: {skipped:?}"
        );
    }
    let c_reason = report["skipped"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        c_reason.contains("C-language function"),
        "{what}: {c_reason}"
    );

    // The human report lists them too.
    let tdb2 = fresh_db(tgt, "rtc_tgt");
    let text = Migrate::new(src, &sdb, tgt, &tdb2).ok();
    assert!(
        text.contains("SKIPPED function public.my_c_func(integer): C-language function"),
        "{what}: human output does not list the skipped function:\n{text}"
    );

    // Everything else arrived, with its rows; nothing of the skipped did.
    assert_eq!(
        tgt.psql(&tdb, "SELECT public.plain(21), sum(id) FROM public.kept")
            .unwrap()
            .trim(),
        "42|6"
    );
    let left = tgt
        .psql(
            &tdb,
            "SELECT count(*) FROM pg_proc WHERE proname IN ('my_c_func', 'my_c_step', 'c_agg', 'c_atomic')
             UNION ALL SELECT count(*) FROM pg_class WHERE relname IN ('c_table', 'c_view')
             UNION ALL SELECT count(*) FROM pg_operator WHERE oprname = '###'",
        )
        .unwrap();
    assert_eq!(
        left.split_whitespace().collect::<Vec<_>>(),
        ["0", "0", "0"],
        "{what}"
    );
    // Without the skipped objects, source and target are the same.
    src.psql(
        &sdb,
        "DROP FUNCTION public.my_c_func(integer), public.my_c_step(integer, integer) CASCADE;
         DROP TABLE public.c_table;
         DROP OPERATOR FAMILY IF EXISTS public.c_ops USING hash CASCADE;
         DROP OPERATOR IF EXISTS public.!!! (integer, NONE);",
    )
    .unwrap();
    assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(tgt, &tdb),
        &what,
    );
}

#[test]
fn c_language_functions_and_their_dependents_are_skipped_and_reported() {
    let targets = target_majors();
    for s in source_majors() {
        if let Some(t) = targets.iter().copied().find(|t| *t >= s) {
            c_functions_skipped(s, t);
        }
    }
}
