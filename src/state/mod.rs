//! Task state: what a migration has done, durable as it happens, so that
//! `migrate --resume` redoes only unfinished work and `status` can tell.
//!
//! One SQLite database per state directory (`<dir>/state.db`), one writer
//! (the lock in [`lock`]). Every write commits before the work that depends on
//! it starts, so the state is never ahead of the target. In WAL mode with
//! `synchronous = NORMAL` a commit survives a `kill -9` of pgferry; a power
//! cut of the machine running pgferry can lose the last few commits, which
//! leaves the state *behind* the target: resume then redoes those units
//! (clearing them first) and statements (an object already there counts as
//! done), so nothing is lost or doubled. `FULL` would cost one fsync per
//! unit and per statement: seconds on a database of thousands of tables.
//!
//! State machine of a copy unit (a table, or a range of a split table):
//! `pending` -> `copying` -> `done`. A unit found `copying` on resume may or
//! may not have committed on the target, so its rows are cleared (by its key
//! range, or the whole table) before it is copied again. DDL steps are
//! `done` once executed; pre-data is one target transaction, recorded as one
//! step. Nothing here ever holds a password: connection strings are stored
//! redacted.

mod lock;

pub use lock::StateLock;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS task (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    key TEXT PRIMARY KEY,            -- phase + hash of the statement
    phase TEXT NOT NULL, kind TEXT NOT NULL, object TEXT NOT NULL,
    done_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY,             -- target table + range predicate
    table_name TEXT NOT NULL, range TEXT,
    status TEXT NOT NULL,            -- pending | copying | done
    rows INTEGER, bytes INTEGER, seconds REAL, updated_at TEXT NOT NULL);
";

/// Status of a copy unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    Pending,
    Copying,
    Done,
}

impl UnitStatus {
    fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Pending => "pending",
            UnitStatus::Copying => "copying",
            UnitStatus::Done => "done",
        }
    }
    fn parse(s: &str) -> UnitStatus {
        match s {
            "done" => UnitStatus::Done,
            "copying" => UnitStatus::Copying,
            _ => UnitStatus::Pending,
        }
    }
}

/// One unit as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitRecord {
    pub id: String,
    pub table: String,
    pub range: Option<String>,
    pub status: &'static str,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
}

/// The state store of one task. Cheap to clone; writes are serialised.
#[derive(Clone)]
pub struct State {
    conn: Arc<Mutex<Connection>>,
    dir: PathBuf,
}

/// RFC 3339 UTC timestamp without pulling in a date crate.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl State {
    /// Opens (creating if needed) the state of the task in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<State> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating state directory {}", dir.display()))?;
        let path = dir.join("state.db");
        let conn = Connection::open(&path)
            .with_context(|| format!("opening task state {}", path.display()))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .context("configuring the task state database")?;
        conn.execute_batch(SCHEMA)
            .context("creating the task state tables")?;
        Ok(State {
            conn: Arc::new(Mutex::new(conn)),
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an existing state read-only for `status`; `None` when there is none.
    pub fn open_existing(dir: &Path) -> anyhow::Result<Option<State>> {
        if !dir.join("state.db").exists() {
            return Ok(None);
        }
        State::open(dir).map(Some)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> anyhow::Result<T> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("task state lock poisoned"))?;
        f(&conn).context("writing the task state")
    }

    /// Reads a task attribute.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT value FROM task WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    /// Sets a task attribute.
    pub fn set(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO task (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
    }

    /// Records that the task ran to its end (`finished_at`, UTC).
    pub fn mark_finished(&self) -> anyhow::Result<()> {
        self.set("finished_at", &now())
    }

    /// Whether the task ran to its end.
    pub fn is_finished(&self) -> anyhow::Result<bool> {
        Ok(self.get("finished_at")?.is_some())
    }

    /// Forgets everything (for `--restart`).
    pub fn clear(&self) -> anyhow::Result<()> {
        self.with(|c| c.execute_batch("DELETE FROM task; DELETE FROM steps; DELETE FROM units;"))
    }

    /// True when nothing has been recorded yet.
    pub fn is_empty(&self) -> anyhow::Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM task) + (SELECT count(*) FROM steps) \
                 + (SELECT count(*) FROM units)",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n == 0)
    }

    /// Whether a DDL step (by its key) was done.
    pub fn step_done(&self, key: &str) -> anyhow::Result<bool> {
        self.with(|c| {
            c.query_row("SELECT 1 FROM steps WHERE key = ?1", [key], |_| Ok(()))
                .optional()
        })
        .map(|r| r.is_some())
    }

    /// Records a DDL step as done.
    pub fn mark_step(
        &self,
        key: &str,
        phase: &str,
        kind: &str,
        object: &str,
    ) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO steps (key, phase, kind, object, done_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key, phase, kind, object, now()],
            )
            .map(|_| ())
        })
    }

    /// Number of steps done per phase.
    pub fn steps_done(&self) -> anyhow::Result<Vec<(String, i64)>> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT phase, count(*) FROM steps GROUP BY phase ORDER BY phase")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// The recorded status of a unit, if any.
    pub fn unit_status(&self, id: &str) -> anyhow::Result<Option<UnitStatus>> {
        self.with(|c| {
            c.query_row("SELECT status FROM units WHERE id = ?1", [id], |r| {
                r.get::<_, String>(0)
            })
            .optional()
        })
        .map(|s| s.map(|s| UnitStatus::parse(&s)))
    }

    /// Records a unit's status (and, when done, what it moved).
    pub fn mark_unit(
        &self,
        id: &str,
        table: &str,
        range: Option<&str>,
        status: UnitStatus,
        moved: Option<(u64, u64, f64)>,
    ) -> anyhow::Result<()> {
        let (rows, bytes, secs) = match moved {
            Some((r, b, s)) => (Some(r as i64), Some(b as i64), Some(s)),
            None => (None, None, None),
        };
        self.with(|c| {
            c.execute(
                "INSERT INTO units (id, table_name, range, status, rows, bytes, seconds, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, rows = excluded.rows, \
                 bytes = excluded.bytes, seconds = excluded.seconds, updated_at = excluded.updated_at",
                params![id, table, range, status.as_str(), rows, bytes, secs, now()],
            )
            .map(|_| ())
        })
    }

    /// Records the units of the data phase as pending, all at once, before
    /// any is copied: (id, table, range as JSON).
    pub fn record_units(&self, units: &[(String, String, Option<String>)]) -> anyhow::Result<()> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("task state lock poisoned"))?;
        let tx = conn.transaction().context("writing the task state")?;
        {
            let mut st = tx
                .prepare(
                    "INSERT OR IGNORE INTO units (id, table_name, range, status, updated_at) \
                     VALUES (?1, ?2, ?3, 'pending', ?4)",
                )
                .context("writing the task state")?;
            let at = now();
            for (id, table, range) in units {
                st.execute(params![id, table, range, at])
                    .context("writing the task state")?;
            }
        }
        tx.commit().context("writing the task state")
    }

    /// Every recorded unit.
    pub fn units(&self) -> anyhow::Result<Vec<UnitRecord>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, table_name, range, status, rows, bytes FROM units ORDER BY table_name, id",
            )?;
            let rows = st.query_map([], |r| {
                let status: String = r.get(3)?;
                Ok(UnitRecord {
                    id: r.get(0)?,
                    table: r.get(1)?,
                    range: r.get(2)?,
                    status: UnitStatus::parse(&status).as_str(),
                    rows: r.get(4)?,
                    bytes: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn units_and_steps_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let s = State::open(dir.path()).unwrap();
        assert!(s.is_empty().unwrap());
        s.mark_unit("t", "t", None, UnitStatus::Copying, None)
            .unwrap();
        assert_eq!(s.unit_status("t").unwrap(), Some(UnitStatus::Copying));
        s.mark_unit("t", "t", None, UnitStatus::Done, Some((3, 10, 0.1)))
            .unwrap();
        assert_eq!(s.unit_status("t").unwrap(), Some(UnitStatus::Done));
        s.mark_step("k", "post-data", "index", "i").unwrap();
        assert!(s.step_done("k").unwrap() && !s.step_done("x").unwrap());
        // Durable across reopen.
        drop(s);
        let s = State::open(dir.path()).unwrap();
        assert_eq!(s.units().unwrap()[0].rows, Some(3));
        s.clear().unwrap();
        assert!(s.is_empty().unwrap());
    }
}
