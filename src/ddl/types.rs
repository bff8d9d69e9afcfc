//! DDL for extensions, enum/composite/range types, domains and collations.
//!
//! Pre-data: extensions, collations, then types and domains (the plan's
//! dependency pass moves any of them after what they need, e.g. a domain after
//! the function its CHECK calls). Post-data: NOT VALID domain constraints, which
//! must not be checked against the rows being copied. Base types whose I/O
//! functions are LANGUAGE internal are created with them (`base.rs`); base
//! types with C I/O functions and range types with a canonical function (over
//! a shell type) cannot be created on the target: they are reported as
//! skipped, and the plan skips their dependents with them.

mod base;
mod extensions;

pub use extensions::{create_collation, create_extension, extension_comment};

use super::comment;
use crate::catalog::types::{CompositeType, Domain, EnumType, RangeType};
use crate::catalog::Catalog;
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident, quote_literal};
use crate::step::{FamilySteps, Phase, Skipped, Step, StepKind};

/// Pre-data and post-data statements (and skipped objects) of this family.
pub fn steps(cat: &Catalog) -> FamilySteps {
    let pre = Phase::PreData;
    let mut out = FamilySteps::default();
    let t = &cat.types;
    for e in &t.extensions {
        let name = quote_ident(&e.name);
        out.pre.push(
            Step::new(
                pre,
                StepKind::Extension,
                name.clone(),
                create_extension(e, cat.version_num),
            )
            .of(e.oid),
        );
        out.pre
            .push(Step::new(pre, StepKind::Comment, name, extension_comment(e)).of(e.oid));
    }
    for c in &t.collations {
        let name = qualified(&c.schema, &c.name);
        out.pre
            .push(Step::new(pre, StepKind::Collation, name.clone(), create_collation(c)).of(c.oid));
        if let Some(sql) = comment(&format!("COLLATION {name}"), &c.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, sql).of(c.oid));
        }
    }
    for e in &t.enums {
        push_type(
            &mut out,
            e.oid,
            &e.schema,
            &e.name,
            create_enum(e),
            &e.comment,
        );
    }
    for r in &t.ranges {
        let name = qualified(&r.schema, &r.name);
        match &r.canonical {
            Some(f) => out.skipped.push(Skipped {
                kind: "type",
                object: name,
                reason: format!(
                    "range type with a canonical function ({f}), which must be written in C \
                     over a shell type; create it on the target by hand"
                ),
                oid: Some(r.oid),
            }),
            None => push_type(
                &mut out,
                r.oid,
                &r.schema,
                &r.name,
                create_range(r),
                &r.comment,
            ),
        }
    }
    for c in &t.composites {
        let name = qualified(&c.schema, &c.name);
        push_type(
            &mut out,
            c.rel_oid,
            &c.schema,
            &c.name,
            create_composite(c),
            &c.comment,
        );
        for a in &c.attributes {
            let what = format!("COLUMN {name}.{}", quote_ident(&a.name));
            if let Some(sql) = comment(&what, &a.comment) {
                out.pre
                    .push(Step::new(pre, StepKind::Comment, name.clone(), sql).of(c.rel_oid));
            }
        }
    }
    for b in t.base_types.iter().filter(|b| !b.c_io) {
        base::steps(b, cat, &mut out);
    }
    for b in t.base_types.iter().filter(|b| b.c_io) {
        out.skipped.push(Skipped {
            kind: "type",
            object: qualified(&b.schema, &b.name),
            reason: format!(
                "base type with C-language input/output functions ({}, {}) outside any \
                 extension; install it on the target by hand or package it as an extension",
                b.input, b.output
            ),
            oid: Some(b.oid),
        });
    }
    for d in &t.domains {
        domain_steps(d, &mut out);
    }
    out
}

/// `CREATE TYPE` and its comment, both tied to `oid`.
fn push_type(
    out: &mut FamilySteps,
    oid: Oid,
    schema: &str,
    name: &str,
    sql: String,
    type_comment: &Option<String>,
) {
    let name = qualified(schema, name);
    out.pre
        .push(Step::new(Phase::PreData, StepKind::Type, name.clone(), sql).of(oid));
    if let Some(c) = comment(&format!("TYPE {name}"), type_comment) {
        out.pre
            .push(Step::new(Phase::PreData, StepKind::Comment, name, c).of(oid));
    }
}

/// `CREATE TYPE ... AS ENUM` with the labels in sort order.
pub fn create_enum(e: &EnumType) -> String {
    let labels: Vec<String> = e.labels.iter().map(|l| quote_literal(l)).collect();
    let body = if labels.is_empty() {
        String::new()
    } else {
        format!("\n    {}\n", labels.join(",\n    "))
    };
    format!(
        "CREATE TYPE {} AS ENUM ({body});",
        qualified(&e.schema, &e.name)
    )
}

/// `CREATE TYPE ... AS (...)`.
pub fn create_composite(c: &CompositeType) -> String {
    let attrs: Vec<String> = c
        .attributes
        .iter()
        .map(|a| {
            let mut s = format!("{} {}", quote_ident(&a.name), a.type_sql);
            if let Some(coll) = &a.collation {
                s.push_str(&format!(" COLLATE {coll}"));
            }
            s
        })
        .collect();
    let body = if attrs.is_empty() {
        String::new()
    } else {
        format!("\n    {}\n", attrs.join(",\n    "))
    };
    format!("CREATE TYPE {} AS ({body});", qualified(&c.schema, &c.name))
}

/// The multirange name PostgreSQL 14+ picks for a range type by itself
/// (`makeMultirangeTypeName`): the first "range" becomes "multirange", else
/// "_multirange" is appended; clipped to 63 bytes.
pub fn default_multirange_name(range: &str) -> String {
    let full = match range.find("range") {
        Some(i) => format!("{}multi{}", &range[..i], &range[i..]),
        None => format!("{}_multirange", clip(range, 52)),
    };
    clip(&full, 63).to_string()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `CREATE TYPE ... AS RANGE`. The multirange name is written only when it is
/// not the one the target would pick, so a 14+ source whose multirange was
/// renamed keeps its name and an older target is not given an option it lacks.
pub fn create_range(r: &RangeType) -> String {
    let mut opts = vec![format!("subtype = {}", r.subtype)];
    if let Some(o) = &r.opclass {
        opts.push(format!("subtype_opclass = {o}"));
    }
    if let Some(c) = &r.collation {
        opts.push(format!("collation = {c}"));
    }
    if let Some(f) = &r.canonical {
        opts.push(format!("canonical = {f}"));
    }
    if let Some(f) = &r.subtype_diff {
        opts.push(format!("subtype_diff = {f}"));
    }
    if let Some((schema, name)) = &r.multirange {
        if *schema != r.schema || *name != default_multirange_name(&r.name) {
            opts.push(format!(
                "multirange_type_name = {}",
                qualified(schema, name)
            ));
        }
    }
    format!(
        "CREATE TYPE {} AS RANGE (\n    {}\n);",
        qualified(&r.schema, &r.name),
        opts.join(",\n    ")
    )
}

/// `CREATE DOMAIN` with its collation, default, NOT NULL and validated CHECK
/// constraints (names kept).
pub fn create_domain(d: &Domain) -> String {
    let mut sql = format!(
        "CREATE DOMAIN {} AS {}",
        qualified(&d.schema, &d.name),
        d.base_sql
    );
    if let Some(c) = &d.collation {
        sql.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(def) = &d.default_sql {
        sql.push_str(&format!(" DEFAULT {def}"));
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    for c in d.constraints.iter().filter(|c| c.validated) {
        sql.push_str(&format!(
            "\n    CONSTRAINT {} {}",
            quote_ident(&c.name),
            c.definition
        ));
    }
    sql.push(';');
    sql
}

/// A domain, its comments, and (post-data) its NOT VALID constraints: added
/// before the rows, they would be checked against every copied row.
fn domain_steps(d: &Domain, out: &mut FamilySteps) {
    let (pre, post) = (Phase::PreData, Phase::PostData);
    let name = qualified(&d.schema, &d.name);
    out.pre
        .push(Step::new(pre, StepKind::Domain, name.clone(), create_domain(d)).of(d.oid));
    if let Some(c) = comment(&format!("DOMAIN {name}"), &d.comment) {
        out.pre
            .push(Step::new(pre, StepKind::Comment, name.clone(), c).of(d.oid));
    }
    for c in &d.constraints {
        let obj = format!("{} on {name}", quote_ident(&c.name));
        let phase = if c.validated { pre } else { post };
        if !c.validated {
            out.post.push(
                Step::new(
                    post,
                    StepKind::DomainConstraint,
                    obj.clone(),
                    format!(
                        "ALTER DOMAIN {name} ADD CONSTRAINT {} {};",
                        quote_ident(&c.name),
                        c.definition
                    ),
                )
                .of(d.oid),
            );
        }
        let what = format!("CONSTRAINT {} ON DOMAIN {name}", quote_ident(&c.name));
        if let Some(sql) = comment(&what, &c.comment) {
            let step = Step::new(phase, StepKind::Comment, obj, sql).of(d.oid);
            if c.validated {
                out.pre.push(step);
            } else {
                out.post.push(step);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multirange_default_names_follow_postgres() {
        assert_eq!(default_multirange_name("floatrange"), "floatmultirange");
        assert_eq!(default_multirange_name("fr"), "fr_multirange");
        assert_eq!(default_multirange_name("rangex"), "multirangex");
        let long = "a".repeat(63);
        assert_eq!(
            default_multirange_name(&long),
            format!("{}_multirange", "a".repeat(52))
        );
    }
}
