//! The order in which conflicting target objects can be dropped one
//! statement at a time, without CASCADE: dependents first (a table before
//! the trigger function its triggers call, a view before the table it reads),
//! and no statement for an object that goes with another (an owned sequence
//! with its table, a partition with its parent). The relations come from the
//! target's `pg_depend` (`sql/precheck/target_drop_order.sql`).

use std::collections::BTreeSet;

/// One row of `target_drop_order.sql`, objects numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Relation {
    /// Object `a` is one of `b`'s parts.
    With(usize, usize),
    /// Object `a` must be dropped before `b`.
    Before(usize, usize),
    /// A target object that is not in the list (described) depends on `b`.
    Blocked(usize, String),
}

/// The drops, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct DropOrder {
    /// Objects (0-based) to drop, in this order.
    pub drops: Vec<usize>,
    /// Objects left out because dropping the second one drops them.
    pub dropped_with: Vec<(usize, usize)>,
    /// Other target objects that depend on one of ours (0-based), which
    /// stop its DROP until they are dropped or changed.
    pub blocked: Vec<(usize, String)>,
    /// Some objects depend on each other in a circle: they are in the given
    /// order at the end, and one of their drops will need CASCADE.
    pub cycle: bool,
}

/// Orders `n` objects (given sorted by schema and name, which breaks ties).
pub(super) fn order(n: usize, relations: &[Relation]) -> DropOrder {
    let mut owner: Vec<Option<usize>> = vec![None; n];
    for r in relations {
        if let Relation::With(a, b) = r {
            if let (Some(a), Some(b)) = (index(*a, n), index(*b, n)) {
                owner[a].get_or_insert(b);
            }
        }
    }
    // The object whose DROP removes `i`: follow "part of" to the top
    // (bounded: a circle of parts would be a broken catalog).
    let root = |mut i: usize| {
        for _ in 0..n {
            match owner[i] {
                Some(o) if o != i => i = o,
                _ => break,
            }
        }
        i
    };
    let mut out = DropOrder::default();
    let mut after: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut waiting = vec![0usize; n];
    for r in relations {
        match r {
            Relation::Before(a, b) => {
                let (Some(a), Some(b)) = (index(*a, n), index(*b, n)) else {
                    continue;
                };
                let (a, b) = (root(a), root(b));
                if a != b && after[a].insert(b) {
                    waiting[b] += 1;
                }
            }
            Relation::Blocked(b, what) => {
                if let Some(b) = index(*b, n) {
                    out.blocked.push((root(b), what.clone()));
                }
            }
            Relation::With(..) => {}
        }
    }
    let kept: Vec<usize> = (0..n).filter(|&i| root(i) == i).collect();
    for i in (0..n).filter(|&i| root(i) != i) {
        out.dropped_with.push((i, root(i)));
    }
    let mut ready: BTreeSet<usize> = kept.iter().copied().filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = ready.pop_first() {
        out.drops.push(i);
        for &b in &after[i] {
            waiting[b] -= 1;
            if waiting[b] == 0 {
                ready.insert(b);
            }
        }
    }
    if out.drops.len() < kept.len() {
        out.cycle = true;
        let done: BTreeSet<usize> = out.drops.iter().copied().collect();
        out.drops
            .extend(kept.iter().copied().filter(|i| !done.contains(i)));
    }
    out.blocked.sort();
    out.blocked.dedup();
    out
}

/// 1-based number from SQL to a 0-based index, if in range.
fn index(one_based: usize, n: usize) -> Option<usize> {
    (1..=n).contains(&one_based).then(|| one_based - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Relation::*;

    #[test]
    fn dependents_go_first_and_parts_go_with_their_owner() {
        // 1 function last_updated, 2 table actor (its trigger calls 1),
        // 3 sequence actor_id_seq (owned by 2, and 2's default uses it),
        // 4 view actor_info (reads 2 and calls 1).
        let rel = [
            Before(2, 1),
            With(3, 2),
            Before(2, 3),
            Before(4, 2),
            Before(4, 1),
        ];
        let o = order(4, &rel);
        assert_eq!(o.drops, vec![3, 1, 0]);
        assert_eq!(o.dropped_with, vec![(2, 1)]);
        assert!(!o.cycle && o.blocked.is_empty());
    }

    #[test]
    fn independent_objects_keep_their_order_and_cycles_still_list_all() {
        assert_eq!(order(3, &[]).drops, vec![0, 1, 2]);
        let o = order(
            3,
            &[Before(1, 2), Before(2, 1), Blocked(3, "view v".into())],
        );
        assert!(o.cycle);
        assert_eq!(o.drops, vec![2, 0, 1]);
        assert_eq!(o.blocked, vec![(2, "view v".to_string())]);
    }
}
