//! WAL positions (`pg_lsn`) and protocol timestamps as newtypes, so neither
//! can be mixed up with other integers, and LSNs print the way PostgreSQL
//! prints them (`16/B374D848`).

use std::fmt;
use std::str::FromStr;

/// A position in the write-ahead log. Ordered like the server orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// `0/0`: "no position"; in `START_REPLICATION` it means "from the
    /// slot's confirmed position".
    pub const ZERO: Lsn = Lsn(0);

    /// The raw 64-bit value.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// Why a text could not be read as an LSN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid LSN \"{0}\" (expected two hexadecimal numbers like 16/B374D848)")]
pub struct LsnParseError(pub String);

impl FromStr for Lsn {
    type Err = LsnParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LsnParseError(s.to_string());
        let (hi, lo) = s.split_once('/').ok_or_else(bad)?;
        let ok =
            |p: &str| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok(hi) || !ok(lo) {
            return Err(bad());
        }
        let hi = u32::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Lsn((u64::from(hi) << 32) | u64::from(lo)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl From<u64> for Lsn {
    fn from(v: u64) -> Self {
        Lsn(v)
    }
}

/// A protocol timestamp: microseconds since 2000-01-01 00:00:00 UTC (the
/// PostgreSQL epoch), as in XLogData, keepalives and Begin/Commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgTimestamp(pub i64);

/// Seconds from the Unix epoch to the PostgreSQL epoch.
const PG_EPOCH_UNIX_SECS: u64 = 946_684_800;

impl PgTimestamp {
    /// The current time.
    pub fn now() -> PgTimestamp {
        let since_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let micros = i128::try_from(since_unix.as_micros()).unwrap_or(i128::MAX)
            - i128::from(PG_EPOCH_UNIX_SECS) * 1_000_000;
        PgTimestamp(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    /// As a `SystemTime` (`None` if out of its range).
    pub fn to_system_time(self) -> Option<std::time::SystemTime> {
        let pg_epoch = std::time::UNIX_EPOCH + std::time::Duration::from_secs(PG_EPOCH_UNIX_SECS);
        let d = std::time::Duration::from_micros(self.0.unsigned_abs());
        if self.0 >= 0 {
            pg_epoch.checked_add(d)
        } else {
            pg_epoch.checked_sub(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for (text, value) in [
            ("0/0", 0u64),
            ("16/B374D848", 0x16_B374_D848),
            ("FFFFFFFF/FFFFFFFF", u64::MAX),
            ("0/1", 1),
        ] {
            let l: Lsn = text.parse().unwrap();
            assert_eq!(l.as_u64(), value);
            assert_eq!(l.to_string(), text);
        }
        // Lower case and leading zeros are accepted, printed canonically.
        assert_eq!("0a/000000ff".parse::<Lsn>().unwrap().to_string(), "A/FF");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "/",
            "0/",
            "/0",
            "1",
            "x/1",
            "1/2/3",
            "123456789/0",
            "-1/0",
            "+1/0",
            " 1/0",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn timestamps_use_the_postgres_epoch() {
        let t = PgTimestamp(0).to_system_time().unwrap();
        let unix = t.duration_since(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(unix.as_secs(), 946_684_800);
        // now() is after 2020-01-01 (631152000 s after the PG epoch).
        assert!(PgTimestamp::now().0 > 631_152_000_000_000);
    }

    #[test]
    fn ordering_is_numeric() {
        assert!("1/0".parse::<Lsn>().unwrap() > "0/FFFFFFFF".parse::<Lsn>().unwrap());
    }
}
