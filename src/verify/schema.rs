//! `verify --schema`: the structure of both ends compared object by object.
//!
//! Both catalogs are read with pgferry's own model and rendered as the plan
//! statements that would create them (what `pg_dump --schema-only` shows, in
//! pgferry's spelling). The source is rendered for the target's version, so
//! the version rules' rewrites (`anyarray` to `anycompatiblearray`, removed
//! types, ...) are what is expected, not differences; objects the plan skips
//! (C functions, postfix operators) are not expected either. Wording that
//! only the server version changes is normalised: view columns qualified by
//! their table before 16 and only where needed after (views of a pair that
//! straddles 16 are compared without qualifiers on both sides), and
//! `EXECUTE PROCEDURE` (before 11) against `EXECUTE FUNCTION`.
//! What is left is every difference, each named.

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::pg::{connect, SnapshotHolder, PG16};
use crate::plan::{self, Selection, Step, StepKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// One object whose statements differ.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaDifference {
    /// `missing` on the target, `extra` on the target, or `different`.
    pub what: &'static str,
    pub kind: String,
    pub object: String,
    /// The statements expected (from the source) and found (on the target).
    pub expected: Vec<String>,
    pub found: Vec<String>,
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaCheck {
    pub equal: bool,
    pub objects: usize,
    pub differences: Vec<SchemaDifference>,
}

async fn read(spec: &crate::pg::ConnSpec, what: &str) -> anyhow::Result<Catalog> {
    let client = connect(spec, what).await?;
    let holder = SnapshotHolder::open(client).await?;
    let cat = Catalog::read(holder.client()).await?;
    holder.close().await?;
    Ok(cat)
}

/// Statements of a plan by (kind, object), the kinds that only run with data
/// (refreshes, validations, analyze) left out.
fn by_object(
    plan: &plan::Plan,
    normalise: &dyn Fn(&Step) -> String,
) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in plan.pre_data.iter().chain(&plan.post_data) {
        if matches!(
            s.kind,
            StepKind::MaterializedViewRefresh | StepKind::ForeignKeyValidation | StepKind::Analyze
        ) {
            continue;
        }
        out.entry((s.kind.label().to_string(), s.object.clone()))
            .or_default()
            .push(normalise(s));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// View text without table qualifiers on column names (`people.mood` ->
/// `mood`), as 16 and later print it; schema names are kept.
fn unqualify(sql: &str, schemas: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        let next_ident = chars
            .peek()
            .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_' || *n == '"');
        if c == '.' && !word.is_empty() && next_ident && !schemas.contains(&word) {
            word.clear();
            continue;
        }
        out.push_str(&word);
        word.clear();
        out.push(c);
    }
    out.push_str(&word);
    out
}

/// Compares the structure of both ends.
pub async fn compare_schema(ends: &Endpoints, sel: &Selection) -> anyhow::Result<SchemaCheck> {
    let mut src = read(&ends.source, "verify schema (source)").await?;
    let mut tgt = read(&ends.target, "verify schema (target)").await?;
    let (sv, tv) = (src.version_num, tgt.version_num);
    let opts = |version: i32| plan::BuildOptions {
        target: plan::compat::Target {
            version: Some(version),
            map_removed_types: true,
        },
        ..Default::default()
    };
    let expected_plan = plan::prepare_with(&mut src, sel, &opts(tv))?;
    let found_plan = plan::prepare_with(&mut tgt, sel, &opts(tv))?;
    let mut schemas: Vec<String> = src.schemas.iter().map(|s| s.name.clone()).collect();
    schemas.push("pg_catalog".into());
    // Both sides alike: 16 and later leave out a qualifier only where it
    // is not needed, so views are compared without any.
    let straddles_16 = sv < PG16 && tv >= PG16;
    let normalise = |s: &Step| {
        let mut sql = s.sql.replace("EXECUTE PROCEDURE", "EXECUTE FUNCTION");
        if straddles_16 && matches!(s.kind, StepKind::View | StepKind::MaterializedView) {
            sql = unqualify(&sql, &schemas);
        }
        sql
    };
    let (a, b) = (
        by_object(&expected_plan, &normalise),
        by_object(&found_plan, &normalise),
    );
    let mut differences = Vec::new();
    for (k, v) in &a {
        match b.get(k) {
            None => differences.push(diff("missing", k, v, &[])),
            Some(w) if w != v => differences.push(diff("different", k, v, w)),
            _ => {}
        }
    }
    for (k, w) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
        differences.push(diff("extra", k, &[], w));
    }
    Ok(SchemaCheck {
        equal: differences.is_empty(),
        objects: a.len(),
        differences,
    })
}

fn diff(
    what: &'static str,
    k: &(String, String),
    expected: &[String],
    found: &[String],
) -> SchemaDifference {
    SchemaDifference {
        what,
        kind: k.0.clone(),
        object: k.1.clone(),
        expected: expected.to_vec(),
        found: found.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_go_schemas_stay() {
        let schemas = vec!["app".to_string()];
        assert_eq!(
            unqualify("SELECT p.id, app.f(p.x) FROM app.people p", &schemas),
            "SELECT id, app.f(x) FROM app.people p"
        );
    }
}
