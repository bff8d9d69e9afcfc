//! The plan: the source model turned into an ordered list of statements, each
//! tagged with its phase and object, plus the list of tables to copy.
//!
//! The plan is plain data so it can be printed (`--dry-run`), tested, and
//! persisted for resume.

mod build;
mod columns;
pub mod compat;
pub mod reject;
pub mod rename;
pub mod select;
pub mod tablespaces;
#[cfg(test)]
mod tests;
mod unmatched;

pub use crate::step::{
    dependents_closure, order_by_dependencies, FamilySteps, Parallel, Phase, Rejection, Rewritten,
    Skipped, Step, StepKind,
};
pub use build::{build, BuildOptions};
pub use reject::{
    closure_with_parts, dependent_reason, drop_rejected, rejected_closure, roots_of, Dependents,
};
pub use rename::{NameMap, Renames};
pub use select::{SelectError, Selection};
pub use tablespaces::TablespaceMap;

use serde::Serialize;

/// One table whose rows are copied.
#[derive(Debug, Clone, Serialize)]
pub struct TableCopy {
    pub source_schema: String,
    pub source_name: String,
    pub target_schema: String,
    pub target_name: String,
    /// Columns read on the source, in order.
    pub source_columns: Vec<String>,
    /// The same columns as named on the target, in the same order.
    pub target_columns: Vec<String>,
    /// Every column is a built-in type with binary I/O: binary COPY is safe.
    pub binary: bool,
    /// Size on disk of the source table, for scheduling and progress.
    pub bytes: i64,
    pub est_rows: f64,
    /// A single-column integer primary key (or unique not-null key) on which
    /// a big table can be split into ranges.
    pub split_key: Option<String>,
    /// The part of the table this unit copies; `None` is the whole table.
    pub range: Option<CopyRange>,
}

/// A slice of a big table, copied as its own unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum CopyRange {
    /// `key >= lo AND key < hi` (an open end when `None`).
    Key {
        column: String,
        lo: Option<i64>,
        hi: Option<i64>,
    },
    /// Heap pages `[lo, hi)` by `ctid` (TID range scans, PostgreSQL 14+).
    Pages { lo: i64, hi: Option<i64> },
}

impl CopyRange {
    /// The `WHERE` condition selecting this range.
    pub fn predicate(&self) -> String {
        match self {
            CopyRange::Key { column, lo, hi } => {
                let col = crate::pg::quote_ident(column);
                let mut parts = Vec::new();
                if let Some(lo) = lo {
                    parts.push(format!("{col} >= {lo}"));
                }
                if let Some(hi) = hi {
                    parts.push(format!("{col} < {hi}"));
                }
                if parts.is_empty() {
                    "true".to_string()
                } else {
                    parts.join(" AND ")
                }
            }
            CopyRange::Pages { lo, hi } => match hi {
                Some(hi) => format!("ctid >= '({lo},0)'::tid AND ctid < '({hi},0)'::tid"),
                None => format!("ctid >= '({lo},0)'::tid"),
            },
        }
    }
}

impl TableCopy {
    /// `schema.table` on the source, quoted.
    pub fn source_qualified(&self) -> String {
        crate::pg::qualified(&self.source_schema, &self.source_name)
    }
    /// `schema.table` on the target, quoted.
    pub fn target_qualified(&self) -> String {
        crate::pg::qualified(&self.target_schema, &self.target_name)
    }
}

/// A sequence whose value is set on the target after the data.
#[derive(Debug, Clone, Serialize)]
pub struct SequenceValue {
    pub source: String,
    pub target: String,
}

/// What `migrate` will do, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub pre_data: Vec<Step>,
    pub copies: Vec<TableCopy>,
    pub post_data: Vec<Step>,
    pub sequences: Vec<SequenceValue>,
    pub skipped: Vec<Skipped>,
    /// `ALTER ... RENAME` statements, run after post-data (see `rename`).
    pub renames: Vec<Step>,
    /// Objects left out by selection because of what they depend on, with the reason.
    pub excluded: Vec<Skipped>,
    /// Tables created without their rows (`exclude_data`).
    pub no_data: Vec<String>,
    /// Objects changed by a version rule so the target accepts them (see `compat`).
    pub rewritten: Vec<Rewritten>,
    /// Source name -> final target name.
    #[serde(skip)]
    pub names: NameMap,
    /// What the plan moves, counted the one way every command reports it.
    pub counts: Counts,
}

/// What a migration moves, counted one way for every command: the migrate
/// report and summary, `status`, the dry run and precheck (and verify, which
/// compares `tables - tables_without_data` tables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Selected tables that hold rows: ordinary tables and partitions
    /// (including those created without their rows, `exclude_data`).
    pub tables: usize,
    /// Partitioned tables: created, but they hold no rows of their own (their
    /// partitions do), so they are not among `tables`.
    pub partitioned_tables: usize,
    /// Tables created without their rows (`exclude_data`), among `tables`.
    pub tables_without_data: usize,
    /// Sequences whose value is set after the data.
    pub sequences: usize,
    /// Statements of the pre-data phase (schemas, types, functions, tables...).
    pub pre_data_statements: usize,
    /// Statements of the post-data phase: indexes, constraints, foreign keys,
    /// triggers, rules, policies, statistics, comments, materialized view
    /// refreshes, owners and grants. Renames, sequence values and ANALYZE
    /// are counted apart.
    pub post_data_statements: usize,
    /// `ALTER ... RENAME` statements, run last.
    pub renames: usize,
}

impl Counts {
    /// The counts of `plan`, built from `cat` (after selection).
    pub fn of(plan: &Plan, cat: &crate::catalog::Catalog) -> Counts {
        let skipped: std::collections::HashSet<crate::pg::Oid> =
            plan.skipped.iter().filter_map(|s| s.oid).collect();
        let kept: Vec<_> = cat
            .tables
            .iter()
            .filter(|t| !skipped.contains(&t.oid))
            .collect();
        let partitioned_tables = kept.iter().filter(|t| t.is_partitioned()).count();
        let tables_without_data = kept
            .iter()
            .filter(|t| !t.is_partitioned())
            .filter(|t| {
                plan.no_data
                    .contains(&crate::pg::qualified(&t.schema, &t.name))
            })
            .count();
        Counts {
            tables: kept.len() - partitioned_tables,
            partitioned_tables,
            tables_without_data,
            sequences: plan.sequences.len(),
            pre_data_statements: plan.pre_data.len(),
            post_data_statements: plan.post_data.len(),
            renames: plan.renames.len(),
        }
    }

    /// One line for people: `21 tables (and 1 partitioned table), ...`.
    pub fn describe(&self) -> String {
        let mut out = format!("{} tables", self.tables);
        if self.partitioned_tables > 0 {
            out.push_str(&format!(
                " (and {} partitioned, holding no rows of their own)",
                self.partitioned_tables
            ));
        }
        if self.tables_without_data > 0 {
            out.push_str(&format!(
                ", {} of them without their rows",
                self.tables_without_data
            ));
        }
        out.push_str(&format!(
            ", {} pre-data and {} post-data statements, {} renames, {} sequences",
            self.pre_data_statements, self.post_data_statements, self.renames, self.sequences
        ));
        out
    }
}

/// Applies the selection and renames to the catalog, then builds the plan:
/// what every command that reads the source runs (migrate, verify, precheck).
/// Errors are configuration errors (exit 2) naming each bad entry.
pub fn prepare(cat: &mut crate::catalog::Catalog, sel: &Selection) -> anyhow::Result<Plan> {
    prepare_with(cat, sel, &BuildOptions::default())
}

/// [`prepare`] with build options (`migrate --keep-owners`). Owner and grant
/// steps are tied to their object's oid, so the selection prunes them with it;
/// they run in post-data, before the renames, under the source names.
pub fn prepare_with(
    cat: &mut crate::catalog::Catalog,
    sel: &Selection,
    opts: &BuildOptions,
) -> anyhow::Result<Plan> {
    let rep =
        select::apply(cat, sel).map_err(|e| crate::error::usage(format!("selection: {e}")))?;
    let names =
        rename::resolve(cat, &sel.renames).map_err(|e| crate::error::usage(e.join("; ")))?;
    let mut rewritten = compat::apply(cat, opts.target);
    if !opts.tablespaces_as_read {
        rewritten.extend(tablespaces::apply(
            cat,
            &sel.tablespaces,
            opts.target_default_tablespace.as_deref(),
        ));
    }
    let mut plan = build(cat, opts);
    plan.rewritten.splice(0..0, rewritten);
    select::prune(&mut plan, &rep);
    // Once the plan holds exactly the objects it creates: each one's labels.
    let label_skips = crate::ddl::seclabels::place(
        &mut plan.pre_data,
        &mut plan.post_data,
        cat,
        opts.label_providers.as_ref(),
    );
    plan.skipped.extend(label_skips);
    select::keep_keys_to_empty_tables(&mut plan, cat, &rep);
    rename::finish(&mut plan, cat, &names);
    plan.names = names;
    plan.counts = Counts::of(&plan, cat);
    Ok(plan)
}
