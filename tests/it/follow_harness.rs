//! Helpers of the follow-mode tests: a task between two databases, the
//! follower in the background, pgbench as the writer, and the comparisons
//! every test ends with.

use crate::support::compare::assert_same_schema;
use crate::support::{
    assert_verified_equal, cluster, fresh_db, pg_dump_schema, pgferry, pgferry_command, scratch_dir,
};
use pgferry::localpg::LocalCluster;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One follow task between two fresh databases.
pub(super) struct Task {
    pub(super) src: &'static LocalCluster,
    pub(super) dst: &'static LocalCluster,
    pub(super) sdb: String,
    pub(super) tdb: String,
    pub(super) state: PathBuf,
    pub(super) extra: Vec<String>,
}

impl Task {
    pub(super) fn new(source_major: u32, prefix: &str) -> Task {
        Task::on(cluster(source_major), cluster(15), prefix)
    }

    /// On given clusters (own ones, for tests that restart a server).
    pub(super) fn on(src: &'static LocalCluster, dst: &'static LocalCluster, prefix: &str) -> Task {
        let (sdb, tdb) = (fresh_db(src, prefix), fresh_db(dst, prefix));
        let state = scratch_dir().join(format!("state-{sdb}"));
        Task {
            src,
            dst,
            sdb,
            tdb,
            state,
            extra: Vec::new(),
        }
    }

    pub(super) fn su(&self) -> String {
        self.src.uri(&self.sdb)
    }

    pub(super) fn du(&self) -> String {
        self.dst.uri(&self.tdb)
    }

    pub(super) fn args(&self, cmd: &str) -> Vec<String> {
        let mut v = vec![
            cmd.to_string(),
            "--source".into(),
            self.su(),
            "--target".into(),
            self.du(),
            "--state-dir".into(),
            self.state.display().to_string(),
        ];
        v.extend(self.extra.iter().cloned());
        v
    }

    /// `migrate --follow` in the background, its stderr in a file.
    pub(super) fn start(&self, resume: bool, fault: Option<&str>) -> Follower {
        self.start_with(resume, fault, None)
    }

    pub(super) fn start_with(
        &self,
        resume: bool,
        fault: Option<&str>,
        delay: Option<&str>,
    ) -> Follower {
        let mut args = self.args("migrate");
        args.extend(["--follow", "--jobs", "2"].map(String::from));
        if resume {
            args.push("--resume".into());
        }
        let log = self.state.with_extension(format!(
            "{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = pgferry_command(&refs);
        cmd.stdout(Stdio::null()).stderr(file);
        if let Some(f) = fault {
            cmd.env("PGFERRY_FAULT", f);
        }
        if let Some(d) = delay {
            cmd.env("PGFERRY_DELAY", d);
        }
        Follower {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    pub(super) fn cutover(&self) -> serde_json::Value {
        let mut args = self.args("cutover");
        args.push("--json".into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = pgferry(&refs);
        if !out.status.success() {
            self.show_differences("events");
        }
        assert!(
            out.status.success(),
            "cutover failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Prints rows present on one end only (to diagnose a failure).
    pub(super) fn show_differences(&self, table: &str) {
        let sql = format!("SELECT x::text FROM {table} x ORDER BY 1");
        let a: std::collections::BTreeSet<String> =
            self.q(&sql).lines().map(String::from).collect();
        let b: std::collections::BTreeSet<String> =
            self.qt(&sql).lines().map(String::from).collect();
        for r in a.difference(&b).take(10) {
            eprintln!("source only in {table}: {r}");
        }
        for r in b.difference(&a).take(10) {
            eprintln!("target only in {table}: {r}");
        }
        eprintln!(
            "progress: {}",
            self.qt("SELECT string_agg(slot || ' ' || lsn, ',') FROM _pgferry.follow_progress")
        );
    }

    pub(super) fn q(&self, sql: &str) -> String {
        self.src.psql(&self.sdb, sql).unwrap().trim().to_string()
    }

    pub(super) fn qt(&self, sql: &str) -> String {
        self.dst.psql(&self.tdb, sql).unwrap().trim().to_string()
    }

    /// Nothing of pgferry's left: no slot, publication or guard schema on
    /// the source, no `_pgferry` schema on the target.
    pub(super) fn assert_clean(&self) {
        assert_eq!(
            self.q("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgferry%' AND database = current_database()"),
            "0"
        );
        assert_eq!(self.q("SELECT count(*) FROM pg_publication"), "0");
        assert_eq!(
            self.q("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pgferry%'"),
            "0"
        );
        assert_eq!(
            self.qt("SELECT count(*) FROM pg_namespace WHERE nspname = '_pgferry'"),
            "0"
        );
    }

    /// pgferry's verify, then an independent comparison: schema dumps,
    /// per-table counts and md5 of the sorted rows, sequence values.
    pub(super) fn assert_equal(&self, tables: &[(&str, &str)]) {
        assert_verified_equal(&self.su(), &self.du());
        assert_same_schema(
            &without_attver(&pg_dump_schema(self.src, &self.sdb)),
            &without_attver(&pg_dump_schema(self.dst, &self.tdb)),
            "follow",
        );
        self.assert_rows(tables);
        let seqs = "SELECT string_agg(sequencename || '=' || coalesce(last_value, 0), ',' \
                    ORDER BY sequencename) FROM pg_sequences";
        assert_eq!(self.q(seqs), self.qt(seqs), "sequences");
    }

    /// `(source table, target table)` pairs: same count and md5 of rows.
    pub(super) fn assert_rows(&self, tables: &[(&str, &str)]) {
        for (s, t) in tables {
            let sum = |tbl: &str| {
                format!(
                    "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, ',' ORDER BY \
                     x::text)), '') FROM {tbl} x"
                )
            };
            assert_eq!(self.q(&sum(s)), self.qt(&sum(t)), "rows of {s} / {t}");
        }
    }
}

/// The PostgreSQL 15 build of this machine gives every new column an
/// attribute option `pg_attver=<counter>` by itself (checked: it is there
/// right after CREATE TABLE, before any pgferry step), and its pg_dump
/// writes it out; the counter differs between any two servers.
pub(super) fn without_attver(dump: &str) -> String {
    dump.lines()
        .filter(|l| !l.contains("SET (pg_attver="))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) struct Follower {
    pub(super) child: Child,
    log: PathBuf,
}

impl Follower {
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the full load is done and the follower follows.
    pub(super) fn wait_following(&mut self) {
        let t = Instant::now();
        while !self.log().contains("following the source's changes") {
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!(
                    "migrate --follow ended ({s}) before following:\n{}",
                    self.log()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "not following after 120 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the process to end; returns its exit code (None: a signal).
    pub(super) fn wait(&mut self, limit: Duration) -> Option<i32> {
        let t = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            if t.elapsed() > limit {
                self.child.kill().ok();
                panic!("migrate --follow did not end in {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// pgbench on the source: `-c 4` until stopped, the standard TPC-B-like
/// script plus inserts into a serial-keyed table.
pub(super) struct Pgbench(Child);

pub(super) fn pgbench_bin(_: &LocalCluster) -> PathBuf {
    pgferry::localpg::find_client_tool("pgbench", None).unwrap()
}

pub(super) fn conn_args(t: &Task) -> Vec<String> {
    vec![
        "-h".into(),
        t.src.socket_dir().display().to_string(),
        "-p".into(),
        t.src.port().to_string(),
        "-U".into(),
        t.src.superuser().to_string(),
        t.sdb.clone(),
    ]
}

pub(super) fn pgbench_init(t: &Task, scale: u32) {
    let out = Command::new(pgbench_bin(t.src))
        .args(["-i", "-q", "-s", &scale.to_string()])
        .args(conn_args(t))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // pgbench_history has no key: insert-only, so identity FULL is enough.
    t.q("ALTER TABLE pgbench_history REPLICA IDENTITY FULL; \
         CREATE TABLE events (id bigserial PRIMARY KEY, aid int, note text, at timestamptz DEFAULT now());");
}

pub(super) fn pgbench_start(t: &Task, clients: u32) -> Pgbench {
    let script = scratch_dir().join(format!("{}-events.sql", t.sdb));
    std::fs::write(
        &script,
        "\\set aid random(1, 100000 * :scale)\n\
         INSERT INTO events (aid, note) VALUES (:aid, 'n' || :aid);\n\
         UPDATE events SET note = note || 'u' WHERE id = (SELECT max(id) FROM events);\n",
    )
    .unwrap();
    let child = Command::new(pgbench_bin(t.src))
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-T",
            "600",
            "-b",
            "tpcb-like@5",
        ])
        .arg("-f")
        .arg(format!("{}@1", script.display()))
        .args(conn_args(t))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Pgbench(child)
}

impl Pgbench {
    /// Stops the writers (their open transactions abort) and waits for them.
    pub(super) fn stop(mut self) {
        unsafe_sigint(self.0.id());
        let t = Instant::now();
        while self.0.try_wait().unwrap().is_none() {
            if t.elapsed() > Duration::from_secs(10) {
                self.0.kill().ok();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub(super) fn unsafe_sigint(pid: u32) {
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .ok();
}

pub(super) const PGBENCH_TABLES: &[(&str, &str)] = &[
    ("pgbench_accounts", "pgbench_accounts"),
    ("pgbench_branches", "pgbench_branches"),
    ("pgbench_tellers", "pgbench_tellers"),
    ("pgbench_history", "pgbench_history"),
    ("events", "events"),
];

/// Own clusters: a test that restarts a server must not disturb the others.
pub(super) fn own_cluster(major: u32) -> &'static LocalCluster {
    let c = LocalCluster::start(&pgferry::localpg::ClusterOptions {
        major,
        ..Default::default()
    })
    .expect("own cluster");
    Box::leak(Box::new(c))
}
