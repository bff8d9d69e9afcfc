//! Precheck: everything that can be known before the first write, each item
//! with a stable code, a severity, the exact objects, and a fix.
//!
//! The seed's managed service refuses to start a task until its precheck
//! passes; `pgferry migrate` does the same through [`gate`], so a target is
//! never half-built because of a missing grant or a name conflict. Each
//! family of checks lives in its own file and returns `Vec<Finding>`; this
//! module runs them, turns a check that could not run into a warning (a
//! precheck must never hide a problem by crashing on another), and applies
//! `--ignore-check`.

mod activity;
mod compat;
mod conflicts;
mod drop_order;
mod extensions;
mod follow;
mod owners;
mod privileges;
mod rehearsal;
mod render;
mod same;
mod scripts;
mod search_path;
mod seclabels;
mod selection;
mod servers;
mod sessions;
mod tablespaces;
mod unsupported;

pub(crate) use activity::write_counters;
pub use render::{human, json_document};
pub use scripts::{End, FixSql, SQL};
pub use servers::ServerInfo;
pub use sessions::{room_findings, Sessions};

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::pg::connect_at_start;
use crate::plan::Plan;
use serde::Serialize;
use std::future::Future;
use std::io::IsTerminal;
use tokio_postgres::Client;

/// How bad a finding is. Only `Failure` stops `migrate` (and makes `precheck` exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Pass,
    Warning,
    Failure,
}

/// One checked item.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable identifier (scripts and `--ignore-check` rely on it), e.g. `source.privilege.select`.
    pub code: &'static str,
    pub severity: Severity,
    /// One line that names the exact objects.
    pub message: String,
    /// What to run or change; `None` when there is nothing to do. Where the
    /// fix is SQL, the text holds [`SQL`] where the statements go until
    /// [`run`] renders it: the statements inline when short, and the path of
    /// the script they are written to (see [`Options::fix_dir`]).
    pub fix: Option<String>,
    /// Path of the script that holds this fix's SQL, ready for
    /// `psql -v ON_ERROR_STOP=1 -f`; `None` when the fix is not SQL or no
    /// script directory was given.
    pub script: Option<String>,
    /// The fix's SQL: where to run it and the statements, in order.
    #[serde(skip)]
    pub sql: Option<FixSql>,
}

impl Finding {
    pub fn pass(code: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: Severity::Pass,
            message: message.into(),
            fix: None,
            script: None,
            sql: None,
        }
    }
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity: Severity::Warning,
            message: message.into(),
            fix: Some(fix.into()),
            script: None,
            sql: None,
        }
    }
    pub fn failure(
        code: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity: Severity::Failure,
            message: message.into(),
            fix: Some(fix.into()),
            script: None,
            sql: None,
        }
    }
    /// Attaches the fix's SQL: the fix text holds [`SQL`] where it goes.
    pub fn with_sql(mut self, on: End, statements: Vec<String>) -> Finding {
        self.sql = Some(FixSql { on, statements });
        self
    }
}

/// Every code a check can emit, so `--ignore-check` can reject a typo
/// instead of silently ignoring nothing.
pub const CODES: &[&str] = &[
    "source.version",
    "target.version",
    "source.privilege.usage",
    "source.privilege.select",
    "target.privilege.create",
    "target.privilege.schema",
    "target.privilege.schema_owner",
    "target.privilege.owner",
    "target.extension",
    "target.extension.missing",
    "target.extension.version",
    "target.extension.privilege",
    "target.conflict",
    "target.same_database",
    "source.connections",
    "target.connections",
    "source.unsupported.c_function",
    "source.unsupported.reg_column",
    "source.unsupported.column_option",
    "source.large_object",
    "target.large_object.conflict",
    "source.unsupported.other",
    "target.encoding",
    "target.locale",
    "source.table.no_key",
    "target.space",
    "source.writes",
    "cdc.wal_level",
    "cdc.replication_slots",
    "cdc.wal_senders",
    "cdc.replication_role",
    "cdc.replica_identity",
    "selection.dependents",
    "selection.function_bodies",
    "target.ddl",
    "source.incompatible.postfix_operator",
    "source.incompatible.polymorphic",
    "source.incompatible.with_oids",
    "source.incompatible.removed_type",
    "target.generated_inheritance",
    "source.user_mapping.password",
    "source.function.search_path",
    "target.seclabel_provider",
    "source.tablespace",
    "target.tablespace",
];

/// What the caller is about to do; some checks depend on it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--data-only`: target tables are expected to exist (no conflict check,
    /// no CREATE needed).
    pub data_only: bool,
    /// Codes whose failures are downgraded to warnings.
    pub ignore: Vec<String>,
    /// `--keep-owners`: the target login must be able to give objects away.
    pub keep_owners: bool,
    /// `migrate --follow`: the `cdc.*` items are failures, and the login's
    /// replication right and every table's replica identity are checked.
    pub follow: bool,
    /// Leave out the one-second sample of writes on the source: `migrate`
    /// measures writes over the whole copy instead (see migrate's report).
    pub skip_write_sample: bool,
    /// Where to write each SQL fix as a script (`<code>.sql`); `None` writes
    /// none and puts the statements in the fix text.
    pub fix_dir: Option<std::path::PathBuf>,
    /// The sessions the run will open on each end, to compare with the room
    /// the servers have (`None`: not checked).
    pub sessions: Option<Sessions>,
}

/// The whole precheck result, printed as a table or as one JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when no finding is a failure.
    pub ok: bool,
    pub source: ServerInfo,
    pub target: ServerInfo,
    pub findings: Vec<Finding>,
    /// Statements the target refused in the DDL rehearsal (`target.ddl`);
    /// with `--ignore-check target.ddl`, `migrate` skips their objects and
    /// dependents.
    pub rejected: Vec<crate::plan::Rejection>,
}

impl Report {
    /// Findings that are not passes, for short summaries.
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity != Severity::Pass)
    }
}

/// What every check reads.
pub struct Context<'a> {
    pub source: &'a Client,
    pub target: &'a Client,
    pub cat: &'a Catalog,
    pub plan: &'a Plan,
    pub src: &'a ServerInfo,
    pub tgt: &'a ServerInfo,
    pub opts: &'a Options,
}

/// Rejects unknown `--ignore-check` codes (a usage error, exit 2).
pub fn validate_ignore(codes: &[String]) -> anyhow::Result<()> {
    let unknown: Vec<&str> = codes
        .iter()
        .map(String::as_str)
        .filter(|c| !CODES.contains(c))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(crate::error::usage(format!(
        "unknown --ignore-check code(s): {}; known codes: {}",
        unknown.join(", "),
        CODES.join(", ")
    )))
}

/// Precheck's sessions on the source and the target, opened at once. They
/// open as a command starts: a failure is a configuration error (exit 2).
pub async fn connect_both(ends: &Endpoints) -> anyhow::Result<(Client, Client)> {
    let (source, target) = tokio::join!(
        connect_at_start(&ends.source, "precheck"),
        connect_at_start(&ends.target, "precheck")
    );
    Ok((source?, target?))
}

/// Runs every check on its own sessions on both ends (never inside a
/// caller's snapshot transaction: `pg_stat_*` would be frozen there), opened
/// by [`connect_both`] when not given (`migrate` opens them while it reads the
/// source catalog: across a long link each handshake is several round trips).
/// Connection failures are returned as errors (exit 2), everything else
/// becomes findings.
pub async fn run_with(
    ends: &Endpoints,
    cat: &Catalog,
    plan: &Plan,
    opts: &Options,
    sessions: Option<(Client, Client)>,
) -> anyhow::Result<Report> {
    let (source, target) = match sessions {
        Some(s) => s,
        None => connect_both(ends).await?,
    };
    let (src, tgt) = tokio::try_join!(
        servers::info(&source, &ends.source),
        servers::info(&target, &ends.target)
    )?;
    let cx = Context {
        source: &source,
        target: &target,
        cat,
        plan,
        src: &src,
        tgt: &tgt,
        opts,
    };
    selection::rename_targets(&cx).await?;
    crate::fault::point("precheck");
    let mut findings = Vec::new();
    findings.extend(servers::versions(&cx));
    findings.extend(selection::dependents(&cx));
    findings.extend(selection::function_bodies(&cx));
    // The checks that query the servers run at once, pipelined on the two
    // sessions: across a long link each is a round trip or more, and one
    // after the other they cost a far source over a second. `join_all`
    // keeps their findings in this order.
    type Check<'c> = std::pin::Pin<Box<dyn Future<Output = Vec<Finding>> + 'c>>;
    let now = |f: Vec<Finding>| -> Check<'_> { Box::pin(std::future::ready(f)) };
    let checks: Vec<Check<'_>> = vec![
        Box::pin(guard("source.privilege.usage", privileges::source(&cx))),
        Box::pin(guard("target.privilege.create", privileges::target(&cx))),
        match opts.keep_owners {
            true => Box::pin(guard("target.privilege.owner", owners::check(&cx))),
            false => now(Vec::new()),
        },
        Box::pin(guard("target.extension", extensions::check(&cx))),
        Box::pin(same_or_conflicts(&cx)),
        match &opts.sessions {
            Some(s) => Box::pin(guard("target.connections", sessions::check(&cx, s))),
            None => now(Vec::new()),
        },
        Box::pin(guard(
            "source.unsupported.c_function",
            unsupported::c_functions(&cx),
        )),
        now(unsupported::reg_columns(&cx)),
        now(unsupported::column_options(&cx)),
        Box::pin(guard(
            "source.large_object",
            unsupported::large_objects(&cx),
        )),
        Box::pin(guard(
            "source.unsupported.other",
            unsupported::other_objects(&cx),
        )),
        now(tablespaces::source(&cx)),
        Box::pin(guard("target.tablespace", tablespaces::target(&cx))),
        now(compat::check(&cx)),
        Box::pin(guard("target.seclabel_provider", seclabels::check(&cx))),
        now(search_path::check(&cx)),
        now(servers::encoding(&cx)),
        Box::pin(guard("source.table.no_key", unsupported::no_key(&cx))),
        Box::pin(guard("target.space", activity::space(&cx))),
        match opts.skip_write_sample {
            true => now(Vec::new()),
            false => Box::pin(guard("source.writes", activity::writes(&cx))),
        },
        Box::pin(guard("cdc.wal_level", activity::cdc(&cx, opts.follow))),
        match opts.follow {
            true => Box::pin(guard("cdc.replica_identity", follow::check(&cx))),
            false => now(Vec::new()),
        },
    ];
    findings.extend(
        futures_util::future::join_all(checks)
            .await
            .into_iter()
            .flatten(),
    );
    // Last: it is the slowest check, and a failure of the others explains
    // some of its rejections (a missing extension, a conflicting name).
    let mut rejected = Vec::new();
    match rehearsal::check(&cx).await {
        Ok((f, r)) => {
            findings.extend(f);
            rejected = r;
        }
        Err(e) => findings.push(Finding::failure(
            "target.ddl",
            format!("the DDL rehearsal could not run: {e:#}"),
            "check the target connection and re-run precheck",
        )),
    }
    apply_ignore(&mut findings, &opts.ignore);
    scripts::render(&mut findings, opts.fix_dir.as_deref(), &src, &tgt)?;
    let ok = findings.iter().all(|f| f.severity != Severity::Failure);
    Ok(Report {
        ok,
        source: src,
        target: tgt,
        findings,
        rejected,
    })
}

/// One database under two names is its own failure, instead of every object
/// listed as a conflict; otherwise the name conflicts.
async fn same_or_conflicts(cx: &Context<'_>) -> Vec<Finding> {
    match same::same_database(cx).await {
        Ok(true) => vec![same::finding(true, cx)],
        Ok(false) => {
            let mut out = vec![same::finding(false, cx)];
            out.extend(guard("target.conflict", conflicts::check(cx)).await);
            out
        }
        Err(e) => {
            let mut out = guard("target.same_database", async { Err(e) }).await;
            out.extend(guard("target.conflict", conflicts::check(cx)).await);
            out
        }
    }
}

/// Runs one check; if its queries fail (a catalog the login cannot read, a
/// server too old for a view), says so as a warning under the check's code
/// rather than aborting every other check.
async fn guard<F>(code: &'static str, check: F) -> Vec<Finding>
where
    F: Future<Output = anyhow::Result<Vec<Finding>>>,
{
    match check.await {
        Ok(v) => v,
        Err(e) => vec![Finding::warning(
            code,
            format!("this check could not run: {e:#}"),
            "check the login's access to pg_catalog and pg_stat views, then re-run precheck",
        )],
    }
}

/// Downgrades failures whose code the user chose to ignore, keeping them visible.
fn apply_ignore(findings: &mut [Finding], ignore: &[String]) {
    for f in findings.iter_mut() {
        if f.severity == Severity::Failure && ignore.iter().any(|c| c == f.code) {
            f.severity = Severity::Warning;
            f.message.push_str(" (failure ignored with --ignore-check)");
        }
    }
}

/// `migrate`'s entry: runs the checks; on any failure prints them (JSON
/// document on stdout with `json`, else the human table) and returns
/// [`crate::error::ProblemFound`] so that nothing is written; warnings are
/// logged and the migration goes on.
/// `sessions`: precheck's own sessions on both ends, opened ahead by
/// [`connect_both`] (a far source's connection handshake then overlaps the
/// caller's catalog read), or `None` to open them here.
pub async fn gate(
    ends: &Endpoints,
    cat: &Catalog,
    plan: &Plan,
    opts: &Options,
    json: bool,
    sessions: Option<(Client, Client)>,
) -> anyhow::Result<Report> {
    let report = Box::pin(run_with(ends, cat, plan, opts, sessions)).await?;
    crate::journal::precheck(serde_json::to_value(json_document(&report))?);
    if !report.ok {
        let failed: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Failure)
            .map(|f| f.code)
            .collect();
        let message = format!(
            "precheck failed ({}); nothing was written to the target. Fix the items above, \
             or pass --ignore-check CODE to go on despite one",
            failed.join(", ")
        );
        if json {
            // The one document of this exit: the precheck's, saying the
            // exit code and the error too.
            let mut doc = serde_json::to_value(json_document(&report))?;
            doc["exit_code"] = serde_json::json!(crate::error::Exit::Problem as i32);
            doc["error"] = serde_json::json!({"kind": "problem", "message": message, "end": null});
            crate::error::print_out(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
        } else {
            crate::error::print_out(&human(&report, std::io::stdout().is_terminal()))?;
        }
        return Err(anyhow::Error::new(crate::error::ProblemFound {
            message,
            document_printed: json,
        }));
    }
    for f in report.problems() {
        tracing::warn!(code = f.code, "precheck: {}", f.message);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {

    /// Every code a check can report is listed in `CODES` (which the README
    /// test and `--ignore-check` rely on): read from the checks' source.
    #[test]
    fn every_code_the_checks_use_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/precheck");
        let mut missing = Vec::new();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            for part in text.split('"').skip(1).step_by(2) {
                let is_code = ["source.", "target.", "cdc.", "selection."]
                    .iter()
                    .any(|p| part.starts_with(p))
                    && part.len() < 60
                    && !part.ends_with(".sql")
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                if is_code && !CODES.contains(&part) {
                    missing.push(format!("{}: {part}", e.path().display()));
                }
            }
        }
        assert!(missing.is_empty(), "codes missing from CODES: {missing:?}");
    }
    use super::*;

    #[test]
    fn ignore_downgrades_only_named_failures() {
        let mut v = vec![
            Finding::failure("target.conflict", "x", "y"),
            Finding::failure("source.privilege.select", "x", "y"),
        ];
        apply_ignore(&mut v, &["target.conflict".to_string()]);
        assert_eq!(v[0].severity, Severity::Warning);
        assert!(v[0].message.contains("ignored"));
        assert_eq!(v[1].severity, Severity::Failure);
    }

    #[test]
    fn unknown_ignore_code_is_usage_error() {
        assert!(validate_ignore(&["target.conflict".into()]).is_ok());
        let e = validate_ignore(&["target.conflicts".into()]).unwrap_err();
        assert_eq!(crate::error::exit_for(&e), crate::error::Exit::Usage);
    }
}
