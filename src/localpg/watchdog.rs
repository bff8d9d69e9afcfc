//! A detached shell process that stops a cluster once our process is gone.
//!
//! Why: Rust never drops statics, test binaries keep their shared clusters in
//! statics, and a test process may also panic with `panic = abort`, be killed
//! by a timeout or by Ctrl-C. Without this, every such run would leak a
//! running postmaster and its temp directory.

use anyhow::Context;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Single-quotes a string for sh.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The watchdog script: poll the parent, then SIGQUIT (immediate shutdown)
/// the postmaster named in postmaster.pid, SIGKILL it if it lingers, and
/// remove the temp dir. Signalling by pid works whether the server runs as
/// us or as the unprivileged server user (we are root then).
fn script(parent: u32, data_dir: &Path, tmp_dir: &Path) -> String {
    let data = sh_quote(&data_dir.to_string_lossy());
    let tmp = sh_quote(&tmp_dir.to_string_lossy());
    format!(
        "trap '' HUP INT\n\
         while kill -0 {parent} 2>/dev/null; do sleep 1; done\n\
         pid=$(head -n 1 {data}/postmaster.pid 2>/dev/null)\n\
         if [ -n \"$pid\" ]; then\n\
           kill -QUIT \"$pid\" 2>/dev/null\n\
           i=0\n\
           while kill -0 \"$pid\" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done\n\
           kill -KILL \"$pid\" 2>/dev/null\n\
         fi\n\
         rm -rf {tmp}\n"
    )
}

/// Spawns the watchdog in its own process group, so a Ctrl-C or a signal
/// sent to the test's process group does not take it down with the tests.
pub(crate) fn spawn(data_dir: &Path, tmp_dir: &Path) -> anyhow::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(script(std::process::id(), data_dir, tmp_dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .current_dir("/")
        .process_group(0)
        .spawn()
        .context("cannot spawn the cluster watchdog (sh)")
}

/// Kills and reaps the watchdog; errors are irrelevant (it may be gone).
pub(crate) fn disarm(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(sh_quote("a'b"), "'a'\\''b'");
        let s = script(1, Path::new("/tmp/x/data"), Path::new("/tmp/x"));
        assert!(s.contains("kill -0 1 "));
        assert!(s.contains("rm -rf '/tmp/x'"));
    }
}
