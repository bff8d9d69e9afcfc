//! Replication sessions beyond the main scenario: unix sockets and pinned
//! settings, temporary slots, logical messages, TLS verify-full, start-up
//! errors without passwords, keepalive replies, a large transaction, and a
//! stream ended by the server.

use super::*;
use pgferry::repl::{ReplError, SnapshotAction};

/// Unix socket (trust), `messages` refused below 14, SQL on a replication
/// session, temporary slot without snapshot, and a slot-in-use error.
#[test]
fn socket_session_and_temporary_slot() {
    for major in [10, 17] {
        let c = crate::support::cluster(major);
        let db = crate::support::fresh_db(c, "repl_sock");
        psql(
            c,
            &db,
            "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t;",
        );
        let spec = ConnSpec::parse(&c.socket_conninfo(&db)).expect("spec");
        rt().block_on(async {
            let mut conn = ReplConnection::connect(&spec, "test socket")
                .await
                .expect("socket connect");
            // The pinned session settings are in force on the walsender.
            for (name, want) in [
                ("DateStyle", "ISO, YMD"),
                ("IntervalStyle", "postgres"),
                ("TimeZone", "UTC"),
                ("extra_float_digits", "3"),
                ("client_encoding", "UTF8"),
            ] {
                assert_eq!(conn.show(name).await.expect("show"), want, "{name}");
            }
            // Text that cannot be sent is refused without disturbing the
            // session; so are setting names that are not plain names.
            let e = conn.simple_query("SELECT 1\0").await.unwrap_err();
            assert!(e.to_string().contains("NUL byte"), "{e}");
            assert!(conn.show("x; DROP TABLE t").await.is_err());
            let r = conn.simple_query("SELECT 1 AS one").await.expect("usable");
            assert_eq!(
                (r.columns, r.rows),
                (vec!["one".to_string()], vec![vec![Some("1".to_string())]])
            );
            let slot = conn
                .create_logical_slot("tmp_slot", true, SnapshotAction::Nothing)
                .await
                .expect("temporary slot");
            assert_eq!(slot.snapshot_name, None);
            let persistence = psql(
                c,
                &db,
                "SELECT temporary FROM pg_replication_slots WHERE slot_name = 'tmp_slot'",
            );
            assert_eq!(persistence.trim(), "t");

            let mut opts = PgOutputOptions::new(["p"]);
            opts.messages = true;
            let other = ReplConnection::connect(&spec, "test other")
                .await
                .expect("connect");
            if major < 14 {
                let e = other
                    .start_logical("tmp_slot", Lsn::ZERO, &opts)
                    .await
                    .unwrap_err();
                assert!(e.to_string().contains("needs PostgreSQL 14"), "{e}");
            } else {
                // A temporary slot belongs to its session: another one
                // cannot stream it (a server error, with its SQLSTATE).
                let e = other
                    .start_logical("tmp_slot", Lsn::ZERO, &opts)
                    .await
                    .unwrap_err();
                assert_eq!(e.code(), Some("55006"), "{e}");
            }
            // The creating session streams its temporary slot; on 14+ with
            // logical messages, which arrive decoded.
            opts.messages = major >= 14;
            let mut stream = conn
                .start_logical("tmp_slot", Lsn::ZERO, &opts)
                .await
                .expect("start");
            let x = txn(c, &db, "INSERT INTO t VALUES (7)");
            if major >= 14 {
                psql(
                    c,
                    &db,
                    "SELECT pg_logical_emit_message(true, 'pgferry', 'hello')",
                );
            }
            let mut want = vec!["B", "R public.t Default id:23:key", "I t (7)", "C"];
            if major >= 14 {
                want.extend(["B", "M pgferry", "C"]);
            }
            let mut seen = Vec::new();
            while seen.len() < want.len() {
                let ev = tokio::time::timeout(Duration::from_secs(20), stream.next())
                    .await
                    .expect("timely")
                    .expect("stream")
                    .expect("open");
                if let StreamEvent::Message { message, .. } = ev {
                    match message {
                        PgOutputMessage::Begin(b) if seen.is_empty() => {
                            assert_eq!(b.xid, x);
                            seen.push("B".to_string());
                        }
                        PgOutputMessage::Begin(_) => seen.push("B".into()),
                        PgOutputMessage::Commit(_) => seen.push("C".into()),
                        PgOutputMessage::Message(m) => {
                            assert!(m.transactional);
                            assert_eq!(&m.content[..], b"hello");
                            seen.push(format!("M {}", m.prefix));
                        }
                        other => seen.push(render(&other)),
                    }
                }
            }
            assert_eq!(seen, want);
            let conn = stream.stop().await.expect("stop");
            conn.close().await;
            // Closing the session dropped the temporary slot.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let n = psql(
                    c,
                    &db,
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tmp_slot'",
                );
                if n.trim() == "0" {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "temporary slot left behind"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }
}

/// verify-full through the harness CA: works by name and by IP; a foreign
/// CA and a wrong host name are TLS errors; no password anywhere.
#[test]
fn tls_verify_full() {
    let c = crate::support::tls_cluster();
    let db = crate::support::fresh_db(c, "repl_tls");
    let ca = c.ca_cert_path().expect("CA").display().to_string();
    let pw = c.password().to_string();
    let base = |host: &str, extra: &str, root: &str| {
        format!(
            "host={host} port={} user=postgres password={pw} dbname={db} sslmode=verify-full sslrootcert={root} {extra}",
            c.port()
        )
    };
    rt().block_on(async {
        for host in ["localhost", "127.0.0.1"] {
            let spec = ConnSpec::parse(&base(host, "", &ca)).expect("spec");
            let mut conn = ReplConnection::connect(&spec, "test tls")
                .await
                .expect("verify-full");
            let r = conn
                .simple_query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .await
                .expect("query");
            assert_eq!(
                r.rows,
                vec![vec![Some("true".to_string())]],
                "encrypted via {host}"
            );
            conn.identify_system().await.expect("identify over TLS");
            conn.close().await;
        }
        let other = crate::support::other_ca();
        let e = ReplConnection::connect(
            &ConnSpec::parse(&base("localhost", "", other)).unwrap(),
            "t",
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ConnError::Tls { .. }), "{e}");
        assert!(e.to_string().contains("not trusted"), "{e}");
        assert!(e.is_configuration());
        let wrong_name = base("wrong.example", "hostaddr=127.0.0.1", &ca);
        let e = ReplConnection::connect(&ConnSpec::parse(&wrong_name).unwrap(), "t")
            .await
            .unwrap_err();
        assert!(matches!(e, ConnError::Tls { .. }), "{e}");
        assert!(
            e.to_string().contains("does not match the host name"),
            "{e}"
        );
        for msg in [e.to_string(), format!("{e:?}")] {
            assert!(!msg.contains(&pw), "password in {msg}");
        }
    });
    // A server without TLS and sslmode=require: a TLS error, not plaintext.
    let plain = crate::support::cluster(15);
    let s = format!("{}?sslmode=require", plain.uri("postgres"));
    let e = rt()
        .block_on(ReplConnection::connect(&ConnSpec::parse(&s).unwrap(), "t"))
        .unwrap_err();
    assert!(matches!(e, ConnError::Tls { .. }), "{e}");
    assert!(e.to_string().contains("does not support SSL"), "{e}");
}

/// Bad password (md5 on 10, SCRAM on 15+), unknown database, unreachable
/// port: the usual ConnErrors (exit 2), never with the password.
#[test]
fn connection_errors_hide_the_password() {
    for major in [10, 15] {
        let c = crate::support::cluster(major);
        let wrong = "Wr0ng-Secret-Pw";
        let cases = [
            (
                format!("postgres://postgres:{wrong}@127.0.0.1:{}/postgres?sslmode=disable", c.port()),
                "auth",
            ),
            (
                format!("{}?sslmode=disable", c.uri("no_such_db")),
                "nodb",
            ),
            (
                format!("postgres://postgres:{wrong}@127.0.0.1:{}/postgres?sslmode=disable&connect_timeout=3", free_port()),
                "unreachable",
            ),
        ];
        for (s, kind) in cases {
            let spec = ConnSpec::parse(&s).expect("spec");
            let e = rt()
                .block_on(ReplConnection::connect(&spec, "test errors"))
                .unwrap_err();
            match kind {
                "auth" => assert!(matches!(e, ConnError::Auth { .. }), "{major}: {e}"),
                "nodb" => assert!(matches!(e, ConnError::NoDatabase { .. }), "{major}: {e}"),
                _ => assert!(matches!(e, ConnError::Unreachable { .. }), "{major}: {e}"),
            }
            assert!(e.is_configuration(), "{e}");
            // As a command starts (where pgferry opens it), exit 2; the same
            // failure in the middle of a run is exit 3 (resumable).
            let exit = pgferry::error::exit_for(&anyhow::Error::new(pgferry::pg::AtStart(e)));
            assert_eq!(exit, pgferry::error::Exit::Usage);
            let e = rt()
                .block_on(ReplConnection::connect(&spec, "test errors"))
                .unwrap_err();
            for msg in [e.to_string(), format!("{e:?}")] {
                assert!(!msg.contains(wrong), "{major} {kind}: password in {msg}");
                assert!(
                    !msg.contains(c.password()),
                    "{major} {kind}: password in {msg}"
                );
                assert!(
                    msg.contains("the source"),
                    "{major} {kind}: which end? {msg}"
                );
            }
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The server asks for replies (wal_sender_timeout 2 s, a per-session
/// setting since PostgreSQL 12) and the stream answers them, so it outlives
/// 6 s of silence; a 20,000-row transaction then arrives message by
/// message; an administrator's pg_terminate_backend ends the stream with a
/// clear error.
#[test]
fn keepalive_big_transaction_and_termination() {
    for major in [15, 18] {
        let c = crate::support::cluster(major);
        let db = crate::support::fresh_db(c, "repl_ka");
        psql(
            c,
            &db,
            "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR TABLE t;",
        );
        let s = format!(
            "{}?sslmode=disable&options=-c%20wal_sender_timeout%3D2000",
            c.uri(&db)
        );
        let spec = ConnSpec::parse(&s).expect("spec");
        rt().block_on(async {
            let mut conn = ReplConnection::connect(&spec, "test keepalive")
                .await
                .expect("connect");
            assert_eq!(conn.show("wal_sender_timeout").await.expect("show"), "2s");
            let slot = conn
                .create_logical_slot("ka_slot", true, SnapshotAction::Nothing)
                .await
                .expect("slot");
            let mut stream = conn
                .start_logical(
                    "ka_slot",
                    slot.consistent_point,
                    &PgOutputOptions::new(["p"]),
                )
                .await
                .expect("start");
            let quiet_until = tokio::time::Instant::now() + Duration::from_secs(6);
            let mut asked = 0;
            while let Ok(ev) = tokio::time::timeout_at(quiet_until, stream.next_raw()).await {
                match ev.expect("the stream survives the silence") {
                    Some(RawEvent::Keepalive {
                        reply_requested, ..
                    }) => asked += u32::from(reply_requested),
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert!(asked >= 2, "the server asked for a reply {asked} times");

            let x = txn(
                c,
                &db,
                "INSERT INTO t SELECT g, repeat('v', 100) || g FROM generate_series(1, 20000) g",
            );
            let mut inserts = 0u32;
            loop {
                let ev = tokio::time::timeout(Duration::from_secs(30), stream.next())
                    .await
                    .expect("timely")
                    .expect("stream")
                    .expect("open");
                let StreamEvent::Message { message, .. } = ev else {
                    continue;
                };
                match message {
                    PgOutputMessage::Begin(b) => assert_eq!(b.xid, x),
                    PgOutputMessage::Relation(r) => assert_eq!(r.name, "t"),
                    PgOutputMessage::Insert { new, .. } => {
                        inserts += 1;
                        let want = [
                            Value::Text(inserts.to_string()),
                            Value::Text(format!("{}{inserts}", "v".repeat(100))),
                        ];
                        assert_eq!(new.0, want);
                    }
                    PgOutputMessage::Commit(_) => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(inserts, 20_000);

            psql(
                c,
                &db,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = 'pgferry test keepalive'",
            );
            let e = loop {
                match tokio::time::timeout(Duration::from_secs(10), stream.next())
                    .await
                    .expect("timely")
                {
                    Ok(Some(StreamEvent::Keepalive { .. })) => continue,
                    Ok(other) => panic!("expected an error, got {other:?}"),
                    Err(e) => break e,
                }
            };
            // A walsender killed in copy mode just closes the socket (no
            // ErrorResponse, so the copy protocol is not broken mid-message).
            assert!(
                matches!(e, ReplError::Closed { .. }) || e.code() == Some("57P01"),
                "{e:?}"
            );
            assert!(e.to_string().contains("stream"), "{e}");
            assert!(e.to_string().contains("the source"), "{e}");
            assert!(!e.to_string().contains(c.password()), "{e}");
            assert!(
                matches!(stream.next().await, Ok(None)),
                "ended after the error"
            );
        });
    }
}

/// A server (here: the session defaults) with short idle and transaction
/// timeouts kills an idle exporting session, and the snapshot with it
/// (control); the holder turns them off and its snapshot outlives them.
#[test]
fn snapshot_holder_survives_session_timeouts() {
    for major in [10, 17] {
        let c = crate::support::cluster(major);
        let db = crate::support::fresh_db(c, "repl_hold");
        psql(c, &db, "CREATE TABLE t (id int); INSERT INTO t VALUES (1);");
        let mut options =
            "-c idle_in_transaction_session_timeout=1000 -c statement_timeout=1000".to_string();
        if major >= 17 {
            options.push_str(" -c transaction_timeout=1500");
        }
        let s = format!(
            "host=127.0.0.1 port={} user=postgres password={} dbname={db} sslmode=disable options='{options}'",
            c.port(),
            c.password()
        );
        let spec = ConnSpec::parse(&s).expect("spec");
        let import = |name: &str| {
            c.psql(
                &db,
                &format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '{name}'; \
                     SELECT count(*) FROM t; COMMIT;"
                ),
            )
        };
        rt().block_on(async {
            // Control: without the holder's settings the snapshot dies.
            let mut bare = ReplConnection::connect(&spec, "test bare")
                .await
                .expect("connect");
            let slot = bare
                .create_logical_slot("bare_slot", true, SnapshotAction::Export)
                .await
                .expect("slot");
            let bare_snapshot = slot.snapshot_name.expect("exported");
            tokio::time::sleep(Duration::from_millis(2500)).await;
            assert!(
                import(&bare_snapshot).is_err(),
                "the timeout should kill it"
            );

            let mut holder = ReplConnection::connect(&spec, "test holder 2")
                .await
                .expect("connect")
                .create_slot_with_snapshot("held_slot", true)
                .await
                .expect("slot");
            tokio::time::sleep(Duration::from_millis(2500)).await;
            holder.check().await.expect("holder alive");
            let n = import(holder.snapshot_name()).expect("snapshot still importable");
            assert_eq!(n.trim(), "1");
            holder.close().await;
        });
    }
}

/// Several hosts are tried in order, as libpq does: a dead first host does
/// not stop the connection.
#[test]
fn hosts_are_tried_in_order() {
    let c = crate::support::cluster(15);
    let s = format!(
        "host=127.0.0.1,127.0.0.1 port={},{} user=postgres password={} dbname=postgres sslmode=disable connect_timeout=3",
        free_port(),
        c.port(),
        c.password()
    );
    let spec = ConnSpec::parse(&s).expect("spec");
    rt().block_on(async {
        let mut conn = ReplConnection::connect(&spec, "test hosts")
            .await
            .expect("second host");
        let port = conn
            .simple_query("SELECT current_setting('port')")
            .await
            .expect("query");
        assert_eq!(port.rows, vec![vec![Some(c.port().to_string())]]);
        conn.close().await;
    });
}
