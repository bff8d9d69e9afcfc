//! The end of a run: the structure of both ends compared, as `verify
//! --schema` does, so the report says whether the target holds what the plan
//! expects (what the plan skipped is expected to be missing: only the rest is
//! listed).

use super::Options;
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::plan::Plan;
use crate::verify::SchemaDifference;

/// The differences of structure that the report's skipped and left-out lists
/// do not explain; none with `--data-only` (the structure is not ours). A
/// comparison that cannot run is logged, not fatal: the migration is done.
/// `source` is the catalog the plan was built from, as read; `None` reads
/// the source again.
pub(super) async fn structure_differences(
    ends: &Endpoints,
    opts: &Options,
    plan: &Plan,
    source: Option<Catalog>,
) -> Vec<SchemaDifference> {
    let schema_differences = if opts.data_only {
        Vec::new()
    } else {
        let gone: std::collections::HashSet<&str> = plan
            .skipped
            .iter()
            .chain(&plan.excluded)
            .map(|s| s.object.as_str())
            .collect();
        let compared = match source {
            Some(cat) => crate::verify::compare_schema_to(cat, &ends.target, &opts.selection).await,
            None => crate::verify::compare_schema(ends, &opts.selection).await,
        };
        match compared {
            Ok(check) => check
                .differences
                .into_iter()
                .filter(|d| {
                    !(d.difference == "missing on target" && gone.contains(d.object.as_str()))
                })
                .collect(),
            Err(e) => {
                tracing::warn!("could not compare the structure of both ends: {e:#}");
                Vec::new()
            }
        }
    };
    for d in &schema_differences {
        tracing::warn!(
            "structure differs: {} {}: {}",
            d.kind,
            d.object,
            d.difference
        );
    }
    schema_differences
}
