//! Base types whose I/O functions are LANGUAGE internal: created as pg_dump
//! does, a shell type first, then the I/O functions (which name the shell as
//! argument or result), then the full `CREATE TYPE`. All these statements
//! carry the type's oid, so the plan's dependency order and its pruning move
//! and skip them as one object. Internal functions need a superuser on the
//! target, as on the source; a target that refuses them is found by the
//! precheck's DDL rehearsal, which names the type and what uses it.

use crate::catalog::types::BaseType;
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::{qualified, quote_literal};
use crate::step::{FamilySteps, Phase, Step, StepKind};

/// The statements of one base type.
pub(super) fn steps(b: &BaseType, cat: &Catalog, out: &mut FamilySteps) {
    let pre = Phase::PreData;
    let name = qualified(&b.schema, &b.name);
    out.pre.push(
        Step::new(
            pre,
            StepKind::Type,
            name.clone(),
            format!("CREATE TYPE {name};"),
        )
        .of(b.oid),
    );
    for f in cat
        .routines
        .functions
        .iter()
        .filter(|f| b.io_oids.contains(&f.oid))
    {
        let sig = crate::ddl::routines::function_signature(f);
        let sql = format!("{};", f.definition.trim_end());
        out.pre
            .push(Step::new(pre, StepKind::Function, sig.clone(), sql).of(b.oid));
        if let Some(c) = comment(&format!("FUNCTION {sig}"), &f.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, sig, c).of(b.oid));
        }
    }
    out.pre
        .push(Step::new(pre, StepKind::Type, name.clone(), create_base_type(b)).of(b.oid));
    if let Some(c) = comment(&format!("TYPE {name}"), &b.comment) {
        out.pre
            .push(Step::new(pre, StepKind::Comment, name, c).of(b.oid));
    }
}

/// The full `CREATE TYPE name (...)`, every property pg_dump writes.
pub fn create_base_type(b: &BaseType) -> String {
    let length = if b.length == -1 {
        "variable".to_string()
    } else {
        b.length.to_string()
    };
    let mut opts = vec![
        format!("INTERNALLENGTH = {length}"),
        format!("INPUT = {}", b.input),
        format!("OUTPUT = {}", b.output),
    ];
    for (key, val) in [
        ("RECEIVE", &b.receive),
        ("SEND", &b.send),
        ("TYPMOD_IN", &b.typmod_in),
        ("TYPMOD_OUT", &b.typmod_out),
        ("ANALYZE", &b.analyze),
        ("SUBSCRIPT", &b.subscript),
    ] {
        if let Some(v) = val {
            opts.push(format!("{key} = {v}"));
        }
    }
    if b.byval {
        opts.push("PASSEDBYVALUE".into());
    }
    let align = match b.align.as_str() {
        "c" => "char",
        "s" => "int2",
        "d" => "double",
        _ => "int4",
    };
    opts.push(format!("ALIGNMENT = {align}"));
    let storage = match b.storage.as_str() {
        "e" => "external",
        "x" => "extended",
        "m" => "main",
        _ => "plain",
    };
    opts.push(format!("STORAGE = {storage}"));
    if b.category != "U" {
        opts.push(format!("CATEGORY = {}", quote_literal(&b.category)));
    }
    if b.preferred {
        opts.push("PREFERRED = true".into());
    }
    if let Some(d) = &b.default_value {
        opts.push(format!("DEFAULT = {}", quote_literal(d)));
    }
    if let Some(e) = &b.element {
        opts.push(format!("ELEMENT = {e}"));
    }
    if b.delimiter != "," {
        opts.push(format!("DELIMITER = {}", quote_literal(&b.delimiter)));
    }
    if b.collatable {
        opts.push("COLLATABLE = true".into());
    }
    format!(
        "CREATE TYPE {} (\n    {}\n);",
        qualified(&b.schema, &b.name),
        opts.join(",\n    ")
    )
}
