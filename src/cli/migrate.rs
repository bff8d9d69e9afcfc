//! `pgferry migrate`.

use super::Endpoints;
use crate::error::Exit;
use crate::migrate::Options;
use crate::report::progress::Display;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    /// Parallel copy workers (default: number of CPUs, at least 2).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Parallel index builds (default: same as --jobs).
    #[arg(long, value_name = "N")]
    pub index_jobs: Option<usize>,
    /// Structure only, no rows.
    #[arg(long, conflicts_with = "data_only")]
    pub schema_only: bool,
    /// Rows only, into a target whose structure already exists.
    #[arg(long)]
    pub data_only: bool,
    /// Continue an interrupted task.
    #[arg(long, conflicts_with = "restart")]
    pub resume: bool,
    /// Throw away the task state and start over.
    #[arg(long)]
    pub restart: bool,
    /// State directory of the task.
    #[arg(long, value_name = "DIR", default_value = ".pgferry")]
    pub state_dir: PathBuf,
    /// Print the plan (every statement, in order, with its phase) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Go on despite a failed precheck item with this code (repeatable); it is
    /// still reported, as a warning.
    #[arg(long, value_name = "CODE")]
    pub ignore_check: Vec<String>,
}

pub async fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<Exit> {
    if args.resume || args.restart {
        return super::not_built("migrate --resume/--restart", args.endpoints.json);
    }
    crate::precheck::validate_ignore(&args.ignore_check)?;
    let ends = super::resolve(&args.endpoints)?;
    if args.dry_run {
        let (_, plan) = crate::migrate::plan_only(&ends).await?;
        if args.endpoints.json {
            println!("{}", serde_json::to_string_pretty(&plan)?);
        } else {
            print!("{}", crate::report::plan_text(&plan));
        }
        return Ok(Exit::Ok);
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(cpus.max(2));
    let opts = Options {
        jobs,
        index_jobs: args.index_jobs.unwrap_or(jobs),
        schema_only: args.schema_only,
        data_only: args.data_only,
        progress: Display::detect(quiet || args.endpoints.json),
        ignore_checks: args.ignore_check,
        json: args.endpoints.json,
    };
    tracing::info!(source = %ends.source, target = %ends.target, jobs, "migrating");
    let report = crate::migrate::migrate(&ends, &opts).await?;
    if args.endpoints.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::report::migrate_table(&report));
    }
    Ok(Exit::Ok)
}
