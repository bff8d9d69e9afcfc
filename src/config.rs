//! Task file + flags -> validated configuration.
//!
//! The task file (TOML) holds what flags cannot say well; flags win over it.
//! Unknown keys are errors, so a typo never silently changes what is migrated.

use crate::error::usage;
use crate::pg::ConnSpec;
use serde::Deserialize;
use std::path::Path;

/// The task file, as documented in the README.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub source: Option<String>,
    pub target: Option<String>,
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
    Ok(Endpoints {
        source: ConnSpec::parse(&source)?,
        target: ConnSpec::parse(&target)?,
    })
}
