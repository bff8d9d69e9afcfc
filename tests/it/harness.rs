//! Tests of the test harness itself (src/localpg + tests/support) against
//! real servers: if these fail, every other integration test is suspect.

use pgferry::localpg::{ClusterOptions, LocalCluster};
use std::process::Command;

fn check_version(major: u32) {
    let c = crate::support::cluster(major);
    assert_eq!(c.major(), major);
    let v = c.psql("postgres", "SHOW server_version_num").unwrap();
    let num: u32 = v.trim().parse().unwrap();
    assert_eq!(num / 10000, major, "server_version_num {num}");
    let v = c.psql("postgres", "SELECT version()").unwrap();
    assert!(v.starts_with(&format!("PostgreSQL {major}.")), "{v}");
    let a = crate::support::fresh_db(c, "h");
    let b = crate::support::fresh_db(c, "h");
    assert_ne!(a, b);
    let dbs = c
        .psql("postgres", "SELECT datname FROM pg_database ORDER BY 1")
        .unwrap();
    assert!(
        dbs.lines().any(|l| l == a) && dbs.lines().any(|l| l == b),
        "{dbs}"
    );
    // A schema dump with the newest pg_dump works against this server.
    c.psql(&a, "CREATE TABLE t (id int PRIMARY KEY, \"Ünïcode\" text);")
        .unwrap();
    let dump = crate::support::pg_dump_schema(c, &a);
    assert!(dump.contains("CREATE TABLE public.t"), "{dump}");
}

#[test]
fn pg10_starts() {
    check_version(10);
}

#[test]
fn pg15_starts() {
    check_version(15);
}

#[test]
fn pg17_starts() {
    check_version(17);
}

/// TCP with password auth through the URI.
#[test]
fn uri_with_password_works() {
    let c = crate::support::cluster(15);
    let psql = pgferry::localpg::find_client_tool("psql", Some(15)).unwrap();
    let out = Command::new(psql)
        .args(["-X", "-At", "-c", "SELECT current_user"])
        .arg(c.uri("postgres"))
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "postgres");
    // And a wrong password is refused (md5 really is on).
    let bad = c.uri("postgres").replace(c.password(), "wrong");
    let out = Command::new(pgferry::localpg::find_client_tool("psql", None).unwrap())
        .args(["-X", "-At", "-w", "-c", "SELECT 1"])
        .arg(bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn tls_cluster_verifies_full() {
    let c = crate::support::tls_cluster();
    let ca = c.ca_cert_path().expect("tls cluster has a CA");
    let conninfo = format!(
        "sslmode=verify-full sslrootcert={} host=localhost port={} user=postgres dbname=postgres",
        ca.display(),
        c.port()
    );
    let psql = pgferry::localpg::find_client_tool("psql", Some(15)).unwrap();
    let out = Command::new(psql)
        .args([
            "-X",
            "-At",
            "-c",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ])
        .arg(&conninfo)
        .env("PGPASSWORD", c.password())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "t");
}

#[test]
fn psql_errors_carry_stderr() {
    let c = crate::support::cluster(15);
    let err = c.psql("postgres", "SELECT nope_no_such_fn();").unwrap_err();
    assert!(format!("{err:#}").contains("nope_no_such_fn"), "{err:#}");
}

/// An explicitly stopped cluster is gone, and stop is idempotent.
#[test]
fn stop_removes_everything() {
    let mut c = LocalCluster::start(&ClusterOptions {
        major: 15,
        extra_conf: vec![("work_mem".into(), "'8MB'".into())],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.psql("postgres", "SHOW work_mem").unwrap().trim(), "8MB");
    let data = c.data_dir().to_path_buf();
    c.stop().unwrap();
    c.stop().unwrap();
    assert!(!data.exists());
}

/// keep() leaves the server up and its stop command works.
#[test]
fn keep_then_stop_command() {
    let c = LocalCluster::start(&ClusterOptions {
        major: 15,
        ..Default::default()
    })
    .unwrap();
    let kept = c.keep();
    assert!(kept.data_dir.join("postmaster.pid").exists());
    let st = Command::new("sh")
        .args(["-c", &kept.stop_command])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(!kept.dir.exists());
}

/// Opt-in: proves that a panicking or killed test leaves no server behind
/// (the watchdog stops it once the process exits). Run with
/// `PGFERRY_TEST_PANIC=1 cargo test --test harness panics_` (or
/// `PGFERRY_TEST_PANIC=hang` and `kill -9` the test binary), then
/// `pgrep -a postgres` after a few seconds.
#[test]
fn panics_with_cluster_running() {
    let Some(mode) = std::env::var_os("PGFERRY_TEST_PANIC") else {
        return;
    };
    let _c = crate::support::cluster(10);
    if mode == "hang" {
        std::thread::sleep(std::time::Duration::from_secs(300));
    }
    panic!("deliberate panic with a shared cluster running");
}
