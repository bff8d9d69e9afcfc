//! Unit tests of resolution: environment, defaults, `.pgpass`, validation.

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

/// Serializes the few tests that touch the real process environment.
static ENV_LOCK: Mutex<()> = Mutex::new(());

fn with_env(vars: &[(&str, &str)], s: &str) -> Result<ConnSpec, ConnError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |k: &str| map.get(k).cloned();
    ConnSpec::parse_with_env(s, &env)
}

fn tcp_host(spec: &ConnSpec) -> String {
    match &spec.config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    }
}

#[test]
fn explicit_values_win_over_env() {
    let env = [
        ("PGHOST", "envhost"),
        ("PGPORT", "7777"),
        ("PGUSER", "envuser"),
        ("PGDATABASE", "envdb"),
        ("PGPASSWORD", "envpw"),
        ("PGSSLMODE", "disable"),
    ];
    let s = with_env(&env, "postgres://u:pw@h:1/d?sslmode=require").unwrap();
    assert_eq!(tcp_host(&s), "h");
    assert_eq!(s.config.get_ports(), &[1]);
    assert_eq!(s.user(), "u");
    assert_eq!(s.dbname(), "d");
    assert_eq!(s.password(), Some("pw"));
    assert_eq!(s.ssl_mode(), SslMode::Require);
}

#[test]
fn env_fills_unset_fields() {
    let env = [
        ("PGHOST", "envhost"),
        ("PGPORT", "7777"),
        ("PGUSER", "envuser"),
        ("PGPASSWORD", "envpw"),
        ("PGSSLMODE", "verify-ca"),
        ("PGSSLROOTCERT", "/ca.pem"),
        ("PGAPPNAME", "app"),
        ("PGCONNECT_TIMEOUT", "30"),
    ];
    let s = with_env(&env, "").unwrap();
    assert_eq!(s.host_description(), "envhost:7777");
    assert_eq!(s.user(), "envuser");
    assert_eq!(s.dbname(), "envuser", "dbname defaults to the user");
    assert_eq!(s.password(), Some("envpw"));
    assert_eq!(s.ssl_mode(), SslMode::VerifyCa);
    assert_eq!(s.root_cert(), Some(&RootCert::File("/ca.pem".into())));
    assert_eq!(s.application_name(), Some("app"));
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(30)));
    // Nothing from the environment shows in the redacted form.
    assert_eq!(s.redacted(), "");
}

#[test]
fn defaults() {
    let s = with_env(&[("USER", "osuser")], "").unwrap();
    assert_eq!(s.user(), "osuser");
    assert_eq!(s.dbname(), "osuser");
    assert_eq!(s.ssl_mode(), SslMode::Prefer);
    assert_eq!(s.config.get_ports(), &[5432]);
    assert_eq!(s.connect_timeout(), Some(Duration::from_secs(10)));
    let expected = if std::path::Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql/.s.PGSQL.5432"
    } else {
        "localhost:5432"
    };
    assert_eq!(s.host_description(), expected);
    // Without USER the OS user comes from getpwuid.
    assert!(!with_env(&[], "").unwrap().user().is_empty());
}

#[test]
fn unix_sockets_never_use_tls() {
    let s = with_env(&[("USER", "u")], "host=/tmp port=5444 sslmode=require").unwrap();
    assert_eq!(s.host_description(), "/tmp/.s.PGSQL.5444");
    assert!(!s.requires_tls());
    assert_eq!(
        s.config.get_ssl_mode(),
        tokio_postgres::config::SslMode::Disable
    );
    let s = with_env(&[("USER", "u")], "host=h sslmode=verify-full").unwrap();
    assert!(s.requires_tls());
    assert_eq!(
        s.config.get_ssl_mode(),
        tokio_postgres::config::SslMode::Require
    );
}

#[test]
fn multiple_hosts_and_ports() {
    let s = with_env(&[("USER", "u")], "postgres://a:1,b:2,[::1]:3/db").unwrap();
    assert_eq!(s.host_description(), "a:1, b:2, [::1]:3");
    let s = with_env(&[("USER", "u")], "host=a,b port=6000").unwrap();
    assert_eq!(s.host_description(), "a:6000, b:6000");
    let e = with_env(&[("USER", "u")], "host=a,b,c port=1,2").unwrap_err();
    assert!(e.to_string().contains("2 port numbers to 3 hosts"), "{e}");
}

#[test]
fn invalid_values_are_malformed() {
    for (s, want) in [
        ("host=h port=abc", "invalid port number \"abc\""),
        ("host=h port=70000", "invalid port number"),
        ("host=h sslmode=required", "invalid sslmode \"required\""),
        ("host=h connect_timeout=soon", "connect_timeout"),
        ("host=h hostaddr=nope", "hostaddr"),
        (
            "host=h target_session_attrs=primary",
            "target_session_attrs",
        ),
        ("host=h sslrootcert=system sslmode=require", "verify-full"),
    ] {
        let e = with_env(&[("USER", "u")], s).unwrap_err();
        assert!(matches!(e, ConnError::Malformed { .. }), "{s}: {e}");
        assert!(e.is_configuration());
        assert!(e.to_string().contains(want), "{s}: {e}");
    }
}

#[test]
fn connect_timeout_follows_libpq() {
    let t = |v: &str| {
        with_env(&[("USER", "u")], &format!("host=h connect_timeout={v}"))
            .unwrap()
            .connect_timeout()
    };
    assert_eq!(t("0"), None);
    assert_eq!(t("1"), Some(Duration::from_secs(2)));
    assert_eq!(t("5"), Some(Duration::from_secs(5)));
}

#[test]
fn sslrootcert_system_defaults_to_verify_full() {
    let s = with_env(&[("USER", "u")], "host=h sslrootcert=system").unwrap();
    assert_eq!(s.ssl_mode(), SslMode::VerifyFull);
    assert_eq!(s.root_cert(), Some(&RootCert::System));
}

#[test]
fn password_from_passfile() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pass");
    std::fs::write(&file, "db.x:5432:shop:app:from\\:file\n*:*:*:*:fallback\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let f = file.display().to_string();
    let s = with_env(&[("PGPASSFILE", &f)], "postgres://app@db.x/shop").unwrap();
    assert_eq!(s.password(), Some("from:file"));
    let s = with_env(&[("PGPASSFILE", &f)], "postgres://app@db.x/other").unwrap();
    assert_eq!(s.password(), Some("fallback"));
    // passfile keyword, and HOME/.pgpass.
    let s = with_env(&[], &format!("host=db.x user=app dbname=shop passfile={f}")).unwrap();
    assert_eq!(s.password(), Some("from:file"));
    std::fs::copy(&file, dir.path().join(".pgpass")).unwrap();
    let home = dir.path().display().to_string();
    let s = with_env(&[("HOME", &home)], "host=db.x user=app dbname=shop").unwrap();
    assert_eq!(s.password(), Some("from:file"));
    // An explicit or PGPASSWORD password wins over the file.
    let s = with_env(&[("PGPASSFILE", &f), ("PGPASSWORD", "env")], "host=db.x").unwrap();
    assert_eq!(s.password(), Some("env"));
    // Nothing from the file shows.
    assert!(!s.to_string().contains("file") && !format!("{s:?}").contains("env"));
}

#[test]
fn display_and_debug_are_redacted() {
    let s = with_env(&[], "postgres://u:hunter22@h/db").unwrap();
    assert_eq!(s.to_string(), "postgres://u:****@h/db");
    assert_eq!(format!("{s:?}"), "postgres://u:****@h/db");
    let s = with_env(&[], "host=h user=u password='hunter 22'").unwrap();
    assert_eq!(s.to_string(), "host=h user=u password=****");
}

#[test]
fn malformed_messages_never_hold_the_password() {
    for s in [
        "postgres://u:hunter22@h:notaport/db",
        "postgres://u:hunter22@h/db?sslmode=hunter22x",
        "postgres://u:hunter22%zz@h/db",
        "postgres://u:hunter22@h/db?bogus=hunter22",
        "host=h password=hunter22 port=hunter22",
        "host=h password='hunter22",
        "password=hunter22 nokey",
    ] {
        let e = with_env(&[("USER", "u")], s).unwrap_err();
        let msg = e.to_string();
        // Values in the wrong field may be echoed, but never the password field's.
        if !s.contains("=hunter22x") && !s.contains("port=hunter22") && !s.contains("bogus=") {
            assert!(!msg.contains("hunter22"), "{s}: {msg}");
        }
    }
}

#[test]
fn with_dbname_keeps_the_rest() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let s = ConnSpec::parse("postgres://u:pw@h:5/shop?sslmode=require").unwrap();
    let t = s.with_dbname("postgres").unwrap();
    assert_eq!(t.dbname(), "postgres");
    assert_eq!(
        t.redacted(),
        "postgres://u:****@h:5/postgres?sslmode=require"
    );
    assert_eq!(t.password(), Some("pw"));
}

#[test]
fn real_process_environment() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: ENV_LOCK serializes every test in this crate that touches the
    // environment; no other test reads these variables.
    unsafe {
        std::env::set_var("PGAPPNAME", "from-env");
        std::env::set_var("PGCONNECT_TIMEOUT", "");
    }
    let s = ConnSpec::parse("host=h user=u");
    unsafe {
        std::env::remove_var("PGAPPNAME");
        std::env::remove_var("PGCONNECT_TIMEOUT");
    }
    let s = s.unwrap();
    assert_eq!(s.application_name(), Some("from-env"));
    assert_eq!(
        s.connect_timeout(),
        Some(Duration::from_secs(10)),
        "empty = unset"
    );
}

#[test]
fn servers_on_this_host_are_sockets_localhost_and_loopback() {
    for here in [
        "postgres://u@127.0.0.1:5432/db",
        "postgres://u@127.1.2.3/db",
        "postgres://u@[::1]:5432/db",
        "postgres://u@localhost/db",
        "host=/var/run/postgresql dbname=db user=u",
        "postgres://u@localhost,127.0.0.1/db",
    ] {
        assert!(with_env(&[], here).unwrap().on_this_host(), "{here}");
    }
    for elsewhere in [
        "postgres://u@10.0.0.5/db",
        "postgres://u@db.example.com/db",
        "postgres://u@localhost,db.example.com/db",
    ] {
        assert!(
            !with_env(&[], elsewhere).unwrap().on_this_host(),
            "{elsewhere}"
        );
    }
}
