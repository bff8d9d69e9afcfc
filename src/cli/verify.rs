//! `pgferry verify`.

use super::Endpoints;
use crate::error::{usage, Exit};
use crate::verify::{ChecksumOptions, DEFAULT_SPLIT_BYTES};
use clap::Args;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: super::SelectArgs,
    /// Compare exact row counts only (quick look; no checksums).
    #[arg(long)]
    pub counts_only: bool,
    /// Compare the structure of both ends object by object instead of the
    /// rows (version rules' rewrites and skipped kinds are expected, version
    /// wording normalised); exit 1 on any difference.
    #[arg(long)]
    pub schema: bool,
    /// Tables checked at once (each uses one session on both servers).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Checksum per key range the tables larger than SIZE (bytes, or with a
    /// kB/MB/GB suffix) that have a one-column integer primary key, so that
    /// a difference is located. Default 64MB.
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub split_larger_than: Option<i64>,
    /// Also write the JSON report to DIR/verify-report.json (e.g. the
    /// migration's --state-dir, next to its report.json).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    if args.counts_only {
        return counts(&ends, &sel, args.endpoints.json).await;
    }
    if args.schema {
        return schema(&ends, &sel, args.endpoints.json).await;
    }
    if args.jobs == 0 {
        return Err(usage("--jobs must be at least 1"));
    }
    let opts = ChecksumOptions {
        jobs: args.jobs,
        split_larger_than: args.split_larger_than.unwrap_or(DEFAULT_SPLIT_BYTES),
    };
    let started = std::time::Instant::now();
    let sums = crate::verify::compare_checksums(&ends, &sel, &opts).await?;
    let los = crate::verify::compare_large_objects(&ends).await?;
    let seconds = started.elapsed().as_secs_f64();
    let different: Vec<&str> = sums
        .iter()
        .filter(|c| !c.equal)
        .map(|c| c.table.as_str())
        .collect();
    let equal = different.is_empty() && los.equal;
    let doc = serde_json::json!({
        "command": "verify", "mode": "checksum", "equal": equal,
        "different": different, "seconds": seconds, "tables": sums, "large_objects": los
    });
    if let Some(dir) = &args.state_dir {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("verify-report.json");
        std::fs::write(&path, serde_json::to_string_pretty(&doc)?)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    if args.endpoints.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", crate::report::checksum_table(&sums));
        if los.source_count + los.target_count > 0 {
            println!(
                "{} large objects on the source, {} on the target: {}",
                los.source_count,
                los.target_count,
                if los.equal {
                    "equal".to_string()
                } else {
                    format!(
                        "missing {:?}, extra {:?}, different {:?}",
                        los.missing, los.extra, los.different
                    )
                }
            );
        }
    }
    Ok(if equal { Exit::Ok } else { Exit::Problem })
}

async fn counts(
    ends: &crate::config::Endpoints,
    sel: &crate::plan::Selection,
    json: bool,
) -> anyhow::Result<Exit> {
    let counts = crate::verify::compare_counts(ends, sel).await?;
    let bad = counts.iter().filter(|c| !c.equal).count();
    if json {
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

async fn schema(
    ends: &crate::config::Endpoints,
    sel: &crate::plan::Selection,
    json: bool,
) -> anyhow::Result<Exit> {
    let check = crate::verify::compare_schema(ends, sel).await?;
    if json {
        let doc = serde_json::json!({"command": "verify", "mode": "schema", "schema": &check});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for d in &check.differences {
            println!("{} {} {}", d.what.to_uppercase(), d.kind, d.object);
            for s in &d.expected {
                println!("  expected: {}", s.lines().next().unwrap_or(""));
            }
            for s in &d.found {
                println!("  found:    {}", s.lines().next().unwrap_or(""));
            }
        }
        println!(
            "{} objects compared, {} difference(s)",
            check.objects,
            check.differences.len()
        );
    }
    Ok(if check.equal { Exit::Ok } else { Exit::Problem })
}
