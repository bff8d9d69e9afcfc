//! Foreign-data wrappers, servers, user mappings and foreign tables
//! (structure only: a foreign table's rows live on the remote server).
//! User mappings are read from `pg_user_mappings` without their `password`
//! option, which is never read back: the plan reports it so that the user
//! enters it again on the target.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Everything of the SQL/MED family on the source.
#[derive(Debug, Clone, Default)]
pub struct Foreign {
    pub wrappers: Vec<Wrapper>,
    pub servers: Vec<Server>,
    pub mappings: Vec<UserMapping>,
    pub tables: Vec<ForeignTable>,
}

/// `CREATE FOREIGN DATA WRAPPER`.
#[derive(Debug, Clone)]
pub struct Wrapper {
    pub oid: Oid,
    pub name: String,
    pub handler: Option<String>,
    pub validator: Option<String>,
    /// `key 'value', ...`.
    pub options: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE SERVER`.
#[derive(Debug, Clone)]
pub struct Server {
    pub oid: Oid,
    pub name: String,
    /// Quoted wrapper name.
    pub wrapper: String,
    pub server_type: Option<String>,
    pub version: Option<String>,
    pub options: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE USER MAPPING`, its password left out.
#[derive(Debug, Clone)]
pub struct UserMapping {
    pub oid: Oid,
    /// The role, or `public`.
    pub role: String,
    /// Quoted server name.
    pub server: String,
    pub options: Option<String>,
    /// A `password` option exists on the source (its value is not read).
    pub had_password: bool,
}

/// `CREATE FOREIGN TABLE` (no rows are copied).
#[derive(Debug, Clone)]
pub struct ForeignTable {
    pub oid: Oid,
    pub schema: String,
    /// Quoted `schema.table`.
    pub qualified: String,
    /// The table's own name, unquoted (set with its columns).
    pub name: String,
    pub server: String,
    /// Quoted partition parent and bound, when a partition.
    pub parent: Option<String>,
    pub bound: Option<String>,
    pub options: Option<String>,
    /// Every column, in order (a partition is created on its own, then
    /// attached, as regular partitions are).
    pub columns: Vec<ForeignColumn>,
    pub comment: Option<String>,
}

/// A column of a foreign table.
#[derive(Debug, Clone)]
pub struct ForeignColumn {
    /// Name, type, column OPTIONS and collation, rendered.
    pub head: String,
    pub name: String,
    pub not_null: bool,
    /// The NOT NULL constraint's name (18+ sources).
    pub not_null_name: Option<String>,
    pub default_sql: Option<String>,
}

pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Foreign> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/foreign.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading foreign-data objects (sql/catalog/foreign.sql)")?;
    let mut out = Foreign::default();
    for r in &rows {
        let kind: String = r.get("kind");
        let (oid, name): (Oid, String) = (r.get("oid"), r.get("name"));
        let (a, b, c): (Option<String>, Option<String>, Option<String>) =
            (r.get("a"), r.get("b"), r.get("c"));
        let (options, comment) = (r.get("options"), r.get("comment"));
        match kind.as_str() {
            "w" => out.wrappers.push(Wrapper {
                oid,
                name,
                handler: a,
                validator: b,
                options,
                comment,
            }),
            "s" => out.servers.push(Server {
                oid,
                name,
                wrapper: a.unwrap_or_default(),
                server_type: b,
                version: c,
                options,
                comment,
            }),
            "u" => out.mappings.push(UserMapping {
                oid,
                role: name,
                server: a.unwrap_or_default(),
                options,
                had_password: c.is_some(),
            }),
            _ => out.tables.push(ForeignTable {
                oid,
                schema: schemas
                    .iter()
                    .find(|s| name.starts_with(&format!("{}.", crate::pg::quote_ident(s))))
                    .cloned()
                    .unwrap_or_default(),
                qualified: name,
                name: String::new(),
                server: a.unwrap_or_default(),
                parent: b,
                bound: c,
                options,
                columns: Vec::new(),
                comment,
            }),
        }
    }
    let oids: Vec<Oid> = out.tables.iter().map(|t| t.oid).collect();
    if !oids.is_empty() {
        let rows = client
            .query_typed(
                include_str!("../../sql/catalog/foreign_columns.sql"),
                &[(&oids, Type::INT8_ARRAY)],
            )
            .await
            .context("reading foreign table columns (sql/catalog/foreign_columns.sql)")?;
        for r in &rows {
            let oid: Oid = r.get("table_oid");
            if let Some(t) = out.tables.iter_mut().find(|t| t.oid == oid) {
                t.name = r.get("table_name");
                t.columns.push(ForeignColumn {
                    head: r.get("head"),
                    name: r.get("name"),
                    not_null: r.get("not_null"),
                    not_null_name: r.get("not_null_name"),
                    default_sql: r
                        .get::<_, Option<String>>("default_sql")
                        .map(|d| crate::pg::plain_bit_literals(&d)),
                });
            }
        }
    }
    Ok(out)
}
