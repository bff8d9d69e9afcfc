//! Verification: is the target equal to the source?
//!
//! `checksum` drives it: `units` plans what to read, `rowhash` the COPY that
//! streams it version-independently, `digest` hashes it in pgferry, `ranges`
//! locates differences, `sequences` compares sequence values; `counts` is the
//! quick look (row counts only).

mod checksum;
mod counts;
mod digest;
mod largeobjects;
mod ranges;
mod rowhash;
mod schema;
mod sequences;
mod session;
mod units;

pub use checksum::{compare_checksums, verify_all, ChecksumOptions, TableChecksum};
pub use counts::{compare_counts, TableCount};
pub use largeobjects::compare_large_objects;
pub use schema::{compare_schema, compare_schema_to, SchemaDifference, SchemaReport};
pub use sequences::{sequences_text, SequenceCheck};
