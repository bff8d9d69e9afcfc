//! Extensions and collations: the database-wide and locale objects that types
//! and columns build on.

use super::query;
use crate::pg::Oid;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// An installed extension (not plpgsql).
#[derive(Debug, Clone)]
pub struct Extension {
    pub oid: Oid,
    pub name: String,
    pub schema: String,
    /// `extversion` on the source.
    pub version: String,
    pub comment: Option<String>,
}

/// A user-created collation.
#[derive(Debug, Clone)]
pub struct Collation {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `c` libc, `i` ICU, `b` builtin (17+), `d` default.
    pub provider: String,
    pub collate: Option<String>,
    pub ctype: Option<String>,
    /// ICU or builtin locale.
    pub locale: Option<String>,
    /// False only for nondeterministic ICU collations (12+).
    pub deterministic: bool,
    /// ICU tailoring rules (16+).
    pub rules: Option<String>,
    pub comment: Option<String>,
}

pub(super) async fn read_extensions(client: &Client) -> anyhow::Result<Vec<Extension>> {
    let sql = include_str!("../../../sql/catalog/extensions.sql");
    let rows = query(client, sql, "extensions.sql", &[]).await?;
    Ok(rows
        .iter()
        .map(|r| Extension {
            oid: r.get("oid"),
            name: r.get("name"),
            schema: r.get("schema"),
            version: r.get("version"),
            comment: r.get("comment"),
        })
        .collect())
}

pub(super) async fn read_collations(
    client: &Client,
    schemas: &[String],
) -> anyhow::Result<Vec<Collation>> {
    let sql = include_str!("../../../sql/catalog/collations.sql");
    let rows = query(
        client,
        sql,
        "collations.sql",
        &[(&schemas, Type::NAME_ARRAY)],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Collation {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            provider: r.get("provider"),
            collate: r.get("collate"),
            ctype: r.get("ctype"),
            locale: r.get("locale"),
            deterministic: r.get("deterministic"),
            rules: r.get("rules"),
            comment: r.get("comment"),
        })
        .collect())
}
