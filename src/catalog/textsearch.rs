//! Text search templates, parsers, dictionaries and configurations. A
//! template or parser is a set of functions, usually built-in ones of
//! `pg_catalog` (every server has them); one over a C function of a user
//! schema is skipped with that function.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Dictionaries and configurations of the source.
#[derive(Debug, Clone, Default)]
pub struct TextSearch {
    pub templates: Vec<Template>,
    pub parsers: Vec<Template>,
    pub dictionaries: Vec<Dictionary>,
    pub configurations: Vec<Configuration>,
}

/// `CREATE TEXT SEARCH TEMPLATE` or `PARSER`: named support functions.
#[derive(Debug, Clone)]
pub struct Template {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// Template: INIT, LEXIZE. Parser: START, GETTOKEN, END, LEXTYPES,
    /// HEADLINE. `None` when absent.
    pub functions: Vec<Option<String>>,
    pub comment: Option<String>,
}

/// `CREATE TEXT SEARCH DICTIONARY`.
#[derive(Debug, Clone)]
pub struct Dictionary {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// Quoted, qualified template name.
    pub template: String,
    /// `dictinitoption`: `key = value, ...` as written.
    pub options: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE TEXT SEARCH CONFIGURATION` and its mappings.
#[derive(Debug, Clone)]
pub struct Configuration {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// Quoted, qualified parser name.
    pub parser: String,
    /// (token alias, dictionary) in mapping order.
    pub mappings: Vec<(String, String)>,
    pub comment: Option<String>,
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<TextSearch> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/ts_templates.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading text search templates and parsers (sql/catalog/ts_templates.sql)")?;
    let (mut templates, mut parsers) = (Vec::new(), Vec::new());
    for r in &rows {
        let t = Template {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            functions: r.get("functions"),
            comment: r.get("comment"),
        };
        if r.get::<_, String>("kind") == "t" {
            templates.push(t);
        } else {
            parsers.push(t);
        }
    }
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/ts_dicts.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading text search dictionaries (sql/catalog/ts_dicts.sql)")?;
    let dictionaries = rows
        .iter()
        .map(|r| Dictionary {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            template: r.get("template"),
            options: r.get("options"),
            comment: r.get("comment"),
        })
        .collect();
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/ts_configs.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading text search configurations (sql/catalog/ts_configs.sql)")?;
    let configurations = rows
        .iter()
        .map(|r| {
            let tokens: Vec<String> = r.get("tokens");
            let dicts: Vec<String> = r.get("dicts");
            Configuration {
                oid: r.get("oid"),
                schema: r.get("schema"),
                name: r.get("name"),
                parser: r.get("parser"),
                mappings: tokens.into_iter().zip(dicts).collect(),
                comment: r.get("comment"),
            }
        })
        .collect();
    Ok(TextSearch {
        templates,
        parsers,
        dictionaries,
        configurations,
    })
}
