//! Message framing on the socket, and parsing of the few backend messages a
//! replication session sees.
//!
//! We frame backend messages ourselves because postgres-protocol's parser
//! rejects CopyBothResponse (`W`), which every `START_REPLICATION` answers
//! with; frontend messages are still encoded by postgres-protocol. Every
//! parser here works on untrusted bytes and returns an error instead of
//! panicking.

use bytes::{Buf, Bytes, BytesMut};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The socket: TCP, unix or TLS, behind one object.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Largest backend message we accept. The server builds each message in one
/// buffer limited to 1 GB (MaxAllocSize); anything longer is garbage, and
/// refusing it keeps a corrupt length from making us allocate gigabytes.
pub(crate) const MAX_MESSAGE: usize = (1 << 30) + (1 << 20);

/// One backend message: its type byte and its body (without the length).
#[derive(Debug)]
pub(crate) struct Frame {
    pub tag: u8,
    pub body: Bytes,
}

/// A buffered, message-framed connection.
pub(crate) struct Wire {
    io: Box<dyn Io>,
    rbuf: BytesMut,
    /// Frontend messages are encoded here and sent by [`Wire::flush`].
    pub wbuf: BytesMut,
}

impl Wire {
    pub fn new(io: Box<dyn Io>) -> Wire {
        Wire {
            io,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(1024),
        }
    }

    /// The next message, or `None` when the server closed the socket
    /// between messages. Cancel-safe: bytes already read stay buffered, so
    /// it can sit in a `select!` next to a timer.
    pub async fn read_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(f) = split_frame(&mut self.rbuf)? {
                return Ok(Some(f));
            }
            let n = self.io.read_buf(&mut self.rbuf).await?;
            if n == 0 {
                return if self.rbuf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection in the middle of a message",
                    ))
                };
            }
        }
    }

    /// Sends everything encoded into `wbuf`. Cancel-safe: bytes are removed
    /// from `wbuf` only once written, so an interrupted flush resumes where
    /// it stopped instead of leaving half a message on the wire.
    pub async fn flush(&mut self) -> io::Result<()> {
        while !self.wbuf.is_empty() {
            let n = self.io.write(&self.wbuf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the connection accepts no more data",
                ));
            }
            self.wbuf.advance(n);
        }
        self.io.flush().await
    }

    /// Reads exactly one byte (the answer to SSLRequest, which is not framed).
    pub async fn read_byte(&mut self) -> io::Result<u8> {
        if self.rbuf.has_remaining() {
            // The server must not send anything before answering SSLRequest:
            // bytes here could be injected by a man in the middle (CVE-2021-23222).
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected data before the SSL answer",
            ));
        }
        self.io.read_u8().await
    }

    /// Takes the socket back (to wrap it in TLS). Fails if the server sent
    /// bytes we have not consumed, for the same reason as `read_byte`.
    pub fn into_io(self) -> io::Result<Box<dyn Io>> {
        if !self.rbuf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected data after the SSL answer",
            ));
        }
        Ok(self.io)
    }

    /// Best-effort Terminate and shutdown, for a polite close.
    pub async fn terminate(mut self) {
        postgres_protocol::message::frontend::terminate(&mut self.wbuf);
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
    }
}

/// Splits one complete message off the front of `buf`, if there is one.
fn split_frame(buf: &mut BytesMut) -> io::Result<Option<Frame>> {
    let Some(&[tag, l0, l1, l2, l3]) = buf.get(..5) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    if len < 4 {
        return Err(invalid(format!("message length {len} is below 4")));
    }
    if len > MAX_MESSAGE {
        return Err(invalid(format!(
            "message of {len} bytes (type {:?}) exceeds the 1 GB protocol limit",
            tag as char
        )));
    }
    let total = len + 1;
    if buf.len() < total {
        buf.reserve(total - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(total);
    frame.advance(5);
    Ok(Some(Frame {
        tag,
        body: frame.freeze(),
    }))
}

pub(crate) fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A bounds-checked reader over a message body.
pub(crate) struct Body {
    buf: Bytes,
}

/// A message body ended early or held something invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("message truncated")]
    Truncated,
    #[error("string is not terminated")]
    Unterminated,
    #[error("string is not valid UTF-8")]
    Utf8,
    #[error("negative length {0}")]
    NegativeLength(i32),
}

impl Body {
    pub fn new(buf: Bytes) -> Body {
        Body { buf }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    pub fn u8(&mut self) -> Result<u8, BodyError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }
    pub fn i16(&mut self) -> Result<i16, BodyError> {
        self.need(2)?;
        Ok(self.buf.get_i16())
    }
    pub fn i32(&mut self) -> Result<i32, BodyError> {
        self.need(4)?;
        Ok(self.buf.get_i32())
    }
    pub fn u32(&mut self) -> Result<u32, BodyError> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }
    pub fn u64(&mut self) -> Result<u64, BodyError> {
        self.need(8)?;
        Ok(self.buf.get_u64())
    }
    pub fn i64(&mut self) -> Result<i64, BodyError> {
        self.need(8)?;
        Ok(self.buf.get_i64())
    }
    /// `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<Bytes, BodyError> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }
    /// An Int32 length then that many bytes (`-1` is not allowed here).
    pub fn counted(&mut self) -> Result<Bytes, BodyError> {
        let n = self.i32()?;
        let n = usize::try_from(n).map_err(|_| BodyError::NegativeLength(n))?;
        self.bytes(n)
    }
    /// Everything left.
    pub fn rest(&mut self) -> Bytes {
        self.buf.split_off(0)
    }
    /// A NUL-terminated UTF-8 string.
    pub fn cstr(&mut self) -> Result<String, BodyError> {
        let end = self
            .buf
            .iter()
            .position(|b| *b == 0)
            .ok_or(BodyError::Unterminated)?;
        let s = self.buf.split_to(end);
        self.buf.advance(1);
        String::from_utf8(s.to_vec()).map_err(|_| BodyError::Utf8)
    }
    fn need(&self, n: usize) -> Result<(), BodyError> {
        if self.buf.len() < n {
            Err(BodyError::Truncated)
        } else {
            Ok(())
        }
    }
}

/// The fields of an ErrorResponse or NoticeResponse that we show.
#[derive(Debug, Default, Clone)]
pub(crate) struct ServerNotice {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl ServerNotice {
    /// Parses the body; unknown fields are skipped, a broken body still
    /// yields what could be read (an error report must not get lost).
    pub fn parse(body: Bytes) -> ServerNotice {
        let mut n = ServerNotice::default();
        let mut b = Body::new(body);
        while let Ok(kind) = b.u8() {
            if kind == 0 {
                break;
            }
            let Ok(value) = b.cstr() else { break };
            match kind {
                b'V' => n.severity = value,
                b'S' if n.severity.is_empty() => n.severity = value,
                b'C' => n.code = value,
                b'M' => n.message = value,
                b'D' => n.detail = Some(value),
                b'H' => n.hint = Some(value),
                _ => {}
            }
        }
        if n.message.is_empty() {
            n.message = "(no message)".into();
        }
        n
    }

    /// `; DETAIL: ...; HINT: ...` (empty when neither was sent).
    pub fn extra(&self) -> String {
        let mut s = String::new();
        if let Some(d) = &self.detail {
            s.push_str("; DETAIL: ");
            s.push_str(d);
        }
        if let Some(h) = &self.hint {
            s.push_str("; HINT: ");
            s.push_str(h);
        }
        s
    }
}

/// A RowDescription: column names only (replication commands return text).
pub(crate) fn parse_row_description(body: Bytes) -> Result<Vec<String>, BodyError> {
    let mut b = Body::new(body);
    let n = b.i16()?;
    let mut names = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1024));
    for _ in 0..n {
        names.push(b.cstr()?);
        // table oid, column number, type oid, type size, type modifier, format
        b.bytes(4 + 2 + 4 + 2 + 4 + 2)?;
    }
    Ok(names)
}

/// A DataRow in text format.
pub(crate) fn parse_data_row(body: Bytes) -> Result<Vec<Option<String>>, BodyError> {
    let mut b = Body::new(body);
    let n = b.i16()?;
    let mut values = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1024));
    for _ in 0..n {
        let len = b.i32()?;
        if len == -1 {
            values.push(None);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| BodyError::NegativeLength(len))?;
        let raw = b.bytes(len)?;
        values.push(Some(
            String::from_utf8(raw.to_vec()).map_err(|_| BodyError::Utf8)?,
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_only_when_complete() {
        let mut buf = BytesMut::from(&b"Z\0\0\0\x05I"[..5]);
        assert!(split_frame(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"I");
        let f = split_frame(&mut buf).unwrap().unwrap();
        assert_eq!(f.tag, b'Z');
        assert_eq!(&f.body[..], b"I");
        assert!(buf.is_empty());
    }

    #[test]
    fn bad_lengths_are_errors() {
        let mut short = BytesMut::from(&b"Z\0\0\0\x03"[..]);
        assert!(split_frame(&mut short).is_err());
        let mut huge = BytesMut::from(&b"w\x7f\xff\xff\xff"[..]);
        let e = split_frame(&mut huge).unwrap_err();
        assert!(e.to_string().contains("1 GB"), "{e}");
    }

    #[test]
    fn notice_fields_and_broken_notice() {
        let n = ServerNotice::parse(Bytes::from_static(
            b"SERROR\0VERROR\0C42704\0Mslot \"x\" does not exist\0Hcreate it\0\0",
        ));
        assert_eq!(n.code, "42704");
        assert_eq!(n.severity, "ERROR");
        assert_eq!(n.message, "slot \"x\" does not exist");
        assert_eq!(n.extra(), "; HINT: create it");
        let broken = ServerNotice::parse(Bytes::from_static(b"C42704\0Mno termin"));
        assert_eq!(broken.code, "42704");
        assert_eq!(broken.message, "(no message)");
    }

    #[test]
    fn rows_parse_and_truncation_is_an_error() {
        let row = Bytes::from_static(b"\0\x02\0\0\0\x02ab\xff\xff\xff\xff");
        assert_eq!(
            parse_data_row(row).unwrap(),
            vec![Some("ab".to_string()), None]
        );
        let cut = Bytes::from_static(b"\0\x02\0\0\0\x09ab");
        assert_eq!(parse_data_row(cut), Err(BodyError::Truncated));
        let neg = Bytes::from_static(b"\0\x01\xff\xff\xff\xfe");
        assert_eq!(parse_data_row(neg), Err(BodyError::NegativeLength(-2)));
        let desc = Bytes::from_static(
            b"\0\x01slot_name\0\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0",
        );
        assert_eq!(parse_row_description(desc).unwrap(), vec!["slot_name"]);
    }
}
