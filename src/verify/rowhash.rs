//! The SQL side of a checksum: the `COPY ... TO STDOUT` that streams a
//! table (or one key range of it) in a form that is byte for byte the same
//! for equal values on any PostgreSQL from 10 to 18, whatever the session
//! settings. pgferry hashes what it reads (see `digest`); the servers only
//! scan and print, which is the cheapest work they can do per row.
//!
//! Rows travel as text COPY lines: one line per row, columns separated by a
//! tab, NULL printed as `\N` and an empty string as nothing, every tab,
//! newline and backslash inside a value escaped. So a line is an unambiguous
//! rendering of the row, and a NULL never looks like `''`. Text, not binary
//! COPY: binary arrays and composites carry the type OIDs of their elements,
//! which differ between two servers for any user-defined type.
//!
//! Column values go into the line as their text output, which is the same on
//! every version once the session pins `TimeZone`, `DateStyle`,
//! `IntervalStyle`, `bytea_output` and friends (see [`SESSION_PINS`]; the
//! client encoding is UTF8 on every pgferry session, so both ends send the
//! same bytes whatever the server encoding), except for:
//! - `float4`/`float8`: PostgreSQL 10 prints 17 digits with
//!   `extra_float_digits = 3` while 12+ prints the shortest exact form, so no
//!   text setting is both exact and version-independent. They are sent as
//!   their binary send form (`float8send`, hex), which is exact (it tells
//!   `-0` from `0` and `0.1` from `0.1000000000000001`). NaN is first folded
//!   to the word `NaN` because PostgreSQL treats every NaN bit pattern as the
//!   same value, and a text COPY would change the pattern.
//! - arrays of floats: each element as above, in storage order (`unnest ...
//!   WITH ORDINALITY`), prefixed by `array_dims` so `{1,2}` and `[0:1]={1,2}`
//!   or a 2-D shape differ. Not `array_send`: its has-nulls flag follows the
//!   stored null bitmap, which an array may carry with no NULL in it, so
//!   equal arrays could hash differently after a migration rebuilt them.
//! - `money`: its text depends on `lc_monetary`, so it is sent as numeric.
//! - domains are treated as their base type.
//!
//! Floats nested in other types (composites, ranges, geometric types) go
//! through their text output with `extra_float_digits = 0`, which prints 15
//! significant digits on every version: stable, but a change past the 15th
//! digit there goes unseen.
//!
//! Always `COPY (SELECT ... FROM ONLY t ...) TO`, never `COPY t (cols) TO`:
//! the latter refuses generated columns, and measured no cheaper (pgbench
//! accounts, 3M rows: the same server CPU within noise).

use crate::pg::quote_ident;
use crate::pg::Oid;

/// Settings for every verify session, on top of `SESSION_SETUP`: they make
/// the text output of every type the same on both servers (see the module
/// documentation for why `extra_float_digits` is 0 here), and keep each
/// COPY one plain scan: no parallel workers (pgferry runs `--jobs` units at
/// once already), and key ranges read through the key's index rather than a
/// whole-table scan per range (a whole-table COPY has no other plan, so it
/// is unaffected).
pub const SESSION_PINS: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
     SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 0; \
     SET quote_all_identifiers = off; SET max_parallel_workers_per_gather = 0; \
     SET enable_seqscan = off";

/// On PostgreSQL 11+: no JIT compilation, which costs a fraction of a second
/// per query and buys nothing for a projection this simple.
pub const SESSION_PINS_11: &str = "SET jit = off";

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

const FLOAT4: Oid = Oid::new(700);
const FLOAT8: Oid = Oid::new(701);
const MONEY: Oid = Oid::new(790);

impl ColumnKind {
    /// The kind of a column whose type, with domains removed, is `base_oid`;
    /// `elem_base_oid` is the de-domained element type when it is an array.
    pub fn from_oids(base_oid: Oid, elem_base_oid: Option<Oid>) -> ColumnKind {
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
    format!("CASE WHEN ({v})::pg_catalog.{ty} = 'NaN'::pg_catalog.{ty} THEN 'NaN' ELSE pg_catalog.encode(pg_catalog.{ty}send(({v})::pg_catalog.{ty}), 'hex') END")
}

fn float_array_expr(col: &str, ty: &str) -> String {
    let elem = float_expr("u.e", ty);
    format!(
        "CASE WHEN {col} IS NULL THEN NULL ELSE \
         COALESCE(pg_catalog.array_dims(({col})::pg_catalog.{ty}[]), '') || \
         COALESCE((SELECT pg_catalog.array_agg({elem} ORDER BY u.o)::text \
         FROM pg_catalog.unnest(({col})::pg_catalog.{ty}[]) WITH ORDINALITY AS u(e, o)), '{{}}') END"
    )
}

/// The expression for one column (`col` already quoted) in the select list.
pub fn column_expr(col: &str, kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Text => col.to_string(),
        ColumnKind::Float4 => float_expr(col, "float4"),
        ColumnKind::Float8 => float_expr(col, "float8"),
        ColumnKind::Float4Array => float_array_expr(col, "float4"),
        ColumnKind::Float8Array => float_array_expr(col, "float8"),
        ColumnKind::Money => format!("({col})::pg_catalog.money::pg_catalog.numeric"),
    }
}

/// Which rows of a table one unit reads, by its integer key. The first and
/// last ranges are open-ended, so keys that only the target has, below the
/// source's smallest or above its largest, are read too; the last one also
/// takes NULL keys (possible only on a target that lost its primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRange {
    All,
    UpTo(i64),
    Between(i64, i64),
    From(i64),
}

impl KeyRange {
    /// The `WHERE` condition on `key` (quoted), or `None` for every row.
    pub fn condition(&self, key: &str) -> Option<String> {
        match *self {
            KeyRange::All => None,
            KeyRange::UpTo(hi) => Some(format!("{key} <= ({hi})")),
            KeyRange::Between(lo, hi) => Some(format!("{key} >= ({lo}) AND {key} <= ({hi})")),
            KeyRange::From(lo) => Some(format!("({key} >= ({lo}) OR {key} IS NULL)")),
        }
    }
}

/// Heap pages `from..to` (block numbers; open-ended when `None`), read with
/// a TID range scan on PostgreSQL 14+: a slice of a plain sequential scan,
/// where a key range costs an index scan (about a third more server CPU).
/// The two servers store rows in different pages, so page ranges of the
/// two ends hold different rows; only their sums over the whole table are
/// compared (the key ranges that locate a difference come from the key
/// values, not from the pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The rows of a table one end reads for one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    Keys(KeyRange),
    Pages(PageRange),
}

impl Part {
    /// The `WHERE` condition, `key` quoted; `None` for every row.
    pub fn condition(&self, key: Option<&str>) -> Option<String> {
        let tid = |b: i64| format!("'({b},0)'::pg_catalog.tid");
        match self {
            Part::All => None,
            Part::Keys(r) => key.and_then(|k| r.condition(k)),
            Part::Pages(p) => match (p.from, p.to) {
                (None, None) => None,
                (Some(f), None) => Some(format!("ctid >= {}", tid(f))),
                (None, Some(t)) => Some(format!("ctid < {}", tid(t))),
                (Some(f), Some(t)) => Some(format!("ctid >= {} AND ctid < {}", tid(f), tid(t))),
            },
        }
    }
}

/// The `COPY ... TO STDOUT` of one unit on one end: `columns` (quoted names
/// with their kinds) in the order given, the rows of `part` (by `key`,
/// quoted, for a key range).
pub fn copy_sql(
    table: &str,
    columns: &[(String, ColumnKind)],
    key: Option<&str>,
    part: Part,
) -> String {
    let cond = part.condition(key);
    let exprs: Vec<String> = columns.iter().map(|(c, k)| column_expr(c, *k)).collect();
    // A select list of no columns is valid (10+) and prints an empty line a row.
    let filter = cond.map(|c| format!(" WHERE {c}")).unwrap_or_default();
    format!(
        "COPY (SELECT {} FROM ONLY {table}{filter}) TO STDOUT",
        exprs.join(", ")
    )
}

/// Puts the key column (raw name `key`) first, so pgferry finds its value at
/// the start of each line; the order is the same on both ends, so the row
/// hashes still match.
pub fn key_first(columns: &mut [(String, ColumnKind)], key: &str) {
    let quoted = quote_ident(key);
    if let Some(i) = columns.iter().position(|(c, _)| *c == quoted) {
        columns[..=i].rotate_right(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_base_types() {
        assert_eq!(
            ColumnKind::from_oids(Oid::new(701), None),
            ColumnKind::Float8
        );
        assert_eq!(
            ColumnKind::from_oids(Oid::new(700), None),
            ColumnKind::Float4
        );
        assert_eq!(
            ColumnKind::from_oids(Oid::new(1022), Some(Oid::new(701))),
            ColumnKind::Float8Array
        );
        assert_eq!(
            ColumnKind::from_oids(Oid::new(1021), Some(Oid::new(700))),
            ColumnKind::Float4Array
        );
        assert_eq!(
            ColumnKind::from_oids(Oid::new(790), None),
            ColumnKind::Money
        );
        assert_eq!(ColumnKind::from_oids(Oid::new(25), None), ColumnKind::Text);
        assert_eq!(
            ColumnKind::from_oids(Oid::new(1009), Some(Oid::new(25))),
            ColumnKind::Text
        );
    }

    #[test]
    fn floats_are_sent_in_binary() {
        let e = column_expr("\"Ratio\"", ColumnKind::Float8);
        assert!(
            e.contains("float8send((\"Ratio\")::pg_catalog.float8)"),
            "{e}"
        );
        assert!(e.contains("'NaN'"), "{e}");
        let a = column_expr("xs", ColumnKind::Float4Array);
        assert!(a.contains("array_dims((xs)::pg_catalog.float4[])"), "{a}");
        assert!(a.contains("float4send((u.e)::pg_catalog.float4)"), "{a}");
    }

    #[test]
    fn copy_statements() {
        let text = vec![
            ("id".to_string(), ColumnKind::Text),
            ("\"T\"".to_string(), ColumnKind::Text),
        ];
        let keys = |r| Part::Keys(r);
        assert_eq!(
            copy_sql("public.t", &text, None, Part::All),
            "COPY (SELECT id, \"T\" FROM ONLY public.t) TO STDOUT"
        );
        let q = copy_sql(
            "public.t",
            &text,
            Some("id"),
            keys(KeyRange::Between(-5, 9)),
        );
        assert_eq!(
            q,
            "COPY (SELECT id, \"T\" FROM ONLY public.t WHERE id >= (-5) AND id <= (9)) TO STDOUT"
        );
        let q = copy_sql("public.t", &text, Some("id"), keys(KeyRange::From(10)));
        assert!(
            q.ends_with("WHERE (id >= (10) OR id IS NULL)) TO STDOUT"),
            "{q}"
        );
        let pages = |from, to| Part::Pages(PageRange { from, to });
        let q = copy_sql("public.t", &text, None, pages(Some(8), Some(16)));
        let want = "WHERE ctid >= '(8,0)'::pg_catalog.tid AND ctid < '(16,0)'::pg_catalog.tid)";
        assert!(q.ends_with(&format!("{want} TO STDOUT")), "{q}");
        let q = copy_sql("public.t", &text, None, pages(None, Some(8)));
        assert!(q.contains("WHERE ctid < '(8,0)'"), "{q}");
        let q = copy_sql("public.t", &text, None, pages(Some(8), None));
        assert!(q.contains("WHERE ctid >= '(8,0)'"), "{q}");
        let mixed = vec![
            ("id".to_string(), ColumnKind::Text),
            ("x".to_string(), ColumnKind::Float8),
        ];
        let q = copy_sql("public.t", &mixed, None, Part::All);
        assert!(q.starts_with("COPY (SELECT id, CASE"), "{q}");
        assert!(q.ends_with("FROM ONLY public.t) TO STDOUT"), "{q}");
        assert_eq!(
            copy_sql("public.t", &[], None, Part::All),
            "COPY (SELECT  FROM ONLY public.t) TO STDOUT"
        );
    }

    #[test]
    fn key_goes_first() {
        let mut cols = vec![
            ("a".to_string(), ColumnKind::Text),
            ("b".to_string(), ColumnKind::Float8),
            ("\"Id\"".to_string(), ColumnKind::Text),
            ("c".to_string(), ColumnKind::Text),
        ];
        key_first(&mut cols, "Id");
        let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names, ["\"Id\"", "a", "b", "c"]);
        assert_eq!(cols[2].1, ColumnKind::Float8);
    }
}
