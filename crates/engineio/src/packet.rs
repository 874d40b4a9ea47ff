//! Engine.IO v4 packets: the outgoing [`Frame`], the incoming [`Message`], and the text codec
//! the transports share (one packet per WebSocket frame, `\x1e`-joined payloads for polling).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

/// The separator of packets in a long-polling payload.
pub(crate) const RECORD_SEPARATOR: u8 = 0x1e;

/// A message received from a client: the payload of an Engine.IO `message` packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (the `4` packet type already stripped).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An encoded outgoing Engine.IO packet, cheap to clone: a broadcast encodes one `Frame` and
/// queues clones of it (a reference-count increment) to every recipient.
///
/// ```
/// use roomcast_engineio::Frame;
///
/// let text = Frame::message("hello");
/// assert_eq!(text.as_bytes(), b"4hello");
/// let binary = Frame::binary(vec![1u8, 2, 3]);
/// assert!(binary.is_binary());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    kind: FrameKind,
    bytes: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    /// A text packet: UTF-8, starting with its packet type digit.
    Text,
    /// The payload of a binary `message` packet.
    Binary,
    /// The server closes the session: `1` on polling, a close frame on WebSocket.
    Close,
}

/// The error of [`Frame::from_encoded_message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFrame {
    /// The bytes do not start with the `message` packet type `4`.
    #[error("an encoded message frame must start with the packet type '4'")]
    NotAMessage,
    /// The bytes are not UTF-8.
    #[error("an encoded message frame must be UTF-8")]
    NotUtf8,
}

impl Frame {
    /// A text `message` packet carrying `text`.
    pub fn message(text: impl AsRef<str>) -> Frame {
        let text = text.as_ref();
        let mut buf = BytesMut::with_capacity(text.len() + 1);
        buf.put_u8(b'4');
        buf.put_slice(text.as_bytes());
        Frame::text(buf.freeze())
    }

    /// A text `message` packet from bytes that already hold the whole packet, type `4` included
    /// (how a broadcast encodes once, without a copy per recipient).
    pub fn from_encoded_message(bytes: Bytes) -> Result<Frame, InvalidFrame> {
        if bytes.first() != Some(&b'4') {
            return Err(InvalidFrame::NotAMessage);
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Err(InvalidFrame::NotUtf8);
        }
        Ok(Frame::text(bytes))
    }

    /// A binary `message` packet.
    pub fn binary(bytes: impl Into<Bytes>) -> Frame {
        Frame {
            kind: FrameKind::Binary,
            bytes: bytes.into(),
        }
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        self.kind == FrameKind::Binary
    }

    /// The encoded bytes: the whole text packet, or the binary payload.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The wire size of this frame, used for queue accounting.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the frame carries no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The size of the message it carries: a text frame's bytes after the packet type, or the
    /// whole binary payload (what a peer counts as the message's size, as Node does).
    pub fn message_len(&self) -> usize {
        match self.kind {
            FrameKind::Text | FrameKind::Close => self.bytes.len().saturating_sub(1),
            FrameKind::Binary => self.bytes.len(),
        }
    }

    pub(crate) fn text(bytes: Bytes) -> Frame {
        Frame {
            kind: FrameKind::Text,
            bytes,
        }
    }

    pub(crate) fn open(json: &[u8]) -> Frame {
        let mut buf = BytesMut::with_capacity(json.len() + 1);
        buf.put_u8(b'0');
        buf.put_slice(json);
        Frame::text(buf.freeze())
    }

    pub(crate) fn ping() -> Frame {
        Frame::text(Bytes::from_static(b"2"))
    }

    /// `3`: the answer to a v3 client's ping.
    pub(crate) fn pong() -> Frame {
        Frame::text(Bytes::from_static(b"3"))
    }

    pub(crate) fn pong_probe() -> Frame {
        Frame::text(Bytes::from_static(b"3probe"))
    }

    pub(crate) fn noop() -> Frame {
        Frame::text(Bytes::from_static(b"6"))
    }

    pub(crate) fn close() -> Frame {
        Frame {
            kind: FrameKind::Close,
            bytes: Bytes::from_static(b"1"),
        }
    }

    pub(crate) fn is_close(&self) -> bool {
        self.kind == FrameKind::Close
    }
}

impl From<Message> for Frame {
    fn from(message: Message) -> Frame {
        match message {
            Message::Text(text) => Frame::message(text),
            Message::Binary(bytes) => Frame::binary(bytes),
        }
    }
}

/// A decoded incoming packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    Close,
    /// `2`; `probe` for `2probe`, the first packet of an upgrade.
    Ping {
        probe: bool,
    },
    /// `3`, the answer to a heartbeat.
    Pong,
    Message(Message),
    Upgrade,
    Noop,
}

/// Why an incoming packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A packet with no bytes at all.
    #[error("empty packet")]
    Empty,
    /// A packet type a client never sends (`0`, or not a digit).
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A `b` packet whose payload is not base64.
    #[error("invalid base64 in binary packet")]
    InvalidBase64,
    /// A v3 polling payload whose framing (lengths, separators) is broken.
    #[error("invalid payload framing")]
    InvalidPayload,
}

/// Decodes one text packet (`4hello`, `2probe`, `3`, `1`, `5`, `6`).
pub(crate) fn decode_text(text: &str) -> Result<Packet, ParseError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(ParseError::Empty)?;
    let data = chars.as_str();
    match kind {
        '1' => Ok(Packet::Close),
        '2' => Ok(Packet::Ping {
            probe: data == "probe",
        }),
        '3' => Ok(Packet::Pong),
        '4' => Ok(Packet::Message(Message::Text(data.to_owned()))),
        '5' => Ok(Packet::Upgrade),
        '6' => Ok(Packet::Noop),
        other => Err(ParseError::UnknownType(other)),
    }
}

/// Decodes one text packet that arrived on its own (a WebSocket frame); a message keeps the
/// text's allocation.
pub(crate) fn decode_owned(mut text: String) -> Result<Packet, ParseError> {
    if text.starts_with('4') {
        text.remove(0);
        return Ok(Packet::Message(Message::Text(text)));
    }
    decode_text(&text)
}

/// Decodes a long-polling payload: packets joined by `\x1e`, binary ones as `b<base64>`.
/// The caller stops at the first error, as Node's parser does.
pub(crate) fn decode_payload(
    payload: &str,
) -> impl Iterator<Item = Result<Packet, ParseError>> + '_ {
    payload
        .split(RECORD_SEPARATOR as char)
        .map(|part| match part.strip_prefix('b') {
            Some(encoded) => BASE64
                .decode(encoded)
                .map(|bytes| Packet::Message(Message::Binary(Bytes::from(bytes))))
                .map_err(|_| ParseError::InvalidBase64),
            None => decode_text(part),
        })
}

/// Appends `frames` to a long-polling payload.
pub(crate) fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>, out: &mut BytesMut) {
    for frame in frames {
        if !out.is_empty() {
            out.put_u8(RECORD_SEPARATOR);
        }
        match frame.kind {
            FrameKind::Text | FrameKind::Close => out.put_slice(&frame.bytes),
            FrameKind::Binary => {
                let start = out.len();
                let encoded_len = base64::encoded_len(frame.bytes.len(), true).unwrap_or(0);
                out.put_u8(b'b');
                out.resize(start + 1 + encoded_len, 0);
                let written = BASE64
                    .encode_slice(&frame.bytes, &mut out[start + 1..])
                    .unwrap_or(0);
                out.truncate(start + 1 + written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_packets() {
        let cases: &[(&str, Result<Packet, ParseError>)] = &[
            ("1", Ok(Packet::Close)),
            ("2", Ok(Packet::Ping { probe: false })),
            ("2probe", Ok(Packet::Ping { probe: true })),
            ("3", Ok(Packet::Pong)),
            ("3probe", Ok(Packet::Pong)),
            ("4", Ok(Packet::Message(Message::Text(String::new())))),
            ("4héllo", Ok(Packet::Message(Message::Text("héllo".into())))),
            ("5", Ok(Packet::Upgrade)),
            ("6", Ok(Packet::Noop)),
            ("", Err(ParseError::Empty)),
            ("0", Err(ParseError::UnknownType('0'))),
            ("7", Err(ParseError::UnknownType('7'))),
            ("9abc", Err(ParseError::UnknownType('9'))),
            ("xyz", Err(ParseError::UnknownType('x'))),
            ("é", Err(ParseError::UnknownType('é'))),
        ];
        for (input, expected) in cases {
            assert_eq!(&decode_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn decodes_payloads() {
        let packets: Vec<Packet> = decode_payload("4hello\x1ebAQIDBA==\x1e3")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            packets,
            vec![
                Packet::Message(Message::Text("hello".into())),
                Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
                Packet::Pong,
            ]
        );
        let bad: &[(&str, ParseError)] = &[
            ("", ParseError::Empty),
            ("4a\x1e", ParseError::Empty),
            ("b!!!", ParseError::InvalidBase64),
            ("bAQ", ParseError::InvalidBase64),
            ("4a\x1e9x", ParseError::UnknownType('9')),
        ];
        for (input, expected) in bad {
            let decoded: Result<Vec<Packet>, ParseError> = decode_payload(input).collect();
            assert_eq!(decoded, Err(expected.clone()), "input {input:?}");
        }
    }

    #[test]
    fn encodes_payloads() {
        let frames = [
            Frame::message("hello"),
            Frame::binary(vec![1u8, 2, 3, 4]),
            Frame::ping(),
            Frame::binary(Vec::<u8>::new()),
            Frame::close(),
        ];
        let mut out = BytesMut::new();
        encode_payload(&frames, &mut out);
        assert_eq!(&out[..], b"4hello\x1ebAQIDBA==\x1e2\x1eb\x1e1");
    }

    #[test]
    fn round_trips_through_the_payload_codec() {
        let frames = [Frame::message("a\u{1e}b"), Frame::binary(vec![0u8; 300])];
        let mut out = BytesMut::new();
        encode_payload(&frames[1..], &mut out);
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            decode_payload(text).collect::<Result<Vec<_>, _>>().unwrap(),
            vec![Packet::Message(Message::Binary(Bytes::from(vec![
                0u8;
                300
            ])))]
        );
    }

    #[test]
    fn validates_pre_encoded_messages() {
        assert!(Frame::from_encoded_message(Bytes::from_static(b"42[\"a\"]")).is_ok());
        assert_eq!(
            Frame::from_encoded_message(Bytes::from_static(b"2")),
            Err(InvalidFrame::NotAMessage)
        );
        assert_eq!(
            Frame::from_encoded_message(Bytes::from_static(b"4\xff")),
            Err(InvalidFrame::NotUtf8)
        );
    }

    #[test]
    fn owned_decoding_matches_borrowed_decoding() {
        for input in ["4hello", "4", "2probe", "3", "1", "5", "6", "", "9x"] {
            assert_eq!(
                decode_owned(input.to_owned()),
                decode_text(input),
                "{input:?}"
            );
        }
    }
}
