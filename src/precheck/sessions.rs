//! Room for pgferry's sessions: a run opens one session per copy worker on
//! each end (plus the snapshot holder and the DDL session, and index builds on
//! the target). When the server has fewer free connection slots than that,
//! the run would get "too many clients" half-way through, retry, then fail;
//! here it fails before the first write, with the numbers and what to change.

use super::{Context, Finding};
use anyhow::Context as _;
use tokio_postgres::Client;

/// The most sessions a run opens on each end at once, and why.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    pub source: usize,
    pub target: usize,
    /// What they are, e.g. `1 snapshot + 8 copy workers`.
    pub source_why: String,
    pub target_why: String,
    /// Sessions of this pgferry already open on each end while the precheck
    /// counts (they are in the server's count and in `source`/`target`).
    pub open_now: (usize, usize),
}

/// The room one server leaves, with the numbers that make it.
struct Room {
    free: i64,
    explain: String,
}

async fn room(client: &Client, open_now: usize) -> anyhow::Result<Room> {
    let r = client
        .query_typed_one(include_str!("../../sql/precheck/connection_room.sql"), &[])
        .await
        .context("reading max_connections and the sessions in use")?;
    let (max, su_res, res, in_use): (i32, i32, i32, i32) = (r.get(0), r.get(1), r.get(2), r.get(3));
    let superuser: bool = r.get(4);
    let ours = i64::try_from(open_now).unwrap_or(0);
    let others = (i64::from(in_use) - ours).max(0);
    let reserved = if superuser {
        0
    } else {
        i64::from(su_res) + i64::from(res)
    };
    let mut free = i64::from(max) - reserved - others;
    let mut explain = format!("max_connections {max}");
    if reserved > 0 {
        explain.push_str(&format!(" - {reserved} reserved"));
    }
    explain.push_str(&format!(" - {others} in use by other sessions"));
    if !superuser {
        for (limit, used, what) in [
            (
                r.get::<_, i32>(5),
                r.get::<_, i32>(6),
                "the login's CONNECTION LIMIT",
            ),
            (r.get(7), r.get(8), "the database's CONNECTION LIMIT"),
        ] {
            if limit >= 0 {
                let left = i64::from(limit) - (i64::from(used) - ours).max(0);
                if left < free {
                    free = left;
                    explain = format!(
                        "{what} {limit}, {} in use by other sessions",
                        (i64::from(used) - ours).max(0)
                    );
                }
            }
        }
    }
    Ok(Room {
        free: free.max(0),
        explain,
    })
}

/// One finding per end: pass when the sessions fit, failure with the numbers when not.
pub(super) async fn check(cx: &Context<'_>, s: &Sessions) -> anyhow::Result<Vec<Finding>> {
    room_findings(
        (cx.source, cx.src.version_num),
        (cx.target, cx.tgt.version_num),
        s,
    )
    .await
}

/// [`check`] on sessions the caller holds: `migrate --resume` runs no
/// precheck (its objects would all be conflicts), but a resume with more
/// `--jobs` must not run into "too many clients" half-way either.
pub async fn room_findings(
    source: (&Client, i32),
    target: (&Client, i32),
    s: &Sessions,
) -> anyhow::Result<Vec<Finding>> {
    let mut out = Vec::new();
    for (code, end, (client, version), need, why, open) in [
        (
            "source.connections",
            "source",
            source,
            s.source,
            &s.source_why,
            s.open_now.0,
        ),
        (
            "target.connections",
            "target",
            target,
            s.target,
            &s.target_why,
            s.open_now.1,
        ),
    ] {
        if version < 100000 {
            continue;
        }
        let room = room(client, open).await?;
        let need_i = i64::try_from(need).unwrap_or(i64::MAX);
        if need_i <= room.free {
            out.push(Finding::pass(
                code,
                format!(
                    "{end}: pgferry opens up to {need} sessions ({why}); the server has room for {} ({})",
                    room.free, room.explain
                ),
            ));
        } else {
            out.push(Finding::failure(
                code,
                format!(
                    "{end}: pgferry would open up to {need} sessions ({why}) but the server has room for {} ({})",
                    room.free, room.explain
                ),
                "lower --jobs (each copy worker holds a session on both ends) or --index-jobs, \
                 raise max_connections on the server, or end idle sessions",
            ));
        }
    }
    Ok(out)
}
