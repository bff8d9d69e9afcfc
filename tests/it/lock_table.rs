//! Databases with more relations than one transaction can lock: the server's
//! lock table holds `max_locks_per_transaction x (max_connections +
//! max_prepared_transactions)` locks, shared by every session, and a
//! transaction that creates or reads more relations than fit fails with "out
//! of shared memory" (pg_dump and a single-transaction restore both do). Here
//! both ends have a lock table of a few hundred slots and the database
//! has 400 tables and 400 views: precheck says what it could not rehearse,
//! migrate creates the pre-data in several transactions (a kill between them
//! resumes), the copy sessions renew their snapshot transaction, and verify
//! reads it all.

use crate::support::{assert_verified_equal, fresh_db, pgferry};
use pgferry::localpg::{ClusterOptions, LocalCluster};

fn small_lock_table(major: u32) -> LocalCluster {
    LocalCluster::start(&ClusterOptions {
        major,
        extra_conf: vec![
            ("max_locks_per_transaction".into(), "10".into()),
            ("max_connections".into(), "40".into()),
        ],
        ..ClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("cluster {major}: {e:#}"))
}

const TABLES: &str = "DO $$ BEGIN FOR i IN 1..400 LOOP
    EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text DEFAULT ''x'');
                    INSERT INTO public.t%s SELECT g, g::text FROM generate_series(1, 3) g;
                    CREATE VIEW public.v%s AS SELECT id, v FROM public.t%s;', i, i, i, i);
END LOOP; END $$;";

#[test]
#[ignore = "slow"]
fn more_relations_than_one_transaction_can_lock_15_to_17() {
    let (src, dst) = (small_lock_table(15), small_lock_table(17));
    let sdb = fresh_db(&src, "locks");
    let tdb = fresh_db(&dst, "locks_t");
    // Loaded in several transactions: one could not hold them all either.
    for part in 0..4 {
        let sql = TABLES.replace(
            "1..400",
            &format!("{}..{}", part * 100 + 1, part * 100 + 100),
        );
        src.psql(&sdb, &sql).expect("fixture");
    }
    let (s, t) = (src.uri(&sdb), dst.uri(&tdb));
    let out = pgferry(&["precheck", "--source", &s, "--target", &t, "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("precheck json");
    assert_eq!(out.status.code(), Some(0), "{doc}");
    let ddl = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "target.ddl"))
        .expect("target.ddl");
    assert_eq!(ddl["severity"], "warning", "{ddl}");
    assert!(
        ddl["message"]
            .as_str()
            .unwrap_or("")
            .contains("were rehearsed"),
        "{ddl}"
    );

    // Killed after the first committed part of pre-data, then resumed.
    let state = crate::support::scratch_dir().join(format!("state-{sdb}"));
    let st = state.display().to_string();
    let args = [
        "migrate",
        "--source",
        &s,
        "--target",
        &t,
        "--state-dir",
        &st,
    ];
    let killed = crate::support::pgferry_with_fault("pre-data-part:2", &args);
    assert_eq!(killed.status.code(), None, "killed at its fault point");
    let mut resume = args.to_vec();
    resume.push("--resume");
    let out = pgferry(&resume);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_verified_equal(&s, &t);
}
