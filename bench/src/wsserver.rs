//! Server side of the WebSocket framing (RFC 6455) for the benchmark's own servers: the upgrade
//! handshake, unmasked server frames, and parsing of the clients' masked frames.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wsframe::{find, payload_length, Frame};
use crate::Res;

/// GUID appended to the client key to compute Sec-WebSocket-Accept (RFC 6455, section 1.3).
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest accepted upgrade request head.
const MAX_HEAD: usize = 8192;

/// Reads the HTTP upgrade request and answers 101 with the matching Sec-WebSocket-Accept.
/// Returns the request head (the client sends nothing else before the answer).
pub async fn server_handshake(stream: &mut TcpStream) -> Res<String> {
    let mut req = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed during handshake".into());
        }
        req.extend_from_slice(&chunk[..n]);
        if let Some(p) = find(&req, b"\r\n\r\n") {
            break p + 4;
        }
        if req.len() > MAX_HEAD {
            return Err("handshake request too large".into());
        }
    };
    if req.len() != head_len {
        return Err("unexpected bytes after the upgrade request".into());
    }
    req.truncate(head_len);
    let head = String::from_utf8(req)?;
    let key = head
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim())
        .ok_or("missing Sec-WebSocket-Key")?;
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(resp.as_bytes()).await?;
    Ok(head)
}

/// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Writes the header of an unmasked, final frame of `opcode` with a payload of `len` bytes.
pub fn put_header(buf: &mut Vec<u8>, opcode: u8, len: usize) {
    buf.push(0x80 | opcode);
    if len < 126 {
        buf.push(len as u8);
    } else if len < 65536 {
        buf.push(126);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(127);
        buf.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// A complete masked client frame at the start of a buffer: `frame.header` includes the 4
/// bytes of the masking key, which precede the payload.
#[derive(Clone, Copy, Debug)]
pub struct ClientFrame {
    /// The frame's header and payload lengths.
    pub frame: Frame,
    /// The masking key.
    pub mask: [u8; 4],
}

/// Parses the client frame at the start of `buf`; `None` when it is not complete yet. Frames
/// whose payload exceeds `max_len` are an error.
pub fn parse_client_frame(buf: &[u8], max_len: usize) -> Result<Option<ClientFrame>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(format!("frame with reserved bits set: {b0:#04x}"));
    }
    if b1 & 0x80 == 0 {
        return Err("client frame is not masked".into());
    }
    let Some((len_end, len)) = payload_length(buf) else {
        return Ok(None);
    };
    let len = match usize::try_from(len) {
        Ok(len) if len <= max_len => len,
        _ => {
            return Err(format!(
                "frame of {len} bytes is over the {max_len}-byte limit"
            ))
        }
    };
    let header = len_end + 4;
    if buf.len() < header || buf.len() - header < len {
        return Ok(None);
    }
    let mut mask = [0u8; 4];
    mask.copy_from_slice(&buf[len_end..header]);
    Ok(Some(ClientFrame {
        frame: Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            header,
            len,
        },
        mask,
    }))
}

/// Removes the client's masking from `payload` in place.
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsframe::{put_client_frame, CLIENT_ACCEPT, CLIENT_KEY, OP_TEXT};

    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(accept_key(CLIENT_KEY), CLIENT_ACCEPT);
    }

    #[test]
    fn client_frames_round_trip() {
        let mut out = Vec::new();
        put_client_frame(&mut out, OP_TEXT, &[b'x'; 300], [9, 8, 7, 6]);
        assert!(parse_client_frame(&out[..5], 1000).unwrap().is_none());
        assert!(parse_client_frame(&out[..out.len() - 1], 1000)
            .unwrap()
            .is_none());
        let f = parse_client_frame(&out, 1000).unwrap().unwrap();
        assert_eq!(
            (f.frame.opcode, f.frame.header, f.frame.len),
            (OP_TEXT, 8, 300)
        );
        let payload = &mut out[f.frame.header..f.frame.total()];
        unmask(payload, f.mask);
        assert!(payload.iter().all(|&b| b == b'x'));
        assert!(parse_client_frame(&out, 299).is_err());
        assert!(parse_client_frame(&[0x81, 0x05], 1000).is_err());
    }

    #[test]
    fn server_headers_encode_lengths() {
        let mut out = Vec::new();
        put_header(&mut out, OP_TEXT, 5);
        put_header(&mut out, OP_TEXT, 300);
        put_header(&mut out, OP_TEXT, 70_000);
        assert_eq!(
            out,
            [0x81, 5, 0x81, 126, 1, 44, 0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        );
    }
}
