//! Checks that only `migrate --follow` needs (incremental migration): the
//! login may stream a slot, and every selected table has a replica identity
//! the apply can find rows by. Both are failures in follow mode: without
//! REPLICATION the slot cannot be created, and a published table without a
//! replica identity makes the *source's own* UPDATEs and DELETEs fail
//! ("cannot update table ... because it does not have a replica identity and
//! publishes updates"), which would break the application.

use super::{Context, Finding};
use crate::pg::Oid;
use anyhow::Context as _;

pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let role = cx
        .source
        .query_typed_one(
            "SELECT r.rolreplication OR r.rolsuper OR EXISTS ( \
                 SELECT 1 FROM pg_catalog.pg_roles g \
                 WHERE g.rolname = 'rds_replication' \
                   AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')) \
             FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .context("reading the source login's attributes")?;
    let can: bool = role.get(0);
    let mut out = vec![if can {
        Finding::pass(
            "cdc.replication_role",
            "the source login may use replication slots",
        )
    } else {
        Finding::failure(
            "cdc.replication_role",
            "the source login has neither the REPLICATION attribute nor membership in \
             rds_replication: it cannot create or stream a replication slot",
            "ALTER ROLE <login> REPLICATION (Aurora/RDS: GRANT rds_replication TO <login>)",
        )
    }];
    let mut oids: Vec<Oid> = Vec::new();
    for c in &cx.plan.copies {
        if let Some(t) = cx
            .cat
            .tables
            .iter()
            .find(|t| t.schema == c.source_schema && t.name == c.source_name)
        {
            oids.push(t.oid);
        }
    }
    oids.sort_unstable();
    oids.dedup();
    let rows = cx
        .source
        .query(
            "SELECT c.oid::regclass::text FROM pg_catalog.pg_class c \
             WHERE c.oid = ANY($1::int8[]::oid[]) AND ( c.relreplident = 'n' \
               OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i \
                    WHERE i.indrelid = c.oid AND i.indisprimary)) \
               OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i \
                    WHERE i.indrelid = c.oid AND i.indisreplident))) \
             ORDER BY 1",
            &[&oids],
        )
        .await
        .context("reading replica identities")?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    out.push(if names.is_empty() {
        Finding::pass(
            "cdc.replica_identity",
            "every selected table has a primary key or a replica identity",
        )
    } else {
        Finding::failure(
            "cdc.replica_identity",
            format!(
                "table(s) without a primary key or replica identity: {}; once published, \
                 UPDATE and DELETE on them would fail on the source itself",
                names.join(", ")
            ),
            format!(
                "add a primary key, or ALTER TABLE {} REPLICA IDENTITY FULL (or USING INDEX \
                 a unique index on NOT NULL columns); or leave the table out (--exclude)",
                names[0]
            ),
        )
    });
    Ok(out)
}
