//! Large objects of both ends compared: the same OIDs, and for each the same
//! length and MD5 of its contents (computed by each server, read in chunks
//! so that no object has to fit in memory at once).

use crate::config::Endpoints;
use crate::pg::connect;
use anyhow::Context;
use serde::Serialize;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// The comparison's result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LargeObjectsCheck {
    pub source_count: usize,
    pub target_count: usize,
    /// OIDs on the source only.
    pub missing: Vec<u32>,
    /// OIDs on the target only.
    pub extra: Vec<u32>,
    /// OIDs on both ends whose contents differ.
    pub different: Vec<u32>,
    pub equal: bool,
}

/// Hash of every large object: (OID, length, MD5 of the MD5s of its pages,
/// which are `LOBLKSIZE` (2 kB) long on both ends), from `pg_largeobject`.
const HASHES: &str = "SELECT m.oid, \
     (SELECT COALESCE(sum(length(p.data)), 0)::int8 FROM pg_catalog.pg_largeobject p WHERE p.loid = m.oid), \
     pg_catalog.md5(COALESCE((SELECT string_agg(pg_catalog.md5(p.data), '' ORDER BY p.pageno) \
                              FROM pg_catalog.pg_largeobject p WHERE p.loid = m.oid), '')) \
     FROM pg_catalog.pg_largeobject_metadata m ORDER BY m.oid";

/// Same, through `lo_get` when `pg_largeobject` cannot be read (it needs a
/// superuser): the whole object in memory, one at a time.
const HASHES_LO_GET: &str = "SELECT m.oid, \
     pg_catalog.length(pg_catalog.lo_get(m.oid))::int8, \
     pg_catalog.md5(pg_catalog.lo_get(m.oid)) \
     FROM pg_catalog.pg_largeobject_metadata m ORDER BY m.oid";

async fn hashes(c: &Client) -> anyhow::Result<BTreeMap<u32, (i64, String)>> {
    let rows = match c.query(HASHES, &[]).await {
        Ok(r) => r,
        Err(_) => c
            .query(HASHES_LO_GET, &[])
            .await
            .context("hashing large objects")?,
    };
    Ok(rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

/// Compares the large objects of both ends.
pub async fn compare_large_objects(ends: &Endpoints) -> anyhow::Result<LargeObjectsCheck> {
    let src = connect(&ends.source, "verify large objects (source)").await?;
    let tgt = connect(&ends.target, "verify large objects (target)").await?;
    let (a, b) = (hashes(&src).await?, hashes(&tgt).await?);
    let missing: Vec<u32> = a.keys().filter(|k| !b.contains_key(k)).copied().collect();
    let extra: Vec<u32> = b.keys().filter(|k| !a.contains_key(k)).copied().collect();
    let different: Vec<u32> = a
        .iter()
        .filter(|(k, v)| b.get(k).is_some_and(|w| w != *v))
        .map(|(k, _)| *k)
        .collect();
    Ok(LargeObjectsCheck {
        source_count: a.len(),
        target_count: b.len(),
        equal: missing.is_empty() && extra.is_empty() && different.is_empty(),
        missing,
        extra,
        different,
    })
}
