//! Connections against real PostgreSQL 15 servers: password sources, unix
//! sockets, every ConnError class, and the TLS modes.

use pgferry::pg::{connect, ConnError, ConnSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

// ===========================================================================
// LOCAL TEST-SERVER HELPER (temporary)
//
// Stand-in for the shared harness (`tests/support/mod.rs`: `cluster(15)`,
// `tls_cluster()`, `LocalCluster::{uri, socket_conninfo, ca_cert_path,
// password, port}`). When it lands, delete this section and map:
// `plain()` -> `support::cluster(15)`, `tls()` -> `support::tls_cluster()`.
// Servers run as `nobody` (initdb refuses root), md5 auth everywhere, in a
// temp dir; they are stopped by `Drop` and, for the shared statics (which
// Rust never drops), by an `atexit` hook that also runs after failed tests.
// ===========================================================================

const BIN: &str = "/usr/lib/postgresql/15/bin";

struct TestServer {
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    /// CA that signed the server certificate (TLS servers only).
    ca_cert: Option<PathBuf>,
    /// A second CA that signed nothing the server has.
    other_ca_cert: Option<PathBuf>,
}

/// Data directories of running servers, stopped (and their temp dirs
/// removed) at process exit.
static RUNNING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

extern "C" fn stop_all_at_exit() {
    let dirs = RUNNING.lock().map(|d| d.clone()).unwrap_or_default();
    for d in dirs {
        stop(&d);
        // Statics are never dropped, so their TempDir is removed here.
        if let Some(base) = d.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

fn stop(data: &Path) {
    let _ = as_nobody(&format!("{BIN}/pg_ctl"))
        .args([
            "-D",
            &data.display().to_string(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ])
        .output();
}

/// A command run as `nobody` when we are root (PostgreSQL refuses root).
fn as_nobody(program: &str) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn chown_nobody(p: &Path) {
    run(Command::new("chown").args(["-R", "nobody", &p.display().to_string()]));
}

/// A CA (`name`.crt/.key) and, when `server` is set, a server certificate
/// for DNS:localhost and IP:127.0.0.1 signed by it.
fn make_certs(dir: &Path, name: &str, server: bool) {
    let d = |f: &str| dir.join(f).display().to_string();
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &d(&format!("{name}.key")),
        "-out",
        &d(&format!("{name}.crt")),
        "-days",
        "2",
        "-subj",
        &format!("/CN=pgferry test {name}"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]));
    if !server {
        return;
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    run(Command::new("openssl").args([
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &d("server.key"),
        "-out",
        &d("server.csr"),
        "-subj",
        "/CN=localhost",
    ]));
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-in",
        &d("server.csr"),
        "-CA",
        &d(&format!("{name}.crt")),
        "-CAkey",
        &d(&format!("{name}.key")),
        "-CAcreateserial",
        "-out",
        &d("server.crt"),
        "-days",
        "2",
        "-extfile",
        &d("server.ext"),
    ]));
}

impl TestServer {
    fn start(tls: bool) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix("pgferry-conn-")
            .tempdir()
            .expect("tempdir");
        let base = dir.path().to_path_buf();
        let password = "s3cr3t-Pa55word-xyzzy".to_string();
        std::fs::write(base.join("pw"), &password).expect("pwfile");
        let (mut ca_cert, mut other_ca_cert) = (None, None);
        if tls {
            make_certs(&base, "ca", true);
            make_certs(&base, "otherca", false);
            ca_cert = Some(base.join("ca.crt"));
            other_ca_cert = Some(base.join("otherca.crt"));
        }
        chown_nobody(&base);
        let data = base.join("data");
        run(as_nobody(&format!("{BIN}/initdb")).args([
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=md5",
            &format!("--pwfile={}", base.join("pw").display()),
            "-E",
            "UTF8",
            "--no-sync",
        ]));
        let port = free_port();
        let mut conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nshared_buffers = 16MB\nmax_connections = 30\n",
            base.display()
        );
        if tls {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{0}/server.crt'\nssl_key_file = '{0}/server.key'\n",
                base.display()
            ));
        }
        let conf_path = data.join("postgresql.conf");
        let mut all = std::fs::read_to_string(&conf_path).expect("read conf");
        all.push_str(&conf);
        std::fs::write(&conf_path, all).expect("write conf");
        {
            let mut running = RUNNING.lock().expect("lock");
            if running.is_empty() {
                // SAFETY: registering a plain extern "C" fn with no captures.
                unsafe { libc::atexit(stop_all_at_exit) };
            }
            running.push(data.clone());
        }
        run(as_nobody(&format!("{BIN}/pg_ctl")).args([
            "-D",
            &data.display().to_string(),
            "-l",
            &base.join("log").display().to_string(),
            "-w",
            "start",
        ]));
        TestServer {
            dir,
            port,
            password,
            ca_cert,
            other_ca_cert,
        }
    }

    fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/db`
    fn uri(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        stop(&data);
        if let Ok(mut r) = RUNNING.lock() {
            r.retain(|d| d != &data);
        }
    }
}

fn plain() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| TestServer::start(false))
}

fn tls() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| TestServer::start(true))
}

// ===========================================================================
// END OF LOCAL TEST-SERVER HELPER
// ===========================================================================

/// Serializes tests that set libpq variables; every parse takes it so no
/// test sees another's environment.
static ENV_LOCK: Mutex<()> = Mutex::new(());

fn spec_with_env(s: &str, vars: &[(&str, &str)]) -> Result<ConnSpec, ConnError> {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for (k, v) in vars {
        // SAFETY: ENV_LOCK is held; all env access in this binary takes it.
        unsafe { std::env::set_var(k, v) };
    }
    let r = ConnSpec::parse(s);
    for (k, _) in vars {
        unsafe { std::env::remove_var(k) };
    }
    r
}

fn spec(s: &str) -> ConnSpec {
    spec_with_env(s, &[]).expect("parse")
}

/// Connects and runs a query; the error when it fails.
async fn try_connect(spec: &ConnSpec) -> Result<(), ConnError> {
    let c = connect(spec, "test").await?;
    let row = c
        .query_one(
            "SELECT current_user::text, current_setting('TimeZone')",
            &[],
        )
        .await
        .expect("query");
    assert_eq!(row.get::<_, String>(1), "UTC", "session setup applied");
    Ok(())
}

/// Connection must fail; checks the password never shows.
async fn expect_err(spec: &ConnSpec, password: &str) -> ConnError {
    let e = try_connect(spec).await.expect_err("connection should fail");
    let msg = e.to_string();
    eprintln!("expected error: {msg}");
    assert!(!msg.contains(password), "password leaked: {msg}");
    assert!(
        !format!("{e:?}").contains(password),
        "password leaked: {e:?}"
    );
    assert!(!msg.contains('\n'), "one line: {msg}");
    e
}

#[tokio::test]
async fn tcp_with_password() {
    let s = plain();
    try_connect(&spec(&s.uri("postgres")))
        .await
        .expect("connect");
}

#[tokio::test]
async fn unix_socket() {
    let s = plain();
    let kv = format!(
        "host={} port={} user=postgres dbname=postgres password={} sslmode=require",
        s.socket_dir(),
        s.port,
        s.password
    );
    try_connect(&spec(&kv))
        .await
        .expect("socket, sslmode ignored as in libpq");
    let uri = format!(
        "postgresql://postgres:{}@{}:{}/postgres",
        s.password,
        s.socket_dir().replace('/', "%2F"),
        s.port
    );
    try_connect(&spec(&uri))
        .await
        .expect("percent-encoded socket dir");
}

#[tokio::test]
async fn pgpassword_env() {
    let s = plain();
    let u = format!("postgres://postgres@127.0.0.1:{}/postgres", s.port);
    let sp = spec_with_env(&u, &[("PGPASSWORD", &s.password)]).expect("parse");
    try_connect(&sp).await.expect("connect");
    assert!(!sp.to_string().contains(&s.password));
}

#[tokio::test]
async fn pgpass_file() {
    use std::os::unix::fs::PermissionsExt;
    let s = plain();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgpass");
    let text = format!(
        "127.0.0.1:{0}:other:postgres:wrong\nlocalhost:{0}:*:postgres:{1}\n127.0.0.1:{0}:*:postgres:{1}\n",
        s.port, s.password
    );
    std::fs::write(&file, text).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let f = file.display().to_string();
    let tcp = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        s.port
    );
    try_connect(&spec_with_env(&tcp, &[("PGPASSFILE", &f)]).expect("parse"))
        .await
        .expect("tcp via pgpass");
    // A unix socket matches the `localhost` line.
    let sock = format!(
        "host={} port={} user=postgres dbname=postgres",
        s.socket_dir(),
        s.port
    );
    try_connect(&spec_with_env(&sock, &[("PGPASSFILE", &f)]).expect("parse"))
        .await
        .expect("socket via pgpass");
}

#[tokio::test]
async fn wrong_password_is_auth() {
    let s = plain();
    let u = format!(
        "postgres://postgres:not-the-Password-123@127.0.0.1:{}/postgres",
        s.port
    );
    let e = expect_err(&spec(&u), "not-the-Password-123").await;
    assert!(matches!(e, ConnError::Auth { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("password authentication failed for user \"postgres\""),
        "{e}"
    );
    assert!(e.is_configuration());
    // No password at all.
    let u = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?passfile=/nonexistent",
        s.port
    );
    let e = expect_err(&spec(&u), &s.password).await;
    assert!(matches!(e, ConnError::Auth { .. }), "{e}");
}

#[tokio::test]
async fn missing_database() {
    let s = plain();
    let e = expect_err(&spec(&s.uri("no_such_db")), &s.password).await;
    assert!(matches!(e, ConnError::NoDatabase { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("database \"no_such_db\" does not exist"),
        "{e}"
    );
    assert!(
        e.to_string().contains("postgres:****@127.0.0.1"),
        "names the target: {e}"
    );
}

#[tokio::test]
async fn unreachable_port() {
    let port = free_port();
    let pw = "unreachable-Secret-42";
    let e = expect_err(&spec(&format!("postgres://u:{pw}@127.0.0.1:{port}/db")), pw).await;
    assert!(matches!(e, ConnError::Unreachable { .. }), "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(e.is_configuration());
    let e = expect_err(
        &spec(&format!("postgres://u:{pw}@no-such-host.invalid/db")),
        pw,
    )
    .await;
    assert!(matches!(e, ConnError::Unreachable { .. }), "{e}");
}

#[tokio::test]
async fn malformed_uri() {
    let e = spec_with_env("postgres://u:Leaky-Pw-99@h:99999/db", &[]).expect_err("bad port");
    assert!(matches!(e, ConnError::Malformed(_)), "{e}");
    assert!(!e.to_string().contains("Leaky-Pw-99"));
    let e = spec_with_env("postgres://u:Leaky-Pw-99@h/db?sslmod=require", &[]).expect_err("kw");
    assert!(
        e.to_string().contains("\"sslmod\"") && !e.to_string().contains("Leaky"),
        "{e}"
    );
}

#[tokio::test]
async fn tls_require_and_prefer() {
    let s = tls();
    try_connect(&spec(&format!("{}?sslmode=require", s.uri("postgres"))))
        .await
        .expect("require, no verification");
    try_connect(&spec(&s.uri("postgres")))
        .await
        .expect("prefer (default)");
}

#[tokio::test]
async fn tls_verify_full() {
    let s = tls();
    let ca = s.ca_cert.as_ref().expect("ca").display().to_string();
    let base = format!(
        "postgres://postgres:{}@localhost:{}/postgres",
        s.password, s.port
    );
    try_connect(&spec(&format!(
        "{base}?sslmode=verify-full&sslrootcert={ca}"
    )))
    .await
    .expect("verify-full, localhost");
    let ip = s.uri("postgres");
    try_connect(&spec(&format!("{ip}?sslmode=verify-full&sslrootcert={ca}")))
        .await
        .expect("verify-full, 127.0.0.1 (IP SAN)");
}

#[tokio::test]
async fn tls_host_name_mismatch() {
    let s = tls();
    let ca = s.ca_cert.as_ref().expect("ca").display().to_string();
    // Connect to 127.0.0.1 but call it a name the certificate does not list.
    let kv = |mode: &str| {
        format!(
            "host=wrong.example hostaddr=127.0.0.1 port={} user=postgres password={} \
             dbname=postgres sslmode={mode} sslrootcert={ca}",
            s.port, s.password
        )
    };
    let e = expect_err(&spec(&kv("verify-full")), &s.password).await;
    assert!(matches!(e, ConnError::Tls { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("does not match the host name wrong.example"),
        "{e}"
    );
    try_connect(&spec(&kv("verify-ca")))
        .await
        .expect("verify-ca ignores the name");
}

#[tokio::test]
async fn tls_untrusted_ca() {
    let s = tls();
    let other = s.other_ca_cert.as_ref().expect("ca").display().to_string();
    for mode in ["verify-full", "verify-ca", "require"] {
        let u = format!("{}?sslmode={mode}&sslrootcert={other}", s.uri("postgres"));
        let e = expect_err(&spec(&u), &s.password).await;
        assert!(matches!(e, ConnError::Tls { .. }), "{mode}: {e}");
        assert!(e.to_string().contains("not trusted"), "{mode}: {e}");
        assert!(e.to_string().contains("sslrootcert"), "{mode}: {e}");
    }
    // No sslrootcert: the Mozilla roots do not know our test CA.
    let u = format!("{}?sslmode=verify-full", s.uri("postgres"));
    let e = expect_err(&spec(&u), &s.password).await;
    assert!(e.to_string().contains("Mozilla"), "{e}");
}

#[tokio::test]
async fn tls_required_but_server_has_none() {
    let s = plain();
    for mode in ["require", "verify-full"] {
        let u = format!("{}?sslmode={mode}", s.uri("postgres"));
        let e = expect_err(&spec(&u), &s.password).await;
        assert!(matches!(e, ConnError::Tls { .. }), "{e}");
        assert!(e.to_string().contains("does not support SSL"), "{e}");
    }
}
