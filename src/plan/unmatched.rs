//! Selection patterns that match nothing on the source. A typo in a pattern
//! would otherwise select nothing (or leave out nothing) and exit 0 with an
//! empty or unexpected migration; instead it is a configuration error
//! (exit 2) naming the pattern.

use super::Selection;
use crate::catalog::Catalog;
use crate::pg::names::Pattern;

/// Patterns that match nothing on the source: a typo would otherwise
/// migrate nothing (or everything) and exit 0. A schema pattern must match a
/// schema, a `schema.table` pattern a table, view or sequence.
pub(super) fn unmatched_patterns(cat: &Catalog, sel: &Selection) -> Vec<String> {
    let mut relations: Vec<(&str, &str)> = Vec::new();
    relations.extend(
        cat.tables
            .iter()
            .map(|t| (t.schema.as_str(), t.name.as_str())),
    );
    relations.extend(
        cat.views
            .views
            .iter()
            .map(|v| (v.schema.as_str(), v.name.as_str())),
    );
    relations.extend(
        cat.sequences
            .iter()
            .map(|s| (s.schema.as_str(), s.name.as_str())),
    );
    let matches = |p: &Pattern| match &p.table {
        None => cat.schemas.iter().any(|s| p.schema.matches(&s.name)),
        Some(t) => relations
            .iter()
            .any(|(s, n)| p.schema.matches(s) && t.matches(n)),
    };
    let mut out = Vec::new();
    for (what, list) in [
        ("include", &sel.include),
        ("exclude", &sel.exclude),
        ("exclude_data", &sel.exclude_data),
    ] {
        for p in list.iter().filter(|p| !matches(p)) {
            let kind = if p.table.is_some() {
                "no table, view or sequence"
            } else {
                "no schema"
            };
            out.push(format!(
                "{what} pattern `{}` matches {kind} on the source",
                p.text
            ));
        }
    }
    out
}
