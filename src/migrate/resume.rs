//! Resuming the data phase: the units the interrupted run recorded (never
//! re-split, so ranges stay exactly as they were), those done reported as
//! such, the others made safe to redo. Batches of large objects are found
//! again by their OID spans (a batch always removes what it may have left
//! before writing, so it needs nothing cleared).
//!
//! Sorting the records is pure ([`sort_recorded`], unit-tested); only the
//! tables copied by page ranges need the target: a page range cannot be
//! cleared on its own (its rows have other `ctid`s on the target), so the
//! whole table is emptied and every one of its ranges copied again.

use super::Task;
use crate::copy::largeobjects::{self as lob, LargeObject, OidSpan, LARGE_OBJECTS};
use crate::copy::{
    number_ranges, number_units, redo_clear, unit_id, Clear, CopyStats, LoadMode, TableResult,
    Unit, Work,
};
use crate::plan::{CopyRange, Plan, TableCopy};
use crate::state::{UnitRecord, UnitStatus};
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use tokio_postgres::Client;

/// The units to copy and the finished ones (as results). `None` when the
/// run stopped before recording its units. `los` are the source's large
/// objects, listed under this run's snapshot; `ownership` gives each one's
/// owner and privilege statements.
pub(super) async fn resume_units(
    task: &Task,
    plan: &Plan,
    target: &Client,
    mode: LoadMode,
    los: &[LargeObject],
    ownership: impl Fn(&LargeObject) -> String,
) -> anyhow::Result<Option<(Vec<Unit>, Vec<TableResult>)>> {
    let records = task.state.units()?;
    if records.is_empty() {
        return Ok(None);
    }
    let (lo_records, records): (Vec<UnitRecord>, Vec<UnitRecord>) =
        records.into_iter().partition(|r| r.table == LARGE_OBJECTS);
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
    let tables_left = units.len();
    let batches = large_object_units(&lo_records, los, ownership)?;
    if lo_records.is_empty() {
        record(task, &batches)?;
    }
    units.extend(batches);
    units.sort_by_key(|u| std::cmp::Reverse(u.bytes()));
    tracing::info!(
        left = units.len(),
        done = records.len() - tables_left,
        "resuming the data phase"
    );
    Ok(Some((units, done)))
}

/// Records units as pending: those of a first run, or the batches of large
/// objects a resumed run plans anew.
pub(super) fn record(task: &Task, units: &[Unit]) -> anyhow::Result<()> {
    let rows: Vec<_> = units
        .iter()
        .map(|u| (u.id.clone(), u.table(), u.range_json()))
        .collect();
    task.state.record_units(&rows)
}

/// The batches of large objects to copy: those recorded and not done, each
/// with the objects in its OID span (numbered among all the recorded
/// batches); or, when the interrupted run recorded none (its source had
/// none then), new batches of every object, for the caller to record.
fn large_object_units(
    records: &[UnitRecord],
    los: &[LargeObject],
    ownership: impl Fn(&LargeObject) -> String,
) -> anyhow::Result<Vec<Unit>> {
    if records.is_empty() {
        let mut units: Vec<Unit> = lob::batches(los, ownership)
            .into_iter()
            .map(Unit::large_objects)
            .collect();
        number_units(&mut units);
        return Ok(units);
    }
    let mut spans: Vec<(OidSpan, bool)> = Vec::new();
    for r in records {
        let span: OidSpan = r
            .range
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .with_context(|| format!("reading the recorded batch of large objects {}", r.id))?;
        spans.push((span, r.status == "done"));
    }
    spans.sort_by_key(|(s, _)| s.lo);
    let n = spans.len();
    let left: Vec<(usize, OidSpan)> = spans
        .iter()
        .enumerate()
        .filter(|(_, (_, done))| !done)
        .map(|(k, (s, _))| (k, *s))
        .collect();
    let only: Vec<OidSpan> = left.iter().map(|(_, s)| *s).collect();
    Ok(lob::regroup(los, &only, ownership)
        .into_iter()
        .zip(&left)
        .map(|(b, (k, _))| Unit {
            part: Some((k + 1, n)),
            ..Unit::large_objects(b)
        })
        .collect())
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
            work: Work::Table(copy),
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
                work: Work::Table(copy),
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
