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
    #[command(flatten)]
    pub output: super::OutputArgs,
    /// Write each fix that is SQL as a script here, `<code>.sql` (statements
    /// in order, one per line, for `psql -v ON_ERROR_STOP=1 -f`); its path is
    /// in the fix text and in the JSON (`script`).
    #[arg(long, value_name = "DIR", default_value = ".pgferry/fixes",
          help_heading = super::OUTPUT)]
    pub fix_dir: std::path::PathBuf,
    /// The --jobs migrate will run with: checks the servers have room for
    /// its sessions (default: as migrate's).
    #[arg(long, short = 'j', value_name = "N", value_parser = super::parse_jobs,
          help_heading = super::PERFORMANCE)]
    pub jobs: Option<usize>,
    /// The --index-jobs migrate will run with (default: --jobs).
    #[arg(long, value_name = "N", value_parser = super::parse_jobs,
          help_heading = super::PERFORMANCE)]
    pub index_jobs: Option<usize>,
    /// As for `migrate`: check the plan that maps the types PostgreSQL 12
    /// removed (abstime, reltime, tinterval) to their successors.
    #[arg(long, help_heading = "Migration")]
    pub map_removed_types: bool,
}

/// Exit 0 when nothing fails (warnings allowed), 1 when an item fails,
/// 2 when an end cannot be reached or logged in to.
pub async fn run(args: PrecheckArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let src = crate::pg::connect_at_start(&ends.source, "precheck catalog").await?;
    let mut cat = Catalog::read(&src)
        .await
        .context("reading the source catalog")?;
    // The version rules depend on the target (see plan::compat).
    let tgt = crate::pg::connect_at_start(&ends.target, "precheck version").await?;
    let roles = tgt
        .query("SELECT rolname::text FROM pg_catalog.pg_roles", &[])
        .await
        .context("reading the target's roles")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let providers = crate::catalog::seclabels::loaded_for(&tgt, &cat.security_labels).await?;
    let build = crate::plan::BuildOptions {
        target_roles: Some(roles),
        label_providers: Some(providers),
        target: crate::plan::compat::Target {
            version: Some(crate::catalog::server_version_num(&tgt).await?),
            map_removed_types: args.map_removed_types,
        },
        target_default_tablespace: Some(crate::catalog::tablespaces::database_default(&tgt).await?),
        ..Default::default()
    };
    drop(tgt);
    let plan = crate::plan::prepare_with(&mut cat, &sel, &build)?;
    let jobs = args.jobs.unwrap_or_else(super::default_jobs);
    let sizes = crate::migrate::SessionOptions {
        jobs,
        index_jobs: args.index_jobs.unwrap_or(jobs),
        split_threshold: None,
        schema_only: false,
        data_only: false,
        analyze: true,
    };
    let opts = Options {
        fix_dir: Some(args.fix_dir.clone()),
        // Open now: the catalog session on the source, and the precheck's
        // own session on each end.
        sessions: Some(crate::migrate::sessions(&plan, sizes, (2, 1))),
        ..Options::default()
    };
    let report = precheck::run(&ends, &cat, &plan, &opts).await?;
    if args.output.json {
        let doc = serde_json::to_string_pretty(&precheck::json_document(&report))?;
        print_out(&format!("{doc}\n"))?;
    } else {
        print_out(&precheck::human(&report, std::io::stdout().is_terminal()))?;
    }
    Ok(if report.ok { Exit::Ok } else { Exit::Problem })
}
