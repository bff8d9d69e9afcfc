//! Large objects of both ends compared: the same OIDs, and for each the same
//! length and MD5 of its contents (computed by each server, read in slices
//! so that no object has to fit in memory at once), both ends at once.

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

/// Hash of every large object: (OID, length, MD5 of the MD5s of its 1 MB
/// slices), computed by the server from the contents as `lo_get` reads them,
/// so that both ends hash alike whatever the login may read (the pages of
/// `pg_largeobject` need a superuser, and their layout differs for an object
/// with holes, which read as zeros) and no object has to fit in memory. The
/// length comes from seeking to the end of the object, closed in the same row.
const HASHES: &str = "\
    SELECT s.oid, s.size, \
           pg_catalog.md5(COALESCE((SELECT pg_catalog.string_agg( \
                   pg_catalog.md5(pg_catalog.lo_get(s.oid, o, 1048576)), '' ORDER BY o) \
               FROM pg_catalog.generate_series(0::int8, s.size - 1, 1048576::int8) o), '')) \
    FROM (SELECT t.oid, pg_catalog.lo_lseek64(t.fd, 0, 2) AS size, pg_catalog.lo_close(t.fd) \
          FROM (SELECT m.oid, pg_catalog.lo_open(m.oid, 262144) AS fd \
                FROM pg_catalog.pg_largeobject_metadata m OFFSET 0) t \
          OFFSET 0) s \
    ORDER BY s.oid";

async fn hashes(c: &Client) -> anyhow::Result<BTreeMap<u32, (i64, String)>> {
    let rows = c
        .query_typed(HASHES, &[])
        .await
        .context("hashing large objects")?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

/// Compares the large objects of both ends.
pub async fn compare_large_objects(ends: &Endpoints) -> anyhow::Result<LargeObjectsCheck> {
    let src = connect(&ends.source, "verify large objects (source)").await?;
    let tgt = connect(&ends.target, "verify large objects (target)").await?;
    let (a, b) = tokio::try_join!(hashes(&src), hashes(&tgt))?;
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
