//! Verification: is the target equal to the source?

mod counts;

pub use counts::{compare_counts, TableCount};
