//! Security labels (`SECURITY LABEL FOR provider ON ... IS '...'`) of the
//! objects pgferry migrates, as pg_dump carries them, and which label
//! providers a server has loaded (a label needs its provider on the target).

use crate::pg::Oid;
use anyhow::Context;
use std::collections::{BTreeSet, HashSet};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// One security label of one object.
#[derive(Debug, Clone)]
pub struct SecurityLabel {
    /// The object the plan ties the label to: the relation of a column
    /// label, the `pg_class` entry of a composite type, else the object.
    pub oid: Oid,
    /// `pg_seclabels.objtype`: the keyword `SECURITY LABEL` takes, in lower
    /// case (`table`, `column`, `materialized view`, `domain`, `role`...).
    pub kind: String,
    /// The object as `SECURITY LABEL` names it, quoted (`s.t."B c"`,
    /// `s.f(integer,pg_catalog.text)`).
    pub identity: String,
    /// The column of a column label, raw.
    pub column: Option<String>,
    pub provider: String,
    pub label: String,
}

pub(super) async fn read(
    client: &Client,
    schemas: &[String],
) -> anyhow::Result<Vec<SecurityLabel>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/seclabels.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading security labels (sql/catalog/seclabels.sql)")?;
    Ok(rows
        .iter()
        .map(|r| SecurityLabel {
            oid: r.get("oid"),
            kind: r.get("kind"),
            identity: r.get("identity"),
            column: r.get("column_name"),
            provider: r.get("provider"),
            label: r.get("label"),
        })
        .collect())
}

/// A schema no database has (the `pg_` prefix is reserved for the system):
/// the object of the provider probe below.
const PROBE_SCHEMA: &str = "pg_pgferry_label_probe";

/// The providers among `wanted` that the server of `client` has loaded.
///
/// No catalog lists them: a provider registers itself in the memory of each
/// backend as its module loads (`shared_preload_libraries`), and a label
/// whose provider is not loaded stays in `pg_seclabel` all the same. So each
/// is asked for with a `SECURITY LABEL` on a schema that does not exist:
/// the server looks the provider up first and fails with SQLSTATE 22023
/// ("security label provider ... is not loaded") when it has none, and
/// otherwise gets as far as the schema (3F000, "does not exist"). Nothing
/// is ever written; one round trip per provider (there are few).
pub async fn loaded_label_providers(
    client: &Client,
    wanted: &BTreeSet<String>,
) -> anyhow::Result<HashSet<String>> {
    let mut loaded = HashSet::new();
    for p in wanted {
        let sql = format!(
            "SECURITY LABEL FOR {} ON SCHEMA {PROBE_SCHEMA} IS NULL",
            crate::pg::quote_ident(p)
        );
        match client.batch_execute(&sql).await {
            // Only if the schema existed after all: the provider is there.
            Ok(()) => {
                loaded.insert(p.clone());
            }
            Err(e) => match e.code() {
                Some(c) if *c == tokio_postgres::error::SqlState::INVALID_PARAMETER_VALUE => {}
                Some(_) => {
                    loaded.insert(p.clone());
                }
                None => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("asking the server for security label provider {p}")))
                }
            },
        }
    }
    Ok(loaded)
}

/// The providers `labels` use (a source's) that the server of `client` (a
/// target) has loaded, for the plan (`BuildOptions::label_providers`).
pub async fn loaded_for(
    client: &Client,
    labels: &[SecurityLabel],
) -> anyhow::Result<HashSet<String>> {
    let wanted: BTreeSet<String> = labels.iter().map(|l| l.provider.clone()).collect();
    loaded_label_providers(client, &wanted).await
}
