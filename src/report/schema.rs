//! `verify --schema` for people: one line when the structures match, else
//! each difference with both definitions.

use crate::verify::SchemaReport;

/// The structure comparison as text.
pub fn schema_text(r: &SchemaReport) -> String {
    let mut out = String::new();
    if r.equal() {
        out.push_str(&format!(
            "structure: {} objects compared, all equal\n",
            r.compared
        ));
    } else {
        out.push_str(&format!(
            "structure: {} of {} objects differ\n",
            r.differences.len(),
            r.compared
        ));
        for d in &r.differences {
            out.push_str(&format!("  {} {}: {}\n", d.kind, d.object, d.difference));
            for s in &d.source {
                out.push_str(&format!("    source: {s}\n"));
            }
            for t in &d.target {
                out.push_str(&format!("    target: {t}\n"));
            }
        }
    }
    if !r.explained.is_empty() {
        out.push_str(&format!(
            "  not expected on the target (skipped or left out by the migration): {}\n",
            r.explained.len()
        ));
    }
    out
}
