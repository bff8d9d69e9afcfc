//! Large objects: contents copied under the migration's snapshot, keeping
//! their OIDs (columns of type `oid` point at them), in chunks so that a big
//! object never has to fit in memory, each object in one target transaction.
//!
//! They are copied after the tables, on the snapshot session and the DDL
//! session (not in parallel with the tables: most databases hold few or
//! small ones). An object already on the target under the same OID (an
//! interrupted run) is unlinked and copied again, so resuming is safe; the
//! task state records the phase done once every object is durable.

use anyhow::Context;
use tokio_postgres::Client;

/// Bytes read and written per round trip.
const CHUNK: i32 = 1 << 20;

/// One large object of the source.
#[derive(Debug, Clone)]
pub struct LargeObject {
    pub oid: u32,
    pub owner: String,
}

/// Every large object of the source, by OID.
pub async fn list(source: &Client) -> anyhow::Result<Vec<LargeObject>> {
    let rows = source
        .query(
            "SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner)::text \
             FROM pg_catalog.pg_largeobject_metadata m ORDER BY m.oid",
            &[],
        )
        .await
        .context("listing large objects")?;
    Ok(rows
        .iter()
        .map(|r| LargeObject {
            oid: r.get(0),
            owner: r.get(1),
        })
        .collect())
}

/// Copies every object; returns the bytes copied.
pub async fn copy_all(
    source: &Client,
    target: &Client,
    objects: &[LargeObject],
) -> anyhow::Result<u64> {
    let mut bytes = 0u64;
    for lo in objects {
        bytes += copy_one(source, target, lo.oid)
            .await
            .with_context(|| format!("copying large object {}", lo.oid))?;
    }
    Ok(bytes)
}

async fn copy_one(source: &Client, target: &Client, oid: u32) -> anyhow::Result<u64> {
    target.batch_execute("BEGIN").await?;
    let result = async {
        target
            .execute(
                "SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m \
                 WHERE m.oid = $1",
                &[&oid],
            )
            .await?;
        target
            .execute("SELECT pg_catalog.lo_create($1)", &[&oid])
            .await?;
        let mut offset: i64 = 0;
        loop {
            let chunk: Vec<u8> = source
                .query_one(
                    "SELECT pg_catalog.lo_get($1, $2, $3)",
                    &[&oid, &offset, &CHUNK],
                )
                .await?
                .get(0);
            if chunk.is_empty() {
                break;
            }
            target
                .execute(
                    "SELECT pg_catalog.lo_put($1, $2, $3)",
                    &[&oid, &offset, &chunk],
                )
                .await?;
            offset += chunk.len() as i64;
            if chunk.len() < CHUNK as usize {
                break;
            }
        }
        anyhow::Ok(offset as u64)
    }
    .await;
    match result {
        Ok(n) => {
            target.batch_execute("COMMIT").await?;
            Ok(n)
        }
        Err(e) => {
            target.batch_execute("ROLLBACK").await.ok();
            Err(e)
        }
    }
}
