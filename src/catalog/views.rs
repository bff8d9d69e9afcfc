//! Views, materialized views, rules, triggers and row-level security policies.
//!
//! Everything is kept as the server renders it (`pg_get_viewdef`,
//! `pg_get_ruledef`, `pg_get_triggerdef`, `pg_get_indexdef`, `pg_get_expr`), so
//! the target gets exactly what the source has. Rules, triggers and policies
//! are read in `views/` (one file each).

mod policies;
mod rules;
mod triggers;

pub use policies::Policy;
pub use rules::Rule;
pub use triggers::Trigger;

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A view (`relkind` `v`) or materialized view (`m`).
#[derive(Debug, Clone)]
pub struct View {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub relkind: String,
    /// `pg_get_viewdef()`: the query, ending with a semicolon.
    pub definition: String,
    /// `name=value` reloptions, including `check_option`.
    pub reloptions: Vec<String>,
    /// Whether a materialized view holds data (`relispopulated`).
    pub populated: bool,
    /// The query relies on a constraint (a primary key that makes other columns
    /// functionally dependent in a GROUP BY): it can only be created after
    /// post-data constraints.
    pub needs_constraint: bool,
    pub comment: Option<String>,
    pub columns: Vec<ViewColumn>,
}

impl View {
    /// True for a materialized view.
    pub fn is_materialized(&self) -> bool {
        self.relkind == "m"
    }
}

/// What a view's column has beyond its name and type, which the query gives.
#[derive(Debug, Clone)]
pub struct ViewColumn {
    pub name: String,
    /// Default set with `ALTER VIEW ... ALTER COLUMN ... SET DEFAULT` (for
    /// inserts through the view), as `pg_get_expr` renders it.
    pub default_sql: Option<String>,
    /// Statistics target, -1 when the default.
    pub stat_target: i32,
    pub comment: Option<String>,
}

/// An index of a materialized view.
#[derive(Debug, Clone)]
pub struct MatviewIndex {
    pub oid: Oid,
    pub matview_oid: Oid,
    pub name: String,
    /// `pg_get_indexdef()`: a complete `CREATE INDEX` statement.
    pub definition: String,
    pub clustered: bool,
    pub comment: Option<String>,
}

/// Views, materialized views, rules, triggers and row-level security policies of the source.
#[derive(Debug, Clone, Default)]
pub struct Views {
    /// Views and materialized views, by schema and name.
    pub views: Vec<View>,
    pub matview_indexes: Vec<MatviewIndex>,
    pub rules: Vec<Rule>,
    pub triggers: Vec<Trigger>,
    pub policies: Vec<Policy>,
}

impl Views {
    /// The view or materialized view with this oid.
    pub fn view(&self, oid: Oid) -> Option<&View> {
        self.views.iter().find(|v| v.oid == oid)
    }
}

/// Reads them from the schemas named in `schemas`.
/// What does not depend on another answer is read at once, pipelined on the
/// session (see [`super::Catalog::read`]).
pub async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Views> {
    let (mut views, rules, triggers, policies) = tokio::try_join!(
        read_views(client, schemas),
        rules::read(client, schemas),
        triggers::read(client, schemas),
        policies::read(client, schemas),
    )?;
    let oids: Vec<Oid> = views.iter().map(|v| v.oid).collect();
    let mv_oids: Vec<Oid> = views
        .iter()
        .filter(|v| v.is_materialized())
        .map(|v| v.oid)
        .collect();
    let (_, matview_indexes) = tokio::try_join!(
        read_columns(client, &oids, &mut views),
        read_matview_indexes(client, &mv_oids),
    )?;
    Ok(Views {
        views,
        matview_indexes,
        rules,
        triggers,
        policies,
    })
}

async fn read_views(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<View>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/views.sql"),
            &[(&schemas, Type::NAME_ARRAY)],
        )
        .await
        .context("reading views (sql/catalog/views.sql)")?;
    Ok(rows
        .iter()
        .map(|r| View {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            relkind: r.get("relkind"),
            definition: r.get("definition"),
            reloptions: crate::pg::lower_option_names(r.get("reloptions")),
            populated: r.get("populated"),
            needs_constraint: r.get("needs_constraint"),
            comment: r.get("comment"),
            columns: Vec::new(),
        })
        .collect())
}

async fn read_columns(client: &Client, oids: &[Oid], views: &mut [View]) -> anyhow::Result<()> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/view_columns.sql"),
            &[(&oids, Type::INT8_ARRAY)],
        )
        .await
        .context("reading view columns (sql/catalog/view_columns.sql)")?;
    let index: std::collections::HashMap<Oid, usize> =
        oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    for r in rows {
        let Some(&i) = index.get(&r.get::<_, Oid>("view_oid")) else {
            continue;
        };
        views[i].columns.push(ViewColumn {
            name: r.get("name"),
            default_sql: r.get("default_sql"),
            stat_target: r.get("stat_target"),
            comment: r.get("comment"),
        });
    }
    Ok(())
}

async fn read_matview_indexes(client: &Client, oids: &[Oid]) -> anyhow::Result<Vec<MatviewIndex>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/matviews.sql"),
            &[(&oids, Type::INT8_ARRAY)],
        )
        .await
        .context("reading materialized view indexes (sql/catalog/matviews.sql)")?;
    Ok(rows
        .iter()
        .map(|r| MatviewIndex {
            oid: r.get("oid"),
            matview_oid: r.get("matview_oid"),
            name: r.get("name"),
            definition: r.get("definition"),
            clustered: r.get("clustered"),
            comment: r.get("comment"),
        })
        .collect())
}
