//! Command-line interface: one file per subcommand, each with its Args and `run()`.

mod cleanup;
mod cutover;
mod demo;
mod docs;
mod migrate;
mod precheck;
mod report;
mod status;
mod verify;

use crate::error::Exit;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Help headings: every subcommand groups its options under these, in this
/// order (clap lists headings in the order of their first argument), and the
/// options shared by every subcommand come last.
pub(crate) const CONNECTIONS: &str = "Connections";
pub(crate) const SELECTION: &str = "Selection";
pub(crate) const PERFORMANCE: &str = "Performance";
pub(crate) const OUTPUT: &str = "Output";
pub(crate) const GLOBAL: &str = "Global options";

/// Move a live PostgreSQL database to another PostgreSQL server: structure,
/// data and everything built on top, checked before and verified after.
///
/// The built-in `-h` is replaced by a global one under [`GLOBAL`] so that it
/// sits with `-v`/`-q` at the end of every subcommand's help instead of alone
/// under "Options" at the top.
#[derive(Debug, Parser)]
#[command(name = "pgferry", version, about, long_about = None, disable_help_flag = true)]
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
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// Print help.
    #[allow(dead_code)] // read by clap (ArgAction::Help prints and exits)
    #[arg(short, long, global = true, action = clap::ArgAction::Help, help_heading = GLOBAL)]
    help: Option<bool>,
}

impl Cli {
    /// Log settings for `report::init_tracing`: the demo shows its own few
    /// lines, so its log is errors only unless `-v` asks for more.
    pub fn log_settings(&self) -> (u8, bool) {
        let demo = matches!(self.command, Command::Demo(_));
        (self.verbose, self.quiet || (demo && self.verbose == 0))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check both servers before anything is written: connectivity, versions,
    /// privileges, space, conflicts, unsupported objects.
    #[command(disable_help_flag = true)]
    Precheck(precheck::PrecheckArgs),
    /// Migrate structure and data from the source to the target.
    #[command(disable_help_flag = true)]
    Migrate(migrate::MigrateArgs),
    /// Compare source and target: row counts and checksums of every row.
    #[command(disable_help_flag = true)]
    Verify(verify::VerifyArgs),
    /// End a `migrate --follow` task: once writes are stopped, apply the
    /// last changes, set sequences, verify, and remove the slot and the
    /// publication from the source.
    #[command(disable_help_flag = true)]
    Cutover(cutover::CutoverArgs),
    /// Remove what `migrate --follow` created on the source (slot,
    /// publication, TRUNCATE guard) for an abandoned task.
    #[command(disable_help_flag = true)]
    Cleanup(cleanup::CleanupArgs),
    /// Show what a migration task has done and what is left.
    #[command(disable_help_flag = true)]
    Status(status::StatusArgs),
    /// Write one self-contained HTML page about a migration task, from its
    /// state directory: servers, precheck, phases, a timeline, every table,
    /// what was not migrated, and the commands run.
    #[command(disable_help_flag = true)]
    Report(report::ReportArgs),
    /// Start throwaway source and target servers, load a sample database,
    /// migrate and verify it.
    #[command(disable_help_flag = true)]
    Demo(demo::DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    /// generated from this command-line definition; `scripts/install.sh` installs it.
    #[command(hide = true, disable_help_flag = true)]
    Completions(docs::CompletionsArgs),
    /// Write the man pages (pgferry.1 and one per subcommand) generated from
    /// this command-line definition; `scripts/install.sh` installs them.
    #[command(hide = true, disable_help_flag = true)]
    Man(docs::ManArgs),
}

/// The two ends of a job, shared by every subcommand that talks to servers.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = CONNECTIONS)]
pub struct Endpoints {
    /// Source connection string (libpq URI or key=value).
    #[arg(long, env = "PGFERRY_SOURCE", hide_env_values = true)]
    pub source: Option<String>,
    /// Target connection string (libpq URI or key=value).
    #[arg(long, env = "PGFERRY_TARGET", hide_env_values = true)]
    pub target: Option<String>,
    /// Task file (TOML): source, target, selection, renames. Flags win over it.
    #[arg(long, value_name = "FILE")]
    pub task: Option<PathBuf>,
}

/// What to migrate, check or compare: patterns as in the README's "Task
/// file" section, also settable in the task file's `[select]`. `--include`
/// replaces the file's include list; `--exclude` and `--exclude-data` add to
/// the file's lists. Shared by migrate, precheck and verify, so the wording
/// names no command.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = SELECTION)]
pub struct SelectArgs {
    /// Only this schema, table or table's columns: `schema`, `schema.table`
    /// (globs `*` `?`), `schema.table(col, col)`. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out this schema, table or table's columns (wins over --include). Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// A table (`schema` or `schema.table`) whose rows are left out: migrate
    /// creates it empty, verify skips it. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude_data: Vec<String>,
    /// Create the tables, indexes and materialized views of the source's
    /// tablespace OLD in the target's tablespace NEW (`OLD=` or
    /// `OLD=pg_default`: the target's default, where those of tablespaces not
    /// mapped go). Also `[tablespaces]` in the task file. Repeatable.
    #[arg(long, value_name = "OLD=NEW")]
    pub tablespace_map: Vec<String>,
}

/// What shapes a run: its plan (version rules, owners, roles) and its
/// sessions. Shared by `migrate` and `precheck`, so that precheck checks the
/// very run migrate would make with the same options.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Structure only, no rows.
    #[arg(long, conflicts_with = "data_only", help_heading = "Migration")]
    pub schema_only: bool,
    /// Rows only, into a target whose structure already exists.
    #[arg(long, help_heading = "Migration")]
    pub data_only: bool,
    /// Keep the source's owners and privileges (GRANTs) where the roles exist
    /// on the target; statements naming a missing role are skipped and
    /// reported. The target login must be a member of every owner role.
    /// Default: the target login owns everything and no GRANT is copied.
    #[arg(long, help_heading = "Migration")]
    pub keep_owners: bool,
    /// After the full load, keep applying the source's changes (logical
    /// replication) until `pgferry cutover`; writes may go on meanwhile.
    /// Needs wal_level = logical and a login with REPLICATION on the source.
    #[arg(long, conflicts_with_all = ["schema_only", "data_only"], help_heading = "Migration")]
    pub follow: bool,
    /// Skip ANALYZE of the loaded tables at the end.
    #[arg(long, help_heading = "Migration")]
    pub no_analyze: bool,
    /// Parallel copy workers. Default: the number of CPUs (at least 2) when
    /// the source is near; when its round trip is 4 ms or more, 8 per CPU
    /// (16 to 32), since a stream across a long link mostly waits.
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_jobs,
          help_heading = PERFORMANCE)]
    pub jobs: Option<usize>,
    /// Parallel index builds (default: --jobs if given, else the number of
    /// CPUs, at least 2).
    #[arg(long, value_name = "N", value_parser = parse_jobs,
          help_heading = PERFORMANCE)]
    pub index_jobs: Option<usize>,
    /// Copy tables bigger than SIZE in ranges (e.g. 128MB, 1GB; 0 = never).
    /// Default: only a table that would otherwise keep one worker busy long
    /// after the others are done, cut into about one worker's share each.
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
          help_heading = PERFORMANCE)]
    pub split_tables_larger_than: Option<i64>,
    /// Create columns of the types PostgreSQL 12 removed as their nearest
    /// successor: abstime as timestamptz, reltime as interval, tinterval as
    /// text (each reported). Without it such columns fail the precheck
    /// (source.incompatible.removed_type) on a 12+ target.
    #[arg(long, help_heading = "Migration")]
    pub map_removed_types: bool,
    /// Create on the target the roles the migrated objects name (owners,
    /// grantees, default privileges, user mappings, policies) that it lacks,
    /// with the source's attributes but never a password (nor SUPERUSER,
    /// REPLICATION, BYPASSRLS); each is listed in the report. Needs
    /// CREATEROLE on the target.
    #[arg(long, help_heading = "Migration")]
    pub create_roles: bool,
}

impl RunArgs {
    /// The run these options ask for, with `selection`; what only `migrate`
    /// decides (task, progress, ignored checks) at its defaults.
    pub fn options(&self, selection: crate::plan::Selection) -> crate::migrate::Options {
        crate::migrate::Options {
            // No --jobs: 0 lets the run size it from the link to the source.
            jobs: self.jobs.unwrap_or(0),
            split_streams: 0,
            index_jobs: self.index_jobs.or(self.jobs).unwrap_or_else(default_jobs),
            schema_only: self.schema_only,
            data_only: self.data_only,
            progress: crate::copy::progress::Display::Off,
            split_threshold: self.split_tables_larger_than,
            analyze: !self.no_analyze,
            task: None,
            ignore_checks: Vec::new(),
            json: false,
            keep_owners: self.keep_owners,
            selection,
            retry: crate::pg::transient::RetryPolicy::default(),
            map_removed_types: self.map_removed_types,
            create_roles: self.create_roles,
            follow: self.follow,
        }
    }
}

/// `--json`, shared by the commands that print a report.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = OUTPUT)]
pub struct OutputArgs {
    /// Print one machine-readable JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

impl Cli {
    /// The subcommand's name, for the JSON document of an error.
    pub fn command_name(&self) -> &'static str {
        match &self.command {
            Command::Precheck(_) => "precheck",
            Command::Migrate(_) => "migrate",
            Command::Verify(_) => "verify",
            Command::Status(_) => "status",
            Command::Report(_) => "report",
            Command::Cutover(_) => "cutover",
            Command::Cleanup(_) => "cleanup",
            Command::Demo(_) => "demo",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }

    /// True when the user asked for one JSON document on stdout.
    pub fn json(&self) -> bool {
        match &self.command {
            Command::Precheck(a) => a.output.json,
            Command::Migrate(a) => a.output.json,
            Command::Verify(a) => a.output.json,
            Command::Status(a) => a.json,
            Command::Cutover(a) => a.output.json,
            Command::Cleanup(_)
            | Command::Report(_)
            | Command::Demo(_)
            | Command::Completions(_)
            | Command::Man(_) => false,
        }
    }
}

/// Runs the chosen subcommand and returns its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Precheck(a) => precheck::run(a).await,
        Command::Migrate(a) => migrate::run(a, cli.quiet).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Cutover(a) => cutover::run(a).await,
        Command::Cleanup(a) => cleanup::run(a).await,
        Command::Status(a) => status::run(a),
        Command::Report(a) => report::run(a),
        Command::Demo(a) => demo::run(a, cli.quiet, cli.verbose).await,
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
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
        tablespace_map: s.tablespace_map.clone(),
    };
    let sel = crate::config::selection(task.as_ref(), &flags)?;
    let ends = crate::config::endpoints(e.source.as_deref(), e.target.as_deref(), task.as_ref())?;
    Ok((ends, sel))
}

/// The command line as typed, for the record (`pgferry report`), with the
/// connection strings replaced by their password-free form; ends that came
/// from the environment or the task file are added the same way.
pub(crate) fn command_line(ends: &crate::config::Endpoints) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut out = vec!["pgferry".to_string()];
    let (mut saw_source, mut saw_target) = (false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f == "--source" || f == "--target" => {
                (f.to_string(), Some(v.to_string()))
            }
            _ => (a.clone(), None),
        };
        match flag.as_str() {
            "--source" | "--target" => {
                if inline.is_none() {
                    args.next();
                }
                let spec = if flag == "--source" {
                    saw_source = true;
                    &ends.source
                } else {
                    saw_target = true;
                    &ends.target
                };
                out.push(flag.clone());
                out.push(quote(spec.redacted()));
            }
            _ => out.push(quote(&a)),
        }
    }
    if !saw_source {
        out.push(format!("--source {}", quote(ends.source.redacted())));
    }
    if !saw_target {
        out.push(format!("--target {}", quote(ends.target.redacted())));
    }
    out.join(" ")
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
