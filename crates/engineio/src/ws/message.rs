//! Reassembles client frames into whole messages (fragmentation, compression, UTF-8).

use bytes::{Bytes, BytesMut};

use super::deflate::Deflate;
use super::frame::{
    RawFrame, WsError, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};

/// A complete message or control frame from the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WsMessage {
    Text(String),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    Close,
}

/// The message being reassembled from fragments.
#[derive(Default)]
pub(crate) struct Assembler {
    /// The opcode of the fragmented message in progress, if any.
    opcode: Option<u8>,
    compressed: bool,
    parts: BytesMut,
}

impl Assembler {
    pub(crate) fn push(
        &mut self,
        frame: RawFrame,
        deflate: Option<&mut Deflate>,
        max_payload: usize,
    ) -> Result<Option<WsMessage>, WsError> {
        match frame.opcode {
            OP_PING => Ok(Some(WsMessage::Ping(frame.payload))),
            OP_PONG => Ok(Some(WsMessage::Pong)),
            OP_CLOSE => Ok(Some(WsMessage::Close)),
            OP_TEXT | OP_BINARY => {
                if self.opcode.is_some() {
                    return Err(WsError::Protocol("new message inside a fragmented one"));
                }
                if frame.rsv1 && deflate.is_none() {
                    return Err(WsError::Protocol(
                        "compressed frame without permessage-deflate",
                    ));
                }
                if frame.fin {
                    return finish(
                        frame.opcode,
                        frame.rsv1,
                        frame.payload,
                        deflate,
                        max_payload,
                    )
                    .map(Some);
                }
                self.opcode = Some(frame.opcode);
                self.compressed = frame.rsv1;
                self.parts.extend_from_slice(&frame.payload);
                Ok(None)
            }
            OP_CONTINUATION => {
                let Some(opcode) = self.opcode else {
                    return Err(WsError::Protocol("continuation frame without a message"));
                };
                if frame.rsv1 {
                    return Err(WsError::Protocol("compression bit on a continuation frame"));
                }
                if self.parts.len() + frame.payload.len() > max_payload {
                    return Err(WsError::TooBig);
                }
                self.parts.extend_from_slice(&frame.payload);
                if !frame.fin {
                    return Ok(None);
                }
                self.opcode = None;
                let payload = self.parts.split().freeze();
                finish(opcode, self.compressed, payload, deflate, max_payload).map(Some)
            }
            _ => Err(WsError::Protocol("unknown opcode")),
        }
    }
}

fn finish(
    opcode: u8,
    compressed: bool,
    payload: Bytes,
    deflate: Option<&mut Deflate>,
    max_payload: usize,
) -> Result<WsMessage, WsError> {
    let payload = match (compressed, deflate) {
        (true, Some(deflate)) => Bytes::from(deflate.decompress(&payload, max_payload)?),
        _ => payload,
    };
    if opcode == OP_TEXT {
        let text = std::str::from_utf8(&payload).map_err(|_| WsError::InvalidUtf8)?;
        Ok(WsMessage::Text(text.to_owned()))
    } else {
        Ok(WsMessage::Binary(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> RawFrame {
        RawFrame {
            fin,
            rsv1: false,
            opcode,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    #[test]
    fn reassembles_fragments_around_control_frames() {
        let mut assembler = Assembler::default();
        assert_eq!(
            assembler
                .push(frame(false, OP_TEXT, b"4hel"), None, 100)
                .unwrap(),
            None
        );
        assert_eq!(
            assembler
                .push(frame(true, OP_PING, b"x"), None, 100)
                .unwrap(),
            Some(WsMessage::Ping(Bytes::from_static(b"x")))
        );
        assert_eq!(
            assembler
                .push(frame(false, OP_CONTINUATION, b"lo "), None, 100)
                .unwrap(),
            None
        );
        assert_eq!(
            assembler
                .push(frame(true, OP_CONTINUATION, b"you"), None, 100)
                .unwrap(),
            Some(WsMessage::Text("4hello you".into()))
        );
    }

    #[test]
    fn rejects_bad_sequences() {
        let mut a = Assembler::default();
        assert!(a
            .push(frame(true, OP_CONTINUATION, b"x"), None, 100)
            .is_err());
        let mut a = Assembler::default();
        a.push(frame(false, OP_TEXT, b"x"), None, 100).unwrap();
        assert!(a.push(frame(true, OP_TEXT, b"y"), None, 100).is_err());
        let mut a = Assembler::default();
        a.push(frame(false, OP_BINARY, &[0; 60]), None, 100)
            .unwrap();
        assert!(matches!(
            a.push(frame(true, OP_CONTINUATION, &[0; 60]), None, 100),
            Err(WsError::TooBig)
        ));
        let mut a = Assembler::default();
        assert!(matches!(
            a.push(frame(true, OP_TEXT, &[0xC3, 0x28]), None, 100),
            Err(WsError::InvalidUtf8)
        ));
        let mut a = Assembler::default();
        assert!(a.push(frame(true, 0x3, b""), None, 100).is_err());
        let mut a = Assembler::default();
        let compressed = RawFrame {
            rsv1: true,
            ..frame(true, OP_TEXT, b"x")
        };
        assert!(a.push(compressed, None, 100).is_err());
    }
}
