//! End-of-run summary tables (human) and JSON documents (machines).

use crate::migrate::Report;
use crate::verify::{TableChecksum, TableCount};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_000_000.0)
}

/// Per-table and per-phase summary of a migration.
pub fn migrate_table(r: &Report) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "table", "rows", "MB", "seconds", "MB/s", "format", "ranges",
    ]);
    let mut rows: Vec<_> = r.tables.iter().collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.stats.bytes));
    for x in rows {
        let rate = if x.stats.seconds > 0.0 {
            x.stats.bytes as f64 / 1_000_000.0 / x.stats.seconds
        } else {
            0.0
        };
        t.add_row(vec![
            Cell::new(&x.table),
            Cell::new(x.stats.rows).set_alignment(CellAlignment::Right),
            Cell::new(mb(x.stats.bytes)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}", x.stats.seconds)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{rate:.1}")).set_alignment(CellAlignment::Right),
            Cell::new(x.format),
            Cell::new(x.ranges).set_alignment(CellAlignment::Right),
        ]);
    }
    let mut p = Table::new();
    p.load_preset(UTF8_FULL_CONDENSED);
    p.set_header(vec!["phase", "seconds"]);
    let ph = &r.phases;
    for (name, secs) in [
        ("catalog", ph.catalog),
        ("pre-data", ph.pre_data),
        ("data", ph.data),
        ("post-data", ph.post_data),
        ("sequences", ph.sequences),
        ("analyze", ph.analyze),
        ("total", ph.total),
    ] {
        p.add_row(vec![
            Cell::new(name),
            Cell::new(format!("{secs:.2}")).set_alignment(CellAlignment::Right),
        ]);
    }
    let rows: u64 = r.tables.iter().map(|x| x.stats.rows).sum();
    format!(
        "{t}\n{p}\n{}; {rows} rows copied, {} sequences set\n{}",
        r.counts.describe(),
        r.sequences_set,
        skipped_text(&r.skipped)
    ) + &excluded_text(&r.excluded)
        + &rewritten_text(&r.rewritten)
        + &r.schema_differences
            .iter()
            .map(|d| {
                format!(
                    "STRUCTURE {} {}: {} (verify --schema shows both sides)\n",
                    d.kind, d.object, d.difference
                )
            })
            .collect::<String>()
        + &r.renamed
            .iter()
            .map(|x| format!("renamed {x}\n"))
            .collect::<String>()
}

/// The objects that were not migrated, one a line with the reason (empty when none).
pub fn skipped_text(skipped: &[crate::plan::Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let mut out = format!("{} objects NOT migrated:\n", skipped.len());
    for s in skipped {
        out.push_str(&format!(
            "  SKIPPED {} {}: {}\n",
            s.kind, s.object, s.reason
        ));
    }
    out
}

/// Row-count comparison table.
pub fn counts_table(counts: &[TableCount]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["table", "source rows", "target rows", "result"]);
    for c in counts {
        t.add_row(vec![
            Cell::new(&c.table),
            Cell::new(c.source_rows).set_alignment(CellAlignment::Right),
            Cell::new(
                c.target_rows
                    .map_or("missing".to_string(), |n| n.to_string()),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(if c.equal { "equal" } else { "DIFFERENT" }),
        ]);
    }
    let bad = counts.iter().filter(|c| !c.equal).count();
    format!(
        "{t}\n{} tables compared, {} equal, {bad} different\n",
        counts.len(),
        counts.len() - bad
    )
}

/// Checksum comparison table, then one line per differing table and key range.
pub fn checksum_table(sums: &[TableChecksum]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "table",
        "source rows",
        "target rows",
        "source checksum",
        "target checksum",
        "result",
    ]);
    for c in sums {
        t.add_row(vec![
            Cell::new(&c.table),
            Cell::new(c.source_rows).set_alignment(CellAlignment::Right),
            Cell::new(
                c.target_rows
                    .map_or("missing".to_string(), |n| n.to_string()),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(&c.source_checksum),
            Cell::new(c.target_checksum.as_deref().unwrap_or("-")),
            Cell::new(if c.equal { "equal" } else { "DIFFERENT" }),
        ]);
    }
    let mut lines = String::new();
    for c in sums.iter().filter(|c| !c.equal) {
        lines.push_str(&format!("DIFFERENT: {}", c.table));
        if let Some(note) = &c.note {
            lines.push_str(&format!(" ({note})"));
        }
        lines.push('\n');
        let key = c.split.as_ref().map_or("key", |s| s.key.as_str());
        for r in &c.differing_ranges {
            lines.push_str(&format!(
                "  {key} {}..={}: {} source rows, {} target rows\n",
                r.from, r.to, r.source_rows, r.target_rows
            ));
        }
        if c.more_differing_ranges > 0 {
            lines.push_str(&format!(
                "  and {} more differing ranges\n",
                c.more_differing_ranges
            ));
        }
    }
    let bad = sums.iter().filter(|c| !c.equal).count();
    format!(
        "{t}\n{lines}{} tables compared, {} equal, {bad} different\n",
        sums.len(),
        sums.len() - bad
    )
}

/// The plan as a DBA reads it: every statement in order, with its phase.
pub fn plan_text(plan: &crate::plan::Plan) -> String {
    let mut out = String::new();
    for s in &plan.pre_data {
        out.push_str(&format!(
            "-- [pre-data] {} {}\n{}\n",
            s.kind, s.object, s.sql
        ));
    }
    for c in &plan.copies {
        out.push_str(&format!(
            "-- [data] copy {} -> {} ({} columns, {})\n",
            c.source_qualified(),
            c.target_qualified(),
            c.source_columns.len(),
            if c.binary { "binary" } else { "text" }
        ));
    }
    for s in &plan.post_data {
        out.push_str(&format!(
            "-- [post-data] {} {}\n{}\n",
            s.kind, s.object, s.sql
        ));
    }
    for s in &plan.renames {
        out.push_str(&format!("-- [rename] {} {}\n{}\n", s.kind, s.object, s.sql));
    }
    for s in &plan.sequences {
        out.push_str(&format!("-- [sequences] sequence value {}\n", s.target));
    }
    for t in &plan.no_data {
        out.push_str(&format!(
            "-- [data] no rows copied for {t} (exclude_data)\n"
        ));
    }
    for line in skipped_text(&plan.skipped).lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    for line in excluded_text(&plan.excluded).lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    for line in rewritten_text(&plan.rewritten).lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    out.push_str(&format!("-- {}\n", plan.counts.describe()));
    out
}

/// Objects a version rule changed so that the target accepts them, one a line.
pub fn rewritten_text(rewritten: &[crate::plan::Rewritten]) -> String {
    let mut out = String::new();
    if !rewritten.is_empty() {
        out.push_str(&format!(
            "{} objects rewritten for the target version:\n",
            rewritten.len()
        ));
    }
    for r in rewritten {
        out.push_str(&format!(
            "  REWRITTEN {} {}: {} ({})\n",
            r.kind, r.object, r.change, r.code
        ));
    }
    out
}

/// Objects left out by selection because of their dependencies, one a line.
pub fn excluded_text(excluded: &[crate::plan::Skipped]) -> String {
    let mut out = String::new();
    if !excluded.is_empty() {
        out.push_str(&format!(
            "{} objects left out by the selection:\n",
            excluded.len()
        ));
    }
    for s in excluded {
        out.push_str(&format!(
            "  LEFT OUT {} {}: {}\n",
            s.kind, s.object, s.reason
        ));
    }
    out
}
