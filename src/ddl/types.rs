//! DDL for extensions, enum/composite/range/base types, domains and collations. (Being built.)

use crate::catalog::Catalog;
use crate::plan::FamilySteps;

/// Pre-data and post-data statements (and skipped objects) of this family.
pub fn steps(_cat: &Catalog) -> FamilySteps {
    FamilySteps::default()
}
