//! Task file + flags -> validated configuration.
//!
//! The task file (TOML) holds what flags cannot say well; flags win over it.
//! Unknown keys are errors, so a typo never silently changes what is migrated.

use crate::error::usage;
use crate::pg::names::{exact_name, Pattern};
use crate::pg::{ConnSpec, End};
use crate::plan::rename::RenameEntry;
use crate::plan::{Renames, Selection, TablespaceMap};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The task file, as documented in the README.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub source: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub select: SelectSection,
    #[serde(default)]
    pub rename: RenameSection,
    /// `[tablespaces]`: source tablespace -> target tablespace (`""` or
    /// `"pg_default"`: the target's default), as `--tablespace-map`.
    #[serde(default)]
    pub tablespaces: BTreeMap<String, String>,
}

/// `[select]`: patterns as in docs/selection.md.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectSection {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub exclude_data: Vec<String>,
}

/// `[rename]`: source name -> new name, per kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameSection {
    #[serde(default)]
    pub schemas: BTreeMap<String, String>,
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// Selection given as flags (`--include`, `--exclude`, `--exclude-data`,
/// `--tablespace-map`).
#[derive(Debug, Default, Clone)]
pub struct SelectFlags {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub exclude_data: Vec<String>,
    /// `OLD=NEW` entries.
    pub tablespace_map: Vec<String>,
}

/// Merges the task file's `[select]`/`[rename]` with the flags and parses
/// every entry. `--include` replaces the file's `include` list (flags win);
/// `--exclude` and `--exclude-data` add to the file's lists (exclusions only
/// ever narrow what is migrated). Errors name every bad entry (exit 2).
pub fn selection(task: Option<&TaskFile>, flags: &SelectFlags) -> anyhow::Result<Selection> {
    let empty = TaskFile::default();
    let task = task.unwrap_or(&empty);
    let mut errors = Vec::new();
    let mut patterns = |file: &[String], flag: &[String], what: &str, replace: bool| {
        let mut out = Vec::new();
        let from_file = if replace && !flag.is_empty() {
            &[][..]
        } else {
            file
        };
        let entries = from_file
            .iter()
            .map(|e| (format!("[select] {what} entry"), e))
            .chain(
                flag.iter()
                    .map(|e| (format!("--{}", what.replace('_', "-")), e)),
            );
        for (origin, e) in entries {
            match Pattern::parse(e) {
                Ok(p) => {
                    if what == "exclude_data" && p.columns.is_some() {
                        errors.push(format!("{origin} `{e}`: no column list in exclude_data"));
                    } else {
                        out.push(p);
                    }
                }
                Err(err) => errors.push(format!("{origin} `{e}`: {err}")),
            }
        }
        out
    };
    let s = &task.select;
    let include = patterns(&s.include, &flags.include, "include", true);
    let exclude = patterns(&s.exclude, &flags.exclude, "exclude", false);
    let exclude_data = patterns(&s.exclude_data, &flags.exclude_data, "exclude_data", false);
    let r = &task.rename;
    let mut entries = |map: &BTreeMap<String, String>, kind: &str, n: usize, to_max: usize| {
        let mut out = Vec::new();
        for (k, v) in map {
            let entry = format!("{k} = {v}");
            let from = exact_name(k, n, n);
            let to = exact_name(v, 1, to_max);
            match (from, to) {
                (Ok(from), Ok(to)) => out.push(RenameEntry { entry, from, to }),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(format!("[rename] {kind} entry `{entry}`: {e}"))
                }
            }
        }
        out
    };
    let renames = Renames {
        schemas: entries(&r.schemas, "schemas", 1, 1),
        tables: entries(&r.tables, "tables", 2, 2),
        columns: entries(&r.columns, "columns", 3, 1),
    };
    let tablespaces = tablespace_map(&task.tablespaces, &flags.tablespace_map, &mut errors);
    if !errors.is_empty() {
        return Err(usage(errors.join("; ")));
    }
    Ok(Selection {
        include,
        exclude,
        exclude_data,
        renames,
        tablespaces,
    })
}

/// `[tablespaces]` entries, then `--tablespace-map OLD=NEW` flags (a flag
/// wins over the file's entry for the same `OLD`). Names follow the rules of
/// every other name (unquoted fold to lower case); `NEW` empty or
/// `pg_default` is the target's default.
fn tablespace_map(
    file: &BTreeMap<String, String>,
    flags: &[String],
    errors: &mut Vec<String>,
) -> TablespaceMap {
    let mut map = TablespaceMap::default();
    let one = |text: &str| -> Result<String, String> {
        exact_name(text, 1, 1)
            .map(|mut v| v.remove(0))
            .map_err(|e| {
                let e = e.to_string();
                if e.starts_with("expected") {
                    "a tablespace name is one name (quote one that contains dots)".to_string()
                } else {
                    e
                }
            })
    };
    let entry = |old: &str, new: &str| -> Result<(String, Option<String>), String> {
        let old = one(old)?;
        let new = match new.trim() {
            "" => None,
            n => Some(one(n)?).filter(|n| n != "pg_default"),
        };
        if new.as_deref() == Some("pg_global") {
            return Err("pg_global holds only shared system catalogs".into());
        }
        Ok((old, new))
    };
    for (old, new) in file {
        match entry(old, new) {
            Ok((o, n)) => {
                map.entries.insert(o, n);
            }
            Err(e) => errors.push(format!("[tablespaces] entry `{old} = {new:?}`: {e}")),
        }
    }
    let mut from_flags: BTreeMap<String, Option<String>> = BTreeMap::new();
    for f in flags {
        let parsed = match f.split_once('=') {
            Some((old, new)) => entry(old, new),
            None => Err("expected OLD=NEW (NEW empty for the target's default)".into()),
        };
        match parsed {
            Ok((o, n)) => match from_flags.get(&o) {
                Some(prev) if *prev != n => errors.push(format!(
                    "--tablespace-map `{f}`: {o} is already mapped to {}",
                    prev.as_deref().unwrap_or("the default")
                )),
                _ => {
                    from_flags.insert(o, n);
                }
            },
            Err(e) => errors.push(format!("--tablespace-map `{f}`: {e}")),
        }
    }
    map.entries.extend(from_flags);
    map
}

impl TaskFile {
    /// Reads and parses a task file; errors are usage errors naming the file.
    pub fn load(path: &Path) -> anyhow::Result<TaskFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read task file {}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| usage(format!("invalid task file {}: {e}", path.display())))
    }
}

/// Both ends of a job, parsed.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub source: ConnSpec,
    pub target: ConnSpec,
}

/// Resolves the source and target from flags (or their environment
/// variables, which clap already folded in) and the task file.
pub fn endpoints(
    source_flag: Option<&str>,
    target_flag: Option<&str>,
    task: Option<&TaskFile>,
) -> anyhow::Result<Endpoints> {
    let pick = |flag: Option<&str>, file: Option<&String>, what: &str, env: &str| {
        flag.map(str::to_string)
            .or_else(|| file.cloned())
            .ok_or_else(|| {
                usage(format!(
                    "no {what} given: use --{what} URI, {env}, or `{what} = \"...\"` in the task file"
                ))
            })
    };
    let source = pick(
        source_flag,
        task.and_then(|t| t.source.as_ref()),
        "source",
        "PGFERRY_SOURCE",
    )?;
    let target = pick(
        target_flag,
        task.and_then(|t| t.target.as_ref()),
        "target",
        "PGFERRY_TARGET",
    )?;
    let parse = |s: &str, end: End| {
        ConnSpec::parse(s)
            .map(|c| c.at_end(end))
            .map_err(|e| e.at(end))
    };
    Ok(Endpoints {
        source: parse(&source, End::Source)?,
        target: parse(&target, End::Target)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(toml_text: &str) -> TaskFile {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn design_example_parses() {
        let t = task(
            r#"
            [select]
            include = ["sales", "public.orders", "public.customers(id, name, email)"]
            exclude = ["public.audit_*"]
            [rename]
            schemas = { sales = "sales_2026" }
            tables  = { "public.orders" = "public.orders_legacy" }
            columns = { "public.customers.email" = "contact_email" }
            "#,
        );
        let s = selection(Some(&t), &SelectFlags::default()).unwrap();
        assert_eq!(s.include.len(), 3);
        assert_eq!(s.renames.tables[0].to, ["public", "orders_legacy"]);
        assert_eq!(s.renames.columns[0].from, ["public", "customers", "email"]);
    }

    #[test]
    fn include_flag_replaces_exclude_flag_adds() {
        let t = task("[select]\ninclude = [\"a\"]\nexclude = [\"a.x\"]\n");
        let flags = SelectFlags {
            include: vec!["b".into()],
            exclude: vec!["b.y".into()],
            exclude_data: vec![],
            tablespace_map: vec![],
        };
        let s = selection(Some(&t), &flags).unwrap();
        assert_eq!(s.include.len(), 1);
        assert_eq!(s.include[0].text, "b");
        assert_eq!(s.exclude.len(), 2);
    }

    #[test]
    fn bad_entries_are_usage_errors_naming_them() {
        let t = task("[select]\ninclude = [\"a.b.c\"]\n[rename]\ntables = { \"x\" = \"y\" }\n");
        let e = selection(Some(&t), &SelectFlags::default()).unwrap_err();
        assert_eq!(crate::error::exit_for(&e), crate::error::Exit::Usage);
        let msg = e.to_string();
        assert!(msg.contains("`a.b.c`") && msg.contains("`x = y`"), "{msg}");
        assert!(toml::from_str::<TaskFile>("[select]\nincludes = []\n").is_err());
    }

    #[test]
    fn tablespace_map_from_file_and_flags() {
        let t =
            task("[tablespaces]\nts_a = \"ts_b\"\nOld = \"\"\n'\"Keep Me\"' = \"pg_default\"\n");
        let flags = SelectFlags {
            tablespace_map: vec!["ts_a=\"Fast Disk\"".into(), "ts_c=ts_d".into()],
            ..Default::default()
        };
        let s = selection(Some(&t), &flags).unwrap();
        let e = &s.tablespaces.entries;
        assert_eq!(e["ts_a"].as_deref(), Some("Fast Disk"), "the flag wins");
        assert_eq!(e["old"], None);
        assert_eq!(e["Keep Me"], None);
        assert_eq!(e["ts_c"].as_deref(), Some("ts_d"));
        for bad in ["ts_a", "=ts_b", "a.b=c", "a=pg_global"] {
            let flags = SelectFlags {
                tablespace_map: vec![bad.into()],
                ..Default::default()
            };
            let e = selection(None, &flags).unwrap_err();
            assert_eq!(crate::error::exit_for(&e), crate::error::Exit::Usage);
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
        let flags = SelectFlags {
            tablespace_map: vec!["a=b".into(), "a=c".into()],
            ..Default::default()
        };
        assert!(selection(None, &flags).is_err());
    }
}
