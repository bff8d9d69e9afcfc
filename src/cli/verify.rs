//! `pgferry verify`.

use super::Endpoints;
use crate::error::Exit;
use clap::Args;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    /// Compare exact row counts only.
    #[arg(long)]
    pub counts_only: bool,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<Exit> {
    super::not_built("verify", args.endpoints.json)
}
