//! `pgferry migrate` between two test databases, as a builder: one place that
//! spells the command and asserts its outcome, instead of a private helper
//! per test module.

use super::pgferry_command;
use pgferry::localpg::LocalCluster;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A `pgferry migrate` from `src`/`sdb` to `tgt`/`tdb`. Cloned, it is the
/// same run again: a kill test keeps one and runs it with `.fault(..)`, then
/// plain, then `.resume()`.
#[derive(Clone)]
pub struct Migrate {
    source: String,
    target: String,
    what: String,
    args: Vec<String>,
    json: bool,
    state_dir: Option<PathBuf>,
    fault: Option<String>,
    resume: bool,
}

impl Migrate {
    pub fn new(src: &LocalCluster, sdb: &str, tgt: &LocalCluster, tdb: &str) -> Migrate {
        let what = format!("migrate {} -> {}", src.major(), tgt.major());
        Migrate::uris(&src.uri(sdb), &tgt.uri(tdb)).named(what)
    }

    /// Between two connection strings, for logins other than the clusters'
    /// superuser (a role of the test's own, a changed password).
    pub fn uris(source: &str, target: &str) -> Migrate {
        Migrate {
            source: source.to_string(),
            target: target.to_string(),
            what: "migrate".to_string(),
            args: Vec::new(),
            json: false,
            state_dir: None,
            fault: None,
            resume: false,
        }
    }

    fn named(mut self, what: String) -> Migrate {
        self.what = what;
        self
    }

    /// Adds flags (`--keep-owners`, `--dry-run`...).
    pub fn args(mut self, extra: &[&str]) -> Migrate {
        self.args.extend(extra.iter().map(|s| s.to_string()));
        self
    }

    /// Asks for the JSON report on stdout.
    pub fn json(mut self) -> Migrate {
        self.json = true;
        self
    }

    /// `--state-dir`: where the task is recorded (without it, `.pgferry/`
    /// under the scratch directory, shared by every test that omits it).
    pub fn state_dir(mut self, dir: &Path) -> Migrate {
        self.state_dir = Some(dir.to_path_buf());
        self
    }

    /// Arms a fault point (`PGFERRY_FAULT`, see src/fault.rs), like
    /// [`super::pgferry_with_fault`].
    pub fn fault(mut self, point: &str) -> Migrate {
        self.fault = Some(point.to_string());
        self
    }

    /// Adds `--resume`, and disarms the fault point: a resume after a
    /// killed run must not be killed again.
    pub fn resume(mut self) -> Migrate {
        self.resume = true;
        self.fault = None;
        self
    }

    fn command(&self) -> Command {
        let mut args: Vec<&str> = vec![
            "migrate",
            "--source",
            &self.source,
            "--target",
            &self.target,
        ];
        if let Some(d) = &self.state_dir {
            args.push("--state-dir");
            args.push(d.to_str().expect("UTF-8 state dir"));
        }
        if self.json {
            args.push("--json");
        }
        args.extend(self.args.iter().map(String::as_str));
        if self.resume {
            args.push("--resume");
        }
        let mut cmd = pgferry_command(&args);
        if let Some(f) = &self.fault {
            cmd.env("PGFERRY_FAULT", f);
        }
        cmd
    }

    /// Runs it, whatever its outcome.
    pub fn run(&self) -> Output {
        self.command()
            .output()
            .unwrap_or_else(|e| panic!("cannot run pgferry: {e}"))
    }

    /// Starts it in the background, stdout and stderr piped, for tests that
    /// act on the servers while it runs (`wait_with_output` collects it).
    pub fn spawn(&self) -> Child {
        self.command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start pgferry: {e}"))
    }

    /// Runs it, asserts that it succeeded, and returns its stdout.
    pub fn ok(&self) -> String {
        let out = self.run();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{} failed ({}):\n{stdout}\n{}",
            self.what,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// [`Migrate::ok`] with `--json`, its report parsed.
    pub fn report(self) -> serde_json::Value {
        let out = self.json().ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("migrate --json: {e}: {out}"))
    }
}
