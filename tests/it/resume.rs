//! Safe to interrupt: a run killed (SIGKILL, like `kill -9`) at several points,
//! sessions terminated by the server, a target restarted mid-run; each followed
//! by `--resume` where needed and a checksum verify that finds the databases
//! equal: no missing and no duplicate row.

use crate::support::{
    assert_verified_equal, cluster, fresh_db, pgferry, Migrate, Scenario, HUGE_TABLE,
    RESUME_FIXTURE,
};
use pgferry::localpg::LocalCluster;
use std::time::{Duration, Instant};

/// The run of these tests: tables over `split` copied in ranges by `jobs`
/// workers, the JSON report.
fn migrate(s: &Scenario, split: &str, jobs: &str) -> Migrate {
    s.migrate()
        .args(&["--split-tables-larger-than", split, "--jobs", jobs])
        .json()
}

/// Kills pgferry at `fault`, checks it really died there, then resumes and verifies.
fn kill_then_resume(source_major: u32, fault: &str) {
    let s = Scenario::new(source_major, 15, "resume").load(RESUME_FIXTURE);
    let (src, dst, sdb, tdb) = (s.src(), s.dst(), &s.sdb, &s.tdb);
    let (su, du, st) = (&s.su, &s.du, s.st());
    let m = migrate(&s, "1MB", "2");

    let killed = m.clone().fault(fault).run();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&killed.status),
        Some(9),
        "the fault point {fault} was not reached: {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    // A plain rerun refuses: the task is unfinished.
    let again = m.run();
    assert_eq!(
        again.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    // status tells what is left.
    let status = pgferry(&["status", "--state-dir", st, "--json"]);
    assert!(status.status.success());

    let out = m.resume().run();
    assert!(
        out.status.success(),
        "resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["resumed"], true);
    assert_verified_equal(su, du);
    // Both reports land in the state directory.
    let v = pgferry(&["verify", "--source", su, "--target", du, "--state-dir", st]);
    assert_eq!(v.status.code(), Some(0));
    for f in ["report.json", "verify-report.json"] {
        assert!(
            s.state().join(f).exists(),
            "{f} missing from the state directory"
        );
    }
    // The sequence continues where the source's does.
    let q = "SELECT nextval('public.counter');";
    assert_eq!(src.psql(sdb, q).unwrap(), dst.psql(tdb, q).unwrap());
    // Indexes and constraints all exist and are valid.
    let q = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
             WHERE c.relnamespace = 'public'::regnamespace AND i.indisvalid;";
    assert_eq!(src.psql(sdb, q).unwrap(), dst.psql(tdb, q).unwrap());
}

#[test]
#[ignore = "slow"]
fn killed_after_some_units_then_resumed_pg10() {
    kill_then_resume(10, "unit-done:3");
}

#[test]
#[ignore = "slow"]
fn killed_mid_range_of_a_split_table_then_resumed() {
    kill_then_resume(15, "mid-unit:5");
}

#[test]
#[ignore = "slow"]
fn killed_during_post_data_then_resumed() {
    kill_then_resume(15, "step-done:3");
}

/// Finds pgferry's COPY session of the big table (which lasts long enough not
/// to finish under our feet) on a server and terminates it.
fn terminate_copy_session(c: &LocalCluster, db: &str, deadline: Instant) -> bool {
    let q = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name LIKE 'pgferry copy worker%' AND query LIKE 'COPY%public.huge%' \
             AND state = 'active' LIMIT 1;";
    while Instant::now() < deadline {
        if c.psql(db, q).map(|o| o.contains('t')).unwrap_or(false) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The server ends pgferry's source and target sessions mid-COPY: the unit is
/// retried on new sessions and the run ends well, without --resume.
#[test]
#[ignore = "slow"]
fn sessions_terminated_mid_copy_are_retried() {
    let s = Scenario::new(15, 15, "term")
        .load(RESUME_FIXTURE)
        .load(HUGE_TABLE);
    // No splitting: one long COPY per table.
    let child = migrate(&s, "0", "2").spawn();
    let deadline = Instant::now() + Duration::from_secs(20);
    let hit_source = terminate_copy_session(s.src(), &s.sdb, deadline);
    let hit_target = terminate_copy_session(s.dst(), "postgres", deadline);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(hit_source || hit_target, "no COPY session was caught");
    assert!(out.status.success(), "migrate did not survive: {stderr}");
    assert!(stderr.contains("retrying"), "no retry was logged: {stderr}");
    assert_verified_equal(&s.su, &s.du);
}

/// The target server restarts while rows are being copied.
#[test]
#[ignore = "slow"]
fn target_restarted_mid_run() {
    let s = Scenario::own_target(15, 15, "restart")
        .load(RESUME_FIXTURE)
        .load(HUGE_TABLE);
    let dst = s.dst();
    let m = migrate(&s, "0", "2");
    let child = m.spawn();
    // Wait until a COPY runs on the target, then restart it.
    let q = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND state = 'active' \
             AND application_name LIKE 'pgferry%';";
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && dst
            .psql("postgres", q)
            .map(|o| o.trim() == "0")
            .unwrap_or(true)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    dst.restart().expect("restart target");
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        // Out of retries or not: resuming must finish the job.
        let r = m.resume().run();
        assert!(
            r.status.success(),
            "resume after restart failed: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    assert_verified_equal(&s.su, &s.du);
}

/// A second pgferry on the same state directory is refused while the first runs.
#[test]
fn second_run_on_the_same_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _held = pgferry::state::StateLock::acquire(dir.path()).unwrap();
    let c = cluster(15);
    let db = fresh_db(c, "lock");
    let out = Migrate::new(c, &db, c, &db).state_dir(dir.path()).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another pgferry"));
}

/// A copy that fails for good ends the run with exit 3 at once (the other
/// workers neither hang nor start new work), and `--resume` finishes it.
#[test]
#[ignore = "slow"]
fn permanent_copy_failure_exits_3_then_resumes() {
    let s = Scenario::new(15, 15, "fail").load(RESUME_FIXTURE);
    let m = migrate(&s, "0", "2");
    let started = Instant::now();
    let failed = m.clone().fault("fail-unit:3").run();
    assert_eq!(
        failed.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the failed run hung"
    );
    assert!(String::from_utf8_lossy(&failed.stderr).contains("injected failure"));
    let out = m.resume().run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_verified_equal(&s.su, &s.du);
}

/// Item 25: the ranges of a split table are named `table [range k/n]` in
/// `status` (each once, not as identical lines), and after `--resume` the
/// report counts every range of the table, those of the first run included.
#[test]
fn ranges_are_numbered_in_status_and_all_counted_after_resume() {
    let s = Scenario::new(10, 15, "ranges").load(RESUME_FIXTURE);
    // One worker: units finish in order.
    let m = migrate(&s, "1MB", "1");
    let killed = m.clone().fault("unit-done:3").run();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&killed.status),
        Some(9),
        "{}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let status = pgferry(&["status", "--state-dir", s.st(), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status");
    let left: Vec<&str> = status["tasks"][0]["left"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let ranges: Vec<&&str> = left
        .iter()
        .filter(|l| l.starts_with("public.big [range "))
        .collect();
    assert!(ranges.len() >= 2, "ranges not named: {left:?}");
    let mut distinct = left.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), left.len(), "identical lines: {left:?}");
    let total: u64 = ranges[0]
        .split('/')
        .nth(1)
        .and_then(|s| s.split(']').next())
        .and_then(|n| n.parse().ok())
        .expect("k/n");
    let out = m.resume().run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    let big = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "public.big")
        .expect("public.big in the report");
    assert_eq!(big["ranges"].as_u64(), Some(total), "{big}");
    assert_eq!(big["rows"], 60000);
    assert_verified_equal(&s.su, &s.du);
}

/// Killed during its precheck, a run has written nothing and recorded no
/// task: `--resume` (what a DBA types after any crash) starts it from the
/// beginning instead of refusing, and the result verifies equal.
#[test]
fn killed_during_precheck_then_resumed() {
    let s = Scenario::new(10, 17, "resume_pre").load(RESUME_FIXTURE);
    let m = migrate(&s, "1MB", "2");
    let killed = m.clone().fault("precheck:1").run();
    assert_eq!(killed.status.code(), None, "killed by its fault point");
    let tables = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";
    assert_eq!(
        s.dst().psql(&s.tdb, tables).unwrap().trim(),
        "0",
        "nothing written"
    );
    let out = m.resume().run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to resume"));
    assert_verified_equal(&s.su, &s.du);
}

/// Killed after pre-data committed and before the run recorded it: the
/// resume finds the objects there ("already exists" on the first one it
/// would create) instead of failing on them, and carries on.
#[test]
fn killed_between_pre_data_commit_and_its_record_then_resumed() {
    let s = Scenario::new(15, 17, "resume_prec").load(RESUME_FIXTURE);
    let m = migrate(&s, "1MB", "2");
    let killed = m.clone().fault("pre-data-committed:1").run();
    assert_eq!(killed.status.code(), None, "killed by its fault point");
    let tables = "SELECT count(*) > 0 FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";
    assert_eq!(
        s.dst().psql(&s.tdb, tables).unwrap().trim(),
        "t",
        "pre-data committed"
    );
    m.resume().ok();
    assert_verified_equal(&s.su, &s.du);
}
