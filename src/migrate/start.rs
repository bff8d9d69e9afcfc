//! What a run does before its first write: the catalog read under the
//! snapshot (bounded lock waits, the locked table named), the sessions a run
//! needs (and, on resume, the room for them), the target's roles, and the
//! source's write counters.

use super::{sessions, Options, SessionOptions, LOCK_TIMEOUT};
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::copy::link::Link;
use crate::pg::SnapshotHolder;
use crate::plan::Plan;
use anyhow::Context;
use tokio_postgres::Client;

/// Reads the source catalog in the snapshot, waiting at most
/// [`LOCK_TIMEOUT`] for a table another session holds in ACCESS EXCLUSIVE
/// mode (the size functions lock each table), then failing with
/// [`TablesLocked`] naming it.
pub(super) async fn read_catalog(holder: &SnapshotHolder) -> anyhow::Result<Catalog> {
    holder.begin_lock_bound(LOCK_TIMEOUT).await?;
    match Catalog::read(holder.client()).await {
        Ok(cat) => {
            holder.end_lock_bound().await?;
            Ok(cat)
        }
        Err(e) if crate::pg::is_lock_timeout(&e) => Err(holder.locked_tables(LOCK_TIMEOUT).await),
        // The catalog queries are pipelined: the one that timed out on a
        // lock may not be the first error seen, the others then fail with
        // "current transaction is aborted". Ask which tables are held.
        Err(e) if in_failed_transaction(&e) => {
            let locked = holder.locked_tables(LOCK_TIMEOUT).await;
            match locked.downcast_ref::<crate::pg::TablesLocked>() {
                Some(t) if !t.tables.is_empty() => Err(locked),
                _ => Err(e.context("reading the source catalog")),
            }
        }
        Err(e) => Err(e.context("reading the source catalog")),
    }
}

/// SQLSTATE 25P02: an earlier statement of the transaction failed.
fn in_failed_transaction(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| *code == tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION)
    })
}

/// The options that decide how many sessions a run opens.
pub(super) fn session_options(opts: &Options) -> SessionOptions {
    SessionOptions {
        // No --jobs (0): the data phase sizes the streams from the link; the
        // room is checked for one per CPU, what a near source gets.
        jobs: match opts.jobs {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            n => n,
        },
        index_jobs: opts.index_jobs,
        split_threshold: opts.split_threshold,
        split_streams: super::data::split_streams(opts),
        schema_only: opts.schema_only,
        data_only: opts.data_only,
        analyze: opts.analyze,
    }
}

/// Fails a resume (exit 1, nothing written) whose sessions do not fit on
/// one of the servers, with the numbers.
pub(super) async fn resume_room(
    holder: &SnapshotHolder,
    target: &Client,
    plan: &Plan,
    opts: &Options,
    source_version: i32,
    target_version: i32,
) -> anyhow::Result<()> {
    let need = sessions(plan, session_options(opts), (1, 1));
    let findings = crate::precheck::room_findings(
        (holder.client(), source_version),
        (target, target_version),
        &need,
    )
    .await?;
    let failed: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == crate::precheck::Severity::Failure)
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow::Error::new(crate::error::ProblemFound {
        message: format!(
            "cannot resume: {}; lower --jobs or --index-jobs",
            failed.join("; ")
        ),
        document_printed: false,
    }))
}

/// Every role of the target, so `--keep-owners` can leave out (and report)
/// statements naming roles it lacks instead of failing on them.
pub(super) async fn target_roles(
    target: &Client,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let rows = target
        .query_typed("SELECT rolname::text FROM pg_catalog.pg_roles", &[])
        .await
        .context("reading the target's roles")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Rows changed in the source database so far, or `None` when the counters
/// cannot be read (then nothing is reported).
pub(super) async fn source_row_changes(source: &Client) -> Option<i64> {
    crate::precheck::write_counters(source)
        .await
        .ok()
        .map(|(_, rows)| rows)
}

/// Locks the tables to copy against DDL until the copy ends, when the
/// source's lock table can hold a lock on each beside the copy sessions (half
/// of it). Otherwise (tens of thousands of tables on default settings, where
/// pg_dump fails with "out of shared memory") they are not locked, and the
/// user is told not to change them meanwhile.
pub(super) async fn lock_for_copy(
    holder: &SnapshotHolder,
    tables: &[String],
) -> anyhow::Result<()> {
    let slots = crate::pg::lock_slots(holder.client()).await?;
    if tables.len() <= slots / 2 {
        return holder.lock_tables(tables, super::LOCK_TIMEOUT).await;
    }
    tracing::warn!(
        "the source's lock table ({slots} slots: max_locks_per_transaction x (max_connections \
         + max_prepared_transactions)) cannot hold a lock on each of the {} tables to copy: \
         they are not locked against DDL during the copy; change no table on the source until \
         the data phase ends (or raise max_locks_per_transaction)",
        tables.len()
    );
    Ok(())
}

/// The link to the source, measured once (see `copy::link`): it sizes the
/// copy streams when `jobs` is 0 (one per CPU near the source, more across a
/// long link), which the precheck then counts, and picks the COPY format of
/// a far source. Returns the link, the streams and the streams a big table
/// may be split across (fewer when both servers share this machine's CPUs).
pub(super) async fn probe_link(
    holder: &SnapshotHolder,
    ends: &Endpoints,
    jobs: usize,
) -> (Link, usize, usize) {
    let link = Link::probe(holder.client()).await;
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = match jobs {
        0 => link.default_jobs(cpus),
        n => n,
    };
    let here = ends.source.on_this_host() && ends.target.on_this_host();
    let split = link.split_streams(jobs, cpus, here);
    tracing::info!(
        jobs,
        split_across = split,
        source_rtt_ms = link.rtt.map(|d| (d.as_secs_f64() * 1e4).round() / 10.0),
        "copy streams"
    );
    (link, jobs, split)
}
