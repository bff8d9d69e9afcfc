//! Per-key-range checksums of big tables: how the key space is cut into
//! ranges that locate a difference, how it is cut into units of work read in
//! parallel, and which ranges differ. Pure arithmetic, kept apart from the
//! sessions so it can be tested without a server.

use super::digest::Sums;
use super::rowhash::{KeyRange, PageRange};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a table's integer key is cut into ranges of `step` keys from `min`.
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    /// The key column (raw name).
    pub key: String,
    pub min: i64,
    pub max: i64,
    pub step: i64,
    pub ranges: i64,
}

/// Ranges a table is located by: enough to point at a few megabytes of a
/// big table, few enough to list. Summing per range costs pgferry one map
/// entry per range (see `digest`), nothing on the servers.
pub const MAX_RANGES: i64 = 256;

impl Split {
    /// Cuts `min..=max` into about one range per `threshold` bytes of the
    /// table's `bytes` (at least 2, at most [`MAX_RANGES`]).
    pub fn plan(key: &str, min: i64, max: i64, bytes: i64, threshold: i64) -> Split {
        let wanted =
            (bytes.max(1) as i128 + threshold.max(1) as i128 - 1) / threshold.max(1) as i128;
        let ranges = wanted.clamp(2, MAX_RANGES as i128);
        let span = max as i128 - min as i128 + 1;
        let step = ((span + ranges - 1) / ranges).max(1);
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let ranges = (span + step as i128 - 1) / step as i128;
        Split {
            key: key.to_string(),
            min,
            max,
            step,
            ranges: i64::try_from(ranges).unwrap_or(MAX_RANGES),
        }
    }

    /// The finest cut: [`MAX_RANGES`] ranges, or one per key value when
    /// there are fewer.
    pub fn locate(key: &str, min: i64, max: i64) -> Split {
        Split::plan(key, min, max, MAX_RANGES, 1)
    }

    /// The first and last key of bucket `b`, clamped to the `int8` domain.
    pub fn bounds(&self, b: i64) -> (i64, i64) {
        let lo = self.min as i128 + b as i128 * self.step as i128;
        let hi = lo + self.step as i128 - 1;
        let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        (clamp(lo), clamp(hi))
    }
}

/// Most units one table is read in.
pub const MAX_UNITS: i64 = 64;

/// Cuts `min..=max` into `parts` units of work of about equal key spans
/// (at most [`MAX_UNITS`]); the first and last are open-ended (see
/// [`KeyRange`]), so together they read every row of either end.
pub fn unit_ranges(min: i64, max: i64, parts: i64) -> Vec<KeyRange> {
    let span = max as i128 - min as i128 + 1;
    let parts = (parts.clamp(1, MAX_UNITS) as i128).min(span.max(1));
    if parts < 2 {
        return vec![KeyRange::All];
    }
    let step = (span + parts - 1) / parts;
    let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let mut out = Vec::new();
    let mut lo = min as i128;
    while lo <= max as i128 {
        let hi = lo + step - 1;
        out.push(if lo == min as i128 {
            KeyRange::UpTo(clamp(hi))
        } else if hi >= max as i128 {
            KeyRange::From(clamp(lo))
        } else {
            KeyRange::Between(clamp(lo), clamp(hi))
        });
        lo += step;
    }
    if let Some(KeyRange::UpTo(_)) = out.last() {
        return vec![KeyRange::All];
    }
    out
}

/// Cuts `pages` heap pages into `parts` ranges of about equal size; the
/// first and last are open-ended, so rows in pages added since the size was
/// read are read too.
pub fn page_ranges(pages: i64, parts: usize) -> Vec<PageRange> {
    let parts = parts.max(1) as i64;
    let pages = pages.max(0) as i128;
    let at = |i: i64| (pages * i as i128 / parts as i128) as i64;
    (0..parts)
        .map(|i| PageRange {
            from: (i > 0).then(|| at(i)),
            to: (i < parts - 1).then(|| at(i + 1)),
        })
        .collect()
}

/// One key range whose rows differ.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RangeDiff {
    /// First key of the range (inclusive).
    pub from: i64,
    /// Last key of the range (inclusive).
    pub to: i64,
    pub source_rows: i64,
    pub target_rows: i64,
}

/// Most differing ranges listed per table; the rest are only counted.
pub const MAX_LISTED_RANGES: usize = 100;

/// The key ranges whose sums differ between the two ends, in key order.
pub fn compare_buckets(
    split: &Split,
    source: &BTreeMap<i64, Sums>,
    target: &BTreeMap<i64, Sums>,
) -> Vec<RangeDiff> {
    let mut keys: Vec<i64> = source.keys().chain(target.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let none = Sums::default();
    keys.into_iter()
        .filter_map(|b| {
            let s = source.get(&b).unwrap_or(&none);
            let t = target.get(&b).unwrap_or(&none);
            (s != t).then(|| {
                let (from, to) = split.bounds(b);
                RangeDiff {
                    from,
                    to,
                    source_rows: s.rows,
                    target_rows: t.rows,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_the_key_space() {
        let s = Split::plan("id", 1, 1_000_000, 45 << 20, 1 << 20);
        assert_eq!(s.ranges, 45);
        assert_eq!(s.bounds(0).0, 1);
        assert!(s.bounds(s.ranges - 1).1 >= 1_000_000);
        assert!(s.bounds(s.ranges - 2).1 < 1_000_000);
        // A single key value makes a single range, whatever the size.
        let t = Split::plan("id", 5, 5, 10, 1);
        assert_eq!((t.ranges, t.step), (1, 1));
        let full = Split::plan("k", i64::MIN, i64::MAX, i64::MAX, 1);
        assert_eq!(full.ranges, MAX_RANGES);
        assert_eq!(full.bounds(0).0, i64::MIN);
        assert_eq!(full.bounds(MAX_RANGES - 1).1, i64::MAX);
    }

    #[test]
    fn differing_buckets_are_named() {
        let split = Split::plan("id", 1, 100, 100, 10);
        let s1 = Sums { rows: 10, sum: 5 };
        let s2 = Sums { sum: 6, ..s1 };
        let src = BTreeMap::from([(0, s1), (1, s1)]);
        let dst = BTreeMap::from([(0, s1), (1, s2), (-1, Sums { rows: 1, sum: 1 })]);
        let diffs = compare_buckets(&split, &src, &dst);
        assert_eq!(diffs.len(), 2);
        assert_eq!((diffs[0].from, diffs[0].to), (-9, 0));
        assert_eq!(
            (diffs[1].from, diffs[1].to, diffs[1].source_rows),
            (11, 20, 10)
        );
        assert_ne!(s1.fingerprint(), s2.fingerprint());
    }

    #[test]
    fn units_cover_every_key() {
        assert_eq!(unit_ranges(1, 100, 1), vec![KeyRange::All]);
        assert_eq!(unit_ranges(5, 5, 8), vec![KeyRange::All]);
        assert_eq!(
            unit_ranges(1, 100, 3),
            vec![
                KeyRange::UpTo(34),
                KeyRange::Between(35, 68),
                KeyRange::From(69)
            ]
        );
        assert_eq!(
            unit_ranges(1, 2, 5),
            vec![KeyRange::UpTo(1), KeyRange::From(2)]
        );
        let full = unit_ranges(i64::MIN, i64::MAX, 1000);
        assert_eq!(full.len() as i64, MAX_UNITS);
        assert!(matches!(full[0], KeyRange::UpTo(_)));
        assert!(matches!(full[full.len() - 1], KeyRange::From(_)));
        let p = page_ranges(10, 3);
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].from, p[0].to), (None, Some(3)));
        assert_eq!((p[1].from, p[1].to), (Some(3), Some(6)));
        assert_eq!((p[2].from, p[2].to), (Some(6), None));
        assert_eq!(page_ranges(0, 2).len(), 2);
        let one = page_ranges(5, 1);
        assert_eq!((one[0].from, one[0].to), (None, None));
        let l = Split::locate("id", 1, 1_000_000);
        assert_eq!(l.ranges, MAX_RANGES);
    }
}
