//! Resuming the data phase: the units the interrupted run recorded (never
//! re-split, so ranges stay exactly as they were), those done reported as
//! such, the others made safe to redo.
//!
//! Sorting the records is pure ([`sort_recorded`], unit-tested); only the
//! tables copied by page ranges need the target: a page range cannot be
//! cleared on its own (its rows have other `ctid`s on the target), so the
//! whole table is emptied and every one of its ranges copied again.

use super::Task;
use crate::copy::{
    number_ranges, redo_clear, unit_id, Clear, CopyStats, LoadMode, TableResult, Unit,
};
use crate::plan::{CopyRange, Plan, TableCopy};
use crate::state::{UnitRecord, UnitStatus};
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use tokio_postgres::Client;

/// The units to copy and the finished ones (as results). `None` when the
/// run stopped before recording its units.
pub(super) async fn resume_units(
    task: &Task,
    plan: &Plan,
    target: &Client,
    mode: LoadMode,
) -> anyhow::Result<Option<(Vec<Unit>, Vec<TableResult>)>> {
    let records = task.state.units()?;
    if records.is_empty() {
        return Ok(None);
    }
    let parts = part_numbers(&records);
    let Recorded {
        mut units,
        mut done,
        reset_tables,
    } = sort_recorded(&records, &parts, plan, mode)?;
    for table in &reset_tables {
        let redo = reset_table(task, plan, target, &records, &parts, table).await?;
        units.extend(redo);
        done.retain(|d| &d.table != table);
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.copy.bytes));
    tracing::info!(
        left = units.len(),
        done = records.len() - units.len(),
        "resuming the data phase"
    );
    Ok(Some((units, done)))
}

/// The recorded units, sorted before anything on the target changes.
#[derive(Debug)]
struct Recorded {
    /// Unfinished units, each with what to clear before it is redone.
    units: Vec<Unit>,
    /// Finished units, as their results.
    done: Vec<TableResult>,
    /// Tables with an unfinished page range: emptied and copied again whole.
    reset_tables: HashSet<String>,
}

/// Each recorded range's number among its table's recorded ranges, by unit id.
fn part_numbers(records: &[UnitRecord]) -> HashMap<&str, (usize, usize)> {
    let parsed: Vec<Option<CopyRange>> = records
        .iter()
        .map(|r| {
            r.range
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
        })
        .collect();
    let parts = number_ranges(
        &records
            .iter()
            .zip(&parsed)
            .map(|(r, p)| (r.table.as_str(), p.as_ref()))
            .collect::<Vec<_>>(),
    );
    records
        .iter()
        .zip(&parts)
        .filter_map(|(r, p)| p.map(|p| (r.id.as_str(), p)))
        .collect()
}

/// The plan's copy of each table, by target name (the first, as a scan
/// would find it), so that thousands of records are not a scan each.
fn copies_by_table(plan: &Plan) -> HashMap<String, &TableCopy> {
    let mut out = HashMap::with_capacity(plan.copies.len());
    for c in &plan.copies {
        out.entry(c.target_qualified()).or_insert(c);
    }
    out
}

/// Splits the records into finished units and units to redo; an error
/// when a recorded table is no longer in the plan, or a range unreadable.
fn sort_recorded(
    records: &[UnitRecord],
    part_of: &HashMap<&str, (usize, usize)>,
    plan: &Plan,
    mode: LoadMode,
) -> anyhow::Result<Recorded> {
    let copies = copies_by_table(plan);
    let mut out = Recorded {
        units: Vec::new(),
        done: Vec::new(),
        reset_tables: HashSet::new(),
    };
    for r in records {
        let Some(base) = copies.get(&r.table) else {
            anyhow::bail!(
                "the interrupted run copied {}, which the source no longer has; \
                 use --restart",
                r.table
            );
        };
        let range: Option<CopyRange> = match &r.range {
            Some(j) => Some(
                serde_json::from_str(j)
                    .with_context(|| format!("reading the recorded range of {}", r.table))?,
            ),
            None => None,
        };
        let copy = TableCopy {
            range: range.clone(),
            ..(*base).clone()
        };
        if r.status == "done" {
            out.done.push(done_result(r, &copy));
            continue;
        }
        let clear = match redo_clear(range.as_ref(), mode) {
            Some(c) => c,
            // A page range: its whole table is cleared and redone.
            None => {
                out.reset_tables.insert(r.table.clone());
                Clear::Nothing
            }
        };
        out.units.push(Unit {
            id: unit_id(&copy),
            copy,
            clear,
            part: part_of.get(r.id.as_str()).copied(),
        });
    }
    Ok(out)
}

/// The result of a unit the interrupted run finished.
fn done_result(r: &UnitRecord, copy: &TableCopy) -> TableResult {
    TableResult {
        table: r.table.clone(),
        format: if copy.binary { "binary" } else { "text" },
        ranges: 1,
        stats: CopyStats {
            rows: r.rows.unwrap_or(0).max(0) as u64,
            bytes: r.bytes.unwrap_or(0).max(0) as u64,
            seconds: 0.0,
        },
        span: None,
    }
}

/// Empties `table` on the target and marks its finished ranges pending
/// again; returns those ranges as units to copy (the unfinished ones are
/// already among the units).
async fn reset_table(
    task: &Task,
    plan: &Plan,
    target: &Client,
    records: &[UnitRecord],
    parts: &HashMap<&str, (usize, usize)>,
    table: &str,
) -> anyhow::Result<Vec<Unit>> {
    target
        .batch_execute(&format!("DELETE FROM ONLY {table}"))
        .await
        .with_context(|| format!("clearing {table} on the target to redo it"))?;
    let mut units = Vec::new();
    // Its finished ranges are gone too: copy them again.
    for r in records
        .iter()
        .filter(|r| r.table == table && r.status == "done")
    {
        task.state.mark_unit(
            &r.id,
            &r.table,
            r.range.as_deref(),
            UnitStatus::Pending,
            None,
        )?;
        let range = r
            .range
            .as_deref()
            .and_then(|j| serde_json::from_str::<CopyRange>(j).ok());
        if let Some(base) = plan.copies.iter().find(|c| c.target_qualified() == table) {
            let copy = TableCopy {
                range,
                ..base.clone()
            };
            units.push(Unit {
                id: unit_id(&copy),
                copy,
                clear: Clear::Nothing,
                part: parts.get(r.id.as_str()).copied(),
            });
        }
    }
    Ok(units)
}

#[cfg(test)]
#[path = "resume_tests.rs"]
mod tests;
