//! Fault injection for the crash and fault tests, compiled only with the
//! `fault-injection` cargo feature (which `cargo test` turns on, see
//! Cargo.toml). Without it, [`point`] and [`fails`] are empty inline
//! functions: a release build reads no environment variable and holds no code
//! that could kill the process or break a session.
//!
//! With the feature, `PGFERRY_FAULT=<point>:<n>` makes the process kill itself
//! with SIGKILL the n-th time it reaches `<point>`, which is exactly what
//! `kill -9` at that moment would do, but deterministic.
//!
//! Points: `precheck` (while the precheck runs, before anything is written),
//! `pre-data-committed` (a part of pre-data committed, not yet recorded),
//! `pre-data-part` (after a part of pre-data committed and was recorded),
//! `unit-done` (after a copy unit committed and was recorded),
//! `fail-unit` (a copy unit fails with a permanent error instead of starting),
//! `mid-unit` (while a unit streams rows, before its commit), `mid-lo-batch`
//! (after each write of a batch of large objects, before its commit), `step-done`
//! (after a post-data statement was recorded), `lost-barrier` and
//! `lost-step-barrier` (the durability barrier after copy units or after
//! post-data statements fails as if the target connection broke),
//! `drop-target` (a copy worker's target session is ended by the server just
//! before a unit), `rename-ran` (after the target ran a rename statement,
//! before it is recorded). Follow mode: `follow-change` (a change was queued),
//! `follow-source-commit` (a source transaction's Commit was read),
//! `follow-before-progress`, `follow-before-commit`, `follow-after-commit`
//! (around the target commit of a batch). Unset, this costs one atomic load
//! per call.
//!
//! `PGFERRY_DELAY=<point>:<ms>` makes [`delay`] sleep there instead (e.g.
//! `follow-slot-created`, between the slot's creation and the copy, so a
//! test can write in that gap).

#[cfg(feature = "fault-injection")]
mod armed {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::OnceLock;

    struct Fault {
        point: String,
        remaining: AtomicI64,
    }

    fn fault() -> Option<&'static Fault> {
        static F: OnceLock<Option<Fault>> = OnceLock::new();
        F.get_or_init(|| {
            let v = std::env::var("PGFERRY_FAULT").ok()?;
            let (point, n) = v.split_once(':')?;
            Some(Fault {
                point: point.to_string(),
                remaining: AtomicI64::new(n.parse().ok()?),
            })
        })
        .as_ref()
    }

    pub fn fails(name: &str) -> bool {
        fault().is_some_and(|f| f.point == name && f.remaining.fetch_sub(1, Ordering::SeqCst) == 1)
    }

    pub fn point(name: &str) {
        if fails(name) {
            // SAFETY: sending SIGKILL to ourselves; nothing runs after it.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// True (once) when `PGFERRY_FAULT` names this point and its count ran out:
/// the caller then fails as a permanent error would (`fail-unit:<n>`).
/// Always false without the `fault-injection` feature.
#[inline(always)]
pub fn fails(_name: &str) -> bool {
    #[cfg(feature = "fault-injection")]
    return armed::fails(_name);
    #[cfg(not(feature = "fault-injection"))]
    false
}

/// Kills the process here if `PGFERRY_FAULT` names this point and its count
/// ran out. Does nothing without the `fault-injection` feature.
#[inline(always)]
pub fn point(_name: &str) {
    #[cfg(feature = "fault-injection")]
    armed::point(_name);
}

/// Sleeps here for the milliseconds `PGFERRY_DELAY=<point>:<ms>` gives, if
/// it names this point (tests of what happens in a gap). Does nothing
/// without the `fault-injection` feature.
#[inline(always)]
pub async fn delay(_name: &str) {
    #[cfg(feature = "fault-injection")]
    {
        let Ok(v) = std::env::var("PGFERRY_DELAY") else {
            return;
        };
        if let Some((point, ms)) = v.split_once(':') {
            if point == _name {
                if let Ok(ms) = ms.parse() {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
            }
        }
    }
}
