//! `pgferry precheck`: every check of `src/precheck/`, nothing written anywhere.

use super::Endpoints;
use crate::catalog::Catalog;
use crate::error::{print_out, Exit};
use crate::precheck::{self, Options};
use anyhow::Context;
use clap::Args;
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct PrecheckArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: super::SelectArgs,
}

/// Exit 0 when nothing fails (warnings allowed), 1 when an item fails,
/// 2 when an end cannot be reached or logged in to.
pub async fn run(args: PrecheckArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let src = crate::pg::connect_at_start(&ends.source, "precheck catalog").await?;
    let mut cat = Catalog::read(&src)
        .await
        .context("reading the source catalog")?;
    let plan = crate::plan::prepare(&mut cat, &sel)?;
    let report = precheck::run(&ends, &cat, &plan, &Options::default()).await?;
    if args.endpoints.json {
        let doc = serde_json::to_string_pretty(&precheck::json_document(&report))?;
        print_out(&format!("{doc}\n"))?;
    } else {
        print_out(&precheck::human(&report, std::io::stdout().is_terminal()))?;
    }
    Ok(if report.ok { Exit::Ok } else { Exit::Problem })
}
