//! `Oid`: the identity of a catalog object, as its own type.
//!
//! The catalog, the plan and its steps are keyed by oids. As bare `i64`s they
//! mixed with row counts, sizes and versions, and 0 stood for "no object"; as
//! a type the compiler keeps them apart, and "no object" is `Option<Oid>`.
//!
//! PostgreSQL oids are unsigned 32-bit. The SQL files read them as `::int8`
//! (so psql shows plain numbers and arrays of them bind as `int8[]`); the
//! `FromSql`/`ToSql` impls accept both `int8` and `oid`, and check the range,
//! so no query text had to change.

use bytes::BytesMut;
use postgres_types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use std::error::Error;
use std::fmt;

/// The oid of a catalog object (a table, type, function...).
///
/// Serialized as the plain number, as the `i64` it replaced was, so JSON
/// written by earlier builds reads back unchanged.
#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Oid(u32);

impl Oid {
    /// The oid numbered `n`.
    pub const fn new(n: u32) -> Oid {
        Oid(n)
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `None` for 0, which catalogs use for "no object" (`conindid`,
    /// `typrelid`, `inhparent` of a table with none...).
    pub fn nonzero(self) -> Option<Oid> {
        (self.0 != 0).then_some(self)
    }

    /// The oid in a catalog column read as a number (`::int8`); `None` when
    /// it is outside the oid range.
    pub fn from_i64(n: i64) -> Option<Oid> {
        u32::try_from(n).ok().map(Oid)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u32> for Oid {
    fn from(n: u32) -> Oid {
        Oid(n)
    }
}

impl From<Oid> for i64 {
    fn from(o: Oid) -> i64 {
        i64::from(o.0)
    }
}

impl<'a> FromSql<'a> for Oid {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Oid, Box<dyn Error + Sync + Send>> {
        if *ty == Type::OID {
            return Ok(Oid(u32::from_sql(ty, raw)?));
        }
        let n = i64::from_sql(ty, raw)?;
        Oid::from_i64(n).ok_or_else(|| format!("{n} is not an oid (out of range)").into())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::OID || *ty == Type::INT8
    }
}

impl ToSql for Oid {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        if *ty == Type::OID {
            self.0.to_sql(ty, out)
        } else {
            i64::from(self.0).to_sql(ty, out)
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::OID || *ty == Type::INT8
    }

    to_sql_checked!();
}

/// Serde for `Option<Oid>` fields of persisted or printed documents whose
/// earlier form was an `i64` with 0 for none: `None` is written as 0 and 0 is
/// read as `None`, so the JSON stays the same in both directions.
pub mod zero_is_none {
    use super::Oid;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(oid: &Option<Oid>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(oid.map_or(0, Oid::get))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Oid>, D::Error> {
        Ok(Oid::deserialize(d)?.nonzero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_the_number() {
        assert_eq!(Oid::new(16384).to_string(), "16384");
        assert_eq!(format!("t{}", Oid::new(4294967295)), "t4294967295");
    }

    #[test]
    fn zero_is_no_object() {
        assert_eq!(Oid::new(0).nonzero(), None);
        assert_eq!(Oid::new(7).nonzero(), Some(Oid::new(7)));
        assert_eq!(Oid::from_i64(-1), None);
        assert_eq!(Oid::from_i64(1 << 32), None);
        assert_eq!(Oid::from_i64(4294967295), Some(Oid::new(u32::MAX)));
    }

    #[test]
    fn serde_is_the_plain_number() {
        assert_eq!(serde_json::to_string(&Oid::new(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<Oid>("42").unwrap(), Oid::new(42));

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            #[serde(with = "zero_is_none")]
            oid: Option<Oid>,
        }
        // What builds with `oid: i64` (0 for none) wrote, and read back.
        assert_eq!(
            serde_json::to_string(&Doc { oid: None }).unwrap(),
            r#"{"oid":0}"#
        );
        assert_eq!(
            serde_json::to_string(&Doc {
                oid: Some(Oid::new(9))
            })
            .unwrap(),
            r#"{"oid":9}"#
        );
        assert_eq!(
            serde_json::from_str::<Doc>(r#"{"oid":0}"#).unwrap(),
            Doc { oid: None }
        );
        assert_eq!(
            serde_json::from_str::<Doc>(r#"{"oid":9}"#).unwrap(),
            Doc {
                oid: Some(Oid::new(9))
            }
        );
    }

    #[test]
    fn binary_wire_round_trip() {
        let mut buf = BytesMut::new();
        Oid::new(70000).to_sql(&Type::INT8, &mut buf).unwrap();
        assert_eq!(buf.len(), 8);
        assert_eq!(Oid::from_sql(&Type::INT8, &buf).unwrap(), Oid::new(70000));
        let mut buf = BytesMut::new();
        Oid::new(70000).to_sql(&Type::OID, &mut buf).unwrap();
        assert_eq!(buf.len(), 4);
        assert_eq!(Oid::from_sql(&Type::OID, &buf).unwrap(), Oid::new(70000));
        let mut buf = BytesMut::new();
        (-5i64).to_sql(&Type::INT8, &mut buf).unwrap();
        assert!(Oid::from_sql(&Type::INT8, &buf).is_err());
        assert!(!<Oid as FromSql>::accepts(&Type::INT4));
    }
}
