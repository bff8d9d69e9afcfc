//! Operator families and classes, with their members (sql/catalog/opclasses.sql).

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// An operator family, with the members that belong to it loosely (added by
/// `ALTER OPERATOR FAMILY ... ADD`, not by one of its classes).
#[derive(Debug, Clone)]
pub struct OpFamily {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// Access method name (`btree`, `hash`, `gist`, ...).
    pub am: String,
    pub members: Vec<OpMember>,
    pub comment: Option<String>,
}

/// An operator class, with its own members.
#[derive(Debug, Clone)]
pub struct OpClass {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub am: String,
    pub is_default: bool,
    /// `format_type()` of the indexed type.
    pub for_type: String,
    pub family_oid: Oid,
    /// Qualified, quoted family name.
    pub family: String,
    /// `STORAGE` type, when it differs from the indexed type.
    pub storage: Option<String>,
    pub members: Vec<OpMember>,
    pub comment: Option<String>,
}

/// An operator (strategy) or support function of a class or family.
#[derive(Debug, Clone)]
pub struct OpMember {
    /// `OPERATOR` or `FUNCTION`.
    pub kind: String,
    /// Strategy or support number.
    pub num: i32,
    pub left_type: String,
    pub right_type: String,
    /// regoperator / regprocedure text: qualified, with argument types.
    pub what: String,
    /// `FOR ORDER BY` family of an ordering operator.
    pub sort_family: Option<String>,
}

pub(super) async fn read(
    client: &Client,
    schemas: &[String],
) -> anyhow::Result<(Vec<OpFamily>, Vec<OpClass>)> {
    let mut parts = include_str!("../../../sql/catalog/opclasses.sql").split("\n;;\n");
    let (Some(fam_sql), Some(class_sql), Some(member_sql)) =
        (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("sql/catalog/opclasses.sql must hold three queries separated by ';;'");
    };
    let ctx = "reading operator families and classes (sql/catalog/opclasses.sql)";
    let params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 1] =
        [(&schemas, Type::NAME_ARRAY)];
    let (fam_rows, class_rows) = tokio::try_join!(
        client.query_typed(fam_sql, &params),
        client.query_typed(class_sql, &params)
    )
    .context(ctx)?;
    let mut families: Vec<OpFamily> = fam_rows
        .iter()
        .map(|r| OpFamily {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            am: r.get("am"),
            members: Vec::new(),
            comment: r.get("comment"),
        })
        .collect();
    let mut classes: Vec<OpClass> = class_rows
        .iter()
        .map(|r| OpClass {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            am: r.get("am"),
            is_default: r.get("is_default"),
            for_type: r.get("for_type"),
            family_oid: r.get("family_oid"),
            family: r.get("family"),
            storage: r.get("storage"),
            members: Vec::new(),
            comment: r.get("comment"),
        })
        .collect();
    let owners: Vec<Oid> = families
        .iter()
        .map(|f| f.oid)
        .chain(classes.iter().map(|c| c.oid))
        .collect();
    if owners.is_empty() {
        return Ok((families, classes));
    }
    for r in client
        .query_typed(member_sql, &[(&owners, Type::INT8_ARRAY)])
        .await
        .context(ctx)?
    {
        let owner: Oid = r.get("owner");
        let m = OpMember {
            kind: r.get("kind"),
            num: r.get("num"),
            left_type: r.get("left_type"),
            right_type: r.get("right_type"),
            what: r.get("what"),
            sort_family: r.get("sort_family"),
        };
        if let Some(c) = classes.iter_mut().find(|c| c.oid == owner) {
            c.members.push(m);
        } else if let Some(f) = families.iter_mut().find(|f| f.oid == owner) {
            f.members.push(m);
        }
    }
    Ok((families, classes))
}
