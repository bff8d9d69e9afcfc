//! Dependency order of pre-data statements, from `pg_depend`.
//!
//! The builder emits statements in a sensible kind order (schemas, extensions,
//! types, functions, sequences, tables, views, ...); this pass only moves a
//! statement later when something it depends on would otherwise come after it.
//! Statements of one object keep their relative order. A dependency cycle is
//! broken at the earliest object in the builder's order (pg_dump does the same
//! kind of thing), with a warning naming the objects.

use super::Step;
use crate::pg::Oid;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Reorders `steps` so that each object comes after the objects it depends on.
/// `depends` holds (object, referenced object) oid pairs.
pub fn order_by_dependencies(steps: Vec<Step>, depends: &[(Oid, Oid)]) -> Vec<Step> {
    // Group statements by object; statements without an object are their own group.
    let mut groups: Vec<Vec<Step>> = Vec::new();
    let mut group_of: HashMap<Oid, usize> = HashMap::new();
    for s in steps {
        if let Some(oid) = s.oid {
            if let Some(&g) = group_of.get(&oid) {
                groups[g].push(s);
                continue;
            }
            group_of.insert(oid, groups.len());
        }
        groups.push(vec![s]);
    }
    let n = groups.len();
    let mut preds: Vec<HashSet<usize>> = vec![HashSet::new(); n];
    for (obj, refd) in depends {
        if let (Some(&a), Some(&b)) = (group_of.get(obj), group_of.get(refd)) {
            if a != b {
                preds[a].insert(b);
            }
        }
    }
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg: Vec<usize> = vec![0; n];
    for (a, ps) in preds.iter().enumerate() {
        indeg[a] = ps.len();
        for &b in ps {
            succs[b].push(a);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = match ready.pop_first() {
            Some(i) => i,
            None => {
                // A cycle: take the earliest remaining group anyway.
                let Some(i) = (0..n).find(|&i| !done[i]) else {
                    break;
                };
                tracing::warn!(
                    object = %groups[i].first().map_or("", |s| s.object.as_str()),
                    "dependency cycle among pre-data objects; creating this one first"
                );
                i
            }
        };
        if done[next] {
            continue;
        }
        done[next] = true;
        order.push(next);
        for &s in &succs[next] {
            indeg[s] = indeg[s].saturating_sub(1);
            if indeg[s] == 0 && !done[s] {
                ready.insert(s);
            }
        }
    }
    let mut slots: Vec<Option<Vec<Step>>> = groups.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots[i].take())
        .flatten()
        .collect()
}

/// Every oid that depends, directly or not, on one of `roots`.
pub fn dependents_closure(roots: &[Oid], depends: &[(Oid, Oid)]) -> HashSet<Oid> {
    let mut by_ref: HashMap<Oid, Vec<Oid>> = HashMap::new();
    for (obj, refd) in depends {
        by_ref.entry(*refd).or_default().push(*obj);
    }
    let mut seen: HashSet<Oid> = roots.iter().copied().collect();
    let mut stack: Vec<Oid> = roots.to_vec();
    while let Some(x) = stack.pop() {
        for &d in by_ref.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(d) {
                stack.push(d);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::{Phase, StepKind};

    fn step(oid: u32, name: &str) -> Step {
        Step::new(Phase::PreData, StepKind::Table, name.into(), String::new()).of(Oid::new(oid))
    }

    fn pairs(p: &[(u32, u32)]) -> Vec<(Oid, Oid)> {
        p.iter().map(|&(a, b)| (Oid::new(a), Oid::new(b))).collect()
    }

    #[test]
    fn moves_only_what_must_move_and_keeps_groups_together() {
        let steps = vec![step(1, "a"), step(2, "b"), step(3, "c"), step(1, "a2")];
        // a depends on c
        let out = order_by_dependencies(steps, &pairs(&[(1, 3)]));
        let names: Vec<_> = out.iter().map(|s| s.object.as_str()).collect();
        assert_eq!(names, ["b", "c", "a", "a2"]);
    }

    #[test]
    fn cycles_are_broken_not_lost() {
        let steps = vec![step(1, "a"), step(2, "b")];
        let out = order_by_dependencies(steps, &pairs(&[(1, 2), (2, 1)]));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn closure_follows_chains() {
        let c = dependents_closure(&[Oid::new(1)], &pairs(&[(2, 1), (3, 2), (4, 9)]));
        let has = |n| c.contains(&Oid::new(n));
        assert!(has(1) && has(2) && has(3) && !has(4));
    }
}
