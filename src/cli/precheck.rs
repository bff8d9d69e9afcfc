//! `pgferry precheck`: every check of `src/precheck/`, nothing written anywhere.

use super::Endpoints;
use crate::catalog::Catalog;
use crate::error::Exit;
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
    /// As for `migrate`: check the plan that maps the types PostgreSQL 12
    /// removed (abstime, reltime, tinterval) to their successors.
    #[arg(long)]
    pub map_removed_types: bool,
}

/// Exit 0 when nothing fails (warnings allowed), 1 when an item fails,
/// 2 when an end cannot be reached or logged in to.
pub async fn run(args: PrecheckArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let src = crate::pg::connect(&ends.source, "precheck catalog").await?;
    let mut cat = Catalog::read(&src)
        .await
        .context("reading the source catalog")?;
    // The version rules depend on the target (see plan::compat).
    let tgt = crate::pg::connect(&ends.target, "precheck version").await?;
    let roles = tgt
        .query("SELECT rolname::text FROM pg_catalog.pg_roles", &[])
        .await
        .context("reading the target's roles")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let build = crate::plan::BuildOptions {
        target_roles: Some(roles),
        target: crate::plan::compat::Target {
            version: Some(crate::catalog::server_version_num(&tgt).await?),
            map_removed_types: args.map_removed_types,
        },
        ..Default::default()
    };
    drop(tgt);
    let plan = crate::plan::prepare_with(&mut cat, &sel, &build)?;
    let report = precheck::run(&ends, &cat, &plan, &Options::default()).await?;
    if args.endpoints.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&precheck::json_document(&report))?
        );
    } else {
        print!(
            "{}",
            precheck::human(&report, std::io::stdout().is_terminal())
        );
    }
    Ok(if report.ok { Exit::Ok } else { Exit::Problem })
}
