//! `pgferry status`: what a task has done and what is left, read from its
//! state directory; works while the task runs (SQLite allows a reader beside
//! the writer) and after it stopped.

use crate::error::{usage, Exit};
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

/// One task's progress.
#[derive(Debug, Serialize)]
struct TaskStatus {
    dir: String,
    task: String,
    finished: bool,
    pre_data_done: bool,
    post_data_steps_done: i64,
    units_total: usize,
    units_done: usize,
    units_copying: usize,
    units_pending: usize,
    rows_copied: i64,
    bytes_copied: i64,
    /// Units not done, by table.
    left: Vec<String>,
}

fn read(dir: &Path) -> anyhow::Result<Option<TaskStatus>> {
    let Some(state) = State::open_existing(dir)? else {
        return Ok(None);
    };
    let units = state.units()?;
    let steps = state.steps_done()?;
    let count = |s: &str| units.iter().filter(|u| u.status == s).count();
    Ok(Some(TaskStatus {
        dir: dir.display().to_string(),
        task: state.get("identity")?.unwrap_or_default(),
        finished: state.is_finished()?,
        pre_data_done: state.step_done("pre-data")?,
        post_data_steps_done: steps
            .iter()
            .filter(|(p, _)| p == "post-data")
            .map(|(_, n)| *n)
            .sum(),
        units_total: units.len(),
        units_done: count("done"),
        units_copying: count("copying"),
        units_pending: count("pending"),
        rows_copied: units.iter().filter_map(|u| u.rows).sum(),
        bytes_copied: units.iter().filter_map(|u| u.bytes).sum(),
        left: units
            .iter()
            .filter(|u| u.status != "done")
            .map(|u| format!("{} ({})", u.table, u.status))
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
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"command": "status", "tasks": tasks})
            )?
        );
        return Ok(Exit::Ok);
    }
    for t in &tasks {
        println!("task {}\n  state: {}", t.task, t.dir);
        let phase = if t.finished {
            "finished"
        } else if !t.pre_data_done {
            "pre-data not done"
        } else if t.units_done < t.units_total {
            "data phase"
        } else {
            "post-data"
        };
        println!("  status: {phase}");
        println!(
            "  data: {}/{} units done ({} copying, {} pending), {} rows, {:.1} MB",
            t.units_done,
            t.units_total,
            t.units_copying,
            t.units_pending,
            t.rows_copied,
            t.bytes_copied as f64 / 1e6
        );
        println!("  post-data statements done: {}", t.post_data_steps_done);
        for l in t.left.iter().take(20) {
            println!("    left: {l}");
        }
        if t.left.len() > 20 {
            println!("    ... and {} more", t.left.len() - 20);
        }
        if !t.finished {
            println!("  continue with: pgferry migrate --resume (same source, target and options)");
        }
    }
    Ok(Exit::Ok)
}
