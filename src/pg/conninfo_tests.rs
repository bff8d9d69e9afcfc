//! Unit tests of the raw connection-string parser and its redacted rendering.

use super::*;

fn pairs(s: &str) -> Vec<(String, String)> {
    parse_raw(s).unwrap().params
}

fn p(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn uri_full_form() {
    assert_eq!(
        pairs("postgresql://app:p%40ss@db.example:6543/shop?sslmode=verify-full&application_name=x%20y"),
        p(&[
            ("user", "app"),
            ("password", "p@ss"),
            ("host", "db.example"),
            ("port", "6543"),
            ("dbname", "shop"),
            ("sslmode", "verify-full"),
            ("application_name", "x y"),
        ])
    );
}

#[test]
fn uri_minimal_forms() {
    assert_eq!(pairs("postgres://"), p(&[]));
    assert_eq!(pairs("postgres://h"), p(&[("host", "h")]));
    assert_eq!(pairs("postgres:///db"), p(&[("dbname", "db")]));
    assert_eq!(pairs("postgres://u@h"), p(&[("user", "u"), ("host", "h")]));
    assert_eq!(
        pairs("postgres://h?port=1"),
        p(&[("host", "h"), ("port", "1")])
    );
}

#[test]
fn uri_ipv6_and_multiple_hosts() {
    assert_eq!(
        pairs("postgres://[::1]:5433/db"),
        p(&[("host", "::1"), ("port", "5433"), ("dbname", "db")])
    );
    assert_eq!(
        pairs("postgres://a:1,[fe80::1],c:3/db"),
        p(&[("host", "a,fe80::1,c"), ("port", "1,,3"), ("dbname", "db")])
    );
}

#[test]
fn uri_unix_sockets() {
    assert_eq!(
        pairs("postgres://%2Fvar%2Frun%2Fpostgresql/db"),
        p(&[("host", "/var/run/postgresql"), ("dbname", "db")])
    );
    assert_eq!(
        pairs("postgresql:///db?host=/tmp&port=5444"),
        p(&[("dbname", "db"), ("host", "/tmp"), ("port", "5444")])
    );
}

#[test]
fn uri_errors_name_the_problem_not_the_secret() {
    for (s, want) in [
        (
            "postgres://u:se%zzcret@h/db",
            "percent-encoding in the password",
        ),
        ("postgres://h/db?nosuch=1", "\"nosuch\""),
        ("postgres://h/db?sslmode", "missing \"=\""),
        ("postgres://[::1/db", "IPv6"),
        ("mysql://h/db", "scheme"),
    ] {
        let e = parse_raw(s).unwrap_err().to_string();
        assert!(e.contains(want), "{s}: {e}");
        assert!(!e.contains("cret"), "{e}");
    }
}

#[test]
fn kv_forms() {
    assert_eq!(
        pairs("host=h port = 5433  dbname='my db' password='it\\'s \\\\ x' user=a\\ b"),
        p(&[
            ("host", "h"),
            ("port", "5433"),
            ("dbname", "my db"),
            ("password", "it's \\ x"),
            ("user", "a b"),
        ])
    );
    assert_eq!(pairs(""), p(&[]));
    assert_eq!(pairs("  "), p(&[]));
    assert_eq!(pairs("dbname=''"), p(&[("dbname", "")]));
}

#[test]
fn kv_errors() {
    let e = parse_raw("host=h sslmod=require").unwrap_err().to_string();
    assert!(e.contains("\"sslmod\""), "{e}");
    let e = parse_raw("mydb").unwrap_err().to_string();
    assert!(e.contains("missing \"=\""), "{e}");
    let e = parse_raw("password='secret").unwrap_err().to_string();
    assert!(e.contains("unterminated") && !e.contains("secret'"), "{e}");
}

#[test]
fn redacted_uri() {
    let r = parse_raw("postgres://app:hunter22@db:5432/shop?sslmode=require").unwrap();
    assert_eq!(
        r.redacted(),
        "postgres://app:****@db:5432/shop?sslmode=require"
    );
    let r = parse_raw("postgresql://db/shop?password=hunter22&user=app").unwrap();
    assert_eq!(r.redacted(), "postgresql://app:****@db/shop");
    let r = parse_raw("postgres://%2Ftmp:5444,[::1]/d%20b").unwrap();
    assert_eq!(r.redacted(), "postgres://%2Ftmp:5444,[::1]/d%20b");
    let r = parse_raw("postgres://a,b/db?port=1").unwrap();
    assert_eq!(r.redacted(), "postgres://a,b/db?port=1");
}

#[test]
fn redacted_kv() {
    let r = parse_raw("host=h password=hunter22 dbname='my db' password=two").unwrap();
    assert_eq!(r.redacted(), "host=h dbname='my db' password=****");
    assert!(!r.redacted().contains("hunter22"));
}

#[test]
fn set_replaces_all_values() {
    let mut r = parse_raw("dbname=a dbname=b host=h").unwrap();
    r.set("dbname", "c");
    assert_eq!(r.get("dbname"), Some("c"));
    assert_eq!(r.redacted(), "host=h dbname=c");
}

#[test]
fn redacted_query_values_keep_paths_readable() {
    let r = parse_raw("postgres://h/db?sslrootcert=/etc/ca%20x.pem&options=-c%20a%3Db").unwrap();
    assert_eq!(
        r.redacted(),
        "postgres://h/db?sslrootcert=/etc/ca%20x.pem&options=-c%20a=b"
    );
    assert_eq!(parse_raw(&r.redacted()).unwrap().params, r.params);
}
