//! Large objects: contents copied under the migration's snapshot, keeping
//! their OIDs (columns of type `oid` point at them), in chunks so that a big
//! object never has to fit in memory, each object in one target transaction.
//!
//! With `--keep-owners`, each gets its owner and privileges (`lomacl`) back
//! where the roles exist (see `migrate`). They are copied after the tables, on the snapshot session and the DDL
//! session (not in parallel with the tables: most databases hold few or
//! small ones). An object already on the target under the same OID (an
//! interrupted run) is unlinked and copied again, so resuming is safe; the
//! task state records the phase done once every object is durable.

use anyhow::Context;
use tokio_postgres::Client;

/// Bytes read and written per round trip.
const CHUNK: i32 = 1 << 20;

/// One large object of the source.
#[derive(Debug, Clone)]
pub struct LargeObject {
    pub oid: u32,
    pub owner: String,
    /// `lomacl` as (grantee or `None` for PUBLIC, privilege, grantable), in
    /// order; `None` when NULL (the defaults).
    pub acl: Option<Vec<(Option<String>, String, bool)>>,
}

/// Every large object of the source, by OID.
pub async fn list(source: &Client) -> anyhow::Result<Vec<LargeObject>> {
    let rows = source
        .query(
            "SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner)::text, m.lomacl IS NOT NULL, \
                    ARRAY(SELECT CASE WHEN x.grantee = 0 THEN '' \
                                      ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END \
                          FROM pg_catalog.aclexplode(m.lomacl) WITH ORDINALITY x(a, grantee, p, g, i) \
                          ORDER BY x.i), \
                    ARRAY(SELECT x.p || CASE WHEN x.g THEN '*' ELSE '' END \
                          FROM pg_catalog.aclexplode(m.lomacl) WITH ORDINALITY x(a, grantee, p, g, i) \
                          ORDER BY x.i) \
             FROM pg_catalog.pg_largeobject_metadata m ORDER BY m.oid",
            &[],
        )
        .await
        .context("listing large objects")?;
    Ok(rows
        .iter()
        .map(|r| {
            let has_acl: bool = r.get(2);
            let grantees: Vec<String> = r.get(3);
            let privileges: Vec<String> = r.get(4);
            let acl = has_acl.then(|| {
                grantees
                    .into_iter()
                    .zip(privileges)
                    .map(|(g, p)| {
                        let grantable = p.ends_with('*');
                        let p = p.trim_end_matches('*').to_string();
                        ((!g.is_empty()).then_some(g), p, grantable)
                    })
                    .collect()
            });
            LargeObject {
                oid: r.get(0),
                owner: r.get(1),
                acl,
            }
        })
        .collect())
}

/// Copies every object; returns the bytes copied.
pub async fn copy_all(
    source: &Client,
    target: &Client,
    objects: &[LargeObject],
) -> anyhow::Result<u64> {
    let mut bytes = 0u64;
    for lo in objects {
        bytes += copy_one(source, target, lo.oid)
            .await
            .with_context(|| format!("copying large object {}", lo.oid))?;
    }
    Ok(bytes)
}

async fn copy_one(source: &Client, target: &Client, oid: u32) -> anyhow::Result<u64> {
    target.batch_execute("BEGIN").await?;
    let result = async {
        target
            .execute(
                "SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m \
                 WHERE m.oid = $1",
                &[&oid],
            )
            .await?;
        target
            .execute("SELECT pg_catalog.lo_create($1)", &[&oid])
            .await?;
        let mut offset: i64 = 0;
        loop {
            let chunk: Vec<u8> = source
                .query_one(
                    "SELECT pg_catalog.lo_get($1, $2, $3)",
                    &[&oid, &offset, &CHUNK],
                )
                .await?
                .get(0);
            if chunk.is_empty() {
                break;
            }
            target
                .execute(
                    "SELECT pg_catalog.lo_put($1, $2, $3)",
                    &[&oid, &offset, &chunk],
                )
                .await?;
            offset += chunk.len() as i64;
            if chunk.len() < CHUNK as usize {
                break;
            }
        }
        anyhow::Ok(offset as u64)
    }
    .await;
    match result {
        Ok(n) => {
            target.batch_execute("COMMIT").await?;
            Ok(n)
        }
        Err(e) => {
            target.batch_execute("ROLLBACK").await.ok();
            Err(e)
        }
    }
}

/// `ALTER LARGE OBJECT ... OWNER TO` and the GRANTs of `lo`, for roles in
/// `roles`: the ACL is replayed by revoking everything from PUBLIC and the
/// owner and granting each item again, so it comes out the same.
pub fn ownership_sql(lo: &LargeObject, roles: &std::collections::HashSet<String>) -> String {
    use crate::pg::quote_ident;
    if !roles.contains(&lo.owner) {
        return String::new();
    }
    let owner = quote_ident(&lo.owner);
    let mut sql = format!("ALTER LARGE OBJECT {} OWNER TO {owner};\n", lo.oid);
    if let Some(acl) = &lo.acl {
        sql.push_str(&format!(
            "REVOKE ALL ON LARGE OBJECT {0} FROM PUBLIC;\nREVOKE ALL ON LARGE OBJECT {0} FROM {owner};\n",
            lo.oid
        ));
        for (grantee, privilege, grantable) in acl {
            let to = match grantee {
                None => "PUBLIC".to_string(),
                Some(g) if roles.contains(g) => quote_ident(g),
                Some(_) => continue,
            };
            let option = if *grantable { " WITH GRANT OPTION" } else { "" };
            sql.push_str(&format!(
                "GRANT {privilege} ON LARGE OBJECT {} TO {to}{option};\n",
                lo.oid
            ));
        }
    }
    sql
}
