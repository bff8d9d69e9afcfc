//! Tables: columns in their exact physical order, defaults, NOT NULL, identity,
//! generated columns, collations, inline CHECK constraints, inheritance and
//! partitioning.

use super::identity_clause;
use crate::catalog::{Catalog, Column, Table};
use crate::pg::{qualified, quote_ident};

/// Renders one column definition.
fn column_def(t: &Table, c: &Column, cat: &Catalog) -> String {
    let mut d = format!("{} {}", quote_ident(&c.name), c.type_sql);
    if !c.compression.is_empty() {
        d.push_str(&format!(" COMPRESSION {}", c.compression));
    }
    if let Some(coll) = &c.collation {
        d.push_str(&format!(" COLLATE {coll}"));
    }
    if c.is_generated() {
        if let Some(expr) = c.default_sql.as_ref().filter(|_| !c.inherit_generation) {
            let kind = if c.generated == "v" {
                "VIRTUAL"
            } else {
                "STORED"
            };
            d.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {kind}"));
        }
    } else if let Some(def) = &c.default_sql {
        d.push_str(&format!(" DEFAULT {def}"));
    }
    // A partition's identity is its parent's (17+ refuse one of its own).
    if !c.identity.is_empty() && !parent_identity(t, c, cat) {
        let kind = if c.identity == "a" {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        };
        d.push_str(&format!(" GENERATED {kind} AS IDENTITY"));
        let seq = cat.sequences.iter().find(|s| {
            s.is_identity
                && s.owned_by
                    .as_ref()
                    .is_some_and(|(o, n)| *o == t.oid && *n == c.name)
        });
        if let Some(s) = seq {
            d.push(' ');
            d.push_str(&identity_clause(s));
        }
    }
    if c.not_null {
        d.push_str(&not_null_clause(
            &t.name,
            &c.name,
            c.not_null_name.as_deref(),
        ));
        if c.not_null_no_inherit {
            d.push_str(" NO INHERIT");
        }
    }
    d
}

/// Whether `c` is a partition's column whose parent column is an identity.
fn parent_identity(t: &Table, c: &Column, cat: &Catalog) -> bool {
    t.is_partition
        && t.parent_oids
            .first()
            .and_then(|p| cat.table(*p))
            .is_some_and(|p| {
                p.columns
                    .iter()
                    .any(|pc| pc.name == c.name && !pc.identity.is_empty())
            })
}

/// ` NOT NULL`, named as on the source when its name is not the one the
/// server would choose: 18 names NOT NULL constraints, and a partition's or
/// a child's carries its parent's name (`CONSTRAINT events_id_not_null`).
/// Servers before 18 accept the name and ignore it.
pub fn not_null_clause(table: &str, column: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != default_not_null_name(table, column) => {
            format!(" CONSTRAINT {} NOT NULL", quote_ident(n))
        }
        _ => " NOT NULL".to_string(),
    }
}

/// The name 18 gives a column's NOT NULL constraint: `table_column_not_null`,
/// the longer of the two names cut until it fits in 63 bytes (makeObjectName).
pub(crate) fn default_not_null_name(table: &str, column: &str) -> String {
    const LABEL: &str = "not_null";
    let avail = crate::pg::names::MAX_NAME_BYTES - LABEL.len() - 2;
    let (mut t, mut c) = (table, column);
    while t.len() + c.len() > avail {
        let cut = |s: &str| {
            let mut end = s.len() - 1;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_string()
        };
        if t.len() > c.len() {
            t = &table[..cut(t).len()];
        } else {
            c = &column[..cut(c).len()];
        }
    }
    format!("{t}_{c}_{LABEL}")
}

/// Whether a column is written in this table's `CREATE TABLE`. Partitions are
/// created on their own (then attached) with every column, which keeps their
/// exact column order; inheritance children list their local columns and get
/// the inherited ones from `INHERITS`, as pg_dump does.
fn listed(t: &Table, c: &Column) -> bool {
    t.is_partition || c.is_local
}

/// `CREATE TABLE` with columns, inline validated CHECK constraints, `INHERITS`,
/// `PARTITION BY`, storage options and tablespace.
pub fn create_table(t: &Table, cat: &Catalog) -> String {
    create_table_with(t, cat, t.columns.len(), true)
}

/// `ALTER TABLE parent ADD COLUMN ...` for a column added after the children
/// (see `inherit.rs`).
pub(super) fn add_column(t: &Table, c: &Column, cat: &Catalog) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN {};",
        qualified(&t.schema, &t.name),
        column_def(t, c, cat)
    )
}

/// The table's validated CHECK constraints as `ALTER TABLE ... ADD CONSTRAINT`.
pub(super) fn add_checks(t: &Table, cat: &Catalog) -> Vec<String> {
    inline_checks(t, cat)
        .map(|con| {
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {};",
                qualified(&t.schema, &t.name),
                quote_ident(&con.name),
                con.definition
            )
        })
        .collect()
}

fn inline_checks<'a>(
    t: &'a Table,
    cat: &'a Catalog,
) -> impl Iterator<Item = &'a crate::catalog::Constraint> {
    cat.constraints.iter().filter(move |c| {
        c.table_oid == t.oid && c.contype == "c" && c.validated && (c.is_local || t.is_partition)
    })
}

/// `CREATE TABLE` with only the first `ncols` columns, and the CHECK
/// constraints inline or not.
pub(super) fn create_table_with(t: &Table, cat: &Catalog, ncols: usize, checks: bool) -> String {
    let mut items: Vec<String> = t
        .columns
        .iter()
        .take(ncols)
        .filter(|c| listed(t, c))
        .map(|c| column_def(t, c, cat))
        .collect();
    for con in inline_checks(t, cat).filter(|_| checks) {
        items.push(format!(
            "CONSTRAINT {} {}",
            quote_ident(&con.name),
            con.definition
        ));
    }
    let mut sql = format!(
        "CREATE {}TABLE {} (",
        if t.unlogged { "UNLOGGED " } else { "" },
        qualified(&t.schema, &t.name)
    );
    if !items.is_empty() {
        sql.push_str("\n    ");
        sql.push_str(&items.join(",\n    "));
        sql.push('\n');
    }
    sql.push(')');
    if !t.is_partition && !t.parent_oids.is_empty() {
        let parents: Vec<String> = t
            .parent_oids
            .iter()
            .filter_map(|o| cat.table(*o))
            .map(|p| qualified(&p.schema, &p.name))
            .collect();
        sql.push_str(&format!("\nINHERITS ({})", parents.join(", ")));
    }
    if let Some(key) = &t.partition_key {
        sql.push_str(&format!("\nPARTITION BY {key}"));
    }
    if !t.reloptions.is_empty() {
        sql.push_str(&format!("\nWITH ({})", t.reloptions.join(", ")));
    }
    if let Some(ts) = cat.tablespaces.create_in(t.oid) {
        sql.push_str(&format!("\nTABLESPACE {}", quote_ident(ts)));
    }
    sql.push(';');
    sql
}

/// `ALTER TABLE ONLY parent ATTACH PARTITION child FOR VALUES ...`.
pub fn attach_partition(t: &Table, cat: &Catalog) -> Option<String> {
    if !t.is_partition {
        return None;
    }
    let parent = cat.table(*t.parent_oids.first()?)?;
    Some(format!(
        "ALTER TABLE ONLY {} ATTACH PARTITION {} {};",
        qualified(&parent.schema, &parent.name),
        qualified(&t.schema, &t.name),
        t.partition_bound.as_deref().unwrap_or("DEFAULT")
    ))
}

/// Inherited columns whose default or NOT NULL differs from the parent's:
/// `INHERITS` gives the parent's, so set the child's own afterwards.
pub fn inherited_column_fixups(t: &Table, cat: &Catalog) -> Vec<String> {
    if t.is_partition {
        return Vec::new();
    }
    let me = qualified(&t.schema, &t.name);
    let mut out = Vec::new();
    for c in t.columns.iter().filter(|c| !c.is_local) {
        let parent_col = t
            .parent_oids
            .iter()
            .filter_map(|o| cat.table(*o))
            .find_map(|p| p.columns.iter().find(|pc| pc.name == c.name));
        let Some(pc) = parent_col else { continue };
        if c.default_sql != pc.default_sql && !c.is_generated() {
            out.push(match &c.default_sql {
                Some(d) => format!(
                    "ALTER TABLE ONLY {me} ALTER COLUMN {} SET DEFAULT {d};",
                    quote_ident(&c.name)
                ),
                None => format!(
                    "ALTER TABLE ONLY {me} ALTER COLUMN {} DROP DEFAULT;",
                    quote_ident(&c.name)
                ),
            });
        }
        if c.not_null && !pc.not_null {
            out.push(format!(
                "ALTER TABLE ONLY {me} ALTER COLUMN {} SET NOT NULL;",
                quote_ident(&c.name)
            ));
        }
    }
    out
}

/// Per-column storage, statistics target and options, and the table's replica
/// identity, when they differ from the defaults.
pub fn table_settings(t: &Table) -> Vec<String> {
    let me = qualified(&t.schema, &t.name);
    let mut out = Vec::new();
    for c in &t.columns {
        let col = quote_ident(&c.name);
        if c.storage != c.type_storage {
            let storage = match c.storage.as_str() {
                "p" => "PLAIN",
                "e" => "EXTERNAL",
                "m" => "MAIN",
                _ => "EXTENDED",
            };
            out.push(format!(
                "ALTER TABLE ONLY {me} ALTER COLUMN {col} SET STORAGE {storage};"
            ));
        }
        if c.stat_target >= 0 {
            out.push(format!(
                "ALTER TABLE ONLY {me} ALTER COLUMN {col} SET STATISTICS {};",
                c.stat_target
            ));
        }
        let options = carried_column_options(&c.options);
        if !options.is_empty() {
            out.push(format!(
                "ALTER TABLE ONLY {me} ALTER COLUMN {col} SET ({});",
                options.join(", ")
            ));
        }
    }
    match t.replica_identity.as_str() {
        "f" => out.push(format!("ALTER TABLE ONLY {me} REPLICA IDENTITY FULL;")),
        "n" => out.push(format!("ALTER TABLE ONLY {me} REPLICA IDENTITY NOTHING;")),
        _ => {}
    }
    out
}

/// The attribute options PostgreSQL itself defines (`ALTER COLUMN ... SET`).
pub const COLUMN_OPTIONS: &[&str] = &["n_distinct", "n_distinct_inherited"];

/// The column options that are carried: those PostgreSQL defines. Any other
/// (a patched server's, an extension's) would make an upstream target reject
/// the whole table; precheck names them (`source.unsupported.column_option`).
pub fn carried_column_options(options: &[String]) -> Vec<&str> {
    options
        .iter()
        .map(String::as_str)
        .filter(|o| COLUMN_OPTIONS.contains(&option_name(o)))
        .collect()
}

/// `n_distinct` of `n_distinct=-1`.
pub fn option_name(option: &str) -> &str {
    option.split_once('=').map_or(option, |(k, _)| k).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_null_names_are_written_only_when_not_the_default() {
        assert_eq!(
            not_null_clause("ev_2020", "id", Some("ev_2020_id_not_null")),
            " NOT NULL"
        );
        assert_eq!(
            not_null_clause("ev_2020", "id", Some("ev_id_not_null")),
            " CONSTRAINT ev_id_not_null NOT NULL"
        );
        assert_eq!(not_null_clause("t", "a", None), " NOT NULL");
        // makeObjectName: the longer name is cut until the whole fits 63 bytes.
        let long = "x".repeat(60);
        let name = default_not_null_name(&long, "col");
        assert_eq!(name, format!("{}_col_not_null", "x".repeat(50)));
        assert_eq!(name.len(), 63);
    }

    #[test]
    fn only_postgresql_column_options_are_carried() {
        let opts = vec![
            "n_distinct=-1".to_string(),
            "pg_attver=223288080".to_string(),
            "n_distinct_inherited=100".to_string(),
        ];
        assert_eq!(
            carried_column_options(&opts),
            ["n_distinct=-1", "n_distinct_inherited=100"]
        );
        assert_eq!(option_name("pg_attver=1"), "pg_attver");
    }
}
