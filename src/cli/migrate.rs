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
    /// Continue an interrupted task where it stopped (same source, target and options).
    #[arg(long, conflicts_with = "restart")]
    pub resume: bool,
    /// Forget the recorded task state and start over. pgferry never drops
    /// anything on the target: empty it first (or use a new target database).
    #[arg(long)]
    pub restart: bool,
    /// State directory of the task (default: .pgferry/<task id> under the
    /// current directory, one per source/target/options).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Copy tables bigger than SIZE in ranges (e.g. 128MB, 1GB; 0 = never).
    /// Default: only a table that would otherwise keep one worker busy long
    /// after the others are done, cut into about one worker's share each.
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub split_tables_larger_than: Option<i64>,
    /// Skip ANALYZE of the loaded tables at the end.
    #[arg(long)]
    pub no_analyze: bool,
    /// Print the plan (every statement, in order, with its phase) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Go on despite a failed precheck item with this code (repeatable); it is
    /// still reported, as a warning.
    #[arg(long, value_name = "CODE")]
    pub ignore_check: Vec<String>,
    /// Keep the source's owners and privileges (GRANTs) where the roles exist
    /// on the target; statements naming a missing role are skipped and
    /// reported. The target login must be a member of every owner role.
    /// Default: the target login owns everything and no GRANT is copied.
    #[arg(long)]
    pub keep_owners: bool,
    /// Create columns of the types PostgreSQL 12 removed as their nearest
    /// successor: abstime as timestamptz, reltime as interval, tinterval as
    /// text (each reported). Without it such columns fail the precheck
    /// (source.incompatible.removed_type) on a 12+ target.
    #[arg(long)]
    pub map_removed_types: bool,
    /// Create on the target the roles the migrated objects name (owners,
    /// grantees, default privileges, user mappings, policies) that it lacks,
    /// with the source's attributes but never a password (nor SUPERUSER,
    /// REPLICATION, BYPASSRLS); each is listed in the report. Needs
    /// CREATEROLE on the target.
    #[arg(long)]
    pub create_roles: bool,
}

pub async fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<Exit> {
    crate::precheck::validate_ignore(&args.ignore_check)?;
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    if args.dry_run {
        let (_, plan) =
            crate::migrate::plan_only(&ends, &sel, args.keep_owners, args.map_removed_types)
                .await?;
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
        json: args.endpoints.json,
        keep_owners: args.keep_owners,
        map_removed_types: args.map_removed_types,
        create_roles: args.create_roles,
    };
    tracing::debug!(source = %ends.source, target = %ends.target, jobs, "migrating");
    let report = crate::migrate::migrate(&ends, &opts).await?;
    if args.endpoints.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::report::migrate_table(&report));
    }
    Ok(Exit::Ok)
}
