//! `pgferry report`: one self-contained HTML page from a task's state
//! directory, to attach to the change ticket. It reads what the migration
//! left there: the task state (`state.db`), `report.json` (the migrate
//! report), `journal.json` (the precheck and the timeline of each run, see
//! [`crate::journal`]) and `verify-report.json` (`verify --state-dir`).
//!
//! No script and no network: inline CSS and an inline SVG chart, and a
//! Content-Security-Policy that forbids loading anything, so the page shows
//! the same on an air-gapped laptop years later.

mod timeline;

use crate::journal::Run;
use crate::state::{State, UnitRecord};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Everything the page is made from.
pub struct Sources {
    pub dir: PathBuf,
    pub identity: String,
    pub finished: bool,
    pub units: Vec<UnitRecord>,
    /// `report.json`: written when the migration finished.
    pub report: Option<Value>,
    /// `verify-report.json`, if `pgferry verify --state-dir` wrote one.
    pub verify: Option<Value>,
    /// `journal.json`: one entry per `migrate` run of the task.
    pub runs: Vec<Run>,
}

fn read_json(path: &Path) -> anyhow::Result<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
    }
}

impl Sources {
    /// Reads a task's state directory; a directory without task state is a
    /// usage error (exit 2).
    pub fn read(dir: &Path) -> anyhow::Result<Sources> {
        let Some(state) = State::open_existing(dir)? else {
            return Err(crate::error::usage(format!(
                "no pgferry task state in {} (give the migration's --state-dir; \
                 `pgferry status` lists the tasks under .pgferry)",
                dir.display()
            )));
        };
        Ok(Sources {
            dir: dir.to_path_buf(),
            identity: state.get("identity")?.unwrap_or_default(),
            finished: state.is_finished()?,
            units: state.units()?,
            report: read_json(&dir.join("report.json"))?,
            verify: read_json(&dir.join("verify-report.json"))?,
            runs: crate::journal::load(dir)?,
        })
    }
}

/// Writes the page for the task in `dir` to `out`.
pub fn write(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let page = render(&Sources::read(dir)?, &utc(now_ms()));
    std::fs::write(out, page).map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))
}

/// HTML text with `& < > " '` escaped.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// `12345` as `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// Bytes as MB with one decimal (10^6, as the terminal summary).
pub(crate) fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let r = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        r / 3600,
        (r % 3600) / 60,
        r % 60
    )
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}
fn u(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}
fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}
fn arr<'a>(v: Option<&'a Value>, k: &str) -> &'a [Value] {
    v.and_then(|v| v.get(k))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A number cell that keeps its exact value for machines and tests.
fn num(value: u64, shown: &str) -> String {
    format!("<td class=\"num\" data-value=\"{value}\">{shown}</td>")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1020px;\
color:#222}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;\
border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%;margin:6px 0}\
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.meta{color:#555}.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}\
.warn{color:#a15c00;font-weight:600}code,pre{font:12px ui-monospace,monospace}\
pre{background:#f6f6f6;padding:8px;overflow-x:auto;white-space:pre-wrap}\
svg.timeline text{font:11px system-ui,sans-serif;fill:#333}svg .grid{stroke:#e3e3e3}\
.bar{display:flex;height:22px;margin:6px 0}.bar div{height:100%}";

/// The whole page.
pub fn render(src: &Sources, generated: &str) -> String {
    let mut h = String::new();
    let title = format!("pgferry migration report: {}", src.identity);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&title)
    );
    header(&mut h, src, generated);
    servers(&mut h, src);
    precheck(&mut h, src);
    phases(&mut h, src);
    let _ = write!(h, "<h2 id=\"timeline\">Timeline</h2>");
    let runs: Vec<&Run> = src.runs.iter().filter(|r| !r.events.is_empty()).collect();
    if runs.is_empty() {
        h.push_str(
            "<p>No timeline was recorded (it is recorded by <code>pgferry migrate</code>).</p>",
        );
    }
    for r in &runs {
        let _ = write!(
            h,
            "<p class=\"meta\">run started {}: each bar is a table copied or a statement run; \
             hover for details{}.</p>{}",
            utc(r.started_at_ms),
            if r.events_dropped > 0 {
                format!(" ({} shortest statements not drawn)", r.events_dropped)
            } else {
                String::new()
            },
            timeline::svg(&r.events)
        );
    }
    tables(&mut h, src);
    objects(&mut h, src);
    commands(&mut h, src);
    h.push_str("</body></html>\n");
    h
}

fn header(h: &mut String, src: &Sources, generated: &str) {
    let left = src.units.iter().filter(|u| u.status != "done").count();
    let status = if src.finished {
        "<span class=\"ok\">finished</span>".to_string()
    } else {
        format!(
            "<span class=\"bad\">not finished</span>: {left} of {} copy units left \
             (continue with <code>pgferry migrate --resume</code>)",
            src.units.len()
        )
    };
    let verified = match &src.verify {
        Some(v) if v.get("equal").and_then(Value::as_bool) == Some(true) => {
            "<span class=\"ok\">verified: every table equal</span>".to_string()
        }
        Some(v) => format!(
            "<span class=\"bad\">verify found differences: {}</span>",
            esc(&arr(Some(v), "different")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "))
        ),
        None => "<span class=\"warn\">not verified</span> (run <code>pgferry verify \
                 --state-dir DIR</code> to add the comparison)"
            .to_string(),
    };
    let _ = writeln!(
        h,
        "<h1>pgferry migration report</h1><p class=\"meta\">{}<br>status: {status}; \
         {verified}<br>state directory: <code>{}</code>; generated {generated}</p>",
        esc(&src.identity),
        esc(&src.dir.display().to_string())
    );
}

/// The latest precheck document of the task.
fn latest_precheck(src: &Sources) -> Option<&Value> {
    src.runs.iter().rev().find_map(|r| r.precheck.as_ref())
}

fn servers(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"servers\">Source and target</h2>");
    let Some(doc) = latest_precheck(src) else {
        h.push_str("<p>No precheck was recorded.</p>");
        return;
    };
    let (a, b) = (&doc["source"], &doc["target"]);
    h.push_str("<table><tr><th></th><th>source</th><th>target</th></tr>");
    let row = |h: &mut String, name: &str, f: &dyn Fn(&Value) -> String| {
        let _ = write!(
            h,
            "<tr><th>{name}</th><td>{}</td><td>{}</td></tr>",
            esc(&f(a)),
            esc(&f(b))
        );
    };
    row(h, "connection", &|v| s(v, "endpoint").to_string());
    row(h, "version", &|v| format!("PostgreSQL {}", s(v, "version")));
    row(h, "database", &|v| {
        format!(
            "{} ({}, {} {})",
            s(v, "database"),
            s(v, "encoding"),
            s(v, "locale_provider"),
            s(v, "lc_collate")
        )
    });
    row(h, "login", &|v| {
        let su = v["superuser"].as_bool() == Some(true);
        format!("{}{}", s(v, "login"), if su { " (superuser)" } else { "" })
    });
    row(h, "TLS", &|v| {
        if v["ssl"].as_bool() == Some(true) {
            format!("yes: {} {}", s(v, "ssl_version"), s(v, "ssl_cipher"))
        } else {
            "no".to_string()
        }
    });
    h.push_str("</table>");
    if let Some(space) = arr(Some(doc), "findings")
        .iter()
        .find(|f| f["code"] == "target.space")
    {
        let _ = write!(h, "<p>Sizes: {}</p>", esc(s(space, "message")));
    }
}

fn precheck(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"precheck\">Precheck</h2>");
    let Some(doc) = latest_precheck(src) else {
        h.push_str("<p>No precheck was recorded.</p>");
        return;
    };
    let sum = &doc["summary"];
    let _ = write!(
        h,
        "<p>{} passed, {} warning(s), {} failure(s) (failures ignored with \
         <code>--ignore-check</code> count as warnings).</p>",
        u(sum, "pass"),
        u(sum, "warning"),
        u(sum, "failure")
    );
    let findings = arr(Some(doc), "findings");
    let list = |h: &mut String, items: &[&Value]| {
        h.push_str("<table><tr><th></th><th>check</th><th>finding</th><th>fix</th></tr>");
        for f in items {
            let sev = s(f, "severity");
            let class = match sev {
                "failure" => "bad",
                "warning" => "warn",
                _ => "ok",
            };
            let _ = write!(
                h,
                "<tr data-code=\"{0}\"><td class=\"{class}\">{1}</td><td><code>{0}</code></td>\
                 <td>{2}</td><td>{3}</td></tr>",
                esc(s(f, "code")),
                esc(sev),
                esc(s(f, "message")),
                esc(s(f, "fix"))
            );
        }
        h.push_str("</table>");
    };
    let problems: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] != "pass")
        .collect();
    let passes: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "pass")
        .collect();
    if !problems.is_empty() {
        list(h, &problems);
    }
    let _ = write!(
        h,
        "<details><summary>{} items passed</summary>",
        passes.len()
    );
    list(h, &passes);
    h.push_str("</details>");
}

fn phases(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"phases\">Phases</h2>");
    let Some(p) = src.report.as_ref().map(|r| &r["phases"]) else {
        h.push_str("<p>The migration has not finished: no phase times yet.</p>");
        return;
    };
    let names = [
        ("catalog", "read the source catalog and plan", "#bab0ac"),
        ("pre_data", "pre-data (structure)", "#76b7b2"),
        ("data", "data (copy, early index builds)", "#4e79a7"),
        (
            "post_data",
            "post-data (indexes, constraints, triggers)",
            "#59a14f",
        ),
        ("sequences", "sequences", "#edc948"),
        ("analyze", "ANALYZE", "#b07aa1"),
    ];
    let total = f(p, "total").max(1e-9);
    h.push_str("<div class=\"bar\" role=\"img\" aria-label=\"phase durations\">");
    for (k, label, colour) in names {
        let share = f(p, k) / total * 100.0;
        let _ = write!(
            h,
            "<div style=\"width:{share:.2}%;background:{colour}\" title=\"{label}: {:.2} s\"></div>",
            f(p, k)
        );
    }
    h.push_str("</div><table><tr><th>phase</th><th>seconds</th></tr>");
    for (k, label, colour) in names {
        let _ = write!(
            h,
            "<tr data-phase=\"{k}\"><td><span style=\"color:{colour}\">&#9632;</span> {label}</td>\
             <td class=\"num\">{:.2}</td></tr>",
            f(p, k)
        );
    }
    let _ = write!(
        h,
        "<tr data-phase=\"total\"><th>total (with the precheck and waits)</th>\
         <th class=\"num\">{:.2}</th></tr></table>",
        f(p, "total")
    );
}

fn tables(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"tables\">Tables</h2>");
    let verified: HashMap<&str, &Value> = arr(src.verify.as_ref(), "tables")
        .iter()
        .map(|t| (s(t, "table"), t))
        .collect();
    let report_tables = arr(src.report.as_ref(), "tables");
    if report_tables.is_empty() {
        h.push_str("<p>No table results yet (the migration has not finished).</p>");
        return;
    }
    h.push_str(
        "<table><tr><th>table</th><th>rows</th><th>MB</th><th>seconds</th><th>MB/s</th>\
         <th>format</th><th>ranges</th><th>verify</th></tr>",
    );
    let mut tabs: Vec<&Value> = report_tables.iter().collect();
    tabs.sort_by_key(|t| std::cmp::Reverse(u(t, "bytes")));
    let (mut rows, mut bytes) = (0u64, 0u64);
    for t in tabs {
        let name = s(t, "table");
        let (r, b, secs) = (u(t, "rows"), u(t, "bytes"), f(t, "seconds"));
        rows += r;
        bytes += b;
        let rate = if secs > 0.0 {
            b as f64 / 1e6 / secs
        } else {
            0.0
        };
        let check = match verified.get(name) {
            Some(v) if v["equal"].as_bool() == Some(true) => {
                "<td class=\"ok\">equal</td>".to_string()
            }
            Some(v) => format!(
                "<td class=\"bad\">DIFFERENT ({} source rows, {} target rows)</td>",
                u(v, "source_rows"),
                v["target_rows"]
                    .as_u64()
                    .map_or("no".to_string(), |n| n.to_string())
            ),
            None => "<td class=\"warn\">not verified</td>".to_string(),
        };
        let _ = write!(
            h,
            "<tr data-table=\"{}\"><td>{}</td>{}{}<td class=\"num\">{secs:.2}</td>\
             <td class=\"num\">{rate:.1}</td><td>{}</td>{}{check}</tr>",
            esc(name),
            esc(name),
            num(r, &thousands(r)),
            num(b, &mb(b)),
            esc(s(t, "format")),
            num(u(t, "ranges"), &u(t, "ranges").to_string())
        );
    }
    let _ = write!(
        h,
        "<tr data-table=\"(total)\"><th>{} tables</th>{}{}<td colspan=\"5\"></td></tr></table>",
        report_tables.len(),
        num(rows, &thousands(rows)),
        num(bytes, &mb(bytes))
    );
}

fn objects(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"objects\">Objects not migrated as they are</h2>");
    let r = src.report.as_ref();
    let mut any = false;
    for (key, what) in [
        ("skipped", "Skipped (pgferry cannot migrate them)"),
        (
            "excluded",
            "Left out by the selection, with what depends on it",
        ),
    ] {
        let items = arr(r, key);
        if items.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(
            h,
            "<h3>{what}: {}</h3><table><tr><th>kind</th><th>object</th><th>reason</th></tr>",
            items.len()
        );
        for i in items {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(s(i, "kind")),
                esc(s(i, "object")),
                esc(s(i, "reason"))
            );
        }
        h.push_str("</table>");
    }
    for (key, what) in [
        ("no_data", "Created without their rows (exclude_data)"),
        ("renamed", "Renamed on the target"),
    ] {
        let items: Vec<&str> = arr(r, key).iter().filter_map(Value::as_str).collect();
        if items.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(h, "<h3>{what}: {}</h3><ul>", items.len());
        for i in items {
            let _ = write!(h, "<li>{}</li>", esc(i));
        }
        h.push_str("</ul>");
    }
    if let Some(n) = r
        .map(|r| u(r, "source_writes_during_copy"))
        .filter(|n| *n > 0)
    {
        any = true;
        let _ = write!(
            h,
            "<p class=\"bad\">{n} row(s) changed on the source while the data was copied: \
             they are not on the target.</p>"
        );
    }
    if !any {
        h.push_str("<p>None: every object was migrated, under its own name, with its rows.</p>");
    }
}

fn commands(h: &mut String, src: &Sources) {
    h.push_str("<h2 id=\"commands\">Commands run</h2><pre>");
    for r in &src.runs {
        let _ = writeln!(
            h,
            "# {}: {}\n$ {}",
            utc(r.started_at_ms),
            esc(&r.outcome),
            esc(&r.command)
        );
    }
    if let Some(v) = &src.verify {
        let _ = writeln!(
            h,
            "# verify: {}\n$ {}",
            if v["equal"].as_bool() == Some(true) {
                "equal"
            } else {
                "differences found"
            },
            esc(s(v, "command_line"))
        );
    }
    h.push_str("</pre><p class=\"meta\">Connection strings are shown without passwords.</p>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_764_547_200_000), "2025-12-01 00:00:00 UTC");
    }
}
