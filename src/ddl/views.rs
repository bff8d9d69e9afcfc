//! DDL for views, materialized views, rules, triggers and row-level security policies.
//!
//! Pre-data: views and materialized views (created `WITH NO DATA`), their
//! column defaults, statistics targets and comments; the builder orders them
//! after what they use, from `pg_depend`. Post-data, in this order: views that
//! rely on a constraint (and what depends on them), materialized view indexes,
//! refreshes (in dependency order), rules, triggers, then row-level security
//! and policies. Rules and triggers need every table and function; triggers
//! must not fire while rows are copied; RLS must not filter the copy.

mod matviews;
mod policies;
mod rules;
mod triggers;

use super::comment;
use crate::catalog::views::View;
use crate::catalog::Catalog;
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident, quote_literal};
use crate::step::{dependents_closure, order_by_dependencies, FamilySteps, Phase, Step, StepKind};
use std::collections::HashSet;

/// Pre-data and post-data statements (and skipped objects) of this family.
pub fn steps(cat: &Catalog) -> FamilySteps {
    let late = late_views(cat);
    let mut pre = Vec::new();
    let mut late_steps = Vec::new();
    for v in &cat.views.views {
        let (phase, out) = if late.contains(&v.oid) {
            (Phase::PostData, &mut late_steps)
        } else {
            (Phase::PreData, &mut pre)
        };
        out.extend(view_steps(v, phase, cat.tablespaces.create_in(v.oid)));
    }
    let mut post = order_by_dependencies(late_steps, &cat.depends);
    post.extend(matviews::steps(cat));
    post.extend(rules::steps(cat));
    post.extend(triggers::steps(cat));
    post.extend(policies::steps(cat));
    FamilySteps {
        pre,
        post,
        skipped: Vec::new(),
    }
}

/// Views that rely on a constraint (created in post-data, after constraints,
/// as pg_dump does), and every view that depends on one of them.
fn late_views(cat: &Catalog) -> HashSet<Oid> {
    let roots: Vec<Oid> = cat
        .views
        .views
        .iter()
        .filter(|v| v.needs_constraint)
        .map(|v| v.oid)
        .collect();
    if roots.is_empty() {
        return HashSet::new();
    }
    let closure = dependents_closure(&roots, &cat.depends);
    cat.views
        .views
        .iter()
        .map(|v| v.oid)
        .filter(|o| closure.contains(o))
        .collect()
}

/// `VIEW` or `MATERIALIZED VIEW`, for ALTER and COMMENT statements.
fn kind_word(v: &View) -> &'static str {
    if v.is_materialized() {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// The view's statements: CREATE, column defaults, statistics targets, comments.
/// `tablespace`: a materialized view's, `None` for the target's default.
fn view_steps(v: &View, phase: Phase, tablespace: Option<&str>) -> Vec<Step> {
    let name = qualified(&v.schema, &v.name);
    let kind = if v.is_materialized() {
        StepKind::MaterializedView
    } else {
        StepKind::View
    };
    let mut out = vec![Step::new(phase, kind, name.clone(), create_view(v, tablespace)).of(v.oid)];
    let word = kind_word(v);
    for c in &v.columns {
        let col = quote_ident(&c.name);
        if let Some(def) = &c.default_sql {
            out.push(
                Step::new(
                    phase,
                    StepKind::ViewColumnDefault,
                    name.clone(),
                    format!("ALTER {word} {name} ALTER COLUMN {col} SET DEFAULT {def};"),
                )
                .of(v.oid),
            );
        }
        if v.is_materialized() && c.stat_target >= 0 {
            out.push(
                Step::new(
                    phase,
                    StepKind::ColumnStatistics,
                    name.clone(),
                    format!(
                        "ALTER {word} {name} ALTER COLUMN {col} SET STATISTICS {};",
                        c.stat_target
                    ),
                )
                .of(v.oid),
            );
        }
    }
    if let Some(c) = comment(&format!("{word} {name}"), &v.comment) {
        out.push(Step::new(phase, StepKind::Comment, name.clone(), c).of(v.oid));
    }
    for c in &v.columns {
        let what = format!("COLUMN {name}.{}", quote_ident(&c.name));
        if let Some(c) = comment(&what, &c.comment) {
            out.push(Step::new(phase, StepKind::Comment, name.clone(), c).of(v.oid));
        }
    }
    out
}

/// `CREATE VIEW` (with its options and check option) or `CREATE MATERIALIZED
/// VIEW ... WITH NO DATA` (filled by a post-data refresh), in `tablespace`
/// (`None`: the target's default; views have none).
pub fn create_view(v: &View, tablespace: Option<&str>) -> String {
    let mut check_option = None;
    let mut options = Vec::new();
    for o in &v.reloptions {
        let (key, value) = o.split_once('=').unwrap_or((o.as_str(), "true"));
        if key == "check_option" && !v.is_materialized() {
            check_option = Some(value.to_ascii_uppercase());
        } else {
            options.push(format!("{key}={}", quote_literal(value)));
        }
    }
    let mut sql = format!("CREATE {} {}", kind_word(v), qualified(&v.schema, &v.name));
    if !options.is_empty() {
        sql.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    if let Some(ts) = tablespace.filter(|_| v.is_materialized()) {
        sql.push_str(&format!(" TABLESPACE {}", quote_ident(ts)));
    }
    sql.push_str(" AS\n");
    sql.push_str(v.definition.trim_end().trim_end_matches(';'));
    if v.is_materialized() {
        sql.push_str("\n  WITH NO DATA");
    } else if let Some(co) = check_option {
        sql.push_str(&format!("\n  WITH {co} CHECK OPTION"));
    }
    sql.push(';');
    sql
}

/// Whether the plan creates this relation (a table or a view of the model):
/// rules, triggers and policies of anything else (a foreign table, say) would
/// fail on the target.
fn creates_relation(cat: &Catalog, oid: Oid) -> bool {
    cat.table(oid).is_some() || cat.views.view(oid).is_some()
}

/// `ALTER TABLE ... <state>` words for a trigger's or rule's enabled state
/// (`O` is the default and needs nothing).
fn enable_words(state: &str) -> Option<&'static str> {
    match state {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::views::View;

    fn view(relkind: &str, opts: &[&str]) -> View {
        View {
            oid: Oid::new(1),
            schema: "S".into(),
            name: "v".into(),
            relkind: relkind.into(),
            definition: " SELECT 1 AS one;".into(),
            reloptions: opts.iter().map(|s| s.to_string()).collect(),
            populated: true,
            needs_constraint: false,
            comment: None,
            columns: Vec::new(),
        }
    }

    #[test]
    fn check_option_is_a_clause_and_other_options_are_quoted() {
        let sql = create_view(
            &view("v", &["check_option=local", "security_barrier=true"]),
            Some("ignored"),
        );
        assert_eq!(
            sql,
            "CREATE VIEW \"S\".v WITH (security_barrier='true') AS\n SELECT 1 AS one\n  WITH LOCAL CHECK OPTION;"
        );
    }

    #[test]
    fn materialized_views_are_created_empty() {
        let sql = create_view(&view("m", &["fillfactor=50"]), None);
        assert_eq!(
            sql,
            "CREATE MATERIALIZED VIEW \"S\".v WITH (fillfactor='50') AS\n SELECT 1 AS one\n  WITH NO DATA;"
        );
        let sql = create_view(&view("m", &[]), Some("Fast"));
        assert_eq!(
            sql,
            "CREATE MATERIALIZED VIEW \"S\".v TABLESPACE \"Fast\" AS\n SELECT 1 AS one\n  WITH NO DATA;"
        );
    }
}
