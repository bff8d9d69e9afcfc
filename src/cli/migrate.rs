//! `pgferry migrate`.

use super::Endpoints;
use crate::copy::progress::Display;
use crate::error::Exit;
use crate::migrate::{Options, StartMode, TaskOptions};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: super::SelectArgs,
    /// Structure only, no rows.
    #[arg(long, conflicts_with = "data_only", help_heading = "Migration")]
    pub schema_only: bool,
    /// Rows only, into a target whose structure already exists.
    #[arg(long, help_heading = "Migration")]
    pub data_only: bool,
    /// Continue an interrupted task where it stopped (same source, target and options).
    #[arg(long, conflicts_with = "restart", help_heading = "Migration")]
    pub resume: bool,
    /// Forget the recorded task state and start over. pgferry never drops
    /// anything on the target: empty it first (or use a new target database).
    #[arg(long, help_heading = "Migration")]
    pub restart: bool,
    /// State directory of the task (default: .pgferry/<task id> under the
    /// current directory, one per source/target/options).
    #[arg(long, value_name = "DIR", help_heading = "Migration")]
    pub state_dir: Option<PathBuf>,
    /// Go on despite a failed precheck item with this code (repeatable); it is
    /// still reported, as a warning.
    #[arg(long, value_name = "CODE", help_heading = "Migration")]
    pub ignore_check: Vec<String>,
    /// Keep the source's owners and privileges (GRANTs) where the roles exist
    /// on the target; statements naming a missing role are skipped and
    /// reported. The target login must be a member of every owner role.
    /// Default: the target login owns everything and no GRANT is copied.
    #[arg(long, help_heading = "Migration")]
    pub keep_owners: bool,
    /// Skip ANALYZE of the loaded tables at the end.
    #[arg(long, help_heading = "Migration")]
    pub no_analyze: bool,
    /// Parallel copy workers. Default: the number of CPUs (at least 2) when
    /// the source is near; when its round trip is 4 ms or more, 8 per CPU
    /// (16 to 32), since a stream across a long link mostly waits.
    #[arg(long, short = 'j', value_name = "N", help_heading = super::PERFORMANCE)]
    pub jobs: Option<usize>,
    /// Parallel index builds (default: --jobs if given, else the number of
    /// CPUs, at least 2).
    #[arg(long, value_name = "N", help_heading = super::PERFORMANCE)]
    pub index_jobs: Option<usize>,
    /// Copy tables bigger than SIZE in ranges (e.g. 128MB, 1GB; 0 = never).
    /// Default: only a table that would otherwise keep one worker busy long
    /// after the others are done, cut into about one worker's share each.
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size,
          help_heading = super::PERFORMANCE)]
    pub split_tables_larger_than: Option<i64>,
    /// Print the plan (every statement, in order, with its phase) and stop.
    #[arg(long, help_heading = super::OUTPUT)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: super::OutputArgs,
}

pub async fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<Exit> {
    crate::precheck::validate_ignore(&args.ignore_check)?;
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    if args.dry_run {
        let (_, plan) = crate::migrate::plan_only(&ends, &sel, args.keep_owners).await?;
        if args.output.json {
            println!("{}", serde_json::to_string_pretty(&plan)?);
        } else {
            print!("{}", crate::report::plan_text(&plan));
        }
        return Ok(Exit::Ok);
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    if args.jobs == Some(0) || args.index_jobs == Some(0) {
        return Err(crate::error::usage(
            "--jobs and --index-jobs must be at least 1",
        ));
    }
    // No --jobs: 0 lets the data phase size it from the link to the source.
    let jobs = args.jobs.unwrap_or(0);
    let opts = Options {
        jobs,
        index_jobs: args.index_jobs.or(args.jobs).unwrap_or(cpus.max(2)),
        schema_only: args.schema_only,
        data_only: args.data_only,
        progress: Display::detect(quiet || args.output.json),
        split_threshold: args.split_tables_larger_than,
        analyze: !args.no_analyze,
        task: Some(TaskOptions {
            state_dir: args.state_dir.clone(),
            mode: if args.resume {
                StartMode::Resume
            } else if args.restart {
                StartMode::Restart
            } else {
                StartMode::Fresh
            },
        }),
        ignore_checks: args.ignore_check,
        selection: sel,
        json: args.output.json,
        keep_owners: args.keep_owners,
    };
    tracing::debug!(source = %ends.source, target = %ends.target, jobs, "migrating");
    let report = crate::migrate::migrate(&ends, &opts).await?;
    if args.output.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::report::migrate_table(&report));
    }
    Ok(Exit::Ok)
}
