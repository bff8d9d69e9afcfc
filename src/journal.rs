//! The run's journal, for `pgferry report`: what each copy worker and each
//! post-data session did and when (to the millisecond), the precheck that
//! let the run start, and the command line. The task state records what is
//! done, for resume; this records how it went, for the change ticket.
//!
//! One process-wide journal, off until [`start`] (so the demo, the tests'
//! library calls and `verify` pay nothing); the `migrate` command starts it
//! and appends it, as one run, to `<state dir>/journal.json` at the end
//! ([`save`]), whatever the outcome.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Events kept per run: the longest ones when a run has more (thousands of
/// tiny statements add nothing to a chart).
const MAX_EVENTS: usize = 20_000;

/// One thing done on the target, from `start` to `end` (seconds since the run began).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// `worker N` for copy workers (and the index builds they run once their
    /// copies are done); `None` for post-data sessions, which are drawn as
    /// however many ran at once.
    pub lane: Option<String>,
    /// `copy`, or the plan step's kind (`index`, `foreign key`, `trigger`...).
    pub kind: String,
    pub object: String,
    pub start: f64,
    pub end: f64,
    /// Rows and bytes of a copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// One `pgferry migrate` run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    /// Milliseconds since the Unix epoch when the run began.
    pub started_at_ms: u64,
    /// The command line, connection strings without passwords.
    pub command: String,
    /// `ok`, or the error the run ended with.
    pub outcome: String,
    /// The precheck document (`precheck --json`) of this run, if it ran one.
    #[serde(default)]
    pub precheck: Option<serde_json::Value>,
    pub events: Vec<Event>,
    /// Events left out beyond [`MAX_EVENTS`].
    #[serde(default)]
    pub events_dropped: usize,
}

struct Live {
    epoch: Instant,
    run: Run,
}

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: Mutex<Option<Live>> = Mutex::new(None);

/// Starts recording this process's run.
pub fn start(command: String) {
    let started_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if let Ok(mut live) = LIVE.lock() {
        *live = Some(Live {
            epoch: Instant::now(),
            run: Run {
                started_at_ms,
                command,
                ..Run::default()
            },
        });
        ON.store(true, Ordering::SeqCst);
    }
}

/// Records something that ran from `started` until now, on this thread's
/// lane (copy workers' threads are named `pgferry-copy-N`).
pub fn record(kind: &str, object: &str, started: Instant, rows_bytes: Option<(u64, u64)>) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let end = Instant::now();
    let lane = std::thread::current()
        .name()
        .and_then(|n| n.strip_prefix("pgferry-copy-"))
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| format!("worker {}", n + 1));
    if let Ok(mut live) = LIVE.lock() {
        if let Some(l) = live.as_mut() {
            let since = |t: Instant| t.saturating_duration_since(l.epoch).as_secs_f64();
            l.run.events.push(Event {
                lane,
                kind: kind.to_string(),
                object: object.to_string(),
                start: since(started),
                end: since(end),
                rows: rows_bytes.map(|r| r.0),
                bytes: rows_bytes.map(|r| r.1),
            });
        }
    }
}

/// Keeps the precheck document of this run.
pub fn precheck(doc: serde_json::Value) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    if let Ok(mut live) = LIVE.lock() {
        if let Some(l) = live.as_mut() {
            l.run.precheck = Some(doc);
        }
    }
}

/// Ends recording and appends the run to `<dir>/journal.json`.
pub fn save(dir: &Path, outcome: &str) -> anyhow::Result<()> {
    ON.store(false, Ordering::SeqCst);
    let Some(mut run) = LIVE.lock().ok().and_then(|mut l| l.take()).map(|l| l.run) else {
        return Ok(());
    };
    run.outcome = outcome.to_string();
    if run.events.len() > MAX_EVENTS {
        run.events
            .sort_by(|a, b| (b.end - b.start).total_cmp(&(a.end - a.start)));
        run.events_dropped = run.events.len() - MAX_EVENTS;
        run.events.truncate(MAX_EVENTS);
    }
    run.events.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut runs = load(dir)?;
    runs.push(run);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("journal.json");
    std::fs::write(&path, serde_json::to_string(&runs)?)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}

/// The runs recorded in `<dir>/journal.json` (none when there is no file).
pub fn load(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let path = dir.join("journal.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    }
}
