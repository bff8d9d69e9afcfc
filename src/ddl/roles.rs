//! `--create-roles`: create on the target the roles the migrated objects
//! name (owners, grantees and grantors, default privileges, user mappings,
//! policies, large objects) that it lacks, with the source's attributes, so that
//! `--keep-owners` works on a fresh managed target.
//!
//! Never a password (managed sources do not expose them: each created role
//! is listed in the report so one can be set), and never SUPERUSER,
//! REPLICATION or BYPASSRLS, which managed targets do not grant (the report
//! says when one was left out). The statements open pre-data, so the
//! precheck's rehearsal runs them too; the target login needs CREATEROLE,
//! and to give objects to a created role, membership in it (a superuser has
//! both).

use crate::catalog::Catalog;
use crate::pg::{quote_ident, quote_literal};
use crate::step::{Phase, Rewritten, Step, StepKind};
use std::collections::{BTreeSet, HashSet};

/// Every role the migrated objects name.
pub fn named_roles(cat: &Catalog) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for o in &cat.owners {
        out.insert(o.owner.clone());
        let grants = o
            .acl
            .iter()
            .flatten()
            .chain(o.column_acl.iter().map(|c| &c.grant));
        for g in grants {
            out.insert(g.grantor.clone());
            out.extend(g.grantee.clone());
        }
    }
    for d in &cat.default_acls {
        out.insert(d.role.clone());
        out.extend(d.acl.iter().filter_map(|g| g.grantee.clone()));
    }
    for m in cat.foreign.mappings.iter().filter(|m| m.role != "public") {
        out.insert(m.role.clone());
    }
    for p in &cat.views.policies {
        out.extend(p.roles.iter().filter(|r| *r != "public").cloned());
    }
    out.extend(cat.large_object_roles.iter().cloned());
    out
}

/// `CREATE ROLE` (and memberships) for each named role the target lacks;
/// returns the steps, the created names, and one report line for each.
pub fn steps(cat: &Catalog, target: &HashSet<String>) -> (Vec<Step>, Vec<String>, Vec<Rewritten>) {
    let wanted = named_roles(cat);
    let missing: Vec<&crate::catalog::owners::Role> = cat
        .roles
        .iter()
        .filter(|r| wanted.contains(&r.name) && !target.contains(&r.name))
        .collect();
    let created: Vec<String> = missing.iter().map(|r| r.name.clone()).collect();
    let exists = |n: &str| target.contains(n) || created.iter().any(|c| c == n);
    let (mut steps, mut notes) = (Vec::new(), Vec::new());
    let mut memberships = Vec::new();
    for r in &missing {
        let name = quote_ident(&r.name);
        let flag = |on: bool, word: &str| format!("{}{word}", if on { "" } else { "NO" });
        let mut sql = format!(
            "CREATE ROLE {name} WITH {} {} {} {} CONNECTION LIMIT {}",
            flag(r.login, "LOGIN"),
            flag(r.inherit, "INHERIT"),
            flag(r.createdb, "CREATEDB"),
            flag(r.createrole, "CREATEROLE"),
            r.connlimit
        );
        if let Some(v) = &r.valid_until {
            sql.push_str(&format!(" VALID UNTIL {}", quote_literal(v)));
        }
        sql.push(';');
        steps.push(Step::new(Phase::PreData, StepKind::Role, name.clone(), sql));
        // Memberships once every role exists: a role may be a member of
        // another created role that sorts after it.
        let grants: Vec<String> = r
            .member_of
            .iter()
            .filter(|g| exists(g))
            .map(|g| format!("GRANT {} TO {name};", quote_ident(g)))
            .collect();
        if !grants.is_empty() {
            memberships.push(Step::new(
                Phase::PreData,
                StepKind::Role,
                format!("{name} (memberships)"),
                grants.join("\n"),
            ));
        }
        let left_out: Vec<&str> = [
            (r.superuser, "SUPERUSER"),
            (r.replication, "REPLICATION"),
            (r.bypassrls, "BYPASSRLS"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect();
        let without = if left_out.is_empty() {
            String::new()
        } else {
            format!(", without {}", left_out.join(", "))
        };
        notes.push(Rewritten {
            kind: "role",
            object: name.clone(),
            change: format!(
                "created on the target (--create-roles) with the source's attributes{without} \
                 and no password: ALTER ROLE {name} PASSWORD '...' if it logs in"
            ),
            code: "target.created_role",
        });
    }
    steps.extend(memberships);
    (steps, created, notes)
}
