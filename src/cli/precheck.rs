//! `pgferry precheck`.

use super::Endpoints;
use crate::error::Exit;
use clap::Args;

#[derive(Debug, Args)]
pub struct PrecheckArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
}

pub async fn run(args: PrecheckArgs) -> anyhow::Result<Exit> {
    super::not_built("precheck", args.endpoints.json)
}
