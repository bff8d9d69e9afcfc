//! Source and target may be one and the same database, reached under two
//! names (`localhost` and `127.0.0.1`, a DNS alias, a socket and TCP). Then
//! every object would be reported as a conflict, and a forced run would copy
//! the database onto itself. This is told apart by what only one database
//! has: the server's system identifier (`pg_control_system()`, 9.6+, when the
//! login may read it), the database's oid, and the fact that the source
//! session itself is visible in the target's `pg_stat_activity` (a pid alone
//! could repeat on another machine; the three together do not).

use super::{Context, Finding};
use crate::pg::Oid;
use anyhow::Context as _;
use tokio_postgres::Client;

/// The system identifier, when the server has `pg_control_system()` and the
/// login may call it.
async fn system_identifier(client: &Client) -> Option<String> {
    client
        .query_typed_one(
            "SELECT system_identifier::text FROM pg_catalog.pg_control_system()",
            &[],
        )
        .await
        .ok()
        .map(|r| r.get(0))
}

async fn database_oid(client: &Client) -> anyhow::Result<Oid> {
    let r = client
        .query_typed_one(
            "SELECT oid::int8 FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()",
            &[],
        )
        .await?;
    Ok(r.get(0))
}

/// True when the source and the target are the same database.
pub(super) async fn same_database(cx: &Context<'_>) -> anyhow::Result<bool> {
    let (src_db, dst_db) = (
        database_oid(cx.source)
            .await
            .context("reading the source database oid")?,
        database_oid(cx.target)
            .await
            .context("reading the target database oid")?,
    );
    if src_db != dst_db {
        return Ok(false);
    }
    if let (Some(a), Some(b)) = (
        system_identifier(cx.source).await,
        system_identifier(cx.target).await,
    ) {
        if a != b {
            return Ok(false);
        }
    }
    let pid: i32 = cx
        .source
        .query_typed_one("SELECT pg_catalog.pg_backend_pid()", &[])
        .await?
        .get(0);
    let seen: bool = cx
        .target
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity \
             WHERE pid = $1 AND datid::int8 = $2)",
            &[&pid, &dst_db],
        )
        .await
        .context("looking for the source session on the target")?
        .get(0);
    Ok(seen)
}

/// The finding: a failure of its own when both ends are one database.
pub(super) fn finding(same: bool, cx: &Context<'_>) -> Finding {
    if same {
        Finding::failure(
            "target.same_database",
            format!(
                "source and target are the same database ({} on one server, reached as {} and {}): \
                 it would be migrated onto itself",
                cx.src.database, cx.src.endpoint, cx.tgt.endpoint
            ),
            "give a --target on another server, or another database (CREATE DATABASE on the target first)",
        )
    } else {
        Finding::pass(
            "target.same_database",
            "source and target are different databases",
        )
    }
}
