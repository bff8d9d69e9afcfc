//! Shared helpers for integration tests against real PostgreSQL servers.
//!
//! Include with `mod support;`. Clusters are shared per major within one test
//! binary (run tests with `cargo test`, not nextest, so that one process runs
//! all tests of a binary and the clusters are started once). Each test should
//! work in its own database from [`fresh_db`].

use pgferry::localpg::{find_client_tool, ClusterOptions, LocalCluster};
use std::collections::HashMap;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Leaked on purpose: statics are never dropped, and the cluster's watchdog
/// stops the server once the test process exits.
fn registry() -> &'static Mutex<HashMap<(u32, bool), &'static LocalCluster>> {
    static REG: OnceLock<Mutex<HashMap<(u32, bool), &'static LocalCluster>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(HashMap::new()))
}

fn shared(major: u32, tls: bool) -> &'static LocalCluster {
    // A panic in another test while holding the lock must not fail us.
    let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = reg.get(&(major, tls)) {
        return c;
    }
    let opts = ClusterOptions {
        major,
        tls,
        ..Default::default()
    };
    let c = LocalCluster::start(&opts)
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL {major} (tls={tls}): {e:#}"));
    let c: &'static LocalCluster = Box::leak(Box::new(c));
    reg.insert((major, tls), c);
    c
}

/// The shared cluster of a major for this test binary, started on first use.
pub fn cluster(major: u32) -> &'static LocalCluster {
    shared(major, false)
}

/// A shared PostgreSQL 15 cluster with TLS on (see `LocalCluster::ca_cert_path`).
pub fn tls_cluster() -> &'static LocalCluster {
    shared(15, true)
}

/// Creates a uniquely named database (`<prefix>_<counter>_<pid>`) and returns its name.
pub fn fresh_db(c: &LocalCluster, prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        N.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    );
    c.create_database(&name)
        .unwrap_or_else(|e| panic!("create database {name}: {e:#}"));
    name
}

/// `pg_dump --schema-only --no-owner --no-privileges` over the socket, with
/// the newest installed pg_dump, so source and target dumps come from the
/// same binary and can be compared.
pub fn pg_dump_schema(c: &LocalCluster, db: &str) -> String {
    let pg_dump = find_client_tool("pg_dump", None).unwrap_or_else(|e| panic!("{e:#}"));
    let mut cmd = Command::new(&pg_dump);
    clear_pg_env(&mut cmd);
    let out = cmd
        .args(["--schema-only", "--no-owner", "--no-privileges", "-d"])
        .arg(c.socket_conninfo(db))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", pg_dump.display()));
    assert!(
        out.status.success(),
        "{} of PostgreSQL {} db {db} failed: {}",
        pg_dump.display(),
        c.major(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pg_dump --schema-only` keeping owners and privileges (`ALTER ... OWNER TO`,
/// GRANT/REVOKE), for comparing `migrate --keep-owners` runs.
pub fn pg_dump_schema_full(c: &LocalCluster, db: &str) -> String {
    let pg_dump = find_client_tool("pg_dump", None).unwrap_or_else(|e| panic!("{e:#}"));
    let mut cmd = Command::new(&pg_dump);
    clear_pg_env(&mut cmd);
    let out = cmd
        .args(["--schema-only", "-d"])
        .arg(c.socket_conninfo(db))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", pg_dump.display()));
    assert!(
        out.status.success(),
        "{} of PostgreSQL {} db {db} failed: {}",
        pg_dump.display(),
        c.major(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn clear_pg_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            cmd.env_remove(&k);
        }
    }
}

/// The pgferry binary with PGFERRY_SOURCE/TARGET, all PG* variables and
/// RUST_LOG cleared, so the caller's environment cannot leak into a test:
/// for tests that set variables of their own or run it in the background.
pub fn pgferry_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgferry"));
    clear_pg_env(&mut cmd);
    // The default state directory (.pgferry/ under the current directory)
    // goes to this run's scratch directory, not into the repository.
    cmd.current_dir(scratch_dir());
    // Log settings of the caller must not change what the tests read.
    cmd.env_remove("RUST_LOG");
    cmd.args(args);
    cmd
}

/// This test run's scratch directory, under cargo's `target/tmp` (not /tmp):
/// task files, state directories, fix scripts. `cargo clean` removes it.
pub fn scratch_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("it-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs pgferry (see [`pgferry_command`]) to the end.
pub fn pgferry(args: &[&str]) -> Output {
    pgferry_command(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run pgferry: {e}"))
}

/// Runs pgferry with a fault point armed (`PGFERRY_FAULT`, see src/fault.rs).
pub fn pgferry_with_fault(fault: &str, args: &[&str]) -> Output {
    pgferry_command(args)
        .env("PGFERRY_FAULT", fault)
        .output()
        .unwrap_or_else(|e| panic!("cannot run pgferry: {e}"))
}

/// Checksum-verifies the target against the source and fails the test on
/// any difference (missing, extra or changed rows).
pub fn assert_verified_equal(src: &str, dst: &str) {
    verified_equal(src, dst, &["--schema"]);
}

/// [`assert_verified_equal`] for the rows and sequences only, where the
/// target holds objects of its own besides the migrated ones.
pub fn assert_rows_verified_equal(src: &str, dst: &str) {
    verified_equal(src, dst, &[]);
}

fn verified_equal(src: &str, dst: &str, extra: &[&str]) {
    let mut args = vec!["verify", "--source", src, "--target", dst, "--json"];
    args.extend_from_slice(extra);
    let out = pgferry(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify found differences: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA certificate (path) that signed nothing the TLS cluster has, made
/// once per test process with the `openssl` CLI.
pub fn other_ca() -> &'static str {
    static CA: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &CA.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let crt = dir.path().join("otherca.crt");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .arg("-keyout")
            .arg(dir.path().join("otherca.key"))
            .arg("-out")
            .arg(&crt)
            .args(["-subj", "/CN=pgferry test other CA"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let p = crt.display().to_string();
        (dir, p)
    })
    .1
}

fn majors_from_env(var: &str, default: &str) -> Vec<u32> {
    let v = std::env::var(var).unwrap_or_else(|_| default.to_string());
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{var}: bad major {s:?}"))
        })
        .collect()
}

/// Source majors to test: env PGFERRY_TEST_SOURCES (default "10,15").
pub fn source_majors() -> Vec<u32> {
    majors_from_env("PGFERRY_TEST_SOURCES", "10,15")
}

/// Target majors to test: env PGFERRY_TEST_TARGETS (default "15,17").
pub fn target_majors() -> Vec<u32> {
    majors_from_env("PGFERRY_TEST_TARGETS", "15,17")
}
pub mod blocks;
pub mod compare;
mod migrate;
mod scenario;
pub use migrate::Migrate;
pub use scenario::{Scenario, HUGE_TABLE, RESUME_FIXTURE};

/// A command's stdout and stderr, for assertion messages.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The major of the newest pg_dump, which must be at least a server's.
pub fn pg_dump_major() -> u32 {
    let pd = find_client_tool("pg_dump", None).unwrap_or_else(|e| panic!("{e:#}"));
    let out = Command::new(pd)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("pg_dump --version: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find_map(|w| w.split('.').next()?.parse().ok())
        .unwrap_or(0)
}

/// `kind object` of each entry of a report's or plan's list (`skipped`,
/// `excluded`, `rewritten`...), as a reader scans them.
pub fn kind_objects(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["kind"].as_str().unwrap_or(""),
                s["object"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Creates each role (NOLOGIN, no attributes) on `c` unless it exists.
/// Roles are cluster-wide and the clusters shared by every test of the run:
/// each test names its own.
pub fn ensure_roles(c: &LocalCluster, names: &[String]) {
    let list = names
        .iter()
        .map(|n| pgferry::pg::quote_literal(n))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "DO $$ DECLARE r text; BEGIN
           FOREACH r IN ARRAY ARRAY[{list}]::text[] LOOP
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
               EXECUTE format('CREATE ROLE %I', r);
             END IF;
           END LOOP;
         END $$;"
    );
    c.psql("postgres", &sql).unwrap();
}
