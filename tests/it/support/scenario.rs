//! The setup of a migration test, once: a fresh source database loaded with
//! a fixture, a fresh target database, a state directory of its own; and the
//! [`Migrate`] between them. The fault, resume and hardening tests all start
//! this way.

use super::{cluster, fresh_db, scratch_dir, Migrate};
use pgferry::localpg::{ClusterOptions, LocalCluster};
use std::path::{Path, PathBuf};

/// Five tables (one of them, public.big, large enough to be split in
/// ranges), a sequence, indexes: what the resume tests kill and resume.
pub const RESUME_FIXTURE: &str = include_str!("../../fixtures/resume.sql");

/// One table whose COPY lasts long enough (about 100 MB, a few seconds) to
/// be caught in pg_stat_activity and interrupted.
pub const HUGE_TABLE: &str = "CREATE TABLE public.huge (id int, pad text); \
    INSERT INTO public.huge SELECT g, repeat('x', 400) FROM generate_series(1, 250000) g;";

enum Target {
    Shared(&'static LocalCluster),
    /// A cluster the test may crash or restart without harming the others.
    Own(Box<LocalCluster>),
}

/// A source and a target database and a state directory.
pub struct Scenario {
    src: &'static LocalCluster,
    dst: Target,
    pub sdb: String,
    pub tdb: String,
    /// Connection strings of the source and target databases.
    pub su: String,
    pub du: String,
    state: PathBuf,
}

impl Scenario {
    /// Fresh databases named after `prefix` on the shared clusters of the
    /// two majors (the same cluster when they are equal).
    pub fn new(source_major: u32, target_major: u32, prefix: &str) -> Scenario {
        let src = cluster(source_major);
        Scenario::with(src, Target::Shared(cluster(target_major)), prefix)
    }

    /// Like [`Scenario::new`], the target on a cluster of its own, started
    /// here and stopped when the scenario is dropped.
    pub fn own_target(source_major: u32, target_major: u32, prefix: &str) -> Scenario {
        let own = LocalCluster::start(&ClusterOptions {
            major: target_major,
            ..ClusterOptions::default()
        })
        .unwrap_or_else(|e| panic!("own target cluster {target_major}: {e:#}"));
        Scenario::with(cluster(source_major), Target::Own(Box::new(own)), prefix)
    }

    fn with(src: &'static LocalCluster, dst: Target, prefix: &str) -> Scenario {
        let sdb = fresh_db(src, prefix);
        let dc = match &dst {
            Target::Shared(c) => *c,
            Target::Own(c) => c,
        };
        let tdb = fresh_db(dc, prefix);
        let (su, du) = (src.uri(&sdb), dc.uri(&tdb));
        // Named after the source database, which is unique in this run.
        let state = scratch_dir().join(format!("state-{sdb}"));
        std::fs::create_dir_all(&state)
            .unwrap_or_else(|e| panic!("state dir {}: {e}", state.display()));
        Scenario {
            src,
            dst,
            sdb,
            tdb,
            su,
            du,
            state,
        }
    }

    /// Runs `sql` (a fixture) in the source database.
    pub fn load(self, sql: &str) -> Scenario {
        self.src
            .psql(&self.sdb, sql)
            .unwrap_or_else(|e| panic!("fixture in {}: {e:#}", self.sdb));
        self
    }

    pub fn src(&self) -> &'static LocalCluster {
        self.src
    }

    pub fn dst(&self) -> &LocalCluster {
        match &self.dst {
            Target::Shared(c) => c,
            Target::Own(c) => c,
        }
    }

    /// The state directory of this scenario's runs.
    pub fn state(&self) -> &Path {
        &self.state
    }

    /// [`Scenario::state`] as the text of a `--state-dir` argument.
    pub fn st(&self) -> &str {
        self.state.to_str().expect("UTF-8 state dir")
    }

    /// `pgferry migrate` from the source to the target database with this
    /// scenario's state directory.
    pub fn migrate(&self) -> Migrate {
        Migrate::new(self.src, &self.sdb, self.dst(), &self.tdb).state_dir(&self.state)
    }
}
