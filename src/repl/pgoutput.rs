//! Decoder for the `pgoutput` logical replication protocol, version 1 (the
//! only version PostgreSQL 10 speaks, and what we ask every version for).
//!
//! Values stay exactly as the server rendered them (text output of each
//! type, under the session settings pinned at start-up), so the apply side
//! can bind them as text parameters without a type-by-type conversion. A
//! relation cache turns the relation ids of row messages into column names,
//! type oids and key flags.
//!
//! Input is untrusted: every read is bounds-checked and a bad message gives
//! a [`DecodeError`] naming the message and what was wrong, never a panic.

use super::wire::{Body, BodyError};
use super::{Lsn, PgTimestamp};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// One decoded pgoutput message.
#[derive(Debug, Clone, PartialEq)]
pub enum PgOutputMessage {
    Begin(Begin),
    Commit(Commit),
    Origin(Origin),
    /// A relation's description; sent before its first row in each session
    /// and again after its definition changes.
    Relation(Arc<Relation>),
    /// A user-defined type used by a relation column.
    Type(TypeInfo),
    Insert {
        relation: Arc<Relation>,
        new: Tuple,
    },
    Update {
        relation: Arc<Relation>,
        /// The old key (`K`: only when the key changed, non-key columns are
        /// `Null` placeholders) or the whole old row (`O`, identity FULL).
        old: Option<OldTuple>,
        new: Tuple,
    },
    Delete {
        relation: Arc<Relation>,
        old: OldTuple,
    },
    /// PostgreSQL 11+.
    Truncate {
        relations: Vec<Arc<Relation>>,
        cascade: bool,
        restart_identity: bool,
    },
    /// A logical decoding message (`pg_logical_emit_message`), PostgreSQL
    /// 14+ and only with the `messages` option.
    Message(LogicalMessage),
}

impl PgOutputMessage {
    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            PgOutputMessage::Begin(_) => "Begin",
            PgOutputMessage::Commit(_) => "Commit",
            PgOutputMessage::Origin(_) => "Origin",
            PgOutputMessage::Relation(_) => "Relation",
            PgOutputMessage::Type(_) => "Type",
            PgOutputMessage::Insert { .. } => "Insert",
            PgOutputMessage::Update { .. } => "Update",
            PgOutputMessage::Delete { .. } => "Delete",
            PgOutputMessage::Truncate { .. } => "Truncate",
            PgOutputMessage::Message(_) => "Message",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begin {
    /// The LSN of the transaction's commit record (= [`Commit::commit_lsn`]).
    pub final_lsn: Lsn,
    pub commit_time: PgTimestamp,
    pub xid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub flags: u8,
    /// The commit record's position.
    pub commit_lsn: Lsn,
    /// The end of the commit record: confirm this once the transaction is
    /// safely stored, and a restart resumes after it.
    pub end_lsn: Lsn,
    pub commit_time: PgTimestamp,
}

/// The transaction came from another node (replication origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub commit_lsn: Lsn,
    pub name: String,
}

/// `pg_class.relreplident`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaIdentity {
    /// The primary key.
    Default,
    Nothing,
    /// All columns.
    Full,
    /// A chosen unique index (`USING INDEX`).
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub id: u32,
    pub namespace: String,
    pub name: String,
    pub replica_identity: ReplicaIdentity,
    /// The published columns, in the order tuples carry them.
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
    pub type_modifier: i32,
    /// Part of the replica identity key.
    pub is_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeInfo {
    pub oid: u32,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalMessage {
    pub transactional: bool,
    pub lsn: Lsn,
    pub prefix: String,
    pub content: Bytes,
}

/// One row image, one value per relation column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple(pub Vec<Value>);

/// Which old image an Update or Delete carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTuple {
    /// `K`: the replica identity key columns; the others are `Null`
    /// placeholders, not real NULLs.
    Key(Tuple),
    /// `O`: the whole old row (REPLICA IDENTITY FULL).
    Full(Tuple),
}

impl OldTuple {
    pub fn tuple(&self) -> &Tuple {
        match self {
            OldTuple::Key(t) | OldTuple::Full(t) => t,
        }
    }
}

/// One column value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    /// The value is an unchanged TOASTed datum and was not sent: keep the
    /// target's current value.
    UnchangedToast,
    /// The type's text output.
    Text(String),
    /// The type's binary send form (only with the `binary` option, which
    /// pgferry does not request).
    Binary(Bytes),
}

impl Value {
    /// The text, for `Text` values.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Why a pgoutput message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty pgoutput message")]
    Empty,
    #[error("unknown pgoutput message type {0:?}")]
    UnknownMessage(char),
    #[error("{message} message is malformed: {problem}")]
    Malformed {
        message: &'static str,
        problem: String,
    },
    #[error("{message} message refers to relation {id}, which no Relation message described")]
    UnknownRelation { message: &'static str, id: u32 },
}

/// Decodes pgoutput messages and keeps the relation cache they need. One
/// per stream; memory grows with the number of relations, not of rows.
#[derive(Debug, Default, Clone)]
pub struct PgOutputDecoder {
    relations: HashMap<u32, Arc<Relation>>,
}

impl PgOutputDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached description of a relation.
    pub fn relation(&self, id: u32) -> Option<&Arc<Relation>> {
        self.relations.get(&id)
    }

    /// Decodes one XLogData payload. Relation messages update the cache.
    pub fn decode(&mut self, data: Bytes) -> Result<PgOutputMessage, DecodeError> {
        let mut b = Body::new(data);
        let tag = b.u8().map_err(|_| DecodeError::Empty)?;
        let (name, msg) = match tag {
            b'B' => ("Begin", self.begin(&mut b)),
            b'C' => ("Commit", self.commit(&mut b)),
            b'O' => ("Origin", self.origin(&mut b)),
            b'R' => ("Relation", self.relation_message(&mut b)),
            b'Y' => ("Type", self.type_message(&mut b)),
            b'I' => ("Insert", self.insert(&mut b)),
            b'U' => ("Update", self.update(&mut b)),
            b'D' => ("Delete", self.delete(&mut b)),
            b'T' => ("Truncate", self.truncate(&mut b)),
            b'M' => ("Message", self.logical_message(&mut b)),
            t => return Err(DecodeError::UnknownMessage(t as char)),
        };
        let msg = msg.map_err(|e| e.into_decode(name))?;
        if b.remaining() != 0 {
            return Err(DecodeError::Malformed {
                message: name,
                problem: format!("{} bytes left over at the end", b.remaining()),
            });
        }
        Ok(msg)
    }

    fn begin(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        Ok(PgOutputMessage::Begin(Begin {
            final_lsn: Lsn(b.u64()?),
            commit_time: PgTimestamp(b.i64()?),
            xid: b.u32()?,
        }))
    }

    fn commit(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        Ok(PgOutputMessage::Commit(Commit {
            flags: b.u8()?,
            commit_lsn: Lsn(b.u64()?),
            end_lsn: Lsn(b.u64()?),
            commit_time: PgTimestamp(b.i64()?),
        }))
    }

    fn origin(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        Ok(PgOutputMessage::Origin(Origin {
            commit_lsn: Lsn(b.u64()?),
            name: b.cstr()?,
        }))
    }

    fn relation_message(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let id = b.u32()?;
        let namespace = b.cstr()?;
        let name = b.cstr()?;
        let replica_identity = match b.u8()? {
            b'd' => ReplicaIdentity::Default,
            b'n' => ReplicaIdentity::Nothing,
            b'f' => ReplicaIdentity::Full,
            b'i' => ReplicaIdentity::Index,
            other => {
                return Err(Problem::Text(format!(
                    "unknown replica identity {:?}",
                    other as char
                )))
            }
        };
        let n = b.i16()?;
        let n =
            usize::try_from(n).map_err(|_| Problem::Text(format!("negative column count {n}")))?;
        let mut columns = Vec::with_capacity(n.min(1600));
        for _ in 0..n {
            let flags = b.u8()?;
            columns.push(Column {
                is_key: flags & 1 != 0,
                name: b.cstr()?,
                type_oid: b.u32()?,
                type_modifier: b.i32()?,
            });
        }
        let rel = Arc::new(Relation {
            id,
            namespace,
            name,
            replica_identity,
            columns,
        });
        self.relations.insert(id, Arc::clone(&rel));
        Ok(PgOutputMessage::Relation(rel))
    }

    fn type_message(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        Ok(PgOutputMessage::Type(TypeInfo {
            oid: b.u32()?,
            namespace: b.cstr()?,
            name: b.cstr()?,
        }))
    }

    fn lookup(&self, b: &mut Body) -> Result<Arc<Relation>, Problem> {
        let id = b.u32()?;
        self.relations
            .get(&id)
            .cloned()
            .ok_or(Problem::UnknownRelation(id))
    }

    fn insert(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let relation = self.lookup(b)?;
        expect_byte(b, b'N', "the new tuple marker 'N'")?;
        let new = tuple(b, &relation)?;
        Ok(PgOutputMessage::Insert { relation, new })
    }

    fn update(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let relation = self.lookup(b)?;
        let old = match b.u8()? {
            b'K' => {
                let t = tuple(b, &relation)?;
                expect_byte(b, b'N', "the new tuple marker 'N' after the old key")?;
                Some(OldTuple::Key(t))
            }
            b'O' => {
                let t = tuple(b, &relation)?;
                expect_byte(b, b'N', "the new tuple marker 'N' after the old row")?;
                Some(OldTuple::Full(t))
            }
            b'N' => None,
            other => {
                return Err(Problem::Text(format!(
                    "expected 'K', 'O' or 'N', found {:?}",
                    other as char
                )))
            }
        };
        let new = tuple(b, &relation)?;
        Ok(PgOutputMessage::Update { relation, old, new })
    }

    fn delete(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let relation = self.lookup(b)?;
        let old = match b.u8()? {
            b'K' => OldTuple::Key(tuple(b, &relation)?),
            b'O' => OldTuple::Full(tuple(b, &relation)?),
            other => {
                return Err(Problem::Text(format!(
                    "expected 'K' or 'O', found {:?}",
                    other as char
                )))
            }
        };
        Ok(PgOutputMessage::Delete { relation, old })
    }

    fn truncate(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let n = b.i32()?;
        let n = usize::try_from(n)
            .map_err(|_| Problem::Text(format!("negative relation count {n}")))?;
        let options = b.u8()?;
        // Check the length before allocating: n comes from the wire.
        if b.remaining() < n.saturating_mul(4) {
            return Err(Problem::Body(BodyError::Truncated));
        }
        let mut relations = Vec::with_capacity(n);
        for _ in 0..n {
            relations.push(self.lookup(b)?);
        }
        Ok(PgOutputMessage::Truncate {
            relations,
            cascade: options & 1 != 0,
            restart_identity: options & 2 != 0,
        })
    }

    fn logical_message(&mut self, b: &mut Body) -> Result<PgOutputMessage, Problem> {
        let flags = b.u8()?;
        Ok(PgOutputMessage::Message(LogicalMessage {
            transactional: flags & 1 != 0,
            lsn: Lsn(b.u64()?),
            prefix: b.cstr()?,
            content: b.counted()?,
        }))
    }
}

/// A TupleData block; its column count must match the relation's.
fn tuple(b: &mut Body, relation: &Relation) -> Result<Tuple, Problem> {
    let n = b.i16()?;
    if usize::try_from(n).ok() != Some(relation.columns.len()) {
        return Err(Problem::Text(format!(
            "tuple has {n} columns but relation {}.{} has {}",
            relation.namespace,
            relation.name,
            relation.columns.len()
        )));
    }
    let mut values = Vec::with_capacity(relation.columns.len());
    for col in &relation.columns {
        let v = match b.u8()? {
            b'n' => Value::Null,
            b'u' => Value::UnchangedToast,
            b't' => {
                let raw = b.counted()?;
                Value::Text(String::from_utf8(raw.to_vec()).map_err(|_| {
                    Problem::Text(format!("value of column {} is not valid UTF-8", col.name))
                })?)
            }
            b'b' => Value::Binary(b.counted()?),
            other => {
                return Err(Problem::Text(format!(
                    "unknown tuple data kind {:?} for column {}",
                    other as char, col.name
                )))
            }
        };
        values.push(v);
    }
    Ok(Tuple(values))
}

fn expect_byte(b: &mut Body, want: u8, what: &str) -> Result<(), Problem> {
    let got = b.u8()?;
    if got == want {
        Ok(())
    } else {
        Err(Problem::Text(format!(
            "expected {what}, found {:?}",
            got as char
        )))
    }
}

/// What went wrong inside one message, before we know its name.
enum Problem {
    Body(BodyError),
    Text(String),
    UnknownRelation(u32),
}

impl From<BodyError> for Problem {
    fn from(e: BodyError) -> Self {
        Problem::Body(e)
    }
}

impl Problem {
    fn into_decode(self, message: &'static str) -> DecodeError {
        match self {
            Problem::Body(e) => DecodeError::Malformed {
                message,
                problem: e.to_string(),
            },
            Problem::Text(problem) => DecodeError::Malformed { message, problem },
            Problem::UnknownRelation(id) => DecodeError::UnknownRelation { message, id },
        }
    }
}

#[cfg(test)]
#[path = "pgoutput_tests.rs"]
mod tests;
