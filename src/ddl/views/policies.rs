//! Post-data: row-level security. `ENABLE` and `FORCE` come after the rows are
//! copied (a forced policy would filter, or refuse, the copy), then policies.

use super::creates_relation;
use crate::catalog::views::Policy;
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::{qualified, quote_ident};
use crate::step::{Phase, Step, StepKind};

pub(super) fn steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut out = Vec::new();
    for t in &cat.tables {
        let name = qualified(&t.schema, &t.name);
        if t.row_security {
            out.push(
                Step::new(
                    post,
                    StepKind::RowLevelSecurity,
                    name.clone(),
                    format!("ALTER TABLE ONLY {name} ENABLE ROW LEVEL SECURITY;"),
                )
                .of(t.oid),
            );
        }
        if t.force_row_security {
            out.push(
                Step::new(
                    post,
                    StepKind::RowLevelSecurity,
                    name.clone(),
                    format!("ALTER TABLE ONLY {name} FORCE ROW LEVEL SECURITY;"),
                )
                .of(t.oid),
            );
        }
    }
    for p in cat
        .views
        .policies
        .iter()
        .filter(|p| creates_relation(cat, p.table_oid))
    {
        let table = qualified(&p.schema, &p.table_name);
        let obj = format!("{} on {table}", quote_ident(&p.name));
        out.push(Step::new(post, StepKind::Policy, obj.clone(), create_policy(p)).of(p.oid));
        let what = format!("POLICY {} ON {table}", quote_ident(&p.name));
        if let Some(c) = comment(&what, &p.comment) {
            out.push(Step::new(post, StepKind::Comment, obj, c).of(p.oid));
        }
    }
    out
}

/// `CREATE POLICY` as pg_dump writes it.
pub fn create_policy(p: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {}",
        quote_ident(&p.name),
        qualified(&p.schema, &p.table_name)
    );
    if !p.permissive {
        sql.push_str(" AS RESTRICTIVE");
    }
    let cmd = match p.cmd.as_str() {
        "r" => "SELECT",
        "a" => "INSERT",
        "w" => "UPDATE",
        "d" => "DELETE",
        _ => "ALL",
    };
    sql.push_str(&format!(" FOR {cmd}"));
    if !p.roles.is_empty() {
        let roles: Vec<String> = p.roles.iter().map(|r| quote_ident(r)).collect();
        sql.push_str(&format!(" TO {}", roles.join(", ")));
    }
    if let Some(u) = &p.using_sql {
        sql.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.check_sql {
        sql.push_str(&format!(" WITH CHECK ({c})"));
    }
    sql.push(';');
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Oid;

    #[test]
    fn restrictive_policy_for_named_roles() {
        let p = Policy {
            oid: Oid::new(1),
            table_oid: Oid::new(2),
            schema: "s".into(),
            table_name: "T".into(),
            name: "p".into(),
            cmd: "w".into(),
            permissive: false,
            roles: vec!["Alice".into(), "bob".into()],
            using_sql: Some("(a > 0)".into()),
            check_sql: Some("(a < 10)".into()),
            comment: None,
        };
        assert_eq!(
            create_policy(&p),
            "CREATE POLICY p ON s.\"T\" AS RESTRICTIVE FOR UPDATE TO \"Alice\", bob USING ((a > 0)) WITH CHECK ((a < 10));"
        );
    }
}
