//! Where relations live: the tablespace of every table, index and
//! materialized view outside the database's default one, and where the plan
//! creates each on the target.
//!
//! Read apart from the relations themselves (one query keyed by oid) so that
//! tables, indexes, the indexes behind constraints and materialized views are
//! all placed the same way. `pg_get_indexdef` and `pg_get_constraintdef` never
//! print a tablespace: the renderers add the clause (`ddl::tablespace`).

use crate::pg::Oid;
use anyhow::Context;
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// Tablespaces of relations, as read and as planned.
#[derive(Debug, Clone, Default)]
pub struct Tablespaces {
    /// The database's default tablespace (`pg_database.dattablespace`), where
    /// every relation not in [`Tablespaces::of`] lives.
    pub database_default: String,
    /// Relation oid -> its tablespace, for relations outside the database's
    /// default, as read.
    pub of: HashMap<Oid, String>,
    /// Relation oid -> the tablespace it is created in on the target; absent:
    /// the target database's default (no `TABLESPACE` clause). As read until
    /// the plan's tablespace rule (`plan::tablespaces`) applies the map.
    pub create_in: HashMap<Oid, String>,
    /// The map the rule applied (`--tablespace-map`, `[tablespaces]`):
    /// source tablespace -> target tablespace, `None` for the target's
    /// default. Empty until then (and when no entry was given).
    pub mapped: BTreeMap<String, Option<String>>,
}

impl Tablespaces {
    /// The tablespace the relation with `oid` is created in on the target;
    /// `None`: the target database's default.
    pub fn create_in(&self, oid: Oid) -> Option<&str> {
        self.create_in.get(&oid).map(String::as_str)
    }
}

/// Reads the tablespaces of the relations of `schemas`.
pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Tablespaces> {
    let (database_default, rows) = tokio::try_join!(database_default(client), async {
        client
            .query_typed(
                include_str!("../../sql/catalog/tablespaces.sql"),
                &[(&schemas, Type::NAME_ARRAY)],
            )
            .await
            .context("reading tablespaces (sql/catalog/tablespaces.sql)")
    })?;
    let of: HashMap<Oid, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(Tablespaces {
        database_default,
        create_in: of.clone(),
        of,
        mapped: BTreeMap::new(),
    })
}

/// The name of the connected database's default tablespace.
pub async fn database_default(client: &Client) -> anyhow::Result<String> {
    let row = client
        .query_typed_one(
            "SELECT t.spcname::text FROM pg_catalog.pg_database d \
             JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace \
             WHERE d.datname = pg_catalog.current_database()",
            &[],
        )
        .await
        .context("reading the database's default tablespace")?;
    Ok(row.get(0))
}
