//! The real binary against bad input: every connection problem and usage
//! mistake must end with exit code 2 and one clear line on stderr that names
//! the problem, and no password may ever be printed.

use pgferry::localpg::LocalCluster;
use std::process::Output;

/// A port nothing listens on (free a moment ago).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `verify --counts-only` and `migrate` with these ends.
fn verify_and_migrate(source: &str, target: &str) -> Vec<(&'static str, Output)> {
    let state = tempfile::tempdir().expect("tempdir");
    let state = state.path().to_str().expect("utf-8 path");
    let ends = ["--source", source, "--target", target];
    let verify: Vec<&str> = ["verify", "--counts-only"]
        .iter()
        .chain(&ends)
        .copied()
        .collect();
    let migrate: Vec<&str> = ["migrate", "--state-dir", state]
        .iter()
        .chain(&ends)
        .copied()
        .collect();
    vec![
        ("verify", crate::support::pgferry(&verify)),
        ("migrate", crate::support::pgferry(&migrate)),
    ]
}

/// Exit 2, exactly one line on stderr containing every word in `words`
/// (case-insensitive), no secret anywhere in the output. Returns the line.
fn assert_usage_error(what: &str, out: &Output, words: &[&str], secrets: &[&str]) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for s in secrets {
        assert!(
            !stdout.contains(s),
            "{what}: password {s} on stdout: {stdout}"
        );
        assert!(
            !stderr.contains(s),
            "{what}: password {s} on stderr: {stderr}"
        );
    }
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line = stderr.trim_end();
    assert_eq!(
        line.lines().count(),
        1,
        "{what}: one line on stderr: {stderr}"
    );
    assert!(line.starts_with("pgferry:"), "{what}: {line}");
    let lower = line.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "{what}: {w:?} missing in: {line}"
        );
    }
    line.to_string()
}

/// Both commands fail the same way.
fn both_fail(source: &str, target: &str, words: &[&str], secrets: &[&str]) {
    for (cmd, out) in verify_and_migrate(source, target) {
        let line = assert_usage_error(cmd, &out, words, secrets);
        eprintln!("{cmd}: {line}");
    }
}

fn plain() -> &'static LocalCluster {
    crate::support::cluster(15)
}

fn tls() -> &'static LocalCluster {
    crate::support::tls_cluster()
}

/// `key=value` conninfo for db on the TLS cluster, by host name `localhost`.
fn tls_kv(db: &str, mode: &str, rootcert: &str) -> String {
    let c = tls();
    format!(
        "host=localhost port={} user=postgres password={} dbname={db} sslmode={mode} sslrootcert={rootcert}",
        c.port(),
        c.password()
    )
}

/// A fresh database on the TLS cluster with table `t` holding 3 rows.
fn tls_source_db() -> String {
    let c = tls();
    let db = crate::support::fresh_db(c, "clierr_src");
    c.psql(&db, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c');")
        .expect("load source");
    db
}

/// `verify --json` counted 3 rows in public.t on both sides.
fn assert_table_t_counted(doc: &serde_json::Value) {
    assert_eq!(doc["equal"], true, "{doc}");
    let t = &doc["tables"][0];
    assert_eq!(t["table"], "public.t", "{doc}");
    assert_eq!(
        (t["source_rows"].as_i64(), t["target_rows"].as_i64()),
        (Some(3), Some(3)),
        "{doc}"
    );
}

#[test]
fn unreachable_host() {
    let port = closed_port();
    let pw = "Unreachable-Secret-77";
    let bad = format!("postgres://postgres:{pw}@127.0.0.1:{port}/postgres");
    let good = plain().uri("postgres");
    let words = ["cannot reach", &format!("127.0.0.1:{port}")];
    let secrets = [pw, plain().password()];
    both_fail(&bad, &good, &words, &secrets);
    // The target end is reported just as well.
    both_fail(&good, &bad, &words, &secrets);
}

#[test]
fn wrong_password() {
    let c = plain();
    let pw = "Wrong-Secret-Pw-88";
    let bad = format!("postgres://postgres:{pw}@127.0.0.1:{}/postgres", c.port());
    both_fail(
        &bad,
        &c.uri("postgres"),
        &["password authentication failed", "\"postgres\"", "log in"],
        &[pw, c.password()],
    );
}

#[test]
fn missing_database() {
    let c = plain();
    both_fail(
        &c.uri("no_such_db_clierr"),
        &c.uri("postgres"),
        &["database \"no_such_db_clierr\" does not exist"],
        &[c.password()],
    );
}

#[test]
fn malformed_uri() {
    let pw = "Malformed-Secret-99";
    let good = plain().uri("postgres");
    let secrets = [pw, plain().password()];
    both_fail(
        &format!("postgres://u:{pw}@host:notaport/db"),
        &good,
        &["malformed", "port", "notaport"],
        &secrets,
    );
    both_fail(
        &format!("host=127.0.0.1 user=u password={pw} dbname=db frobnicate=1"),
        &good,
        &["malformed", "keyword", "\"frobnicate\""],
        &secrets,
    );
}

#[test]
fn verify_full_untrusted_ca() {
    let c = tls();
    let bad = tls_kv("postgres", "verify-full", crate::support::other_ca());
    let good = plain().uri("postgres");
    both_fail(
        &bad,
        &good,
        &["tls", "not trusted", "sslrootcert"],
        &[c.password(), plain().password()],
    );
}

#[test]
fn verify_full_trusted_ca_succeeds() {
    let c = tls();
    let ca = c.ca_cert_path().expect("CA").display().to_string();
    let src = tls_source_db();
    let source = tls_kv(&src, "verify-full", &ca);
    // verify: the database against itself, everything equal.
    let out = crate::support::pgferry(&[
        "verify",
        "--counts-only",
        "--json",
        "--source",
        &source,
        "--target",
        &source,
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "verify: {stdout}\n{stderr}");
    assert!(!stdout.contains(c.password()) && !stderr.contains(c.password()));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("verify --json");
    assert_table_t_counted(&doc);
    // migrate: into a fresh database on the same server, URI form this time.
    let dst = crate::support::fresh_db(c, "clierr_dst");
    let target = format!(
        "postgres://postgres:{}@localhost:{}/{dst}?sslmode=verify-full&sslrootcert={ca}",
        c.password(),
        c.port()
    );
    let state = tempfile::tempdir().expect("tempdir");
    let out = crate::support::pgferry(&[
        "migrate",
        "--state-dir",
        state.path().to_str().expect("utf-8"),
        "--source",
        &source,
        "--target",
        &target,
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "migrate: {stdout}\n{stderr}");
    assert!(!stdout.contains(c.password()) && !stderr.contains(c.password()));
    let rows = c
        .psql(&dst, "SELECT string_agg(v, ',' ORDER BY id) FROM t")
        .expect("query target");
    assert_eq!(rows.trim(), "a,b,c");
}

#[test]
fn require_tls_against_plain_server() {
    let c = plain();
    both_fail(
        &format!("{}?sslmode=require", c.uri("postgres")),
        &c.uri("postgres"),
        &["tls", "does not support ssl"],
        &[c.password()],
    );
}

#[test]
fn no_source_or_target() {
    let out = crate::support::pgferry(&["verify", "--counts-only", "--target", "host=x"]);
    assert_usage_error(
        "verify",
        &out,
        &["no source", "--source", "PGFERRY_SOURCE"],
        &[],
    );
    let out = crate::support::pgferry(&["migrate", "--target", "host=x"]);
    assert_usage_error(
        "migrate",
        &out,
        &["no source", "--source", "PGFERRY_SOURCE"],
        &[],
    );
    let out = crate::support::pgferry(&["verify", "--counts-only", "--source", "host=x"]);
    assert_usage_error(
        "verify",
        &out,
        &["no target", "--target", "PGFERRY_TARGET"],
        &[],
    );
}

#[test]
fn missing_task_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-task.toml");
    let path = path.to_str().expect("utf-8");
    let ends = ["--source", "host=x", "--target", "host=y", "--task", path];
    for cmd in [&["verify", "--counts-only"][..], &["migrate"][..]] {
        let args: Vec<&str> = cmd.iter().chain(&ends).copied().collect();
        assert_usage_error(
            cmd[0],
            &crate::support::pgferry(&args),
            &["task file", path],
            &[],
        );
    }
}

#[test]
fn status_without_state_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing-here");
    let out = crate::support::pgferry(&["status", "--state-dir", &missing.to_string_lossy()]);
    assert_usage_error(
        "status",
        &out,
        &["no pgferry task state", "nothing-here"],
        &[],
    );
}

#[test]
fn help_lists_every_subcommand() {
    let out = crate::support::pgferry(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    for sub in ["precheck", "migrate", "verify", "status", "demo"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(sub)),
            "--help lists {sub}: {help}"
        );
    }
}

/// Runs the binary with only PGFERRY_SOURCE/PGFERRY_TARGET (no flags).
fn with_env(args: &[&str], source: &str, target: &str) -> Output {
    crate::support::pgferry_command(args)
        .env("PGFERRY_SOURCE", source)
        .env("PGFERRY_TARGET", target)
        .output()
        .expect("run pgferry")
}

#[test]
fn env_vars_stand_in_for_flags() {
    let c = tls();
    let ca = c.ca_cert_path().expect("CA").display().to_string();
    let src = tls_source_db();
    let good = tls_kv(&src, "verify-full", &ca);
    let out = with_env(&["verify", "--counts-only", "--json"], &good, &good);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("verify --json");
    assert_table_t_counted(&doc);
    // The variables really are read: a bad one is reported, for either end.
    let port = closed_port();
    let pw = "Env-Secret-Pw-55";
    let bad = format!("postgres://postgres:{pw}@127.0.0.1:{port}/postgres");
    let words = ["cannot reach", &format!("127.0.0.1:{port}")];
    let out = with_env(&["verify", "--counts-only"], &bad, &good);
    assert_usage_error("env source", &out, &words, &[pw, c.password()]);
    let out = with_env(&["verify", "--counts-only"], &good, &bad);
    assert_usage_error("env target", &out, &words, &[pw, c.password()]);
    // Flags win over the variables.
    let out = with_env(
        &[
            "verify",
            "--counts-only",
            "--source",
            &good,
            "--target",
            &good,
        ],
        &bad,
        &bad,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "flags win: {}",
        text(&out.stderr)
    );
}
