//! Socket.IO v5 packets and their text encoding.
//!
//! A packet travels in one Engine.IO `message` as
//! `<type>[<attachments>-][<nsp>,][<ackId>][<JSON>]`, followed, for binary
//! packets, by one binary Engine.IO message per attachment.
//!
//! * Decoding: [`Decoder`] takes the Engine.IO messages one by one (text
//!   without the Engine.IO `4` prefix, binary as is) and yields [`Packet`]s,
//!   validating them the way the Node.js `socket.io-parser` does.
//! * Encoding: [`encode_connect`], [`encode_connect_error`],
//!   [`encode_disconnect`], [`encode_event`], [`encode_ack`] and
//!   [`Packet::encode`] produce an [`EncodedPacket`]: the complete Engine.IO
//!   text packet (starting with `4`) and the attachments to send after it.
//!
//! ```
//! use roomcast::packet::{encode_event, Decoder, PacketData};
//!
//! let encoded = encode_event("/chat", "ev", &1, Some(12)).unwrap();
//! assert_eq!(encoded.as_str(), r#"42/chat,12["ev",1]"#);
//!
//! let mut decoder = Decoder::new();
//! let packet = decoder.decode_text(r#"2/chat,12["ev",1]"#).unwrap().unwrap();
//! assert_eq!(packet.nsp, "/chat");
//! let PacketData::Event(event) = &packet.data else { unreachable!() };
//! assert_eq!((event.name(), event.ack_id()), ("ev", Some(12)));
//! assert_eq!(event.args().deserialize::<u32>().unwrap(), 1);
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::payload::{self, json_kind, Args};
use crate::raw_args::{scan_json_array, ScanError, Scanned};
use crate::value::{Map, Value};

/// Event names a packet may not carry (they have a meaning of their own on
/// either side of the connection).
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is one of the [`RESERVED_EVENTS`].
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Socket.IO packet type, the first character of an encoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// Connection to a namespace (client) or its acceptance (server).
    Connect = 0,
    /// Disconnection from a namespace.
    Disconnect = 1,
    /// An event without binary data.
    Event = 2,
    /// An acknowledgement without binary data.
    Ack = 3,
    /// Refusal of a namespace connection.
    ConnectError = 4,
    /// An event with binary attachments.
    BinaryEvent = 5,
    /// An acknowledgement with binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    /// The type for a numeric id (`0..=6`).
    pub fn from_u8(id: u8) -> Option<PacketType> {
        Some(match id {
            0 => PacketType::Connect,
            1 => PacketType::Disconnect,
            2 => PacketType::Event,
            3 => PacketType::Ack,
            4 => PacketType::ConnectError,
            5 => PacketType::BinaryEvent,
            6 => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The numeric id of the type.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The character that starts an encoded packet of this type.
    pub fn as_char(self) -> char {
        char::from(b'0' + self.as_u8())
    }

    /// Whether packets of this type carry binary attachments.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }

    fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Event => "EVENT",
            PacketType::Ack => "ACK",
            PacketType::ConnectError => "CONNECT_ERROR",
            PacketType::BinaryEvent => "BINARY_EVENT",
            PacketType::BinaryAck => "BINARY_ACK",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Namespace, `/` when the packet names none.
    pub nsp: Cow<'static, str>,
    /// Type-specific content.
    pub data: PacketData,
}

/// The content of a [`Packet`].
#[derive(Debug, Clone, PartialEq)]
pub enum PacketData {
    /// CONNECT, with the optional JSON object the client sends as `auth`
    /// (or the server's `{sid, pid?}` reply).
    Connect(Option<RawJson>),
    /// DISCONNECT.
    Disconnect,
    /// EVENT or BINARY_EVENT.
    Event(Event),
    /// ACK or BINARY_ACK.
    Ack(Ack),
    /// CONNECT_ERROR, with its JSON object (`{message, data?}`) or string.
    ConnectError(RawJson),
    /// An EVENT without payload or an ACK without id. Node's parser accepts both and its
    /// server acts on neither; only the namespace they name matters.
    Empty(PacketType),
}

/// A JSON value kept as text (the payload of CONNECT and CONNECT_ERROR),
/// read into a type on demand.
///
/// ```
/// use roomcast::packet::{Decoder, PacketData};
///
/// let packet = Decoder::new().decode_text(r#"0/admin,{"token":"123"}"#).unwrap().unwrap();
/// let PacketData::Connect(Some(auth)) = &packet.data else { unreachable!() };
/// #[derive(serde::Deserialize)]
/// struct Auth { token: String }
/// assert_eq!(auth.deserialize::<Auth>().unwrap().token, "123");
/// assert_eq!(auth.get(), r#"{"token":"123"}"#);
/// ```
#[derive(Debug, Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Parses and validates JSON text.
    pub fn from_string(json: String) -> Result<RawJson, serde_json::Error> {
        RawValue::from_string(json).map(RawJson)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The underlying serde_json raw value.
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// Reads the JSON into a `T`.
    pub fn deserialize<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The JSON as a [`Value`].
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        self.deserialize()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A received event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    name: String,
    /// The name came as a JSON number (Node accepts `42[1]`).
    numeric_name: bool,
    ack_id: Option<u64>,
    args: Args,
}

impl Event {
    /// The event name (a numeric name is given as its JSON text).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id to acknowledge with, if the sender asked for an ack.
    pub fn ack_id(&self) -> Option<u64> {
        self.ack_id
    }

    /// The arguments after the event name.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// Splits the event into its name, ack id and arguments.
    pub fn into_parts(self) -> (String, Option<u64>, Args) {
        (self.name, self.ack_id, self.args)
    }
}

/// A received acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    id: u64,
    args: Args,
}

impl Ack {
    /// The id of the event this acknowledges.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The ack arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// Splits the ack into its id and arguments.
    pub fn into_parts(self) -> (u64, Args) {
        (self.id, self.args)
    }
}

impl Packet {
    /// The wire type: BINARY_EVENT/BINARY_ACK when the arguments hold binary.
    pub fn packet_type(&self) -> PacketType {
        match &self.data {
            PacketData::Connect(_) => PacketType::Connect,
            PacketData::Disconnect => PacketType::Disconnect,
            PacketData::Event(e) if e.args.has_binary() => PacketType::BinaryEvent,
            PacketData::Event(_) => PacketType::Event,
            PacketData::Ack(a) if a.args.has_binary() => PacketType::BinaryAck,
            PacketData::Ack(_) => PacketType::Ack,
            PacketData::ConnectError(_) => PacketType::ConnectError,
            PacketData::Empty(ty) => *ty,
        }
    }

    /// Encodes the packet again. Arguments received without attachments are
    /// written back as the JSON text they arrived in.
    pub fn encode(&self) -> Result<EncodedPacket, EncodeError> {
        match &self.data {
            PacketData::Connect(auth) => {
                let mut buf = start(PacketType::Connect, &self.nsp, None, raw_len(auth))?;
                if let Some(auth) = auth {
                    buf.extend_from_slice(auth.get().as_bytes());
                }
                Ok(EncodedPacket::text(buf))
            }
            PacketData::Disconnect => encode_disconnect(&self.nsp),
            PacketData::Event(event) => {
                let mut buf = start(PacketType::Event, &self.nsp, event.ack_id, 0)?;
                let att = if event.numeric_name {
                    let mut args = BytesMut::new();
                    let att = payload::write_args(&mut args, None, &event.args)?;
                    buf.put_u8(b'[');
                    buf.extend_from_slice(event.name.as_bytes());
                    if args.len() > 2 {
                        buf.put_u8(b',');
                    }
                    buf.extend_from_slice(args.get(1..).unwrap_or_default());
                    att
                } else {
                    payload::write_args(&mut buf, Some(&event.name), &event.args)?
                };
                finish(buf, PacketType::BinaryEvent, att)
            }
            PacketData::Ack(ack) => {
                let mut buf = start(PacketType::Ack, &self.nsp, Some(ack.id), 0)?;
                let att = payload::write_args(&mut buf, None, &ack.args)?;
                finish(buf, PacketType::BinaryAck, att)
            }
            PacketData::ConnectError(payload) => {
                let mut buf = start(
                    PacketType::ConnectError,
                    &self.nsp,
                    None,
                    payload.get().len(),
                )?;
                buf.extend_from_slice(payload.get().as_bytes());
                Ok(EncodedPacket::text(buf))
            }
            PacketData::Empty(ty) => Ok(EncodedPacket::text(start(*ty, &self.nsp, None, 0)?)),
        }
    }
}

fn raw_len(raw: &Option<RawJson>) -> usize {
    raw.as_ref().map_or(0, |r| r.get().len())
}

// ---------------------------------------------------------------------------
// Encoding

/// An encoded packet: the Engine.IO text message and the binary messages to
/// send right after it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The complete Engine.IO text packet, `4` (message) included, UTF-8.
    pub text: Bytes,
    /// Binary attachments, each sent as its own binary Engine.IO message.
    pub attachments: Vec<Bytes>,
}

impl EncodedPacket {
    /// The packet in `buf`, copied out at its exact size; `buf` goes back to
    /// the encoding scratch.
    fn text(buf: BytesMut) -> EncodedPacket {
        let text = Bytes::copy_from_slice(&buf);
        recycle(buf);
        EncodedPacket {
            text,
            attachments: Vec::new(),
        }
    }

    /// The text packet as a `&str`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

/// Encoding a packet failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// A namespace must start with `/` and cannot contain a `,` (which ends
    /// it on the wire).
    #[error("invalid namespace {0:?}: it must start with '/' and contain no ','")]
    InvalidNamespace(String),
    /// The event name is reserved (see [`RESERVED_EVENTS`]).
    #[error("event name {0:?} is reserved")]
    ReservedEvent(String),
    /// The payload could not be serialized to JSON.
    #[error("cannot serialize the payload: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The namespace as written on the wire: `None` for the root namespace.
fn wire_nsp(nsp: &str) -> Result<Option<&str>, EncodeError> {
    match nsp {
        "" | "/" => Ok(None),
        _ if nsp.starts_with('/') && !nsp.contains(',') => Ok(Some(nsp)),
        _ => Err(EncodeError::InvalidNamespace(nsp.to_owned())),
    }
}

/// Appends `n` in decimal.
fn put_decimal(buf: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            *digit = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(digits.get(start..).unwrap_or_default());
}

/// Largest encoding scratch buffer a thread keeps between packets.
const SCRATCH_KEEP: usize = 64 * 1024;

thread_local! {
    /// Packets are written here, then copied out at their exact size: one
    /// allocation per packet whatever its length, and no growth on the way.
    static SCRATCH: Cell<BytesMut> = Cell::new(BytesMut::new());
}

/// Gives a buffer back to this thread's scratch (a nested encode, during the
/// serialization of another packet's arguments, keeps its own).
fn recycle(mut buf: BytesMut) {
    if buf.capacity() <= SCRATCH_KEEP {
        buf.clear();
        SCRATCH.set(buf);
    }
}

/// Starts a text packet: `4`, the type, the namespace and the ack id.
fn start(
    ty: PacketType,
    nsp: &str,
    id: Option<u64>,
    payload_hint: usize,
) -> Result<BytesMut, EncodeError> {
    let nsp = wire_nsp(nsp)?;
    let nsp_len = nsp.map_or(0, |n| n.len() + 1);
    let mut buf = SCRATCH.take();
    buf.reserve(2 + nsp_len + 20 + payload_hint.max(32));
    buf.put_u8(b'4');
    buf.put_u8(b'0' + ty.as_u8());
    if let Some(nsp) = nsp {
        buf.extend_from_slice(nsp.as_bytes());
        buf.put_u8(b',');
    }
    if let Some(id) = id {
        put_decimal(&mut buf, id);
    }
    Ok(buf)
}

/// Completes an event or ack: with attachments, turns the `4<type>` prefix
/// into `4<binary type><count>-`.
fn finish(
    buf: BytesMut,
    binary_type: PacketType,
    attachments: Vec<Bytes>,
) -> Result<EncodedPacket, EncodeError> {
    if attachments.is_empty() {
        return Ok(EncodedPacket::text(buf));
    }
    let rest = buf.get(2..).unwrap_or_default();
    let mut out = BytesMut::with_capacity(buf.len() + 22);
    out.put_u8(b'4');
    out.put_u8(b'0' + binary_type.as_u8());
    put_decimal(&mut out, attachments.len() as u64);
    out.put_u8(b'-');
    out.extend_from_slice(rest);
    recycle(buf);
    Ok(EncodedPacket {
        text: out.freeze(),
        attachments,
    })
}

/// Encodes the server's CONNECT reply: `{"sid":…}`, plus `"pid"` when
/// connection state recovery is on.
///
/// ```
/// use roomcast::packet::encode_connect;
/// assert_eq!(encode_connect("/", "abc", None).unwrap().as_str(), r#"40{"sid":"abc"}"#);
/// assert_eq!(
///     encode_connect("/admin", "abc", Some("p")).unwrap().as_str(),
///     r#"40/admin,{"sid":"abc","pid":"p"}"#
/// );
/// ```
pub fn encode_connect(
    nsp: &str,
    sid: &str,
    pid: Option<&str>,
) -> Result<EncodedPacket, EncodeError> {
    #[derive(Serialize)]
    struct Reply<'a> {
        sid: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pid: Option<&'a str>,
    }
    let mut buf = start(PacketType::Connect, nsp, None, sid.len() + 32)?;
    serde_json::to_writer((&mut buf).writer(), &Reply { sid, pid })?;
    Ok(EncodedPacket::text(buf))
}

/// Encodes a CONNECT_ERROR `{"message":…,"data":…}` (`data` omitted when `None`).
///
/// ```
/// use roomcast::packet::encode_connect_error;
/// let encoded = encode_connect_error("/", "Not authorized", None::<&()>).unwrap();
/// assert_eq!(encoded.as_str(), r#"44{"message":"Not authorized"}"#);
/// let encoded = encode_connect_error("/a", "no", Some(&[1, 2])).unwrap();
/// assert_eq!(encoded.as_str(), r#"44/a,{"message":"no","data":[1,2]}"#);
/// ```
pub fn encode_connect_error<D: Serialize + ?Sized>(
    nsp: &str,
    message: &str,
    data: Option<&D>,
) -> Result<EncodedPacket, EncodeError> {
    #[derive(Serialize)]
    struct Payload<'a, D: ?Sized> {
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a D>,
    }
    let mut buf = start(PacketType::ConnectError, nsp, None, message.len() + 16)?;
    serde_json::to_writer((&mut buf).writer(), &Payload { message, data })?;
    Ok(EncodedPacket::text(buf))
}

/// Encodes a DISCONNECT.
///
/// ```
/// use roomcast::packet::encode_disconnect;
/// assert_eq!(encode_disconnect("/").unwrap().as_str(), "41");
/// assert_eq!(encode_disconnect("/admin").unwrap().as_str(), "41/admin,");
/// ```
pub fn encode_disconnect(nsp: &str) -> Result<EncodedPacket, EncodeError> {
    Ok(EncodedPacket::text(start(
        PacketType::Disconnect,
        nsp,
        None,
        0,
    )?))
}

/// Encodes an event. `args` follows the rule of [`crate::payload`]: a tuple
/// is several arguments, `()` none, anything else one. Binary data
/// (`serialize_bytes`) turns the packet into a BINARY_EVENT with attachments.
///
/// ```
/// use bytes::Bytes;
/// use roomcast::packet::encode_event;
///
/// let e = encode_event("/", "foo", &(), None).unwrap();
/// assert_eq!(e.as_str(), r#"42["foo"]"#);
///
/// let e = encode_event("/", "baz", &Bytes::from_static(&[1, 2, 3, 4]), None).unwrap();
/// assert_eq!(e.as_str(), r#"451-["baz",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(e.attachments, vec![Bytes::from_static(&[1, 2, 3, 4])]);
/// ```
pub fn encode_event<T: Serialize + ?Sized>(
    nsp: &str,
    event: &str,
    args: &T,
    ack_id: Option<u64>,
) -> Result<EncodedPacket, EncodeError> {
    if is_reserved_event(event) {
        return Err(EncodeError::ReservedEvent(event.to_owned()));
    }
    let mut buf = start(PacketType::Event, nsp, ack_id, event.len() + 64)?;
    let attachments = payload::write_args(&mut buf, Some(event), args)?;
    finish(buf, PacketType::BinaryEvent, attachments)
}

/// Encodes an acknowledgement with the arguments in `args` (same rule as
/// [`encode_event`]).
///
/// ```
/// use roomcast::packet::encode_ack;
/// assert_eq!(encode_ack("/admin", 13, &"bar").unwrap().as_str(), r#"43/admin,13["bar"]"#);
/// assert_eq!(encode_ack("/", 1, &()).unwrap().as_str(), "431[]");
/// ```
pub fn encode_ack<T: Serialize + ?Sized>(
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<EncodedPacket, EncodeError> {
    let mut buf = start(PacketType::Ack, nsp, Some(id), 64)?;
    let attachments = payload::write_args(&mut buf, None, args)?;
    finish(buf, PacketType::BinaryAck, attachments)
}

// ---------------------------------------------------------------------------
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
        Decoder {
            max_attachments: max,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn b(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }

    /// Feeds a text message and its attachments to a fresh decoder.
    fn decode_all(text: &str, attachments: &[Bytes]) -> Result<Packet, DecodeError> {
        let mut decoder = Decoder::new();
        let mut out = decoder.decode_text(text)?;
        for a in attachments {
            assert!(out.is_none(), "packet complete before its attachments");
            out = decoder.decode_binary(a.clone())?;
        }
        assert_eq!(decoder.pending_attachments(), 0);
        Ok(out.expect("packet complete after its attachments"))
    }

    fn render(v: &Value) -> String {
        match v {
            Value::Binary(b) => format!(
                "<{}>",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
            Value::Array(a) => format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(",")),
            Value::Object(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k:?}:{}", render(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => serde_json::to_string(other).expect("json"),
        }
    }

    /// A one-line description of a packet, to compare against the tables.
    fn summary(p: &Packet) -> String {
        let args = |a: &Args| render(&Value::Array(a.to_values().expect("values")));
        let body = match &p.data {
            PacketData::Connect(None) => "CONNECT".to_owned(),
            PacketData::Connect(Some(auth)) => format!("CONNECT {}", auth.get()),
            PacketData::Disconnect => "DISCONNECT".to_owned(),
            PacketData::Event(e) => {
                format!("EVENT {} ack={:?} {}", e.name(), e.ack_id(), args(e.args()))
            }
            PacketData::Ack(a) => format!("ACK {} {}", a.id(), args(a.args())),
            PacketData::ConnectError(raw) => format!("CONNECT_ERROR {}", raw.get()),
            PacketData::Empty(ty) => format!("EMPTY {ty}"),
        };
        format!("{} {body}", p.nsp)
    }

    struct Example {
        wire: &'static str,
        attachments: Vec<Bytes>,
        summary: &'static str,
        packet_type: PacketType,
        /// The same packet built with the typed encoders.
        typed: Result<EncodedPacket, EncodeError>,
    }

    fn protocol_examples() -> Vec<Example> {
        let bin = b(&[1, 2, 3, 4]);
        vec![
            Example {
                wire: "0",
                attachments: vec![],
                summary: "/ CONNECT",
                packet_type: PacketType::Connect,
                typed: Err(EncodeError::InvalidNamespace("no typed encoder".into())),
            },
            Example {
                wire: r#"0/admin,{"token":"123"}"#,
                attachments: vec![],
                summary: r#"/admin CONNECT {"token":"123"}"#,
                packet_type: PacketType::Connect,
                typed: Err(EncodeError::InvalidNamespace("no typed encoder".into())),
            },
            Example {
                wire: r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
                attachments: vec![],
                summary: r#"/ CONNECT {"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
                packet_type: PacketType::Connect,
                typed: encode_connect("/", "wZX3oN0bSVIhsaknAAAI", None),
            },
            Example {
                wire: r#"0/admin,{"sid":"s","pid":"p"}"#,
                attachments: vec![],
                summary: r#"/admin CONNECT {"sid":"s","pid":"p"}"#,
                packet_type: PacketType::Connect,
                typed: encode_connect("/admin", "s", Some("p")),
            },
            Example {
                wire: r#"2["foo"]"#,
                attachments: vec![],
                summary: "/ EVENT foo ack=None []",
                packet_type: PacketType::Event,
                typed: encode_event("/", "foo", &(), None),
            },
            Example {
                wire: r#"2/admin,["bar"]"#,
                attachments: vec![],
                summary: "/admin EVENT bar ack=None []",
                packet_type: PacketType::Event,
                typed: encode_event("/admin", "bar", &(), None),
            },
            Example {
                wire: r#"212["foo"]"#,
                attachments: vec![],
                summary: "/ EVENT foo ack=Some(12) []",
                packet_type: PacketType::Event,
                typed: encode_event("", "foo", &(), Some(12)),
            },
            Example {
                wire: r#"2/chat,12["ev",1,"two",{"x":null}]"#,
                attachments: vec![],
                summary: r#"/chat EVENT ev ack=Some(12) [1,"two",{"x":null}]"#,
                packet_type: PacketType::Event,
                typed: encode_event(
                    "/chat",
                    "ev",
                    &(1, "two", BTreeMap::from([("x", ())])),
                    Some(12),
                ),
            },
            Example {
                wire: r#"3/admin,13["bar"]"#,
                attachments: vec![],
                summary: r#"/admin ACK 13 ["bar"]"#,
                packet_type: PacketType::Ack,
                typed: encode_ack("/admin", 13, &"bar"),
            },
            Example {
                wire: "30[]",
                attachments: vec![],
                summary: "/ ACK 0 []",
                packet_type: PacketType::Ack,
                typed: encode_ack("/", 0, &()),
            },
            Example {
                wire: "1/admin,",
                attachments: vec![],
                summary: "/admin DISCONNECT",
                packet_type: PacketType::Disconnect,
                typed: encode_disconnect("/admin"),
            },
            Example {
                wire: "1",
                attachments: vec![],
                summary: "/ DISCONNECT",
                packet_type: PacketType::Disconnect,
                typed: encode_disconnect("/"),
            },
            Example {
                wire: r#"4{"message":"Not authorized"}"#,
                attachments: vec![],
                summary: r#"/ CONNECT_ERROR {"message":"Not authorized"}"#,
                packet_type: PacketType::ConnectError,
                typed: encode_connect_error("/", "Not authorized", None::<&()>),
            },
            Example {
                wire: r#"4/admin,{"message":"m","data":{"code":7}}"#,
                attachments: vec![],
                summary: r#"/admin CONNECT_ERROR {"message":"m","data":{"code":7}}"#,
                packet_type: PacketType::ConnectError,
                typed: encode_connect_error("/admin", "m", Some(&BTreeMap::from([("code", 7)]))),
            },
            Example {
                wire: r#"51-["baz",{"_placeholder":true,"num":0}]"#,
                attachments: vec![bin.clone()],
                summary: "/ EVENT baz ack=None [<01020304>]",
                packet_type: PacketType::BinaryEvent,
                typed: encode_event("/", "baz", &bin, None),
            },
            Example {
                wire: r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
                attachments: vec![b(b"a"), b(b"b")],
                summary: "/admin EVENT baz ack=None [<61>,<62>]",
                packet_type: PacketType::BinaryEvent,
                typed: encode_event("/admin", "baz", &(b(b"a"), b(b"b")), None),
            },
            Example {
                wire: r#"52-/admin,7["up",{"file":{"_placeholder":true,"num":0},"parts":[1,{"_placeholder":true,"num":1}]}]"#,
                attachments: vec![b(b"a"), b(b"b")],
                summary: r#"/admin EVENT up ack=Some(7) [{"file":<61>,"parts":[1,<62>]}]"#,
                packet_type: PacketType::BinaryEvent,
                typed: encode_event(
                    "/admin",
                    "up",
                    &BTreeMap::from([
                        ("file", Value::Binary(b(b"a"))),
                        (
                            "parts",
                            Value::Array(vec![1.into(), Value::Binary(b(b"b"))]),
                        ),
                    ]),
                    Some(7),
                ),
            },
            Example {
                wire: r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
                attachments: vec![bin.clone()],
                summary: r#"/ ACK 15 ["bar",<01020304>]"#,
                packet_type: PacketType::BinaryAck,
                typed: encode_ack("/", 15, &("bar", &bin)),
            },
        ]
    }

    #[test]
    fn protocol_examples_decode() {
        for ex in protocol_examples() {
            let packet =
                decode_all(ex.wire, &ex.attachments).unwrap_or_else(|e| panic!("{}: {e}", ex.wire));
            assert_eq!(summary(&packet), ex.summary, "{}", ex.wire);
            assert_eq!(packet.packet_type(), ex.packet_type, "{}", ex.wire);
        }
    }

    #[test]
    fn protocol_examples_encode() {
        for ex in protocol_examples() {
            let want = format!("4{}", ex.wire);
            let packet = decode_all(ex.wire, &ex.attachments).expect("decode");
            let again = packet.encode().expect("re-encode");
            assert_eq!(again.as_str(), want);
            assert_eq!(again.attachments, ex.attachments, "{}", ex.wire);
            match ex.typed {
                Ok(typed) => {
                    assert_eq!(typed.as_str(), want);
                    assert_eq!(typed.attachments, ex.attachments, "{}", ex.wire);
                }
                Err(EncodeError::InvalidNamespace(reason)) => {
                    assert_eq!(reason, "no typed encoder")
                }
                Err(e) => panic!("{}: {e}", ex.wire),
            }
        }
    }

    #[test]
    fn tuple_spreading_on_the_wire() {
        let cases: Vec<(EncodedPacket, &str)> = vec![
            (
                encode_event("/", "e", &("a", 1), None).expect("tuple"),
                r#"42["e","a",1]"#,
            ),
            (
                encode_event("/", "e", &vec![1, 2], None).expect("vec"),
                r#"42["e",[1,2]]"#,
            ),
            (
                encode_event("/", "e", &(), None).expect("unit"),
                r#"42["e"]"#,
            ),
            (
                encode_event("/", "e", &((1, 2),), None).expect("nested"),
                r#"42["e",[1,2]]"#,
            ),
            (
                encode_event("/", "e", &Some(1), None).expect("some"),
                r#"42["e",1]"#,
            ),
            (
                encode_ack("/", 3, &("a", 1)).expect("ack tuple"),
                r#"433["a",1]"#,
            ),
            (
                encode_ack("/", 3, &vec!["a"]).expect("ack vec"),
                r#"433[["a"]]"#,
            ),
            (
                encode_event("/", "é\n", &"ü", None).expect("escaping"),
                r#"42["é\n","ü"]"#,
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_str(), want);
            assert!(got.attachments.is_empty());
        }
    }

    #[test]
    fn nested_placeholders_roundtrip() {
        let tree = Value::Array(vec![
            [
                ("a", Value::Binary(b(b"1"))),
                ("b", Value::from(vec![Value::Binary(b(b"2"))])),
            ]
            .into_iter()
            .collect(),
            Value::Array(vec![Value::Array(vec![Value::Binary(b(b"3"))])]),
            Value::from("plain"),
        ]);
        let encoded = encode_event("/n", "deep", &tree, Some(5)).expect("encode");
        assert_eq!(
            encoded.as_str(),
            concat!(
                r#"453-/n,5["deep",[{"a":{"_placeholder":true,"num":0},"#,
                r#""b":[{"_placeholder":true,"num":1}]},"#,
                r#"[[{"_placeholder":true,"num":2}]],"plain"]]"#
            )
        );
        assert_eq!(encoded.attachments, vec![b(b"1"), b(b"2"), b(b"3")]);
        let text = encoded.as_str().strip_prefix('4').expect("prefix");
        let packet = decode_all(text, &encoded.attachments).expect("decode");
        let PacketData::Event(event) = &packet.data else {
            panic!("not an event")
        };
        assert_eq!(event.ack_id(), Some(5));
        let value: Value = event.args().deserialize().expect("first arg");
        assert_eq!(value, tree);

        // A placeholder may be referenced twice, and objects that only look
        // like placeholders are left alone.
        let wire = r#"51-["e",{"x":{"_placeholder":true,"num":0},"y":[{"_placeholder":true,"num":0}],"z":{"_placeholder":false,"num":9}}]"#;
        let packet = decode_all(wire, &[b(b"!")]).expect("decode");
        assert_eq!(
            summary(&packet),
            r#"/ EVENT e ack=None [{"x":<21>,"y":[<21>],"z":{"_placeholder":false,"num":9}}]"#
        );
    }

    #[test]
    fn typed_arguments_from_packets() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Upload {
            name: String,
            data: Bytes,
        }
        let packet = decode_all(
            r#"51-["upload",{"name":"n","data":{"_placeholder":true,"num":0}},3]"#,
            &[b(b"xyz")],
        )
        .expect("decode");
        let PacketData::Event(event) = packet.data else {
            panic!("not an event")
        };
        let (upload, n): (Upload, u8) = event.args().deserialize().expect("typed");
        assert_eq!(upload.data, b(b"xyz"));
        assert_eq!(n, 3);
        let err = event
            .args()
            .deserialize::<(Upload, String)>()
            .expect_err("n is a number");
        assert_eq!(err.received(), "2 arguments (object, number)");
    }

    #[test]
    fn encode_errors() {
        assert!(matches!(
            encode_event("admin", "e", &(), None),
            Err(EncodeError::InvalidNamespace(n)) if n == "admin"
        ));
        assert!(matches!(
            encode_disconnect("/a,b"),
            Err(EncodeError::InvalidNamespace(_))
        ));
        for name in RESERVED_EVENTS {
            assert!(matches!(
                encode_event("/", name, &(), None),
                Err(EncodeError::ReservedEvent(n)) if n == name
            ));
        }
        let bad_keys = HashMap::from([((1, 2), 3)]);
        assert!(matches!(
            encode_event("/", "e", &bad_keys, None),
            Err(EncodeError::Serialize(_))
        ));
    }

    type ErrorCheck = fn(&DecodeError) -> bool;

    macro_rules! bad {
        ($input:expr, $pattern:pat) => {
            ($input, (|e| matches!(e, $pattern)) as ErrorCheck)
        };
    }

    #[test]
    fn malformed_text_table() {
        let huge = "9".repeat(400);
        let huge_attachments = format!("5{huge}-[\"a\"]");
        let huge_id = format!("2{huge}[\"a\"]");
        let huge_id_after_nsp = format!("3/a,{huge}[]");
        let cases: Vec<(&str, ErrorCheck)> = vec![
            bad!("", DecodeError::Empty),
            bad!("9", DecodeError::UnknownType('9')),
            bad!("7[\"a\"]", DecodeError::UnknownType('7')),
            bad!("x", DecodeError::UnknownType('x')),
            bad!("é", DecodeError::UnknownType('é')),
            bad!("[\"a\"]", DecodeError::UnknownType('[')),
            bad!("5", DecodeError::UnterminatedAttachments),
            bad!("51", DecodeError::UnterminatedAttachments),
            bad!("5[\"a\"]", DecodeError::InvalidAttachments),
            bad!("5abc-[]", DecodeError::InvalidAttachments),
            bad!("5-[\"a\"]", DecodeError::InvalidAttachments),
            bad!("50-[\"a\"]", DecodeError::InvalidAttachments),
            bad!("51.5-[\"a\"]", DecodeError::InvalidAttachments),
            bad!("5 1-[\"a\"]", DecodeError::InvalidAttachments),
            bad!("511-[\"a\"]", DecodeError::TooManyAttachments { max: 10 }),
            bad!(
                "618446744073709551616-1[]",
                DecodeError::TooManyAttachments { .. }
            ),
            bad!(&huge_attachments, DecodeError::TooManyAttachments { .. }),
            bad!("2/admin[\"foo\",1]", DecodeError::InvalidJson(_)),
            bad!(
                "2/admin,\"foo\"",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::Event,
                    got: "string",
                    ..
                }
            ),
            bad!("2/admin,x", DecodeError::InvalidJson(_)),
            bad!("2,[\"a\"]", DecodeError::InvalidJson(_)),
            bad!("2[", DecodeError::InvalidJson(_)),
            bad!("2[\"a\"", DecodeError::InvalidJson(_)),
            bad!("2[\"a\",]", DecodeError::InvalidJson(_)),
            bad!("2[\"a\"]x", DecodeError::InvalidJson(_)),
            bad!("2[\"a\\x\"]", DecodeError::InvalidJson(_)),
            bad!("2[\"a\",01]", DecodeError::InvalidJson(_)),
            bad!("2[]", DecodeError::EmptyEvent),
            bad!("2 [ ]", DecodeError::EmptyEvent),
            bad!("2[\"connect\"]", DecodeError::ReservedEvent(_)),
            bad!("2[\"connect_error\",1]", DecodeError::ReservedEvent(_)),
            bad!("2[\"disconnect\"]", DecodeError::ReservedEvent(_)),
            bad!("2[\"disconnecting\"]", DecodeError::ReservedEvent(_)),
            bad!("2[\"newListener\"]", DecodeError::ReservedEvent(_)),
            bad!("2[\"removeListener\"]", DecodeError::ReservedEvent(_)),
            bad!("2[\"\\u0064isconnect\"]", DecodeError::ReservedEvent(_)),
            bad!(
                "2{\"a\":1}",
                DecodeError::InvalidPayload { got: "object", .. }
            ),
            bad!("2\"ev\"", DecodeError::InvalidPayload { got: "string", .. }),
            bad!("2[{}]", DecodeError::InvalidEventName("object")),
            bad!("2[null]", DecodeError::InvalidEventName("null")),
            bad!("2[true]", DecodeError::InvalidEventName("boolean")),
            bad!("2[[\"a\"]]", DecodeError::InvalidEventName("array")),
            bad!(&huge_id, DecodeError::AckIdOverflow),
            bad!("218446744073709551616[\"a\"]", DecodeError::AckIdOverflow),
            bad!(&huge_id_after_nsp, DecodeError::AckIdOverflow),
            bad!(
                "31{}",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::Ack,
                    ..
                }
            ),
            bad!("31[", DecodeError::InvalidJson(_)),
            bad!(
                "1{}",
                DecodeError::UnexpectedPayload(PacketType::Disconnect)
            ),
            bad!(
                "1/admin,x",
                DecodeError::UnexpectedPayload(PacketType::Disconnect)
            ),
            bad!("11", DecodeError::UnexpectedAckId(PacketType::Disconnect)),
            bad!(
                "0[]",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::Connect,
                    got: "array",
                    ..
                }
            ),
            bad!(
                "0\"token\"",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::Connect,
                    ..
                }
            ),
            bad!("0null", DecodeError::InvalidPayload { got: "null", .. }),
            bad!("0{", DecodeError::InvalidJson(_)),
            bad!("0/admin,{\"a\":1}}", DecodeError::InvalidJson(_)),
            bad!("01{}", DecodeError::UnexpectedAckId(PacketType::Connect)),
            bad!("4", DecodeError::MissingPayload(PacketType::ConnectError)),
            bad!(
                "4[1]",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::ConnectError,
                    ..
                }
            ),
            bad!(
                "41\"x\"",
                DecodeError::UnexpectedAckId(PacketType::ConnectError)
            ),
            bad!("51-", DecodeError::MissingPayload(PacketType::BinaryEvent)),
            bad!(
                "51-{}",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::BinaryEvent,
                    ..
                }
            ),
            bad!("51-[]", DecodeError::EmptyEvent),
            bad!(
                "51-[{\"_placeholder\":true,\"num\":0}]",
                DecodeError::InvalidEventName("object")
            ),
            bad!(
                "51-[\"connect\",{\"_placeholder\":true,\"num\":0}]",
                DecodeError::ReservedEvent(_)
            ),
            bad!("51-[\"a\",", DecodeError::InvalidJson(_)),
            bad!(
                "61-[\"a\"]",
                DecodeError::MissingAckId(PacketType::BinaryAck)
            ),
            bad!(
                "61-1{}",
                DecodeError::InvalidPayload {
                    packet_type: PacketType::BinaryAck,
                    ..
                }
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
                DecodeError::PlaceholderOutOfRange {
                    num: 1,
                    attachments: 1
                }
            ),
            bad!(
                "52-[\"a\",[{\"k\":{\"_placeholder\":true,\"num\":2}}]]",
                DecodeError::PlaceholderOutOfRange {
                    num: 2,
                    attachments: 2
                }
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",
                DecodeError::InvalidPlaceholder
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":0.5}]",
                DecodeError::InvalidPlaceholder
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",
                DecodeError::InvalidPlaceholder
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true}]",
                DecodeError::InvalidPlaceholder
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":1e300}]",
                DecodeError::PlaceholderOutOfRange { .. } | DecodeError::InvalidPlaceholder
            ),
            bad!(
                "51-[\"a\",{\"_placeholder\":true,\"num\":18446744073709551616}]",
                DecodeError::PlaceholderOutOfRange { .. } | DecodeError::InvalidPlaceholder
            ),
        ];
        for (input, check) in cases {
            let mut decoder = Decoder::new();
            match decoder.decode_text(input) {
                Err(e) => {
                    assert!(check(&e), "{input:?}: unexpected error {e:?}");
                    assert!(!e.to_string().is_empty());
                }
                Ok(p) => panic!("{input:?} decoded as {p:?}"),
            }
            assert_eq!(decoder.pending_attachments(), 0, "{input:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("51-[\"a\",{}1{}]", "[".repeat(1000), "]".repeat(1000));
        assert!(matches!(
            Decoder::new().decode_text(&deep),
            Err(DecodeError::InvalidJson(_))
        ));
        let deep = format!("2[\"a\",{}1{}]", "[".repeat(1000), "]".repeat(1000));
        if let Ok(Some(Packet {
            data: PacketData::Event(event),
            ..
        })) = Decoder::new().decode_text(&deep)
        {
            assert!(event.args().deserialize::<Value>().is_err());
        }
    }

    #[test]
    fn attachment_limit_is_configurable() {
        let mut decoder = Decoder::with_max_attachments(2);
        assert!(matches!(
            decoder.decode_text("53-[\"a\"]"),
            Err(DecodeError::TooManyAttachments { max: 2 })
        ));
        assert!(decoder
            .decode_text("52-[\"a\"]")
            .expect("2 allowed")
            .is_none());
        assert_eq!(decoder.pending_attachments(), 2);
        let mut decoder = Decoder::with_max_attachments(usize::MAX);
        assert!(decoder
            .decode_text("5999999999-[\"a\"]")
            .expect("allowed")
            .is_none());
        assert_eq!(decoder.pending_attachments(), 999_999_999);
    }

    #[test]
    fn decoder_state_machine() {
        let header = r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;

        // Binary with nothing pending.
        let mut decoder = Decoder::new();
        assert!(matches!(
            decoder.decode_binary(b(b"x")),
            Err(DecodeError::UnexpectedBinary)
        ));

        // Text while attachments are pending, then the state is reset.
        assert!(decoder.decode_text(header).expect("header").is_none());
        assert!(decoder.decode_binary(b(b"1")).expect("first").is_none());
        assert_eq!(decoder.pending_attachments(), 1);
        assert!(matches!(
            decoder.decode_text(r#"2["b"]"#),
            Err(DecodeError::UnexpectedText { pending: 1 })
        ));
        assert_eq!(decoder.pending_attachments(), 0);
        assert!(matches!(
            decoder.decode_binary(b(b"2")),
            Err(DecodeError::UnexpectedBinary)
        ));

        // A complete packet, then one attachment too many.
        assert!(decoder.decode_text(header).expect("header").is_none());
        assert!(decoder.decode_binary(b(b"1")).expect("first").is_none());
        let packet = decoder
            .decode_binary(b(b"2"))
            .expect("second")
            .expect("complete");
        assert_eq!(summary(&packet), "/ EVENT a ack=None [<31>,<32>]");
        assert!(matches!(
            decoder.decode_binary(b(b"3")),
            Err(DecodeError::UnexpectedBinary)
        ));

        // Plain packets keep flowing, and reset() drops a partial packet.
        assert!(decoder.decode_text(r#"2["b"]"#).expect("plain").is_some());
        assert!(decoder.decode_text(header).expect("header").is_none());
        decoder.reset();
        assert!(decoder
            .decode_text(r#"2["b"]"#)
            .expect("after reset")
            .is_some());
    }

    /// Arguments whose serialization encodes another packet: the nested encode
    /// must not share the outer one's scratch buffer.
    struct EncodesWhileSerialized;

    impl Serialize for EncodesWhileSerialized {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let inner = encode_event("/in", "inner", &("x".repeat(300), 2), Some(7))
                .map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(inner.as_str())
        }
    }

    #[test]
    fn decimals_are_written_whole() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::MAX] {
            let mut buf = BytesMut::new();
            put_decimal(&mut buf, n);
            assert_eq!(&buf[..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn nested_encodes_keep_their_own_buffers() {
        let inner = format!(r#"42/in,7["inner","{}",2]"#, "x".repeat(300));
        for _ in 0..3 {
            let outer = encode_ack("/", 3, &(1, EncodesWhileSerialized, 2)).expect("encode");
            let want = format!("433[1,{},2]", serde_json::to_string(&inner).expect("json"));
            assert_eq!(outer.as_str(), want);
            assert_eq!(outer.text.len(), want.len());
        }
        let big = "y".repeat(SCRATCH_KEEP * 2);
        let encoded = encode_event("/", "big", &big, None).expect("big");
        assert_eq!(encoded.as_str().len(), big.len() + r#"42["big",""]"#.len());
        assert_eq!(encode_ack("/", 1, &()).expect("small").as_str(), "431[]");
    }

    #[test]
    fn accepted_edge_cases() {
        let cases: Vec<(&str, &str)> = vec![
            ("1/admin", "/admin DISCONNECT"),
            ("0/admin", "/admin CONNECT"),
            ("0/admin,", "/admin CONNECT"),
            ("0 {} ", "/ CONNECT {}"),
            ("2/,[\"a\"]", "/ EVENT a ack=None []"),
            ("2012[\"a\"]", "/ EVENT a ack=Some(12) []"),
            ("2[1,2]", "/ EVENT 1 ack=None [2]"),
            ("2[-1.5]", "/ EVENT -1.5 ack=None []"),
            ("2[\"a\\\"b\"]", "/ EVENT a\"b ack=None []"),
            ("2/ü,[\"é\",\"ß\"]", "/ü EVENT é ack=None [\"ß\"]"),
            ("2/a/b,1[\"x\"]", "/a/b EVENT x ack=Some(1) []"),
            ("2 [ \"a\" , 1 ]", "/ EVENT a ack=None [1]"),
            ("318446744073709551615[]", "/ ACK 18446744073709551615 []"),
            ("4\"oops\"", "/ CONNECT_ERROR \"oops\""),
            ("51-[1,{\"_placeholder\":true,\"num\":0}]", "PENDING"),
            ("501-[\"a\"]", "PENDING"),
        ];
        for (input, want) in cases {
            let got = Decoder::new()
                .decode_text(input)
                .unwrap_or_else(|e| panic!("{input:?}: {e}"));
            match got {
                Some(p) => {
                    assert_eq!(summary(&p), want, "{input:?}");
                    let again = p.encode().expect("re-encode");
                    let text = again.as_str().strip_prefix('4').expect("prefix");
                    let p2 = decode_all(text, &again.attachments).expect("decode again");
                    assert_eq!(p2, p, "{input:?}");
                }
                None => assert_eq!(want, "PENDING", "{input:?}"),
            }
        }
    }

    /// xorshift64*: deterministic pseudo-random numbers for the garbage tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const ALPHABET: &[u8] = b"0123456789-/,[]{}\":_placeholdernum truefalse\\.eE+ab";

    fn garbage(rng: &mut Rng) -> String {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.below(10) {
                0 => (rng.next() & 0xff) as u8,
                _ => ALPHABET[rng.below(ALPHABET.len())],
            })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn mutate(rng: &mut Rng, seed: &str) -> String {
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(3) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 if at < bytes.len() => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                _ => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Whatever the input, the decoder returns a value or an error; every
    /// packet it accepts encodes again and decodes to the same packet.
    #[test]
    fn garbage_never_panics() {
        let seeds: Vec<&str> = protocol_examples().iter().map(|e| e.wire).collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut accepted_binary) = (0, 0);
        for round in 0..30_000 {
            let input = if round % 2 == 0 {
                garbage(&mut rng)
            } else {
                let seed = seeds[rng.below(seeds.len())];
                mutate(&mut rng, seed)
            };
            let mut decoder = Decoder::with_max_attachments(3);
            let mut attachments = Vec::new();
            let mut result = decoder.decode_text(&input);
            while let Ok(None) = result {
                if decoder.pending_attachments() == 0 || rng.below(20) == 0 {
                    result = decoder.decode_text(&input);
                    break;
                }
                let bin = Bytes::from(garbage(&mut rng).into_bytes());
                attachments.push(bin.clone());
                result = decoder.decode_binary(bin);
            }
            if let Ok(Some(packet)) = result {
                accepted += 1;
                if packet.packet_type().is_binary() {
                    accepted_binary += 1;
                }
                if let PacketData::Event(e) = &packet.data {
                    let _ = e.args().deserialize::<(Value, String, Option<u8>)>();
                    let _ = e.args().to_values();
                }
                let encoded = packet
                    .encode()
                    .unwrap_or_else(|e| panic!("{input:?}: re-encode failed: {e}"));
                let text = encoded.as_str().strip_prefix('4').expect("prefix");
                let again = decode_all(text, &encoded.attachments)
                    .unwrap_or_else(|e| panic!("{input:?}: re-decode failed: {e}"));
                assert_eq!(again, packet, "{input:?}");
            }
        }
        assert!(accepted > 100, "only {accepted} inputs accepted");
        assert!(
            accepted_binary > 10,
            "only {accepted_binary} binary packets accepted"
        );
    }

    #[test]
    fn accepts_the_empty_packets_node_accepts() {
        let cases: &[(&str, &str, PacketType)] = &[
            ("2", "/", PacketType::Event),
            ("2/admin", "/admin", PacketType::Event),
            ("2/admin,", "/admin", PacketType::Event),
            ("2/admin,1", "/admin", PacketType::Event),
            ("2/admin[\"foo\"]", "/admin[\"foo\"]", PacketType::Event),
            ("3[\"a\"]", "/", PacketType::Ack),
            ("3/admin,[]", "/admin", PacketType::Ack),
        ];
        for (input, nsp, ty) in cases {
            let packet = Decoder::new().decode_text(input).unwrap().unwrap();
            assert_eq!(packet.nsp, *nsp, "{input}");
            assert_eq!(packet.data, PacketData::Empty(*ty), "{input}");
        }
        let packet = Decoder::new().decode_text("31").unwrap().unwrap();
        let PacketData::Ack(ack) = packet.data else {
            panic!("not an ack");
        };
        assert_eq!(ack.id(), 1);
        assert!(ack.args().is_empty());
    }
}
