//! Text search dictionaries and configurations. Templates and parsers are
//! C code (like base types' I/O), so only those of the server or of
//! extensions can be used; user-made ones are reported by the precheck.

use anyhow::Context;
use tokio_postgres::Client;

/// Dictionaries and configurations of the source.
#[derive(Debug, Clone, Default)]
pub struct TextSearch {
    pub dictionaries: Vec<Dictionary>,
    pub configurations: Vec<Configuration>,
}

/// `CREATE TEXT SEARCH DICTIONARY`.
#[derive(Debug, Clone)]
pub struct Dictionary {
    pub oid: i64,
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
    pub oid: i64,
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
        .query(include_str!("../../sql/catalog/ts_dicts.sql"), &[&schemas])
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
        .query(
            include_str!("../../sql/catalog/ts_configs.sql"),
            &[&schemas],
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
        dictionaries,
        configurations,
    })
}
