//! The data phase: one exported snapshot, parallel workers, COPY streamed from
//! source to target with no parsing and no files between them.

mod pump;
mod snapshot;
mod split;
mod workers;

pub use pump::{copy_table, CopyStats};
pub use snapshot::{import_snapshot, SnapshotHolder};
pub use split::split_big_tables;
pub use workers::{run_copies, LoadMode, TableResult};
