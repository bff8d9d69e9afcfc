//! `pgferry precheck`: the run `migrate` would make with the same options, up
//! to its precheck, so that both check the same plan (the same version rules,
//! roles created, owners kept, tablespaces mapped) and the same number of
//! sessions. Nothing is locked or written.

use super::run::Run;
use super::start::session_options;
use super::{sessions, Options, PhaseTimes};
use crate::config::Endpoints;
use std::path::PathBuf;

/// Every check `migrate` runs before its first write, as a report.
pub async fn precheck_only(
    ends: &Endpoints,
    opts: &Options,
    fix_dir: Option<PathBuf>,
) -> anyhow::Result<crate::precheck::Report> {
    let mut run = Run::checking_only(ends, opts);
    let (holder, target, target_version) = run.connect().await?;
    run.size_jobs(&holder).await;
    let planned = run
        .read_and_plan(&holder, &target, target_version, &mut PhaseTimes::default())
        .await?;
    let checks = check_options(&run.opts, &planned.plan, fix_dir);
    let precheck_sessions = planned.precheck_sessions.transpose()?;
    // The checks make a large future: on the heap, not in this one.
    let report = Box::pin(crate::precheck::run_with(
        ends,
        &planned.cat,
        &planned.plan,
        &checks,
        precheck_sessions,
    ))
    .await;
    if let Err(e) = holder.close().await {
        tracing::debug!("closing the snapshot: {e:#}");
    }
    report
}

/// The precheck of a run's plan and sessions: `pgferry precheck` runs it as
/// it is, `migrate` with its ignored codes and without the write sample.
pub(super) fn check_options(
    opts: &Options,
    plan: &crate::plan::Plan,
    fix_dir: Option<PathBuf>,
) -> crate::precheck::Options {
    crate::precheck::Options {
        data_only: opts.data_only,
        ignore: Vec::new(),
        keep_owners: opts.keep_owners,
        skip_write_sample: false,
        fix_dir,
        // Open now: the snapshot holder and the DDL session, and the
        // precheck's own session on each end.
        sessions: Some(sessions(plan, session_options(opts), (2, 2))),
        follow: opts.follow,
    }
}
