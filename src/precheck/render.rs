//! Precheck output: a table for people on a terminal, plain lines for logs
//! and pipes (which grep better than box drawing), one JSON document for machines.

use super::{Finding, Report, ServerInfo, Severity};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};
use serde::Serialize;

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Pass => "PASS",
        Severity::Warning => "WARN",
        Severity::Failure => "FAIL",
    }
}

/// The human report. `table`: draw a comfy-table (use it when stdout is a terminal).
pub fn human(r: &Report, table: bool) -> String {
    let mut out = String::new();
    for (what, i) in [("source", &r.source), ("target", &r.target)] {
        out.push_str(&format!(
            "{what}: {} - PostgreSQL {} as {}{}\n",
            i.endpoint,
            i.version,
            i.login,
            if i.superuser { " (superuser)" } else { "" }
        ));
    }
    if table {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["", "check", "finding", "fix"]);
        for f in &r.findings {
            t.add_row(vec![
                Cell::new(label(f.severity)),
                Cell::new(f.code),
                Cell::new(&f.message),
                Cell::new(f.fix.as_deref().unwrap_or("")),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    } else {
        for f in &r.findings {
            out.push_str(&format!(
                "{} {}: {}\n",
                label(f.severity),
                f.code,
                f.message
            ));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("     fix: {fix}\n"));
            }
        }
    }
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    out.push_str(&format!(
        "{} passed, {} warning(s), {} failure(s): {}\n",
        count(Severity::Pass),
        count(Severity::Warning),
        count(Severity::Failure),
        if r.ok {
            "ready to migrate"
        } else {
            "fix the failures (or pass --ignore-check CODE to migrate) and run precheck again"
        }
    ));
    out
}

/// Counts by severity.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warning: usize,
    pub failure: usize,
}

/// The `--json` document, fields in this order:
/// `{"command":"precheck","ok":..,"source":..,"target":..,"summary":..,"findings":[..],"rejected":[..]}`
/// (`rejected`: the statements the DDL rehearsal found the target refuses).
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub command: &'static str,
    pub ok: bool,
    pub source: &'a ServerInfo,
    pub target: &'a ServerInfo,
    pub summary: Summary,
    pub findings: &'a [Finding],
    pub rejected: &'a [crate::plan::Rejection],
}

/// Builds the `--json` document of a report.
pub fn json_document(r: &Report) -> Document<'_> {
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    Document {
        command: "precheck",
        ok: r.ok,
        source: &r.source,
        target: &r.target,
        summary: Summary {
            pass: count(Severity::Pass),
            warning: count(Severity::Warning),
            failure: count(Severity::Failure),
        },
        findings: &r.findings,
        rejected: &r.rejected,
    }
}
