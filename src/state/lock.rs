//! One pgferry per state directory: an exclusive `flock` on `<dir>/lock`,
//! released by the kernel when the process ends, however it ends (so a
//! `kill -9` never leaves a stale lock behind).

use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Held for the life of a run.
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock or explains who holds it.
    pub fn acquire(dir: &Path) -> anyhow::Result<StateLock> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating state directory {}", dir.display()))?;
        let path = dir.join("lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: flock on a valid, open file descriptor owned by `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(crate::error::usage(format!(
                "another pgferry is already working on the state directory {} ({}); \
                 wait for it to finish or use another --state-dir",
                dir.display(),
                holder.trim()
            )));
        }
        file.set_len(0).ok();
        let _ = write!(file, "pid {}", std::process::id());
        Ok(StateLock { _file: file })
    }
}
