//! Legacy databases across versions (issue 13): a fixture with what old
//! servers have and new ones refuse (postfix operators, aggregates over the
//! array functions changed in 14, WITH OIDS, abstime/reltime/tinterval,
//! generated columns in inheritance children, objects no rule can carry),
//! migrated from 10 and 15 to 15, 17 and 18.
//!
//! Each case checks, on real servers:
//! - the precheck's DDL rehearsal (`target.ddl`) names every object the
//!   target rejects, with its dependents, in one run, and writes nothing
//!   (`pg_dump` of the target is the same before and after);
//! - with `--ignore-check target.ddl` and `--map-removed-types`, `migrate`
//!   exits 0, and every object whose `pg_dump --schema-only` differs between
//!   the two ends is one the report lists as skipped or rewritten;
//! - `pg_dump | pg_restore` of the same source into the same target server
//!   leaves at least as many objects behind (printed for the note);
//! - every table and large object is equal (`pgferry verify`), and every
//!   sequence value.
//!
//! pg_dump must be at least the target's major: with no pg_dump 18 installed,
//! the 18 cases check everything but the dump comparison, and say so.

use crate::support::blocks::{blocks, names, unexplained, unqualify_columns};
use crate::support::output_text as text;
use crate::support::pg_dump_major;
use crate::support::{
    assert_rows_verified_equal, cluster, fresh_db, kind_objects, pg_dump_schema, pgferry,
};
use pgferry::localpg::{find_client_tool, LocalCluster};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

const BASE: &str = include_str!("../fixtures/legacy.sql");
const PG10: &str = include_str!("../fixtures/legacy_pg10.sql");
const PG12: &str = include_str!("../fixtures/legacy_pg12.sql");

/// What a 14+ target refuses in legacy_pg10.sql, and what goes with them.
const REJECTED: &[&str] = &[
    "domain app.span",
    "function app.old_now()",
    "aggregate app.first_el_agg_any(anycompatible)",
    "view app.factorials",
];
const DEPENDENTS: &[&str] = &[
    "table app.spans",
    "view app.factorials_plus",
    "view app.first_person",
    "index spans_pkey on app.spans",
    "index spans_s on app.spans",
];

fn load(c: &LocalCluster, db: &str) {
    c.psql(db, BASE).expect("legacy.sql");
    let extra = if c.major() < 12 { PG10 } else { PG12 };
    c.psql(db, extra).expect("versioned legacy fixture");
}

fn run(src: &LocalCluster, sdb: &str, dst: &LocalCluster, tdb: &str, extra: &[&str]) -> Output {
    let state = tempfile::tempdir().expect("tempdir");
    let (s, t) = (src.uri(sdb), dst.uri(tdb));
    let dir = state.path().display().to_string();
    let mut args = vec!["migrate", "--source", &s, "--target", &t, "--json"];
    args.extend(["--state-dir", &dir]);
    args.extend(extra);
    pgferry(&args)
}

/// `pg_dump -Fc | pg_restore` of the source into a fresh database of the
/// target server; returns that database's name.
fn pg_restore_reference(src: &LocalCluster, sdb: &str, dst: &LocalCluster) -> String {
    let rdb = fresh_db(dst, "legacy_restore");
    let dir = tempfile::tempdir().expect("tempdir");
    let file: PathBuf = dir.path().join("src.dump");
    let pd = find_client_tool("pg_dump", None).expect("pg_dump");
    let out = Command::new(pd)
        .args(["-Fc", "--no-owner", "--no-privileges", "-f"])
        .arg(&file)
        .arg(src.socket_conninfo(sdb))
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "pg_dump -Fc: {}", text(&out));
    let pr = find_client_tool("pg_restore", None).expect("pg_restore");
    // Errors are expected (that is the point); pg_restore goes on after each.
    let out = Command::new(pr)
        .args(["--no-owner", "--no-privileges", "-d"])
        .arg(dst.socket_conninfo(&rdb))
        .arg(&file)
        .output()
        .expect("pg_restore");
    eprintln!(
        "pg_restore {} -> {}: {}",
        src.major(),
        dst.major(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("errors ignored"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    rdb
}

fn sequences(c: &LocalCluster, db: &str) -> String {
    c.psql(
        db,
        "SELECT string_agg(format('%s=%s', s, pg_catalog.pg_sequence_last_value(s::regclass)), ',' ORDER BY s) \
         FROM (SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) AS s FROM pg_sequences) q",
    )
    .expect("sequence values")
}

fn case(source_major: u32, target_major: u32) {
    let (src, dst) = (cluster(source_major), cluster(target_major));
    let sdb = fresh_db(src, "legacy");
    load(src, &sdb);
    let tdb = fresh_db(dst, "legacy_t");
    dst.psql(&tdb, "CREATE TABLE public.already_here (x int);")
        .expect("target object");
    let dumps = pg_dump_major() >= target_major;
    let before = dumps.then(|| pg_dump_schema(dst, &tdb));
    let pair = format!("{source_major} -> {target_major}");
    let old_source = source_major < 12;

    if old_source {
        // abstime columns: their own code, a failure without the option.
        let o = run(src, &sdb, dst, &tdb, &[]);
        assert_eq!(o.status.code(), Some(1), "{pair}: {}", text(&o));
        assert!(
            text(&o).contains("source.incompatible.removed_type"),
            "{pair}"
        );
        // The rehearsal: every rejected object and its dependents, in one run.
        let o = run(src, &sdb, dst, &tdb, &["--map-removed-types"]);
        assert_eq!(o.status.code(), Some(1), "{pair}: {}", text(&o));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{pair}: {e}: {}", text(&o)));
        assert!(doc["rejected"].is_array(), "{pair}: {doc}");
        let rejected: BTreeSet<String> = kind_objects(&doc["rejected"]).into_iter().collect();
        let want: BTreeSet<String> = REJECTED.iter().map(|s| s.to_string()).collect();
        assert_eq!(rejected, want, "{pair}: rejected statements");
        let ddl = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "target.ddl")
            .expect("target.ddl finding");
        assert_eq!(ddl["severity"], "failure", "{pair}");
        let msg = ddl["message"].as_str().unwrap();
        for d in DEPENDENTS {
            assert!(msg.contains(d), "{pair}: dependent {d} not named in: {msg}");
        }
        if let Some(before) = &before {
            assert_eq!(
                crate::support::compare::normalize_dump(before),
                crate::support::compare::normalize_dump(&pg_dump_schema(dst, &tdb)),
                "{pair}: the rehearsal changed the target's catalog"
            );
        }
    }

    let mut flags = vec!["--map-removed-types"];
    if old_source {
        flags.extend(["--ignore-check", "target.ddl"]);
    }
    let o = run(src, &sdb, dst, &tdb, &flags);
    assert_eq!(o.status.code(), Some(0), "{pair}: {}", text(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{pair}: {e}: {}", text(&o)));
    let listed = |field: &str| -> BTreeSet<String> {
        assert!(report[field].is_array(), "{field} in the report");
        kind_objects(&report[field]).into_iter().collect()
    };
    let (skipped, rewritten) = (listed("skipped"), listed("rewritten"));
    // The structure check migrate ends with: only the target's own table.
    let structure: Vec<String> = report["schema_differences"]
        .as_array()
        .expect("schema_differences")
        .iter()
        .map(|d| format!("{} {} {}", d["difference"], d["kind"], d["object"]))
        .collect();
    assert_eq!(
        structure,
        vec!["\"only on target\" \"table\" \"public.already_here\"".to_string()],
        "{pair}"
    );
    assert_eq!(report["large_objects"], 2, "{pair}: large objects copied");
    let mapping = "user mapping FOR PUBLIC SERVER legacy_srv";
    assert!(
        rewritten.contains(mapping),
        "{pair}: {mapping} not in {rewritten:?}"
    );
    if old_source {
        for s in REJECTED.iter().chain(DEPENDENTS) {
            assert!(
                skipped.contains(*s),
                "{pair}: {s} not in skipped {skipped:?}"
            );
        }
        for s in ["operator app.## (integer, NONE)", "view app.doubled"] {
            assert!(
                skipped.contains(s),
                "{pair}: {s} not in skipped {skipped:?}"
            );
        }
        for r in [
            "aggregate app.array_cat_accum(anyarray)",
            "aggregate app.array_append_accum(anyelement)",
            "operator app.\"@+\"(anyarray, anyelement)",
            "table app.legacy_oids",
            "column app.old_times.stamp",
            "column app.old_times.span",
            "column app.old_times.window_",
            "column app.old_times.stamps",
        ] {
            assert!(
                rewritten.contains(r),
                "{pair}: {r} not in rewritten {rewritten:?}"
            );
        }
    } else {
        assert!(skipped.is_empty(), "{pair}: skipped {skipped:?}");
        // 12..15 targets refuse the child's spelled expression: inherited instead.
        let gen = rewritten.contains("column app.gen_child.b");
        assert_eq!(gen, target_major < 16, "{pair}: rewritten {rewritten:?}");
    }

    // verify --schema: only what the report skipped is missing, nothing else.
    let (su, tu) = (src.uri(&sdb), dst.uri(&tdb));
    let o = pgferry(&[
        "verify", "--schema", "--source", &su, "--target", &tu, "--json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{pair}: verify --schema: {e}: {}", text(&o)));
    let skipped_objects: BTreeSet<&str> = skipped
        .iter()
        .filter_map(|s| {
            report["skipped"].as_array()?.iter().find_map(|x| {
                let k = format!("{} {}", x["kind"].as_str()?, x["object"].as_str()?);
                (k == *s).then(|| x["object"].as_str()).flatten()
            })
        })
        .collect();
    let mut unexplained_schema = Vec::new();
    for d in doc["schema"]["differences"]
        .as_array()
        .unwrap_or_else(|| panic!("{pair}: no schema differences in {doc}"))
    {
        let object = d["object"].as_str().unwrap_or("");
        let ours = d["difference"] == "missing on target" && skipped_objects.contains(object);
        let theirs = d["difference"] == "only on target" && object == "public.already_here";
        if !(ours || theirs) {
            unexplained_schema.push(d.to_string());
        }
    }
    assert!(
        unexplained_schema.is_empty(),
        "{pair}: verify --schema differences not explained by the report:\n{}",
        unexplained_schema.join("\n")
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{pair}: already_here is extra: {}",
        text(&o)
    );

    if dumps {
        let source_dump = pg_dump_schema(src, &sdb);
        let rdb = pg_restore_reference(src, &sdb, dst);
        let restored = blocks(&pg_dump_schema(dst, &rdb));
        let source = blocks(&source_dump);
        // Version wording: what pg_restore made on the target's server is
        // the expected text of each object it could make.
        let mut expected = source.clone();
        for (k, v) in &restored {
            if source.contains_key(k) {
                expected.insert(k.clone(), v.clone());
            }
        }
        if source_major < 16 && target_major >= 16 {
            for (k, v) in expected.iter_mut() {
                if k.0.contains("VIEW") && !restored.contains_key(k) {
                    *v = unqualify_columns(v, &["app", "public", "pg_catalog"]);
                }
            }
        }
        let mut explained: BTreeSet<String> = BTreeSet::new();
        for o in skipped.iter().chain(&rewritten) {
            let object = o.split_once(' ').map_or(o.as_str(), |x| x.1);
            explained.extend(names(object));
        }
        explained.insert("already_here".into());
        let ours = unexplained(&expected, &blocks(&pg_dump_schema(dst, &tdb)), &explained);
        let theirs: Vec<_> = source
            .keys()
            .filter(|k| !restored.contains_key(*k))
            .collect();
        eprintln!(
            "{pair}: objects differing from the source and not explained by the report: \
             pgferry {}, pg_dump | pg_restore {} ({theirs:?})",
            ours.len(),
            theirs.len()
        );
        assert!(
            ours.is_empty(),
            "{pair}: unexplained differences:\n{}",
            ours.join("\n")
        );
        assert!(theirs.len() >= ours.len());
    } else {
        eprintln!("{pair}: no pg_dump {target_major} installed: dump comparison not run");
    }
    if old_source {
        // Every table but the one skipped with the domain it uses.
        let (s, t) = (src.uri(&sdb), dst.uri(&tdb));
        let out = pgferry(&[
            "verify",
            "--source",
            &s,
            "--target",
            &t,
            "--exclude",
            "app.spans",
        ]);
        assert_eq!(out.status.code(), Some(0), "{pair}: verify: {}", text(&out));
    } else {
        // The target holds a table of its own (already_here): rows only here;
        // verify --schema is checked above with that difference explained.
        assert_rows_verified_equal(&src.uri(&sdb), &dst.uri(&tdb));
    }
    assert_eq!(
        sequences(src, &sdb),
        sequences(dst, &tdb),
        "{pair}: sequence values"
    );
    // verify --schema sees a change made on the target afterwards.
    dst.psql(&tdb, "DROP INDEX app.visits_person;")
        .expect("drop an index");
    let o = pgferry(&["verify", "--schema", "--source", &su, "--target", &tu]);
    assert_eq!(o.status.code(), Some(1), "{pair}: {}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("index visits_person on app.visits: missing on target"),
        "{pair}: {out}"
    );
}

#[test]
fn legacy_10_to_15() {
    case(10, 15);
}

#[test]
fn legacy_10_to_17() {
    case(10, 17);
}

#[test]
fn legacy_10_to_18() {
    case(10, 18);
}

#[test]
fn legacy_15_to_15() {
    case(15, 15);
}

#[test]
fn legacy_15_to_17() {
    case(15, 17);
}

#[test]
fn legacy_15_to_18() {
    case(15, 18);
}

/// `ALTER DEFAULT PRIVILEGES` (a role's global defaults and a schema's added
/// grants) are replayed with `--keep-owners`, 10 -> 17: `pg_default_acl` is
/// the same on both ends.
#[test]
fn default_privileges_kept_10_to_17() {
    let (src, dst) = (cluster(10), cluster(17));
    let roles = "DO $$ BEGIN CREATE ROLE legacy_dp_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                 DO $$ BEGIN CREATE ROLE legacy_dp_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;";
    let sdb = fresh_db(src, "legacy_dp");
    let tdb = fresh_db(dst, "legacy_dp_t");
    src.psql(&sdb, roles).expect("roles on the source");
    dst.psql(&tdb, roles).expect("roles on the target");
    src.psql(
        &sdb,
        "CREATE TABLE public.t (id int PRIMARY KEY);
         ALTER DEFAULT PRIVILEGES FOR ROLE legacy_dp_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
         ALTER DEFAULT PRIVILEGES FOR ROLE legacy_dp_owner GRANT USAGE ON TYPES TO legacy_dp_reader;
         ALTER DEFAULT PRIVILEGES FOR ROLE legacy_dp_owner IN SCHEMA public
             GRANT SELECT, UPDATE ON TABLES TO legacy_dp_reader WITH GRANT OPTION;
         ALTER DEFAULT PRIVILEGES FOR ROLE legacy_dp_owner IN SCHEMA public
             GRANT USAGE ON SEQUENCES TO PUBLIC;",
    )
    .expect("default privileges");
    let o = run(src, &sdb, dst, &tdb, &["--keep-owners"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let q = "SELECT string_agg(x, E'\\n' ORDER BY x COLLATE \"C\") FROM (\
             SELECT format('%s|%s|%s|%s', pg_get_userbyid(d.defaclrole), \
             coalesce(n.nspname, '-'), d.defaclobjtype, d.defaclacl) AS x \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace) q";
    let (a, b) = (src.psql(&sdb, q).unwrap(), dst.psql(&tdb, q).unwrap());
    assert!(a.contains("legacy_dp_reader"), "{a}");
    assert_eq!(a, b, "pg_default_acl differs");
}

/// `--create-roles` with `--keep-owners`, 10 -> 17: the roles the objects
/// name are created on the target with the source's attributes and
/// memberships (no password), so owners and grants are kept.
#[test]
fn create_roles_for_keep_owners_10_to_17() {
    let (src, dst) = (cluster(10), cluster(17));
    let id = std::process::id();
    let (owner, reader, group, lo_reader) = (
        format!("legacy_cr_owner_{id}"),
        format!("legacy_cr_reader_{id}"),
        format!("legacy_cr_z_group_{id}"),
        format!("legacy_cr_lo_reader_{id}"),
    );
    let sdb = fresh_db(src, "legacy_cr");
    let tdb = fresh_db(dst, "legacy_cr_t");
    src.psql(
        &sdb,
        &format!(
            "CREATE ROLE {owner} LOGIN CONNECTION LIMIT 3 VALID UNTIL '2031-01-01 00:00:00+00';
             CREATE ROLE {group} NOLOGIN;
             CREATE ROLE {reader} NOLOGIN NOINHERIT IN ROLE {group};
             CREATE ROLE {lo_reader} NOLOGIN;
             CREATE TABLE public.owned (id int PRIMARY KEY);
             ALTER TABLE public.owned OWNER TO {owner};
             GRANT SELECT ON public.owned TO {reader};
             GRANT INSERT ON public.owned TO {group};
             SELECT pg_catalog.lo_from_bytea(777001, 'x');
             ALTER LARGE OBJECT 777001 OWNER TO {owner};
             GRANT SELECT ON LARGE OBJECT 777001 TO {reader}, {lo_reader};"
        ),
    )
    .expect("roles and objects");
    let o = run(src, &sdb, dst, &tdb, &["--keep-owners", "--create-roles"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report");
    let created: Vec<&str> = report["rewritten"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "target.created_role")
        .map(|r| r["object"].as_str().unwrap())
        .collect();
    // The fourth is named only by a large object's ACL.
    assert_eq!(created.len(), 4, "{created:?}");
    let roles = format!(
        "SELECT string_agg(format('%s %s %s %s %s %s', r.rolname, r.rolcanlogin, r.rolinherit, \
         r.rolconnlimit, r.rolvaliduntil, ARRAY(SELECT g.rolname FROM pg_auth_members m \
         JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)), ', ' ORDER BY r.rolname) \
         FROM pg_roles r WHERE r.rolname IN ('{owner}', '{reader}', '{group}')"
    );
    let set_tz = "SET TimeZone = 'UTC';";
    assert_eq!(
        src.psql(&sdb, &format!("{set_tz}{roles}")).unwrap(),
        dst.psql(&tdb, &format!("{set_tz}{roles}")).unwrap(),
        "roles differ"
    );
    let acl = "SELECT relowner::regrole::text || ' ' || relacl::text FROM pg_class \
               WHERE oid = 'public.owned'::regclass";
    assert_eq!(src.psql(&sdb, acl).unwrap(), dst.psql(&tdb, acl).unwrap());
    let lo = "SELECT lomowner::regrole::text || ' ' || lomacl::text \
              FROM pg_largeobject_metadata WHERE oid = 777001";
    assert_eq!(src.psql(&sdb, lo).unwrap(), dst.psql(&tdb, lo).unwrap());
}

/// A function used by an index names another without its schema: it works
/// on the source (whose sessions have `public` in their search_path) but not
/// where the migration, like pg_restore, builds the index with an empty one.
/// The rehearsal cannot see it (no rows); the precheck names it
/// (`source.function.search_path`), and not the function that sets its own.
#[test]
fn unqualified_names_in_index_functions_are_named_15_to_17() {
    let (src, dst) = (cluster(15), cluster(17));
    let sdb = fresh_db(src, "legacy_sp");
    let tdb = fresh_db(dst, "legacy_sp_t");
    src.psql(
        &sdb,
        "CREATE FUNCTION public.clean(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(t)';
         CREATE FUNCTION public.norm(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE
             AS 'BEGIN RETURN clean(t); END';
         CREATE FUNCTION public.safe(t text) RETURNS text LANGUAGE sql IMMUTABLE
             SET search_path = public, pg_catalog AS 'SELECT clean(t)';
         CREATE TABLE public.words (id int PRIMARY KEY, w text);
         INSERT INTO public.words VALUES (1, 'A'), (2, 'b');
         CREATE INDEX words_norm ON public.words (public.norm(w));
         CREATE INDEX words_safe ON public.words (public.safe(w));",
    )
    .expect("fixture");
    let (s, t) = (src.uri(&sdb), dst.uri(&tdb));
    let o = pgferry(&["precheck", "--source", &s, "--target", &t, "--json"]);
    assert_eq!(o.status.code(), Some(0), "warnings only: {}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "source.function.search_path")
        .expect("finding");
    assert_eq!(f["severity"], "warning", "{f}");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("public.norm(t text) names clean"), "{msg}");
    assert!(!msg.contains("public.safe"), "{msg}");
    // What it warns about: the migration fails when the index is built.
    let o = run(src, &sdb, dst, &tdb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("clean"), "{}", text(&o));
}
