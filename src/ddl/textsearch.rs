//! DDL for text search dictionaries and configurations, as pg_dump writes
//! them: a configuration is created on its parser, then given its token
//! mappings. Pre-data (columns, indexes and views may name them); the plan's
//! dependency order puts each dictionary before the configurations using it.

use super::comment;
use crate::catalog::textsearch::{Configuration, Dictionary, Template};
use crate::catalog::Catalog;
use crate::pg::qualified;
use crate::step::{FamilySteps, Phase, Step, StepKind};

/// Pre-data statements of this family.
pub fn steps(cat: &Catalog) -> FamilySteps {
    let pre = Phase::PreData;
    let mut out = FamilySteps::default();
    let ts = &cat.text_search;
    for (list, what, kind, keys) in [
        (
            &ts.templates,
            "TEMPLATE",
            StepKind::TextSearchTemplate,
            TEMPLATE_KEYS,
        ),
        (
            &ts.parsers,
            "PARSER",
            StepKind::TextSearchParser,
            PARSER_KEYS,
        ),
    ] {
        for t in list {
            let name = qualified(&t.schema, &t.name);
            let sql = create_template(what, t, keys);
            out.pre
                .push(Step::new(pre, kind, name.clone(), sql).of(t.oid));
            if let Some(c) = comment(&format!("TEXT SEARCH {what} {name}"), &t.comment) {
                out.pre
                    .push(Step::new(pre, StepKind::Comment, name, c).of(t.oid));
            }
        }
    }
    for d in &cat.text_search.dictionaries {
        let name = qualified(&d.schema, &d.name);
        let kind = StepKind::TextSearchDictionary;
        out.pre
            .push(Step::new(pre, kind, name.clone(), create_dictionary(d)).of(d.oid));
        if let Some(c) = comment(&format!("TEXT SEARCH DICTIONARY {name}"), &d.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(d.oid));
        }
    }
    for c in &cat.text_search.configurations {
        let name = qualified(&c.schema, &c.name);
        let kind = StepKind::TextSearchConfiguration;
        out.pre
            .push(Step::new(pre, kind, name.clone(), create_configuration(c)).of(c.oid));
        if let Some(sql) = comment(&format!("TEXT SEARCH CONFIGURATION {name}"), &c.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, sql).of(c.oid));
        }
    }
    out
}

const TEMPLATE_KEYS: &[&str] = &["INIT", "LEXIZE"];
const PARSER_KEYS: &[&str] = &["START", "GETTOKEN", "END", "LEXTYPES", "HEADLINE"];

/// `CREATE TEXT SEARCH TEMPLATE|PARSER name (KEY = function, ...)`.
pub fn create_template(what: &str, t: &Template, keys: &[&str]) -> String {
    let opts: Vec<String> = keys
        .iter()
        .zip(&t.functions)
        .filter_map(|(k, f)| f.as_ref().map(|f| format!("{k} = {f}")))
        .collect();
    format!(
        "CREATE TEXT SEARCH {what} {} (\n    {} );",
        qualified(&t.schema, &t.name),
        opts.join(",\n    ")
    )
}

/// `CREATE TEXT SEARCH DICTIONARY name (TEMPLATE = t, options)`.
pub fn create_dictionary(d: &Dictionary) -> String {
    let options = d
        .options
        .as_deref()
        .filter(|o| !o.is_empty())
        .map_or(String::new(), |o| format!(", {o}"));
    format!(
        "CREATE TEXT SEARCH DICTIONARY {} (\n    TEMPLATE = {}{options} );",
        qualified(&d.schema, &d.name),
        d.template
    )
}

/// `CREATE TEXT SEARCH CONFIGURATION` on its parser, then one `ADD MAPPING`
/// per token type (its dictionaries in order).
pub fn create_configuration(c: &Configuration) -> String {
    let name = qualified(&c.schema, &c.name);
    let mut sql = format!(
        "CREATE TEXT SEARCH CONFIGURATION {name} (\n    PARSER = {} );",
        c.parser
    );
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (token, dict) in &c.mappings {
        match groups.last_mut() {
            Some((t, dicts)) if *t == token.as_str() => dicts.push(dict),
            _ => groups.push((token, vec![dict])),
        }
    }
    for (token, dicts) in groups {
        sql.push_str(&format!(
            "\nALTER TEXT SEARCH CONFIGURATION {name}\n    ADD MAPPING FOR {token} WITH {};",
            dicts.join(", ")
        ));
    }
    sql
}
