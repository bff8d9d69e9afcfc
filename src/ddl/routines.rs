//! DDL for functions, procedures, aggregates, operators and casts. (Being built.)

use crate::catalog::Catalog;
use crate::plan::FamilySteps;

/// Pre-data and post-data statements (and skipped objects) of this family.
pub fn steps(_cat: &Catalog) -> FamilySteps {
    FamilySteps::default()
}
