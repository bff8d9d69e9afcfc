//! Extended statistics objects (`CREATE STATISTICS`, PostgreSQL 10+).

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// One statistics object; `definition` is the server's own rendering.
#[derive(Debug, Clone)]
pub struct StatisticsObject {
    pub oid: Oid,
    pub table_oid: Oid,
    pub schema: String,
    pub name: String,
    /// `pg_get_statisticsobjdef()`: a complete `CREATE STATISTICS` statement.
    pub definition: String,
    pub comment: Option<String>,
}

pub(super) async fn read(
    client: &Client,
    table_oids: &[Oid],
) -> anyhow::Result<Vec<StatisticsObject>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/statistics.sql"),
            &[(&table_oids, Type::INT8_ARRAY)],
        )
        .await
        .context("reading statistics objects (sql/catalog/statistics.sql)")?;
    Ok(rows
        .iter()
        .map(|r| StatisticsObject {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            definition: r.get("definition"),
            comment: r.get("comment"),
        })
        .collect())
}
