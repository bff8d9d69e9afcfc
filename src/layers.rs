//! The layer order of pgferry's modules, and the test that keeps it.
//!
//! Data flows upward: a module may use modules of lower layers only, never a
//! module of its own layer or above. This keeps the import graph free of
//! cycles, so each layer can be read, tested (and one day split into a crate)
//! on its own. `docs/architecture.md` explains what each layer owns.

/// Lowest first. Modules on one line are independent of each other.
pub const LAYERS: &[&[&str]] = &[
    // PostgreSQL connections, names, snapshots; fault points for tests;
    // the run's journal (timeline, precheck, command line) for the report.
    &["pg", "fault", "journal"],
    // Exit codes and error kinds; the test-cluster harness.
    &["error", "localpg", "repl"],
    // The source model; the task state store.
    &["catalog", "state"],
    // Plan statements and their dependency order.
    &["step"],
    // Rendering of each object kind.
    &["ddl"],
    // Selection, renames, the ordered plan.
    &["plan"],
    // Task file and flags, validated.
    &["config"],
    // Checks before anything is written; running statements durably.
    &["precheck", "exec"],
    // The data engine.
    &["copy"],
    // Counts and checksums of both ends.
    &["verify"],
    // The whole job, phase by phase.
    &["migrate"],
    // Human and JSON rendering of results; the HTML page of a task.
    &["report", "html"],
    // The command line.
    &["cli"],
];

/// The layer index of a top-level module, if it is listed.
pub fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every `crate::<module>` a file names (in `use` lines and in paths).
    fn crate_refs(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(i) = rest.find("crate::") {
                let after = &rest[i + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
                rest = after;
            }
        }
        out
    }

    #[test]
    fn no_module_imports_from_its_own_layer_or_above() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut bad = Vec::new();
        let mut unlisted = Vec::new();
        for f in &files {
            let rel = f.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if matches!(top.as_str(), "lib" | "main" | "layers") {
                continue;
            }
            let Some(mine) = layer_of(&top) else {
                unlisted.push(top);
                continue;
            };
            let text = std::fs::read_to_string(f).unwrap();
            for used in crate_refs(&text) {
                if used == top {
                    continue;
                }
                match layer_of(&used) {
                    Some(l) if l < mine => {}
                    _ => bad.push(format!("{} uses crate::{used}", rel.display())),
                }
            }
        }
        unlisted.sort();
        unlisted.dedup();
        assert!(
            unlisted.is_empty(),
            "modules missing from LAYERS: {unlisted:?}"
        );
        bad.sort();
        bad.dedup();
        assert!(
            bad.is_empty(),
            "imports against the layer order:\n{}",
            bad.join("\n")
        );
    }

    #[test]
    fn the_check_sees_paths_as_well_as_use_lines() {
        let refs = crate_refs("use crate::pg::x;\nlet a = crate::plan::build(); // crate::cli");
        assert_eq!(refs, ["pg", "plan"]);
    }
}
