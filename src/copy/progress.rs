//! Live progress of the data phase: a bar on a terminal (indicatif), a plain
//! line every few seconds otherwise (logs, CI), nothing with `--quiet`.
//!
//! Workers bump one atomic per chunk and take a lock once per unit; a ticker
//! task renders. Progress counts tables, not units: a split table is one
//! table, done when its last range is, and named once while its ranges run.
//! The bar measures the estimated size of the units (the source's on-disk
//! size): a finished unit counts its whole estimate, a running one what it
//! streamed so far (at most the rest of the estimate), so the bar ends at
//! exactly 100% however the COPY size compares with the on-disk size.

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared counters the copy workers update.
#[derive(Debug, Default)]
pub struct Counters {
    /// COPY bytes streamed so far (every try), for the rate.
    pub bytes: AtomicU64,
    tally: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    /// Units not finished yet, per table.
    units_left: HashMap<String, usize>,
    tables_total: usize,
    tables_done: usize,
    /// Units counted as finished (a unit redone is counted once).
    finished: HashSet<String>,
    /// Estimated bytes of the finished units...
    finished_estimate: u64,
    /// ...and the bytes their successful COPY streamed.
    finished_streamed: u64,
    /// Estimated bytes of every unit.
    total_estimate: u64,
    /// The table of every unit in flight.
    active: Vec<String>,
    /// The largest position shown so far: the bar never goes back.
    shown: u64,
}

/// What the display shows at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Bytes done on the scale of the estimate (`position / total` is the fraction).
    pub position: u64,
    pub total: u64,
    /// Bytes streamed (every try).
    pub streamed: u64,
    pub tables_done: usize,
    pub tables_total: usize,
    /// Tables being copied, each named once.
    pub active: Vec<String>,
}

impl Counters {
    /// Counters for `units`: (table, unit id, estimated bytes) of each unit
    /// this run copies.
    pub fn new<'a>(units: impl IntoIterator<Item = (&'a str, &'a str, u64)>) -> Counters {
        let mut t = Tally::default();
        for (table, _, estimate) in units {
            *t.units_left.entry(table.to_string()).or_default() += 1;
            t.total_estimate += estimate;
        }
        t.tables_total = t.units_left.len();
        Counters {
            bytes: AtomicU64::new(0),
            tally: Mutex::new(t),
        }
    }

    /// A unit of `table` starts (or starts again).
    pub fn start_unit(&self, table: &str) {
        if let Ok(mut t) = self.tally.lock() {
            t.active.push(table.to_string());
        }
    }

    /// A unit of `table` stops: `finished` is `Some((estimate, streamed))`
    /// when it was copied, `None` when the try failed.
    pub fn end_unit(&self, table: &str, unit_id: &str, finished: Option<(u64, u64)>) {
        let Ok(mut t) = self.tally.lock() else { return };
        if let Some(i) = t.active.iter().position(|x| x == table) {
            t.active.remove(i);
        }
        let Some((estimate, streamed)) = finished else {
            return;
        };
        if !t.finished.insert(unit_id.to_string()) {
            return;
        }
        t.finished_estimate += estimate;
        t.finished_streamed += streamed;
        if let Some(left) = t.units_left.get_mut(table) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                t.tables_done += 1;
            }
        }
    }

    /// The state to show now.
    pub fn snapshot(&self) -> Snapshot {
        let streamed = self.bytes.load(Ordering::Relaxed);
        let Ok(mut t) = self.tally.lock() else {
            return Snapshot {
                position: 0,
                total: 0,
                streamed,
                tables_done: 0,
                tables_total: 0,
                active: Vec::new(),
            };
        };
        let in_flight = streamed.saturating_sub(t.finished_streamed);
        let rest = t.total_estimate.saturating_sub(t.finished_estimate);
        let position = (t.finished_estimate + in_flight.min(rest)).max(t.shown);
        t.shown = position;
        let mut active: Vec<String> = Vec::new();
        for a in &t.active {
            if !active.contains(a) {
                active.push(a.clone());
            }
        }
        Snapshot {
            position,
            total: t.total_estimate,
            streamed,
            tables_done: t.tables_done,
            tables_total: t.tables_total,
            active,
        }
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A live bar (stderr is a terminal).
    Bar,
    /// A plain line every 10 seconds.
    Lines,
    /// Nothing.
    Off,
}

impl Display {
    /// Bar on a terminal, lines otherwise, nothing when asked for quiet.
    pub fn detect(quiet: bool) -> Display {
        if quiet {
            Display::Off
        } else if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

/// A running progress display; [`Ticker::finish`] stops it.
pub struct Ticker {
    stop: Arc<tokio::sync::Notify>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_000_000.0
}

/// One status line: percent of the estimate, throughput, ETA, tables.
pub fn status(s: &Snapshot, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = s.position as f64 / secs;
    let eta = if rate > 0.0 && s.total > s.position {
        format!("{:.0}s", (s.total - s.position) as f64 / rate)
    } else {
        "-".to_string()
    };
    format!(
        "{}%, {:.1}/{:.1} MB, {:.1} MB/s, ETA {eta}, tables {}/{}{}",
        percent(s),
        mb(s.position),
        mb(s.total),
        s.streamed as f64 / secs / 1_000_000.0,
        s.tables_done,
        s.tables_total,
        if s.active.is_empty() {
            String::new()
        } else {
            format!(" [{}]", s.active.join(", "))
        }
    )
}

fn percent(s: &Snapshot) -> u64 {
    match (s.position.min(s.total) * 100).checked_div(s.total) {
        Some(p) => p,
        // Nothing to measure (empty tables): done when the tables are.
        None if s.tables_done == s.tables_total => 100,
        None => 0,
    }
}

/// Starts showing progress.
pub fn start(display: Display, counters: Arc<Counters>) -> Ticker {
    let stop = Arc::new(tokio::sync::Notify::new());
    if display == Display::Off {
        return Ticker { stop, handle: None };
    }
    let stop2 = Arc::clone(&stop);
    let handle = tokio::spawn(async move {
        let started = Instant::now();
        let total = counters.snapshot().total;
        let bar = (display == Display::Bar).then(|| {
            let b = ProgressBar::new(total.max(1));
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} data [{bar:30}] {percent:>3}% {msg}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        let period = if bar.is_some() {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(10)
        };
        loop {
            let stopped = tokio::select! {
                _ = stop2.notified() => true,
                _ = tokio::time::sleep(period) => false,
            };
            let s = counters.snapshot();
            let line = status(&s, started.elapsed());
            match &bar {
                Some(b) => {
                    b.set_position(s.position.min(s.total));
                    b.set_message(line);
                }
                // The last line says where the data phase ended.
                None => eprintln!("pgferry: data: {line}"),
            }
            if stopped {
                break;
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    });
    Ticker {
        stop,
        handle: Some(handle),
    }
}

impl Ticker {
    /// Stops the display and waits for it to clear its line.
    pub async fn finish(mut self) {
        self.stop.notify_one();
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_counted_once_and_the_bar_ends_at_100() {
        // public.t split in two ranges, public.u whole: 2 tables, 3 units.
        let c = Counters::new([
            ("public.t", "t|1", 400),
            ("public.t", "t|2", 400),
            ("public.u", "u", 200),
        ]);
        let s = c.snapshot();
        assert_eq!((s.tables_done, s.tables_total, s.total), (0, 2, 1000));
        c.start_unit("public.t");
        c.start_unit("public.t");
        let s = c.snapshot();
        assert_eq!(s.active, ["public.t"], "a split table is named once");
        assert!(status(&s, Duration::from_secs(1)).contains("tables 0/2 [public.t]"));
        // COPY text is smaller than the on-disk size: 300 bytes per range.
        c.bytes.fetch_add(300, Ordering::Relaxed);
        c.end_unit("public.t", "t|1", Some((400, 300)));
        assert_eq!(c.snapshot().tables_done, 0, "one range left");
        // A failed try of the other range does not count.
        c.end_unit("public.t", "t|2", None);
        assert_eq!(c.snapshot().tables_done, 0);
        c.start_unit("public.t");
        c.bytes.fetch_add(300, Ordering::Relaxed);
        c.end_unit("public.t", "t|2", Some((400, 300)));
        // A unit redone (lost barrier) counts once.
        c.end_unit("public.t", "t|2", Some((400, 300)));
        assert_eq!(c.snapshot().tables_done, 1);
        c.start_unit("public.u");
        c.bytes.fetch_add(150, Ordering::Relaxed);
        c.end_unit("public.u", "u", Some((200, 150)));
        let s = c.snapshot();
        assert_eq!((s.tables_done, s.tables_total), (2, 2));
        assert_eq!(s.position, s.total);
        assert!(s.active.is_empty());
        assert!(status(&s, Duration::from_secs(1)).starts_with("100%,"));
    }

    #[test]
    fn the_bar_never_goes_back_nor_past_the_end() {
        let c = Counters::new([("public.t", "t", 100)]);
        c.start_unit("public.t");
        // Streams more than estimated: held at the estimate.
        c.bytes.fetch_add(500, Ordering::Relaxed);
        assert_eq!(c.snapshot().position, 100);
        c.end_unit("public.t", "t", Some((100, 500)));
        assert_eq!(c.snapshot().position, 100);
        assert_eq!(percent(&c.snapshot()), 100);
    }
}
