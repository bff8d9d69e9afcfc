//! `pgferry report`: the HTML page of a task (see `crate::html`), from its
//! state directory, for the change ticket.

use crate::error::{usage, Exit};
use crate::state::State;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The task's state directory (the migration's --state-dir). Default:
    /// the one task under .pgferry in the current directory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Where to write the page (default: DIR/report.html).
    #[arg(long, short = 'o', value_name = "FILE", help_heading = super::OUTPUT)]
    pub out: Option<PathBuf>,
}

/// The only task directory under `parent`, or a usage error naming them.
fn only_task(parent: &Path) -> anyhow::Result<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && State::open_existing(&p)?.is_some() {
                found.push(p);
            }
        }
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(usage(format!(
            "no pgferry task state under {} (use --state-dir)",
            parent.display()
        ))),
        _ => Err(usage(format!(
            "several tasks under {}: choose one with --state-dir ({})",
            parent.display(),
            found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub fn run(args: ReportArgs) -> anyhow::Result<Exit> {
    let dir = match args.state_dir {
        Some(d) => d,
        None => only_task(Path::new(".pgferry"))?,
    };
    let out = args.out.unwrap_or_else(|| dir.join("report.html"));
    crate::html::write(&dir, &out)?;
    println!("report: {}", out.display());
    Ok(Exit::Ok)
}
