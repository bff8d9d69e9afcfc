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
    if !args.counts_only {
        return super::not_built("verify (checksums; use --counts-only)", args.endpoints.json);
    }
    let ends = super::resolve(&args.endpoints)?;
    let counts = crate::verify::compare_counts(&ends).await?;
    let bad = counts.iter().filter(|c| !c.equal).count();
    if args.endpoints.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "command": "verify", "mode": "counts", "equal": bad == 0, "tables": counts
            }))?
        );
    } else {
        print!("{}", crate::report::counts_table(&counts));
    }
    Ok(if bad == 0 { Exit::Ok } else { Exit::Problem })
}
