//! Owners and privileges (ACLs) of the objects pgferry creates, read only for
//! `migrate --keep-owners` (sql/catalog/owners.sql). The ACL is kept exploded
//! (`aclexplode()`: grantor, grantee, privilege, grantable) so the renderer
//! replays it with plain GRANTs and never parses `aclitem` text.

use anyhow::Context;
use serde::Deserialize;
use tokio_postgres::Client;

/// One privilege of an ACL, as `aclexplode()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Grant {
    pub grantor: String,
    /// `None` is PUBLIC.
    pub grantee: Option<String>,
    /// `SELECT`, `USAGE`, `EXECUTE`...
    pub privilege: String,
    pub grantable: bool,
}

/// A column privilege (`pg_attribute.attacl`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ColumnGrant {
    pub column: String,
    #[serde(flatten)]
    pub grant: Grant,
}

/// The owner and ACL of one object.
#[derive(Debug, Clone)]
pub struct Owned {
    /// Catalog oid of the object (plan steps are tied to it).
    pub oid: i64,
    /// Keyword of `ALTER <kind> ... OWNER TO` (`TABLE`, `AGGREGATE`, `OPERATOR CLASS`...).
    pub alter_kind: String,
    /// Quoted, qualified name as `ALTER` wants it (with argument types, `USING am`).
    pub identity: String,
    /// Keyword of `GRANT ... ON <kind>`; `None` for kinds without privileges.
    pub grant_kind: Option<String>,
    pub grant_identity: Option<String>,
    pub owner: String,
    /// `None` when the ACL is NULL: the kind's default privileges, nothing to replay.
    pub acl: Option<Vec<Grant>>,
    /// Column privileges of a table or view, in column order.
    pub column_acl: Vec<ColumnGrant>,
}

/// Reads owners and ACLs of everything in `schemas`.
pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Owned>> {
    let sql = include_str!("../../sql/catalog/owners.sql");
    let rows = client
        .query(sql, &[&schemas])
        .await
        .context("reading owners and privileges (sql/catalog/owners.sql)")?;
    rows.iter()
        .map(|r| {
            let acl: Option<serde_json::Value> = r.get("acl_json");
            let has_acl: bool = r.get("has_acl");
            let acl = if has_acl {
                // An empty ACL (everything revoked) aggregates to NULL.
                Some(match acl {
                    Some(v) => serde_json::from_value(v).context("decoding an ACL")?,
                    None => Vec::new(),
                })
            } else {
                None
            };
            let cols: Option<serde_json::Value> = r.get("column_acl_json");
            let column_acl = match cols {
                Some(v) => serde_json::from_value(v).context("decoding column ACLs")?,
                None => Vec::new(),
            };
            Ok(Owned {
                oid: r.get("oid"),
                alter_kind: r.get("alter_kind"),
                identity: r.get("identity"),
                grant_kind: r.get("grant_kind"),
                grant_identity: r.get("grant_identity"),
                owner: r.get("owner"),
                acl,
                column_acl,
            })
        })
        .collect()
}
