//! The data phase: one exported snapshot, parallel workers, COPY streamed from
//! source to target with no parsing and no files between them.

mod early;
pub mod link;
pub mod progress;
mod pump;
mod split;
mod workers;

pub use early::EarlySteps;
pub use pump::{copy_table, Clear, CopyStats};
pub use split::{split_big_tables, SplitPolicy};
pub use workers::{
    merge_ranges, range_json, redo_clear, run_copies, unit_id, CopyJob, LoadMode, TableResult, Unit,
};
