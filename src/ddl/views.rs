//! DDL for views, materialized views, rules, triggers and row-level security policies. (Being built.)

use crate::catalog::Catalog;
use crate::plan::FamilySteps;

/// Pre-data and post-data statements (and skipped objects) of this family.
pub fn steps(_cat: &Catalog) -> FamilySteps {
    FamilySteps::default()
}
