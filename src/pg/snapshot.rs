//! The consistent snapshot every reader shares.
//!
//! The holder's transaction exports the snapshot and must stay open for the
//! whole data phase: once it ends, the snapshot can no longer be imported.

use anyhow::Context;
use tokio_postgres::Client;

/// A source session holding an exported snapshot open.
pub struct SnapshotHolder {
    client: Client,
    id: String,
}

impl SnapshotHolder {
    /// Starts a REPEATABLE READ, READ ONLY transaction on `client` and exports its snapshot.
    pub async fn open(client: Client) -> anyhow::Result<SnapshotHolder> {
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .context("starting the snapshot transaction on the source")?;
        let row = client
            .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
            .await
            .context("exporting a snapshot on the source (pg_export_snapshot)")?;
        let id: String = row.get(0);
        tracing::debug!(snapshot = %id, "exported source snapshot");
        Ok(SnapshotHolder { client, id })
    }

    /// The snapshot identifier to pass to `SET TRANSACTION SNAPSHOT`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The holder's session, which reads under the same snapshot.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the snapshot transaction.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client
            .batch_execute("COMMIT")
            .await
            .context("closing the snapshot transaction")
    }
}

/// Makes `client` read under the exported snapshot `id` until its transaction ends.
pub async fn import_snapshot(client: &Client, id: &str) -> anyhow::Result<()> {
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT {}",
            crate::pg::quote_literal(id)
        ))
        .await
        .with_context(|| format!("importing snapshot {id} on the source"))
}
