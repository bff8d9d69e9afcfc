//! The sessions verify reads through: output settings pinned (see
//! `rowhash`), the source under the exported snapshot.
//!
//! Everything verify needs from the snapshot and connection modules is
//! imported here only, so moving those modules touches one line.

use super::rowhash::{SESSION_PINS, SESSION_PINS_11};
use anyhow::Context;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

pub use crate::pg::db_error;
pub use crate::pg::{connect, connect_at_start};
pub use crate::pg::{import_snapshot, renew_snapshot, SnapshotHolder};

/// One end's session, with what its queries need to know.
pub struct End {
    pub client: Client,
    /// The target reads tables and columns under their final names.
    pub is_target: bool,
}

/// Connects, pins the output settings, and on the source (`snapshot` given)
/// starts a read-only transaction under that snapshot.
pub async fn open_end(
    spec: &crate::pg::ConnSpec,
    purpose: &str,
    snapshot: Option<&str>,
) -> anyhow::Result<End> {
    let client = connect(spec, purpose).await?;
    client
        .batch_execute(SESSION_PINS)
        .await
        .with_context(|| format!("pinning output settings ({purpose})"))?;
    if server_version(&client).await? >= crate::pg::PG11 {
        client
            .batch_execute(SESSION_PINS_11)
            .await
            .with_context(|| format!("turning JIT off ({purpose})"))?;
    }
    if let Some(id) = snapshot {
        crate::pg::import_snapshot(&client, id).await?;
    }
    Ok(End {
        client,
        is_target: snapshot.is_none(),
    })
}

/// The server's `server_version_num`.
pub async fn server_version(client: &Client) -> anyhow::Result<i32> {
    Ok(client
        .query_typed_one(
            "SELECT pg_catalog.current_setting('server_version_num')::int4",
            &[],
        )
        .await
        .context("reading server_version_num")?
        .get(0))
}

/// A target error that means "not there" (a difference to report) rather
/// than a failure of the run.
pub fn missing_on_target(e: &tokio_postgres::Error) -> Option<String> {
    let code = e.code()?;
    (*code == SqlState::UNDEFINED_TABLE || *code == SqlState::UNDEFINED_COLUMN).then(|| db_error(e))
}
