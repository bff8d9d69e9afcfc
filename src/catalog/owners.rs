//! Owners and privileges (ACLs) of the objects pgferry creates, read only for
//! `migrate --keep-owners` (sql/catalog/owners.sql). The ACL is kept exploded
//! (`aclexplode()`: grantor, grantee, privilege, grantable) so the renderer
//! replays it with plain GRANTs and never parses `aclitem` text.

use crate::pg::Oid;
use anyhow::Context;
use serde::Deserialize;
use tokio_postgres::types::Type;
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
    pub oid: Oid,
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

/// A role of the source, for `--create-roles`.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub superuser: bool,
    pub inherit: bool,
    pub createrole: bool,
    pub createdb: bool,
    pub login: bool,
    pub replication: bool,
    pub bypassrls: bool,
    pub connlimit: i32,
    pub valid_until: Option<String>,
    /// Roles it is a member of.
    pub member_of: Vec<String>,
}

/// The roles that own large objects or are granted privileges on them.
pub(super) async fn read_large_object_roles(client: &Client) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query_typed(
            "SELECT pg_catalog.pg_get_userbyid(m.lomowner)::text FROM pg_catalog.pg_largeobject_metadata m \
             UNION SELECT pg_catalog.pg_get_userbyid(x.grantee)::text \
             FROM pg_catalog.pg_largeobject_metadata m, pg_catalog.aclexplode(m.lomacl) x \
             WHERE x.grantee <> 0",
            &[],
        )
        .await
        .context("reading the roles of large objects")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Every role of the source but the built-in `pg_*` ones.
pub(super) async fn read_roles(client: &Client) -> anyhow::Result<Vec<Role>> {
    let rows = client
        .query_typed(include_str!("../../sql/catalog/roles.sql"), &[])
        .await
        .context("reading roles (sql/catalog/roles.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Role {
            name: r.get("name"),
            superuser: r.get("superuser"),
            inherit: r.get("inherit"),
            createrole: r.get("createrole"),
            createdb: r.get("createdb"),
            login: r.get("login"),
            replication: r.get("replication"),
            bypassrls: r.get("bypassrls"),
            connlimit: r.get("connlimit"),
            valid_until: r.get("valid_until"),
            member_of: r.get("member_of"),
        })
        .collect())
}

/// One `pg_default_acl` entry (`ALTER DEFAULT PRIVILEGES`).
#[derive(Debug, Clone)]
pub struct DefaultAcl {
    pub oid: Oid,
    /// The role whose new objects get these privileges.
    pub role: String,
    /// `None`: the role's global defaults; else grants added in this schema.
    pub schema: Option<String>,
    /// `r` tables, `S` sequences, `f` functions, `T` types, `n` schemas.
    pub objtype: String,
    pub acl: Vec<Grant>,
}

/// Reads every default-privileges entry.
pub(super) async fn read_default_acls(client: &Client) -> anyhow::Result<Vec<DefaultAcl>> {
    let rows = client
        .query_typed(include_str!("../../sql/catalog/default_acl.sql"), &[])
        .await
        .context("reading default privileges (sql/catalog/default_acl.sql)")?;
    rows.iter()
        .map(|r| {
            let acl: Option<serde_json::Value> = r.get("acl_json");
            Ok(DefaultAcl {
                oid: r.get("oid"),
                role: r.get("role"),
                schema: r.get("schema"),
                objtype: r.get("objtype"),
                acl: match acl {
                    Some(v) => serde_json::from_value(v).context("decoding a default ACL")?,
                    None => Vec::new(),
                },
            })
        })
        .collect()
}

/// Reads owners and ACLs of everything in `schemas`.
pub(super) async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Owned>> {
    let sql = include_str!("../../sql/catalog/owners.sql");
    let rows = client
        .query_typed(sql, &[(&schemas, Type::NAME_ARRAY)])
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
