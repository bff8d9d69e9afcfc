//! `pgferry verify`.

use super::Endpoints;
use crate::error::{print_out, usage, Exit};
use crate::verify::ChecksumOptions;
use clap::Args;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: super::SelectArgs,
    /// Compare exact row counts only (quick look; no checksums).
    #[arg(long, help_heading = "Verification")]
    pub counts_only: bool,
    /// Also compare the structure of both ends, object by object, as
    /// `pg_dump --schema-only` shows it (version wording normalised); exit 1
    /// on any difference the migration's skips do not explain.
    #[arg(long, help_heading = "Verification")]
    pub schema: bool,
    /// Tables (or key ranges of big tables) read at once, each through one
    /// session on both servers (default: as `migrate` sizes its copy
    /// streams, one per CPU near the source, 16 or more across a long link).
    #[arg(long, short = 'j', value_name = "N", value_parser = super::parse_jobs,
          help_heading = super::PERFORMANCE)]
    pub jobs: Option<usize>,
    /// Read in key ranges of about SIZE (bytes, or with a kB/MB/GB suffix),
    /// in parallel, the tables larger than SIZE that have a one-column
    /// integer primary key, and locate a difference in them by key range.
    /// Default 64MB, 8MB across a long link (where each stream gets only
    /// a share of it).
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size,
          help_heading = super::PERFORMANCE)]
    pub split_larger_than: Option<i64>,
    #[command(flatten)]
    pub output: super::OutputArgs,
    /// Also write the JSON report to DIR/verify-report.json (e.g. the
    /// migration's --state-dir).
    #[arg(long, value_name = "DIR", help_heading = super::OUTPUT)]
    pub state_dir: Option<std::path::PathBuf>,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let schema = if args.schema {
        Some(crate::verify::compare_schema(&ends, &sel).await?)
    } else {
        None
    };
    if let (Some(r), false) = (&schema, args.output.json) {
        print_out(&crate::report::schema_text(r))?;
    }
    let schema_equal = schema.as_ref().is_none_or(|r| r.equal());
    if args.counts_only {
        let exit = counts(&ends, &sel, args.output.json, schema.as_ref()).await?;
        return Ok(if schema_equal { exit } else { Exit::Problem });
    }
    if args.jobs == Some(0) {
        return Err(usage("--jobs must be at least 1"));
    }
    let opts = ChecksumOptions {
        // None: sized from the link to the source (`verify_all`).
        jobs: args.jobs.unwrap_or(0),
        split_larger_than: args.split_larger_than,
    };
    let started = std::time::Instant::now();
    let verdict = crate::verify::verify_all(&ends, &sel, &opts).await?;
    let los = crate::verify::compare_large_objects(&ends).await?;
    let seconds = started.elapsed().as_secs_f64();
    let (sums, seqs) = (&verdict.tables, &verdict.sequences);
    let different: Vec<&str> = sums
        .iter()
        .filter(|c| !c.equal)
        .map(|c| c.table.as_str())
        .collect();
    let different_sequences = different_sequences(seqs);
    let equal = different.is_empty() && different_sequences.is_empty() && schema_equal && los.equal;
    let mut doc = serde_json::json!({
        "command": "verify", "ok": equal, "mode": "checksum", "equal": equal,
        "different": different, "different_sequences": different_sequences,
        "seconds": seconds, "tables": sums, "sequences": seqs, "large_objects": los
    });
    if let Some(r) = &schema {
        doc["schema"] = serde_json::to_value(r)?;
    }
    // The file copy names the command line too, for `pgferry report`.
    let mut saved = doc.clone();
    saved["command_line"] = serde_json::Value::String(super::command_line(&ends));
    if let Some(dir) = &args.state_dir {
        let path = dir.join("verify-report.json");
        let text = serde_json::to_string_pretty(&saved)?;
        // A --state-dir that cannot be written is a usage error (exit 2).
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| {
                usage(format!(
                    "cannot write {} (--state-dir): {e}",
                    path.display()
                ))
            })?;
    }
    if args.output.json {
        print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    } else {
        print_out(&crate::report::checksum_table(sums))?;
        print_out(&crate::verify::sequences_text(seqs))?;
        if los.source_count + los.target_count > 0 {
            print_out(&format!(
                "{} large objects on the source, {} on the target: {}\n",
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
            ))?;
        }
    }
    Ok(if equal { Exit::Ok } else { Exit::Problem })
}

/// The sequences whose values differ (or are missing on the target).
fn different_sequences(seqs: &[crate::verify::SequenceCheck]) -> Vec<&str> {
    seqs.iter()
        .filter(|s| !s.equal)
        .map(|s| s.sequence.as_str())
        .collect()
}

async fn counts(
    ends: &crate::config::Endpoints,
    sel: &crate::plan::Selection,
    json: bool,
    schema: Option<&crate::verify::SchemaReport>,
) -> anyhow::Result<Exit> {
    let (counts, seqs) = crate::verify::compare_counts(ends, sel).await?;
    let different_sequences = different_sequences(&seqs);
    let equal = counts.iter().all(|c| c.equal) && different_sequences.is_empty();
    if json {
        let mut doc = serde_json::json!({
            "command": "verify", "mode": "counts",
            "ok": equal && schema.is_none_or(|r| r.equal()),
            "equal": equal && schema.is_none_or(|r| r.equal()), "tables": counts,
            "different_sequences": different_sequences, "sequences": seqs
        });
        if let Some(r) = schema {
            doc["schema"] = serde_json::to_value(r)?;
        }
        print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    } else {
        print_out(&crate::report::counts_table(&counts))?;
        print_out(&crate::verify::sequences_text(&seqs))?;
    }
    Ok(if equal { Exit::Ok } else { Exit::Problem })
}
