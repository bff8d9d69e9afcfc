//! Command-line interface: one file per subcommand, each with its Args and `run()`.

mod demo;
mod migrate;
mod precheck;
mod status;
mod verify;

use crate::error::Exit;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Move a live PostgreSQL database to another PostgreSQL server: structure,
/// data and everything built on top, checked before and verified after.
#[derive(Debug, Parser)]
#[command(name = "pgferry", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 1 the job found a problem (precheck failure, \
verify mismatch), 2 bad usage or configuration, 3 the job failed (it can be resumed).\n\
Connection strings are libpq URIs or key=value strings; PGPASSWORD, PGSSLMODE, \
PGSSLROOTCERT, ~/.pgpass and the rest of the libpq environment are honoured."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output (repeat for more detail). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check both servers before anything is written: connectivity, versions,
    /// privileges, space, conflicts, unsupported objects.
    Precheck(precheck::PrecheckArgs),
    /// Migrate structure and data from the source to the target.
    Migrate(migrate::MigrateArgs),
    /// Compare source and target: row counts and checksums of every row.
    Verify(verify::VerifyArgs),
    /// Show what a migration task has done and what is left.
    Status(status::StatusArgs),
    /// Start throwaway source and target servers, load a sample database,
    /// migrate and verify it.
    Demo(demo::DemoArgs),
}

/// The two ends of a job, shared by every subcommand that talks to servers.
#[derive(Debug, Args, Clone)]
pub struct Endpoints {
    /// Source connection string (libpq URI or key=value).
    #[arg(long, env = "PGFERRY_SOURCE", hide_env_values = true)]
    pub source: Option<String>,
    /// Target connection string (libpq URI or key=value).
    #[arg(long, env = "PGFERRY_TARGET", hide_env_values = true)]
    pub target: Option<String>,
    /// Task file (TOML): selection, renames, options. Flags win over it.
    #[arg(long, value_name = "FILE")]
    pub task: Option<PathBuf>,
    /// Print one machine-readable JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What to migrate or compare: patterns as in docs/selection.md, also
/// settable in the task file's `[select]`. `--include` replaces the file's
/// include list; `--exclude` and `--exclude-data` add to the file's lists.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Migrate only this schema, table or table's columns: `schema`,
    /// `schema.table` (globs `*` `?`), `schema.table(col, col)`. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out this schema, table or table's columns (wins over --include). Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Create this table (`schema` or `schema.table`) but copy none of its rows. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude_data: Vec<String>,
}

impl Cli {
    /// The subcommand's name, for the JSON document of an error.
    pub fn command_name(&self) -> &'static str {
        match &self.command {
            Command::Precheck(_) => "precheck",
            Command::Migrate(_) => "migrate",
            Command::Verify(_) => "verify",
            Command::Status(_) => "status",
            Command::Demo(_) => "demo",
        }
    }

    /// True when the user asked for one JSON document on stdout.
    pub fn json(&self) -> bool {
        match &self.command {
            Command::Precheck(a) => a.endpoints.json,
            Command::Migrate(a) => a.endpoints.json,
            Command::Verify(a) => a.endpoints.json,
            Command::Status(a) => a.json,
            Command::Demo(_) => false,
        }
    }
}

/// Runs the chosen subcommand and returns its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Precheck(a) => precheck::run(a).await,
        Command::Migrate(a) => migrate::run(a, cli.quiet).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Status(a) => status::run(a).await,
        Command::Demo(a) => demo::run(a, cli.quiet).await,
    }
}

/// Resolves both ends and the selection (task file `[select]`/`[rename]`
/// and the selection flags); bad entries are usage errors (exit 2).
pub(crate) fn resolve_job(
    e: &Endpoints,
    s: &SelectArgs,
) -> anyhow::Result<(crate::config::Endpoints, crate::plan::Selection)> {
    let task = match &e.task {
        Some(p) => Some(crate::config::TaskFile::load(p)?),
        None => None,
    };
    let flags = crate::config::SelectFlags {
        include: s.include.clone(),
        exclude: s.exclude.clone(),
        exclude_data: s.exclude_data.clone(),
    };
    let sel = crate::config::selection(task.as_ref(), &flags)?;
    let ends = crate::config::endpoints(e.source.as_deref(), e.target.as_deref(), task.as_ref())?;
    Ok((ends, sel))
}

/// `--jobs` when not given: the number of CPUs, at least 2.
pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// Parses a number of parallel sessions: at least 1 (0 would do nothing,
/// forever).
pub(crate) fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

/// Parses `128MB`, `1GB`, `512kB`, `1000` (bytes), as PostgreSQL writes sizes
/// (units are powers of 1024).
pub(crate) fn parse_size(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 128MB, 1GB, 0)"))?;
    let mult: i64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1 << 10,
        "mb" | "m" => 1 << 20,
        "gb" | "g" => 1 << 30,
        "tb" | "t" => 1 << 40,
        _ => return Err(format!("unknown size unit in `{s}` (use kB, MB, GB or TB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128MB"), Ok(128 << 20));
        assert_eq!(parse_size("1gb"), Ok(1 << 30));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("MB").is_err());
        assert_eq!(parse_size("500kB"), Ok(500 << 10));
        assert!(parse_size("-5MB").is_err());
    }
}
