//! The types family against real servers: extensions, collations, enum,
//! composite and range types, domains (with NOT VALID checks), comments,
//! quoted and non-ASCII names; each used by a table with rows. PostgreSQL 10
//! and 15 sources, 15 and 17 targets: `pg_dump --schema-only` must not differ,
//! rows must be equal, and the types must behave the same on both ends.

use crate::support::{
    cluster, compare, fresh_db, pg_dump_schema, source_majors, target_majors, Migrate,
};

const FIXTURE: &str = include_str!("../fixtures/types.sql");
/// Extra objects for 14+ sources (nondeterministic collation, multiranges,
/// domain over a composite, an extension at an older version).
const FIXTURE_PG14: &str = include_str!("../fixtures/types_pg14.sql");
/// Base type with C I/O and canonical range: cannot be migrated, must be
/// reported; a base type with internal I/O is migrated.
const FIXTURE_SKIPPED: &str = include_str!("../fixtures/types_skipped.sql");

/// Rows of the fixture's tables as text, with output settings pinned so that
/// they do not depend on the server version.
const ROWS_SQL: &str = "SET extra_float_digits = 0; SET TimeZone = 'UTC'; SET DateStyle = 'ISO';
SELECT string_agg(t::text, E'\\n' ORDER BY t.id) FROM public.everything t;";
const ROWS_PG14_SQL: &str = "SELECT string_agg(t::text, E'\\n' ORDER BY t.id) FROM public.newer t;";

/// How the types behave: enum order, collation order, citext equality,
/// domain constraints (the NOT VALID one unvalidated but enforced).
const BEHAVIOUR_SQL: &str = "
SELECT string_agg(x::text, ',' ORDER BY x) FROM unnest(enum_range(NULL::public.mood)) x;
SELECT string_agg(x::text, ',' ORDER BY x) FROM unnest(enum_range(NULL::\"Типы\".\"Mixed Case\")) x;
SELECT string_agg(w, ',' ORDER BY w COLLATE \"Типы\".de_phone) FROM unnest('{af,ä,ad,b,A}'::text[]) w;
SELECT string_agg(w, ',' ORDER BY w COLLATE public.c_posix) FROM unnest('{af,ä,ad,b,A}'::text[]) w;
SELECT 'ABC'::public.citext = 'abc', 'a=>1'::ext.hstore OPERATOR(ext.->) 'a', public.cube_dim('(1,2,3)');
SELECT public.floatrange(1, 4) -|- public.floatrange(4, 5), public.textrange_c('A', 'b') @> 'Z'::text;
SELECT conname, convalidated FROM pg_constraint WHERE contypid <> 0 AND contype = 'c' ORDER BY conname;
SELECT typname, typnotnull, pg_get_expr(typdefaultbin, 0) FROM pg_type WHERE typtype = 'd' ORDER BY typname;
";

/// Statements that a domain must refuse on both ends.
const REFUSED: &[&str] = &[
    "INSERT INTO public.everything (id, pi) VALUES (10, 0);",
    "INSERT INTO public.everything (id, l) VALUES (10, 5);",
    "INSERT INTO public.everything (id, k) VALUES (10, 'UPPER');",
    "INSERT INTO public.everything (id, hm) VALUES (10, 'sad');",
    "INSERT INTO public.everything (id, em) VALUES (10, 'nobody');",
    "INSERT INTO public.everything (id, il) VALUES (10, '{}');",
];

fn wanted(source: u32, target: u32) -> bool {
    let on = source_majors().contains(&source) && target_majors().contains(&target);
    if !on {
        eprintln!("skipping {source} -> {target}: not in PGFERRY_TEST_SOURCES/TARGETS");
    }
    on
}

/// pg_dump writes `multirange_type_name` for every range type of a 14+
/// server; a source older than 14 has no multiranges, so the line can only
/// appear on the target: version wording, removed from both dumps.
fn without_multirange_names(dump: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in dump.lines() {
        if line.trim_start().starts_with("multirange_type_name = ") {
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}

fn case(source_major: u32, target_major: u32) {
    if !wanted(source_major, target_major) {
        return;
    }
    let src = cluster(source_major);
    let dst = cluster(target_major);
    let sdb = fresh_db(src, "types");
    let tdb = fresh_db(dst, "types");
    let modern = source_major >= 14;
    src.psql(&sdb, FIXTURE).expect("load fixture");
    if modern {
        src.psql(&sdb, FIXTURE_PG14).expect("load 14+ fixture");
    }

    Migrate::new(src, &sdb, dst, &tdb).json().ok();
    let what = format!("types {source_major} -> {target_major}");

    // The structure, as pg_dump sees it.
    let (a, b) = (pg_dump_schema(src, &sdb), pg_dump_schema(dst, &tdb));
    assert!(
        a.contains("CREATE DOMAIN \"Типы\".\"ключ\""),
        "fixture missing"
    );
    if modern {
        compare::assert_same_schema(&a, &b, &what);
    } else {
        compare::assert_same_schema(
            &without_multirange_names(&a),
            &without_multirange_names(&b),
            &what,
        );
    }

    // The rows, copied through text COPY.
    let rows = |c: &pgferry::localpg::LocalCluster, db: &str| {
        let mut s = c.psql(db, ROWS_SQL).expect("rows");
        if modern {
            s.push_str(&c.psql(db, ROWS_PG14_SQL).expect("rows"));
        }
        s
    };
    let (ra, rb) = (rows(src, &sdb), rows(dst, &tdb));
    assert!(
        ra.contains("Zürich") && ra.contains("back\\\\slash"),
        "{ra}"
    );
    compare::assert_same_text(&ra, &rb, &format!("{what}: rows"));

    // Behaviour.
    let (ba, bb) = (
        src.psql(&sdb, BEHAVIOUR_SQL).unwrap(),
        dst.psql(&tdb, BEHAVIOUR_SQL).unwrap(),
    );
    assert!(ba.contains("later_even|f"), "{ba}");
    compare::assert_same_text(&ba, &bb, &format!("{what}: behaviour"));
    for sql in REFUSED {
        assert!(src.psql(&sdb, sql).is_err(), "source accepted {sql}");
        assert!(
            dst.psql(&tdb, sql).is_err(),
            "{what}: target accepted {sql}"
        );
    }
    if modern {
        let ci = "SELECT 'ABC' = 'abc' COLLATE public.ci, '{[1,2)}'::public.plainmultirange;";
        assert_eq!(src.psql(&sdb, ci).unwrap(), dst.psql(&tdb, ci).unwrap());
    }

    // Extension versions: the source's on the same major, else the target's default.
    let versions =
        "SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension;";
    let defaults =
        "SELECT string_agg(e.extname || ' ' || a.default_version, ', ' ORDER BY e.extname) \
                    FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname;";
    let got = dst.psql(&tdb, versions).unwrap();
    if source_major == target_major {
        assert_eq!(got, src.psql(&sdb, versions).unwrap(), "{what}");
        assert!(got.contains("isn 1.1"), "{got}");
    } else {
        assert_eq!(got, dst.psql(&tdb, defaults).unwrap(), "{what}");
    }
}

#[test]
fn pg10_to_15() {
    case(10, 15);
}

#[test]
fn pg10_to_17() {
    case(10, 17);
}

#[test]
fn pg15_to_15() {
    case(15, 15);
}

#[test]
fn pg15_to_17() {
    case(15, 17);
}

/// A base type with C I/O functions (they cannot be recreated) and a range
/// type with a canonical function are reported as skipped, with everything
/// that uses them; everything else is migrated, including a base type with
/// internal I/O functions, its domain and the tables that use them.
#[test]
fn unmigratable_types_are_skipped_and_reported() {
    let (s, t) = (15, 15);
    if !wanted(s, t) {
        return;
    }
    let src = cluster(s);
    let dst = cluster(t);
    let sdb = fresh_db(src, "types_skip");
    let tdb = fresh_db(dst, "types_skip");
    src.psql(&sdb, FIXTURE_SKIPPED).expect("load fixture");

    let plan = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--dry-run"])
        .json()
        .ok();
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan json");
    let skipped = crate::support::kind_objects(&plan["skipped"]);
    assert!(!skipped.is_empty(), "{plan}");
    for want in [
        "type public.ctext",
        "type public.canon_range",
        "domain public.ctext_dom",
        "table public.uses_ctext",
        "index uses_ctext_id on public.uses_ctext",
        "table public.uses_canon",
    ] {
        assert!(
            skipped.iter().any(|s| s == want),
            "{want} not in {skipped:?}"
        );
    }
    assert!(
        !skipped
            .iter()
            .any(|s| s.contains("fine") || s.contains("mytext") || s.contains("uses_dom")),
        "an unrelated object was skipped: {skipped:?}"
    );
    let reasons = plan["skipped"].to_string();
    assert!(reasons.contains("C-language"), "{reasons}");
    assert!(reasons.contains("canonical"), "{reasons}");

    Migrate::new(src, &sdb, dst, &tdb).json().ok();
    let check = "SELECT string_agg(n, ',' ORDER BY n) FROM (
        SELECT relname::text AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
        UNION ALL SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
              AND typtype IN ('d', 'e', 'r', 'b') AND typname NOT LIKE '\\_%') x;";
    let got = dst.psql(&tdb, check).unwrap();
    assert_eq!(
        got.trim(),
        "fine,fine_mood,fine_table,mytext,mytext_dom,uses_dom,uses_mytext",
        "{got}"
    );
    for t in ["fine_table", "uses_mytext", "uses_dom"] {
        let rows = format!("SELECT string_agg(t::text, ',' ORDER BY id) FROM public.{t} t;");
        assert_eq!(
            src.psql(&sdb, &rows).unwrap(),
            dst.psql(&tdb, &rows).unwrap()
        );
    }
}
