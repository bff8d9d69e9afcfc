//! Extended statistics objects: created after the data (they only describe
//! it), filled by the ANALYZE at the end of the migration.

use crate::catalog::Catalog;
use crate::pg::qualified;
use crate::step::{Phase, Step, StepKind};

/// `CREATE STATISTICS` and its comment, per object.
pub fn statistics_steps(cat: &Catalog) -> Vec<Step> {
    let mut out = Vec::new();
    for s in &cat.statistics {
        let name = qualified(&s.schema, &s.name);
        out.push(
            Step::new(
                Phase::PostData,
                StepKind::Statistics,
                name.clone(),
                format!("{};", s.definition),
            )
            .of(s.oid),
        );
        if let Some(c) = super::comment(&format!("STATISTICS {name}"), &s.comment) {
            out.push(Step::new(Phase::PostData, StepKind::Comment, name, c).of(s.oid));
        }
    }
    out
}
