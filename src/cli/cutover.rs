//! `pgferry cutover`: ends a `migrate --follow` task once the user has
//! stopped writes on the source.
//!
//! 1. Checks that no write transaction is in flight on the source, then
//!    takes the source's current WAL position: everything committed is
//!    before it.
//! 2. Asks the running follower (through its state directory) to apply up
//!    to that position and stop, or applies up to it itself when no
//!    follower runs.
//! 3. Sets every sequence from the source's live values, drops pgferry's
//!    progress table on the target, verifies (counts, checksums,
//!    sequences), and prints how long writes had to stop.
//! 4. Only when equal: drops the slot, the publication and the TRUNCATE
//!    guard from the source, and records the task finished. A difference
//!    leaves them in place (exit 1), so nothing is lost before it is
//!    understood; `pgferry cleanup` removes them when given up.

use super::{Endpoints, OutputArgs, SelectArgs};
use crate::error::{usage, Exit, ProblemFound};
use crate::follow::{self, keys, SourceObjects, TableMap};
use crate::state::{State, StateLock};
use crate::verify::ChecksumOptions;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct CutoverArgs {
    #[command(flatten)]
    pub endpoints: Endpoints,
    #[command(flatten)]
    pub select: SelectArgs,
    /// State directory of the `migrate --follow` task (as given to it).
    #[arg(long, value_name = "DIR", help_heading = "Migration")]
    pub state_dir: Option<PathBuf>,
    /// As given to `migrate --follow` (it is part of the task's identity).
    #[arg(long, help_heading = "Migration")]
    pub keep_owners: bool,
    /// Seconds to wait for write transactions still open on the source.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        help_heading = "Migration"
    )]
    pub wait: u64,
    /// Tables verified at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2,
          help_heading = super::PERFORMANCE)]
    pub jobs: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Waits until no other session of the source database has a write
/// transaction open; their pids when the wait runs out.
async fn writes_in_flight(
    src: &tokio_postgres::Client,
    wait: Duration,
) -> anyhow::Result<Vec<i32>> {
    let until = Instant::now() + wait;
    loop {
        let rows = src
            .query(
                "SELECT pid FROM pg_catalog.pg_stat_activity \
                 WHERE datname = pg_catalog.current_database() \
                   AND pid <> pg_catalog.pg_backend_pid() AND backend_xid IS NOT NULL",
                &[],
            )
            .await
            .context("looking for write transactions in flight on the source")?;
        let pids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        if pids.is_empty() || Instant::now() >= until {
            return Ok(pids);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `migrate --follow` task that `cutover` and `cleanup` name: its
/// endpoints, selection, state directory, state and what it created on the
/// source. Not one is a usage error (exit 2) that says which.
pub(super) struct FollowTask {
    pub ends: crate::config::Endpoints,
    pub sel: crate::plan::Selection,
    pub dir: PathBuf,
    pub state: State,
    pub objs: SourceObjects,
}

pub(super) fn follow_task(
    endpoints: &Endpoints,
    select: &SelectArgs,
    state_dir: Option<&std::path::Path>,
    keep_owners: bool,
) -> anyhow::Result<FollowTask> {
    let (ends, sel) = super::resolve_job(endpoints, select)?;
    let dir = crate::migrate::follow_state_dir(&ends, state_dir, &sel, keep_owners);
    let state = State::open_existing(&dir)?.ok_or_else(|| {
        usage(format!(
            "no task in {}: give the --state-dir of `migrate --follow`",
            dir.display()
        ))
    })?;
    let objs = SourceObjects::recorded(&state)?.ok_or_else(|| {
        usage(format!(
            "the task in {} is not a --follow migration (it created nothing on the source)",
            dir.display()
        ))
    })?;
    Ok(FollowTask {
        ends,
        sel,
        dir,
        state,
        objs,
    })
}

pub async fn run(args: CutoverArgs) -> anyhow::Result<Exit> {
    let FollowTask {
        ends,
        sel,
        dir,
        state,
        objs,
    } = follow_task(
        &args.endpoints,
        &args.select,
        args.state_dir.as_deref(),
        args.keep_owners,
    )?;
    if state.is_finished()? {
        return Err(usage(format!(
            "the task in {} is already cut over",
            dir.display()
        )));
    }
    if state.get(keys::LOADED)?.is_none() {
        return Err(usage(
            "the full load of this task has not finished: cut-over is possible once \
             `migrate --follow` says it is following",
        ));
    }
    let src = crate::pg::connect_at_start(&ends.source, "cutover").await?;
    let target = crate::pg::connect_at_start(&ends.target, "cutover").await?;
    let busy = writes_in_flight(&src, Duration::from_secs(args.wait)).await?;
    if !busy.is_empty() {
        return Err(usage(format!(
            "writes are still in flight on the source (sessions {busy:?} have write transactions \
             open after {} s): stop the applications' writes, then run cutover again",
            args.wait
        )));
    }
    let stopped = Instant::now();
    let end = follow::current_lsn(&src).await?;
    // A commit record after `end`: the stream then moves past `end` even if
    // nothing else is written (the barrier the follower sees come back).
    src.batch_execute("SELECT pg_catalog.txid_current()")
        .await
        .context("writing the cut-over barrier on the source")?;
    eprintln!("pgferry: writes stopped; applying everything up to {end} (keep writes stopped)");
    let request = follow::request_file(&dir);
    std::fs::write(&request, end.to_string())
        .with_context(|| format!("writing {}", request.display()))?;
    // The follower holds the lock until it has applied up to `end`.
    let lock = loop {
        match StateLock::acquire(&dir) {
            Ok(l) => break l,
            Err(_) if stopped.elapsed() < Duration::from_secs(600) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                return Err(
                    e.context("the follower did not reach the cut-over position in 10 minutes")
                )
            }
        }
    };
    let (cat, plan) = crate::migrate::plan_only(&ends, &sel, args.keep_owners, false).await?;
    let applied = follow::progress::read(&target, &objs.slot)
        .await?
        .unwrap_or_default();
    if applied < end {
        let map = TableMap::new(&cat, &plan, &follow::recorded_columns(&state)?);
        follow::follow(follow::Run {
            source: &ends.source,
            target: &ends.target,
            map: &map,
            objs: &objs,
            stop: crate::migrate::install_interrupt(),
            request_file: None,
            until: Some(end),
            state: None,
        })
        .await
        .context("applying the last changes")?;
    }
    let drained = stopped.elapsed().as_secs_f64();
    let t = Instant::now();
    let sequences = crate::migrate::cutover_sequences(&src, &target, &plan).await?;
    follow::progress::drop(&target).await?;
    let seq_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let opts = ChecksumOptions {
        jobs: args.jobs.max(1),
        split_larger_than: None,
    };
    let verdict = crate::verify::verify_all(&ends, &sel, &opts).await?;
    let verify_secs = t.elapsed().as_secs_f64();
    let different: Vec<String> = verdict
        .tables
        .iter()
        .filter(|c| !c.equal)
        .map(|c| c.table.clone())
        .collect();
    let seq_diff = verdict.sequences.iter().filter(|s| !s.equal).count();
    let writes_stopped = stopped.elapsed().as_secs_f64();
    let equal = different.is_empty() && seq_diff == 0;
    let dropped = if equal {
        let d = follow::drop_all(&src, &objs).await?;
        state.mark_finished()?;
        std::fs::remove_file(&request).ok();
        d
    } else {
        Vec::new()
    };
    drop(lock);
    let doc = serde_json::json!({
        "equal": equal,
        "cutover_lsn": end.to_string(),
        "writes_stopped_seconds": writes_stopped,
        "drain_seconds": drained,
        "sequences_seconds": seq_secs,
        "verify_seconds": verify_secs,
        "sequences_set": sequences,
        "tables_verified": verdict.tables.len(),
        "different_tables": different,
        "different_sequences": seq_diff,
        "dropped_on_source": dropped,
    });
    if args.output.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "cut-over at {end}: {} tables verified{}; {sequences} sequences set",
            verdict.tables.len(),
            if equal { ", equal" } else { ", DIFFERENT" }
        );
        println!(
            "writes were stopped for {writes_stopped:.1} s (last changes {drained:.1} s, \
             sequences {seq_secs:.1} s, verify {verify_secs:.1} s)"
        );
        for d in &dropped {
            println!("dropped on the source: {d}");
        }
    }
    if !equal {
        return Err(ProblemFound {
            message: format!(
                "the target differs from the source after cut-over ({} table(s), {seq_diff} \
                 sequence(s)): the slot and publication are kept; see `pgferry verify`",
                different.len()
            ),
            document_printed: args.output.json,
        }
        .into());
    }
    Ok(Exit::Ok)
}
