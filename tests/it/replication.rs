//! The logical replication client (`pgferry::repl`) against real servers
//! with `wal_level = logical` (every harness cluster has it): slot with an
//! exported snapshot, the pgoutput stream decoded change by change with
//! exact LSNs, confirmation, restart without loss or duplicates, TLS
//! verify-full, and errors without passwords. PostgreSQL 10, 15, 17, 18.
//!
//! `PGFERRY_CAPTURE_PGOUTPUT=1` also writes the raw pgoutput payloads of
//! the scenario to `tests/fixtures/pgoutput/<major>/` (the decoder's golden
//! frames, see `src/repl/pgoutput_tests.rs`).

use pgferry::localpg::LocalCluster;
use pgferry::pg::{ConnError, ConnSpec};
use pgferry::repl::{
    Lsn, OldTuple, PgOutputDecoder, PgOutputMessage, PgOutputOptions, RawEvent, ReplConnection,
    StreamEvent, Tuple, Value,
};
use std::time::Duration;

mod session;

const PUBLICATION: &str = "pgferry pub";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// TCP with the cluster password (md5 on 10, SCRAM on 15+). sslmode is
/// explicit so a PGSSLMODE set by another test cannot leak in.
fn spec(c: &LocalCluster, db: &str) -> ConnSpec {
    ConnSpec::parse(&format!("{}?sslmode=disable", c.uri(db))).expect("spec")
}

fn psql(c: &LocalCluster, db: &str, sql: &str) -> String {
    c.psql(db, sql)
        .unwrap_or_else(|e| panic!("psql on {db}: {e:#}"))
}

/// Runs `sql` in one transaction and returns its xid (as pgoutput sends it).
fn txn(c: &LocalCluster, db: &str, sql: &str) -> u32 {
    let out = psql(
        c,
        db,
        &format!("BEGIN; SELECT txid_current() % 4294967296; {sql}; COMMIT;"),
    );
    out.lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no xid in {out:?}"))
}

fn render_tuple(t: &Tuple) -> String {
    let vals: Vec<String> =
        t.0.iter()
            .map(|v| match v {
                Value::Null => "NULL".to_string(),
                Value::UnchangedToast => "UNCHANGED".to_string(),
                Value::Text(s) if s.len() > 100 => {
                    format!("<{} chars ending {}>", s.len(), &s[s.len() - 3..])
                }
                Value::Text(s) => s.clone(),
                Value::Binary(b) => format!("<{} bytes>", b.len()),
            })
            .collect();
    format!("({})", vals.join(","))
}

fn render_old(o: &Option<OldTuple>) -> String {
    match o {
        None => "-".into(),
        Some(OldTuple::Key(t)) => format!("K{}", render_tuple(t)),
        Some(OldTuple::Full(t)) => format!("O{}", render_tuple(t)),
    }
}

/// One line per change message (Begin/Commit are checked separately).
fn render(m: &PgOutputMessage) -> String {
    match m {
        PgOutputMessage::Relation(r) => {
            let cols: Vec<String> = r
                .columns
                .iter()
                .map(|c| {
                    let key = if c.is_key { ":key" } else { "" };
                    format!("{}:{}{key}", c.name, c.type_oid)
                })
                .collect();
            format!(
                "R {}.{} {:?} {}",
                r.namespace,
                r.name,
                r.replica_identity,
                cols.join(",")
            )
        }
        PgOutputMessage::Type(t) => format!("Y {}.{} {}", t.namespace, t.name, t.oid),
        PgOutputMessage::Insert { relation, new } => {
            format!("I {} {}", relation.name, render_tuple(new))
        }
        PgOutputMessage::Update { relation, old, new } => format!(
            "U {} old={} new={}",
            relation.name,
            render_old(old),
            render_tuple(new)
        ),
        PgOutputMessage::Delete { relation, old } => {
            format!("D {} {}", relation.name, render_old(&Some(old.clone())))
        }
        PgOutputMessage::Truncate {
            relations,
            cascade,
            restart_identity,
        } => {
            let mut names: Vec<&str> = relations.iter().map(|r| r.name.as_str()).collect();
            names.sort_unstable();
            format!(
                "T {} cascade={cascade} restart={restart_identity}",
                names.join(",")
            )
        }
        PgOutputMessage::Origin(o) => format!("O {}", o.name),
        PgOutputMessage::Message(m) => format!("M {}", m.prefix),
        PgOutputMessage::Begin(_) | PgOutputMessage::Commit(_) => unreachable!(),
    }
}

/// One decoded transaction, with the positions the stream gave it.
#[derive(Debug, Clone, PartialEq)]
struct Txn {
    xid: u32,
    begin_at: Lsn,
    final_lsn: Lsn,
    commit_lsn: Lsn,
    end_lsn: Lsn,
    commit_at: Lsn,
    lines: Vec<String>,
    /// (XLogData position, raw payload) of every message, Begin to Commit.
    frames: Vec<(Lsn, Vec<u8>)>,
}

/// Reads raw frames, decodes them, and groups them into transactions until
/// the Commit of every xid in `until` has been seen (30 s at most).
async fn read_txns(
    stream: &mut pgferry::repl::LogicalStream,
    decoder: &mut PgOutputDecoder,
    until: &[u32],
) -> Vec<Txn> {
    let mut done = Vec::new();
    let mut cur: Option<Txn> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !until.iter().all(|x| done.iter().any(|t: &Txn| t.xid == *x)) {
        let ev = tokio::time::timeout_at(deadline, stream.next_raw())
            .await
            .unwrap_or_else(|_| panic!("timed out; got {done:#?} and {cur:#?}"))
            .expect("stream")
            .expect("stream ended early");
        let RawEvent::XLogData {
            wal_start,
            wal_end,
            data,
            ..
        } = ev
        else {
            continue;
        };
        assert_eq!(wal_start, wal_end, "pgoutput frames carry one position");
        let raw = data.to_vec();
        let msg = decoder.decode(data).expect("decode");
        match msg {
            PgOutputMessage::Begin(b) => {
                assert!(cur.is_none(), "Begin inside a transaction");
                cur = Some(Txn {
                    xid: b.xid,
                    begin_at: wal_start,
                    final_lsn: b.final_lsn,
                    commit_lsn: Lsn::ZERO,
                    end_lsn: Lsn::ZERO,
                    commit_at: Lsn::ZERO,
                    lines: Vec::new(),
                    frames: vec![(wal_start, raw)],
                });
            }
            PgOutputMessage::Commit(c) => {
                let mut t = cur.take().expect("Commit outside a transaction");
                t.commit_lsn = c.commit_lsn;
                t.end_lsn = c.end_lsn;
                t.commit_at = wal_start;
                t.frames.push((wal_start, raw));
                done.push(t);
            }
            other => {
                let t = cur.as_mut().expect("change outside a transaction");
                t.lines.push(render(&other));
                t.frames.push((wal_start, raw));
            }
        }
    }
    assert!(cur.is_none(), "stopped inside a transaction");
    // Transactions of other sessions on this database (autovacuum's
    // ANALYZE, for one) show up empty on 10-14; they are not ours.
    done.retain(|t| until.contains(&t.xid));
    done
}

fn confirmed_flush(c: &LocalCluster, db: &str, slot: &str) -> Lsn {
    let out = psql(
        c,
        db,
        &format!("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{slot}'"),
    );
    out.trim().parse().expect("confirmed_flush_lsn")
}

/// Polls until the slot's confirmed_flush_lsn is `want` (10 s at most),
/// polling the stream meanwhile so its periodic status updates go out.
async fn wait_confirmed(
    c: &LocalCluster,
    db: &str,
    slot: &str,
    want: Lsn,
    stream: &mut pgferry::repl::LogicalStream,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = confirmed_flush(c, db, slot);
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "confirmed_flush_lsn stays {got}, expected {want}"
        );
        if let Ok(ev) = tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
            match ev.expect("stream") {
                Some(StreamEvent::Keepalive { .. }) => {}
                other => panic!("unexpected event while idle: {other:?}"),
            }
        }
    }
}

const SETUP: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE TABLE t_default (id int PRIMARY KEY, note text, big text, m mood, p pair);
ALTER TABLE t_default ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE t_full (id int, v text);
ALTER TABLE t_full REPLICA IDENTITY FULL;
CREATE TABLE t_index (a int NOT NULL, b int NOT NULL, v text);
CREATE UNIQUE INDEX t_index_ab ON t_index (a, b);
ALTER TABLE t_index REPLICA IDENTITY USING INDEX t_index_ab;
CREATE TABLE "MixedCase Tbl" ("Id" int PRIMARY KEY, "Val" text);
INSERT INTO t_default VALUES (1, 'before', NULL, 'ok', '(1,x)'), (2, 'before2', NULL, 'sad', NULL);
CREATE PUBLICATION "pgferry pub" FOR TABLE t_default, t_full, t_index, "MixedCase Tbl";
"#;

/// The whole scenario on one major.
fn scenario(major: u32) {
    let c = crate::support::cluster(major);
    let db = crate::support::fresh_db(c, "repl");
    psql(c, &db, SETUP);
    let oids = psql(
        c,
        &db,
        "SELECT 'mood'::regtype::oid || ',' || 'pair'::regtype::oid",
    );
    let (mood, pair) = oids.trim().split_once(',').expect("oids");
    let slot = format!("pgferry_it_{major}");
    let peek_slot = format!("peek_{major}");
    let spec = spec(c, &db);
    let opts = PgOutputOptions::new([PUBLICATION]);

    rt().block_on(async {
        // --- slot with exported snapshot, held by an idle session ---
        let mut holder_conn = ReplConnection::connect(&spec, "test holder")
            .await
            .expect("connect");
        assert_eq!(holder_conn.server_version_num() / 10_000, major);
        let ident = holder_conn.identify_system().await.expect("identify");
        let sysid = psql(c, &db, "SELECT system_identifier FROM pg_control_system()");
        assert_eq!(ident.system_id, sysid.trim());
        assert_eq!(ident.timeline, 1);
        assert_eq!(ident.dbname.as_deref(), Some(db.as_str()));
        assert!(ident.xlogpos > Lsn::ZERO);
        let mut holder = holder_conn
            .create_slot_with_snapshot(&slot, false)
            .await
            .expect("create slot");
        assert_eq!(holder.slot().slot_name, slot);
        assert_eq!(holder.slot().output_plugin, "pgoutput");
        assert!(holder.slot().consistent_point >= ident.xlogpos);
        // A second slot at the same point, read through SQL at the end: an
        // independent record of every position and payload.
        psql(
            c,
            &db,
            &format!("SELECT pg_create_logical_replication_slot('{peek_slot}', 'pgoutput')"),
        );

        // Committed after the slot: in the stream, not in the snapshot.
        let x1 = txn(
            c,
            &db,
            r#"INSERT INTO t_default VALUES (3, 'after slot', NULL, 'happy', '(2,"y z")')"#,
        );
        let seen = psql(
            c,
            &db,
            &format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '{}'; \
                 SELECT string_agg(id::text || ':' || note, ' ' ORDER BY id) FROM t_default; COMMIT;",
                holder.snapshot_name()
            ),
        );
        assert_eq!(seen.trim(), "1:before 2:before2");
        holder.check().await.expect("holder alive");
        // The holder's walsender keeps the snapshot's xmin while idle.
        let idle = psql(
            c,
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgferry test holder' \
             AND backend_xmin IS NOT NULL",
        );
        assert_eq!(idle.trim(), "1", "holder idle with a snapshot");

        // --- the changes ---
        let x2 = txn(
            c,
            &db,
            "INSERT INTO t_default VALUES (4, 'toast', repeat('x', 10000) || 'END', 'ok', '(3,)')",
        );
        let x3 = txn(c, &db, "UPDATE t_default SET note = 'changed' WHERE id = 4");
        let x4 = txn(c, &db, "UPDATE t_default SET id = 40 WHERE id = 4");
        let x5 = txn(
            c,
            &db,
            "UPDATE t_default SET big = NULL WHERE id = 40; DELETE FROM t_default WHERE id = 1",
        );
        let x6 = txn(
            c,
            &db,
            "INSERT INTO t_full VALUES (1, 'a'), (1, 'a'), (2, NULL); \
             UPDATE t_full SET v = 'b' WHERE id = 2; DELETE FROM t_full WHERE id = 1",
        );
        let x7 = txn(
            c,
            &db,
            "INSERT INTO t_index VALUES (1, 1, 'x'); UPDATE t_index SET v = 'y' WHERE a = 1; \
             UPDATE t_index SET b = 2 WHERE a = 1; DELETE FROM t_index WHERE a = 1",
        );
        let x8 = txn(
            c,
            &db,
            r#"INSERT INTO "MixedCase Tbl" VALUES (1, 'v'); UPDATE "MixedCase Tbl" SET "Val" = 'w' WHERE "Id" = 1"#,
        );
        let x9 = txn(c, &db, r#"TRUNCATE "MixedCase Tbl", t_full RESTART IDENTITY"#);
        let xids = [x1, x2, x3, x4, x5, x6, x7, x8, x9];

        // --- stream from the consistent point ---
        let stream_conn = ReplConnection::connect(&spec, "test stream")
            .await
            .expect("connect");
        let mut stream = stream_conn
            .start_logical(&slot, holder.slot().consistent_point, &opts)
            .await
            .expect("start");
        let mut decoder = PgOutputDecoder::new();
        let txns = read_txns(&mut stream, &mut decoder, &xids).await;
        let got: Vec<u32> = txns.iter().map(|t| t.xid).collect();
        assert_eq!(got, xids, "every transaction once, in commit order");

        let td = format!("R public.t_default Default id:23:key,note:25,big:25,m:{mood},p:{pair}");
        let big = "<10003 chars ending END>";
        let mut expected: Vec<Vec<String>> = vec![
            vec![
                format!("Y public.mood {mood}"),
                format!("Y public.pair {pair}"),
                td.clone(),
                r#"I t_default (3,after slot,NULL,happy,(2,"y z"))"#.into(),
            ],
            vec![format!("I t_default (4,toast,{big},ok,(3,))")],
            vec!["U t_default old=- new=(4,changed,UNCHANGED,ok,(3,))".into()],
            vec![
                "U t_default old=K(4,NULL,NULL,NULL,NULL) new=(40,changed,UNCHANGED,ok,(3,))"
                    .into(),
            ],
            vec![
                "U t_default old=- new=(40,changed,NULL,ok,(3,))".into(),
                "D t_default K(1,NULL,NULL,NULL,NULL)".into(),
            ],
            vec![
                "R public.t_full Full id:23:key,v:25:key".into(),
                "I t_full (1,a)".into(),
                "I t_full (1,a)".into(),
                "I t_full (2,NULL)".into(),
                "U t_full old=O(2,NULL) new=(2,b)".into(),
                "D t_full O(1,a)".into(),
                "D t_full O(1,a)".into(),
            ],
            vec![
                "R public.t_index Index a:23:key,b:23:key,v:25".into(),
                "I t_index (1,1,x)".into(),
                "U t_index old=- new=(1,1,y)".into(),
                "U t_index old=K(1,1,NULL) new=(1,2,y)".into(),
                "D t_index K(1,2,NULL)".into(),
            ],
            vec![
                "R public.MixedCase Tbl Default Id:23:key,Val:25".into(),
                "I MixedCase Tbl (1,v)".into(),
                "U MixedCase Tbl old=- new=(1,w)".into(),
            ],
            // PostgreSQL 10 does not decode TRUNCATE: an empty transaction.
            // Later ones describe the relations again first (TRUNCATE gives
            // them new files, which resets pgoutput's "schema sent" flag).
            if major >= 11 {
                vec![
                    "R public.MixedCase Tbl Default Id:23:key,Val:25".into(),
                    "R public.t_full Full id:23:key,v:25:key".into(),
                    "T MixedCase Tbl,t_full cascade=false restart=true".into(),
                ]
            } else {
                vec![]
            },
        ];
        for (i, (t, want)) in txns.iter().zip(&expected).enumerate() {
            assert_eq!(&t.lines, want, "transaction {} (xid {})", i + 1, t.xid);
        }

        // --- positions ---
        let mut prev_end = holder.slot().consistent_point;
        for t in &txns {
            assert_eq!(t.final_lsn, t.commit_lsn, "Begin names the commit record");
            assert!(t.end_lsn > t.commit_lsn);
            assert_eq!(t.commit_at, t.end_lsn, "Commit frame sits at the record end");
            assert!(t.begin_at >= prev_end, "transactions in WAL order");
            let mut last = t.begin_at;
            for (lsn, raw) in &t.frames[1..t.frames.len() - 1] {
                // Relation and Type messages belong to no WAL record: the
                // server sends them with position 0/0.
                if matches!(raw.first(), Some(b'R' | b'Y')) {
                    assert_eq!(*lsn, Lsn::ZERO, "schema message position");
                    continue;
                }
                assert!(
                    *lsn >= last && *lsn < t.commit_lsn,
                    "change at {lsn} outside its transaction (previous {last}, commit {}): {t:?}",
                    t.commit_lsn
                );
                last = *lsn;
            }
            prev_end = t.end_lsn;
        }
        // The SQL interface on a twin slot reports the same positions and
        // the same bytes for every message.
        let peek = psql(
            c,
            &db,
            &format!(
                "SELECT lsn || ' ' || xid || ' ' || encode(data, 'hex') FROM \
                 pg_logical_slot_peek_binary_changes('{peek_slot}', '{}', NULL, \
                 'proto_version', '1', 'publication_names', '\"{PUBLICATION}\"')",
                prev_end
            ),
        );
        let mut sql_frames: Vec<(Lsn, u32, Vec<u8>)> = Vec::new();
        for line in peek.lines() {
            let mut parts = line.split(' ');
            let lsn: Lsn = parts.next().unwrap().parse().unwrap();
            let xid: u32 = parts.next().unwrap().parse().unwrap();
            let hex = parts.next().unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            sql_frames.push((lsn, xid, bytes));
        }
        sql_frames.retain(|(_, xid, _)| xids.contains(xid));
        let ours: Vec<(Lsn, u32, Vec<u8>)> = txns
            .iter()
            .flat_map(|t| t.frames.iter().map(move |(l, b)| (*l, t.xid, b.clone())))
            .collect();
        assert_eq!(ours.len(), sql_frames.len(), "message count as in SQL decoding");
        for (i, (a, b)) in ours.iter().zip(&sql_frames).enumerate() {
            // The SQL interface gives schema messages the position of the
            // change that made them necessary; the stream gives 0/0.
            if matches!(a.2.first(), Some(b'R' | b'Y')) {
                assert_eq!((a.1, &a.2), (b.1, &b.2), "schema message {i}");
                continue;
            }
            assert!(
                a == b,
                "message {i} differs from SQL decoding:\n stream {a:?}\n    sql {b:?}"
            );
        }
        psql(c, &db, &format!("SELECT pg_drop_replication_slot('{peek_slot}')"));

        if std::env::var_os("PGFERRY_CAPTURE_PGOUTPUT").is_some() {
            capture(major, &txns);
        }

        // --- confirm through transaction 5: the server's slot follows ---
        let confirmed = txns[4].end_lsn;
        stream.confirm(confirmed).await.expect("confirm");
        wait_confirmed(c, &db, &slot, confirmed, &mut stream).await;
        // Periodic status updates carry a later position without a confirm().
        stream.set_status_interval(Duration::from_millis(200));
        let later = txns[5].end_lsn;
        stream.set_positions(later, later, later);
        // The server must hear of it from the timer; a lower position
        // given now must not move the slot back.
        stream.set_positions(confirmed, confirmed, confirmed);
        wait_confirmed(c, &db, &slot, later, &mut stream).await;
        let conn = stream.stop().await.expect("stop");
        conn.close().await;
        assert_eq!(confirmed_flush(c, &db, &slot), later);

        // --- restart from the confirmed position (6's end): 7.. again, nothing before ---
        let x10 = txn(c, &db, r#"INSERT INTO "MixedCase Tbl" VALUES (2, 'after restart')"#);
        let mut stream = ReplConnection::connect(&spec, "test stream 2")
            .await
            .expect("connect")
            .start_logical(&slot, Lsn::ZERO, &opts)
            .await
            .expect("restart");
        let mut decoder = PgOutputDecoder::new();
        let again = read_txns(&mut stream, &mut decoder, &[x7, x8, x9, x10]).await;
        let got: Vec<u32> = again.iter().map(|t| t.xid).collect();
        assert_eq!(got, [x7, x8, x9, x10], "nothing twice, nothing lost");
        for (a, b) in again.iter().zip(&txns[6..9]) {
            assert_eq!(a, b, "a re-sent transaction is identical");
        }
        // Described again: the TRUNCATE (even undecoded, on 10) gave the
        // table a new file, which resets pgoutput's "schema sent" flag.
        expected.push(vec![
            "R public.MixedCase Tbl Default Id:23:key,Val:25".into(),
            "I MixedCase Tbl (2,after restart)".into(),
        ]);
        assert_eq!(again[3].lines, expected[9]);
        // (a record can start exactly where the previous commit ended)
        assert!(
            again[3].begin_at >= txns[8].end_lsn,
            "{:?} after {:?}",
            again[3],
            txns[8]
        );
        // Nothing of transactions 1-6 arrives later either.
        let quiet = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
        if let Ok(ev) = quiet {
            assert!(
                matches!(ev.expect("stream"), Some(StreamEvent::Keepalive { .. })),
                "only keepalives after the last transaction"
            );
        }

        // --- clean stop, then drop the slot on the same session ---
        let mut conn = stream.stop().await.expect("stop");
        holder.close().await;
        conn.drop_slot(&slot, true).await.expect("drop slot");
        let left = psql(
            c,
            &db,
            &format!("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"),
        );
        assert_eq!(left.trim(), "0", "slot dropped");
        // A second drop is a clear server error naming the command.
        let e = conn.drop_slot(&slot, false).await.unwrap_err();
        assert_eq!(e.code(), Some("42704"), "{e}");
        assert!(e.to_string().contains("DROP_REPLICATION_SLOT"), "{e}");
        assert!(!e.to_string().contains(c.password()), "{e}");
        conn.close().await;
    });
}

/// Writes the scenario's raw payloads as golden frames, one file per
/// message in stream order.
fn capture(major: u32, txns: &[Txn]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pgoutput")
        .join(major.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut n = 0;
    for t in txns {
        for (_, bytes) in &t.frames {
            std::fs::write(dir.join(format!("{n:03}.bin")), bytes).expect("write");
            n += 1;
        }
    }
}

#[test]
fn stream_pg10() {
    scenario(10);
}

#[test]
fn stream_pg15() {
    scenario(15);
}

#[test]
fn stream_pg17() {
    scenario(17);
}

#[test]
fn stream_pg18() {
    scenario(18);
}
