//! `pgferry status`.

use crate::error::Exit;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// State directory of the task.
    #[arg(long, value_name = "DIR", default_value = ".pgferry")]
    pub state_dir: PathBuf,
    /// Print one machine-readable JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    super::not_built("status", args.json)
}
