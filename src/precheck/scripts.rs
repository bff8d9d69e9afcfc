//! Fixes that are SQL, as scripts that run as given: the statements in the
//! order they must run (a check that knows an order, such as the conflict
//! check's drops, gives them in it), one per line, in `<dir>/<code>.sql`,
//! for `psql -v ON_ERROR_STOP=1 -f`. The finding's fix text names the script
//! (and keeps short fixes inline too); `--json` has its path in `script`.
//!
//! A script runs in one transaction and stops at its first error, so it
//! either does everything or nothing.

use super::{Finding, ServerInfo};
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

/// Where a check's fix text wants its SQL (replaced when rendered).
pub const SQL: &str = "{sql}";

/// Fix text shorter than this, in at most [`INLINE_MAX_STATEMENTS`]
/// statements, is also shown inline (one GRANT reads better than a path).
const INLINE_MAX_CHARS: usize = 240;
const INLINE_MAX_STATEMENTS: usize = 3;

/// The server a fix runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Source,
    Target,
}

impl End {
    fn name(self) -> &'static str {
        match self {
            End::Source => "source",
            End::Target => "target",
        }
    }
}

/// A fix's SQL: the statements, in the order they must run, each ending in `;`.
#[derive(Debug, Clone)]
pub struct FixSql {
    pub on: End,
    pub statements: Vec<String>,
}

/// Replaces [`SQL`] in every fix text: with the script's path when `dir` is
/// given (the statements, grouped by code, are written there first), else
/// with the statements themselves. Scripts of codes that have no SQL fix
/// this time are removed, so the directory holds the latest run's fixes.
pub(super) fn render(
    findings: &mut [Finding],
    dir: Option<&Path>,
    src: &ServerInfo,
    tgt: &ServerInfo,
) -> anyhow::Result<()> {
    let mut written: BTreeMap<&'static str, String> = BTreeMap::new();
    if let Some(dir) = dir {
        // One script per code (several findings may share one: one per extension...).
        let mut by_code: BTreeMap<&'static str, Vec<&Finding>> = BTreeMap::new();
        for f in findings.iter().filter(|f| f.sql.is_some()) {
            by_code.entry(f.code).or_default().push(f);
        }
        if !by_code.is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the fix directory {}", dir.display()))?;
        }
        for (code, group) in &by_code {
            let path = dir.join(format!("{code}.sql"));
            let text = script(code, group, src, tgt);
            write_atomically(&path, &text)?;
            let shown = std::path::absolute(&path).unwrap_or(path);
            written.insert(code, shown.display().to_string());
        }
        for code in super::CODES {
            let stale = dir.join(format!("{code}.sql"));
            if !written.contains_key(code) && stale.is_file() {
                let _ = std::fs::remove_file(stale);
            }
        }
    }
    for f in findings.iter_mut() {
        let (Some(sql), Some(fix)) = (&f.sql, &f.fix) else {
            continue;
        };
        let inline = sql.statements.join(" ");
        let short =
            sql.statements.len() <= INLINE_MAX_STATEMENTS && inline.len() <= INLINE_MAX_CHARS;
        let text = match written.get(f.code) {
            Some(path) if short => format!(
                "{inline} [script: psql -v ON_ERROR_STOP=1 -f {path}, on the {}]",
                sql.on.name()
            ),
            Some(path) => format!(
                "run the script on the {}: psql -v ON_ERROR_STOP=1 -f {path} ({} statements, \
                 in order)",
                sql.on.name(),
                sql.statements.len()
            ),
            None => inline,
        };
        f.fix = Some(fix.replace(SQL, &text));
        f.script = written.get(f.code).cloned();
    }
    Ok(())
}

/// The script of one code: a header that says what it fixes and how to run
/// it, then the statements of every finding, one per line, in one transaction.
fn script(code: &str, group: &[&Finding], src: &ServerInfo, tgt: &ServerInfo) -> String {
    let on = group
        .iter()
        .find_map(|f| f.sql.as_ref().map(|s| s.on))
        .unwrap_or(End::Target);
    let server = match on {
        End::Source => src,
        End::Target => tgt,
    };
    let mut out = format!("-- pgferry precheck: fix for {code}\n");
    for f in group {
        for line in wrap(&one_line(&f.message), 96) {
            out.push_str(&format!("-- {line}\n"));
        }
    }
    out.push_str(&format!(
        "-- Run on the {}: database {} at {} (PostgreSQL {}), as a login allowed to:\n\
         --   psql -v ON_ERROR_STOP=1 -f THIS_FILE \"<{} connection string>\"\n\
         -- One transaction: it stops at the first error and then changes nothing.\n\
         \\set ON_ERROR_STOP on\nBEGIN;\n",
        on.name(),
        server.database,
        server.endpoint,
        server.version,
        on.name()
    ));
    for f in group {
        for s in f.sql.iter().flat_map(|s| &s.statements) {
            out.push_str(&one_line(s));
            out.push('\n');
        }
    }
    out.push_str("COMMIT;\n");
    out
}

/// Statements and messages are single lines already; a stray newline would
/// end a comment early, so it becomes a space.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Splits `s` at spaces into lines of at most about `width` characters
/// (a longer word stays whole).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in s.split(' ') {
        let last = lines.last_mut().map_or(0, |l| l.chars().count());
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

/// Writes through a temporary file and a rename: a reader (or a second
/// precheck in the same directory) never sees half a script.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a script in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    // Readable like any file the user writes (tempfile makes it 0600).
    let _ = std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    );
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precheck::Severity;

    fn info(db: &str) -> ServerInfo {
        ServerInfo {
            endpoint: format!("host=/tmp dbname={db}"),
            version: "15.10".into(),
            version_num: 150010,
            login: "app".into(),
            superuser: false,
            database: db.into(),
            encoding: "UTF8".into(),
            lc_collate: "C".into(),
            lc_ctype: "C".into(),
            locale_provider: "libc".into(),
            can_create: true,
            ssl: false,
            ssl_version: None,
            ssl_cipher: None,
        }
    }

    fn conflict(n: usize) -> Finding {
        let drops = (0..n).map(|i| format!("DROP TABLE public.t{i};")).collect();
        Finding::failure(
            "target.conflict",
            "tables exist",
            format!("choose one: drop them on the target ({SQL}); or exclude them"),
        )
        .with_sql(End::Target, drops)
    }

    #[test]
    fn without_a_directory_the_statements_are_inline() {
        let mut v = vec![conflict(2)];
        render(&mut v, None, &info("s"), &info("t")).unwrap();
        assert_eq!(
            v[0].fix.as_deref(),
            Some("choose one: drop them on the target (DROP TABLE public.t0; DROP TABLE public.t1;); or exclude them")
        );
        assert!(v[0].script.is_none());
    }

    #[test]
    fn long_fixes_become_a_script_one_statement_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vec![conflict(40), Finding::pass("source.version", "ok")];
        render(&mut v, Some(dir.path()), &info("s"), &info("shop")).unwrap();
        let path = v[0].script.clone().expect("script path");
        assert!(path.ends_with("target.conflict.sql"), "{path}");
        let fix = v[0].fix.as_deref().unwrap();
        assert!(
            fix.contains(&path) && fix.contains("40 statements"),
            "{fix}"
        );
        assert!(!fix.contains("DROP TABLE"), "{fix}");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"BEGIN;") && lines.last() == Some(&"COMMIT;"));
        assert!(lines.contains(&"DROP TABLE public.t39;"));
        assert!(text.contains("database shop"), "{text}");
        assert_eq!(v[1].severity, Severity::Pass);
        // A later run without that failure removes the stale script.
        let mut v = vec![Finding::pass("target.conflict", "none")];
        render(&mut v, Some(dir.path()), &info("s"), &info("shop")).unwrap();
        assert!(!Path::new(&path).exists());
    }

    #[test]
    fn comments_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh ij", 4), vec!["abcdefgh", "ij"]);
    }
}
