//! `pgferry migrate` between two test databases, as a builder: one place that
//! spells the command and asserts its outcome, instead of a private helper
//! per test module.

use super::pgferry;
use pgferry::localpg::LocalCluster;
use std::process::Output;

/// A `pgferry migrate` from `src`/`sdb` to `tgt`/`tdb`.
pub struct Migrate {
    source: String,
    target: String,
    what: String,
    args: Vec<String>,
    json: bool,
}

impl Migrate {
    pub fn new(src: &LocalCluster, sdb: &str, tgt: &LocalCluster, tdb: &str) -> Migrate {
        Migrate {
            source: src.uri(sdb),
            target: tgt.uri(tdb),
            what: format!("migrate {} -> {}", src.major(), tgt.major()),
            args: Vec::new(),
            json: false,
        }
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

    /// Runs it, whatever its outcome.
    pub fn run(&self) -> Output {
        let mut args: Vec<&str> = vec![
            "migrate",
            "--source",
            &self.source,
            "--target",
            &self.target,
        ];
        if self.json {
            args.push("--json");
        }
        args.extend(self.args.iter().map(String::as_str));
        pgferry(&args)
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
