//! `pgferry cleanup`: removes what `migrate --follow` created for an
//! abandoned task: the slot (which otherwise keeps WAL on the source until
//! its disk fills), the publication and the PostgreSQL 10 TRUNCATE guard on
//! the source, and pgferry's progress table on the target. The rows already
//! migrated are left alone.

use super::{Endpoints, SelectArgs};
use crate::error::Exit;
use crate::follow;
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
    let super::cutover::FollowTask {
        ends, dir, objs, ..
    } = super::cutover::follow_task(
        &args.endpoints,
        &args.select,
        args.state_dir.as_deref(),
        args.keep_owners,
    )?;
    let src = crate::pg::connect_at_start(&ends.source, "cleanup").await?;
    let mut dropped = follow::drop_all(&src, &objs).await?;
    let target = crate::pg::connect_at_start(&ends.target, "cleanup").await?;
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
