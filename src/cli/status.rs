//! `pgferry status`: what a task has done and what is left, read from its
//! state directory; works while the task runs (SQLite allows a reader beside
//! the writer) and after it stopped.

use crate::copy::{number_ranges, unit_label};
use crate::error::{print_out, usage, Exit};
use crate::plan::{CopyRange, Counts};
use crate::state::State;
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A task's state directory, or the parent holding one per task
    /// (relative paths start at the current directory).
    #[arg(long, value_name = "DIR", default_value = ".pgferry")]
    pub state_dir: PathBuf,
    /// Print one machine-readable JSON document on stdout.
    #[arg(long, help_heading = super::OUTPUT)]
    pub json: bool,
}

/// One task's progress. Counts are those of the migrate report (README,
/// "What is counted"): `post_data_steps_done` counts post-data statements
/// only, renames and ANALYZE apart.
#[derive(Debug, Serialize)]
struct TaskStatus {
    dir: String,
    task: String,
    finished: bool,
    pre_data_done: bool,
    post_data_steps_done: i64,
    renames_done: i64,
    analyze_done: i64,
    /// What the task moves, as recorded when it started (absent for tasks
    /// recorded by older versions).
    counts: Option<Counts>,
    units_total: usize,
    units_done: usize,
    units_copying: usize,
    units_pending: usize,
    rows_copied: i64,
    bytes_copied: i64,
    /// Units not done: `table (status)`, or `table [range k/n] (status)`.
    left: Vec<String>,
}

fn read(dir: &Path) -> anyhow::Result<Option<TaskStatus>> {
    let Some(state) = State::open_existing(dir)? else {
        return Ok(None);
    };
    let units = state.units()?;
    let steps = state.steps_done()?;
    let count = |s: &str| units.iter().filter(|u| u.status == s).count();
    let done_in = |phase: &str| -> i64 {
        steps
            .iter()
            .filter(|(p, _)| p == phase)
            .map(|(_, n)| *n)
            .sum()
    };
    let ranges: Vec<Option<CopyRange>> = units
        .iter()
        .map(|u| {
            u.range
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
        })
        .collect();
    let parts = number_ranges(
        &units
            .iter()
            .zip(&ranges)
            .map(|(u, r)| (u.table.as_str(), r.as_ref()))
            .collect::<Vec<_>>(),
    );
    Ok(Some(TaskStatus {
        dir: dir.display().to_string(),
        task: state.get("identity")?.unwrap_or_default(),
        finished: state.is_finished()?,
        pre_data_done: state.step_done("pre-data")?,
        post_data_steps_done: done_in("post-data"),
        renames_done: done_in("rename"),
        analyze_done: done_in("analyze"),
        counts: state
            .get("counts")?
            .and_then(|j| serde_json::from_str(&j).ok()),
        units_total: units.len(),
        units_done: count("done"),
        units_copying: count("copying"),
        units_pending: count("pending"),
        rows_copied: units.iter().filter_map(|u| u.rows).sum(),
        bytes_copied: units.iter().filter_map(|u| u.bytes).sum(),
        left: units
            .iter()
            .zip(parts)
            .filter(|(u, _)| u.status != "done")
            .map(|(u, part)| format!("{} ({})", unit_label(&u.table, part), u.status))
            .collect(),
    }))
}

pub fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    let mut tasks = Vec::new();
    if let Some(t) = read(&args.state_dir)? {
        tasks.push(t);
    } else if args.state_dir.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&args.state_dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            if let Some(t) = read(&d)? {
                tasks.push(t);
            }
        }
    }
    if tasks.is_empty() {
        return Err(usage(format!(
            "no pgferry task state in {} (use --state-dir)",
            args.state_dir.display()
        )));
    }
    if args.json {
        let doc = serde_json::json!({"command": "status", "ok": true, "tasks": tasks});
        print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        return Ok(Exit::Ok);
    }
    // One write per line: a reader that stops early (`| head -1`) ends the
    // command quietly at the next one.
    for t in &tasks {
        print_out(&format!("task {}\n  state: {}\n", t.task, t.dir))?;
        let phase = if t.finished {
            "finished"
        } else if !t.pre_data_done {
            "pre-data not done"
        } else if t.units_done < t.units_total {
            "data phase"
        } else {
            "post-data"
        };
        print_out(&format!("  status: {phase}\n"))?;
        print_out(&format!(
            "  data: {}/{} units done ({} copying, {} pending), {} rows, {:.1} MB\n",
            t.units_done,
            t.units_total,
            t.units_copying,
            t.units_pending,
            t.rows_copied,
            t.bytes_copied as f64 / 1e6
        ))?;
        if let Some(c) = &t.counts {
            print_out(&format!("  task: {}\n", c.describe()))?;
        }
        let of = |n: Option<usize>| n.map_or(String::new(), |n| format!("/{n}"));
        print_out(&format!(
            "  post-data statements done: {}{}; renames: {}{}; ANALYZE: {}\n",
            t.post_data_steps_done,
            of(t.counts.as_ref().map(|c| c.post_data_statements)),
            t.renames_done,
            of(t.counts.as_ref().map(|c| c.renames)),
            t.analyze_done
        ))?;
        for l in t.left.iter().take(20) {
            print_out(&format!("    left: {l}\n"))?;
        }
        if t.left.len() > 20 {
            print_out(&format!("    ... and {} more\n", t.left.len() - 20))?;
        }
        if !t.finished {
            print_out(
                "  continue with: pgferry migrate --resume (same source, target and options)\n",
            )?;
        }
    }
    Ok(Exit::Ok)
}
