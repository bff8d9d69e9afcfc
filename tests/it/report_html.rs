//! `pgferry report` and `migrate --report`: the HTML page of a real
//! migration, opened in a real headless browser (Debian's chromium). The
//! page must load nothing and run nothing, its numbers must be the JSON
//! report's, and a screenshot is kept as a test artifact.

use crate::support::{cluster, fresh_db, pgferry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {c}")])
            .output()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !p.is_empty() {
                return PathBuf::from(p);
            }
        }
    }
    panic!("no chromium: apt-get install chromium (scripts/test.sh installs it)");
}

/// Runs headless chromium on a local file with extra arguments; returns
/// stdout and stderr.
fn browse(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--no-first-run", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "chromium failed: {e}");
    (o, e)
}

/// The `<tr data-table="...">` row of a table in the page.
fn row<'a>(dom: &'a str, table: &str) -> &'a str {
    let start = dom
        .find(&format!("<tr data-table=\"{table}\""))
        .unwrap_or_else(|| panic!("no row for {table}"));
    let end = dom[start..].find("</tr>").map_or(dom.len(), |e| start + e);
    &dom[start..end]
}

#[test]
fn report_page_renders_in_chromium_with_the_json_numbers() {
    let (src, dst) = (cluster(10), cluster(15));
    let (sdb, tdb) = (fresh_db(src, "rep_html"), fresh_db(dst, "rep_html"));
    src.psql(
        &sdb,
        "CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE public.orders (id bigserial PRIMARY KEY,
             customer int REFERENCES public.customers, note text);
         CREATE INDEX ON public.orders (note);
         INSERT INTO public.customers SELECT g, 'c' || g FROM generate_series(1, 3000) g;
         INSERT INTO public.orders (customer, note)
             SELECT 1 + g % 3000, repeat('x', g % 50) FROM generate_series(1, 20000) g;
         CREATE TABLE public.\"Odd <name> & co\" (v text);
         INSERT INTO public.\"Odd <name> & co\" VALUES ('<script>alert(1)</script>');",
    )
    .unwrap();
    let dir = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let state = dir.path().join("state");
    let state_s = state.display().to_string();
    let first = dir.path().join("from-migrate.html");
    let (source, target) = (src.uri(&sdb), dst.uri(&tdb));
    let out = pgferry(&[
        "migrate",
        "--source",
        &source,
        "--target",
        &target,
        "--state-dir",
        &state_s,
        "--report",
        &first.display().to_string(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(first.is_file(), "migrate --report wrote the page");
    let report: Value = serde_json::from_slice(&out.stdout).expect("migrate JSON");
    let out = pgferry(&[
        "verify",
        "--source",
        &source,
        "--target",
        &target,
        "--state-dir",
        &state_s,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = dir.path().join("report.html");
    let out = pgferry(&[
        "report",
        "--state-dir",
        &state_s,
        "--out",
        &page.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Self-contained: no script, nothing fetched, no password.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "no script, even from data"
    );
    for banned in ["http://", "https://", "src=", "@import", "url("] {
        assert!(
            !html.contains(banned),
            "the page must load nothing: {banned}"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains(src.password()), "passwords never appear");
    assert!(html.contains("<svg class=\"timeline\""));

    // The browser's DOM: the numbers are the JSON report's.
    let (dom, log) = browse(&page, &["--dump-dom"]);
    for bad in ["Uncaught", "Refused to", "CONSOLE"] {
        assert!(!log.contains(bad), "browser complained ({bad}): {log}");
    }
    let tables = report["tables"].as_array().expect("tables");
    let mut total = 0;
    for t in tables {
        let name = t["table"].as_str().unwrap();
        let rows = t["rows"].as_u64().unwrap();
        total += rows;
        let html_name = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        let r = row(&dom, &html_name);
        assert!(r.contains(&format!("data-value=\"{rows}\"")), "{name}: {r}");
        assert!(
            r.contains(&format!("data-value=\"{}\"", t["bytes"])),
            "{name}: {r}"
        );
        assert!(r.contains(">equal<"), "{name} verified equal: {r}");
    }
    assert_eq!(total, 23_001);
    assert!(row(&dom, "(total)").contains(&format!("data-value=\"{total}\"")));
    let phase_total = format!("{:.2}", report["phases"]["total"].as_f64().unwrap());
    assert!(dom.contains(&phase_total), "total seconds {phase_total}");
    // The timeline has a bar per table copied, on worker lanes, and the
    // foreign key built after the data.
    for t in tables {
        let name = t["table"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        assert!(
            dom.contains(&format!("data-kind=\"copy\" data-object=\"{name}\"")),
            "{name}"
        );
    }
    assert!(dom.contains("data-kind=\"foreign key\""));
    assert!(dom.contains("worker 1"));
    assert!(
        dom.contains("$ pgferry migrate --source"),
        "the commands run"
    );
    assert!(
        dom.contains("$ pgferry verify --source"),
        "the commands run"
    );

    // A screenshot, kept for people to look at.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pgferry-report.png");
    let _ = std::fs::remove_file(&shot);
    browse(
        &page,
        &[
            "--window-size=1100,2400",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("report screenshot: {}", shot.display());
}
