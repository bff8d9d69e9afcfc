//! `pgferry migrate`.

use super::Endpoints;
use crate::error::Exit;
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
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<Exit> {
    super::not_built("migrate", args.endpoints.json)
}
