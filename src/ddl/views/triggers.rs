//! Post-data: triggers (`pg_get_triggerdef`), their enabled state and comments.
//! Triggers are created after the rows are copied, so they do not fire on them.
//!
//! A partitioned table's trigger makes its partitions' clones itself; a clone
//! only gets its own `ALTER TABLE ... ENABLE/DISABLE TRIGGER` (after the
//! parent's), as pg_dump does, when its state may differ from what the
//! parent's statements leave it in.

use super::{creates_relation, enable_words};
use crate::catalog::views::Trigger;
use crate::catalog::Catalog;
use crate::ddl::comment;
use crate::pg::{qualified, quote_ident};
use crate::step::{Phase, Step, StepKind};

pub(super) fn steps(cat: &Catalog) -> Vec<Step> {
    let mut out = Vec::new();
    let triggers: Vec<&Trigger> = cat
        .views
        .triggers
        .iter()
        .filter(|t| creates_relation(cat, t.table_oid))
        .collect();
    for t in triggers.iter().filter(|t| !t.is_clone()) {
        let obj = display(t);
        out.push(
            Step::new(
                Phase::PostData,
                StepKind::Trigger,
                obj,
                format!("{};", t.definition.trim_end().trim_end_matches(';')),
            )
            .of(t.oid),
        );
        out.extend(state_and_comment(t));
    }
    for t in triggers.iter().filter(|t| t.is_clone()) {
        let parent = t.parent_enabled.as_deref().unwrap_or("O");
        // The parent's ALTER recurses to its partitions on the servers that
        // support it; saying the clone's state again is harmless and covers the rest.
        if t.enabled != parent || parent != "O" {
            let words = enable_words(&t.enabled).unwrap_or("ENABLE");
            out.push(state_step(t, words));
        }
        out.extend(comment_step(t));
    }
    out
}

fn display(t: &Trigger) -> String {
    format!(
        "{} on {}",
        quote_ident(&t.name),
        qualified(&t.schema, &t.table_name)
    )
}

fn state_step(t: &Trigger, words: &str) -> Step {
    Step::new(
        Phase::PostData,
        StepKind::TriggerState,
        display(t),
        format!(
            "ALTER TABLE {} {words} TRIGGER {};",
            qualified(&t.schema, &t.table_name),
            quote_ident(&t.name)
        ),
    )
    .of(t.oid)
}

fn comment_step(t: &Trigger) -> Option<Step> {
    let what = format!(
        "TRIGGER {} ON {}",
        quote_ident(&t.name),
        qualified(&t.schema, &t.table_name)
    );
    comment(&what, &t.comment)
        .map(|c| Step::new(Phase::PostData, StepKind::Comment, display(t), c).of(t.oid))
}

fn state_and_comment(t: &Trigger) -> Vec<Step> {
    let mut out = Vec::new();
    if let Some(words) = enable_words(&t.enabled) {
        out.push(state_step(t, words));
    }
    out.extend(comment_step(t));
    out
}
