//! Running work on the target, durably: one statement with its error named,
//! runs of plan steps (serial and concurrent) with retries and resume, and the
//! barrier that makes finished work durable before the task state records it.
//!
//! Both the copy engine (early index builds) and `migrate` (post-data,
//! renames) run statements through this layer, so it sits under both.

mod durable;
mod steps;

pub use durable::{barrier, Pending};
pub use steps::{run_step, step_phase, StepRunner};
