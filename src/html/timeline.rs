//! The data phase as an inline SVG chart: one lane per copy worker (its
//! copies, then the index builds it runs once no data is left), then the
//! post-data sessions (however many ran at once), each bar a table copied or
//! a statement run, with a native tooltip (`<title>`): no script.

use super::{esc, mb, thousands};
use crate::journal::Event;
use std::fmt::Write as _;

const LABEL_W: f64 = 110.0;
const PLOT_W: f64 = 860.0;
const LANE_H: f64 = 20.0;
const TOP: f64 = 34.0;

/// Colour and legend name of an event kind.
fn colour(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "copy" => ("#4e79a7", "copy"),
        "index" => ("#59a14f", "index build"),
        "primary key"
        | "unique constraint"
        | "check constraint"
        | "exclusion constraint"
        | "index attach" => ("#f28e2b", "constraint"),
        "foreign key" | "foreign key validation" => ("#e15759", "foreign key"),
        _ => ("#9d9d9d", "other statement"),
    }
}

/// Lanes in display order, each with its events: workers first (by number),
/// then post-data sessions packed greedily (a session is free again when its
/// statement ends).
fn lanes(events: &[Event]) -> Vec<(String, Vec<&Event>)> {
    let mut workers: Vec<(usize, String, Vec<&Event>)> = Vec::new();
    let mut sessions: Vec<(f64, Vec<&Event>)> = Vec::new();
    let mut unlaned: Vec<&Event> = events.iter().filter(|e| e.lane.is_none()).collect();
    unlaned.sort_by(|a, b| a.start.total_cmp(&b.start));
    for e in events {
        if let Some(l) = &e.lane {
            let n = l
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            match workers.iter_mut().find(|w| &w.1 == l) {
                Some(w) => w.2.push(e),
                None => workers.push((n, l.clone(), vec![e])),
            }
        }
    }
    for e in unlaned {
        match sessions.iter_mut().find(|s| s.0 <= e.start + 1e-6) {
            Some(s) => {
                s.0 = e.end;
                s.1.push(e);
            }
            None => sessions.push((e.end, vec![e])),
        }
    }
    workers.sort_by_key(|w| w.0);
    let mut out: Vec<(String, Vec<&Event>)> = workers.into_iter().map(|w| (w.1, w.2)).collect();
    let n = sessions.len();
    for (i, s) in sessions.into_iter().enumerate() {
        let name = if n == 1 {
            "post-data".to_string()
        } else {
            format!("post-data {}", i + 1)
        };
        out.push((name, s.1));
    }
    out
}

/// A tick step of 1, 2 or 5 times a power of ten giving about eight ticks.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 8.0).max(1e-3);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// The chart, or a sentence when there is nothing to draw.
pub fn svg(events: &[Event]) -> String {
    if events.is_empty() {
        return "<p>No timeline was recorded for this run.</p>".to_string();
    }
    // From the first bar to the last (reading the catalog and the precheck
    // come before: the phase table has their times); labels count from the
    // start of the run.
    let t0 = events.iter().map(|e| e.start).fold(f64::INFINITY, f64::min);
    let end = events.iter().map(|e| e.end).fold(0.0f64, f64::max);
    let span = (end - t0).max(1e-3);
    let lanes = lanes(events);
    let height = TOP + LANE_H * lanes.len() as f64 + 24.0;
    let width = LABEL_W + PLOT_W + 10.0;
    let x = |t: f64| LABEL_W + (t - t0) / span * PLOT_W;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"timeline\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-label=\"timeline of the data and post-data phases\">"
    );
    // Legend: the kinds present.
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for e in events {
        let c = colour(&e.kind);
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    let mut lx = LABEL_W;
    for (fill, name) in &seen {
        let _ = write!(
            s,
            "<rect x=\"{lx:.0}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{fill}\"/>\
             <text x=\"{:.0}\" y=\"16\">{name}</text>",
            lx + 16.0
        );
        lx += 30.0 + 7.0 * name.len() as f64;
    }
    // Time axis.
    let step = tick_step(span);
    let axis_y = TOP + LANE_H * lanes.len() as f64;
    let mut t = (t0 / step).ceil() * step;
    while t <= end + 1e-9 {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{TOP:.0}\" x2=\"{0:.1}\" y2=\"{axis_y:.0}\" class=\"grid\"/>\
             <text x=\"{0:.1}\" y=\"{1:.0}\" text-anchor=\"middle\">{2} s</text>",
            x(t),
            axis_y + 16.0,
            trim(t)
        );
        t += step;
    }
    for (i, (name, evs)) in lanes.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{:.0}\">{}</text>",
            y + LANE_H * 0.7,
            esc(name)
        );
        for e in evs {
            let (fill, _) = colour(&e.kind);
            let w = (x(e.end) - x(e.start)).max(1.0);
            let mut tip = format!(
                "{name}: {} {}, {:.3} s ({:.3} to {:.3} s)",
                e.kind,
                e.object,
                e.end - e.start,
                e.start,
                e.end
            );
            if let (Some(r), Some(b)) = (e.rows, e.bytes) {
                let _ = write!(tip, ", {} rows, {} MB", thousands(r), mb(b));
            }
            let _ = write!(
                s,
                "<rect x=\"{:.2}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{fill}\" \
                 data-kind=\"{}\" data-object=\"{}\"><title>{}</title></rect>",
                x(e.start),
                y + 3.0,
                LANE_H - 6.0,
                esc(&e.kind),
                esc(&e.object),
                esc(&tip)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// `1.5` as `1.5`, `2.0` as `2`.
fn trim(t: f64) -> String {
    let s = format!("{t:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(lane: Option<&str>, kind: &str, start: f64, end: f64) -> Event {
        Event {
            lane: lane.map(str::to_string),
            kind: kind.into(),
            object: "public.t".into(),
            start,
            end,
            rows: None,
            bytes: None,
        }
    }

    #[test]
    fn workers_first_then_post_data_sessions_packed() {
        let e = vec![
            ev(None, "index", 2.0, 3.0),
            ev(Some("worker 2"), "copy", 0.0, 1.0),
            ev(None, "index", 2.5, 3.5),
            ev(Some("worker 1"), "copy", 0.0, 2.0),
            ev(None, "foreign key", 3.2, 4.0),
        ];
        let names: Vec<String> = lanes(&e).into_iter().map(|l| l.0).collect();
        assert_eq!(
            names,
            vec!["worker 1", "worker 2", "post-data 1", "post-data 2"]
        );
        let chart = svg(&e);
        assert_eq!(chart.matches("<rect").count(), 5 + 3, "bars plus legend");
        assert!(chart.contains("<title>worker 1: copy public.t"));
    }

    #[test]
    fn ticks() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(0.5), 0.1);
        assert_eq!(trim(2.0), "2");
        assert_eq!(trim(0.25), "0.25");
    }
}
