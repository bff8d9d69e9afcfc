//! `pgferry migrate`.

use super::Endpoints;
use crate::copy::progress::Display;
use crate::error::{print_out, Exit};
use crate::migrate::{Options, Outcome, StartMode, TaskOptions};
use crate::pg::transient::RetryPolicy;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: super::SelectArgs,
    #[command(flatten)]
    pub run: super::RunArgs,
    /// Continue an interrupted task where it stopped (same source, target and options).
    #[arg(long, conflicts_with = "restart", help_heading = "Migration")]
    pub resume: bool,
    /// Forget the recorded task state and start over. pgferry never drops
    /// anything on the target: empty it first (or use a new target database).
    #[arg(long, help_heading = "Migration")]
    pub restart: bool,
    /// State directory of the task (default: .pgferry/<task id> under the
    /// current directory, one per source/target/options).
    #[arg(long, value_name = "DIR", help_heading = "Migration")]
    pub state_dir: Option<PathBuf>,
    /// Go on despite a failed precheck item with this code (repeatable); it is
    /// still reported, as a warning.
    #[arg(long, value_name = "CODE", help_heading = "Migration")]
    pub ignore_check: Vec<String>,
    /// Print the plan (every statement, in order, with its phase) and stop.
    #[arg(long, help_heading = super::OUTPUT)]
    pub dry_run: bool,
    /// Also write the HTML report of the task (as `pgferry report`) to FILE
    /// at the end, whatever the outcome.
    #[arg(long, value_name = "FILE", help_heading = super::OUTPUT)]
    pub report: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub output: super::OutputArgs,
    /// How long work that fails transiently (a lost connection, a server
    /// restarting or failing over, too many clients) is retried before the
    /// run stops, e.g. 90s, 5m (waits double from 0.5 s up to 8 s, each
    /// logged).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration,
          help_heading = super::PERFORMANCE)]
    pub retry_for: Duration,
}

/// `90`, `90s`, `5m`, `1h`: a duration in whole seconds, minutes or hours.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (examples: 90s, 5m, 0)"))?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => return Err(format!("unknown unit in `{s}` (use s, m or h)")),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

pub async fn run(args: MigrateArgs, quiet: bool) -> anyhow::Result<Exit> {
    crate::precheck::validate_ignore(&args.ignore_check)?;
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    if args.dry_run {
        let (_, plan) = crate::migrate::plan_only(
            &ends,
            &sel,
            args.run.keep_owners,
            args.run.map_removed_types,
        )
        .await?;
        if args.output.json {
            print_out(&format!("{}\n", serde_json::to_string_pretty(&plan)?))?;
        } else {
            print_out(&crate::report::plan_text(&plan))?;
        }
        return Ok(Exit::Ok);
    }
    let opts = Options {
        progress: Display::detect(quiet || args.output.json),
        task: Some(TaskOptions {
            state_dir: args.state_dir.clone(),
            mode: if args.resume {
                StartMode::Resume
            } else if args.restart {
                StartMode::Restart
            } else {
                StartMode::Fresh
            },
        }),
        ignore_checks: args.ignore_check,
        json: args.output.json,
        retry: RetryPolicy {
            window: args.retry_for,
        },
        ..args.run.options(sel)
    };
    let jobs = opts.jobs;
    tracing::debug!(source = %ends.source, target = %ends.target, jobs, "migrating");
    let dir = crate::migrate::state_dir(
        args.state_dir.as_deref(),
        &crate::migrate::identity(&ends, &opts).line,
    );
    crate::journal::start(super::command_line(&ends));
    let result = crate::migrate::migrate(&ends, &opts).await;
    // The run goes into the task's journal (precheck, timeline, command),
    // whatever its outcome, when the task state exists.
    if !matches!(result, Ok(Outcome::AlreadyComplete { .. }))
        && crate::state::State::open_existing(&dir)?.is_some()
    {
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("exit {}: {e:#}", crate::error::exit_for(e) as i32),
        };
        if let Err(e) = crate::journal::save(&dir, &outcome) {
            tracing::warn!("{e:#}");
        }
        if let Some(file) = &args.report {
            match crate::html::write(&dir, file) {
                Ok(()) => eprintln!("report: {}", file.display()),
                Err(e) => tracing::warn!("cannot write the report: {e:#}"),
            }
        }
    }
    let report = match result? {
        Outcome::Migrated(r) => r,
        Outcome::AlreadyComplete { state_dir } => {
            let msg = format!(
                "the task in {} is already complete: nothing to do (`pgferry verify` compares \
                 the databases; --restart runs the task again into an empty target)",
                state_dir.display()
            );
            if args.output.json {
                let doc = serde_json::json!({
                    "command": "migrate", "ok": true, "already_complete": true,
                    "state_dir": state_dir, "message": msg,
                });
                print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
            } else {
                print_out(&format!("{msg}\n"))?;
            }
            return Ok(Exit::Ok);
        }
    };
    if args.output.json {
        // `command` and `ok`, as in every other command's document.
        let mut doc = serde_json::json!({"command": "migrate", "ok": true});
        if let (Some(d), serde_json::Value::Object(r)) =
            (doc.as_object_mut(), serde_json::to_value(&report)?)
        {
            d.extend(r);
        }
        print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    } else {
        print_out(&crate::report::migrate_table(&report))?;
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }
}
