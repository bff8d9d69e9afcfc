//! Row counts and order-independent checksums of every table on both ends.
//!
//! The source is read under one exported snapshot, so every table's sums
//! belong to the same moment even with `--jobs` sessions at work. Each table
//! is hashed by one query per end (see `rowhash`), both ends at once, so the
//! time is one scan of the table on the slower server; only a handful of
//! numbers cross the network. Big tables with a one-column integer primary
//! key are summed per key range in that same scan, so a difference is
//! located without a second pass.

use super::ranges::{compare_buckets, RangeDiff, Split, Sums, MAX_LISTED_RANGES};
use super::rowhash::{buckets_sql, table_sql, ColumnKind, SESSION_PINS};
use crate::catalog::{Catalog, Table};
use crate::config::Endpoints;
use crate::pg::{connect_at_start, qualified, quote_ident};
use crate::pg::{import_snapshot, SnapshotHolder};
use anyhow::Context;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Tables bigger than this (`pg_relation_size`) are summed per key range.
pub const DEFAULT_SPLIT_BYTES: i64 = 64 * 1024 * 1024;

/// What the user asked `verify` to do.
#[derive(Debug, Clone)]
pub struct ChecksumOptions {
    /// Tables checked at once, each with a session on both ends.
    pub jobs: usize,
    /// Sum per key range the tables larger than this many bytes.
    pub split_larger_than: i64,
}

/// One table's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TableChecksum {
    pub table: String,
    pub source_rows: i64,
    /// `None` when the table (or one of its columns) is missing on the target.
    pub target_rows: Option<i64>,
    pub source_checksum: String,
    pub target_checksum: Option<String>,
    pub equal: bool,
    /// How the key was cut, when the table was summed per range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    /// Key ranges whose rows differ (at most [`MAX_LISTED_RANGES`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differing_ranges: Vec<RangeDiff>,
    /// Differing ranges beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_differing_ranges: usize,
    /// Why the target could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub seconds: f64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A table to check, with everything the workers need to build its queries.
#[derive(Debug, Clone)]
struct Job {
    /// Quoted source name (also the name in the report).
    name: String,
    columns: Vec<(String, ColumnKind)>,
    /// The same table and columns under their final names on the target.
    target_name: String,
    target_columns: Vec<(String, ColumnKind)>,
    /// The raw name of its integer key, when it is to be summed per range.
    split_key: Option<String>,
    /// That key's raw name on the target.
    target_key: Option<String>,
    bytes: i64,
}

/// Checks every table that holds rows (partitioned parents hold none; their
/// partitions are checked), largest first, `opts.jobs` at a time. With a
/// selection, only the selected tables and columns, compared with the
/// target's under their renamed names; tables whose data is excluded are
/// not compared.
pub async fn compare_checksums(
    ends: &Endpoints,
    sel: &crate::plan::Selection,
    opts: &ChecksumOptions,
) -> anyhow::Result<Vec<TableChecksum>> {
    let src = connect_at_start(&ends.source, "verify (snapshot)").await?;
    let holder = SnapshotHolder::open(src).await?;
    let mut cat = Catalog::read(holder.client()).await?;
    let plan = crate::plan::prepare(&mut cat, sel)?;
    let jobs = plan_jobs(holder.client(), &cat, &plan, opts).await?;
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let workers = opts
        .jobs
        .max(1)
        .min(queue.lock().map_or(1, |q| q.len().max(1)));
    let mut handles = Vec::new();
    for n in 0..workers {
        let (queue, ends) = (Arc::clone(&queue), ends.clone());
        let (snapshot, threshold) = (holder.id().to_string(), opts.split_larger_than);
        handles.push(tokio::spawn(async move {
            worker(n, &ends, &snapshot, &queue, threshold).await
        }));
    }
    let mut out = Vec::new();
    let mut first_err = None;
    for h in handles {
        match h.await {
            Ok(Ok(mut r)) => out.append(&mut r),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(j) => {
                first_err.get_or_insert(anyhow::anyhow!("verify worker stopped: {j}"));
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    holder.close().await?;
    out.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(out)
}

/// Resolves how each column is hashed and which tables are split.
async fn plan_jobs(
    client: &Client,
    cat: &Catalog,
    plan: &crate::plan::Plan,
    opts: &ChecksumOptions,
) -> anyhow::Result<Vec<Job>> {
    let tables: Vec<&Table> = cat
        .tables
        .iter()
        .filter(|t| !t.is_partitioned())
        .filter(|t| !plan.no_data.contains(&qualified(&t.schema, &t.name)))
        .collect();
    let type_oids: Vec<i64> = tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|c| c.type_oid))
        .collect();
    let kinds = column_kinds(client, &type_oids).await?;
    let oids: Vec<i64> = tables.iter().map(|t| t.oid).collect();
    let keys: HashMap<i64, String> = client
        .query(include_str!("../../sql/verify/int_keys.sql"), &[&oids])
        .await
        .context("reading integer primary keys (sql/verify/int_keys.sql)")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names = &plan.names;
    let mut jobs: Vec<Job> = tables
        .iter()
        .map(|t| {
            let kind = |c: &crate::catalog::Column| {
                kinds.get(&c.type_oid).copied().unwrap_or(ColumnKind::Text)
            };
            let final_col = |c: &str| names.column(&t.schema, &t.name, c);
            let (fs, ft) = names.table(&t.schema, &t.name);
            // A key whose column was left out cannot locate ranges.
            let split_key = keys
                .get(&t.oid)
                .filter(|_| t.bytes > opts.split_larger_than)
                .filter(|k| t.columns.iter().any(|c| &c.name == *k))
                .cloned();
            Job {
                name: qualified(&t.schema, &t.name),
                columns: t
                    .columns
                    .iter()
                    .map(|c| (quote_ident(&c.name), kind(c)))
                    .collect(),
                target_name: qualified(&fs, &ft),
                target_columns: t
                    .columns
                    .iter()
                    .map(|c| (quote_ident(&final_col(&c.name)), kind(c)))
                    .collect(),
                target_key: split_key.as_deref().map(final_col),
                split_key,
                bytes: t.bytes,
            }
        })
        .collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.bytes));
    Ok(jobs)
}

/// The [`ColumnKind`] of each type oid, domains (also of array elements)
/// resolved on the source with `sql/verify/column_bases.sql`.
async fn column_kinds(
    client: &Client,
    type_oids: &[i64],
) -> anyhow::Result<HashMap<i64, ColumnKind>> {
    let mut oids = type_oids.to_vec();
    oids.sort_unstable();
    oids.dedup();
    let bases = |oids: Vec<i64>| async move {
        let rows = client
            .query(include_str!("../../sql/verify/column_bases.sql"), &[&oids])
            .await
            .context("resolving column base types (sql/verify/column_bases.sql)")?;
        anyhow::Ok(
            rows.iter()
                .map(|r| (r.get::<_, i64>(0), (r.get::<_, i64>(1), r.get::<_, i64>(2))))
                .collect::<HashMap<i64, (i64, i64)>>(),
        )
    };
    let types = bases(oids).await?;
    let elems: Vec<i64> = types.values().map(|v| v.1).filter(|e| *e != 0).collect();
    let elem_bases = bases(elems).await?;
    Ok(types
        .iter()
        .map(|(oid, (base, elem))| {
            let elem_base = (*elem != 0).then(|| elem_bases.get(elem).map_or(*elem, |e| e.0));
            (*oid, ColumnKind::from_oids(*base, elem_base))
        })
        .collect())
}

/// Whether the session's database is UTF8 (the row text is then hashed as is).
async fn is_utf8(client: &Client) -> anyhow::Result<bool> {
    let row = client
        .query_one("SELECT pg_catalog.current_setting('server_encoding')", &[])
        .await
        .context("reading server_encoding")?;
    Ok(row.get::<_, String>(0) == "UTF8")
}

/// One end's session, with what its queries need to know.
struct End {
    client: Client,
    utf8: bool,
    /// The target reads tables and columns under their final names.
    is_target: bool,
}

async fn open_end(
    spec: &crate::pg::ConnSpec,
    purpose: &str,
    snapshot: Option<&str>,
) -> anyhow::Result<End> {
    // Verify is read-only: its sessions all open as it starts.
    let client = connect_at_start(spec, purpose).await?;
    client
        .batch_execute(SESSION_PINS)
        .await
        .with_context(|| format!("pinning output settings ({purpose})"))?;
    if let Some(id) = snapshot {
        import_snapshot(&client, id).await?;
    }
    let utf8 = is_utf8(&client).await?;
    Ok(End {
        client,
        utf8,
        is_target: snapshot.is_none(),
    })
}

async fn worker(
    n: usize,
    ends: &Endpoints,
    snapshot: &str,
    queue: &Mutex<VecDeque<Job>>,
    threshold: i64,
) -> anyhow::Result<Vec<TableChecksum>> {
    let src = open_end(
        &ends.source,
        &format!("verify {n} (source)"),
        Some(snapshot),
    )
    .await?;
    let dst = open_end(&ends.target, &format!("verify {n} (target)"), None).await?;
    let mut done = Vec::new();
    loop {
        let next = match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(_) => anyhow::bail!("verify queue poisoned by a failed worker"),
        };
        let Some(job) = next else { break };
        let started = Instant::now();
        let result = check_table(&src, &dst, &job, threshold).await;
        match result {
            Ok(mut r) => {
                r.seconds = started.elapsed().as_secs_f64();
                tracing::debug!(table = %r.table, equal = r.equal, secs = r.seconds, "checked");
                done.push(r);
            }
            Err(e) => {
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                return Err(e);
            }
        }
    }
    src.client.batch_execute("COMMIT").await.ok();
    Ok(done)
}

/// A target error that means "not there" (a difference to report) rather
/// than a failure of the run.
fn missing_on_target(e: &tokio_postgres::Error) -> Option<String> {
    let code = e.code()?;
    (*code == SqlState::UNDEFINED_TABLE || *code == SqlState::UNDEFINED_COLUMN)
        .then(|| crate::pg::db_error(e))
}

async fn check_table(
    src: &End,
    dst: &End,
    job: &Job,
    threshold: i64,
) -> anyhow::Result<TableChecksum> {
    let split = match &job.split_key {
        Some(key) => key_split(&src.client, job, key, threshold).await?,
        None => None,
    };
    let mut out = TableChecksum {
        table: job.name.clone(),
        source_rows: 0,
        target_rows: None,
        source_checksum: String::new(),
        target_checksum: None,
        equal: false,
        split: None,
        differing_ranges: Vec::new(),
        more_differing_ranges: 0,
        note: None,
        seconds: 0.0,
    };
    let (s, t) = match &split {
        None => {
            let (s, t) = tokio::join!(whole(src, job), whole(dst, job));
            let s = s.with_context(|| format!("checksumming {} on the source", job.name))?;
            let t = match t {
                Ok(t) => Some(t),
                Err(e) => {
                    out.note = Some(target_failure(e, &job.name)?);
                    None
                }
            };
            (s, t)
        }
        Some(sp) => {
            let (s, t) = tokio::join!(buckets(src, job, sp), buckets(dst, job, sp));
            let s = s.with_context(|| format!("checksumming {} on the source", job.name))?;
            match t {
                Ok(t) => {
                    let (sa, ta, mut diffs) = compare_buckets(sp, &s, &t);
                    if diffs.len() > MAX_LISTED_RANGES {
                        out.more_differing_ranges = diffs.len() - MAX_LISTED_RANGES;
                        diffs.truncate(MAX_LISTED_RANGES);
                    }
                    out.differing_ranges = diffs;
                    (sa, Some(ta))
                }
                Err(e) => {
                    out.note = Some(target_failure(e, &job.name)?);
                    let (sa, _, _) = compare_buckets(sp, &s, &BTreeMap::new());
                    (sa, None)
                }
            }
        }
    };
    out.source_rows = s.rows;
    out.source_checksum = s.fingerprint();
    out.target_rows = t.map(|t| t.rows);
    out.target_checksum = t.map(|t| t.fingerprint());
    out.equal = t == Some(s);
    out.split = split;
    Ok(out)
}

/// Turns a target error into a note when the table or a column is missing
/// there; any other error fails the run.
fn target_failure(e: anyhow::Error, table: &str) -> anyhow::Result<String> {
    let missing = e
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(missing_on_target);
    match missing {
        Some(m) => Ok(format!("missing on the target: {m}")),
        None => Err(e.context(format!("checksumming {table} on the target"))),
    }
}

/// Plans the key ranges from the source's smallest and largest key.
async fn key_split(
    client: &Client,
    job: &Job,
    key: &str,
    threshold: i64,
) -> anyhow::Result<Option<Split>> {
    let k = quote_ident(key);
    let row = client
        .query_one(
            &format!(
                "SELECT min({k})::int8, max({k})::int8 FROM ONLY {}",
                job.name
            ),
            &[],
        )
        .await
        .with_context(|| format!("reading the key range of {}", job.name))?;
    let (min, max): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
    Ok(match (min, max) {
        (Some(min), Some(max)) => Some(Split::plan(key, min, max, job.bytes, threshold)),
        _ => None,
    })
}

/// The table and columns as this end names them.
fn side<'a>(end: &End, job: &'a Job) -> (&'a str, &'a [(String, ColumnKind)]) {
    if end.is_target {
        (&job.target_name, &job.target_columns)
    } else {
        (&job.name, &job.columns)
    }
}

async fn whole(end: &End, job: &Job) -> anyhow::Result<Sums> {
    let (name, columns) = side(end, job);
    let row = end
        .client
        .query_one(&table_sql(name, columns, end.utf8), &[])
        .await?;
    Sums::parse(row.get(0), row.get(1), row.get(2))
}

async fn buckets(end: &End, job: &Job, split: &Split) -> anyhow::Result<BTreeMap<i64, Sums>> {
    let (name, columns) = side(end, job);
    let key = match (&job.target_key, end.is_target) {
        (Some(k), true) => k.as_str(),
        _ => split.key.as_str(),
    };
    let sql = buckets_sql(
        name,
        columns,
        end.utf8,
        &quote_ident(key),
        split.min,
        split.step,
    );
    let rows = end.client.query(&sql, &[]).await?;
    rows.iter()
        .map(|r| Ok((r.get(0), Sums::parse(r.get(1), r.get(2), r.get(3))?)))
        .collect()
}
