//! Client side of the WebSocket framing (RFC 6455): the upgrade request, masked client frames,
//! and parsing of the server's unmasked frames.

/// Fixed client key and the accept value the server must answer with (the RFC 6455 example).
pub const CLIENT_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The `Sec-WebSocket-Accept` value the server must answer [`CLIENT_KEY`] with.
pub const CLIENT_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// The HTTP request that opens an Engine.IO v4 WebSocket session.
pub fn upgrade_request(host: &str) -> String {
    format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {CLIENT_KEY}\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Checks the head of the upgrade response (up to the blank line).
pub fn check_upgrade_response(head: &[u8]) -> Result<(), String> {
    let head = std::str::from_utf8(head).map_err(|_| "upgrade response is not UTF-8")?;
    let ok = head.starts_with("HTTP/1.1 101")
        && head.lines().any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("sec-websocket-accept")
                    && value.trim() == CLIENT_ACCEPT
            })
        });
    if ok {
        Ok(())
    } else {
        let first = head.lines().next().unwrap_or("");
        Err(format!("bad upgrade response: {first}"))
    }
}

/// A complete server frame at the start of a buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Whether this is the final frame of a message.
    pub fin: bool,
    /// The opcode (`OP_*`).
    pub opcode: u8,
    /// Header length: the payload starts at this offset.
    pub header: usize,
    /// Payload length.
    pub len: usize,
}

impl Frame {
    /// Header plus payload.
    pub fn total(&self) -> usize {
        self.header + self.len
    }
}

/// Parses the frame at the start of `buf`; `None` when it is not complete yet.
pub fn parse_server_frame(buf: &[u8]) -> Result<Option<Frame>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(format!("frame with reserved bits set: {b0:#04x}"));
    }
    if b1 & 0x80 != 0 {
        return Err("server frame is masked".into());
    }
    let Some((header, len)) = payload_length(buf) else {
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|e| e.to_string())?;
    if buf.len() - header < len {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0f,
        header,
        len,
    }))
}

/// The payload length of the frame at the start of `buf` (at least its 2 first bytes) and where
/// the length field ends; `None` when the extended length is not complete yet.
pub fn payload_length(buf: &[u8]) -> Option<(usize, u64)> {
    match buf[1] & 0x7f {
        126 => Some((
            4,
            u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
        )),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            Some((10, u64::from_be_bytes(bytes)))
        }
        n => Some((2, u64::from(n))),
    }
}

/// Appends a final, masked client frame with `payload`.
pub fn put_client_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len < 65536 {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    for (i, b) in out[start..].iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_masked_and_lengths_encoded() {
        let mut out = Vec::new();
        put_client_frame(&mut out, OP_TEXT, b"40", [1, 2, 3, 4]);
        assert_eq!(out, [0x81, 0x82, 1, 2, 3, 4, b'4' ^ 1, b'0' ^ 2]);
        let mut out = Vec::new();
        put_client_frame(&mut out, OP_TEXT, &[0u8; 300], [0; 4]);
        assert_eq!(&out[..4], &[0x81, 0x80 | 126, 1, 44]);
        assert_eq!(out.len(), 4 + 4 + 300);
    }

    #[test]
    fn server_frames_parse_incrementally() {
        let frame = [0x81, 3, b'4', b'2', b'x'];
        assert!(parse_server_frame(&frame[..1]).unwrap().is_none());
        assert!(parse_server_frame(&frame[..4]).unwrap().is_none());
        let f = parse_server_frame(&frame).unwrap().unwrap();
        assert_eq!((f.fin, f.opcode, f.header, f.len), (true, OP_TEXT, 2, 3));
        let mut long = vec![0x81, 126, 1, 0];
        long.resize(4 + 256, b'a');
        assert_eq!(parse_server_frame(&long).unwrap().unwrap().len, 256);
        assert!(parse_server_frame(&[0x81, 0x85]).is_err());
    }

    #[test]
    fn upgrade_response_needs_the_accept_value() {
        let good = format!(
            "HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept: {CLIENT_ACCEPT}\r\n"
        );
        assert!(check_upgrade_response(good.as_bytes()).is_ok());
        assert!(check_upgrade_response(b"HTTP/1.1 400 Bad Request\r\n").is_err());
    }
}
