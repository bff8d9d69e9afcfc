//! Rendering of each object kind into DDL for the target.
//!
//! Renderers take the source model and return SQL text; they never talk to a
//! server. Everything is schema-qualified because sessions run with an empty
//! `search_path`, as pg_dump's do.

mod constraints;
pub mod extra;
pub mod foreign;
mod inherit;
pub mod owners;
pub mod roles;
pub mod routines;
pub mod seclabels;
mod sequences;
mod statistics;
mod tables;
pub(crate) use tables::default_not_null_name;
pub mod tablespace;
pub mod textsearch;
pub mod transforms;
pub mod types;
pub mod views;

pub use constraints::{constraint_comments, constraint_steps, index_steps};
pub use inherit::replay as inheritance_replay;
pub use sequences::{create_sequence, identity_clause, sequence_owned_by};
pub use statistics::statistics_steps;
pub use tables::{
    attach_partition, carried_column_options, create_table, inherited_column_fixups, option_name,
    table_settings,
};

use crate::pg::quote_literal;

/// `COMMENT ON <what> IS '...'` or nothing.
pub fn comment(what: &str, comment: &Option<String>) -> Option<String> {
    comment
        .as_ref()
        .map(|c| format!("COMMENT ON {what} IS {};", quote_literal(c)))
}
