//! The data phase: one exported snapshot, parallel workers, COPY streamed from
//! source to target with no parsing and no files between them.

mod early;
pub mod largeobjects;
pub mod link;
pub mod progress;
mod pump;
mod split;
mod units;
mod workers;

pub use early::EarlySteps;
pub use pump::{copy_table, Clear, CopyStats};
pub use split::{split_big_tables, SplitPolicy};
pub use units::{
    merge_ranges, number_ranges, number_units, range_json, redo_clear, unit_id, unit_label,
    LoadMode, TableResult, Unit, Work,
};
pub use workers::{run_copies, CopyJob};
