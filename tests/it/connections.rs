//! Connections against real PostgreSQL 15 servers: password sources, unix
//! sockets, every ConnError class, and the TLS modes.

use pgferry::localpg::LocalCluster;
use pgferry::pg::{connect, ConnError, ConnSpec};
use std::sync::Mutex;

/// Shared plain cluster (md5 over TCP, trust over the socket).
fn plain() -> &'static LocalCluster {
    crate::support::cluster(15)
}

/// Shared TLS cluster; its certificate is signed by `ca_cert_path()`.
fn tls() -> &'static LocalCluster {
    crate::support::tls_cluster()
}

fn ca_of(s: &LocalCluster) -> String {
    s.ca_cert_path()
        .expect("TLS cluster has a CA")
        .display()
        .to_string()
}

fn socket_dir(s: &LocalCluster) -> String {
    s.socket_dir().display().to_string()
}

/// A port nothing listens on (free a moment ago).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

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
        socket_dir(s),
        s.port(),
        s.password()
    );
    try_connect(&spec(&kv))
        .await
        .expect("socket, sslmode ignored as in libpq");
    let uri = format!(
        "postgresql://postgres:{}@{}:{}/postgres",
        s.password(),
        socket_dir(s).replace('/', "%2F"),
        s.port()
    );
    try_connect(&spec(&uri))
        .await
        .expect("percent-encoded socket dir");
}

#[tokio::test]
async fn pgpassword_env() {
    let s = plain();
    let u = format!("postgres://postgres@127.0.0.1:{}/postgres", s.port());
    let sp = spec_with_env(&u, &[("PGPASSWORD", s.password())]).expect("parse");
    try_connect(&sp).await.expect("connect");
    assert!(!sp.to_string().contains(s.password()));
}

#[tokio::test]
async fn pgpass_file() {
    use std::os::unix::fs::PermissionsExt;
    let s = plain();
    let (user, pw) = socket_md5_role(s).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgpass");
    let text = format!(
        "127.0.0.1:{0}:other:postgres:wrong\nlocalhost:{0}:*:postgres:{1}\n127.0.0.1:{0}:*:postgres:{1}\n\
         127.0.0.1:{0}:*:{user}:wrong\nlocalhost:{0}:*:{user}:{pw}\n",
        s.port(),
        s.password()
    );
    std::fs::write(&file, text).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let f = file.display().to_string();
    let tcp = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        s.port()
    );
    try_connect(&spec_with_env(&tcp, &[("PGPASSFILE", &f)]).expect("parse"))
        .await
        .expect("tcp via pgpass");
    // A unix socket matches the `localhost` line (this role needs a password
    // over the socket; the 127.0.0.1 line for it is wrong).
    let sock = format!(
        "host={} port={} user={user} dbname=postgres",
        socket_dir(s),
        s.port()
    );
    try_connect(&spec_with_env(&sock, &[("PGPASSFILE", &f)]).expect("parse"))
        .await
        .expect("socket via pgpass");
}

/// A role that must give its password even over the unix socket (the shared
/// cluster trusts the socket otherwise), so `.pgpass` lookups for sockets are
/// really exercised. Returns (user, password).
async fn socket_md5_role(s: &LocalCluster) -> (&'static str, &'static str) {
    let (user, pw) = ("pgf_sock_md5", "Sock-Pw-31337");
    s.psql(
        "postgres",
        &format!("CREATE ROLE {user} LOGIN PASSWORD '{pw}';"),
    )
    .expect("create role");
    let hba = s.data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
    std::fs::write(&hba, format!("local all {user} md5\n{old}")).expect("write pg_hba.conf");
    s.psql("postgres", "SELECT pg_reload_conf();")
        .expect("reload");
    // The reload is asynchronous: wait until the socket asks for a password.
    let bare = format!(
        "host={} port={} user={user} dbname=postgres passfile=/nonexistent",
        socket_dir(s),
        s.port()
    );
    for _ in 0..100 {
        if let Err(ConnError::Auth { .. }) = try_connect(&spec(&bare)).await {
            return (user, pw);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the pg_hba.conf change was not picked up");
}

#[tokio::test]
async fn wrong_password_is_auth() {
    let s = plain();
    let u = format!(
        "postgres://postgres:not-the-Password-123@127.0.0.1:{}/postgres",
        s.port()
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
        s.port()
    );
    let e = expect_err(&spec(&u), s.password()).await;
    assert!(matches!(e, ConnError::Auth { .. }), "{e}");
}

#[tokio::test]
async fn missing_database() {
    let s = plain();
    let e = expect_err(&spec(&s.uri("no_such_db")), s.password()).await;
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
    assert!(matches!(e, ConnError::Malformed { .. }), "{e}");
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
    let ca = ca_of(s);
    let base = format!(
        "postgres://postgres:{}@localhost:{}/postgres",
        s.password(),
        s.port()
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
    let ca = ca_of(s);
    // Connect to 127.0.0.1 but call it a name the certificate does not list.
    let kv = |mode: &str| {
        format!(
            "host=wrong.example hostaddr=127.0.0.1 port={} user=postgres password={} \
             dbname=postgres sslmode={mode} sslrootcert={ca}",
            s.port(),
            s.password()
        )
    };
    let e = expect_err(&spec(&kv("verify-full")), s.password()).await;
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
    let other = crate::support::other_ca();
    for mode in ["verify-full", "verify-ca", "require"] {
        let u = format!("{}?sslmode={mode}&sslrootcert={other}", s.uri("postgres"));
        let e = expect_err(&spec(&u), s.password()).await;
        assert!(matches!(e, ConnError::Tls { .. }), "{mode}: {e}");
        assert!(e.to_string().contains("not trusted"), "{mode}: {e}");
        assert!(e.to_string().contains("sslrootcert"), "{mode}: {e}");
    }
    // No sslrootcert: the Mozilla roots do not know our test CA.
    let u = format!("{}?sslmode=verify-full", s.uri("postgres"));
    let e = expect_err(&spec(&u), s.password()).await;
    assert!(e.to_string().contains("Mozilla"), "{e}");
}

#[tokio::test]
async fn tls_required_but_server_has_none() {
    let s = plain();
    for mode in ["require", "verify-full"] {
        let u = format!("{}?sslmode={mode}", s.uri("postgres"));
        let e = expect_err(&spec(&u), s.password()).await;
        assert!(matches!(e, ConnError::Tls { .. }), "{e}");
        assert!(e.to_string().contains("does not support SSL"), "{e}");
    }
}
