//! `pgferry precheck`: every check of `src/precheck/` on the run `migrate`
//! would make with the same options (see `migrate::precheck_only`), nothing
//! written anywhere.

use super::Endpoints;
use crate::error::{print_out, Exit};
use crate::precheck;
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
    /// The options of the `migrate` to check (`--jobs`, `--keep-owners`,
    /// `--create-roles`, `--schema-only`...): the same plan and sessions.
    #[command(flatten)]
    pub run: super::RunArgs,
}

/// Exit 0 when nothing fails (warnings allowed), 1 when an item fails,
/// 2 when an end cannot be reached or logged in to.
pub async fn run(args: PrecheckArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let opts = args.run.options(sel);
    // A large future (the catalog read and every check): on the heap.
    let report = Box::pin(crate::migrate::precheck_only(
        &ends,
        &opts,
        Some(args.fix_dir.clone()),
    ))
    .await?;
    if args.output.json {
        let doc = serde_json::to_string_pretty(&precheck::json_document(&report))?;
        print_out(&format!("{doc}\n"))?;
    } else {
        print_out(&precheck::human(&report, std::io::stdout().is_terminal()))?;
    }
    Ok(if report.ok { Exit::Ok } else { Exit::Problem })
}
