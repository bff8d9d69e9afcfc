//! Post-data: rewrite rules (`pg_get_ruledef`), their enabled state and comments.
//! Rules come after every table and view exists, since a rule's actions may
//! name any of them.

use super::{creates_relation, enable_words};
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::{qualified, quote_ident};
use crate::step::{Phase, Step, StepKind};

pub(super) fn steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut out = Vec::new();
    for r in cat
        .views
        .rules
        .iter()
        .filter(|r| creates_relation(cat, r.table_oid))
    {
        let table = qualified(&r.schema, &r.table_name);
        let rule = quote_ident(&r.name);
        let obj = format!("{rule} on {table}");
        let def = r.definition.trim_end();
        let sql = if def.ends_with(';') {
            def.to_string()
        } else {
            format!("{def};")
        };
        out.push(Step::new(post, StepKind::Rule, obj.clone(), sql).of(r.oid));
        if let Some(words) = enable_words(&r.enabled) {
            out.push(
                Step::new(
                    post,
                    StepKind::RuleState,
                    obj.clone(),
                    format!("ALTER TABLE {table} {words} RULE {rule};"),
                )
                .of(r.oid),
            );
        }
        if let Some(c) = comment(&format!("RULE {rule} ON {table}"), &r.comment) {
            out.push(Step::new(post, StepKind::Comment, obj, c).of(r.oid));
        }
    }
    out
}
