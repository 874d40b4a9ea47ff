//! WebSocket frames (RFC 6455 §5): parsing client frames out of a read buffer and writing
//! server frames into a write buffer.

use bytes::{Buf, Bytes, BytesMut};

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// Close codes this server sends.
pub(crate) const CLOSE_NORMAL: u16 = 1000;
pub(crate) const CLOSE_PROTOCOL: u16 = 1002;
pub(crate) const CLOSE_INVALID_DATA: u16 = 1007;
pub(crate) const CLOSE_TOO_BIG: u16 = 1009;

/// Why the WebSocket connection must end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WsError {
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    #[error("message over max_payload")]
    TooBig,
    #[error("text message is not UTF-8")]
    InvalidUtf8,
    #[error("connection closed by the peer")]
    Eof,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl WsError {
    /// The close code to send for this error, if the connection can still carry one.
    pub(crate) fn close_code(&self) -> Option<u16> {
        match self {
            WsError::Protocol(_) => Some(CLOSE_PROTOCOL),
            WsError::TooBig => Some(CLOSE_TOO_BIG),
            WsError::InvalidUtf8 => Some(CLOSE_INVALID_DATA),
            WsError::Eof | WsError::Io(_) => None,
        }
    }
}

/// One frame from a client, unmasked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawFrame {
    pub(crate) fin: bool,
    pub(crate) rsv1: bool,
    pub(crate) opcode: u8,
    pub(crate) payload: Bytes,
}

/// Takes one complete frame off the front of `buf`, or returns `None` when more bytes are
/// needed. Room for the rest of a frame is reserved as its bytes arrive, at most as much again as
/// has arrived: a header alone never makes the connection hold its whole declared length.
pub(crate) fn parse(buf: &mut BytesMut, max_payload: usize) -> Result<Option<RawFrame>, WsError> {
    let [b0, b1, ..] = buf[..] else {
        return Ok(None);
    };
    if b0 & 0x30 != 0 {
        return Err(WsError::Protocol("reserved bits set"));
    }
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    let opcode = b0 & 0x0F;
    if b1 & 0x80 == 0 {
        return Err(WsError::Protocol("client frame not masked"));
    }
    let (len, header) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match buf
            .get(2..10)
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        {
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        len => (u64::from(len), 2),
    };
    if opcode >= OP_CLOSE && (len > 125 || !fin) {
        return Err(WsError::Protocol("fragmented or oversized control frame"));
    }
    let len = usize::try_from(len).map_err(|_| WsError::TooBig)?;
    if len > max_payload {
        return Err(WsError::TooBig);
    }
    let total = header + 4 + len;
    if buf.len() < total {
        buf.reserve((total - buf.len()).min(buf.len()));
        return Ok(None);
    }
    let mut mask = [0u8; 4];
    mask.copy_from_slice(&buf[header..header + 4]);
    buf.advance(header + 4);
    let mut payload = buf.split_to(len);
    unmask(&mut payload, mask);
    Ok(Some(RawFrame {
        fin,
        rsv1,
        opcode,
        payload: payload.freeze(),
    }))
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// The size of a server frame header for a payload of `len` bytes.
pub(crate) fn header_len(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    }
}

/// Appends one unmasked, final server frame.
pub(crate) fn write(out: &mut Vec<u8>, opcode: u8, rsv1: bool, payload: &[u8]) {
    out.reserve(header_len(payload.len()) + payload.len());
    out.push(0x80 | if rsv1 { 0x40 } else { 0 } | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(len as u8),
        len @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a close frame with a status code.
pub(crate) fn write_close(out: &mut Vec<u8>, code: u16) {
    write(out, OP_CLOSE, false, &code.to_be_bytes());
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A masked client frame, as a browser would send it.
    pub(crate) fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn parses_frames_of_every_length_class() {
        for len in [0usize, 1, 7, 8, 125, 126, 65535, 65536, 200_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut buf = BytesMut::from(&client_frame(true, OP_BINARY, &payload)[..]);
            let frame = parse(&mut buf, 1 << 20).unwrap().unwrap();
            assert_eq!(frame.payload, payload, "len {len}");
            assert!(frame.fin);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn waits_for_incomplete_frames() {
        let bytes = client_frame(true, OP_TEXT, b"hello world");
        for cut in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            assert_eq!(parse(&mut buf, 1000).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn a_header_alone_reserves_no_more_than_has_arrived() {
        let declared = 900_000usize;
        let header = client_frame(true, OP_BINARY, &vec![0u8; declared]);
        // The 10-byte header, the mask and a few payload bytes of a frame declaring 900 kB.
        let mut buf = BytesMut::from(&header[..20]);
        assert_eq!(parse(&mut buf, 1 << 20).unwrap(), None);
        assert!(buf.capacity() <= 2 * 20, "reserved {}", buf.capacity());
        // The rest arriving grows it with what came, and the frame parses once whole.
        buf.extend_from_slice(&header[20..]);
        let frame = parse(&mut buf, 1 << 20).unwrap().unwrap();
        assert_eq!(frame.payload.len(), declared);
    }

    #[test]
    fn rejects_bad_frames() {
        let unmasked = [0x81u8, 0x02, b'h', b'i'];
        let reserved = [0xB1u8, 0x80, 0, 0, 0, 0];
        let long_ping = client_frame(true, OP_PING, &[0u8; 126]);
        let fragmented_close = client_frame(false, OP_CLOSE, b"");
        let too_big = client_frame(true, OP_TEXT, &[b'a'; 101]);
        let huge_len = [
            0x82u8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
        ];
        let cases: [(&[u8], &str); 6] = [
            (&unmasked, "unmasked"),
            (&reserved, "reserved bits"),
            (&long_ping, "long ping"),
            (&fragmented_close, "fragmented close"),
            (&too_big, "over max"),
            (&huge_len, "64-bit length"),
        ];
        for (bytes, name) in cases {
            let mut buf = BytesMut::from(bytes);
            assert!(parse(&mut buf, 100).is_err(), "{name}");
        }
    }

    #[test]
    fn writes_frames_a_client_can_read() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            write(&mut out, OP_TEXT, false, &payload);
            assert_eq!(out[0], 0x81);
            assert_eq!(out.len(), header_len(len) + len);
            let mut client_view = out.clone();
            client_view[1] |= 0x80;
            let masked_len = header_len(len);
            client_view.splice(masked_len..masked_len, [0u8; 4]);
            let parsed = parse(&mut BytesMut::from(&client_view[..]), 1 << 20)
                .unwrap()
                .unwrap();
            assert_eq!(parsed.payload.len(), len);
        }
    }
}
