//! Sequences and identity-column sequence options.

use crate::catalog::{Catalog, Sequence};
use crate::pg::{qualified, quote_ident};

/// Options shared by `CREATE SEQUENCE` and `ADD GENERATED ... AS IDENTITY (...)`.
fn options(s: &Sequence) -> String {
    let mut o = format!(
        "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}",
        s.start, s.increment, s.min, s.max, s.cache
    );
    if s.cycle {
        o.push_str(" CYCLE");
    }
    o
}

/// `CREATE SEQUENCE`, with every option spelled out (the target's defaults may differ).
pub fn create_sequence(s: &Sequence) -> String {
    format!(
        "CREATE {}SEQUENCE {} AS {} {};",
        if s.unlogged { "UNLOGGED " } else { "" },
        qualified(&s.schema, &s.name),
        s.type_sql,
        options(s)
    )
}

/// `ALTER SEQUENCE ... OWNED BY table.column`, once the table exists.
pub fn sequence_owned_by(s: &Sequence, cat: &Catalog) -> Option<String> {
    let (table_oid, column) = s.owned_by.as_ref()?;
    let t = cat.table(*table_oid)?;
    Some(format!(
        "ALTER SEQUENCE {} OWNED BY {}.{};",
        qualified(&s.schema, &s.name),
        qualified(&t.schema, &t.name),
        quote_ident(column)
    ))
}

/// ` (SEQUENCE NAME ... options)` for an identity column, so the hidden sequence
/// keeps its name and options.
pub fn identity_clause(s: &Sequence) -> String {
    format!(
        "(SEQUENCE NAME {} {})",
        qualified(&s.schema, &s.name),
        options(s)
    )
}
