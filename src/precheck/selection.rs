//! Selection and renames: what the user should know before the first write.
//!
//! - Objects left out because they depend on a left-out table or column (a
//!   view, a foreign key to a table not migrated, an index on a left-out
//!   column) are listed as a warning: the user decides whether to widen the
//!   selection; nothing fails half-way.
//! - Function bodies are text that PostgreSQL does not rewrite on rename:
//!   every function whose body mentions a renamed name is named.
//! - A rename onto a name the target already uses, or of a schema whose
//!   source name exists on the target (pgferry creates under the source
//!   name and renames last, so it would rename the target's own schema),
//!   is a configuration error (exit 2).

use super::{Context, Finding};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use anyhow::Context as _;
use std::collections::HashSet;

/// Objects left out by selection because of their dependencies.
pub(super) fn dependents(cx: &Context<'_>) -> Vec<Finding> {
    let ex = &cx.plan.excluded;
    if ex.is_empty() {
        return vec![Finding::pass(
            "selection.dependents",
            "nothing is left out because of a dependency on an unselected object",
        )];
    }
    let list: Vec<String> = ex
        .iter()
        .map(|s| format!("{} {} ({})", s.kind, s.object, s.reason))
        .collect();
    vec![Finding::warning(
        "selection.dependents",
        format!(
            "{} object(s) are left out because of the selection: {}",
            ex.len(),
            list.join("; ")
        ),
        "include what they depend on (the table, the column) if they must be migrated; \
         otherwise nothing to do",
    )]
}

/// True when `text` mentions `name` as a whole word, ignoring case.
fn mentions(text: &str, name: &str) -> bool {
    let (t, n) = (text.to_lowercase(), name.to_lowercase());
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    t.match_indices(&n)
        .any(|(i, _)| !word(t[..i].chars().next_back()) && !word(t[i + n.len()..].chars().next()))
}

/// Functions (created by the plan) whose body names a renamed object.
pub(super) fn function_bodies(cx: &Context<'_>) -> Vec<Finding> {
    let renamed: Vec<(&'static str, String, String)> = cx.plan.names.listing();
    if renamed.is_empty() {
        return Vec::new();
    }
    let planned: HashSet<Oid> = cx.plan.pre_data.iter().filter_map(|s| s.oid).collect();
    let old_names: Vec<String> = cx
        .plan
        .names
        .raw_sources()
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut hits = Vec::new();
    for f in cx
        .cat
        .routines
        .functions
        .iter()
        .filter(|f| planned.contains(&f.oid))
    {
        let found: Vec<&str> = old_names
            .iter()
            .filter(|n| mentions(&f.source, n))
            .map(String::as_str)
            .collect();
        if !found.is_empty() {
            hits.push(format!(
                "{}({}) mentions {}",
                qualified(&f.schema, &f.name),
                f.identity_args,
                found.join(", ")
            ));
        }
    }
    if hits.is_empty() {
        return vec![Finding::pass(
            "selection.function_bodies",
            "no function body mentions a renamed schema, table or column",
        )];
    }
    vec![Finding::warning(
        "selection.function_bodies",
        format!(
            "{} function(s) mention a renamed object in their body, which PostgreSQL does not \
             rewrite: {}",
            hits.len(),
            hits.join("; ")
        ),
        "after the migration, edit these functions to use the new names (CREATE OR REPLACE), \
         or drop the rename",
    )]
}

/// Renames that the target cannot take: a usage error (exit 2) naming them.
pub(super) async fn rename_targets(cx: &Context<'_>) -> anyhow::Result<()> {
    if cx.opts.data_only || cx.plan.renames.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    let (mut schemas, mut rel_s, mut rel_n) = (Vec::new(), Vec::new(), Vec::new());
    for (kind, from, to) in cx.plan.names.listing_raw() {
        match kind {
            "schema" => {
                schemas.push(from[0].clone());
                schemas.push(to[0].clone());
            }
            "table" => {
                rel_s.push(to[0].clone());
                rel_n.push(to[1].clone());
            }
            _ => {}
        }
    }
    let found = cx
        .target
        .query(
            "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE nspname = ANY($1)",
            &[&schemas],
        )
        .await
        .context("looking for renamed schemas on the target")?;
    let existing: HashSet<String> = found.iter().map(|r| r.get(0)).collect();
    for (kind, from, to) in cx.plan.names.listing_raw() {
        if kind != "schema" {
            continue;
        }
        if existing.contains(&to[0]) {
            problems.push(format!(
                "rename of schema {} to {}: the target already has a schema {}",
                quote_ident(&from[0]),
                quote_ident(&to[0]),
                quote_ident(&to[0])
            ));
        }
        if existing.contains(&from[0]) {
            problems.push(format!(
                "rename of schema {} to {}: the target has a schema {}; pgferry creates \
                 objects under the source name and renames the schema last, which would \
                 rename the target's own schema (drop or rename it on the target first)",
                quote_ident(&from[0]),
                quote_ident(&to[0]),
                quote_ident(&from[0])
            ));
        }
    }
    let rows = cx
        .target
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN unnest($1::text[], $2::text[]) AS x(s, r) ON x.s = n.nspname AND x.r = c.relname",
            &[&rel_s, &rel_n],
        )
        .await
        .context("looking for renamed tables on the target")?;
    for r in rows {
        let (s, n): (String, String) = (r.get(0), r.get(1));
        problems.push(format!(
            "rename to {}: the target already has a relation of that name",
            qualified(&s, &n)
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "renames collide with existing target objects: {}",
        problems.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn whole_words_only() {
        assert!(mentions("select * from Orders o", "orders"));
        assert!(mentions("insert into shop.orders(x)", "orders"));
        assert!(!mentions("select * from orders_archive", "orders"));
        assert!(!mentions("select myorders", "orders"));
    }
}
