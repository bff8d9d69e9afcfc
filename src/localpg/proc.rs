//! Running PostgreSQL programs: as which user, with which environment.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::{Command, Output};

/// Effective uid of this process.
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions, touches no memory and cannot fail.
    unsafe { libc::geteuid() }
}

/// The account a server runs as when we are root (postgres refuses root).
#[derive(Debug, Clone)]
pub(crate) struct ServerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Reads one account from /etc/passwd. Parsing the file avoids unsafe
/// getpwnam calls; system users created by useradd always land there.
fn passwd_entry(name: &str) -> Option<ServerUser> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            Some(ServerUser {
                name: name.to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
            })
        } else {
            None
        }
    })
}

/// `None` when not root (servers then run as ourselves); otherwise the
/// `pgferry` user that install-postgres.sh creates, or `nobody`.
pub(crate) fn server_user() -> anyhow::Result<Option<ServerUser>> {
    if euid() != 0 {
        return Ok(None);
    }
    for name in ["pgferry", "nobody"] {
        if let Some(u) = passwd_entry(name) {
            return Ok(Some(u));
        }
    }
    bail!("running as root but neither user `pgferry` nor `nobody` exists; run scripts/install-postgres.sh")
}

/// Removes libpq/server variables (PGHOST, PGPORT, PGDATA, ...) that the
/// caller may have set for some other server; they would silently redirect
/// our commands. PGFERRY_* is kept.
pub(crate) fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(k) = key.to_str() else { continue };
        if k.starts_with("PG") && !k.starts_with("PGFERRY_") {
            cmd.env_remove(k);
        }
    }
}

/// A command for a server-side program (initdb, pg_ctl), switched to the
/// server user when we are root. `cwd` must be readable by that user:
/// postgres warns or fails when it cannot access its working directory.
pub(crate) fn server_command(program: &Path, user: Option<&ServerUser>, cwd: &Path) -> Command {
    let mut cmd = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.arg("-u").arg(&u.name).arg("--").arg(program);
            c
        }
        None => Command::new(program),
    };
    scrub_env(&mut cmd);
    cmd.current_dir(cwd);
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Runs a command to completion; a non-zero exit becomes an error carrying
/// its stderr and stdout, since that is where PostgreSQL explains itself.
pub(crate) fn run_checked(cmd: &mut Command, what: &str) -> anyhow::Result<Output> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {what} ({cmd:?})"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    Ok(out)
}

/// chown for files the server user must own (data dir, key file).
pub(crate) fn chown_to(path: &Path, user: Option<&ServerUser>) -> anyhow::Result<()> {
    if let Some(u) = user {
        std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))
            .with_context(|| format!("chown {} to {}", path.display(), u.name))?;
    }
    Ok(())
}
