//! Tablespaces (`plan::tablespaces`): the source's relations outside its
//! default tablespace are created where `--tablespace-map` says, or in the
//! target database's default. Named before anything is written: the
//! tablespaces no entry maps (`source.tablespace`, a warning: their
//! relations move to the default), and the mapped ones the target lacks or
//! the login may not create in (`target.tablespace`, a failure: every
//! `CREATE` naming them would fail).

use super::{Context, End, Finding, SQL};
use crate::pg::quote_ident;
use crate::plan::tablespaces::placed;
use anyhow::Context as _;
use std::collections::{BTreeMap, BTreeSet};

/// `2 tables, 1 index` from counts by kind.
fn counted(kinds: &BTreeMap<&'static str, usize>) -> String {
    kinds
        .iter()
        .map(|(kind, n)| match (*n, *kind) {
            (1, k) => format!("1 {k}"),
            (n, "index") => format!("{n} indexes"),
            (n, k) => format!("{n} {k}s"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Relations by source tablespace, counted by kind.
fn by_tablespace(cx: &Context<'_>) -> BTreeMap<String, BTreeMap<&'static str, usize>> {
    let mut out: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for p in placed(cx.cat) {
        *out.entry(p.tablespace)
            .or_default()
            .entry(p.kind)
            .or_default() += 1;
    }
    out
}

/// `source.tablespace`: where the relations of each non-default tablespace go.
pub(super) fn source(cx: &Context<'_>) -> Vec<Finding> {
    const CODE: &str = "source.tablespace";
    if cx.opts.data_only {
        return vec![Finding::pass(CODE, "data only: no relation is created")];
    }
    let groups = by_tablespace(cx);
    let mapped = &cx.cat.tablespaces.mapped;
    let mut out = Vec::new();
    let (unmapped, moved): (Vec<_>, Vec<_>) =
        groups.iter().partition(|(ts, _)| !mapped.contains_key(*ts));
    let moved: Vec<String> = moved
        .iter()
        .map(|(ts, kinds)| {
            let to = match mapped.get(*ts).and_then(Option::as_deref) {
                Some(new) => quote_ident(new),
                None => "the target's default".to_string(),
            };
            format!("{} -> {to} ({})", quote_ident(ts), counted(kinds))
        })
        .collect();
    if unmapped.is_empty() {
        out.push(Finding::pass(
            CODE,
            if moved.is_empty() {
                "every table, index and materialized view is in the source database's default \
                 tablespace"
                    .to_string()
            } else {
                format!(
                    "relations of other tablespaces are created where --tablespace-map puts \
                     them: {}",
                    moved.join(", ")
                )
            },
        ));
    } else {
        let listed: Vec<String> = unmapped
            .iter()
            .map(|(ts, kinds)| format!("{} ({})", quote_ident(ts), counted(kinds)))
            .collect();
        let total: usize = unmapped.iter().flat_map(|(_, k)| k.values()).sum();
        let first = unmapped.first().map(|(ts, _)| ts.as_str()).unwrap_or("");
        out.push(Finding::warning(
            CODE,
            format!(
                "{total} relation(s) in tablespace(s) that --tablespace-map does not map are \
                 created in the target database's default tablespace: {}{}",
                listed.join(", "),
                if moved.is_empty() {
                    String::new()
                } else {
                    format!("; mapped: {}", moved.join(", "))
                }
            ),
            format!(
                "to keep them apart, create a tablespace on the target and map each: \
                 --tablespace-map {first}=NEW (or `{first}=` to accept the default); each \
                 relation is listed as rewritten in the report"
            ),
        ));
    }
    let unused: Vec<String> = mapped
        .keys()
        .filter(|ts| !groups.contains_key(*ts))
        .map(|ts| quote_ident(ts))
        .collect();
    if !unused.is_empty() {
        out.push(Finding::warning(
            CODE,
            format!(
                "--tablespace-map names tablespace(s) that hold no migrated table, index or \
                 materialized view on the source: {} (the source database's default is {})",
                unused.join(", "),
                quote_ident(&cx.cat.tablespaces.database_default)
            ),
            "check the names against the source (SELECT spcname FROM pg_tablespace); \
             relations in the source database's default tablespace go to the target's",
        ));
    }
    out
}

/// `target.tablespace`: every tablespace the plan names exists on the
/// target and the login may create in it.
pub(super) async fn target(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    const CODE: &str = "target.tablespace";
    if cx.opts.data_only {
        return Ok(vec![Finding::pass(
            CODE,
            "data only: no relation is created",
        )]);
    }
    let ts = &cx.cat.tablespaces;
    // Target tablespace -> the source tablespaces mapped to it, for messages.
    let mut wanted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (oid, new) in &ts.create_in {
        let old = ts.of.get(oid).map_or("?", String::as_str);
        wanted.entry(new.as_str()).or_default().insert(old);
    }
    if wanted.is_empty() {
        return Ok(vec![Finding::pass(
            CODE,
            "no relation is created in a tablespace other than the target database's default",
        )]);
    }
    let names: Vec<&str> = wanted.keys().copied().collect();
    let rows = cx
        .target
        .query(
            include_str!("../../sql/precheck/tablespaces_target.sql"),
            &[&names],
        )
        .await
        .context("reading the target's tablespaces (sql/precheck/tablespaces_target.sql)")?;
    let found: BTreeMap<String, bool> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let from = |new: &str| {
        let olds: Vec<String> = wanted
            .get(new)
            .into_iter()
            .flatten()
            .map(|o| quote_ident(o))
            .collect();
        format!("{} (for {})", quote_ident(new), olds.join(", "))
    };
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !found.contains_key(*n))
        .collect();
    let denied: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| found.get(*n) == Some(&false))
        .collect();
    let mut out = Vec::new();
    if !missing.is_empty() {
        out.push(Finding::failure(
            CODE,
            format!(
                "--tablespace-map puts relations in tablespace(s) the target does not have: {}",
                missing
                    .iter()
                    .map(|n| from(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "create it on the target as a superuser (CREATE TABLESPACE {} LOCATION \
                 '/an/empty/directory/owned/by/postgres'), or map to one it has (SELECT spcname \
                 FROM pg_tablespace), or to its default (`OLD=`)",
                quote_ident(missing[0])
            ),
        ));
    }
    if !denied.is_empty() {
        let role = quote_ident(&cx.tgt.login);
        out.push(
            Finding::failure(
                CODE,
                format!(
                    "{} lacks CREATE on tablespace(s) --tablespace-map puts relations in: {}",
                    cx.tgt.login,
                    denied
                        .iter()
                        .map(|n| from(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("on the target, as the tablespaces' owner or a superuser: {SQL}"),
            )
            .with_sql(
                End::Target,
                denied
                    .iter()
                    .map(|n| format!("GRANT CREATE ON TABLESPACE {} TO {role};", quote_ident(n)))
                    .collect(),
            ),
        );
    }
    if out.is_empty() {
        out.push(Finding::pass(
            CODE,
            format!(
                "the target has the mapped tablespace(s) and {} may create in them: {}",
                cx.tgt.login,
                names
                    .iter()
                    .map(|n| quote_ident(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn counts_read_as_words() {
        let k = [("index", 3), ("materialized view", 1), ("table", 2)]
            .into_iter()
            .collect();
        assert_eq!(counted(&k), "3 indexes, 1 materialized view, 2 tables");
    }
}
