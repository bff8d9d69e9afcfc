//! Decoder tests: hand-built frames for every message kind, malformed and
//! random frames, and golden frames captured from real servers.

use super::*;

fn decode(d: &mut PgOutputDecoder, bytes: &[u8]) -> Result<PgOutputMessage, DecodeError> {
    d.decode(Bytes::copy_from_slice(bytes))
}
