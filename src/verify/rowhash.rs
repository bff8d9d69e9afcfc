//! The SQL that hashes every row of a table on the server, so that equal data
//! gives equal numbers on any PostgreSQL from 10 to 17 and nothing is streamed
//! to pgferry row by row.
//!
//! A row is rendered as one text value, `ROW(c1, c2, ...)::text`, and hashed
//! with `md5` (stable on every version and platform, unlike `hashtext`). Record output
//! quotes every value that could be confused with a delimiter and prints NULL
//! as nothing and `''` as `""`, so the rendering is unambiguous and a NULL
//! never hashes like an empty string. The 128-bit digest is split into two
//! signed 64-bit halves, and each half is summed over the table
//! (`sum(int8)` gives an exact `numeric`): addition does not care about row
//! order, a changed, missing or extra row moves both sums, and a collision
//! needs two independent 64-bit sums to cancel out at once.
//!
//! Column values go into the row as their text output, which is the same on
//! every version once the session pins `TimeZone`, `DateStyle`,
//! `IntervalStyle` and `bytea_output` (see [`SESSION_PINS`]), except for:
//! - `float4`/`float8`: PostgreSQL 10 prints 17 digits with
//!   `extra_float_digits = 3` while 12+ prints the shortest exact form, so no
//!   text setting is both exact and version-independent. They are hashed as
//!   their binary send form (`float8send`, hex), which is exact (it tells
//!   `-0` from `0` and `0.1` from `0.1000000000000001`). NaN is first folded
//!   to the word `NaN` because PostgreSQL treats every NaN bit pattern as the
//!   same value, and a text COPY would change the pattern.
//! - arrays of floats: each element as above, in storage order (`unnest ...
//!   WITH ORDINALITY`), prefixed by `array_dims` so `{1,2}` and `[0:1]={1,2}`
//!   or a 2-D shape differ. Not `array_send`: its has-nulls flag follows the
//!   stored null bitmap, which an array may carry with no NULL in it, so
//!   equal arrays could hash differently after a migration rebuilt them.
//! - `money`: its text depends on `lc_monetary`, so it is hashed as numeric.
//! - domains are hashed as their base type.
//!
//! Floats nested in other types (composites, ranges, geometric types) go
//! through their text output with `extra_float_digits = 0`, which prints 15
//! significant digits on every version: stable, but a change past the 15th
//! digit there goes unseen.

/// Settings for every verify session, on top of `SESSION_SETUP`: they make
/// the text output of every type the same on both servers (see the module
/// documentation for why `extra_float_digits` is 0 here).
pub const SESSION_PINS: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
     SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 0";

/// How a column's value enters the row text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Its text output, which the pinned settings make version-independent.
    Text,
    Float4,
    Float8,
    Float4Array,
    Float8Array,
    Money,
}

const FLOAT4: i64 = 700;
const FLOAT8: i64 = 701;
const MONEY: i64 = 790;

impl ColumnKind {
    /// The kind of a column whose type, with domains removed, is `base_oid`;
    /// `elem_base_oid` is the de-domained element type when it is an array.
    pub fn from_oids(base_oid: i64, elem_base_oid: Option<i64>) -> ColumnKind {
        match (base_oid, elem_base_oid) {
            (FLOAT4, _) => ColumnKind::Float4,
            (FLOAT8, _) => ColumnKind::Float8,
            (MONEY, _) => ColumnKind::Money,
            (_, Some(FLOAT4)) => ColumnKind::Float4Array,
            (_, Some(FLOAT8)) => ColumnKind::Float8Array,
            _ => ColumnKind::Text,
        }
    }
}

/// The exact, NaN-folded text of one float value `v` of type `ty`
/// (`float4` or `float8`); NULL stays NULL.
fn float_expr(v: &str, ty: &str) -> String {
    format!("CASE WHEN ({v})::{ty} = 'NaN'::{ty} THEN 'NaN' ELSE pg_catalog.encode(pg_catalog.{ty}send(({v})::{ty}), 'hex') END")
}

fn float_array_expr(col: &str, ty: &str) -> String {
    let elem = float_expr("u.e", ty);
    format!(
        "CASE WHEN {col} IS NULL THEN NULL ELSE \
         COALESCE(pg_catalog.array_dims(({col})::{ty}[]), '') || \
         COALESCE((SELECT pg_catalog.array_agg({elem} ORDER BY u.o)::text \
         FROM pg_catalog.unnest(({col})::{ty}[]) WITH ORDINALITY AS u(e, o)), '{{}}') END"
    )
}

/// The expression for one column (`col` already quoted) inside `ROW(...)`.
pub fn column_expr(col: &str, kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Text => col.to_string(),
        ColumnKind::Float4 => float_expr(col, "float4"),
        ColumnKind::Float8 => float_expr(col, "float8"),
        ColumnKind::Float4Array => float_array_expr(col, "float4"),
        ColumnKind::Float8Array => float_array_expr(col, "float8"),
        ColumnKind::Money => format!("({col})::money::numeric"),
    }
}

/// The md5 (32 hex digits) of one row. `utf8` says whether the server's
/// encoding is UTF8: when it is not, the text is converted first so that
/// both ends hash the same bytes.
pub fn row_md5(columns: &[(String, ColumnKind)], utf8: bool) -> String {
    let parts: Vec<String> = columns.iter().map(|(c, k)| column_expr(c, *k)).collect();
    // ROW() of no columns is valid and renders as "()".
    let row = format!("ROW({})::text", parts.join(", "));
    if utf8 {
        format!("pg_catalog.md5({row})")
    } else {
        format!("pg_catalog.md5(pg_catalog.convert_to({row}, 'UTF8'))")
    }
}

/// The two summed 64-bit halves of the digest `h` (a `bit(128)`), as text
/// (exact numerics). The digest is parsed from hex once, as `bit(128)`, and
/// cut with bit operations: half the cost of two `substr` + `::bit(64)`.
const SUMS: &str = "COALESCE(sum(h::bit(64)::int8), 0)::text, \
     COALESCE(sum((h << 64)::bit(64)::int8), 0)::text";

/// The row digest as `bit(128)`, named `h`.
fn digest(columns: &[(String, ColumnKind)], utf8: bool) -> String {
    format!("('x' || {})::bit(128) AS h", row_md5(columns, utf8))
}

/// One row: `count(*)`, sum of first halves, sum of second halves.
pub fn table_sql(table: &str, columns: &[(String, ColumnKind)], utf8: bool) -> String {
    format!(
        "SELECT count(*)::int8, {SUMS} FROM (SELECT {} FROM ONLY {table}) AS d",
        digest(columns, utf8)
    )
}

/// One row per key range that holds rows: bucket number, count, two sums.
/// Bucket `b` holds keys `min + b*step ..= min + (b+1)*step - 1`. Keys at or
/// above `min` whose distance from it fits `int8` (all of them, unless `min`
/// is negative and keys are huge) take plain integer division; the others,
/// including keys below `min` that only the target has, take the exact
/// numeric `floor`, which is slower but cannot overflow or round toward zero.
pub fn buckets_sql(
    table: &str,
    columns: &[(String, ColumnKind)],
    utf8: bool,
    key: &str,
    min: i64,
    step: i64,
) -> String {
    let safe_hi = if min < 0 { i64::MAX + min } else { i64::MAX };
    format!(
        "SELECT b, count(*)::int8, {SUMS} FROM (SELECT \
         CASE WHEN {key} >= ({min}) AND {key} <= ({safe_hi}) \
         THEN ({key}::int8 - ({min})) / {step} \
         ELSE pg_catalog.floor(({key}::numeric - ({min})) / {step})::int8 END AS b, {} \
         FROM ONLY {table}) AS d GROUP BY b",
        digest(columns, utf8)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_base_types() {
        assert_eq!(ColumnKind::from_oids(701, None), ColumnKind::Float8);
        assert_eq!(ColumnKind::from_oids(700, None), ColumnKind::Float4);
        assert_eq!(
            ColumnKind::from_oids(1022, Some(701)),
            ColumnKind::Float8Array
        );
        assert_eq!(
            ColumnKind::from_oids(1021, Some(700)),
            ColumnKind::Float4Array
        );
        assert_eq!(ColumnKind::from_oids(790, None), ColumnKind::Money);
        assert_eq!(ColumnKind::from_oids(25, None), ColumnKind::Text);
        assert_eq!(ColumnKind::from_oids(1009, Some(25)), ColumnKind::Text);
    }

    #[test]
    fn floats_are_hashed_in_binary() {
        let e = column_expr("\"Ratio\"", ColumnKind::Float8);
        assert!(e.contains("float8send((\"Ratio\")::float8)"), "{e}");
        assert!(e.contains("'NaN'"), "{e}");
        let a = column_expr("xs", ColumnKind::Float4Array);
        assert!(a.contains("array_dims((xs)::float4[])"), "{a}");
        assert!(a.contains("float4send((u.e)::float4)"), "{a}");
    }

    #[test]
    fn table_query_names_columns_and_converts_when_not_utf8() {
        let cols = vec![
            ("id".to_string(), ColumnKind::Text),
            ("x".to_string(), ColumnKind::Float8),
        ];
        let q = table_sql("public.t", &cols, true);
        assert!(q.starts_with("SELECT count(*)::int8"), "{q}");
        assert!(q.contains("FROM ONLY public.t"), "{q}");
        assert!(q.contains("md5(ROW(id, CASE"), "{q}");
        assert!(table_sql("public.t", &cols, false).contains("convert_to(ROW("));
        assert!(table_sql("public.t", &[], true).contains("ROW()::text"));
        let b = buckets_sql("public.t", &cols, true, "id", -5, 100);
        assert!(b.contains("floor((id::numeric - (-5)) / 100)"), "{b}");
        assert!(b.ends_with("GROUP BY b"), "{b}");
    }
}
