//! The pgferry side of a checksum: every COPY line is hashed to 128 bits
//! with xxh3 and the hashes are summed.
//!
//! - xxh3-128 (crate `xxhash-rust`, already in the tree for fingerprints):
//!   a non-cryptographic hash that runs at memory speed, several times
//!   faster than blake3 on short inputs like a row; nobody here is an
//!   adversary crafting collisions, so a cryptographic hash would buy
//!   nothing but CPU time.
//! - Row hashes are combined by wrapping 128-bit addition: the sum does not
//!   depend on row order (the two servers store rows in different places),
//!   and unlike XOR a duplicated row does not cancel itself out. A missing,
//!   extra or changed row goes unseen only if the hashes of the differing
//!   rows sum to zero modulo 2^128. Row counts are kept exactly beside.
//! - The server sends one COPY data message per row (the protocol promises
//!   it, and text COPY escapes newlines inside values), so a message is a
//!   row: it is hashed without its final newline.
//!
//! Rows of a table compared per key range are also summed per range: the
//! key is the first column of the line, parsed here, so a range costs
//! nothing on the servers and the cut can be finer than the units of work.

use super::ranges::Split;
use serde::Serialize;
use std::collections::BTreeMap;
use xxhash_rust::xxh3::xxh3_128;

/// The row count and the sum of row hashes of a set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sums {
    pub rows: i64,
    #[serde(skip)]
    pub sum: u128,
}

impl Sums {
    /// Adds one row by its hash.
    fn push(&mut self, h: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(h);
    }

    /// Adds another set of rows (units and ranges of a table add up to it).
    pub fn add(&mut self, o: &Sums) {
        self.rows += o.rows;
        self.sum = self.sum.wrapping_add(o.sum);
    }

    /// The checksum people read: row count and sum folded into 16 hex
    /// digits, short enough for a table column. Equality is decided on the
    /// full count and sum, never on this.
    pub fn fingerprint(&self) -> String {
        let mut bytes = [0u8; 24];
        bytes[..8].copy_from_slice(&self.rows.to_le_bytes());
        bytes[8..].copy_from_slice(&self.sum.to_le_bytes());
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
    }
}

/// How rows are assigned to key ranges: `(key - min) / step`, rounded down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub min: i64,
    pub step: i64,
}

impl From<&Split> for Cut {
    fn from(s: &Split) -> Cut {
        Cut {
            min: s.min,
            step: s.step.max(1),
        }
    }
}

impl Cut {
    /// The range number of `key` (any `int8`, also outside the source's
    /// min..max: those are the target's extra rows).
    pub fn bucket(&self, key: i64) -> i64 {
        let b = (key as i128 - self.min as i128).div_euclid(self.step as i128);
        i64::try_from(b).unwrap_or(if b < 0 { i64::MIN } else { i64::MAX })
    }
}

/// One end's rows of one unit (or, merged, of a table).
#[derive(Debug, Clone, Default)]
pub struct Digest {
    cut: Option<Cut>,
    pub total: Sums,
    /// Per key range, when the table is compared by range.
    pub ranges: BTreeMap<i64, Sums>,
    /// Rows whose key is NULL or not an integer (a broken target).
    pub keyless: Sums,
    /// The range being filled: rows mostly come in key order, so most rows
    /// skip the map.
    current: Option<(i64, Sums)>,
}

impl Digest {
    pub fn new(cut: Option<Cut>) -> Digest {
        Digest {
            cut,
            ..Digest::default()
        }
    }

    /// Adds one COPY data message (one row).
    pub fn row(&mut self, msg: &[u8]) {
        let line = msg.strip_suffix(b"\n").unwrap_or(msg);
        let h = xxh3_128(line);
        self.total.push(h);
        let Some(cut) = self.cut else { return };
        let field = line.split(|b| *b == b'\t').next().unwrap_or(line);
        let Some(key) = parse_key(field) else {
            self.keyless.push(h);
            return;
        };
        let b = cut.bucket(key);
        match &mut self.current {
            Some((cb, sums)) if *cb == b => sums.push(h),
            cur => {
                if let Some((cb, sums)) = cur.take() {
                    self.ranges.entry(cb).or_default().add(&sums);
                }
                let mut sums = Sums::default();
                sums.push(h);
                *cur = Some((b, sums));
            }
        }
    }

    /// Settles the range being filled into the map.
    pub fn finish(&mut self) {
        if let Some((b, sums)) = self.current.take() {
            self.ranges.entry(b).or_default().add(&sums);
        }
    }

    /// Adds another digest of the same table (another unit).
    pub fn merge(&mut self, mut o: Digest) {
        o.finish();
        self.finish();
        self.total.add(&o.total);
        self.keyless.add(&o.keyless);
        for (b, s) in o.ranges {
            self.ranges.entry(b).or_default().add(&s);
        }
    }
}

/// The integer text of an `int2`/`int4`/`int8` column as COPY prints it.
fn parse_key(field: &[u8]) -> Option<i64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(cut: Option<Cut>, lines: &[&str]) -> Digest {
        let mut d = Digest::new(cut);
        for l in lines {
            d.row(l.as_bytes());
        }
        d.finish();
        d
    }

    #[test]
    fn order_independent_and_duplicates_count() {
        let a = digest(None, &["1\tx\n", "2\t\\N\n", "3\t\n"]);
        let b = digest(None, &["3\t\n", "1\tx\n", "2\t\\N\n"]);
        assert_eq!(a.total, b.total);
        // NULL (\N) and '' differ.
        let c = digest(None, &["1\tx\n", "2\t\n", "3\t\n"]);
        assert_ne!(a.total.sum, c.total.sum);
        // A duplicated row does not cancel out (it would with XOR).
        let d = digest(None, &["1\tx\n", "1\tx\n", "1\tx\n"]);
        let e = digest(None, &["1\tx\n"]);
        assert_ne!(d.total.sum, e.total.sum);
        assert_eq!(d.total.rows, 3);
        assert_ne!(a.total.fingerprint(), c.total.fingerprint());
    }

    #[test]
    fn rows_land_in_their_key_range() {
        let cut = Cut { min: 1, step: 10 };
        assert_eq!(cut.bucket(1), 0);
        assert_eq!(cut.bucket(10), 0);
        assert_eq!(cut.bucket(11), 1);
        assert_eq!(cut.bucket(0), -1);
        assert_eq!(cut.bucket(-9), -1);
        assert_eq!(cut.bucket(-10), -2);
        let far = Cut {
            min: i64::MAX,
            step: 1,
        };
        assert_eq!(far.bucket(i64::MIN), i64::MIN);
        let mut d = digest(Some(cut), &["1\ta\n", "12\tb\n", "2\tc\n", "\\N\td\n", "5"]);
        assert_eq!(d.ranges.len(), 2);
        assert_eq!(d.ranges[&0].rows, 3);
        assert_eq!(d.ranges[&1].rows, 1);
        assert_eq!(d.keyless.rows, 1);
        assert_eq!(d.total.rows, 5);
        // Units of one table merge into the same ranges.
        let other = digest(Some(cut), &["15\tx\n", "-3\ty\n"]);
        d.merge(other);
        assert_eq!(d.ranges[&1].rows, 2);
        assert_eq!(d.ranges[&-1].rows, 1);
        let sum: i64 = d.ranges.values().map(|s| s.rows).sum();
        assert_eq!(sum + d.keyless.rows, d.total.rows);
    }
}
