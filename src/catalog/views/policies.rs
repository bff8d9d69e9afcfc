//! Row-level security policies. (Whether RLS is enabled and forced is on
//! [`crate::catalog::Table`].)

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A row-level security policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub oid: Oid,
    pub table_oid: Oid,
    pub schema: String,
    pub table_name: String,
    pub name: String,
    /// `r` SELECT, `a` INSERT, `w` UPDATE, `d` DELETE, `*` ALL.
    pub cmd: String,
    /// False for `AS RESTRICTIVE`.
    pub permissive: bool,
    /// Role names; empty for PUBLIC.
    pub roles: Vec<String>,
    /// `USING (...)` expression.
    pub using_sql: Option<String>,
    /// `WITH CHECK (...)` expression.
    pub check_sql: Option<String>,
    pub comment: Option<String>,
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Policy>> {
    let rows = client
        .query_typed(
            include_str!("../../../sql/catalog/policies.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading policies (sql/catalog/policies.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Policy {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            schema: r.get("schema"),
            table_name: r.get("table_name"),
            name: r.get("name"),
            cmd: r.get("cmd"),
            permissive: r.get("permissive"),
            roles: r.get("roles"),
            using_sql: r.get("using_sql"),
            check_sql: r.get("check_sql"),
            comment: r.get("comment"),
        })
        .collect())
}
