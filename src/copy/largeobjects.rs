//! Large objects: contents copied under the migration's snapshot, keeping
//! their OIDs (columns of type `oid` point at them), as units of the same
//! worker pool as the tables, so a database with many (or big) ones does not
//! copy them one by one after the last table.
//!
//! The objects, in OID order, are cut into batches of at most
//! [`BATCH_OBJECTS`] objects or [`BATCH_BYTES`] bytes (a bigger object is a
//! batch of its own). A batch is one unit: one target transaction that
//! unlinks whatever of its objects an interrupted run left, writes them, then
//! (with `--keep-owners`) gives each its owner and privileges back, so it is
//! all-or-nothing and redone whole, like a table. Its identity is the OID
//! span it covers; the spans of a run cover every OID, so a resumed run finds
//! each object's batch again.
//!
//! Memory stays bounded whatever the sizes: objects up to [`CHUNK`] bytes
//! are read and written many at once (`lo_get` and `lo_from_bytea` over
//! arrays, up to [`GROUP_BYTES`] per round trip), bigger ones streamed in
//! `CHUNK` slices (`lo_get(oid, offset, length)` into `lo_put`), reading the
//! next slice while the previous one is written. Reads of a session that
//! imported the snapshot see the snapshot's contents (`lo_get` opens objects
//! read-only, which reads under the transaction's snapshot).

use super::CopyStats;
use anyhow::Context;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio_postgres::Client;

/// The "table" of large object units, in the task state, progress and the
/// journal. Table names are always schema-qualified, so it never collides.
pub const LARGE_OBJECTS: &str = "large objects";

/// A batch holds at most this many objects...
pub const BATCH_OBJECTS: usize = 1000;
/// ...and this many bytes, unless one object alone is bigger.
pub const BATCH_BYTES: u64 = 64 << 20;
/// Objects up to this size are moved whole; bigger ones in slices of it.
const CHUNK: u64 = 1 << 20;
/// Small objects read (and written) per round trip: up to this many bytes...
const GROUP_BYTES: u64 = 1 << 20;
/// ...or this many objects.
const GROUP_OBJECTS: usize = 500;

/// One large object of the source.
#[derive(Debug, Clone)]
pub struct LargeObject {
    pub oid: u32,
    /// Length of its contents in bytes.
    pub size: u64,
    pub owner: String,
    /// `lomacl` as (grantee or `None` for PUBLIC, privilege, grantable), in
    /// order; `None` when NULL (the defaults).
    pub acl: Option<Vec<(Option<String>, String, bool)>>,
}

/// Every large object of the source, by OID, with its size. The size comes
/// from opening each object and seeking to its end (an index probe for its
/// last page), closed in the same row: `pg_largeobject` itself is readable
/// by superusers only.
const LIST_SQL: &str = "\
    SELECT s.oid, s.size, pg_catalog.pg_get_userbyid(s.lomowner)::text, s.lomacl IS NOT NULL, \
           ARRAY(SELECT CASE WHEN x.grantee = 0 THEN '' \
                             ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END \
                 FROM pg_catalog.aclexplode(s.lomacl) WITH ORDINALITY x(a, grantee, p, g, i) \
                 ORDER BY x.i), \
           ARRAY(SELECT x.p || CASE WHEN x.g THEN '*' ELSE '' END \
                 FROM pg_catalog.aclexplode(s.lomacl) WITH ORDINALITY x(a, grantee, p, g, i) \
                 ORDER BY x.i) \
    FROM (SELECT t.oid, t.lomowner, t.lomacl, pg_catalog.lo_lseek64(t.fd, 0, 2) AS size, \
                 pg_catalog.lo_close(t.fd) \
          FROM (SELECT m.oid, m.lomowner, m.lomacl, pg_catalog.lo_open(m.oid, 262144) AS fd \
                FROM pg_catalog.pg_largeobject_metadata m OFFSET 0) t \
          OFFSET 0) s \
    ORDER BY s.oid";

/// Every large object of the source, by OID.
pub async fn list(source: &Client) -> anyhow::Result<Vec<LargeObject>> {
    let rows = source
        .query_typed(LIST_SQL, &[])
        .await
        .context("listing large objects")?;
    Ok(rows
        .iter()
        .map(|r| {
            let has_acl: bool = r.get(3);
            let grantees: Vec<String> = r.get(4);
            let privileges: Vec<String> = r.get(5);
            let acl = has_acl.then(|| {
                grantees
                    .into_iter()
                    .zip(privileges)
                    .map(|(g, p)| {
                        let grantable = p.ends_with('*');
                        let p = p.trim_end_matches('*').to_string();
                        ((!g.is_empty()).then_some(g), p, grantable)
                    })
                    .collect()
            });
            LargeObject {
                oid: r.get(0),
                size: r.get::<_, i64>(1).max(0) as u64,
                owner: r.get(2),
                acl,
            }
        })
        .collect())
}

/// The OIDs `[lo, hi)` a batch covers (`hi` `None`: to the last OID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OidSpan {
    pub lo: u32,
    pub hi: Option<u32>,
}

impl OidSpan {
    pub fn contains(&self, oid: u32) -> bool {
        oid >= self.lo && self.hi.is_none_or(|h| oid < h)
    }

    /// The unit id of the batch: stable across runs.
    pub fn unit_id(&self) -> String {
        match self.hi {
            Some(h) => format!("{LARGE_OBJECTS}|oid >= {} AND oid < {h}", self.lo),
            None => format!("{LARGE_OBJECTS}|oid >= {}", self.lo),
        }
    }

    /// As stored in the task state's `range` column.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

/// One unit of large objects.
#[derive(Debug, Clone)]
pub struct LoBatch {
    pub span: OidSpan,
    /// (OID, size) of each object, in OID order.
    pub objects: Vec<(u32, u64)>,
    /// `ALTER LARGE OBJECT ... OWNER TO` and GRANTs run after the contents,
    /// in the same transaction (empty without `--keep-owners`).
    pub ownership: String,
}

impl LoBatch {
    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|(_, s)| s).sum()
    }
}

/// Cuts `objects` (in OID order) into batches whose spans cover every OID:
/// the first starts at 0, each ends where the next begins, the last is open.
/// `ownership` gives the owner and privilege statements of one object.
pub fn batches(
    objects: &[LargeObject],
    ownership: impl Fn(&LargeObject) -> String,
) -> Vec<LoBatch> {
    let mut groups: Vec<Vec<&LargeObject>> = Vec::new();
    let (mut count, mut bytes) = (0usize, 0u64);
    for lo in objects {
        let full = count >= BATCH_OBJECTS || (count > 0 && bytes + lo.size > BATCH_BYTES);
        if groups.is_empty() || full {
            groups.push(Vec::new());
            (count, bytes) = (0, 0);
        }
        if let Some(g) = groups.last_mut() {
            g.push(lo);
        }
        count += 1;
        bytes += lo.size;
    }
    let starts: Vec<u32> = groups
        .iter()
        .map(|g| g.first().map_or(0, |lo| lo.oid))
        .collect();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| LoBatch {
            span: OidSpan {
                lo: if i == 0 { 0 } else { starts[i] },
                hi: starts.get(i + 1).copied(),
            },
            objects: g.iter().map(|lo| (lo.oid, lo.size)).collect(),
            ownership: g.iter().map(|lo| ownership(lo)).collect(),
        })
        .collect()
}

/// On resume: the objects of the source put back into the spans the
/// interrupted run recorded (`spans`, those not done), listed again under
/// this run's snapshot. Objects outside every given span belong to batches
/// already done.
pub fn regroup(
    objects: &[LargeObject],
    spans: &[OidSpan],
    ownership: impl Fn(&LargeObject) -> String,
) -> Vec<LoBatch> {
    spans
        .iter()
        .map(|span| {
            let mine: Vec<&LargeObject> = objects.iter().filter(|o| span.contains(o.oid)).collect();
            LoBatch {
                span: *span,
                objects: mine.iter().map(|lo| (lo.oid, lo.size)).collect(),
                ownership: mine.iter().map(|lo| ownership(lo)).collect(),
            }
        })
        .collect()
}

/// Copies one batch in one target transaction: the batch's objects an
/// interrupted run may have left are unlinked first, then each is written,
/// then given its owner and privileges. `source` must be inside the
/// snapshot. Returns the objects (as rows) and bytes copied.
pub async fn copy_batch(
    source: &Client,
    target: &mut Client,
    batch: &LoBatch,
    bytes_done: &AtomicU64,
) -> anyhow::Result<CopyStats> {
    let started = Instant::now();
    if crate::fault::fails("fail-unit") {
        anyhow::bail!("injected failure copying large objects");
    }
    let tx = target
        .transaction()
        .await
        .context("starting the target transaction of large objects")?;
    let oids: Vec<u32> = batch.objects.iter().map(|(o, _)| *o).collect();
    tx.execute(
        "SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m \
         WHERE m.oid = ANY($1)",
        &[&oids],
    )
    .await
    .context("removing large objects an interrupted run left")?;
    let small: Vec<(u32, u64)> = batch
        .objects
        .iter()
        .filter(|(_, s)| *s <= CHUNK)
        .copied()
        .collect();
    let mut bytes = copy_small(source, &tx, &small, bytes_done).await?;
    for (oid, _) in batch.objects.iter().filter(|(_, s)| *s > CHUNK) {
        bytes += stream_big(source, &tx, *oid, bytes_done)
            .await
            .with_context(|| format!("copying large object {oid}"))?;
    }
    if !batch.ownership.is_empty() {
        tx.batch_execute(&batch.ownership)
            .await
            .context("giving large objects their owners and privileges")?;
    }
    tx.commit()
        .await
        .context("committing large objects on the target")?;
    Ok(CopyStats {
        rows: batch.objects.len() as u64,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Objects of at most [`CHUNK`] bytes, whole, many per round trip: the next
/// group is read while the previous one is written.
async fn copy_small(
    source: &Client,
    tx: &tokio_postgres::Transaction<'_>,
    objects: &[(u32, u64)],
    bytes_done: &AtomicU64,
) -> anyhow::Result<u64> {
    if objects.is_empty() {
        return Ok(0);
    }
    let get = source
        .prepare("SELECT u.o, pg_catalog.lo_get(u.o) FROM pg_catalog.unnest($1::oid[]) AS u(o)")
        .await
        .context("preparing the read of large objects")?;
    let put = tx
        .prepare(
            "SELECT pg_catalog.lo_from_bytea(u.o, u.d) \
             FROM ROWS FROM (pg_catalog.unnest($1::oid[]), pg_catalog.unnest($2::bytea[])) \
                  AS u(o, d)",
        )
        .await
        .context("preparing the write of large objects")?;
    let read = |group: Vec<u32>| {
        let get = &get;
        async move {
            source
                .query(get, &[&group])
                .await
                .context("reading large objects")
        }
    };
    let mut groups = small_groups(objects).into_iter();
    let mut bytes = 0u64;
    let mut next = match groups.next() {
        Some(g) => Some(read(g).await?),
        None => None,
    };
    while let Some(rows) = next.take() {
        // The contents stay in the rows read: written from there, not copied.
        let oids: Vec<u32> = rows.iter().map(|r| r.get(0)).collect();
        let data: Vec<&[u8]> = rows.iter().map(|r| r.get(1)).collect();
        let n: u64 = data.iter().map(|d| d.len() as u64).sum();
        let write = async {
            tx.execute(&put, &[&oids, &data])
                .await
                .context("writing large objects")
        };
        let (written, read_next) = match groups.next() {
            Some(g) => {
                let (w, r) = tokio::join!(write, read(g));
                (w, Some(r))
            }
            None => (write.await, None),
        };
        written?;
        next = read_next.transpose()?;
        bytes += n;
        bytes_done.fetch_add(n, Ordering::Relaxed);
        crate::fault::point("mid-lo-batch");
    }
    Ok(bytes)
}

/// The OIDs of small objects, cut into groups of at most [`GROUP_OBJECTS`]
/// objects and [`GROUP_BYTES`] bytes.
fn small_groups(objects: &[(u32, u64)]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0u64;
    for (oid, size) in objects {
        let full = out.last().is_none_or(|g| {
            g.len() >= GROUP_OBJECTS || (!g.is_empty() && bytes + size > GROUP_BYTES)
        });
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        if let Some(g) = out.last_mut() {
            g.push(*oid);
        }
        bytes += size;
    }
    out
}

/// One object bigger than [`CHUNK`], in `CHUNK` slices: the next slice is
/// read while the previous one is written, so at most two are in memory.
async fn stream_big(
    source: &Client,
    tx: &tokio_postgres::Transaction<'_>,
    oid: u32,
    bytes_done: &AtomicU64,
) -> anyhow::Result<u64> {
    let get = source
        .prepare("SELECT pg_catalog.lo_get($1, $2, $3)")
        .await?;
    let put = tx.prepare("SELECT pg_catalog.lo_put($1, $2, $3)").await?;
    tx.execute("SELECT pg_catalog.lo_create($1)", &[&oid])
        .await?;
    let len = CHUNK as i32;
    let read = |offset: i64| {
        let get = &get;
        async move { source.query_one(get, &[&oid, &offset, &len]).await }
    };
    let mut offset: i64 = 0;
    let mut row = read(0).await?;
    loop {
        // Written from the row read, not copied.
        let chunk: &[u8] = row.get(0);
        let n = chunk.len();
        if n == 0 {
            break;
        }
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&oid, &offset, &chunk];
        let write = tx.execute(&put, &params);
        let next = if (n as u64) < CHUNK {
            write.await?;
            None
        } else {
            let (w, r) = tokio::join!(write, read(offset + n as i64));
            w?;
            Some(r?)
        };
        offset += n as i64;
        bytes_done.fetch_add(n as u64, Ordering::Relaxed);
        crate::fault::point("mid-lo-batch");
        match next {
            Some(r) => row = r,
            None => break,
        }
    }
    Ok(offset as u64)
}

/// `ALTER LARGE OBJECT ... OWNER TO` and the GRANTs of `lo`, for roles in
/// `roles`: the ACL is replayed by revoking everything from PUBLIC and the
/// owner and granting each item again, so it comes out the same.
pub fn ownership_sql(lo: &LargeObject, roles: &HashSet<String>) -> String {
    use crate::pg::quote_ident;
    if !roles.contains(&lo.owner) {
        return String::new();
    }
    let owner = quote_ident(&lo.owner);
    let mut sql = format!("ALTER LARGE OBJECT {} OWNER TO {owner};\n", lo.oid);
    if let Some(acl) = &lo.acl {
        sql.push_str(&format!(
            "REVOKE ALL ON LARGE OBJECT {0} FROM PUBLIC;\nREVOKE ALL ON LARGE OBJECT {0} FROM {owner};\n",
            lo.oid
        ));
        for (grantee, privilege, grantable) in acl {
            let to = match grantee {
                None => "PUBLIC".to_string(),
                Some(g) if roles.contains(g) => quote_ident(g),
                Some(_) => continue,
            };
            let option = if *grantable { " WITH GRANT OPTION" } else { "" };
            sql.push_str(&format!(
                "GRANT {privilege} ON LARGE OBJECT {} TO {to}{option};\n",
                lo.oid
            ));
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo(oid: u32, size: u64) -> LargeObject {
        LargeObject {
            oid,
            size,
            owner: "alice".into(),
            acl: None,
        }
    }

    #[test]
    fn batches_cut_by_count_and_bytes_and_cover_every_oid() {
        // 2500 small objects, then one of 200 MB, then two of 40 MB.
        let mut objects: Vec<LargeObject> = (0..2500).map(|i| lo(16_384 + i, 100)).collect();
        objects.push(lo(30_000, 200 << 20));
        objects.push(lo(30_001, 40 << 20));
        objects.push(lo(30_002, 40 << 20));
        let b = batches(&objects, |_| String::new());
        let sizes: Vec<usize> = b.iter().map(|x| x.objects.len()).collect();
        // 1000 + 1000 + 500 small; the big one alone; 40 + 40 > 64 MB.
        assert_eq!(sizes, [1000, 1000, 500, 1, 1, 1]);
        assert_eq!(b[0].span.lo, 0);
        assert_eq!(b.last().map(|x| x.span.hi), Some(None));
        for w in b.windows(2) {
            assert_eq!(w[0].span.hi, Some(w[1].span.lo), "spans meet");
        }
        for x in &b {
            assert!(x.objects.iter().all(|(o, _)| x.span.contains(*o)));
        }
        assert_eq!(b[3].bytes(), 200 << 20);
        // Resume: the same spans find the same objects again.
        let spans: Vec<OidSpan> = b.iter().map(|x| x.span).collect();
        let again = regroup(&objects, &spans, |_| String::new());
        let sizes2: Vec<usize> = again.iter().map(|x| x.objects.len()).collect();
        assert_eq!(sizes, sizes2);
        assert!(batches(&[], |_| String::new()).is_empty());
    }

    #[test]
    fn span_ids_and_json_round_trip() {
        let s = OidSpan {
            lo: 10,
            hi: Some(20),
        };
        assert_eq!(s.unit_id(), "large objects|oid >= 10 AND oid < 20");
        let back: OidSpan = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let open = OidSpan { lo: 20, hi: None };
        assert!(open.contains(u32::MAX) && !open.contains(19));
        assert!(!s.contains(20) && s.contains(10));
    }

    #[test]
    fn small_objects_are_grouped_by_count_and_bytes() {
        let objs: Vec<(u32, u64)> = (0..1200).map(|i| (i, 10)).collect();
        let g = small_groups(&objs);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [500, 500, 200]);
        let objs: Vec<(u32, u64)> = (0..10).map(|i| (i, 300 << 10)).collect();
        let g = small_groups(&objs);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 1]);
    }

    #[test]
    fn ownership_replays_the_acl() {
        let mut x = lo(7, 1);
        x.acl = Some(vec![
            (Some("bob".into()), "SELECT".into(), true),
            (Some("ghost".into()), "UPDATE".into(), false),
            (None, "SELECT".into(), false),
        ]);
        let roles: HashSet<String> = ["alice".to_string(), "bob".to_string()].into();
        let sql = ownership_sql(&x, &roles);
        assert!(
            sql.starts_with("ALTER LARGE OBJECT 7 OWNER TO alice;"),
            "{sql}"
        );
        assert!(sql.contains("GRANT SELECT ON LARGE OBJECT 7 TO bob WITH GRANT OPTION;"));
        assert!(sql.contains("GRANT SELECT ON LARGE OBJECT 7 TO PUBLIC;"));
        assert!(!sql.contains("ghost"));
        assert_eq!(ownership_sql(&lo(8, 1), &HashSet::new()), "");
    }
}
