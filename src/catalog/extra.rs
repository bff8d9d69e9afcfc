//! Objects beyond tables, types and routines: event triggers and
//! publications (database-wide; publications structure only) and encoding
//! conversions. Read here so that they are migrated instead of listed as
//! left behind.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// `CREATE EVENT TRIGGER`.
#[derive(Debug, Clone)]
pub struct EventTrigger {
    pub oid: Oid,
    pub name: String,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`, `login` (17+).
    pub event: String,
    /// `WHEN TAG IN (...)`, empty for every command.
    pub tags: Vec<String>,
    /// The trigger function, regproc text.
    pub function: String,
    /// `O` on, `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    pub comment: Option<String>,
}

/// `CREATE PUBLICATION`: which tables, which changes.
#[derive(Debug, Clone)]
pub struct Publication {
    pub oid: Oid,
    pub name: String,
    pub all_tables: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
    pub via_root: bool,
    /// Oids of the published tables, in the order of `tables`.
    pub table_oids: Vec<Oid>,
    /// `schema.table [(columns)] [WHERE (filter)]`, quoted.
    pub tables: Vec<String>,
    /// Schemas published whole (`TABLES IN SCHEMA`, 15+), quoted.
    pub schemas: Vec<String>,
    pub comment: Option<String>,
}

/// `CREATE [DEFAULT] CONVERSION`.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub from_encoding: String,
    pub to_encoding: String,
    pub function: String,
    pub is_default: bool,
    pub comment: Option<String>,
}

pub(super) async fn read_conversions(
    client: &Client,
    schemas: &[String],
) -> anyhow::Result<Vec<Conversion>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/conversions.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading conversions (sql/catalog/conversions.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Conversion {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            from_encoding: r.get("from_encoding"),
            to_encoding: r.get("to_encoding"),
            function: r.get("function"),
            is_default: r.get("is_default"),
            comment: r.get("comment"),
        })
        .collect())
}

pub(super) async fn read_event_triggers(client: &Client) -> anyhow::Result<Vec<EventTrigger>> {
    let rows = client
        .query_typed(include_str!("../../sql/catalog/event_triggers.sql"), &[])
        .await
        .context("reading event triggers (sql/catalog/event_triggers.sql)")?;
    Ok(rows
        .iter()
        .map(|r| EventTrigger {
            oid: r.get("oid"),
            name: r.get("name"),
            event: r.get("event"),
            tags: r.get("tags"),
            function: r.get("function"),
            enabled: r.get("enabled"),
            comment: r.get("comment"),
        })
        .collect())
}

pub(super) async fn read_publications(client: &Client) -> anyhow::Result<Vec<Publication>> {
    let sql = include_str!("../../sql/catalog/publications.sql");
    let rows = client
        .query_typed(sql, &[])
        .await
        .context("reading publications (sql/catalog/publications.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Publication {
            oid: r.get("oid"),
            name: r.get("name"),
            all_tables: r.get("all_tables"),
            insert: r.get("ins"),
            update: r.get("upd"),
            delete: r.get("del"),
            truncate: r.get("trunc"),
            via_root: r.get("via_root"),
            table_oids: r.get("table_oids"),
            tables: r.get("tables"),
            schemas: r.get("schemas"),
            comment: r.get("comment"),
        })
        .collect())
}
