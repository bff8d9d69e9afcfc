//! DDL for foreign-data wrappers, servers, user mappings and foreign tables,
//! all pre-data (views and foreign-table partitions may need them), ordered
//! by `pg_depend` like the rest. Foreign tables get their structure only:
//! their rows are on the remote server and are never copied.
//!
//! User mappings never carry a password: it cannot be read back from the
//! source (and must not travel); each mapping that had one is listed in the
//! plan's rewrites, so the user enters it again. A mapping for a role the
//! target lacks is skipped and reported. Wrappers need a superuser target;
//! a target that refuses them is found by the precheck's DDL rehearsal.

use super::comment;
use super::tables::not_null_clause;
use crate::catalog::foreign::{ForeignTable, Server, UserMapping, Wrapper};
use crate::catalog::Catalog;
use crate::pg::{quote_ident, quote_literal};
use crate::step::{FamilySteps, Phase, Rewritten, Skipped, Step, StepKind};
use std::collections::HashSet;

/// The family's statements, skipped mappings, and the mappings whose
/// password was left out.
pub fn steps(cat: &Catalog, roles: Option<&HashSet<String>>) -> (FamilySteps, Vec<Rewritten>) {
    let pre = Phase::PreData;
    let f = &cat.foreign;
    let mut out = FamilySteps::default();
    let mut notes = Vec::new();
    for w in &f.wrappers {
        let name = quote_ident(&w.name);
        let kind = StepKind::ForeignDataWrapper;
        out.pre
            .push(Step::new(pre, kind, name.clone(), create_wrapper(w)).of(w.oid));
        if let Some(c) = comment(&format!("FOREIGN DATA WRAPPER {name}"), &w.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(w.oid));
        }
    }
    for s in &f.servers {
        let name = quote_ident(&s.name);
        let kind = StepKind::ForeignServer;
        out.pre
            .push(Step::new(pre, kind, name.clone(), create_server(s)).of(s.oid));
        if let Some(c) = comment(&format!("SERVER {name}"), &s.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(s.oid));
        }
    }
    for m in &f.mappings {
        let name = format!("FOR {} SERVER {}", role_name(&m.role), m.server);
        if m.role != "public" && roles.is_some_and(|r| !r.contains(&m.role)) {
            out.skipped.push(Skipped {
                kind: "user mapping",
                object: name,
                reason: format!(
                    "role {} does not exist on the target; create it, then the mapping \
                     (CREATE USER MAPPING ...)",
                    quote_ident(&m.role)
                ),
                oid: Some(m.oid),
            });
            continue;
        }
        if m.had_password {
            notes.push(Rewritten {
                kind: "user mapping",
                object: name.clone(),
                change: format!(
                    "created without its password, which is never read from the source: \
                     ALTER USER MAPPING {name} OPTIONS (ADD password '...') on the target"
                ),
                code: "source.user_mapping.password",
            });
        }
        out.pre
            .push(Step::new(pre, StepKind::UserMapping, name, create_mapping(m)).of(m.oid));
    }
    for t in &f.tables {
        let kind = StepKind::ForeignTable;
        let name = t.qualified.clone();
        out.pre
            .push(Step::new(pre, kind, name.clone(), create_foreign_table(t)).of(t.oid));
        if let Some(c) = comment(&format!("FOREIGN TABLE {name}"), &t.comment) {
            out.pre
                .push(Step::new(pre, StepKind::Comment, name, c).of(t.oid));
        }
    }
    (out, notes)
}

fn role_name(role: &str) -> String {
    if role == "public" {
        "PUBLIC".into()
    } else {
        quote_ident(role)
    }
}

fn options(o: &Option<String>) -> String {
    o.as_deref()
        .filter(|o| !o.is_empty())
        .map_or(String::new(), |o| format!(" OPTIONS ({o})"))
}

/// `CREATE FOREIGN DATA WRAPPER`.
pub fn create_wrapper(w: &Wrapper) -> String {
    let mut sql = format!("CREATE FOREIGN DATA WRAPPER {}", quote_ident(&w.name));
    if let Some(h) = &w.handler {
        sql.push_str(&format!(" HANDLER {h}"));
    }
    if let Some(v) = &w.validator {
        sql.push_str(&format!(" VALIDATOR {v}"));
    }
    sql.push_str(&options(&w.options));
    sql.push(';');
    sql
}

/// `CREATE SERVER`.
pub fn create_server(s: &Server) -> String {
    let mut sql = format!("CREATE SERVER {}", quote_ident(&s.name));
    if let Some(t) = &s.server_type {
        sql.push_str(&format!(" TYPE {}", quote_literal(t)));
    }
    if let Some(v) = &s.version {
        sql.push_str(&format!(" VERSION {}", quote_literal(v)));
    }
    sql.push_str(&format!(" FOREIGN DATA WRAPPER {}", s.wrapper));
    sql.push_str(&options(&s.options));
    sql.push(';');
    sql
}

/// `CREATE USER MAPPING` without the password.
pub fn create_mapping(m: &UserMapping) -> String {
    format!(
        "CREATE USER MAPPING FOR {} SERVER {}{};",
        role_name(&m.role),
        m.server,
        options(&m.options)
    )
}

/// `CREATE FOREIGN TABLE`; a foreign partition is created on its own with
/// every column, then attached, as pg_dump does: `PARTITION OF` would give it
/// its parent's NOT NULL constraint names on 18.
pub fn create_foreign_table(t: &ForeignTable) -> String {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut d = c.head.clone();
            if c.not_null {
                d.push_str(&not_null_clause(
                    &t.name,
                    &c.name,
                    c.not_null_name.as_deref(),
                ));
            }
            if let Some(def) = &c.default_sql {
                d.push_str(&format!(" DEFAULT {def}"));
            }
            d
        })
        .collect();
    let mut sql = format!(
        "CREATE FOREIGN TABLE {} (\n    {}\n)\nSERVER {}{};",
        t.qualified,
        columns.join(",\n    "),
        t.server,
        options(&t.options)
    );
    if let (Some(p), Some(b)) = (&t.parent, &t.bound) {
        sql.push_str(&format!(
            "\nALTER TABLE ONLY {p} ATTACH PARTITION {} {b};",
            t.qualified
        ));
    }
    sql
}
