//! Sequences (PostgreSQL 10+ catalog `pg_sequence`).

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A sequence that is not an identity column's (those come with their column).
#[derive(Debug, Clone)]
pub struct Sequence {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub type_sql: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    pub unlogged: bool,
    /// The hidden sequence of an identity column.
    pub is_identity: bool,
    /// Table oid and column name of `OWNED BY`.
    pub owned_by: Option<(Oid, String)>,
    pub comment: Option<String>,
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Sequence>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/sequences.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading sequences (sql/catalog/sequences.sql)")?;
    Ok(rows
        .iter()
        .map(|r| {
            let owner: Option<Oid> = r.get("owned_by_table");
            let col: Option<String> = r.get("owned_by_column");
            Sequence {
                oid: r.get("oid"),
                schema: r.get("schema"),
                name: r.get("name"),
                type_sql: r.get("type_sql"),
                start: r.get("start"),
                increment: r.get("increment"),
                min: r.get("min"),
                max: r.get("max"),
                cache: r.get("cache"),
                cycle: r.get("cycle"),
                unlogged: r.get::<_, String>("persistence") == "u",
                is_identity: r.get("is_identity"),
                owned_by: owner.zip(col),
                comment: r.get("comment"),
            }
        })
        .collect())
}
