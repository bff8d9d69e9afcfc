//! Which objects use which table columns (`sql/catalog/column_uses.sql`).
//!
//! `Catalog.depends` folds sub-objects into their owners, which is right for
//! creation order but loses the column: column selection needs to know that
//! an index, a constraint, a view or a trigger uses one particular column.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::Client;

/// One object's use of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnUse {
    /// The using object (a view's oid for its query).
    pub obj: Oid,
    /// `constraint`, `index`, `view or rule`, `trigger`, `policy`, `default`, `sequence`...
    pub kind: String,
    pub table_oid: Oid,
    pub attnum: i32,
    /// For a default or generation expression, the column it belongs to; else 0.
    pub owner_attnum: i32,
}

pub(super) async fn read(client: &Client) -> anyhow::Result<Vec<ColumnUse>> {
    let rows = client
        .query_typed(include_str!("../../sql/catalog/column_uses.sql"), &[])
        .await
        .context("reading column uses (sql/catalog/column_uses.sql)")?;
    Ok(rows
        .iter()
        .map(|r| ColumnUse {
            obj: r.get("obj"),
            kind: r.get("kind"),
            table_oid: r.get("table_oid"),
            attnum: r.get("attnum"),
            owner_attnum: r.get("owner_attnum"),
        })
        .collect())
}
