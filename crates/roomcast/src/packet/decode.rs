//! Decoding the Engine.IO messages of a connection into packets, validated the
//! way Node's `socket.io-parser` does, binary attachments reassembled.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::value::RawValue;

use super::types::{is_reserved_event, Ack, Event, Packet, PacketData, PacketType, RawJson};
use crate::payload::{json_kind, Args};
use crate::raw_args::{scan_json_array, ScanError, Scanned};
use crate::value::{Map, Value};

// Decoding

/// Decoding a packet failed. The connection it came from should be closed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The text message is empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A binary packet whose attachment count is not followed by `-`.
    #[error("binary packet without '-' after the attachment count")]
    UnterminatedAttachments,
    /// The attachment count is not a positive decimal integer.
    #[error("attachment count is not a positive integer")]
    InvalidAttachments,
    /// The attachment count is over the decoder's limit.
    #[error("attachment count exceeds the maximum of {max}")]
    TooManyAttachments {
        /// The decoder's limit.
        max: usize,
    },
    /// The ack id does not fit in 64 bits.
    #[error("ack id does not fit in 64 bits")]
    AckIdOverflow,
    /// An ack id on a packet type that has none.
    #[error("{0} packet with an ack id")]
    UnexpectedAckId(PacketType),
    /// An ACK without id.
    #[error("{0} packet without an ack id")]
    MissingAckId(PacketType),
    /// A packet type that needs a payload came without one.
    #[error("{0} packet without payload")]
    MissingPayload(PacketType),
    /// A DISCONNECT with a payload.
    #[error("{0} packet with a payload")]
    UnexpectedPayload(PacketType),
    /// The payload is not valid JSON.
    #[error("invalid JSON payload: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The payload is valid JSON of the wrong kind.
    #[error("{packet_type} payload must be {expected}, got {got}")]
    InvalidPayload {
        /// The packet type.
        packet_type: PacketType,
        /// What the type requires.
        expected: &'static str,
        /// What the payload is.
        got: &'static str,
    },
    /// A binary message that is not one MessagePack value (the msgpack parser).
    #[error("invalid MessagePack packet: {0}")]
    InvalidMsgPack(#[source] crate::value::msgpack::DecodeError),
    /// A MessagePack packet that `socket.io-msgpack-parser` refuses, with its message.
    #[error("{0}")]
    InvalidMsgPackPacket(&'static str),
    /// A text message for the msgpack parser, which takes binary messages only.
    #[error("text message received by the msgpack parser")]
    TextForMsgPack,
    /// The attachments of a packet add up to more bytes than the decoder's limit.
    #[error("binary attachments exceed the maximum of {max} bytes")]
    AttachmentsTooLarge {
        /// The decoder's limit.
        max: usize,
    },
    /// An event whose data array is empty.
    #[error("event without a name (empty data array)")]
    EmptyEvent,
    /// An event whose first element is neither a string nor a number.
    #[error("event name must be a string or a number, got {0}")]
    InvalidEventName(&'static str),
    /// An event with a reserved name (see [`RESERVED_EVENTS`]).
    #[error("event name {0:?} is reserved")]
    ReservedEvent(String),
    /// A text message arrived while attachments of a binary packet were expected.
    #[error("text packet received while {pending} binary attachment(s) are still expected")]
    UnexpectedText {
        /// Attachments that were still missing.
        pending: usize,
    },
    /// A binary message arrived while no binary packet was being completed.
    #[error("binary data received while no binary packet is pending")]
    UnexpectedBinary,
    /// A placeholder whose `num` is not a non-negative integer.
    #[error("invalid attachment placeholder: num must be a non-negative integer")]
    InvalidPlaceholder,
    /// A placeholder refers to an attachment the packet does not have.
    #[error("placeholder refers to attachment {num} but the packet has {attachments}")]
    PlaceholderOutOfRange {
        /// The index in the placeholder.
        num: u64,
        /// Attachments announced by the packet.
        attachments: usize,
    },
}

/// The fields before the JSON payload.
struct Header<'a> {
    ty: PacketType,
    attachments: usize,
    nsp: &'a str,
    id: Option<u64>,
    payload: Option<&'a str>,
}

fn digits_len(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Parses ASCII digits; `None` on overflow.
fn parse_u64(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?
            .checked_add(u64::from(b.wrapping_sub(b'0')))
    })
}

fn parse_header(s: &str, max_attachments: usize) -> Result<Header<'_>, DecodeError> {
    let bytes = s.as_bytes();
    let first = *bytes.first().ok_or(DecodeError::Empty)?;
    let ty = first
        .checked_sub(b'0')
        .and_then(PacketType::from_u8)
        .ok_or_else(|| DecodeError::UnknownType(s.chars().next().unwrap_or_default()))?;
    let mut pos = 1;

    let mut attachments = 0;
    if ty.is_binary() {
        let end = pos + digits_len(bytes.get(pos..).unwrap_or_default());
        match bytes.get(end) {
            Some(b'-') if end > pos => {}
            None => return Err(DecodeError::UnterminatedAttachments),
            Some(_) => return Err(DecodeError::InvalidAttachments),
        }
        let count = s
            .get(pos..end)
            .and_then(parse_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(DecodeError::TooManyAttachments {
                max: max_attachments,
            })?;
        if count == 0 {
            return Err(DecodeError::InvalidAttachments);
        }
        if count > max_attachments {
            return Err(DecodeError::TooManyAttachments {
                max: max_attachments,
            });
        }
        attachments = count;
        pos = end + 1;
    }

    let mut nsp = "/";
    if bytes.get(pos) == Some(&b'/') {
        let rest = s.get(pos..).unwrap_or_default();
        match rest.find(',') {
            Some(comma) => {
                nsp = rest.get(..comma).unwrap_or_default();
                pos += comma + 1;
            }
            None => {
                nsp = rest;
                pos = s.len();
            }
        }
    }

    let mut id = None;
    let id_len = digits_len(bytes.get(pos..).unwrap_or_default());
    if id_len > 0 {
        let digits = s.get(pos..pos + id_len).unwrap_or_default();
        id = Some(parse_u64(digits).ok_or(DecodeError::AckIdOverflow)?);
        pos += id_len;
    }

    let payload = s.get(pos..).filter(|p| !p.is_empty());
    Ok(Header {
        ty,
        attachments,
        nsp,
        id,
        payload,
    })
}

/// Which packet a [`Decoder`] is collecting attachments for.
#[derive(Debug)]
enum PendingKind {
    Event {
        name: String,
        numeric_name: bool,
        ack_id: Option<u64>,
    },
    Ack {
        id: u64,
    },
}

#[derive(Debug)]
struct Pending {
    nsp: Cow<'static, str>,
    kind: PendingKind,
    args: Vec<Value>,
    expected: usize,
    buffers: Vec<Bytes>,
    /// The bytes of `buffers`.
    bytes: usize,
}

/// Decodes the Engine.IO messages of one connection into Socket.IO packets.
///
/// Binary packets span several messages: the text header announces `N`
/// attachments, and the next `N` binary messages complete it. The decoder
/// keeps that state between calls. After an error it is reset; the
/// connection should be closed.
///
/// ```
/// use bytes::Bytes;
/// use roomcast::packet::{Decoder, PacketData};
/// use roomcast::Value;
///
/// let mut decoder = Decoder::new();
/// let header = r#"51-["baz",{"_placeholder":true,"num":0}]"#;
/// assert!(decoder.decode_text(header).unwrap().is_none());
/// let packet = decoder.decode_binary(Bytes::from_static(&[1, 2, 3, 4])).unwrap().unwrap();
/// let PacketData::Event(event) = packet.data else { unreachable!() };
/// assert_eq!(event.name(), "baz");
/// let file: Bytes = event.args().deserialize().unwrap();
/// assert_eq!(&file[..], &[1, 2, 3, 4]);
/// ```
#[derive(Debug)]
pub struct Decoder {
    max_attachments: usize,
    /// The most bytes the attachments of one packet may add up to.
    max_attachment_bytes: usize,
    pending: Option<Pending>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// Node.js' default limit of attachments per packet.
    pub const DEFAULT_MAX_ATTACHMENTS: usize = 10;

    /// A decoder accepting up to [`Self::DEFAULT_MAX_ATTACHMENTS`] attachments per packet.
    pub fn new() -> Decoder {
        Decoder::with_max_attachments(Self::DEFAULT_MAX_ATTACHMENTS)
    }

    /// A decoder accepting up to `max` attachments per packet.
    pub fn with_max_attachments(max: usize) -> Decoder {
        Decoder::with_limits(max, usize::MAX)
    }

    /// A decoder accepting up to `max` attachments per packet, adding up to at most
    /// `max_bytes` (what a connection holds while a binary packet is incomplete).
    pub fn with_limits(max: usize, max_bytes: usize) -> Decoder {
        Decoder {
            max_attachments: max,
            max_attachment_bytes: max_bytes,
            pending: None,
        }
    }

    /// The number of binary messages still expected for the current packet.
    pub fn pending_attachments(&self) -> usize {
        self.pending
            .as_ref()
            .map_or(0, |p| p.expected.saturating_sub(p.buffers.len()))
    }

    /// Drops a partially received binary packet.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes a text message (without the Engine.IO `4` prefix).
    ///
    /// Returns `Ok(None)` for the header of a binary packet: the packet is
    /// returned by [`Self::decode_binary`] once its attachments arrived.
    pub fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if self.pending.is_some() {
            let pending = self.pending_attachments();
            self.pending = None;
            return Err(DecodeError::UnexpectedText { pending });
        }
        let header = parse_header(text, self.max_attachments)?;
        let nsp = match header.nsp {
            "/" => Cow::Borrowed("/"),
            other => Cow::Owned(other.to_owned()),
        };
        let data = match header.ty {
            PacketType::Connect => {
                no_ack_id(&header)?;
                let auth = match header.payload {
                    None => None,
                    Some(p) => Some(raw_of_kind(p, header.ty, &["object"])?),
                };
                PacketData::Connect(auth)
            }
            PacketType::Disconnect => {
                no_ack_id(&header)?;
                if header.payload.is_some() {
                    return Err(DecodeError::UnexpectedPayload(header.ty));
                }
                PacketData::Disconnect
            }
            PacketType::ConnectError => {
                no_ack_id(&header)?;
                let p = header
                    .payload
                    .ok_or(DecodeError::MissingPayload(header.ty))?;
                PacketData::ConnectError(raw_of_kind(p, header.ty, &["object", "string"])?)
            }
            PacketType::Event => {
                let Some(p) = header.payload else {
                    return Ok(Some(Packet {
                        nsp,
                        data: PacketData::Empty(header.ty),
                    }));
                };
                let scanned = scan(p, header.ty, true)?;
                let raw_name = scanned.first.ok_or(DecodeError::EmptyEvent)?;
                let (name, numeric_name) = json_event_name(raw_name)?;
                PacketData::Event(Event {
                    name,
                    numeric_name,
                    ack_id: header.id,
                    args: Args::from_json(scanned.rest),
                })
            }
            PacketType::Ack => {
                let Some(id) = header.id else {
                    return Ok(Some(Packet {
                        nsp,
                        data: PacketData::Empty(header.ty),
                    }));
                };
                // Without payload, Node calls the acknowledgement with no argument.
                let args = match header.payload {
                    Some(p) => Args::from_json(scan(p, header.ty, false)?.rest),
                    None => Args::default(),
                };
                PacketData::Ack(Ack { id, args })
            }
            PacketType::BinaryEvent | PacketType::BinaryAck => {
                self.pending = Some(binary_header(header, nsp)?);
                return Ok(None);
            }
        };
        Ok(Some(Packet { nsp, data }))
    }

    /// Decodes a binary message: the next attachment of the pending binary
    /// packet. Returns the packet once its last attachment arrived.
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let pending = self.pending.as_mut().ok_or(DecodeError::UnexpectedBinary)?;
        pending.bytes = pending.bytes.saturating_add(data.len());
        if pending.bytes > self.max_attachment_bytes {
            let max = self.max_attachment_bytes;
            self.pending = None;
            return Err(DecodeError::AttachmentsTooLarge { max });
        }
        pending.buffers.push(data);
        if pending.buffers.len() < pending.expected {
            return Ok(None);
        }
        let Some(mut pending) = self.pending.take() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        for arg in &mut pending.args {
            fill_placeholders(arg, &pending.buffers)?;
        }
        let args = Args::from_values(pending.args);
        let data = match pending.kind {
            PendingKind::Event {
                name,
                numeric_name,
                ack_id,
            } => PacketData::Event(Event {
                name,
                numeric_name,
                ack_id,
                args,
            }),
            PendingKind::Ack { id } => PacketData::Ack(Ack { id, args }),
        };
        Ok(Some(Packet {
            nsp: pending.nsp,
            data,
        }))
    }
}

fn no_ack_id(header: &Header<'_>) -> Result<(), DecodeError> {
    match header.id {
        Some(_) => Err(DecodeError::UnexpectedAckId(header.ty)),
        None => Ok(()),
    }
}

/// Parses `payload` as raw JSON whose kind is one of `kinds`.
fn raw_of_kind(
    payload: &str,
    ty: PacketType,
    kinds: &[&'static str],
) -> Result<RawJson, DecodeError> {
    let raw: Box<RawValue> = serde_json::from_str(payload).map_err(DecodeError::InvalidJson)?;
    let got = json_kind(raw.get().as_bytes().first().copied());
    if kinds.contains(&got) {
        Ok(RawJson(raw))
    } else {
        Err(DecodeError::InvalidPayload {
            packet_type: ty,
            expected: if kinds.len() == 1 {
                "an object"
            } else {
                "an object or a string"
            },
            got,
        })
    }
}

fn scan(payload: &str, ty: PacketType, split_first: bool) -> Result<Scanned<'_>, DecodeError> {
    scan_json_array(payload, split_first).map_err(|e| match e {
        ScanError::Json(e) => DecodeError::InvalidJson(e),
        ScanError::NotArray => DecodeError::InvalidPayload {
            packet_type: ty,
            expected: "an array",
            got: json_kind(payload.trim_start().as_bytes().first().copied()),
        },
    })
}

fn check_event_name(name: String) -> Result<String, DecodeError> {
    if is_reserved_event(&name) {
        Err(DecodeError::ReservedEvent(name))
    } else {
        Ok(name)
    }
}

/// The event name from the raw JSON of the first data element, and whether it
/// was a number.
fn json_event_name(raw: &str) -> Result<(String, bool), DecodeError> {
    match raw.as_bytes().first() {
        // `raw` was validated as JSON: without escapes, a string is what is between its quotes.
        Some(b'"') if !raw.contains('\\') => {
            let name = raw.get(1..raw.len() - 1).unwrap_or_default();
            Ok((check_event_name(name.to_owned())?, false))
        }
        Some(b'"') => {
            let name: String = serde_json::from_str(raw).map_err(DecodeError::InvalidJson)?;
            Ok((check_event_name(name)?, false))
        }
        Some(b'-' | b'0'..=b'9') => Ok((raw.to_owned(), true)),
        other => Err(DecodeError::InvalidEventName(json_kind(other.copied()))),
    }
}

/// Validates the header of a BINARY_EVENT/BINARY_ACK and prepares the
/// state that collects its attachments.
fn binary_header(header: Header<'_>, nsp: Cow<'static, str>) -> Result<Pending, DecodeError> {
    let payload = header
        .payload
        .ok_or(DecodeError::MissingPayload(header.ty))?;
    let data: Value = serde_json::from_str(payload).map_err(DecodeError::InvalidJson)?;
    let mut args = match data {
        Value::Array(items) => items,
        other => {
            return Err(DecodeError::InvalidPayload {
                packet_type: header.ty,
                expected: "an array",
                got: other.kind(),
            })
        }
    };
    for arg in &args {
        check_placeholders(arg, header.attachments)?;
    }
    let kind = if header.ty == PacketType::BinaryEvent {
        if args.is_empty() {
            return Err(DecodeError::EmptyEvent);
        }
        let (name, numeric_name) = match args.remove(0) {
            Value::String(s) => (check_event_name(s)?, false),
            Value::Number(n) => (n.to_string(), true),
            other => return Err(DecodeError::InvalidEventName(other.kind())),
        };
        PendingKind::Event {
            name,
            numeric_name,
            ack_id: header.id,
        }
    } else {
        PendingKind::Ack {
            id: header.id.ok_or(DecodeError::MissingAckId(header.ty))?,
        }
    };
    Ok(Pending {
        nsp,
        kind,
        args,
        expected: header.attachments,
        buffers: Vec::with_capacity(header.attachments.min(16)),
        bytes: 0,
    })
}

/// The attachment index of a placeholder object, `None` for a plain object.
fn placeholder_index(map: &Map, attachments: usize) -> Result<Option<usize>, DecodeError> {
    if map.get("_placeholder") != Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let num = match map.get("num") {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    }
    .ok_or(DecodeError::InvalidPlaceholder)?;
    match usize::try_from(num) {
        Ok(index) if index < attachments => Ok(Some(index)),
        _ => Err(DecodeError::PlaceholderOutOfRange { num, attachments }),
    }
}

fn check_placeholders(value: &Value, attachments: usize) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_placeholders(v, attachments)),
        Value::Object(map) => match placeholder_index(map, attachments)? {
            Some(_) => Ok(()),
            None => map
                .values()
                .try_for_each(|v| check_placeholders(v, attachments)),
        },
        _ => Ok(()),
    }
}

fn fill_placeholders(value: &mut Value, buffers: &[Bytes]) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| fill_placeholders(v, buffers)),
        Value::Object(map) => match placeholder_index(map, buffers.len())? {
            Some(index) => {
                let bytes = buffers
                    .get(index)
                    .ok_or(DecodeError::PlaceholderOutOfRange {
                        num: index as u64,
                        attachments: buffers.len(),
                    })?;
                *value = Value::Binary(bytes.clone());
                Ok(())
            }
            None => map
                .values_mut()
                .try_for_each(|v| fill_placeholders(v, buffers)),
        },
        _ => Ok(()),
    }
}
