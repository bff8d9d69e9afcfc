//! The CopyBoth sub-protocol of `START_REPLICATION ... LOGICAL`: XLogData
//! and keepalives in, standby status updates out.
//!
//! Messages are handed out one at a time, so memory is bounded by the
//! largest single message, never by a transaction. Status updates go out
//! whenever the server asks and at least every 10 s while the caller keeps
//! calling [`LogicalStream::next`], so an idle source neither times us out
//! (`wal_sender_timeout`, 60 s by default) nor keeps WAL for a position the
//! caller has already confirmed.

use super::conn::{slot_ident, ReplConnection};
use super::connect::log_notice;
use super::error::ReplError;
use super::pgoutput::{PgOutputDecoder, PgOutputMessage, Relation};
use super::wire::{Body, ServerNotice};
use super::{Lsn, PgTimestamp};
use bytes::{BufMut, Bytes, BytesMut};
use postgres_protocol::message::frontend;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a status update is sent at the least. PostgreSQL's own
/// receivers use 10 s (`wal_receiver_status_interval`).
pub const STATUS_INTERVAL: Duration = Duration::from_secs(10);

/// The pgoutput options of `START_REPLICATION`. `proto_version` is always
/// 1: it is what PostgreSQL 10 speaks and all we need (no streaming of
/// in-progress transactions, which would have to be buffered and undone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgOutputOptions {
    /// The publications whose tables are streamed.
    pub publication_names: Vec<String>,
    /// Also stream `pg_logical_emit_message` messages. PostgreSQL 14+;
    /// asking an older server is an error, never silently dropped.
    pub messages: bool,
}

impl PgOutputOptions {
    /// Options for the given publications, nothing else.
    pub fn new<I, S>(publications: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PgOutputOptions {
            publication_names: publications.into_iter().map(Into::into).collect(),
            messages: false,
        }
    }

    /// The `START_REPLICATION` command for a server version. Options only
    /// exist from some versions on, and older servers reject unknown ones
    /// (PostgreSQL 10: "unrecognized pgoutput option: messages").
    pub(crate) fn start_command(
        &self,
        slot: &str,
        start: Lsn,
        version_num: u32,
        peer: &super::connect::Peer,
    ) -> Result<String, ReplError> {
        let slot = slot_ident(slot)?;
        if self.publication_names.is_empty() {
            return Err(ReplError::InvalidName {
                what: "publication",
                name: String::new(),
                why: "at least one publication is needed",
            });
        }
        let mut names = Vec::new();
        for p in &self.publication_names {
            if p.is_empty() || p.contains('\0') {
                return Err(ReplError::InvalidName {
                    what: "publication",
                    name: p.replace('\0', "\\0"),
                    why: "publication names must be non-empty and contain no NUL byte",
                });
            }
            // An identifier list inside a string literal: quote the
            // identifier, then the literal.
            names.push(format!("\"{}\"", p.replace('"', "\"\"")));
        }
        let list = names.join(",").replace('\'', "''");
        let mut opts = format!("proto_version '1', publication_names '{list}'");
        if self.messages {
            if version_num < 140_000 {
                return Err(ReplError::Unsupported {
                    target: peer.target.to_string(),
                    detail: "the pgoutput option \"messages\" needs PostgreSQL 14 or later".into(),
                });
            }
            opts.push_str(", messages 'true'");
        }
        Ok(format!(
            "START_REPLICATION SLOT {slot} LOGICAL {start} ({opts})"
        ))
    }
}

/// A message of the stream before pgoutput decoding (what the server sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEvent {
    /// One pgoutput message. For pgoutput `wal_start` = `wal_end` = the
    /// position the server attributes the message to: a Begin's and a
    /// change's is the change's WAL record, a Commit's is the end of its
    /// commit record, and Relation/Type messages (which belong to no
    /// record) have 0/0.
    XLogData {
        wal_start: Lsn,
        wal_end: Lsn,
        server_time: PgTimestamp,
        data: Bytes,
    },
    /// The server is alive and has sent everything up to `wal_end`. A
    /// reply, when requested, has already been sent.
    Keepalive {
        wal_end: Lsn,
        server_time: PgTimestamp,
        reply_requested: bool,
    },
}

/// A decoded event of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Message {
        /// The XLogData position of this message (see [`RawEvent::XLogData`]).
        lsn: Lsn,
        server_time: PgTimestamp,
        message: PgOutputMessage,
    },
    /// See [`RawEvent::Keepalive`]. When the caller has nothing pending,
    /// confirming `wal_end` lets the source recycle WAL on an idle database.
    Keepalive {
        wal_end: Lsn,
        server_time: PgTimestamp,
    },
}

/// The WAL positions a standby status update reports. `ZERO` means "not
/// known" and is ignored by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Positions {
    /// Received and stored.
    pub write: Lsn,
    /// Durably stored: the slot may forget everything before it.
    pub flush: Lsn,
    /// Applied.
    pub apply: Lsn,
}

impl Positions {
    /// Moves each position forward; lower values are ignored, because the
    /// server would move the slot's confirmed position back.
    pub fn advance(&mut self, write: Lsn, flush: Lsn, apply: Lsn) {
        self.write = self.write.max(write);
        self.flush = self.flush.max(flush);
        self.apply = self.apply.max(apply);
    }
}

/// A running logical replication stream.
#[derive(Debug)]
pub struct LogicalStream {
    conn: ReplConnection,
    decoder: PgOutputDecoder,
    positions: Positions,
    received: Lsn,
    interval: Duration,
    next_status: Instant,
    ended: bool,
}

enum Woke {
    Frame(Result<Option<super::wire::Frame>, std::io::Error>),
    StatusDue,
}

impl LogicalStream {
    pub(crate) fn new(conn: ReplConnection, start: Lsn) -> Self {
        LogicalStream {
            conn,
            decoder: PgOutputDecoder::new(),
            positions: Positions::default(),
            received: start,
            interval: STATUS_INTERVAL,
            next_status: Instant::now() + STATUS_INTERVAL,
            ended: false,
        }
    }

    /// Sends status updates at least this often (default 10 s).
    pub fn set_status_interval(&mut self, interval: Duration) {
        self.interval = interval;
        self.next_status = Instant::now() + interval;
    }

    /// The next decoded message or keepalive; `None` once the server ended
    /// the stream (a server shutdown) or after an error. Cancel-safe (e.g.
    /// in `select!` or under a timeout): no message is lost by dropping the
    /// future, only a keepalive may be.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, ReplError> {
        match self.next_raw().await? {
            None => Ok(None),
            Some(RawEvent::Keepalive {
                wal_end,
                server_time,
                ..
            }) => Ok(Some(StreamEvent::Keepalive {
                wal_end,
                server_time,
            })),
            Some(RawEvent::XLogData {
                wal_start,
                server_time,
                data,
                ..
            }) => {
                let message = self
                    .decoder
                    .decode(data)
                    .map_err(|source| ReplError::Decode {
                        target: self.conn.peer.target.to_string(),
                        lsn: wal_start,
                        source,
                    })?;
                Ok(Some(StreamEvent::Message {
                    lsn: wal_start,
                    server_time,
                    message,
                }))
            }
        }
    }

    /// Like [`LogicalStream::next`] but without decoding (for capturing
    /// frames, or to decode elsewhere with a [`PgOutputDecoder`]).
    pub async fn next_raw(&mut self) -> Result<Option<RawEvent>, ReplError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let due = self.next_status;
            let woke = tokio::select! {
                f = self.conn.wire.read_frame() => Woke::Frame(f),
                _ = tokio::time::sleep_until(due) => Woke::StatusDue,
            };
            let frame = match woke {
                Woke::StatusDue => {
                    self.send_status(false).await?;
                    continue;
                }
                Woke::Frame(Ok(Some(f))) => f,
                Woke::Frame(Ok(None)) => {
                    self.ended = true;
                    return Err(ReplError::Closed {
                        target: self.conn.peer.target.to_string(),
                        during: "streaming",
                    });
                }
                Woke::Frame(Err(source)) => {
                    self.ended = true;
                    return Err(ReplError::Io {
                        target: self.conn.peer.target.to_string(),
                        during: "streaming",
                        source,
                    });
                }
            };
            match frame.tag {
                b'd' => return self.copy_data(frame.body).await.map(Some),
                // The server ended the copy: answer, then wait for the
                // session to be ready again.
                b'c' => {
                    self.ended = true;
                    frontend::copy_done(&mut self.conn.wire.wbuf);
                    self.conn.send("ending the stream").await?;
                    self.finish_command().await?;
                    return Ok(None);
                }
                // A walsender shutting down ends the command without CopyDone.
                b'C' => {
                    self.ended = true;
                    tracing::info!("{}: the server ended the stream", self.conn.peer.target);
                    return Ok(None);
                }
                b'E' => {
                    self.ended = true;
                    let n = ServerNotice::parse(frame.body);
                    return Err(self.conn.server_error("the stream (START_REPLICATION)", n));
                }
                b'N' => log_notice(&self.conn.peer, frame.body),
                b'S' => {}
                t => {
                    self.ended = true;
                    return Err(self.conn.protocol(
                        "streaming",
                        format!("unexpected message {:?} in copy mode", t as char),
                    ));
                }
            }
        }
    }

    async fn copy_data(&mut self, body: Bytes) -> Result<RawEvent, ReplError> {
        let mut b = Body::new(body);
        let bad = |what: &str| format!("truncated {what} message");
        match b.u8() {
            Ok(b'w') => {
                let (Ok(start), Ok(end), Ok(ts)) = (b.u64(), b.u64(), b.i64()) else {
                    return Err(self.conn.protocol("streaming", bad("XLogData")));
                };
                let end = Lsn(end);
                self.received = self.received.max(end);
                Ok(RawEvent::XLogData {
                    wal_start: Lsn(start),
                    wal_end: end,
                    server_time: PgTimestamp(ts),
                    data: b.rest(),
                })
            }
            Ok(b'k') => {
                let (Ok(end), Ok(ts), Ok(reply)) = (b.u64(), b.i64(), b.u8()) else {
                    return Err(self.conn.protocol("streaming", bad("keepalive")));
                };
                let end = Lsn(end);
                self.received = self.received.max(end);
                let reply_requested = reply != 0;
                if reply_requested {
                    self.send_status(false).await?;
                }
                Ok(RawEvent::Keepalive {
                    wal_end: end,
                    server_time: PgTimestamp(ts),
                    reply_requested,
                })
            }
            Ok(t) => Err(self.conn.protocol(
                "streaming",
                format!("unknown CopyData message type {:?}", t as char),
            )),
            Err(_) => Err(self
                .conn
                .protocol("streaming", "empty CopyData message".into())),
        }
    }

    /// Sets the positions the next status update reports: `write` = received
    /// and stored, `flush` = durably stored (the slot may forget everything
    /// before it), `apply` = applied. Each only moves forward; a lower value
    /// is ignored, as the server would otherwise move the slot back.
    pub fn set_positions(&mut self, write: Lsn, flush: Lsn, apply: Lsn) {
        self.positions.advance(write, flush, apply);
    }

    /// Confirms everything before `lsn` (all three positions) and tells the
    /// server now. Pass a Commit's `end_lsn`, or a keepalive's `wal_end`
    /// when nothing is pending.
    pub async fn confirm(&mut self, lsn: Lsn) -> Result<(), ReplError> {
        self.set_positions(lsn, lsn, lsn);
        self.send_status(false).await
    }

    /// The positions the next status update reports.
    pub fn positions(&self) -> Positions {
        self.positions
    }

    /// The highest WAL end the server has announced.
    pub fn received(&self) -> Lsn {
        self.received
    }

    /// A relation from the stream's cache.
    pub fn relation(&self, id: u32) -> Option<&Arc<Relation>> {
        self.decoder.relation(id)
    }

    /// Sends a standby status update now; `reply` asks the server to answer
    /// with a keepalive.
    pub async fn send_status(&mut self, reply: bool) -> Result<(), ReplError> {
        let mut msg = BytesMut::with_capacity(34);
        msg.put_u8(b'r');
        let p = self.positions;
        msg.put_u64(p.write.0);
        msg.put_u64(p.flush.0);
        msg.put_u64(p.apply.0);
        msg.put_i64(PgTimestamp::now().0);
        msg.put_u8(u8::from(reply));
        frontend::CopyData::new(msg.freeze())
            .map_err(|e| self.conn.protocol("sending a status update", e.to_string()))?
            .write(&mut self.conn.wire.wbuf);
        self.conn.send("sending a status update").await?;
        self.next_status = Instant::now() + self.interval;
        tracing::trace!(
            "status update: write {} flush {} apply {}",
            p.write,
            p.flush,
            p.apply
        );
        Ok(())
    }

    /// Ends streaming cleanly: a last status update, CopyDone, and the
    /// rest of the server's output until the session is ready for commands
    /// again (e.g. `DROP_REPLICATION_SLOT`). Messages still in flight are
    /// discarded; they come again from the confirmed position next time.
    pub async fn stop(mut self) -> Result<ReplConnection, ReplError> {
        if self.ended {
            return Ok(self.conn);
        }
        if self.positions.flush > Lsn::ZERO {
            self.send_status(false).await?;
        }
        frontend::copy_done(&mut self.conn.wire.wbuf);
        self.conn.send("ending the stream").await?;
        loop {
            let f = self.conn.read("ending the stream").await?;
            match f.tag {
                b'd' | b'N' | b'S' => {}
                b'c' => break,
                // Some versions end the command without echoing CopyDone.
                b'C' | b'Z' => {
                    if f.tag == b'Z' {
                        return Ok(self.conn);
                    }
                    break;
                }
                b'E' => {
                    let n = ServerNotice::parse(f.body);
                    return Err(self.conn.server_error("the stream (START_REPLICATION)", n));
                }
                t => {
                    return Err(self.conn.protocol(
                        "ending the stream",
                        format!("unexpected message {:?}", t as char),
                    ))
                }
            }
        }
        self.finish_command().await?;
        Ok(self.conn)
    }

    /// Reads CommandComplete(s) up to ReadyForQuery.
    async fn finish_command(&mut self) -> Result<(), ReplError> {
        let mut error = None;
        loop {
            let f = self.conn.read("ending the stream").await?;
            match f.tag {
                b'Z' => break,
                b'E' => error = Some(ServerNotice::parse(f.body)),
                b'N' => log_notice(&self.conn.peer, f.body),
                _ => {}
            }
        }
        match error {
            Some(n) => Err(self.conn.server_error("the stream (START_REPLICATION)", n)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::ConnSpec;

    fn peer() -> super::super::connect::Peer {
        let env = |_: &str| None;
        super::super::connect::Peer::new(
            &ConnSpec::parse_with_env("host=h user=u password=hunter22", &env).unwrap(),
        )
    }

    #[test]
    fn start_command_per_version() {
        let o = PgOutputOptions::new(["pgferry"]);
        assert_eq!(
            o.start_command("s", "0/16B3748".parse().unwrap(), 100_023, &peer()).unwrap(),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/16B3748 (proto_version '1', publication_names '\"pgferry\"')"
        );
        let mut m = PgOutputOptions::new(["a", "My \"Pub\"", "it's"]);
        m.messages = true;
        assert_eq!(
            m.start_command("s", Lsn::ZERO, 140_000, &peer()).unwrap(),
            "START_REPLICATION SLOT \"s\" LOGICAL 0/0 (proto_version '1', publication_names '\"a\",\"My \"\"Pub\"\"\",\"it''s\"', messages 'true')"
        );
        let e = m
            .start_command("s", Lsn::ZERO, 130_011, &peer())
            .unwrap_err();
        assert!(e.to_string().contains("PostgreSQL 14"), "{e}");
        assert!(!e.to_string().contains("hunter22"), "{e}");
        assert!(PgOutputOptions::new(Vec::<String>::new())
            .start_command("s", Lsn::ZERO, 150_000, &peer())
            .is_err());
        assert!(PgOutputOptions::new(["x"])
            .start_command("S", Lsn::ZERO, 150_000, &peer())
            .is_err());
    }

    #[test]
    fn positions_only_move_forward() {
        let mut p = Positions::default();
        p.advance(Lsn(10), Lsn(5), Lsn(5));
        p.advance(Lsn(3), Lsn(7), Lsn(1));
        assert_eq!(
            p,
            Positions {
                write: Lsn(10),
                flush: Lsn(7),
                apply: Lsn(5)
            }
        );
    }
}
