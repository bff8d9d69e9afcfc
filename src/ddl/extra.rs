//! DDL for encoding conversions (pre-data), event triggers and publications
//! (structure only: the rows they would publish are the tables' own).
//!
//! Both are post-data. Publications name tables, so they come after them;
//! event triggers come last of all, after owners and grants, so that none
//! fires on pgferry's own DDL (one that blocks DDL would otherwise stop the
//! migration; the precheck's rehearsal, which creates it too, would show
//! that). Creating event triggers and `FOR ALL TABLES` publications needs a
//! superuser on the target: a target that refuses them is found by the
//! rehearsal (`target.ddl`).

use super::comment;
use crate::catalog::extra::{Conversion, EventTrigger, Publication};
use crate::catalog::Catalog;
use crate::pg::{qualified, quote_ident, quote_literal};
use crate::step::{FamilySteps, Phase, Step, StepKind};

/// Conversions (pre-data).
pub fn conversion_steps(cat: &Catalog) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    for c in &cat.conversions {
        let name = qualified(&c.schema, &c.name);
        out.push(
            Step::new(
                pre,
                StepKind::Conversion,
                name.clone(),
                create_conversion(c),
            )
            .of(c.oid),
        );
        if let Some(sql) = comment(&format!("CONVERSION {name}"), &c.comment) {
            out.push(Step::new(pre, StepKind::Comment, name, sql).of(c.oid));
        }
    }
    out
}

/// `CREATE [DEFAULT] CONVERSION name FOR 'from' TO 'to' FROM function`.
pub fn create_conversion(c: &Conversion) -> String {
    format!(
        "CREATE {}CONVERSION {} FOR {} TO {} FROM {};",
        if c.is_default { "DEFAULT " } else { "" },
        qualified(&c.schema, &c.name),
        quote_literal(&c.from_encoding),
        quote_literal(&c.to_encoding),
        c.function
    )
}

/// Publications, then event triggers (see the module docs for the order).
pub fn publication_steps(cat: &Catalog) -> FamilySteps {
    let post = Phase::PostData;
    let mut out = FamilySteps::default();
    for p in &cat.publications {
        let name = quote_ident(&p.name);
        out.post.push(
            Step::new(
                post,
                StepKind::Publication,
                name.clone(),
                create_publication(p, cat),
            )
            .of(p.oid),
        );
        if let Some(c) = comment(&format!("PUBLICATION {name}"), &p.comment) {
            out.post
                .push(Step::new(post, StepKind::Comment, name, c).of(p.oid));
        }
    }
    out
}

/// Event triggers, for the very end of post-data.
pub fn event_trigger_steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut out = Vec::new();
    for e in &cat.event_triggers {
        let name = quote_ident(&e.name);
        out.push(
            Step::new(
                post,
                StepKind::EventTrigger,
                name.clone(),
                create_event_trigger(e),
            )
            .of(e.oid),
        );
        if let Some(c) = comment(&format!("EVENT TRIGGER {name}"), &e.comment) {
            out.push(Step::new(post, StepKind::Comment, name, c).of(e.oid));
        }
    }
    out
}

/// `CREATE EVENT TRIGGER` (`EXECUTE PROCEDURE`: every version accepts it),
/// then its enabled state when not the default.
pub fn create_event_trigger(e: &EventTrigger) -> String {
    let name = quote_ident(&e.name);
    let mut sql = format!("CREATE EVENT TRIGGER {name} ON {}", quote_ident(&e.event));
    if !e.tags.is_empty() {
        let tags: Vec<String> = e.tags.iter().map(|t| quote_literal(t)).collect();
        sql.push_str(&format!("\n    WHEN TAG IN ({})", tags.join(", ")));
    }
    sql.push_str(&format!("\n    EXECUTE PROCEDURE {}();", e.function));
    let state = match e.enabled.as_str() {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ => None,
    };
    if let Some(s) = state {
        sql.push_str(&format!("\nALTER EVENT TRIGGER {name} {s};"));
    }
    sql
}

/// `CREATE PUBLICATION` over the selected tables (and schemas, 15+).
pub fn create_publication(p: &Publication, cat: &Catalog) -> String {
    let mut targets: Vec<String> = Vec::new();
    let tables: Vec<&str> = p
        .tables
        .iter()
        .zip(&p.table_oids)
        .filter(|(_, oid)| cat.table(**oid).is_some())
        .map(|(t, _)| t.as_str())
        .collect();
    if !tables.is_empty() {
        targets.push(format!("TABLE {}", tables.join(", ")));
    }
    let schemas: Vec<&str> = p
        .schemas
        .iter()
        .map(String::as_str)
        .filter(|s| cat.schemas.iter().any(|x| quote_ident(&x.name) == *s))
        .collect();
    if !schemas.is_empty() {
        targets.push(format!("TABLES IN SCHEMA {}", schemas.join(", ")));
    }
    let what = if p.all_tables {
        " FOR ALL TABLES".to_string()
    } else if targets.is_empty() {
        String::new()
    } else {
        format!(" FOR {}", targets.join(", "))
    };
    let publish: Vec<&str> = [
        (p.insert, "insert"),
        (p.update, "update"),
        (p.delete, "delete"),
        (p.truncate, "truncate"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| *w)
    .collect();
    let mut with = vec![format!("publish = {}", quote_literal(&publish.join(", ")))];
    if p.via_root {
        with.push("publish_via_partition_root = true".into());
    }
    format!(
        "CREATE PUBLICATION {}{what} WITH ({});",
        quote_ident(&p.name),
        with.join(", ")
    )
}
