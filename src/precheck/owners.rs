//! `--keep-owners`: `ALTER ... OWNER TO r` and a grant made under `SET ROLE r`
//! need the target login to be able to act as `r` (a member of it; on 16+, a
//! member with the SET option), unless it is a superuser. Checked here before
//! anything is written, rather than failing at the end of post-data. Roles the
//! target lacks are only a warning: their statements are skipped and reported.

use super::{Context, End, Finding, SQL};
use crate::pg::Oid;
use crate::pg::{quote_ident, quote_literal};
use anyhow::Context as _;
use std::collections::{BTreeSet, HashSet};

const CODE: &str = "target.privilege.owner";

pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    if cx.opts.data_only {
        return Ok(vec![Finding::pass(
            CODE,
            "data only: no owners are changed on the target",
        )]);
    }
    // Owners, and grantors other than the owner (their grants run under SET
    // ROLE), of the objects the plan keeps (the selection may leave some out).
    let planned: HashSet<Oid> = cx
        .plan
        .post_data
        .iter()
        .filter(|s| s.kind.is_ownership())
        .filter_map(|s| s.oid)
        .collect();
    let mut roles: BTreeSet<String> = BTreeSet::new();
    for o in cx.cat.owners.iter().filter(|o| planned.contains(&o.oid)) {
        roles.insert(o.owner.clone());
        let grants = o
            .acl
            .iter()
            .flatten()
            .chain(o.column_acl.iter().map(|c| &c.grant));
        roles.extend(
            grants
                .filter(|g| g.grantor != o.owner)
                .map(|g| g.grantor.clone()),
        );
    }
    if roles.is_empty() {
        return Ok(vec![Finding::pass(CODE, "no objects whose owner to keep")]);
    }
    let names: Vec<String> = roles.into_iter().collect();
    let option = if cx.tgt.version_num >= crate::pg::PG16 {
        "SET"
    } else {
        "MEMBER"
    };
    let rows = cx
        .target
        .query(
            &format!(
                "SELECT r.name, EXISTS (SELECT 1 FROM pg_catalog.pg_roles g WHERE g.rolname = r.name), \
                        COALESCE((SELECT pg_catalog.pg_has_role(g.oid, {}) \
                                  FROM pg_catalog.pg_roles g WHERE g.rolname = r.name), false) \
                 FROM unnest($1::text[]) r(name) ORDER BY 1",
                quote_literal(option)
            ),
            &[&names],
        )
        .await
        .context("checking the target login's membership in the owner roles")?;
    // Roles `--create-roles` creates first: their objects keep them.
    let created: HashSet<&str> = cx
        .plan
        .pre_data
        .iter()
        .filter(|s| s.kind == crate::step::StepKind::Role)
        .map(|s| s.object.as_str())
        .collect();
    let mut missing = Vec::new();
    let mut not_member = Vec::new();
    for r in &rows {
        let name: String = r.get(0);
        if created.contains(quote_ident(&name).as_str()) {
            continue;
        }
        if !r.get::<_, bool>(1) {
            missing.push(quote_ident(&name));
        } else if !r.get::<_, bool>(2) {
            not_member.push(quote_ident(&name));
        }
    }
    let login = quote_ident(&cx.tgt.login);
    let mut out = Vec::new();
    if !missing.is_empty() {
        out.push(
            Finding::warning(
                CODE,
                format!(
                    "role(s) {} do not exist on the target: their objects stay owned by {} and \
                 their grants are skipped (listed in the report)",
                    missing.join(", "),
                    cx.tgt.login
                ),
                format!("to keep them, create the roles on the target first: {SQL}"),
            )
            .with_sql(
                End::Target,
                missing
                    .iter()
                    .map(|r| format!("CREATE ROLE {r};"))
                    .collect(),
            ),
        );
    }
    out.push(if not_member.is_empty() {
        Finding::pass(
            CODE,
            format!(
                "{} may give objects to the {} owner role(s) that exist on the target",
                cx.tgt.login,
                names.len() - missing.len()
            ),
        )
    } else {
        Finding::failure(
            CODE,
            format!(
                "{} cannot act as role(s) {} (ALTER ... OWNER TO needs membership{})",
                cx.tgt.login,
                not_member.join(", "),
                if option == "SET" {
                    " with the SET option"
                } else {
                    ""
                }
            ),
            format!(
                "on the target, as a role administrator: {SQL}; or migrate without --keep-owners"
            ),
        )
        .with_sql(
            End::Target,
            vec![format!("GRANT {} TO {login};", not_member.join(", "))],
        )
    });
    Ok(out)
}
