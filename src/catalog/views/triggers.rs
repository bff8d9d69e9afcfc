//! User triggers on tables, partitioned tables and views.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A trigger, or (13+) a partition's clone of its partitioned table's trigger.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub oid: Oid,
    pub table_oid: Oid,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// `pg_get_triggerdef()`: a complete `CREATE [CONSTRAINT] TRIGGER` statement.
    pub definition: String,
    /// `O` (default), `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    /// For a clone made by a partitioned table's trigger (13+), the parent's
    /// `tgenabled`: the clone is created by the parent's `CREATE TRIGGER`, and
    /// only a state that differs from the parent's is migrated.
    pub parent_enabled: Option<String>,
    pub comment: Option<String>,
}

impl Trigger {
    /// True for a partition's clone of its parent's trigger.
    pub fn is_clone(&self) -> bool {
        self.parent_enabled.is_some()
    }
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Trigger>> {
    // Before 13, clones on partitions are internal and already excluded.
    let sql = include_str!("../../../sql/catalog/triggers.sql");
    let rows = client
        .query_typed(sql, &[(&schemas, Type::NAME_ARRAY)])
        .await
        .context("reading triggers (sql/catalog/triggers.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Trigger {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            schema: r.get("schema"),
            table_name: r.get("table_name"),
            name: r.get("name"),
            definition: r.get("definition"),
            enabled: r.get("enabled"),
            parent_enabled: r.get("parent_enabled"),
            comment: r.get("comment"),
        })
        .collect())
}
