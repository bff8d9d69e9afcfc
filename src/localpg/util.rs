//! Small helpers for [`super::cluster`]: temp dirs, ports, passwords, quoting.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Unix socket paths are limited to ~107 bytes; keep a margin.
const MAX_SOCKET_PATH: usize = 100;

/// 32 hex chars from the kernel's CSPRNG (no rand crate just for this).
pub(crate) fn random_password() -> anyhow::Result<String> {
    let mut buf = [0u8; 16];
    let mut f = std::fs::File::open("/dev/urandom").context("open /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut buf).context("read /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A private temp dir whose socket path stays under the unix-socket limit:
/// `$TMPDIR` when short enough, else `/tmp`.
pub(crate) fn make_tmp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    let base = if base.as_os_str().len() + 40 > MAX_SOCKET_PATH {
        PathBuf::from("/tmp")
    } else {
        base
    };
    let dir = tempfile::Builder::new()
        .prefix("pgf")
        .tempdir_in(&base)
        .with_context(|| format!("cannot create a temp dir in {}", base.display()))?;
    Ok(dir.keep())
}

/// A port that was free a moment ago; a clash is handled by retrying start.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
    Ok(l.local_addr().context("local_addr")?.port())
}

/// Quotes a libpq keyword/value when it needs it.
pub(crate) fn conninfo_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
