//! Rewrite rules other than views' own `_RETURN` rules.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A rule on a table or view.
#[derive(Debug, Clone)]
pub struct Rule {
    pub oid: Oid,
    pub table_oid: Oid,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// `pg_get_ruledef()`: a complete `CREATE RULE` statement.
    pub definition: String,
    /// `O` (default), `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    pub comment: Option<String>,
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Rule>> {
    let rows = client
        .query_typed(
            include_str!("../../../sql/catalog/rules.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading rules (sql/catalog/rules.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Rule {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            schema: r.get("schema"),
            table_name: r.get("table_name"),
            name: r.get("name"),
            definition: r.get("definition"),
            enabled: r.get("enabled"),
            comment: r.get("comment"),
        })
        .collect())
}
