//! An open replication session and its commands: `IDENTIFY_SYSTEM`, slot
//! creation with an exported snapshot, `DROP_REPLICATION_SLOT`, and the
//! simple-query exchange they all use.
//!
//! The slot syntax differs by server version (10-14: `EXPORT_SNAPSHOT`
//! keyword; 15+: `(SNAPSHOT 'export')`), so the commands are built here from
//! the version the server announced at start-up, never by the caller.

use super::connect::{log_notice, Peer};
use super::error::ReplError;
use super::stream::{LogicalStream, PgOutputOptions};
use super::wire::{parse_data_row, parse_row_description, Frame, ServerNotice, Wire};
use super::Lsn;
use crate::pg::{ConnError, ConnSpec};
use postgres_protocol::message::frontend;

/// A replication session (`replication=database`) to the source.
pub struct ReplConnection {
    pub(crate) wire: Wire,
    pub(crate) peer: Peer,
    version_num: u32,
    version: String,
    broken: bool,
}

/// What a simple query returned: the rows of its last result set, all
/// values as text, and the last command tag.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    pub tag: String,
}

/// The answer to `IDENTIFY_SYSTEM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemIdentity {
    /// The cluster's system identifier (distinguishes clusters, e.g. to
    /// notice that the source was replaced by a different one).
    pub system_id: String,
    pub timeline: u32,
    /// The current WAL flush position.
    pub xlogpos: Lsn,
    /// The database of this session.
    pub dbname: Option<String>,
}

/// What to do with the snapshot of a new slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotAction {
    /// Export it, so other sessions can read the data exactly as of the
    /// slot's consistent point (`SET TRANSACTION SNAPSHOT`).
    Export,
    /// No snapshot (a slot whose changes are wanted from now on only).
    Nothing,
}

/// A newly created logical slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSlot {
    pub slot_name: String,
    /// Changes committed after this position are streamed; everything
    /// before it is in the exported snapshot.
    pub consistent_point: Lsn,
    /// Present when exported; valid while the creating session is idle.
    pub snapshot_name: Option<String>,
    pub output_plugin: String,
}

impl ReplConnection {
    /// Opens a replication session to the source. Errors are the same
    /// [`ConnError`]s as for other connections (exit 2 at start-up).
    pub async fn connect(spec: &ConnSpec, purpose: &str) -> Result<ReplConnection, ConnError> {
        super::connect::open(spec, purpose).await
    }

    pub(crate) fn new(wire: Wire, peer: Peer, version_num: u32, version: String) -> Self {
        ReplConnection {
            wire,
            peer,
            version_num,
            version,
            broken: false,
        }
    }

    /// `server_version_num` of the source, e.g. 100023 or 170002.
    pub fn server_version_num(&self) -> u32 {
        self.version_num
    }

    /// `server_version` as the source reports it, e.g. "10.23".
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// Runs one command with the simple-query protocol (replication
    /// commands, or SQL such as `SET`). Returns the last result set.
    pub async fn simple_query(&mut self, sql: &str) -> Result<QueryResult, ReplError> {
        if self.broken {
            return Err(ReplError::Broken {
                target: self.peer.target.to_string(),
            });
        }
        let command = command_name(sql);
        self.encode_query(sql)?;
        // Until ReadyForQuery arrives, an interrupted exchange leaves the
        // connection out of step; mark it so nobody reuses it by mistake.
        self.broken = true;
        self.send("sending a command").await?;
        let mut result = QueryResult::default();
        let mut error: Option<ServerNotice> = None;
        loop {
            let frame = self.read("waiting for a command result").await?;
            match frame.tag {
                b'T' => {
                    result.columns = parse_row_description(frame.body)
                        .map_err(|e| self.protocol("reading a row description", e.to_string()))?;
                    result.rows.clear();
                }
                b'D' => result.rows.push(
                    parse_data_row(frame.body)
                        .map_err(|e| self.protocol("reading a data row", e.to_string()))?,
                ),
                b'C' => {
                    let mut b = super::wire::Body::new(frame.body);
                    result.tag = b.cstr().unwrap_or_default();
                }
                b'I' | b'S' => {}
                b'N' => log_notice(&self.peer, frame.body),
                b'E' => error = Some(ServerNotice::parse(frame.body)),
                b'Z' => break,
                b'W' | b'H' | b'G' => {
                    return Err(self.protocol(
                        "running a command",
                        format!("{command} started a copy; use start_logical for streaming"),
                    ))
                }
                t => {
                    return Err(self.protocol(
                        "waiting for a command result",
                        format!("unexpected message {:?}", t as char),
                    ))
                }
            }
        }
        self.broken = false;
        match error {
            Some(n) => Err(self.server_error(&command, n)),
            None => Ok(result),
        }
    }

    /// `SHOW name` (works on replication sessions from PostgreSQL 10 on).
    pub async fn show(&mut self, name: &str) -> Result<String, ReplError> {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !plain {
            return Err(ReplError::InvalidName {
                what: "setting",
                name: name.to_string(),
                why: "setting names are letters, digits, '_' and '.'",
            });
        }
        let r = self.simple_query(&format!("SHOW {name}")).await?;
        Ok(r.rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
            .unwrap_or_default())
    }

    /// `IDENTIFY_SYSTEM`.
    pub async fn identify_system(&mut self) -> Result<SystemIdentity, ReplError> {
        let r = self.simple_query("IDENTIFY_SYSTEM").await?;
        let row = self.single_row(&r, "IDENTIFY_SYSTEM", 3)?;
        let get = |i: usize| row.get(i).cloned().flatten();
        let timeline = get(1)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| self.protocol("reading IDENTIFY_SYSTEM", "no timeline".into()))?;
        let xlogpos = self.lsn(get(2), "IDENTIFY_SYSTEM xlogpos")?;
        Ok(SystemIdentity {
            system_id: get(0).unwrap_or_default(),
            timeline,
            xlogpos,
            dbname: get(3),
        })
    }

    /// Creates a logical `pgoutput` slot on this session. With
    /// [`SnapshotAction::Export`] the snapshot lives until the next command
    /// on this session or until it closes; prefer
    /// [`ReplConnection::create_slot_with_snapshot`], which guards that.
    /// A temporary slot is dropped by the server when this session ends.
    pub async fn create_logical_slot(
        &mut self,
        name: &str,
        temporary: bool,
        snapshot: SnapshotAction,
    ) -> Result<CreatedSlot, ReplError> {
        let sql = create_slot_command(name, temporary, snapshot, self.version_num)?;
        tracing::debug!("{}: {sql}", self.peer.target);
        let r = self.simple_query(&sql).await?;
        let row = self.single_row(&r, "CREATE_REPLICATION_SLOT", 4)?;
        let get = |i: usize| row.get(i).cloned().flatten();
        Ok(CreatedSlot {
            slot_name: get(0).unwrap_or_default(),
            consistent_point: self.lsn(get(1), "consistent_point")?,
            snapshot_name: get(2),
            output_plugin: get(3).unwrap_or_default(),
        })
    }

    /// Creates a slot with an exported snapshot and keeps this session open
    /// and idle for as long as the returned holder lives. Timeouts that
    /// would kill the idle session (and with it the snapshot) are turned
    /// off first, as pgcopydb does: `statement_timeout`,
    /// `idle_in_transaction_session_timeout`, and on 17+
    /// `transaction_timeout`.
    pub async fn create_slot_with_snapshot(
        mut self,
        name: &str,
        temporary: bool,
    ) -> Result<SnapshotHolder, ReplError> {
        self.simple_query("SET statement_timeout = 0").await?;
        self.simple_query("SET idle_in_transaction_session_timeout = 0")
            .await?;
        if self.version_num >= 170_000 {
            // PostgreSQL 17's transaction_timeout would end the exporting
            // transaction, and the snapshot with it, just the same.
            self.simple_query("SET transaction_timeout = 0").await?;
        }
        let slot = self
            .create_logical_slot(name, temporary, SnapshotAction::Export)
            .await?;
        let snapshot = slot.snapshot_name.clone().ok_or_else(|| {
            self.protocol("creating a slot", "the server exported no snapshot".into())
        })?;
        Ok(SnapshotHolder {
            conn: self,
            slot,
            snapshot,
        })
    }

    /// `DROP_REPLICATION_SLOT "name"`; with `wait`, waits for a session
    /// still using the slot to end instead of failing.
    pub async fn drop_slot(&mut self, name: &str, wait: bool) -> Result<(), ReplError> {
        let name = slot_ident(name)?;
        let sql = if wait {
            format!("DROP_REPLICATION_SLOT {name} WAIT")
        } else {
            format!("DROP_REPLICATION_SLOT {name}")
        };
        self.simple_query(&sql).await.map(|_| ())
    }

    /// `START_REPLICATION SLOT "slot" LOGICAL start (...)`: from here the
    /// session streams until [`LogicalStream::stop`]. `start` 0/0 means from
    /// the slot's confirmed position.
    pub async fn start_logical(
        mut self,
        slot: &str,
        start: Lsn,
        options: &PgOutputOptions,
    ) -> Result<LogicalStream, ReplError> {
        let sql = options.start_command(slot, start, self.version_num, &self.peer)?;
        tracing::debug!("{}: {sql}", self.peer.target);
        if self.broken {
            return Err(ReplError::Broken {
                target: self.peer.target.to_string(),
            });
        }
        self.encode_query(&sql)?;
        self.broken = true;
        self.send("starting replication").await?;
        let mut error = None;
        loop {
            let frame = self.read("starting replication").await?;
            match frame.tag {
                b'W' => break,
                b'N' => log_notice(&self.peer, frame.body),
                b'S' => {}
                b'E' => error = Some(ServerNotice::parse(frame.body)),
                b'Z' => {
                    self.broken = false;
                    let n = error.unwrap_or_default();
                    return Err(self.server_error("START_REPLICATION", n));
                }
                t => {
                    return Err(self.protocol(
                        "starting replication",
                        format!("unexpected message {:?}", t as char),
                    ))
                }
            }
        }
        self.broken = false;
        Ok(LogicalStream::new(self, start))
    }

    /// Encodes a Query message, leaving the send buffer as it was when the
    /// text cannot be sent (a NUL byte): a half-written message would
    /// corrupt everything after it.
    fn encode_query(&mut self, sql: &str) -> Result<(), ReplError> {
        let mark = self.wire.wbuf.len();
        frontend::query(sql, &mut self.wire.wbuf).map_err(|_| {
            self.wire.wbuf.truncate(mark);
            ReplError::InvalidName {
                what: "command",
                name: self.peer.clean(sql),
                why: "it contains a NUL byte",
            }
        })
    }

    /// Ends the session politely (Terminate). Dropping it also closes it.
    pub async fn close(self) {
        self.wire.terminate().await;
    }

    pub(crate) async fn read(&mut self, during: &'static str) -> Result<Frame, ReplError> {
        match self.wire.read_frame().await {
            Ok(Some(f)) => Ok(f),
            Ok(None) => Err(ReplError::Closed {
                target: self.peer.target.to_string(),
                during,
            }),
            Err(source) => Err(ReplError::Io {
                target: self.peer.target.to_string(),
                during,
                source,
            }),
        }
    }

    pub(crate) async fn send(&mut self, during: &'static str) -> Result<(), ReplError> {
        self.wire.flush().await.map_err(|source| ReplError::Io {
            target: self.peer.target.to_string(),
            during,
            source,
        })
    }

    pub(crate) fn protocol(&self, during: &'static str, detail: String) -> ReplError {
        ReplError::Protocol {
            target: self.peer.target.to_string(),
            during,
            detail: self.peer.clean(&detail),
        }
    }

    pub(crate) fn server_error(&self, command: &str, n: ServerNotice) -> ReplError {
        ReplError::Server {
            target: self.peer.target.to_string(),
            command: self.peer.clean(command),
            code: n.code.clone(),
            message: self.peer.clean(&n.message),
            extra: self.peer.clean(&n.extra()),
        }
    }

    fn single_row<'a>(
        &self,
        r: &'a QueryResult,
        what: &'static str,
        min_columns: usize,
    ) -> Result<&'a Vec<Option<String>>, ReplError> {
        match r.rows.first() {
            Some(row) if row.len() >= min_columns => Ok(row),
            _ => Err(self.protocol(
                "reading a command result",
                format!("{what} returned no row with {min_columns} columns"),
            )),
        }
    }

    fn lsn(&self, v: Option<String>, what: &str) -> Result<Lsn, ReplError> {
        v.as_deref()
            .unwrap_or("")
            .parse()
            .map_err(|e| self.protocol("reading an LSN", format!("{what}: {e}")))
    }
}

impl std::fmt::Debug for ReplConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplConnection({:?}, {})", self.peer, self.version)
    }
}

/// A slot whose exported snapshot is being held: the creating session stays
/// open and idle until this is dropped, released or closed. Copy sessions
/// import the snapshot with `BEGIN ISOLATION LEVEL REPEATABLE READ;
/// SET TRANSACTION SNAPSHOT '<name>'` while it lives.
#[derive(Debug)]
pub struct SnapshotHolder {
    conn: ReplConnection,
    slot: CreatedSlot,
    snapshot: String,
}

impl SnapshotHolder {
    pub fn slot(&self) -> &CreatedSlot {
        &self.slot
    }

    /// The exported snapshot's name, for `SET TRANSACTION SNAPSHOT`.
    pub fn snapshot_name(&self) -> &str {
        &self.snapshot
    }

    /// Checks that the holding session is still there (it can be killed by
    /// an administrator or a server restart, and the snapshot with it).
    pub async fn check(&mut self) -> Result<(), ReplError> {
        let probe = tokio::time::timeout(
            std::time::Duration::from_millis(1),
            self.conn.wire.read_frame(),
        )
        .await;
        match probe {
            Err(_elapsed) => Ok(()),
            Ok(Ok(Some(f))) if f.tag == b'E' => Err(self
                .conn
                .server_error("holding the snapshot", ServerNotice::parse(f.body))),
            Ok(Ok(Some(f))) if f.tag == b'N' || f.tag == b'S' => Ok(()),
            Ok(Ok(Some(f))) => Err(self.conn.protocol(
                "holding the snapshot",
                format!("unexpected message {:?}", f.tag as char),
            )),
            Ok(Ok(None)) => Err(ReplError::Closed {
                target: self.conn.peer.target.to_string(),
                during: "holding the snapshot",
            }),
            Ok(Err(source)) => Err(ReplError::Io {
                target: self.conn.peer.target.to_string(),
                during: "holding the snapshot",
                source,
            }),
        }
    }

    /// Gives the session back; its next command ends the snapshot. For a
    /// temporary slot this is the session that must stream it.
    pub fn release(self) -> (ReplConnection, CreatedSlot) {
        (self.conn, self.slot)
    }

    /// Closes the session, ending the snapshot (and a temporary slot).
    pub async fn close(self) {
        self.conn.close().await
    }
}

/// The first word of a command, for messages (never the whole text: it
/// could hold literals).
fn command_name(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or("command")
        .to_string()
}

/// Slot names are `[a-z0-9_]{1,63}` on the server; refusing anything else
/// here means nothing a caller passes can change the command.
pub(crate) fn slot_ident(name: &str) -> Result<String, ReplError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(ReplError::InvalidName {
            what: "replication slot",
            name: name.to_string(),
            why: "slot names may contain only lower-case letters, digits and underscores (at most 63)",
        })
    }
}

/// `CREATE_REPLICATION_SLOT` in the syntax of the server version.
pub(crate) fn create_slot_command(
    name: &str,
    temporary: bool,
    snapshot: SnapshotAction,
    version_num: u32,
) -> Result<String, ReplError> {
    let name = slot_ident(name)?;
    let temp = if temporary { " TEMPORARY" } else { "" };
    let tail = match (version_num >= 150_000, snapshot) {
        (true, SnapshotAction::Export) => " (SNAPSHOT 'export')",
        (true, SnapshotAction::Nothing) => " (SNAPSHOT 'nothing')",
        (false, SnapshotAction::Export) => " EXPORT_SNAPSHOT",
        (false, SnapshotAction::Nothing) => " NOEXPORT_SNAPSHOT",
    };
    Ok(format!(
        "CREATE_REPLICATION_SLOT {name}{temp} LOGICAL pgoutput{tail}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_syntax_per_version() {
        assert_eq!(
            create_slot_command("s1", false, SnapshotAction::Export, 100_023).unwrap(),
            "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput EXPORT_SNAPSHOT"
        );
        assert_eq!(
            create_slot_command("s1", true, SnapshotAction::Nothing, 140_000).unwrap(),
            "CREATE_REPLICATION_SLOT \"s1\" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT"
        );
        assert_eq!(
            create_slot_command("s_2", false, SnapshotAction::Export, 150_000).unwrap(),
            "CREATE_REPLICATION_SLOT \"s_2\" LOGICAL pgoutput (SNAPSHOT 'export')"
        );
        assert_eq!(
            create_slot_command("s", true, SnapshotAction::Nothing, 180_000).unwrap(),
            "CREATE_REPLICATION_SLOT \"s\" TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')"
        );
    }

    #[test]
    fn slot_names_are_checked() {
        for bad in ["", "S", "a b", "a\"b", "x;DROP", &"a".repeat(64)] {
            assert!(slot_ident(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(slot_ident("pgferry_1").unwrap(), "\"pgferry_1\"");
    }

    #[test]
    fn command_names_hide_arguments() {
        assert_eq!(command_name("  SET x = 'secret'"), "SET");
        assert_eq!(command_name(""), "command");
    }
}
