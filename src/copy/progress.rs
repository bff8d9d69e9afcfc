//! Live progress of the data phase: a bar on a terminal (indicatif), a plain
//! line every few seconds otherwise (logs, CI), nothing with `--quiet`.
//!
//! Workers only bump atomics; a ticker task renders, so progress costs the
//! copy path one relaxed atomic add per chunk.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared counters the copy workers update.
#[derive(Debug, Default)]
pub struct Counters {
    /// COPY bytes streamed so far.
    pub bytes: AtomicU64,
    pub tables_done: AtomicUsize,
    /// Tables being copied right now.
    pub active: Mutex<Vec<String>>,
}

impl Counters {
    pub fn start_table(&self, name: &str) {
        if let Ok(mut a) = self.active.lock() {
            a.push(name.to_string());
        }
    }
    pub fn end_table(&self, name: &str) {
        self.tables_done.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut a) = self.active.lock() {
            a.retain(|x| x != name);
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

/// One status line: bytes of the (on-disk) total, throughput, ETA, tables.
fn status(c: &Counters, total_bytes: u64, tables: usize, started: Instant) -> String {
    let done = c.bytes.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 && total_bytes > done {
        format!("{:.0}s", (total_bytes - done) as f64 / rate)
    } else {
        "-".to_string()
    };
    let active = c.active.lock().map(|a| a.join(", ")).unwrap_or_default();
    format!(
        "{:.1}/{:.1} MB, {:.1} MB/s, ETA {eta}, tables {}/{tables}{}",
        mb(done),
        mb(total_bytes),
        rate / 1_000_000.0,
        c.tables_done.load(Ordering::Relaxed),
        if active.is_empty() {
            String::new()
        } else {
            format!(" [{active}]")
        }
    )
}

/// Starts showing progress of `tables` tables of about `total_bytes` bytes.
pub fn start(display: Display, counters: Arc<Counters>, total_bytes: u64, tables: usize) -> Ticker {
    let stop = Arc::new(tokio::sync::Notify::new());
    if display == Display::Off {
        return Ticker { stop, handle: None };
    }
    let stop2 = Arc::clone(&stop);
    let handle = tokio::spawn(async move {
        let started = Instant::now();
        let bar = (display == Display::Bar).then(|| {
            let b = ProgressBar::new(total_bytes.max(1));
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
            tokio::select! {
                _ = stop2.notified() => break,
                _ = tokio::time::sleep(period) => {}
            }
            let line = status(&counters, total_bytes, tables, started);
            match &bar {
                Some(b) => {
                    b.set_position(counters.bytes.load(Ordering::Relaxed).min(total_bytes));
                    b.set_message(line);
                }
                None => eprintln!("pgferry: data: {line}"),
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
