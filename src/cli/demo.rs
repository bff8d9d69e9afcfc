//! `pgferry demo`.

use crate::error::Exit;
use clap::Args;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave both servers running at the end (prints how to stop them).
    #[arg(long)]
    pub keep: bool,
    /// Print one machine-readable JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<Exit> {
    super::not_built("demo", args.json)
}
