//! What migrating PostgreSQL's own regression database (the pg_upgrade test
//! corpus) taught, one small case each: spellings an old server deparses that
//! a new one reads back as something else, and names that stop being unique.

use crate::support::compare::assert_same_schema;
use crate::support::{
    assert_verified_equal, cluster, fresh_db, kind_objects, pg_dump_schema, Migrate,
};

/// 10 -> 18: 10 prints a `bit varying` constant as `B'1001'::bit varying`,
/// which 18 reads as a `bit` constant plus a cast, and keeps a relation
/// option's name as written (`Fillfactor`), which 18 lowers. The target must
/// store the source's expressions and options, and `verify --schema` must
/// find both ends equal.
#[test]
fn old_deparsed_spellings_10_to_18() {
    let (src, dst) = (cluster(10), cluster(18));
    let sdb = fresh_db(src, "lesson_bits");
    let tdb = fresh_db(dst, "lesson_bits_t");
    src.psql(
        &sdb,
        r#"CREATE TABLE public.bits (
               id int PRIMARY KEY,
               b1 bit(4) DEFAULT '1001',
               b3 bit varying(5) DEFAULT '1001' CHECK (b3 <> B'11'),
               b4 bit varying(5) DEFAULT B'0101'
           ) WITH ("Fillfactor" = 70);
           CREATE INDEX bits_b3 ON public.bits (id) WHERE b3 <> B'111';
           INSERT INTO public.bits (id) VALUES (1), (2);"#,
    )
    .expect("fixture");
    Migrate::new(src, &sdb, dst, &tdb).ok();
    let q = "SELECT string_agg(pg_get_expr(d.adbin, d.adrelid), ' | ' ORDER BY d.adnum) \
             || ' / ' || (SELECT reloptions::text FROM pg_class WHERE oid = 'public.bits'::regclass) \
             FROM pg_attrdef d WHERE d.adrelid = 'public.bits'::regclass";
    assert_eq!(
        dst.psql(&tdb, q).unwrap().trim(),
        "'1001'::\"bit\" | '1001'::bit varying | '0101'::\"bit\" / {fillfactor=70}",
        "defaults and options as 18 spells the source's"
    );
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}

/// 15 -> 18 with `--keep-owners`: two procedures that differ only by an OUT
/// argument (on 14+ `ptest(int, int, int)` names both), and an operator whose
/// negator exists only as a shell. Both owners are kept, nothing is skipped.
#[test]
fn procedure_overloads_and_shell_operators_keep_owners_15_to_18() {
    let (src, dst) = (cluster(15), cluster(18));
    let sdb = fresh_db(src, "lesson_procs");
    let tdb = fresh_db(dst, "lesson_procs_t");
    let fixture = "CREATE PROCEDURE public.ptest(OUT a int, IN b int, IN c int) LANGUAGE sql AS $$ SELECT b - c $$;
         CREATE PROCEDURE public.ptest(IN a int, IN b int, IN c int) LANGUAGE sql AS $$ SELECT b - c $$;
         COMMENT ON PROCEDURE public.ptest(IN a int, IN b int, IN c int) IS 'the IN one';
         CREATE FUNCTION public.same(boolean, boolean) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
         CREATE OPERATOR public.=== (LEFTARG = boolean, RIGHTARG = boolean, PROCEDURE = public.same,
                                     COMMUTATOR = ===, NEGATOR = !==);";
    src.psql(&sdb, fixture).expect("fixture");
    let report = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--keep-owners"])
        .report();
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    let q = "SELECT string_agg(pg_get_function_identity_arguments(oid) || ' ' \
             || COALESCE(obj_description(oid, 'pg_proc'), '-'), ' | ' ORDER BY 1) \
             FROM pg_proc WHERE proname = 'ptest'";
    assert_eq!(src.psql(&sdb, q).unwrap(), dst.psql(&tdb, q).unwrap());
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}

/// 18 -> 18: 18 names NOT NULL constraints (a partition carries its parent's
/// names, a column may have its own), has NOT VALID and NO INHERIT ones,
/// virtual generated columns, keys WITHOUT OVERLAPS and foreign keys with
/// PERIOD, NOT ENFORCED constraints; 17+ identities on partitioned tables; a
/// foreign table partition too. `pg_dump --schema-only` of both ends is the
/// same.
#[test]
fn what_17_and_18_added_18_to_18() {
    let (src, dst) = (cluster(18), cluster(18));
    let sdb = fresh_db(src, "lesson_nn");
    let tdb = fresh_db(dst, "lesson_nn_t");
    src.psql(
        &sdb,
        "CREATE TABLE public.ev (id int NOT NULL, at date NOT NULL, what text) PARTITION BY RANGE (at);
         CREATE TABLE public.ev_2020 PARTITION OF public.ev FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
         CREATE TABLE public.plain (a int CONSTRAINT my_nn NOT NULL, b int NOT NULL,
                                    c int GENERATED ALWAYS AS (a * 2) VIRTUAL,
                                    d int GENERATED ALWAYS AS (a * 3) STORED);
         CREATE FOREIGN DATA WRAPPER lesson_fdw;
         CREATE SERVER lesson_srv FOREIGN DATA WRAPPER lesson_fdw;
         CREATE FOREIGN TABLE public.ev_2019 PARTITION OF public.ev
             FOR VALUES FROM ('2019-01-01') TO ('2020-01-01') SERVER lesson_srv;
         CREATE TABLE public.nv (a int, b int);
         INSERT INTO public.nv VALUES (NULL, 1), (2, 2);
         ALTER TABLE public.nv ADD CONSTRAINT nv_a_nn NOT NULL a NOT VALID;
         CREATE TABLE public.nni (a int NOT NULL NO INHERIT, b int);
         CREATE EXTENSION btree_gist;
         CREATE TABLE public.rooms (id int, valid_at daterange, name text,
                                    PRIMARY KEY (id, valid_at WITHOUT OVERLAPS));
         CREATE TABLE public.bookings (id int PRIMARY KEY, room_id int, valid_at daterange,
             FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES public.rooms (id, PERIOD valid_at));
         INSERT INTO public.rooms VALUES (1, '[2020-01-01,2021-01-01)', 'a');
         INSERT INTO public.bookings VALUES (1, 1, '[2020-02-01,2020-03-01)');
         CREATE TABLE public.ne (a int CHECK (a > 0) NOT ENFORCED, b int);
         CREATE TABLE public.ne_ref (id int PRIMARY KEY);
         CREATE TABLE public.ne_fk (r int REFERENCES public.ne_ref NOT ENFORCED);
         INSERT INTO public.ne VALUES (-1, 20);
         INSERT INTO public.ne_fk VALUES (5);
         CREATE TABLE public.idp (id int GENERATED ALWAYS AS IDENTITY, p int) PARTITION BY RANGE (p);
         CREATE TABLE public.idp1 PARTITION OF public.idp FOR VALUES FROM (0) TO (10);
         INSERT INTO public.idp (p) VALUES (1), (2);
         INSERT INTO public.ev_2020 VALUES (1, '2020-05-05', 'x');
         INSERT INTO public.plain (a, b) VALUES (1, 2), (3, 4);",
    )
    .expect("fixture");
    Migrate::new(src, &sdb, dst, &tdb).ok();
    assert_same_schema(
        &pg_dump_schema(src, &sdb),
        &pg_dump_schema(dst, &tdb),
        "18 -> 18",
    );
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}

/// `pgferry precheck` checks the run `migrate` would make with the same
/// options: a policy naming a role the target lacks is refused by the DDL
/// rehearsal, unless `--create-roles` will create it first, with a member
/// role whose group sorts after it.
#[test]
fn precheck_takes_migrates_options_15_to_17() {
    let (src, dst) = (cluster(15), cluster(17));
    let sdb = fresh_db(src, "lesson_pre");
    let tdb = fresh_db(dst, "lesson_pre_t");
    let id = std::process::id();
    let (member, group) = (
        format!("lesson_a_member_{id}"),
        format!("lesson_z_group_{id}"),
    );
    src.psql(
        &sdb,
        &format!(
            "CREATE ROLE {group} NOLOGIN; CREATE ROLE {member} NOLOGIN IN ROLE {group};
             CREATE TABLE public.docs (id int PRIMARY KEY, owner text);
             ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY;
             CREATE POLICY mine ON public.docs TO {member} USING (owner = current_user);"
        ),
    )
    .expect("fixture");
    let (s, t) = (src.uri(&sdb), dst.uri(&tdb));
    let precheck = |extra: &[&str]| {
        let mut args = vec!["precheck", "--source", &s, "--target", &t, "--json"];
        args.extend_from_slice(extra);
        let out = crate::support::pgferry(&args);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), doc)
    };
    let (code, doc) = precheck(&[]);
    assert_eq!(code, Some(1), "{doc}");
    assert!(doc.to_string().contains("target.ddl"), "{doc}");
    let (code, doc) = precheck(&["--create-roles", "--keep-owners"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["rejected"], serde_json::json!([]), "{doc}");
    let report = Migrate::new(src, &sdb, dst, &tdb)
        .args(&["--create-roles", "--keep-owners"])
        .report();
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    assert_verified_equal(&s, &t);
}

/// 18 -> 15, a downgrade: what 17 and 18 added that 15 does not have is
/// carried by rule and reported (the `MAINTAIN` privilege, NOT NULL
/// constraint names, an 18 storage option). Before, 15 refused the whole
/// `CREATE TABLE` naming the option and every `GRANT` naming MAINTAIN (on
/// 17+ an owner's explicit ACL holds it), and a refused grant counted as a
/// refused table: both tables, the partition and every index were left out,
/// no row copied. A grant to a predefined role 15 lacks (`pg_maintain`) is
/// the only thing left out, as a grant. A view's `XMLSERIALIZE`, which 16+
/// reads back with `NO INDENT`, is created in 15's spelling.
#[test]
fn newer_features_and_refused_grants_downgrade_18_to_15() {
    let (src, dst) = (cluster(18), cluster(15));
    let sdb = fresh_db(src, "lesson_down");
    let tdb = fresh_db(dst, "lesson_down_t");
    let role = format!("lesson_down_{}", std::process::id());
    src.psql(
        &sdb,
        &format!(
            "CREATE ROLE {role} NOLOGIN;
             CREATE TABLE public.acct (id int PRIMARY KEY, v text)
                 WITH (autovacuum_vacuum_max_threshold = 5000, fillfactor = 90);
             CREATE INDEX acct_v ON public.acct (v);
             GRANT SELECT, MAINTAIN ON public.acct TO {role};
             CREATE TABLE public.p (a int CONSTRAINT p_a_nn NOT NULL, b text) PARTITION BY RANGE (a);
             CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (100);
             CREATE INDEX p_b ON public.p (b);
             GRANT SELECT ON public.p TO pg_maintain;
             CREATE VIEW public.xv AS SELECT XMLSERIALIZE(CONTENT '<a/>'::xml AS text) AS x;
             INSERT INTO public.acct SELECT g, g::text FROM generate_series(1, 50) g;
             INSERT INTO public.p VALUES (1, 'x'), (2, 'y');"
        ),
    )
    .expect("fixture");
    let report = Migrate::new(src, &sdb, dst, &tdb)
        .args(&[
            "--create-roles",
            "--keep-owners",
            "--ignore-check",
            "target.ddl",
        ])
        .report();
    let codes: Vec<&str> = report["rewritten"]
        .as_array()
        .expect("rewritten")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    for code in [
        "source.incompatible.maintain",
        "source.incompatible.storage_option",
        "source.incompatible.not_null_name",
        "source.incompatible.xmlserialize",
    ] {
        assert!(codes.contains(&code), "{code} not reported: {report}");
    }
    // Only the refused grant is skipped, as a grant.
    let skipped = kind_objects(&report["skipped"]);
    assert!(
        skipped.iter().all(|s| s.starts_with("grant ")) && !skipped.is_empty(),
        "{skipped:?}"
    );
    let q =
        "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) \
             FROM pg_index WHERE indrelid IN ('public.acct'::regclass, 'public.p1'::regclass)";
    assert_eq!(
        dst.psql(&tdb, q).unwrap().trim(),
        "acct_pkey,acct_v,p1_b_idx",
        "indexes of the tables whose grant was refused"
    );
    let q = format!(
        "SELECT (SELECT reloptions::text FROM pg_class WHERE oid = 'public.acct'::regclass) || ' ' || \
         has_table_privilege('{role}', 'public.acct', 'SELECT')"
    );
    assert_eq!(dst.psql(&tdb, &q).unwrap().trim(), "{fillfactor=90} true");
    assert_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
}
