//! The data phase: one exported snapshot, parallel workers, COPY streamed from
//! source to target with no parsing and no files between them.

mod durable;
mod early;
mod pump;
mod snapshot;
mod split;
mod workers;

pub use durable::{barrier, Pending};
pub use early::EarlySteps;
pub use pump::{copy_table, Clear, CopyStats};
pub use snapshot::{import_snapshot, SnapshotHolder};
pub use split::{split_big_tables, SplitPolicy};
pub use workers::{
    merge_ranges, range_json, redo_clear, run_copies, unit_id, CopyJob, LoadMode, TableResult, Unit,
};
