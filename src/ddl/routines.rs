//! DDL for functions, procedures, aggregates, operators, casts, operator
//! families and classes.
//!
//! All of them are pre-data. The builder places them after types and before
//! tables; pg_depend ordering moves one later when it needs a table (a function
//! returning a table's row type, a `BEGIN ATOMIC` body, a cast on a row type).
//!
//! C-language functions that are not part of an extension cannot be migrated:
//! their shared library is not on the target. They are reported as skipped, and
//! the plan drops everything that depends on them. Internal-language functions
//! are recreated: their symbol is part of every server binary (creating one
//! needs superuser on the target, as on the source).

mod aggregate;
mod opclass;
mod operator;

use crate::catalog::routines::Function;
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::qualified;
use crate::pg::Oid;
use crate::step::{FamilySteps, Phase, Skipped, Step, StepKind};

pub use aggregate::create_aggregate;
pub use operator::{create_cast, create_operator};

/// Pre-data statements (and skipped objects) of this family.
pub fn steps(cat: &Catalog) -> FamilySteps {
    let r = &cat.routines;
    let mut out = FamilySteps::default();
    // Internal I/O functions of base types are created with their type.
    let with_type: std::collections::HashSet<Oid> = cat
        .types
        .base_types
        .iter()
        .filter(|b| !b.c_io)
        .flat_map(|b| b.io_oids.iter().copied())
        .collect();
    for f in r.functions.iter().filter(|f| !with_type.contains(&f.oid)) {
        function_steps(f, &mut out);
    }
    let pre = Phase::PreData;
    for a in &r.aggregates {
        let name = aggregate::signature(a, &a.identity_args);
        out.pre
            .push(Step::new(pre, StepKind::Aggregate, name.clone(), create_aggregate(a)).of(a.oid));
        if let Some(c) = comment(&format!("AGGREGATE {name}"), &a.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(a.oid));
        }
    }
    for o in &r.operators {
        let name = operator::operator_signature(o);
        if o.kind == "r" {
            out.skipped.push(Skipped {
                kind: "operator",
                object: name,
                reason: "postfix operator: PostgreSQL 14 and later have none; \
                         rewrite it as a prefix operator or a function, or exclude it"
                    .into(),
                oid: Some(o.oid),
            });
            continue;
        }
        out.pre
            .push(Step::new(pre, StepKind::Operator, name.clone(), create_operator(o)).of(o.oid));
        if let Some(c) = comment(&format!("OPERATOR {name}"), &o.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(o.oid));
        }
    }
    for c in &r.casts {
        let name = format!("CAST {}", operator::cast_signature(c));
        out.pre
            .push(Step::new(pre, StepKind::Cast, name.clone(), create_cast(c)).of(c.oid));
        if let Some(sql) = comment(&name, &c.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, sql).of(c.oid));
        }
    }
    opclass_steps(cat, &mut out);
    out
}

/// Families first (classes name them), then classes, then the families' loose members.
fn opclass_steps(cat: &Catalog, out: &mut FamilySteps) {
    let pre = Phase::PreData;
    let r = &cat.routines;
    for f in &r.opfamilies {
        let name = opclass::family_name(f);
        out.pre.push(
            Step::new(
                pre,
                StepKind::OperatorFamily,
                name.clone(),
                opclass::create_family(f),
            )
            .of(f.oid),
        );
        if let Some(c) = comment(&format!("OPERATOR FAMILY {name}"), &f.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(f.oid));
        }
    }
    for c in &r.opclasses {
        let name = opclass::class_name(c);
        out.pre.push(
            Step::new(
                pre,
                StepKind::OperatorClass,
                name.clone(),
                opclass::create_class(c),
            )
            .of(c.oid),
        );
        if let Some(sql) = comment(&format!("OPERATOR CLASS {name}"), &c.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, sql).of(c.oid));
        }
    }
    for f in &r.opfamilies {
        if let Some(sql) = opclass::add_loose_members(f) {
            let name = opclass::family_name(f);
            out.pre
                .push(Step::new(pre, StepKind::OperatorFamilyMembers, name, sql).of(f.oid));
        }
    }
}

/// `schema.name(identity arguments)`.
pub fn function_signature(f: &Function) -> String {
    format!("{}({})", qualified(&f.schema, &f.name), f.identity_args)
}

fn function_steps(f: &Function, out: &mut FamilySteps) {
    let name = function_signature(f);
    let kind = if f.kind == "p" {
        StepKind::Procedure
    } else {
        StepKind::Function
    };
    if f.language == "c" {
        out.skipped.push(Skipped {
            kind: kind.label(),
            object: name,
            reason: format!(
                "C-language function (not part of an extension; {} in {}): cannot be migrated; \
                 install the library on the target and create it by hand, or exclude it",
                f.source,
                f.library.as_deref().unwrap_or("?")
            ),
            oid: Some(f.oid),
        });
        return;
    }
    let pre = Phase::PreData;
    let sql = format!("{};", f.definition.trim_end());
    out.pre
        .push(Step::new(pre, kind, name.clone(), sql).of(f.oid));
    let what = format!("{} {name}", kind.label().to_uppercase());
    if let Some(c) = comment(&what, &f.comment) {
        out.pre
            .push(Step::new(pre, StepKind::Comment, name, c).of(f.oid));
    }
}
