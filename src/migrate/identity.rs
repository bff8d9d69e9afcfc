//! What makes two runs the same task: the ends, the selection, the renames
//! and every option that changes what ends up on the target. `--resume`
//! continues a task only when all of them are the same, because the recorded
//! units and statements were planned from them: a resume under another
//! selection would copy the old units into a new plan (and fail, or worse,
//! succeed with a mix). Options that only change how fast the work goes
//! (`--jobs`, `--split-tables-larger-than`, `--no-analyze`) are not part of it.
//!
//! The parts are stored in the task state, so a refused resume can say what
//! changed. The default state directory is named after the ends and the mode
//! only, as before, so a resume with a changed selection still finds its task
//! and is told what differs, instead of "nothing to resume".

use super::Options;
use crate::config::Endpoints;
use crate::pg::names::Pattern;
use crate::plan::rename::RenameEntry;
use std::collections::BTreeMap;

/// A task's identity: a readable line, and its parts by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Source, target and mode, never a password (shown by `status`; the
    /// default state directory is a hash of it).
    pub line: String,
    /// Every part, by a name the user recognises (`--include`, `[rename] tables`...).
    pub parts: BTreeMap<String, String>,
}

fn patterns(p: &[Pattern]) -> String {
    let mut v: Vec<&str> = p.iter().map(|x| x.text.as_str()).collect();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}

fn renames(r: &[RenameEntry]) -> String {
    let mut v: Vec<&str> = r.iter().map(|x| x.entry.as_str()).collect();
    v.sort_unstable();
    v.join(", ")
}

/// The identity of the task `opts` describes between `ends`.
pub fn identity(ends: &Endpoints, opts: &Options) -> Identity {
    let mode = if opts.schema_only {
        " (schema only)"
    } else if opts.data_only {
        " (data only)"
    } else {
        ""
    };
    let owners = if opts.keep_owners {
        " (keep owners)"
    } else {
        ""
    };
    let line = format!(
        "{} -> {}{mode}{owners}",
        ends.source.redacted(),
        ends.target.redacted()
    );
    let sel = &opts.selection;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let parts = [
        ("source", ends.source.redacted().to_string()),
        ("target", ends.target.redacted().to_string()),
        ("--schema-only", yes_no(opts.schema_only)),
        ("--data-only", yes_no(opts.data_only)),
        ("--keep-owners", yes_no(opts.keep_owners)),
        ("include", patterns(&sel.include)),
        ("exclude", patterns(&sel.exclude)),
        ("exclude_data", patterns(&sel.exclude_data)),
        ("[rename] schemas", renames(&sel.renames.schemas)),
        ("[rename] tables", renames(&sel.renames.tables)),
        ("[rename] columns", renames(&sel.renames.columns)),
        ("--tablespace-map", sel.tablespaces.listing()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Identity { line, parts }
}

impl Identity {
    /// The parts as stored in the task state.
    pub fn parts_json(&self) -> String {
        serde_json::to_string(&self.parts).unwrap_or_default()
    }

    /// What differs from a recorded identity (its parts as stored), one
    /// phrase per part; empty when the same.
    pub fn changes_from(&self, recorded: &str) -> Vec<String> {
        let old: BTreeMap<String, String> = serde_json::from_str(recorded).unwrap_or_default();
        let show = |v: Option<&String>| match v.map(String::as_str) {
            None | Some("") => "(none)".to_string(),
            Some(s) => format!("`{s}`"),
        };
        let mut keys: Vec<&String> = old.keys().chain(self.parts.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| {
                let get = |m: &BTreeMap<String, String>| m.get(*k).cloned().unwrap_or_default();
                get(&old) != get(&self.parts)
            })
            .map(|k| {
                format!(
                    "{k} was {}, now {}",
                    show(old.get(k)),
                    show(self.parts.get(k))
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_part() {
        let mut a = Identity {
            line: "x".into(),
            parts: BTreeMap::new(),
        };
        a.parts.insert("include".into(), "public.a".into());
        a.parts.insert("source".into(), "s".into());
        let stored = a.parts_json();
        assert!(a.changes_from(&stored).is_empty());
        a.parts.insert("include".into(), "public.b".into());
        a.parts.insert("exclude".into(), String::new());
        assert_eq!(
            a.changes_from(&stored),
            ["include was `public.a`, now `public.b`"]
        );
    }
}
