//! Post-data for materialized views: their indexes (built in parallel, like
//! tables' indexes), CLUSTER ON markers, then `REFRESH MATERIALIZED VIEW` of
//! those populated on the source, each after the materialized views it reads
//! from (directly or through views and functions).

use crate::catalog::views::View;
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::step::{order_by_dependencies, Phase, Step, StepKind};
use std::collections::{HashMap, HashSet};

/// Index builds, CLUSTER ON, index comments, then refreshes.
pub(super) fn steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut builds = Vec::new();
    let mut after = Vec::new();
    for i in &cat.views.matview_indexes {
        let Some(mv) = cat.views.view(i.matview_oid) else {
            continue;
        };
        let mv_name = qualified(&mv.schema, &mv.name);
        let obj = format!("{} on {mv_name}", quote_ident(&i.name));
        // Tied to the materialized view: the index goes (or is skipped) with it.
        builds.push(
            Step::new(
                post,
                StepKind::Index,
                obj.clone(),
                format!(
                    "{};",
                    crate::ddl::tablespace::index_in(
                        &i.definition,
                        cat.tablespaces.create_in(i.oid)
                    )
                ),
            )
            .of(mv.oid)
            .concurrent(),
        );
        if i.clustered {
            after.push(
                Step::new(
                    post,
                    StepKind::ClusterOn,
                    obj.clone(),
                    format!(
                        "ALTER MATERIALIZED VIEW {mv_name} CLUSTER ON {};",
                        quote_ident(&i.name)
                    ),
                )
                .of(mv.oid),
            );
        }
        let idx = qualified(&mv.schema, &i.name);
        if let Some(c) = comment(&format!("INDEX {idx}"), &i.comment) {
            after.push(Step::new(post, StepKind::Comment, obj, c).of(mv.oid));
        }
    }
    let mut out = builds;
    out.extend(after);
    out.extend(refreshes(cat));
    out
}

/// `REFRESH MATERIALIZED VIEW` of every populated materialized view, each
/// after those it reads from.
fn refreshes(cat: &Catalog) -> Vec<Step> {
    let mvs: Vec<&View> = cat
        .views
        .views
        .iter()
        .filter(|v| v.is_materialized() && v.populated)
        .collect();
    let steps: Vec<Step> = mvs
        .iter()
        .map(|v| {
            let name = qualified(&v.schema, &v.name);
            Step::new(
                Phase::PostData,
                StepKind::MaterializedViewRefresh,
                name.clone(),
                format!("REFRESH MATERIALIZED VIEW {name};"),
            )
            .of(v.oid)
        })
        .collect();
    let oids: HashSet<Oid> = mvs.iter().map(|v| v.oid).collect();
    order_by_dependencies(steps, &matview_edges(&oids, &cat.depends))
}

/// (materialized view, materialized view it reads from) pairs, following
/// dependencies through anything in between (views, functions).
fn matview_edges(mvs: &HashSet<Oid>, depends: &[(Oid, Oid)]) -> Vec<(Oid, Oid)> {
    let mut refs: HashMap<Oid, Vec<Oid>> = HashMap::new();
    for (obj, r) in depends {
        refs.entry(*obj).or_default().push(*r);
    }
    let mut edges = Vec::new();
    for &m in mvs {
        let mut seen: HashSet<Oid> = HashSet::from([m]);
        let mut stack = vec![m];
        while let Some(x) = stack.pop() {
            for &r in refs.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                if !seen.insert(r) {
                    continue;
                }
                if mvs.contains(&r) {
                    edges.push((m, r));
                } else {
                    stack.push(r);
                }
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_go_through_views_and_stop_at_materialized_views() {
        // 1 reads view 5, which reads matview 2; 2 reads matview 3.
        let o = |pairs: &[(u32, u32)]| -> Vec<(Oid, Oid)> {
            pairs
                .iter()
                .map(|&(a, b)| (Oid::new(a), Oid::new(b)))
                .collect()
        };
        let mvs = HashSet::from([1, 2, 3].map(Oid::new));
        let mut e = matview_edges(&mvs, &o(&[(1, 5), (5, 2), (2, 3), (3, 9)]));
        e.sort();
        assert_eq!(e, o(&[(1, 2), (2, 3)]));
    }
}
