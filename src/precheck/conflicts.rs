//! Name conflicts: objects that already exist on the target under the names
//! pgferry would give them. Creating over them would fail half-way (or, with
//! `IF NOT EXISTS`, silently keep a different object), so each is a failure
//! that names the object and the ways out.

use super::drop_order::{self, Relation};
use super::{Context, End, Finding, SQL};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::step::StepKind;
use anyhow::Context as _;

/// The statement that removes an existing target object of this kind.
fn drop_statement(
    found: &str,
    schema: &str,
    name: &str,
    args: Option<&str>,
    target_num: i32,
) -> String {
    let q = qualified(schema, name);
    match found {
        // DROP ROUTINE (any function, procedure or aggregate) exists from 11 on.
        "function" if target_num >= crate::pg::PG11 => {
            format!("DROP ROUTINE {q}({});", args.unwrap_or(""))
        }
        "function" => format!("DROP FUNCTION {q}({});", args.unwrap_or("")),
        "aggregate" if target_num >= crate::pg::PG11 => {
            format!("DROP ROUTINE {q}({});", args.unwrap_or(""))
        }
        "aggregate" => format!("DROP AGGREGATE {q}({});", args.unwrap_or("")),
        "type" => format!("DROP TYPE {q};"),
        "domain" => format!("DROP DOMAIN {q};"),
        "view" => format!("DROP VIEW {q};"),
        "materialized view" => format!("DROP MATERIALIZED VIEW {q};"),
        "sequence" => format!("DROP SEQUENCE {q};"),
        "foreign table" => format!("DROP FOREIGN TABLE {q};"),
        "index" => format!("DROP INDEX {q};"),
        "collation" => format!("DROP COLLATION {q};"),
        "operator" => format!(
            "DROP OPERATOR {}.{name}({});",
            quote_ident(schema),
            args.unwrap_or("")
        ),
        "operator family" => format!("DROP OPERATOR FAMILY {q} USING {};", args.unwrap_or("")),
        "operator class" => format!("DROP OPERATOR CLASS {q} USING {};", args.unwrap_or("")),
        "statistics" => format!("DROP STATISTICS {q};"),
        "cast" => format!("DROP CAST {name};"),
        _ => format!("DROP TABLE {q};"),
    }
}

pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    if cx.opts.data_only {
        return Ok(vec![Finding::pass(
            "target.conflict",
            "data only: rows are loaded into the existing target tables",
        )]);
    }
    let schemas: Vec<String> = cx.cat.schemas.iter().map(|s| s.name.clone()).collect();
    let mut rows = cx
        .source
        .query(
            include_str!("../../sql/precheck/source_objects.sql"),
            &[&schemas],
        )
        .await
        .context("listing source objects (sql/precheck/source_objects.sql)")?;
    if cx.src.version_num >= 100000 {
        rows.extend(
            cx.source
                .query(
                    include_str!("../../sql/precheck/source_statistics.sql"),
                    &[&schemas],
                )
                .await
                .context("listing source statistics objects")?,
        );
    }
    let mut kinds = Vec::with_capacity(rows.len());
    let mut nsps = Vec::with_capacity(rows.len());
    let mut names = Vec::with_capacity(rows.len());
    let mut args: Vec<Option<String>> = Vec::with_capacity(rows.len());
    // Relations the selection leaves out are not created: no conflict.
    let mut planned: std::collections::HashSet<String> = cx
        .plan
        .pre_data
        .iter()
        .chain(&cx.plan.post_data)
        .map(|s| s.object.clone())
        .collect();
    planned.extend(
        cx.cat
            .sequences
            .iter()
            .map(|s| qualified(&s.schema, &s.name)),
    );
    let relation = |k: &str| matches!(k, "table" | "view" | "materialized view" | "sequence");
    for r in &rows {
        let kind: String = r.get(0);
        if relation(&kind) && !planned.contains(&qualified(r.get(1), r.get(2))) {
            continue;
        }
        kinds.push(r.get::<_, String>(0));
        nsps.push(r.get::<_, String>(1));
        names.push(r.get::<_, String>(2));
        args.push(r.get(3));
    }
    // Casts have no schema: the plan's own, by `(source AS target)`.
    for s in cx.plan.pre_data.iter().filter(|s| s.kind == StepKind::Cast) {
        kinds.push("cast".to_string());
        nsps.push(String::new());
        let sig = s.object.strip_prefix("CAST ").unwrap_or(&s.object);
        names.push(sig.to_string());
        args.push(None);
    }
    let sql = include_str!("../../sql/precheck/target_conflicts.sql");
    let found = cx
        .target
        .query(sql, &[&kinds, &nsps, &names, &args])
        .await
        .context("looking for name conflicts on the target (sql/precheck/target_conflicts.sql)")?;
    if found.is_empty() {
        return Ok(vec![Finding::pass(
            "target.conflict",
            format!(
                "none of the {} objects to create exists on the target",
                kinds.len()
            ),
        )]);
    }
    let mut named = Vec::new();
    let mut drops = Vec::new();
    let (mut classes, mut oids) = (Vec::new(), Vec::new());
    for r in &found {
        let (kind, schema, name): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let args: Option<String> = r.get(3);
        let existing: String = r.get(4);
        classes.push(r.get::<_, Oid>(5));
        oids.push(r.get::<_, Oid>(6));
        let mut label = match (kind.as_str(), &args) {
            ("cast", _) => format!("cast {name}"),
            // Operator names are symbols, never quoted.
            ("operator", Some(a)) => format!("operator {}.{name}({a})", quote_ident(&schema)),
            ("operator family" | "operator class", Some(a)) => {
                format!("{kind} {} (USING {a})", qualified(&schema, &name))
            }
            (_, Some(a)) => format!("{kind} {}({a})", qualified(&schema, &name)),
            (_, None) => format!("{kind} {}", qualified(&schema, &name)),
        };
        if !same_kind(&kind, &existing) {
            label.push_str(&format!(" (a {existing} of that name exists)"));
        }
        named.push(label);
        drops.push(drop_statement(
            &existing,
            &schema,
            &name,
            args.as_deref(),
            cx.tgt.version_num,
        ));
    }
    let rows = cx
        .target
        .query(
            include_str!("../../sql/precheck/target_drop_order.sql"),
            &[&classes, &oids],
        )
        .await
        .context("ordering the drops by dependency (sql/precheck/target_drop_order.sql)")?;
    let relations: Vec<Relation> = rows
        .iter()
        .filter_map(|r| {
            let (rel, a): (String, i32) = (r.get(0), r.get(1));
            let a = usize::try_from(a).ok()?;
            let b = r
                .get::<_, Option<i32>>(2)
                .and_then(|b| usize::try_from(b).ok());
            match (rel.as_str(), b) {
                ("with", Some(b)) => Some(Relation::With(a, b)),
                ("before", Some(b)) => Some(Relation::Before(a, b)),
                ("blocked", _) => Some(Relation::Blocked(a, r.get(3))),
                _ => None,
            }
        })
        .collect();
    let ordered = drop_order::order(found.len(), &relations);
    let statements: Vec<String> = ordered.drops.iter().map(|&i| drops[i].clone()).collect();
    let mut notes = Vec::new();
    if !ordered.dropped_with.is_empty() {
        notes.push(format!(
            "{} of them go with another one's DROP ({})",
            ordered.dropped_with.len(),
            ordered
                .dropped_with
                .iter()
                .map(|(a, b)| format!("{} with {}", named[*a], named[*b]))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !ordered.blocked.is_empty() {
        notes.push(format!(
            "other target objects depend on them and must be dropped or changed first: {}",
            ordered
                .blocked
                .iter()
                .map(|(b, what)| format!("{what} (on {})", named[*b]))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if ordered.cycle {
        notes.push("some of them depend on each other in a circle: one DROP needs CASCADE".into());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    Ok(vec![Finding::failure(
        "target.conflict",
        format!(
            "{} object(s) already exist on the target ({}): {}{notes}",
            found.len(),
            quote_ident(&cx.tgt.database),
            named.join(", ")
        ),
        format!(
            "choose one: drop them on the target, dependents first: {SQL}; or keep them and \
             load rows only with --data-only; or exclude or rename them in the task file"
        ),
    )
    .with_sql(End::Target, statements)])
}

/// The source's kind and the target object's are the same kind of thing
/// (domains and aggregates are found as such, created as types and functions).
fn same_kind(kind: &str, existing: &str) -> bool {
    kind == existing
        || (kind == "type" && existing == "domain")
        || (kind == "function" && existing == "aggregate")
}

#[cfg(test)]
mod tests {
    use super::drop_statement;

    #[test]
    fn drops_by_kind() {
        assert_eq!(
            drop_statement("table", "public", "Orders", None, crate::pg::PG15),
            "DROP TABLE public.\"Orders\";"
        );
        assert_eq!(
            drop_statement("function", "s", "f", Some("integer, text"), crate::pg::PG15),
            "DROP ROUTINE s.f(integer, text);"
        );
        assert_eq!(
            drop_statement("domain", "public", "year", None, crate::pg::PG15),
            "DROP DOMAIN public.year;"
        );
        assert_eq!(
            drop_statement(
                "aggregate",
                "public",
                "group_concat",
                Some("text"),
                crate::pg::PG10
            ),
            "DROP AGGREGATE public.group_concat(text);"
        );
        assert_eq!(
            drop_statement("materialized view", "a", "m", None, crate::pg::PG10),
            "DROP MATERIALIZED VIEW a.m;"
        );
    }
}
