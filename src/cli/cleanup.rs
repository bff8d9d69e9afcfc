//! `pgferry cleanup`: removes what `migrate --follow` created for an
//! abandoned task: the slot (which otherwise keeps WAL on the source until
//! its disk fills), the publication and the PostgreSQL 10 TRUNCATE guard on
//! the source, and pgferry's progress table on the target. The rows already
//! migrated are left alone.

use super::{Endpoints, SelectArgs};
use crate::error::{usage, Exit};
use crate::follow::{self, SourceObjects};
use crate::pg::connect;
use crate::state::State;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CleanupArgs {
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
}

pub async fn run(args: CleanupArgs) -> anyhow::Result<Exit> {
    let (ends, sel) = super::resolve_job(&args.endpoints, &args.select)?;
    let dir =
        crate::migrate::follow_state_dir(&ends, args.state_dir.as_deref(), &sel, args.keep_owners);
    let state = State::open_existing(&dir)?.ok_or_else(|| {
        usage(format!(
            "no task in {}: give the --state-dir of `migrate --follow`",
            dir.display()
        ))
    })?;
    let objs = SourceObjects::recorded(&state)?.ok_or_else(|| {
        usage(format!(
            "the task in {} created nothing on the source (not a --follow migration)",
            dir.display()
        ))
    })?;
    let src = connect(&ends.source, "cleanup").await?;
    let mut dropped = follow::drop_all(&src, &objs).await?;
    let target = connect(&ends.target, "cleanup").await?;
    if follow::progress::drop(&target).await? {
        dropped.push(format!("schema {} on the target", follow::progress::SCHEMA));
    }
    if dropped.is_empty() {
        println!("nothing left to drop for the task in {}", dir.display());
    }
    for d in &dropped {
        println!("dropped: {d}");
    }
    Ok(Exit::Ok)
}
