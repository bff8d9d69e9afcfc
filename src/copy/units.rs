//! Units of copy work (a whole table or one range of a split table), how
//! they are named and recorded, and how their results add up to one result
//! per table.
//!
//! A split table is reported as one table: its rows and bytes summed, its
//! time the wall time from its first range's start to its last range's end
//! in this run (not the sum of the ranges, which ran side by side and would
//! exceed the whole data phase). Its ranges are named `table [range k/n]`,
//! numbered in key or page order, in logs and in `pgferry status`.

use super::largeobjects::{LoBatch, LARGE_OBJECTS};
use super::Clear;
use crate::plan::{CopyRange, TableCopy};
use std::collections::HashMap;
use std::time::Instant;

/// A range as stored in the task state.
pub fn range_json(r: &CopyRange) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// How the target tables receive rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Tables created by this run, without constraints or triggers yet:
    /// TRUNCATE + COPY FREEZE in one transaction.
    Fresh,
    /// Structure that already exists (`--data-only`): COPY into empty
    /// tables, with triggers and foreign-key checks off when the login may
    /// (`session_replication_role = replica`), as pg_restore --disable-triggers.
    Existing,
}

/// Tables smaller than this are loaded without TRUNCATE + FREEZE.
const FREEZE_MIN_BYTES: i64 = 8 << 20;

/// What a unit copies.
#[derive(Debug, Clone)]
pub enum Work {
    /// A table or a range of one.
    Table(TableCopy),
    /// A batch of large objects (see [`super::largeobjects`]).
    LargeObjects(LoBatch),
}

/// One unit of work: a table, a range of one, or a batch of large objects.
#[derive(Debug, Clone)]
pub struct Unit {
    pub work: Work,
    /// Stable identity in the task state.
    pub id: String,
    /// What to clear on the target before loading (a batch of large objects
    /// always removes what it may have left itself).
    pub clear: Clear,
    /// For a range or a batch: its number among its table's ranges (or
    /// among the batches), and their count.
    pub part: Option<(usize, usize)>,
}

impl Unit {
    /// A unit of a first run. Whole tables created by this run are truncated
    /// in the copy transaction, which allows COPY FREEZE (later index builds
    /// and ANALYZE then set no hint bits); small tables skip it, since they
    /// were just created empty and a TRUNCATE makes new files for each.
    /// Tables of `--data-only` were checked empty and may be referenced by
    /// foreign keys.
    pub fn new(copy: TableCopy, mode: LoadMode) -> Unit {
        let clear =
            if copy.range.is_none() && mode == LoadMode::Fresh && copy.bytes >= FREEZE_MIN_BYTES {
                Clear::Truncate
            } else {
                Clear::Nothing
            };
        Unit {
            id: unit_id(&copy),
            work: Work::Table(copy),
            clear,
            part: None,
        }
    }

    /// A batch of large objects.
    pub fn large_objects(batch: LoBatch) -> Unit {
        Unit {
            id: batch.span.unit_id(),
            work: Work::LargeObjects(batch),
            clear: Clear::Nothing,
            part: None,
        }
    }

    /// The table copied (target name), or [`LARGE_OBJECTS`].
    pub fn table(&self) -> String {
        match &self.work {
            Work::Table(c) => c.target_qualified(),
            Work::LargeObjects(_) => LARGE_OBJECTS.to_string(),
        }
    }

    /// The table copied, if the unit is (part of) a table.
    pub fn table_copy(&self) -> Option<&TableCopy> {
        match &self.work {
            Work::Table(c) => Some(c),
            Work::LargeObjects(_) => None,
        }
    }

    /// Estimated bytes, for largest-first scheduling and progress: the
    /// table's size on disk, or the batch's contents.
    pub fn bytes(&self) -> u64 {
        match &self.work {
            Work::Table(c) => c.bytes.max(0) as u64,
            Work::LargeObjects(b) => b.bytes(),
        }
    }

    /// The range (or OID span) as stored in the task state.
    pub fn range_json(&self) -> Option<String> {
        match &self.work {
            Work::Table(c) => c.range.as_ref().map(range_json),
            Work::LargeObjects(b) => Some(b.span.to_json()),
        }
    }

    /// `schema.table`, `schema.table [range k/n]` or `large objects [batch k/n]`.
    pub fn label(&self) -> String {
        match (&self.work, self.part) {
            (Work::LargeObjects(_), Some((k, n))) => format!("{LARGE_OBJECTS} [batch {k}/{n}]"),
            _ => unit_label(&self.table(), self.part),
        }
    }
}

/// `table`, or `table [range k/n]` for a range.
pub fn unit_label(table: &str, part: Option<(usize, usize)>) -> String {
    match part {
        Some((k, n)) => format!("{table} [range {k}/{n}]"),
        None => table.to_string(),
    }
}

/// Numbers the ranges of each table 1..n in key or page order. `items` are
/// (table, range) pairs, all the units of the tables concerned; the result
/// has one entry per item: `Some((k, n))` for a range, `None` for a whole
/// table.
pub fn number_ranges(items: &[(&str, Option<&CopyRange>)]) -> Vec<Option<(usize, usize)>> {
    let mut by_table: HashMap<&str, Vec<(i64, usize)>> = HashMap::new();
    for (i, (table, range)) in items.iter().enumerate() {
        if let Some(r) = range {
            by_table.entry(table).or_default().push((start_of(r), i));
        }
    }
    let mut out = vec![None; items.len()];
    for ranges in by_table.values_mut() {
        ranges.sort();
        let n = ranges.len();
        for (k, (_, i)) in ranges.iter().enumerate() {
            out[*i] = Some((k + 1, n));
        }
    }
    out
}

/// Gives every unit that is a range its `k/n` number, and every batch of
/// large objects its number in OID order.
pub fn number_units(units: &mut [Unit]) {
    let parts = {
        let names: Vec<String> = units.iter().map(Unit::table).collect();
        let items: Vec<(&str, Option<&CopyRange>)> = names
            .iter()
            .zip(units.iter())
            .map(|(n, u)| (n.as_str(), u.table_copy().and_then(|c| c.range.as_ref())))
            .collect();
        number_ranges(&items)
    };
    let mut batches: Vec<(u32, usize)> = units
        .iter()
        .enumerate()
        .filter_map(|(i, u)| match &u.work {
            Work::LargeObjects(b) => Some((b.span.lo, i)),
            Work::Table(_) => None,
        })
        .collect();
    batches.sort_unstable();
    let n = batches.len();
    for (u, p) in units.iter_mut().zip(parts) {
        u.part = p;
    }
    for (k, (_, i)) in batches.into_iter().enumerate() {
        if let Some(u) = units.get_mut(i) {
            u.part = Some((k + 1, n));
        }
    }
}

/// Where a range starts, for ordering: open starts first.
fn start_of(r: &CopyRange) -> i64 {
    match r {
        CopyRange::Key { lo, .. } => lo.unwrap_or(i64::MIN),
        CopyRange::Pages { lo, .. } => *lo,
    }
}

/// What to clear before redoing a unit that may have (partly) reached the
/// target: the whole table or its key range. `None` for a page range, whose
/// rows carry no source page number on the target: only its whole table can
/// be redone.
pub fn redo_clear(range: Option<&CopyRange>, mode: LoadMode) -> Option<Clear> {
    match (range, mode) {
        (None, LoadMode::Fresh) => Some(Clear::Truncate),
        (None, LoadMode::Existing) => Some(Clear::DeleteAll),
        (Some(CopyRange::Key { .. }), _) => Some(Clear::DeleteRange),
        (Some(CopyRange::Pages { .. }), _) => None,
    }
}

/// `schema.table` or `schema.table|<range predicate>`.
pub fn unit_id(c: &TableCopy) -> String {
    match &c.range {
        Some(r) => format!("{}|{}", c.target_qualified(), r.predicate()),
        None => c.target_qualified(),
    }
}

/// The outcome of one table's copy (or, before [`merge_ranges`], of one unit).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableResult {
    pub table: String,
    pub format: &'static str,
    /// Number of ranges the table was copied in (1 when whole).
    pub ranges: usize,
    /// Rows and bytes of every range; `seconds` is the table's wall time in
    /// this run (from the start of its first unit to the end of its last).
    #[serde(flatten)]
    pub stats: super::CopyStats,
    /// When this run started and finished copying it; `None` for units a
    /// resumed task had finished before.
    #[serde(skip)]
    pub span: Option<(Instant, Instant)>,
}

/// One result per table: the ranges of a split table added up (their count,
/// rows, bytes), its time the wall time over its ranges. Safe to apply again
/// to its own output.
pub fn merge_ranges(results: Vec<TableResult>) -> Vec<TableResult> {
    let mut out: Vec<TableResult> = Vec::new();
    for r in results {
        match out.iter_mut().find(|x| x.table == r.table) {
            Some(x) => {
                x.ranges += r.ranges;
                x.stats.rows += r.stats.rows;
                x.stats.bytes += r.stats.bytes;
                x.span = match (x.span, r.span) {
                    (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
                    (a, b) => a.or(b),
                };
                x.stats.seconds = match x.span {
                    Some((from, to)) => to.duration_since(from).as_secs_f64(),
                    None => x.stats.seconds.max(r.stats.seconds),
                };
            }
            None => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::CopyStats;
    use std::time::Duration;

    fn result(table: &str, rows: u64, from: Instant, secs: u64) -> TableResult {
        TableResult {
            table: table.into(),
            format: "binary",
            ranges: 1,
            stats: CopyStats {
                rows,
                bytes: rows * 10,
                seconds: secs as f64,
            },
            span: Some((from, from + Duration::from_secs(secs))),
        }
    }

    #[test]
    fn merged_ranges_count_each_range_and_take_the_wall_time() {
        let t0 = Instant::now();
        // Two ranges side by side (0-4 s and 1-5 s), one later (5-9 s).
        let merged = merge_ranges(vec![
            result("public.big", 100, t0, 4),
            result("public.small", 7, t0, 1),
            result("public.big", 100, t0 + Duration::from_secs(1), 4),
            result("public.big", 100, t0 + Duration::from_secs(5), 4),
        ]);
        assert_eq!(merged.len(), 2);
        let big = &merged[0];
        assert_eq!(
            (big.ranges, big.stats.rows, big.stats.bytes),
            (3, 300, 3000)
        );
        assert!(
            (big.stats.seconds - 9.0).abs() < 1e-6,
            "{}",
            big.stats.seconds
        );
        // Merging again (resume merges this run's results with earlier
        // ones) adds each result's range count, not 1 per result.
        let earlier = TableResult {
            span: None,
            ..result("public.big", 50, t0, 0)
        };
        let again = merge_ranges(vec![merged[0].clone(), earlier]);
        assert_eq!(again[0].ranges, 4);
        assert_eq!(again[0].stats.rows, 350);
        // Two merged results (this run's copies, and the ranges a resumed
        // run found done) add their counts: 3 + 2, not 3 + 1.
        let resumed = TableResult {
            ranges: 2,
            span: None,
            ..result("public.big", 20, t0, 0)
        };
        let both = merge_ranges(vec![merged[0].clone(), resumed]);
        assert_eq!((both[0].ranges, both[0].stats.rows), (5, 320));
        // And merging merged results changes nothing.
        let idem = merge_ranges(merged.clone());
        assert_eq!((idem[0].ranges, idem[0].stats.rows), (3, 300));
    }

    #[test]
    fn batches_of_large_objects_are_units_numbered_in_oid_order() {
        use crate::copy::largeobjects::OidSpan;
        let batch = |lo: u32, hi: Option<u32>, sizes: &[u64]| {
            Unit::large_objects(LoBatch {
                span: OidSpan { lo, hi },
                objects: sizes
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (lo + i as u32, *s))
                    .collect(),
                ownership: String::new(),
            })
        };
        // Scheduled largest first: the second batch before the first.
        let mut units = vec![
            batch(100, None, &[50 << 20]),
            batch(0, Some(100), &[10, 20]),
        ];
        number_units(&mut units);
        let u = &units[0];
        assert_eq!(u.label(), "large objects [batch 2/2]");
        assert_eq!(u.table(), LARGE_OBJECTS);
        // Progress and scheduling count the contents' bytes.
        assert_eq!((u.bytes(), units[1].bytes()), (50 << 20, 30));
        assert_eq!(units[1].id, "large objects|oid >= 0 AND oid < 100");
        assert_eq!(
            units[1].range_json().as_deref(),
            Some(r#"{"lo":0,"hi":100}"#)
        );
        assert!(u.table_copy().is_none() && u.clear == Clear::Nothing);
    }

    #[test]
    fn ranges_are_numbered_per_table_in_key_order() {
        let key = |lo: Option<i64>, hi: Option<i64>| CopyRange::Key {
            column: "id".into(),
            lo,
            hi,
        };
        let (a, b, c) = (
            key(Some(10), Some(20)),
            key(None, Some(10)),
            key(Some(20), None),
        );
        let p = CopyRange::Pages { lo: 0, hi: None };
        let items = [
            ("t", Some(&a)),
            ("whole", None),
            ("t", Some(&b)),
            ("t", Some(&c)),
            ("u", Some(&p)),
        ];
        assert_eq!(
            number_ranges(&items),
            [Some((2, 3)), None, Some((1, 3)), Some((3, 3)), Some((1, 1))]
        );
        assert_eq!(unit_label("public.t", Some((2, 3))), "public.t [range 2/3]");
        assert_eq!(unit_label("public.t", None), "public.t");
    }
}
