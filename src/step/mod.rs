//! Statements of a migration plan and their order: what a `Step` is (phase,
//! kind, object, SQL, scheduling), what an object family contributes, what is
//! skipped and why, and the `pg_depend` walks that order and prune them.
//!
//! This sits below both `ddl` (which renders steps for each object kind) and
//! `plan` (which assembles them), so neither has to import the other.

mod kind;
mod order;

pub use kind::StepKind;
pub use order::{dependents_closure, order_by_dependencies};

use crate::pg::Oid;
use serde::Serialize;

/// The seed's order: structure first, then data, then what needs the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Everything that must exist before rows arrive.
    PreData,
    /// Indexes, constraints, foreign keys, triggers, sequence values.
    PostData,
    /// Schema, table and column renames, last, so dependents follow by oid.
    Rename,
}

impl Phase {
    /// The phase's name inside persisted step keys. Spelled out (not `{:?}`)
    /// so that renaming a variant cannot orphan the state of earlier runs.
    pub fn key(self) -> &'static str {
        match self {
            Phase::PreData => "PreData",
            Phase::PostData => "PostData",
            Phase::Rename => "Rename",
        }
    }
}

/// How a post-data statement may be scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parallel {
    /// Runs alone, in plan order.
    Serial,
    /// May run at the same time as other `Concurrent` statements of its group
    /// (index builds, foreign-key validation).
    Concurrent,
}

/// One DDL statement of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub phase: Phase,
    /// What the statement does; decides scheduling, and how a statement that
    /// already ran is recognised on resume.
    pub kind: StepKind,
    /// Qualified display name of the object.
    pub object: String,
    pub sql: String,
    pub parallel: Parallel,
    /// Catalog oid of the object this statement creates or alters, if any;
    /// dependency ordering and skipping work on it. Printed as 0 when none
    /// (`--dry-run --json`), as it always was.
    #[serde(with = "crate::pg::oid::zero_is_none")]
    pub oid: Option<Oid>,
}

impl Step {
    pub fn new(phase: Phase, kind: StepKind, object: String, sql: String) -> Step {
        Step {
            phase,
            kind,
            object,
            sql,
            parallel: Parallel::Serial,
            oid: None,
        }
    }

    /// Ties the step to the catalog object it belongs to.
    pub fn of(mut self, oid: Oid) -> Step {
        self.oid = Some(oid);
        self
    }

    /// Marks the step as safe to run beside other concurrent steps.
    pub fn concurrent(mut self) -> Step {
        self.parallel = Parallel::Concurrent;
        self
    }

    /// The step's identity in the task state: its phase and a hash of its
    /// SQL, so a plan rebuilt on resume finds the steps it already ran.
    pub fn key(&self) -> String {
        format!(
            "{}:{:016x}",
            self.phase.key(),
            xxhash_rust::xxh3::xxh3_64(self.sql.as_bytes())
        )
    }
}

/// An object that cannot be migrated, and why. Never silent: printed and in the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub kind: &'static str,
    pub object: String,
    pub reason: String,
    #[serde(skip)]
    pub oid: Option<Oid>,
}

/// A plan statement the target refused when the precheck rehearsed the DDL
/// (`target.ddl`): what, and the target's own error.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Rejection {
    /// [`StepKind::label`] of the refused statement.
    pub kind: String,
    pub object: String,
    /// The target's SQLSTATE (e.g. `42883`), empty when it sent none.
    pub sqlstate: String,
    /// The target's error message (and detail).
    pub error: String,
    /// The statement's first line, to find it in `--dry-run`.
    pub statement: String,
    /// Source oid of the object, if the statement has one. Persisted in the
    /// task state (`rejected`), where none is 0, as written by earlier builds.
    #[serde(with = "crate::pg::oid::zero_is_none")]
    pub oid: Option<Oid>,
    /// [`Step::key`] of the refused statement.
    pub key: String,
}

/// Rewrites applied so that the target accepts an object that changed
/// meaning between versions (e.g. `anyarray` to `anycompatiblearray`).
/// Reported, so that every difference between both ends is explained.
#[derive(Debug, Clone, Serialize)]
pub struct Rewritten {
    pub kind: &'static str,
    pub object: String,
    /// What was changed and why.
    pub change: String,
    /// Precheck code that names this rule.
    pub code: &'static str,
}

/// What one object family adds to the plan.
#[derive(Debug, Clone, Default)]
pub struct FamilySteps {
    pub pre: Vec<Step>,
    pub post: Vec<Step>,
    pub skipped: Vec<Skipped>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_keys_are_stable_across_releases() {
        // Keys are persisted in task state: this exact value must not change.
        let s = Step::new(
            Phase::PostData,
            StepKind::Index,
            "public.t".into(),
            "CREATE INDEX i ON t (a);".into(),
        );
        assert_eq!(
            s.key(),
            format!(
                "PostData:{:016x}",
                xxhash_rust::xxh3::xxh3_64(s.sql.as_bytes())
            )
        );
        assert!(
            Step::new(Phase::PreData, StepKind::Table, "x".into(), "y".into())
                .key()
                .starts_with("PreData:")
        );
    }
}
