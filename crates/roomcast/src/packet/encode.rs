//! Encoding packets into the Engine.IO text message (and binary attachments)
//! that carries them.

use std::cell::Cell;

use bytes::{BufMut, Bytes, BytesMut};
use roomcast_engineio::{Frame, InvalidFrame};
use serde::Serialize;

use super::types::{is_reserved_event, Packet, PacketData, PacketType, RawJson};
use crate::payload;
use crate::value::ValueError;

/// An encoded packet: the Engine.IO text message and the binary messages to
/// send right after it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The complete Engine.IO text packet, `4` (message) included, UTF-8; with the msgpack
    /// parser, the packet's MessagePack bytes (a binary message).
    pub text: Bytes,
    /// Binary attachments, each sent as its own binary Engine.IO message (none with the
    /// msgpack parser).
    pub attachments: Vec<Bytes>,
    /// Whether `text` is a binary message (the msgpack parser).
    pub(crate) binary: bool,
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
            binary: false,
        }
    }

    /// A MessagePack packet: one binary message.
    pub(crate) fn msgpack(bytes: Vec<u8>) -> EncodedPacket {
        EncodedPacket {
            text: Bytes::from(bytes),
            attachments: Vec::new(),
            binary: true,
        }
    }

    /// The first message as a frame: the text packet, or the MessagePack one.
    pub(crate) fn head_frame(text: Bytes, binary: bool) -> Result<Frame, InvalidFrame> {
        if binary {
            Ok(Frame::binary(text))
        } else {
            Frame::from_encoded_message(text)
        }
    }

    /// The text packet as a `&str` (empty for a MessagePack packet).
    pub fn as_str(&self) -> &str {
        if self.binary {
            return "";
        }
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The Engine.IO frames of the packet, in order: the text message, then one binary
    /// message per attachment. The buffers move into the frames (a fresh buffer's first clone
    /// would allocate).
    pub fn into_frames(self) -> Result<Vec<Frame>, EncodeError> {
        let mut frames = Vec::with_capacity(1 + self.attachments.len());
        frames.push(EncodedPacket::head_frame(self.text, self.binary)?);
        frames.extend(self.attachments.into_iter().map(Frame::binary));
        Ok(frames)
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
    /// The payload could not be converted into values (binary kept), for the adapter.
    #[error("cannot convert the payload: {0}")]
    Convert(#[from] ValueError),
    /// Frames read back as an event are not one (a broadcast packet's own frames always are).
    #[error("the frames are not an encoded event")]
    NotAnEvent,
    /// The encoder's output is not an Engine.IO text message (it always is).
    #[error("encoded packet is not an Engine.IO message: {0}")]
    Frame(#[from] InvalidFrame),
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
        binary: false,
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

/// Encodes the CONNECT reply a Socket.IO v2 client (Engine.IO v3) expects: no payload.
///
/// ```
/// use roomcast::packet::encode_connect_v2;
/// assert_eq!(encode_connect_v2("/").unwrap().as_str(), "40");
/// assert_eq!(encode_connect_v2("/admin").unwrap().as_str(), "40/admin,");
/// ```
pub fn encode_connect_v2(nsp: &str) -> Result<EncodedPacket, EncodeError> {
    Ok(EncodedPacket::text(start(
        PacketType::Connect,
        nsp,
        None,
        0,
    )?))
}

/// Encodes the CONNECT_ERROR a Socket.IO v2 client expects: the error's data, or its message
/// as a string.
///
/// ```
/// use roomcast::packet::encode_connect_error_v2;
/// let encoded = encode_connect_error_v2("/", "Not authorized", None).unwrap();
/// assert_eq!(encoded.as_str(), r#"44"Not authorized""#);
/// ```
pub fn encode_connect_error_v2(
    nsp: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Result<EncodedPacket, EncodeError> {
    let mut buf = start(PacketType::ConnectError, nsp, None, message.len() + 8)?;
    match data {
        Some(data) => serde_json::to_writer((&mut buf).writer(), data)?,
        None => serde_json::to_writer((&mut buf).writer(), message)?,
    }
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

impl Packet {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
