//! Verification: is the target equal to the source?

mod checksum;
mod counts;
mod largeobjects;
mod ranges;
mod rowhash;
mod schema;

pub use checksum::{compare_checksums, ChecksumOptions, TableChecksum, DEFAULT_SPLIT_BYTES};
pub use counts::{compare_counts, TableCount};
pub use largeobjects::{compare_large_objects, LargeObjectsCheck};
pub use ranges::{RangeDiff, Split};
pub use schema::{compare_schema, SchemaCheck, SchemaDifference};
