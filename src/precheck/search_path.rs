//! Functions that data-time work runs with an unknown search_path: those
//! used by indexes, materialized views, constraints, generated columns and
//! domains. pgferry (like pg_restore) runs every statement with an empty
//! search_path, and PostgreSQL 17 and later run them with `pg_catalog,
//! pg_temp` in VACUUM, ANALYZE, CREATE INDEX, REINDEX and REFRESH. A body
//! that names an object of a user schema without its schema then fails on
//! the target, and only once there are rows: the DDL rehearsal, on empty
//! tables, cannot see it. Named here (`source.function.search_path`) with
//! the fix, before anything is written.

use super::{Context, Finding};
use crate::pg::qualified;
use crate::pg::Oid;
use std::collections::HashSet;

/// Objects whose maintenance or loading evaluates the functions they use.
fn users(cx: &Context<'_>) -> HashSet<Oid> {
    let cat = cx.cat;
    let mut out: HashSet<Oid> = HashSet::new();
    out.extend(cat.indexes.iter().map(|i| i.oid));
    out.extend(cat.tables.iter().map(|t| t.oid));
    out.extend(cat.types.domains.iter().map(|d| d.oid));
    let v = &cat.views;
    out.extend(
        v.views
            .iter()
            .filter(|w| w.is_materialized())
            .map(|w| w.oid),
    );
    out.extend(v.matview_indexes.iter().map(|i| i.oid));
    out
}

/// The plain names of user objects a body could name without a schema.
fn user_names<'a>(cx: &Context<'a>) -> HashSet<&'a str> {
    let cat = cx.cat;
    let mut out: HashSet<&str> = HashSet::new();
    out.extend(cat.tables.iter().map(|t| t.name.as_str()));
    out.extend(cat.views.views.iter().map(|v| v.name.as_str()));
    out.extend(cat.sequences.iter().map(|s| s.name.as_str()));
    out.extend(cat.routines.functions.iter().map(|f| f.name.as_str()));
    let ty = &cat.types;
    out.extend(ty.enums.iter().map(|e| e.name.as_str()));
    out.extend(ty.composites.iter().map(|e| e.name.as_str()));
    out.extend(ty.domains.iter().map(|e| e.name.as_str()));
    out
}

/// The first name of `names` that `body` uses without a schema before it.
fn unqualified<'a>(body: &str, names: &HashSet<&'a str>) -> Option<&'a str> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &body[start..i];
            let qualified = start > 0 && bytes[start - 1] == b'.';
            if !qualified {
                if let Some(n) = names.get(word) {
                    return Some(n);
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The check.
pub(super) fn check(cx: &Context<'_>) -> Vec<Finding> {
    let code = "source.function.search_path";
    let users = users(cx);
    let used: HashSet<Oid> = cx
        .cat
        .depends
        .iter()
        .filter(|(obj, _)| users.contains(obj))
        .map(|(_, refd)| *refd)
        .collect();
    let names = user_names(cx);
    let mut risky = Vec::new();
    for f in cx
        .cat
        .routines
        .functions
        .iter()
        .filter(|f| used.contains(&f.oid))
    {
        if !matches!(f.language.as_str(), "sql" | "plpgsql")
            || f.definition.contains("SET search_path")
        {
            continue;
        }
        let own = f.name.as_str();
        let others: HashSet<&str> = names.iter().copied().filter(|n| *n != own).collect();
        if let Some(n) = unqualified(&f.source, &others) {
            risky.push(format!(
                "{}({}) names {n}",
                qualified(&f.schema, &f.name),
                f.identity_args
            ));
        }
    }
    if risky.is_empty() {
        return vec![Finding::pass(
            code,
            "no function used by an index, materialized view, constraint or generated column \
             names a user object without its schema",
        )];
    }
    vec![Finding::warning(
        code,
        format!(
            "function(s) used by indexes, materialized views, constraints, generated columns or \
             domains name objects without their schema and set no search_path: they fail when \
             the target loads or indexes rows (the migration runs with an empty search_path, as \
             pg_restore does; PostgreSQL 17 and later also use a fixed one in VACUUM, ANALYZE, \
             REINDEX and REFRESH): {}",
            risky.join("; ")
        ),
        "on the source, give each a search_path (ALTER FUNCTION schema.f(args) SET search_path \
         = schema, pg_catalog) or qualify the names in its body, then migrate",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unqualified_names_count() {
        let names: HashSet<&str> = ["people", "norm"].into_iter().collect();
        assert_eq!(unqualified("SELECT count(*) FROM app.people", &names), None);
        assert_eq!(unqualified("SELECT norm($1)", &names), Some("norm"));
        assert_eq!(unqualified("SELECT x FROM people_log", &names), None);
    }
}
