//! Known incompatibilities between PostgreSQL versions, each under its own
//! code as pg_upgrade names them: what the plan rewrites by rule (see
//! `plan::compat`), what it skips, and what needs the user's decision.

use super::{Context, Finding};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident, PG12, PG14};
use crate::plan::compat::removed_type;
use crate::plan::Rewritten;

fn rewritten<'a>(cx: &'a Context<'_>, code: &str) -> Vec<&'a Rewritten> {
    cx.plan
        .rewritten
        .iter()
        .filter(|r| r.code == code)
        .collect()
}

fn listing(v: &[&Rewritten]) -> String {
    v.iter()
        .map(|r| format!("{} {}", r.kind, r.object))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every version-rule finding.
pub(super) fn check(cx: &Context<'_>) -> Vec<Finding> {
    let (src, tgt) = (cx.src.version_num, cx.tgt.version_num);
    let mut out = Vec::new();
    let postfix: Vec<String> = cx
        .cat
        .routines
        .operators
        .iter()
        .filter(|o| o.kind == "r")
        .map(|o| {
            format!(
                "{} ({} NONE)",
                qualified(&o.schema, &o.name),
                o.left_type.as_deref().unwrap_or("?")
            )
        })
        .collect();
    out.push(if postfix.is_empty() {
        Finding::pass("source.incompatible.postfix_operator", "no postfix operator")
    } else {
        let roots: Vec<Oid> = cx
            .cat
            .routines
            .operators
            .iter()
            .filter(|o| o.kind == "r")
            .map(|o| o.oid)
            .collect();
        let closure = crate::plan::dependents_closure(&roots, &cx.cat.depends);
        let deps: Vec<String> = cx
            .plan
            .skipped
            .iter()
            .filter(|s| s.oid.is_some_and(|o| closure.contains(&o) && !roots.contains(&o)))
            .map(|s| format!("{} {}", s.kind, s.object))
            .collect();
        let deps = if deps.is_empty() {
            "none".to_string()
        } else {
            deps.join(", ")
        };
        Finding::warning(
            "source.incompatible.postfix_operator",
            format!(
                "postfix operator(s) are not migrated (PostgreSQL 14 removed postfix operators{}): {}; \
                 objects that use them are skipped with them (see the skipped list): {}",
                if tgt >= PG14 { ", and the target is 14 or later" } else { "" },
                postfix.join(", "),
                deps
            ),
            "rewrite each as a prefix operator (CREATE OPERATOR ... (RIGHTARG = ...)) or a \
             function on the source, or recreate it by hand on a target older than 14",
        )
    });
    let poly = rewritten(cx, "source.incompatible.polymorphic");
    out.push(if poly.is_empty() {
        Finding::pass(
            "source.incompatible.polymorphic",
            "no aggregate or operator over anyarray/anyelement uses an array function changed in 14",
        )
    } else {
        Finding::warning(
            "source.incompatible.polymorphic",
            format!(
                "rewritten with anycompatible/anycompatiblearray for the target (the array \
                 functions they use changed in PostgreSQL 14): {}",
                listing(&poly)
            ),
            "nothing to do; callers passing anyarray/anyelement values are unaffected, but \
             mixed argument types that used to fail now resolve to a common type",
        )
    });
    let oids = rewritten(cx, "source.incompatible.with_oids");
    out.push(if oids.is_empty() {
        Finding::pass("source.incompatible.with_oids", "no table WITH OIDS")
    } else {
        Finding::warning(
            "source.incompatible.with_oids",
            format!(
                "table(s) WITH OIDS are created without them (PostgreSQL 12 removed WITH OIDS); \
                 their rows are copied, their hidden oid column is not: {}",
                listing(&oids)
            ),
            "if anything reads the oid column, add a real column on the source first \
             (ALTER TABLE ... ADD COLUMN old_oid oid; UPDATE ... SET old_oid = oid)",
        )
    });
    out.push(removed_types(cx, src, tgt));
    let pw = rewritten(cx, "source.user_mapping.password");
    if !pw.is_empty() {
        out.push(Finding::warning(
            "source.user_mapping.password",
            format!(
                "user mapping(s) are created without their password, which pgferry never \
                 reads: {}",
                listing(&pw)
            ),
            "after the migration, on the target: ALTER USER MAPPING FOR role SERVER server \
             OPTIONS (ADD password '...') for each",
        ));
    }
    let gen = rewritten(cx, "target.generated_inheritance");
    if !gen.is_empty() {
        out.push(Finding::pass(
            "target.generated_inheritance",
            format!(
                "inheritance children's generated columns written as inheriting the parent's \
                 expression (the same; targets before 16 refuse it spelled in the child): {}",
                listing(&gen)
            ),
        ));
    }
    out
}

fn removed_types(cx: &Context<'_>, src: i32, tgt: i32) -> Finding {
    let code = "source.incompatible.removed_type";
    let mapped = rewritten(cx, code);
    if !mapped.is_empty() {
        return Finding::warning(
            code,
            format!(
                "column(s) of types removed in PostgreSQL 12 are created as their successor \
                 (--map-removed-types): {}",
                mapped
                    .iter()
                    .map(|r| format!("{}: {}", r.object, r.change))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            "nothing to do; compare those columns by value, not by text, after the migration",
        );
    }
    if src >= PG12 || tgt < PG12 {
        return Finding::pass(code, "no type removed between the two versions is in use");
    }
    let cols: Vec<String> = cx
        .cat
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| removed_type(&c.type_name).is_some())
                .map(move |c| {
                    format!(
                        "{}.{} ({})",
                        qualified(&t.schema, &t.name),
                        quote_ident(&c.name),
                        c.type_sql
                    )
                })
        })
        .collect();
    if cols.is_empty() {
        return Finding::pass(code, "no column of abstime, reltime or tinterval");
    }
    Finding::failure(
        code,
        format!(
            "column(s) of types PostgreSQL 12 removed, which the target cannot create: {}",
            cols.join(", ")
        ),
        "pass --map-removed-types to create them as timestamptz (abstime), interval (reltime) \
         and text (tinterval), or change them on the source (ALTER TABLE ... ALTER COLUMN ... \
         TYPE timestamptz)",
    )
}
