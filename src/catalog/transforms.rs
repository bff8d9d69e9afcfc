//! Transforms (`CREATE TRANSFORM FOR type LANGUAGE lang (FROM SQL WITH
//! FUNCTION ..., TO SQL WITH FUNCTION ...)`) outside extensions: pg_dump
//! carries them, so the migration does (src/ddl/transforms.rs).

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::Client;

/// `CREATE TRANSFORM`.
#[derive(Debug, Clone)]
pub struct Transform {
    pub oid: Oid,
    /// The type, as `format_type` prints it (`integer`, `"Tr".pt`).
    pub type_name: String,
    /// The type's schema, raw: selection follows it.
    pub type_schema: String,
    /// The language, raw.
    pub language: String,
    /// `FROM SQL WITH FUNCTION`, regprocedure text (`"Tr".fs(internal)`).
    pub from_sql: Option<String>,
    /// `TO SQL WITH FUNCTION`, regprocedure text.
    pub to_sql: Option<String>,
    pub comment: Option<String>,
}

pub(super) async fn read(client: &Client) -> anyhow::Result<Vec<Transform>> {
    let rows = client
        .query_typed(include_str!("../../sql/catalog/transforms.sql"), &[])
        .await
        .context("reading transforms (sql/catalog/transforms.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Transform {
            oid: r.get("oid"),
            type_name: r.get("type_name"),
            type_schema: r.get("type_schema"),
            language: r.get("language"),
            from_sql: r.get("from_sql"),
            to_sql: r.get("to_sql"),
            comment: r.get("comment"),
        })
        .collect())
}
