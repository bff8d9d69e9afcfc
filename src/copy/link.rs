//! How far away the source is, and what follows for the copy: how many
//! streams (`--jobs` by default) and which COPY format.
//!
//! Next to the source (same host or LAN), a copy stream is bound by CPU:
//! one per core is right, and binary COPY is cheaper to produce and parse.
//! Across a long link (the seed's cross-cloud migration) a stream spends most
//! of its time waiting: a round trip or two per table or range before its
//! first row, and a throughput limit per connection (TCP window over the
//! path, per-flow shaping). Idle streams cost almost no CPU, so more streams
//! than cores is what fills the link; and when the link is the limit, the
//! format to use is the one that puts fewer bytes on it (binary
//! `pgbench_accounts` rows are ~18% larger than text, a `bytea` is half the
//! size in binary).
//!
//! The distance is measured, not configured: the smallest of a few empty
//! round trips on the snapshot session, before the copy starts.

use crate::plan::TableCopy;
use futures_util::TryStreamExt;
use std::collections::HashSet;
use std::pin::pin;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// A source farther than this round trip is "far". Same host or LAN is well
/// under a millisecond; even on a loaded machine the smallest of three
/// samples stays under it.
const FAR_RTT: Duration = Duration::from_millis(4);

/// Round trips sampled; the smallest counts (scheduling noise only adds).
const SAMPLES: usize = 3;

/// Streams per CPU for a far source, and the bounds: enough concurrent
/// round trips and per-connection windows to fill a link of several
/// connections' worth (a 60 MB/s path capped at 12 MB/s per connection
/// needs 5 for bytes alone; thousands of small tables, one or two round
/// trips each, want all they can get), but not so many sessions that the
/// source server (max_connections 100 by default) or the target's CPU,
/// which builds the indexes on the same workers, is swamped.
const FAR_STREAMS_PER_CPU: usize = 8;
const FAR_STREAMS_MIN: usize = 16;
const FAR_STREAMS_MAX: usize = 32;

/// Tables smaller than this keep their format: sampling costs round trips,
/// and a few bytes more on a small table cost less than that.
const SAMPLE_MIN_BYTES: i64 = 16 << 20;

/// Rows read in each format to compare their sizes.
const SAMPLE_ROWS: i64 = 2000;

/// The link to the source as measured.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// Smallest round trip seen (`None`: could not measure; treated as near).
    pub rtt: Option<Duration>,
}

impl Link {
    /// Times a few empty queries on `source` (idle, in its transaction).
    pub async fn probe(source: &Client) -> Link {
        let mut best: Option<Duration> = None;
        for _ in 0..SAMPLES {
            let t = Instant::now();
            if source.simple_query("").await.is_err() {
                return Link { rtt: None };
            }
            let d = t.elapsed();
            best = Some(best.map_or(d, |b| b.min(d)));
        }
        tracing::debug!(
            rtt_ms = best.map(|d| d.as_secs_f64() * 1e3),
            "source round trip"
        );
        Link { rtt: best }
    }

    /// True when the round trip says the link, not the CPU, limits a stream.
    pub fn far(&self) -> bool {
        self.rtt.is_some_and(|d| d >= FAR_RTT)
    }

    /// Copy streams when `--jobs` is not given: one per CPU (at least 2)
    /// next to the source; far from it, several per CPU (see the module doc).
    pub fn default_jobs(&self, cpus: usize) -> usize {
        let near = cpus.max(2);
        if self.far() {
            (cpus * FAR_STREAMS_PER_CPU).clamp(FAR_STREAMS_MIN, FAR_STREAMS_MAX)
        } else {
            near
        }
    }

    /// Streams a big table may be split across (see `SplitPolicy::Auto`).
    /// A near stream is bound by CPU at both ends: when both servers run on
    /// this machine (`servers_here`), each stream keeps two server processes
    /// busy besides pgferry, so more than one stream per two CPUs only adds
    /// contention, and a split table loses `COPY FREEZE` (measured on 2 CPUs,
    /// pgbench scale 30: 2.6 s split in two, 2.35 s whole). Servers elsewhere
    /// bring their own CPUs, and a far link is filled by streams, not CPU.
    pub fn split_streams(&self, jobs: usize, cpus: usize, servers_here: bool) -> usize {
        if servers_here && !self.far() {
            jobs.min(cpus / 2).max(1)
        } else {
            jobs
        }
    }
}

/// Far from the source: the big tables (source names) that would go in
/// binary but are to go in text, a sample of their rows being smaller in
/// text. Read under the snapshot on `source`; a table whose sample fails
/// keeps its format.
pub async fn fewest_bytes(source: &Client, copies: &[TableCopy]) -> HashSet<String> {
    let mut text_tables = HashSet::new();
    for tc in copies
        .iter()
        .filter(|c| c.binary && c.bytes >= SAMPLE_MIN_BYTES)
    {
        let (bin, text) = match tokio::join!(
            sample_bytes(source, tc, "binary"),
            sample_bytes(source, tc, "text"),
        ) {
            (Ok(b), Ok(t)) => (b, t),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(table = %tc.source_qualified(), "format sample failed: {e}");
                continue;
            }
        };
        if prefer_text(bin, text) {
            tracing::debug!(table = %tc.source_qualified(), bin, text, "text: fewer bytes");
            text_tables.insert(tc.source_qualified());
        }
    }
    text_tables
}

/// Text when it is at least 5% smaller: binary costs less CPU at both ends,
/// so it keeps a near tie.
fn prefer_text(binary: u64, text: u64) -> bool {
    text > 0 && text * 20 <= binary * 19
}

/// Bytes of the first rows of `tc` in `format`.
async fn sample_bytes(source: &Client, tc: &TableCopy, format: &str) -> anyhow::Result<u64> {
    let cols = tc
        .source_columns
        .iter()
        .map(|c| crate::pg::quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    if cols.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "COPY (SELECT {cols} FROM ONLY {} LIMIT {SAMPLE_ROWS}) TO STDOUT (FORMAT {format})",
        tc.source_qualified()
    );
    let mut stream = pin!(source.copy_out(&sql).await?);
    let mut n = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        n += chunk.len() as u64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(ms: u64) -> Link {
        Link {
            rtt: Some(Duration::from_millis(ms)),
        }
    }

    #[test]
    fn near_source_gets_one_stream_per_cpu() {
        assert_eq!(link(0).default_jobs(2), 2);
        assert_eq!(link(1).default_jobs(1), 2);
        assert_eq!(link(3).default_jobs(8), 8);
        assert_eq!(Link { rtt: None }.default_jobs(4), 4);
    }

    #[test]
    fn far_source_gets_more_streams_than_cpus() {
        assert_eq!(link(40).default_jobs(2), 16);
        assert_eq!(link(40).default_jobs(3), 24);
        assert_eq!(link(40).default_jobs(16), 32);
        assert!(link(40).far() && !link(1).far());
    }

    #[test]
    fn both_servers_here_split_across_half_the_cpus() {
        assert_eq!(link(0).split_streams(2, 2, true), 1);
        assert_eq!(link(0).split_streams(8, 8, true), 4);
        assert_eq!(link(0).split_streams(2, 8, true), 2);
        assert_eq!(link(0).split_streams(4, 1, true), 1);
        // Elsewhere, or far: every stream.
        assert_eq!(link(0).split_streams(2, 2, false), 2);
        assert_eq!(link(40).split_streams(16, 2, true), 16);
    }

    #[test]
    fn text_only_when_clearly_smaller() {
        // pgbench_accounts: ~114 bytes a row in binary, ~97 in text.
        assert!(prefer_text(114_000, 97_000));
        assert!(!prefer_text(100_000, 97_000));
        // bytea: hex text is twice the binary size.
        assert!(!prefer_text(50_000, 100_000));
        assert!(!prefer_text(0, 0));
    }
}
