//! How many sessions a run opens at most on each end, for the precheck to
//! compare with the room the servers have (see `precheck::sessions`).
//!
//! Source: the snapshot holder and one session per copy worker. Target: the
//! DDL session, beside either the copy workers (which also build indexes
//! early), or the post-data sessions (one for serial statements and up to
//! `--index-jobs` for a run of concurrent ones), or the ANALYZE sessions.
//! Copy workers are never more than the units to copy; a table is cut into
//! at most as many ranges as the split policy says.

use crate::copy::SplitPolicy;
use crate::plan::{Parallel, Plan};
use crate::precheck::Sessions;

/// What decides the number of sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    pub jobs: usize,
    pub index_jobs: usize,
    pub split_threshold: Option<i64>,
    /// Streams a big table may be split across (`Options::split_streams`).
    pub split_streams: usize,
    pub schema_only: bool,
    pub data_only: bool,
    pub analyze: bool,
}

/// The most sessions on each end; `open_now` as in [`Sessions::open_now`].
pub fn sessions(plan: &Plan, o: SessionOptions, open_now: (usize, usize)) -> Sessions {
    let jobs = o.jobs.max(1);
    let copy = if o.schema_only {
        0
    } else {
        let policy = match o.split_threshold {
            Some(t) => SplitPolicy::Larger(t),
            None => SplitPolicy::Auto {
                jobs: o.split_streams.clamp(1, jobs),
            },
        };
        let total: i64 = plan.copies.iter().map(|c| c.bytes.max(0)).sum();
        let units: i64 = plan
            .copies
            .iter()
            .map(|c| policy.parts(c.bytes.max(0), total))
            .sum();
        jobs.min(usize::try_from(units).unwrap_or(usize::MAX))
    };
    let mut longest = 0;
    let mut run = 0;
    for s in &plan.post_data {
        run = if s.parallel == Parallel::Concurrent {
            run + 1
        } else {
            0
        };
        longest = longest.max(run);
    }
    let index_jobs = o.index_jobs.max(1);
    let post = if o.data_only {
        0
    } else {
        1 + index_jobs.min(longest)
    };
    let analyze = if o.analyze && !o.schema_only {
        index_jobs.min(plan.copies.len())
    } else {
        0
    };
    let after = post.max(analyze);
    Sessions {
        source: 1 + copy,
        target: 1 + copy.max(after),
        source_why: format!("1 snapshot + {copy} copy workers"),
        target_why: if copy >= after {
            format!("1 DDL + {copy} copy workers")
        } else {
            format!("1 DDL + {after} post-data sessions")
        },
        open_now,
    }
}
