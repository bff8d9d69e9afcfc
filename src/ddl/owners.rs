//! `--keep-owners`: `ALTER ... OWNER TO` and the GRANT/REVOKE statements that
//! reproduce each object's ACL on the target.
//!
//! The ACL is replayed the simple, exact way: when the source ACL is not NULL
//! (NULL means the kind's defaults, which the target already has), revoke
//! everything from PUBLIC and from the owner, then grant every `aclexplode()`
//! row again in array order, so the target's `aclitem[]` comes out the same,
//! item order included (pg_dump prints it in that order). A privilege granted
//! by someone other than the owner is granted under `SET ROLE grantor`, so the
//! grantor is kept too. Statements that name a role the target does not have
//! are left out and returned as [`Skipped`], never silently dropped.

use crate::catalog::owners::{Grant, Owned};
use crate::catalog::Catalog;
use crate::pg::quote_ident;
use crate::pg::Oid;
use crate::step::{Phase, Skipped, Step, StepKind};
use std::collections::HashSet;

/// Owner and privilege steps for every object of `cat`, plus what had to be
/// left out. `roles`: the target's roles; `None` assumes every role exists
/// (a dry run that did not ask the target).
pub fn steps(cat: &Catalog, roles: Option<&HashSet<String>>) -> (Vec<Step>, Vec<Skipped>) {
    let has = |r: &str| roles.is_none_or(|set| set.contains(r));
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    for o in &cat.owners {
        let what = format!("{} {}", o.alter_kind.to_lowercase(), o.identity);
        let owner_kept = has(&o.owner);
        if owner_kept {
            steps.push(
                Step::new(
                    Phase::PostData,
                    StepKind::Owner,
                    o.identity.clone(),
                    format!(
                        "ALTER {} {} OWNER TO {};",
                        o.alter_kind,
                        o.identity,
                        quote_ident(&o.owner)
                    ),
                )
                .of(o.oid),
            );
        } else {
            skipped.push(missing("owner", &what, &o.owner, o.oid));
        }
        let (sql, missing_roles) = acl_sql(cat, o, owner_kept, &has);
        for role in missing_roles {
            skipped.push(missing("grant", &what, &role, o.oid));
        }
        if !sql.is_empty() {
            steps.push(
                Step::new(Phase::PostData, StepKind::Grant, o.identity.clone(), sql).of(o.oid),
            );
        }
    }
    (steps, skipped)
}

/// `ALTER DEFAULT PRIVILEGES` statements reproducing each `pg_default_acl`
/// entry: a role's global defaults replace the built-in ones, so they are
/// revoked from PUBLIC and the role first, then every item granted in order;
/// an entry of one schema only adds grants. Entries naming a role the target
/// lacks are left out and returned as [`Skipped`].
pub fn default_privilege_steps(
    cat: &Catalog,
    roles: Option<&HashSet<String>>,
) -> (Vec<Step>, Vec<Skipped>) {
    let has = |r: &str| roles.is_none_or(|set| set.contains(r));
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    for d in &cat.default_acls {
        let objects = match d.objtype.as_str() {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            _ => "SCHEMAS",
        };
        let in_schema = d
            .schema
            .as_deref()
            .map_or(String::new(), |s| format!(" IN SCHEMA {}", quote_ident(s)));
        let what = format!(
            "for role {}{in_schema} on {}",
            quote_ident(&d.role),
            objects.to_lowercase()
        );
        let prefix = format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {}{in_schema}",
            quote_ident(&d.role)
        );
        let absent: Vec<&str> = std::iter::once(d.role.as_str())
            .chain(d.acl.iter().filter_map(|g| g.grantee.as_deref()))
            .filter(|r| !has(r))
            .collect();
        if let Some(r) = absent.first() {
            skipped.push(missing("default privileges", &what, r, d.oid));
            continue;
        }
        let mut sql = Vec::new();
        if d.schema.is_none() {
            sql.push(format!("{prefix} REVOKE ALL ON {objects} FROM PUBLIC;"));
            sql.push(format!(
                "{prefix} REVOKE ALL ON {objects} FROM {};",
                quote_ident(&d.role)
            ));
        }
        for g in &d.acl {
            let grantee = g
                .grantee
                .as_deref()
                .map_or("PUBLIC".to_string(), quote_ident);
            let option = if g.grantable {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            sql.push(format!(
                "{prefix} GRANT {} ON {objects} TO {grantee}{option};",
                g.privilege
            ));
        }
        steps.push(
            Step::new(
                Phase::PostData,
                StepKind::Grant,
                format!("default privileges {what}"),
                sql.join("\n"),
            )
            .of(d.oid),
        );
    }
    (steps, skipped)
}

fn missing(kind: &'static str, what: &str, role: &str, oid: Oid) -> Skipped {
    let reason = if kind == "owner" {
        format!(
            "role {} does not exist on the target; {what} stays owned by the target login",
            quote_ident(role)
        )
    } else {
        format!(
            "role {} does not exist on the target; its privileges on {what} were not granted",
            quote_ident(role)
        )
    };
    Skipped {
        kind,
        object: what.to_string(),
        reason,
        oid: Some(oid),
    }
}

/// The REVOKE/GRANT script of one object (empty when its ACLs are the
/// defaults) and the roles it had to leave out, each named once.
fn acl_sql(
    cat: &Catalog,
    o: &Owned,
    owner_kept: bool,
    has: &dyn Fn(&str) -> bool,
) -> (String, Vec<String>) {
    let (Some(kind), Some(name)) = (&o.grant_kind, &o.grant_identity) else {
        return (String::new(), Vec::new());
    };
    let on = format!("ON {kind} {name}");
    let mut out: Vec<String> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    let note = |r: &str, absent: &mut Vec<String>| {
        if !absent.iter().any(|a| a == r) {
            absent.push(r.to_string());
        }
    };
    if let Some(acl) = &o.acl {
        out.push(format!("REVOKE ALL {on} FROM PUBLIC;"));
        if owner_kept {
            out.push(format!("REVOKE ALL {on} FROM {};", quote_ident(&o.owner)));
        }
        for g in acl {
            match grant_sql(g, &on, None, &o.owner, has) {
                Ok(s) => out.push(s),
                Err(r) => note(&r, &mut absent),
            }
        }
    }
    // A column left out by the selection is not on the target.
    let table = cat.table(o.oid);
    let kept = |col: &str| table.is_none_or(|t| t.columns.iter().any(|x| x.name == col));
    for c in o.column_acl.iter().filter(|c| kept(&c.column)) {
        match grant_sql(&c.grant, &on, Some(&c.column), &o.owner, has) {
            Ok(s) => out.push(s),
            Err(r) => note(&r, &mut absent),
        }
    }
    (out.join("\n"), absent)
}

/// One GRANT (under `SET ROLE` when the grantor is not the owner), or the
/// name of a role the target lacks.
fn grant_sql(
    g: &Grant,
    on: &str,
    column: Option<&str>,
    owner: &str,
    has: &dyn Fn(&str) -> bool,
) -> Result<String, String> {
    // A grant by the owner is made by whoever owns the object on the target:
    // the kept owner, or the target login when the owner's role is missing.
    let by_owner = g.grantor == owner;
    for r in g.grantee.iter().chain((!by_owner).then_some(&g.grantor)) {
        if !has(r) {
            return Err(r.clone());
        }
    }
    let grantee = g
        .grantee
        .as_deref()
        .map_or("PUBLIC".to_string(), quote_ident);
    let cols = column.map_or(String::new(), |c| format!(" ({})", quote_ident(c)));
    let option = if g.grantable {
        " WITH GRANT OPTION"
    } else {
        ""
    };
    let grant = format!("GRANT {}{cols} {on} TO {grantee}{option};", g.privilege);
    Ok(if by_owner {
        grant
    } else {
        format!("SET ROLE {}; {grant} RESET ROLE;", quote_ident(&g.grantor))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::owners::ColumnGrant;

    fn grant(grantor: &str, grantee: Option<&str>, privilege: &str, grantable: bool) -> Grant {
        Grant {
            grantor: grantor.into(),
            grantee: grantee.map(Into::into),
            privilege: privilege.into(),
            grantable,
        }
    }

    fn table(acl: Option<Vec<Grant>>, column_acl: Vec<ColumnGrant>) -> Catalog {
        Catalog {
            owners: vec![Owned {
                oid: Oid::new(7),
                alter_kind: "TABLE".into(),
                identity: "public.t".into(),
                grant_kind: Some("TABLE".into()),
                grant_identity: Some("public.t".into()),
                owner: "app_owner".into(),
                acl,
                column_acl,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn default_acl_gives_only_the_owner() {
        let (steps, skipped) = steps(&table(None, vec![]), None);
        assert!(skipped.is_empty());
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].sql, "ALTER TABLE public.t OWNER TO app_owner;");
    }

    #[test]
    fn acl_is_revoked_then_granted_in_order() {
        let acl = vec![
            grant("app_owner", Some("app_owner"), "SELECT", false),
            grant("app_owner", Some("Reader"), "SELECT", true),
            grant("app_writer", None, "SELECT", false),
        ];
        let cols = vec![ColumnGrant {
            column: "n".into(),
            grant: grant("app_owner", Some("app_writer"), "UPDATE", false),
        }];
        let (steps, _) = steps(&table(Some(acl), cols), None);
        assert_eq!(
            steps[1].sql,
            "REVOKE ALL ON TABLE public.t FROM PUBLIC;\n\
             REVOKE ALL ON TABLE public.t FROM app_owner;\n\
             GRANT SELECT ON TABLE public.t TO app_owner;\n\
             GRANT SELECT ON TABLE public.t TO \"Reader\" WITH GRANT OPTION;\n\
             SET ROLE app_writer; GRANT SELECT ON TABLE public.t TO PUBLIC; RESET ROLE;\n\
             GRANT UPDATE (n) ON TABLE public.t TO app_writer;"
        );
    }

    #[test]
    fn missing_roles_are_reported_not_granted() {
        let acl = vec![
            grant("app_owner", Some("app_owner"), "SELECT", false),
            grant("app_owner", Some("gone"), "SELECT", false),
            grant("app_owner", Some("gone"), "INSERT", false),
        ];
        let roles: HashSet<String> = ["app_owner".to_string()].into();
        let (steps, skipped) = steps(&table(Some(acl), vec![]), Some(&roles));
        assert!(!steps[1].sql.contains("gone"));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].kind, "grant");
        let none: HashSet<String> = HashSet::new();
        let (steps, skipped) = steps_of_missing_owner(&none);
        assert!(steps.iter().all(|s| !s.sql.contains("OWNER TO")));
        assert_eq!(skipped[0].kind, "owner");
    }

    fn steps_of_missing_owner(roles: &HashSet<String>) -> (Vec<Step>, Vec<Skipped>) {
        steps(&table(None, vec![]), Some(roles))
    }
}
