//! `target.seclabel_provider`: a security label can only be set through its
//! provider, a module loaded on the server (sepgsql, or a vendor's); a
//! target without it refuses every label of that provider. The plan already
//! left those labels out (`BuildOptions::label_providers`); this check says
//! so before anything is written, and fails unless the user accepts
//! migrating without them (`--ignore-check target.seclabel_provider`: each
//! is then in the report's `skipped` list).

use super::{Context, Finding};
use crate::catalog::seclabels::loaded_label_providers;
use crate::ddl::seclabels::no_provider_reason;
use crate::pg::quote_ident;
use crate::plan::StepKind;
use std::collections::BTreeSet;

const CODE: &str = "target.seclabel_provider";

/// Labels listed in one message at most; the report lists them all.
const SHOWN: usize = 20;

pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    if cx.opts.data_only {
        return Ok(vec![Finding::pass(
            CODE,
            "--data-only: no security labels are set",
        )]);
    }
    let used: BTreeSet<String> = cx
        .cat
        .security_labels
        .iter()
        .map(|l| l.provider.clone())
        .collect();
    if used.is_empty() {
        return Ok(vec![Finding::pass(
            CODE,
            "no security labels on the source",
        )]);
    }
    let loaded = loaded_label_providers(cx.target, &used).await?;
    let missing: Vec<&String> = used.iter().filter(|p| !loaded.contains(*p)).collect();
    let label = StepKind::SecurityLabel.label();
    let skipped: Vec<String> = cx
        .plan
        .skipped
        .iter()
        .filter(|s| s.kind == label)
        .filter(|s| missing.iter().any(|p| s.reason == no_provider_reason(p)))
        .map(|s| s.object.clone())
        .collect();
    let names = |ps: &[&String]| {
        ps.iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if skipped.is_empty() {
        let have: Vec<&String> = used.iter().filter(|p| loaded.contains(*p)).collect();
        let mut msg = match have.is_empty() {
            true => "no label of a migrated object needs a provider".to_string(),
            false => format!(
                "the target has the security label provider(s) the source's labels use: {}",
                names(&have)
            ),
        };
        if !missing.is_empty() {
            msg.push_str(&format!(
                "; {} (not loaded on the target) label only objects that are not migrated",
                names(&missing)
            ));
        }
        return Ok(vec![Finding::pass(CODE, msg)]);
    }
    let mut listed = skipped
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if skipped.len() > SHOWN {
        listed.push_str(&format!(" and {} more", skipped.len() - SHOWN));
    }
    Ok(vec![Finding::failure(
        CODE,
        format!(
            "the target has no security label provider {} loaded, which {} label(s) of the \
             migrated objects use: {listed}",
            names(&missing),
            skipped.len()
        ),
        "load the provider on the target (its module in shared_preload_libraries, then a \
         restart), or pass --ignore-check target.seclabel_provider to migrate without these \
         labels: each is then listed in the report as skipped",
    )])
}
