//! Schemas a DBA meets in the wild, beyond the samples: odd names and types,
//! expression partition keys, multiple inheritance, a PostgreSQL 10 table
//! WITH OIDS (gone in 12), compared with pg_dump, rows and behaviour.

use crate::support::{cluster, compare, fresh_db, pg_dump_schema, pgferry, Migrate};

const FIXTURE: &str = include_str!("../fixtures/edge_cases.sql");

const ROWS: &str = "SET extra_float_digits = 0; SET lc_monetary = 'C';
SELECT 'ab', string_agg(t::text, ',') FROM \"we\"\"ird\".\"a.b\" t
UNION ALL SELECT 'nocols', count(*)::text FROM public.nocols
UNION ALL SELECT 'other_seq', string_agg(t::text, ',') FROM public.uses_other_seq t
UNION ALL SELECT 'typed', string_agg(t::text, ',') FROM public.typed t
UNION ALL SELECT 'lname', string_agg(t::text || tableoid::regclass::text, ',' ORDER BY name) FROM public.lname_partitioned t
UNION ALL SELECT 'multi', string_agg(t::text, ',') FROM public.multi t
ORDER BY 1;";

fn case(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let (sdb, tdb) = (fresh_db(src, "edge"), fresh_db(dst, "edge"));
    src.psql(&sdb, FIXTURE).expect("fixture");
    if source_major >= 11 {
        src.psql(
            &sdb,
            "CREATE INDEX lname_idx ON public.lname_partitioned (lower(name) COLLATE \"C\");",
        )
        .expect("partitioned index");
    }
    if source_major < 12 {
        src.psql(&sdb, "CREATE TABLE public.withoids (a int) WITH OIDS; INSERT INTO public.withoids VALUES (1);")
            .expect("oids table");
    }
    Migrate::new(src, &sdb, dst, &tdb).json().ok();
    let mut source_dump = pg_dump_schema(src, &sdb);
    if source_major < 12 {
        // WITH OIDS does not exist on 12+: the table arrives without it.
        source_dump = source_dump.replace("\nWITH (oids='true');", ";");
        assert_eq!(
            dst.psql(&tdb, "SELECT a FROM public.withoids;").unwrap(),
            "1\n"
        );
    }
    compare::assert_same_schema(
        &source_dump,
        &pg_dump_schema(dst, &tdb),
        &format!("edge cases {source_major} -> {target_major}"),
    );
    compare::assert_same_text(
        &src.psql(&sdb, ROWS).unwrap(),
        &dst.psql(&tdb, ROWS).unwrap(),
        "rows",
    );
    // Behaviour: trigger arguments, the INSTEAD NOTHING rule, VARIADIC defaults,
    // the enum domain, the descending sequence.
    let probe = "INSERT INTO public.trgt VALUES (1); INSERT INTO public.ruled VALUES (1);
        SELECT (SELECT string_agg(v::text, ',') FROM public.trgt), (SELECT count(*) FROM public.ruled),
               public.f_defaults(1), public.f_defaults(1, 5, 7, 8), nextval('\"Ünï\".neg');";
    assert_eq!(
        src.psql(&sdb, probe).unwrap(),
        dst.psql(&tdb, probe).unwrap()
    );
    let bad = "INSERT INTO public.typed (m) VALUES ('sad');";
    assert!(src.psql(&sdb, bad).is_err() && dst.psql(&tdb, bad).is_err());
    let verify = pgferry(&[
        "verify",
        "--source",
        &src.uri(&sdb),
        "--target",
        &dst.uri(&tdb),
    ]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn edge_cases_pg10_to_15() {
    case(10, 15);
}

#[test]
fn edge_cases_pg15_to_17() {
    case(15, 17);
}
