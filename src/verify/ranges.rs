//! Per-key-range checksums of big tables: how the key space is cut, and
//! which ranges differ. Pure arithmetic, kept apart from the sessions so it
//! can be tested without a server.

use serde::Serialize;
use std::collections::BTreeMap;

/// The count and the two hash sums of a set of rows (see `rowhash`). Sums
/// fit an `i128` for any real table: each term is below 2^63, so 2^64 rows
/// would still be far from the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub rows: i64,
    pub a: i128,
    pub b: i128,
}

impl Sums {
    /// Adds another set of rows (ranges of one table add up to the table).
    pub fn add(&mut self, o: &Sums) {
        self.rows += o.rows;
        self.a += o.a;
        self.b += o.b;
    }

    /// A short fingerprint for people to compare by eye; equality is decided
    /// on the full sums, never on this.
    pub fn fingerprint(&self) -> String {
        let text = format!("{}:{}:{}", self.rows, self.a, self.b);
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    /// Parses `count, sum_a, sum_b` as the server returns them (sums as text,
    /// since they are numerics).
    pub fn parse(rows: i64, a: &str, b: &str) -> anyhow::Result<Sums> {
        let num = |s: &str| {
            s.parse::<i128>()
                .map_err(|e| anyhow::anyhow!("unexpected checksum sum {s:?} from the server: {e}"))
        };
        Ok(Sums {
            rows,
            a: num(a)?,
            b: num(b)?,
        })
    }
}

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

/// At most this many ranges per table: enough to point at a few megabytes
/// of a big table, few enough for one `GROUP BY` to stay cheap.
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

    /// The first and last key of bucket `b`, clamped to the `int8` domain.
    pub fn bounds(&self, b: i64) -> (i64, i64) {
        let lo = self.min as i128 + b as i128 * self.step as i128;
        let hi = lo + self.step as i128 - 1;
        let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        (clamp(lo), clamp(hi))
    }
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

/// Compares per-bucket sums of both ends: the table totals of each, and the
/// ranges that differ (in key order).
pub fn compare_buckets(
    split: &Split,
    source: &BTreeMap<i64, Sums>,
    target: &BTreeMap<i64, Sums>,
) -> (Sums, Sums, Vec<RangeDiff>) {
    let total = |m: &BTreeMap<i64, Sums>| {
        let mut t = Sums::default();
        m.values().for_each(|s| t.add(s));
        t
    };
    let mut keys: Vec<i64> = source.keys().chain(target.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let none = Sums::default();
    let diffs = keys
        .into_iter()
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
        .collect();
    (total(source), total(target), diffs)
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
        let s1 = Sums {
            rows: 10,
            a: 5,
            b: -7,
        };
        let s2 = Sums { a: 6, ..s1 };
        let src = BTreeMap::from([(0, s1), (1, s1)]);
        let dst = BTreeMap::from([
            (0, s1),
            (1, s2),
            (
                -1,
                Sums {
                    rows: 1,
                    a: 1,
                    b: 1,
                },
            ),
        ]);
        let (a, b, diffs) = compare_buckets(&split, &src, &dst);
        assert_eq!(a.rows, 20);
        assert_eq!(b.rows, 21);
        assert_eq!(diffs.len(), 2);
        assert_eq!((diffs[0].from, diffs[0].to), (-9, 0));
        assert_eq!(
            (diffs[1].from, diffs[1].to, diffs[1].source_rows),
            (11, 20, 10)
        );
        assert_ne!(s1.fingerprint(), s2.fingerprint());
        assert_eq!(
            Sums::parse(3, "-12", "99").ok(),
            Some(Sums {
                rows: 3,
                a: -12,
                b: 99
            })
        );
        assert!(Sums::parse(3, "1.5", "0").is_err());
    }
}
