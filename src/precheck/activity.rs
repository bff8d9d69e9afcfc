//! The source as a running system: how much there is to copy, whether it is
//! being written to, and whether it could feed incremental migration later.

use super::{Context, Finding, Severity};
use crate::pg::Oid;
use anyhow::Context as _;
use std::time::Duration;

/// `1234567` -> `1.2 MB`; decimal units, as disk vendors and cloud consoles use.
pub(super) fn human_bytes(n: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n.max(0) as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Source size of the selected tables (indexes and TOAST included) against
/// what the target says. Free disk space is not visible through SQL on any
/// server we can rely on (managed services hide the file system), so this is
/// a warning with the number the user must check.
pub(super) async fn space(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let oids: Vec<Oid> = cx.cat.tables.iter().map(|t| t.oid).collect();
    let src: i64 = cx
        .source
        .query_one(
            "SELECT COALESCE(sum(pg_catalog.pg_total_relation_size(o::oid)), 0)::int8 FROM unnest($1::int8[]) o",
            &[&oids],
        )
        .await
        .context("measuring the source tables")?
        .get(0);
    let tgt: i64 = cx
        .target
        .query_typed_one(
            "SELECT pg_catalog.pg_database_size(pg_catalog.current_database())::int8",
            &[],
        )
        .await
        .context("measuring the target database")?
        .get(0);
    Ok(vec![Finding::warning(
        "target.space",
        format!(
            "the {} selected table(s) take {} on the source ({src} bytes, indexes and TOAST included); \
             the target database takes {} now; pgferry cannot know the free space on the target",
            cx.plan.counts.tables,
            human_bytes(src),
            human_bytes(tgt)
        ),
        format!(
            "make sure the target has at least {} free (more while indexes are built), e.g. in the \
             storage settings of the managed service or with df on the server",
            human_bytes(src)
        ),
    )])
}

/// Write counters of the database `client` is in: committed transactions and
/// rows changed by anyone. Fresh values even inside a transaction (which would
/// otherwise keep seeing the statistics it read first). Statistics reach the
/// view with a delay of up to a second or so: a heuristic, never a guarantee.
pub(crate) async fn write_counters(client: &tokio_postgres::Client) -> anyhow::Result<(i64, i64)> {
    client
        .batch_execute("SELECT pg_catalog.pg_stat_clear_snapshot()")
        .await?;
    let r = client
        .query_typed_one(
            "SELECT xact_commit::int8, (tup_inserted + tup_updated + tup_deleted)::int8 \
             FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()",
            &[],
        )
        .await
        .context("reading pg_stat_database")?;
    Ok((r.get(0), r.get(1)))
}

/// The seed's rule: writes made on the source during a full migration are not
/// carried over. Samples the counters one second apart; pgferry's own
/// sessions only read, so any row change is someone else's.
pub(super) async fn writes(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let (x0, t0) = write_counters(cx.source).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (x1, t1) = write_counters(cx.source).await?;
    let others: i64 = cx
        .source
        .query_typed_one(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity \
             WHERE datname = pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid() \
               AND COALESCE(application_name, '') NOT LIKE '%pgferry%'",
            &[],
        )
        .await
        .context("reading pg_stat_activity")?
        .get(0);
    // Our own two sampling statements commit between the samples.
    let commits = (x1 - x0 - 2).max(0);
    let rows = t1 - t0;
    Ok(vec![if rows > 0 {
        Finding::warning(
            "source.writes",
            format!(
                "the source is being written to: {rows} row(s) changed by others in 1 s ({commits} \
                 transaction(s) committed, pgferry's own reads included; {others} other session(s) \
                 connected); writes made during \
                 a full migration are not carried over (pgferry has no incremental migration yet)"
            ),
            "stop the applications writing to the source (or make it read-only: ALTER DATABASE ... \
             SET default_transaction_read_only = on) for the whole migration",
        )
    } else {
        Finding::pass(
            "source.writes",
            format!("no row changed on the source in 1 s ({others} other session(s) connected); keep writes stopped until the migration ends"),
        )
    }])
}

/// What incremental migration (`migrate --follow`) needs: failures in
/// follow mode, else informational (Pass with a fix).
pub(super) async fn cdc(cx: &Context<'_>, follow: bool) -> anyhow::Result<Vec<Finding>> {
    let r = cx
        .source
        .query_typed_one(
            "SELECT pg_catalog.current_setting('wal_level'), \
                    pg_catalog.current_setting('max_replication_slots')::int8, \
                    (SELECT count(*) FROM pg_catalog.pg_replication_slots), \
                    pg_catalog.current_setting('max_wal_senders')::int8, \
                    (SELECT count(*) FROM pg_catalog.pg_stat_replication)",
            &[],
        )
        .await
        .context("reading replication settings")?;
    let (level, slots, used, senders, busy): (String, i64, i64, i64, i64) =
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
    let info = |code, ok: bool, msg: String, fix: &str| Finding {
        code,
        severity: if follow && !ok {
            Severity::Failure
        } else {
            Severity::Pass
        },
        message: if ok || follow {
            msg
        } else {
            format!("{msg} (informational: incremental migration, --follow, needs it)")
        },
        fix: (!ok).then(|| fix.to_string()),
        script: None,
        sql: None,
    };
    Ok(vec![
        info(
            "cdc.wal_level",
            level == "logical",
            format!("source wal_level = {level}"),
            "set wal_level = logical and restart the source (Aurora/RDS: rds.logical_replication = 1 in the parameter group)",
        ),
        info(
            "cdc.replication_slots",
            slots - used > 0,
            format!("{} of {slots} replication slot(s) free on the source", slots - used),
            "raise max_replication_slots on the source (restart needed), or drop unused slots",
        ),
        info(
            "cdc.wal_senders",
            senders - busy > 0,
            format!("{} of {senders} WAL sender(s) free on the source", senders - busy),
            "raise max_wal_senders on the source (restart needed)",
        ),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes() {
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1_234_567), "1.2 MB");
    }
}
