//! Security labels: `SECURITY LABEL FOR provider ON kind object IS 'label'`
//! for each label of an object the plan creates, set right after that
//! object's last statement, as pg_dump places them.
//!
//! Labels are placed once the plan is otherwise complete (selected, pruned,
//! in dependency order), so that only the objects it really creates get
//! theirs: a label follows its object's oid, in pre-data (tables and their
//! columns, views, sequences, routines, types, schemas) or in post-data
//! (publications, event triggers); a role's follows its `CREATE ROLE`
//! (`--create-roles`). Renames run after everything, by oid, and labels
//! stay on their objects, so labels name the source's names.
//!
//! A label needs its provider loaded on the target (a module such as
//! sepgsql in `shared_preload_libraries`): a label whose provider the target
//! lacks is left out and listed in `plan.skipped`, and the precheck
//! (`target.seclabel_provider`) fails on it unless ignored. Labels of large
//! objects are listed as skipped: large objects are copied with their
//! contents, owners and grants only.

use crate::catalog::seclabels::SecurityLabel;
use crate::catalog::Catalog;
use crate::pg::{quote_ident, quote_literal, Oid};
use crate::step::{Phase, Skipped, Step, StepKind};
use std::collections::{HashMap, HashSet};

/// `TABLE s.t`, `COLUMN s.t.c`, `FUNCTION s.f(integer)`: the labelled object
/// as the statement names it (the plan's object name).
pub fn label_object(l: &SecurityLabel) -> String {
    format!("{} {}", l.kind.to_uppercase(), l.identity)
}

/// `SECURITY LABEL FOR provider ON kind object IS 'label';`.
pub fn security_label(l: &SecurityLabel) -> String {
    format!(
        "SECURITY LABEL FOR {} ON {} IS {};",
        quote_ident(&l.provider),
        label_object(l),
        quote_literal(&l.label)
    )
}

/// Why a label is skipped when the target lacks its provider (the precheck
/// finds those skips by this text).
pub fn no_provider_reason(provider: &str) -> String {
    format!(
        "the target has no security label provider {} loaded (precheck \
         target.seclabel_provider)",
        quote_ident(provider)
    )
}

/// Adds the labels of the objects `pre` and `post` create, each after the
/// last statement of its object. `providers`: the providers the target has
/// loaded (`None`: not asked, every label is kept). Returns the labels left
/// out, with the reason.
pub fn place(
    pre: &mut Vec<Step>,
    post: &mut Vec<Step>,
    cat: &Catalog,
    providers: Option<&HashSet<String>>,
) -> Vec<Skipped> {
    let last_of = |steps: &[Step]| -> HashMap<Oid, usize> {
        let mut m = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if let Some(oid) = s.oid {
                m.insert(oid, i);
            }
        }
        m
    };
    let (in_pre, in_post) = (last_of(pre), last_of(post));
    let roles: HashMap<&str, usize> = pre
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == StepKind::Role)
        .map(|(i, s)| (s.object.as_str(), i))
        .collect();
    let mut add_pre: HashMap<usize, Vec<Step>> = HashMap::new();
    let mut add_post: HashMap<usize, Vec<Step>> = HashMap::new();
    let mut skipped = Vec::new();
    for l in &cat.security_labels {
        let object = label_object(l);
        if l.kind == "large object" {
            skipped.push(Skipped {
                kind: StepKind::SecurityLabel.label(),
                object,
                reason: "labels of large objects are not carried (their contents, owners and \
                         grants are)"
                    .into(),
                oid: None,
            });
            continue;
        }
        // Where its object is created, and the oid its statement is tied to.
        let at = if l.kind == "role" {
            roles
                .get(l.identity.as_str())
                .map(|&i| (Phase::PreData, i, None))
        } else {
            let oid = carried_by(l, cat);
            match (in_pre.get(&oid), in_post.get(&oid)) {
                (Some(&i), _) => Some((Phase::PreData, i, Some(oid))),
                (None, Some(&i)) => Some((Phase::PostData, i, Some(oid))),
                (None, None) => None,
            }
        };
        let Some((phase, i, oid)) = at else {
            continue;
        };
        if column_left_out(l, cat) {
            continue;
        }
        if providers.is_some_and(|p| !p.contains(&l.provider)) {
            skipped.push(Skipped {
                kind: StepKind::SecurityLabel.label(),
                object,
                reason: no_provider_reason(&l.provider),
                oid: None,
            });
            continue;
        }
        let mut step = Step::new(phase, StepKind::SecurityLabel, object, security_label(l));
        step.oid = oid;
        match phase {
            Phase::PreData => add_pre.entry(i).or_default().push(step),
            _ => add_post.entry(i).or_default().push(step),
        }
    }
    insert_after(pre, add_pre);
    insert_after(post, add_post);
    skipped
}

/// The oid of the statements that create the labelled object: an identity
/// column's sequence is created with its table.
fn carried_by(l: &SecurityLabel, cat: &Catalog) -> Oid {
    if l.kind == "sequence" {
        let identity_of = cat
            .sequences
            .iter()
            .find(|s| s.oid == l.oid && s.is_identity)
            .and_then(|s| s.owned_by.as_ref());
        if let Some((table, _)) = identity_of {
            return *table;
        }
    }
    l.oid
}

/// A label of a table column the selection left out.
fn column_left_out(l: &SecurityLabel, cat: &Catalog) -> bool {
    match (&l.column, cat.table(l.oid)) {
        (Some(c), Some(t)) => !t.columns.iter().any(|x| &x.name == c),
        _ => false,
    }
}

fn insert_after(steps: &mut Vec<Step>, mut add: HashMap<usize, Vec<Step>>) {
    if add.is_empty() {
        return;
    }
    let old = std::mem::take(steps);
    for (i, s) in old.into_iter().enumerate() {
        steps.push(s);
        if let Some(more) = add.remove(&i) {
            steps.extend(more);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(oid: u32, kind: &str, identity: &str, provider: &str) -> SecurityLabel {
        SecurityLabel {
            oid: Oid::new(oid),
            kind: kind.into(),
            identity: identity.into(),
            column: None,
            provider: provider.into(),
            label: "classified".into(),
        }
    }

    fn step(phase: Phase, kind: StepKind, object: &str, oid: u32) -> Step {
        Step::new(phase, kind, object.into(), format!("-- {object}")).of(Oid::new(oid))
    }

    #[test]
    fn renders_as_pg_dump_does() {
        let mut l = label(1, "materialized view", "s.\"M v\"", "selinux");
        l.label = "system_u:object_r:sepgsql_table_t:s0 it's".into();
        assert_eq!(
            security_label(&l),
            "SECURITY LABEL FOR selinux ON MATERIALIZED VIEW s.\"M v\" IS \
             'system_u:object_r:sepgsql_table_t:s0 it''s';"
        );
        let l = label(1, "column", "s.t.\"B c\"", "Odd Provider");
        assert_eq!(
            security_label(&l),
            "SECURITY LABEL FOR \"Odd Provider\" ON COLUMN s.t.\"B c\" IS 'classified';"
        );
    }

    #[test]
    fn each_label_follows_its_object_and_only_objects_the_plan_creates() {
        let pre = Phase::PreData;
        let post = Phase::PostData;
        let mut pre_steps = vec![
            Step::new(pre, StepKind::Role, "r".into(), "CREATE ROLE r".into()),
            step(pre, StepKind::Table, "s.t", 10),
            step(pre, StepKind::Comment, "s.t", 10),
            step(pre, StepKind::Function, "s.f()", 20),
        ];
        let mut post_steps = vec![
            step(post, StepKind::Index, "s.i", 11),
            step(post, StepKind::Publication, "p", 30),
        ];
        let cat = Catalog {
            security_labels: vec![
                label(20, "function", "s.f()", "dummy"),
                label(10, "table", "s.t", "dummy"),
                label(30, "publication", "p", "dummy"),
                label(99, "table", "other.gone", "dummy"),
                label(5, "role", "r", "dummy"),
                label(6, "role", "not_created", "dummy"),
            ],
            ..Default::default()
        };
        let skipped = place(&mut pre_steps, &mut post_steps, &cat, None);
        assert!(skipped.is_empty());
        let order: Vec<(StepKind, &str)> = pre_steps
            .iter()
            .map(|s| (s.kind, s.object.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (StepKind::Role, "r"),
                (StepKind::SecurityLabel, "ROLE r"),
                (StepKind::Table, "s.t"),
                (StepKind::Comment, "s.t"),
                (StepKind::SecurityLabel, "TABLE s.t"),
                (StepKind::Function, "s.f()"),
                (StepKind::SecurityLabel, "FUNCTION s.f()"),
            ]
        );
        assert_eq!(pre_steps[4].oid, Some(Oid::new(10)));
        assert_eq!(post_steps.len(), 3);
        assert_eq!(post_steps[2].object, "PUBLICATION p");
        assert_eq!(post_steps[2].phase, Phase::PostData);
    }

    #[test]
    fn labels_of_a_provider_the_target_lacks_are_skipped_and_said() {
        let mut pre_steps = vec![step(Phase::PreData, StepKind::Table, "s.t", 10)];
        let cat = Catalog {
            security_labels: vec![
                label(7, "large object", "16400", "dummy"),
                label(10, "table", "s.t", "dummy"),
                label(10, "table", "s.t", "selinux"),
            ],
            ..Default::default()
        };
        let have: HashSet<String> = ["selinux".to_string()].into();
        let skipped = place(&mut pre_steps, &mut Vec::new(), &cat, Some(&have));
        assert_eq!(pre_steps.len(), 2);
        assert!(pre_steps[1]
            .sql
            .starts_with("SECURITY LABEL FOR selinux ON TABLE s.t"));
        let said: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.object.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(said.len(), 2);
        assert_eq!(said[0].0, "LARGE OBJECT 16400");
        assert_eq!(said[1], ("TABLE s.t", no_provider_reason("dummy").as_str()));
        assert!(skipped
            .iter()
            .all(|s| s.oid.is_none() && s.kind == "security label"));
    }
}
