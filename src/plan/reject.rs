//! Leaving out what the target refuses: the objects the precheck's DDL
//! rehearsal found rejected (`target.ddl`), and everything that depends on
//! them, when the user chose to go on with `--ignore-check target.ddl`.
//!
//! The same `pg_depend` closure the rehearsal used decides the dependents, so
//! the migration skips exactly what the precheck listed, and each skipped
//! object appears in the report with the target's error.

use super::{Plan, Rejection, Skipped, Step, StepKind};
use crate::catalog::Catalog;
use crate::pg::qualified;
use crate::pg::Oid;
use std::collections::{HashMap, HashSet};

/// Every oid that is rejected or depends on a rejected object.
pub fn rejected_closure(rejections: &[Rejection], cat: &Catalog) -> HashSet<Oid> {
    let roots: Vec<Oid> = rejections.iter().filter_map(|r| r.oid).collect();
    closure_with_parts(&roots, cat)
}

/// [`dependents_closure`] plus the indexes and constraints of every table in
/// it: `pg_depend` ties an index to its table's columns only, which the
/// catalog's dependency list leaves out (see sql/catalog/depends.sql).
pub fn closure_with_parts(roots: &[Oid], cat: &Catalog) -> HashSet<Oid> {
    if roots.is_empty() {
        return HashSet::new();
    }
    Dependents::new(cat).closure(roots)
}

/// Who depends on what, indexed once: a catalog of tens of thousands of
/// objects with many rejections must not rebuild it per rejection.
pub struct Dependents {
    /// For each oid, the objects that depend on it, and for a table also its
    /// indexes and constraints.
    next: HashMap<Oid, Vec<Oid>>,
}

impl Dependents {
    pub fn new(cat: &Catalog) -> Dependents {
        let mut next: HashMap<Oid, Vec<Oid>> = HashMap::new();
        for (obj, refd) in &cat.depends {
            next.entry(*refd).or_default().push(*obj);
        }
        for i in &cat.indexes {
            next.entry(i.table_oid).or_default().push(i.oid);
        }
        for c in &cat.constraints {
            next.entry(c.table_oid).or_default().push(c.oid);
        }
        Dependents { next }
    }

    /// `roots` and everything that depends on them, directly or not.
    pub fn closure(&self, roots: &[Oid]) -> HashSet<Oid> {
        let mut seen: HashSet<Oid> = roots.iter().copied().collect();
        let mut stack: Vec<Oid> = roots.to_vec();
        while let Some(x) = stack.pop() {
            for &d in self.next.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    }
}

/// Drops the rejected statements, every statement and copy of a rejected
/// object or of one depending on it, and lists each object in `plan.skipped`.
pub fn drop_rejected(plan: &mut Plan, cat: &Catalog, rejections: &[Rejection]) {
    if rejections.is_empty() {
        return;
    }
    let closure = rejected_closure(rejections, cat);
    let keys: HashSet<&str> = rejections.iter().map(|r| r.key.as_str()).collect();
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    for r in rejections {
        if r.oid.is_none_or(|o| seen.insert(o)) {
            skipped.push(Skipped {
                kind: StepKind::ALL
                    .iter()
                    .map(|k| k.label())
                    .find(|l| *l == r.kind)
                    .unwrap_or("object"),
                object: r.object.clone(),
                reason: format!(
                    "the target rejects it: {} [{}] (precheck target.ddl, ignored)",
                    r.error, r.sqlstate
                ),
                oid: r.oid,
            });
        }
    }
    let because = roots_of(rejections, cat);
    let mut drop = |steps: &mut Vec<Step>| {
        steps.retain(|s| {
            let refused = keys.contains(s.key().as_str());
            let gone = refused || s.oid.is_some_and(|o| closure.contains(&o));
            // A refused statement is listed above, as rejected; one refused
            // alone (a security label, tied to its object but rejected
            // without its oid) must not be listed again as a dependent.
            if let Some(oid) = s.oid.filter(|o| gone && !refused && seen.insert(*o)) {
                skipped.push(Skipped {
                    kind: s.kind.label(),
                    object: s.object.clone(),
                    reason: dependent_reason(because.get(&oid)),
                    oid: s.oid,
                });
            }
            !gone
        });
    };
    drop(&mut plan.pre_data);
    drop(&mut plan.post_data);
    drop(&mut plan.renames);
    let gone_tables: HashSet<(String, String)> = cat
        .tables
        .iter()
        .filter(|t| closure.contains(&t.oid))
        .map(|t| (t.schema.clone(), t.name.clone()))
        .collect();
    plan.copies
        .retain(|c| !gone_tables.contains(&(c.source_schema.clone(), c.source_name.clone())));
    let gone_sequences: HashSet<String> = cat
        .sequences
        .iter()
        .filter(|s| {
            closure.contains(&s.oid) || s.owned_by.as_ref().is_some_and(|o| closure.contains(&o.0))
        })
        .map(|s| qualified(&s.schema, &s.name))
        .collect();
    plan.sequences
        .retain(|s| !gone_sequences.contains(&s.source));
    plan.skipped.extend(skipped);
}

/// For each dependent oid, the rejected objects it depends on.
pub fn roots_of(rejections: &[Rejection], cat: &Catalog) -> HashMap<Oid, Vec<String>> {
    let mut out: HashMap<Oid, Vec<String>> = HashMap::new();
    let index = Dependents::new(cat);
    for (r, oid) in rejections.iter().filter_map(|r| Some((r, r.oid?))) {
        for d in index.closure(&[oid]) {
            if d != oid {
                out.entry(d).or_default().push(r.object.clone());
            }
        }
    }
    out
}

/// "depends on an object the target rejects (a, b)".
pub fn dependent_reason(roots: Option<&Vec<String>>) -> String {
    match roots {
        Some(r) if !r.is_empty() => {
            format!("depends on an object the target rejects ({})", r.join(", "))
        }
        _ => "depends on an object the target rejects".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Phase;

    #[test]
    fn a_statement_refused_alone_goes_alone_and_is_listed_once() {
        let pre = Phase::PreData;
        let table = Step::new(
            pre,
            StepKind::Table,
            "s.t".into(),
            "CREATE TABLE s.t ();".into(),
        );
        let label = Step::new(
            pre,
            StepKind::SecurityLabel,
            "TABLE s.t".into(),
            "SECURITY LABEL FOR dummy ON TABLE s.t IS 'secret';".into(),
        );
        let mut plan = Plan {
            pre_data: vec![table.of(Oid::new(10)), label.clone().of(Oid::new(10))],
            ..Default::default()
        };
        let refused = Rejection {
            kind: "security label".into(),
            object: "TABLE s.t".into(),
            sqlstate: "42501".into(),
            error: "only superuser can set 'secret' label".into(),
            statement: label.sql.clone(),
            oid: None,
            key: label.key(),
        };
        drop_rejected(&mut plan, &Catalog::default(), &[refused]);
        let kinds: Vec<StepKind> = plan.pre_data.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StepKind::Table]);
        let listed: Vec<(&str, &str)> = plan
            .skipped
            .iter()
            .map(|s| (s.kind, s.object.as_str()))
            .collect();
        assert_eq!(listed, [("security label", "TABLE s.t")]);
    }
}
