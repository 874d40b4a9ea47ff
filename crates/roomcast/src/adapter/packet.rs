//! A broadcast packet: encoded once into the frames every recipient shares, and readable as
//! its event and arguments (binary inline) by an adapter that forwards it elsewhere.

use std::sync::{Arc, OnceLock};

use roomcast_engineio::Frame;

use crate::error::Error;
use crate::packet::{
    decode_msgpack, msgpack_with_extra_arg, Decoder, EncodeError, EncodedPacket, PacketData, Parser,
};
use crate::payload::Spread;
use crate::value::Value;

/// A broadcast packet.
///
/// A packet emitted in this process is encoded once, and the same frames are queued for every
/// recipient; its decoded form (event and arguments, binary inline as [`Value::Binary`]) is
/// made on first use, by an adapter that forwards it to other servers. A packet that came
/// from another server is built from its decoded form with [`BroadcastPacket::new`] and
/// encoded once for the sockets of this process.
///
/// ```
/// use roomcast::{BroadcastPacket, Value};
///
/// let packet = BroadcastPacket::new("/chat", "news", vec![Value::from("hi")], None).unwrap();
/// assert_eq!(packet.frames()[0].as_bytes(), br#"42/chat,["news","hi"]"#);
/// assert_eq!(packet.event().unwrap(), "news");
/// assert_eq!(packet.args().unwrap(), &[Value::from("hi")]);
/// ```
#[derive(Debug, Clone)]
pub struct BroadcastPacket {
    nsp: Arc<str>,
    ack_id: Option<u64>,
    frames: Arc<[Frame]>,
    decoded: OnceLock<Decoded>,
}

/// The event name and its arguments.
#[derive(Debug, Clone)]
struct Decoded {
    event: String,
    args: Vec<Value>,
}

impl BroadcastPacket {
    /// A packet from its decoded form: an event, its arguments (binary as
    /// [`Value::Binary`]) and, for a broadcast asking for acknowledgements, the id they answer.
    pub fn new(
        nsp: impl Into<Arc<str>>,
        event: &str,
        args: Vec<Value>,
        ack_id: Option<u64>,
    ) -> Result<BroadcastPacket, Error> {
        BroadcastPacket::encode(Parser::Json, nsp, event, args, ack_id)
    }

    /// As [`BroadcastPacket::new`], encoded with `parser` (an adapter passes the namespace's,
    /// [`NamespaceHooks::parser`](crate::adapter::NamespaceHooks::parser)).
    pub fn encode(
        parser: Parser,
        nsp: impl Into<Arc<str>>,
        event: &str,
        args: Vec<Value>,
        ack_id: Option<u64>,
    ) -> Result<BroadcastPacket, Error> {
        let nsp = nsp.into();
        let encoded = parser.event(&nsp, event, &Spread(&args), ack_id)?;
        let packet = BroadcastPacket::encoded(nsp, ack_id, encoded)?;
        let _ = packet.decoded.set(Decoded {
            event: event.to_owned(),
            args,
        });
        Ok(packet)
    }

    /// A packet encoded in this process.
    pub(crate) fn encoded(
        nsp: Arc<str>,
        ack_id: Option<u64>,
        encoded: EncodedPacket,
    ) -> Result<BroadcastPacket, Error> {
        let EncodedPacket {
            text,
            attachments,
            binary,
        } = encoded;
        // Shared by every recipient: the clone turns the fresh buffer into a shared one once
        // here, so that each recipient's clone is a plain reference count increment.
        let text = EncodedPacket::head_frame(text.clone(), binary).map_err(EncodeError::from)?;
        Ok(BroadcastPacket {
            nsp,
            ack_id,
            frames: std::iter::once(text)
                .chain(attachments.into_iter().map(Frame::binary))
                .collect(),
            decoded: OnceLock::new(),
        })
    }

    /// The namespace the packet belongs to.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The acknowledgement id, for a broadcast asking for acknowledgements.
    pub fn ack_id(&self) -> Option<u64> {
        self.ack_id
    }

    /// The Engine.IO frames every recipient gets: the text message, then one binary message
    /// per attachment.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Whether recovery keeps this packet and gives it an offset: an event that asks for no
    /// acknowledgement, broadcast without the `volatile` flag.
    pub fn recoverable(&self, volatile: bool) -> bool {
        self.ack_id.is_none() && !volatile
    }

    /// The same event with `offset` as its last argument (connection state recovery: clients
    /// keep the last one they received and present it when they reconnect).
    ///
    /// ```
    /// use roomcast::{BroadcastPacket, Value};
    ///
    /// let packet = BroadcastPacket::new("/", "news", vec![Value::from(1)], None).unwrap();
    /// let packet = packet.with_offset("1796-0").unwrap();
    /// assert_eq!(packet.frames()[0].as_bytes(), br#"42["news",1,"1796-0"]"#);
    /// ```
    pub fn with_offset(&self, offset: &str) -> Result<BroadcastPacket, Error> {
        let (text, attachments) = self.frames.split_first().ok_or(EncodeError::NotAnEvent)?;
        if text.is_binary() {
            // A MessagePack packet: decoded, extended, written again.
            let bytes = bytes::Bytes::copy_from_slice(text.as_bytes());
            let encoded = msgpack_with_extra_arg(&bytes, Value::from(offset))?;
            return BroadcastPacket::encoded(self.nsp.clone(), self.ack_id, encoded);
        }
        let text = text.as_bytes();
        let Some((b']', body)) = text.split_last() else {
            return Err(EncodeError::NotAnEvent.into());
        };
        let offset_json = serde_json::to_string(offset).map_err(EncodeError::from)?;
        let mut extended = Vec::with_capacity(text.len() + offset_json.len() + 1);
        extended.extend_from_slice(body);
        extended.push(b',');
        extended.extend_from_slice(offset_json.as_bytes());
        extended.push(b']');
        // Shared by every recipient: shared once here (see `BroadcastPacket::encoded`).
        let shared = bytes::Bytes::from(extended).clone();
        let frame = Frame::from_encoded_message(shared).map_err(EncodeError::from)?;
        let decoded = OnceLock::new();
        if let Some(known) = self.decoded.get() {
            let mut args = known.args.clone();
            args.push(Value::from(offset));
            let _ = decoded.set(Decoded {
                event: known.event.clone(),
                args,
            });
        }
        Ok(BroadcastPacket {
            nsp: self.nsp.clone(),
            ack_id: self.ack_id,
            frames: std::iter::once(frame)
                .chain(attachments.iter().cloned())
                .collect(),
            decoded,
        })
    }

    /// The event name.
    pub fn event(&self) -> Result<&str, Error> {
        Ok(&self.decoded()?.event)
    }

    /// The arguments after the event name, binary inline as [`Value::Binary`].
    pub fn args(&self) -> Result<&[Value], Error> {
        Ok(&self.decoded()?.args)
    }

    fn decoded(&self) -> Result<&Decoded, Error> {
        if let Some(decoded) = self.decoded.get() {
            return Ok(decoded);
        }
        let decoded = decode(&self.frames)?;
        Ok(self.decoded.get_or_init(|| decoded))
    }
}

/// The event name and arguments (binary inline) of an event packet's frames (the text message,
/// then one binary message per attachment), as an observer sees them.
///
/// ```
/// use roomcast::{adapter::read_event, BroadcastPacket, Value};
///
/// let packet = BroadcastPacket::new("/", "news", vec![Value::from(1)], None).unwrap();
/// let (event, args) = read_event(packet.frames()).unwrap();
/// assert_eq!((event.as_str(), args), ("news", vec![Value::from(1)]));
/// ```
pub fn read_event(frames: &[Frame]) -> Result<(String, Vec<Value>), Error> {
    decode(frames).map(|decoded| (decoded.event, decoded.args))
}

/// Reads back the event of frames this process encoded.
fn decode(frames: &[Frame]) -> Result<Decoded, Error> {
    let not_an_event = || Error::Encode(EncodeError::NotAnEvent);
    let (text, attachments) = frames.split_first().ok_or_else(not_an_event)?;
    let packet = if text.is_binary() {
        decode_msgpack(text.as_bytes()).map_err(|_| not_an_event())?
    } else {
        decode_text(text, attachments).ok_or_else(not_an_event)?
    };
    let PacketData::Event(event) = packet.data else {
        return Err(not_an_event());
    };
    let (event, _, args) = event.into_parts();
    Ok(Decoded {
        event,
        args: args.into_values()?,
    })
}

/// Reads a text packet and its attachments back.
fn decode_text(text: &Frame, attachments: &[Frame]) -> Option<crate::packet::Packet> {
    let text = std::str::from_utf8(text.as_bytes())
        .ok()?
        .strip_prefix('4')?;
    let mut decoder = Decoder::new();
    let mut packet = decoder.decode_text(text).ok()?;
    for attachment in attachments {
        packet = decoder
            .decode_binary(bytes::Bytes::copy_from_slice(attachment.as_bytes()))
            .ok()?;
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::encode_event;
    use bytes::Bytes;

    #[test]
    fn a_local_packet_reads_back_as_its_event_and_arguments() {
        let binary = Bytes::from_static(&[1, 2, 3]);
        let encoded = encode_event("/", "file", &("name", binary.clone()), Some(7)).unwrap();
        let packet = BroadcastPacket::encoded("/".into(), Some(7), encoded).unwrap();
        assert_eq!(packet.frames().len(), 2);
        assert_eq!(packet.event().unwrap(), "file");
        assert_eq!(
            packet.args().unwrap(),
            &[Value::from("name"), Value::Binary(binary)]
        );
    }

    #[test]
    fn a_packet_from_values_is_encoded_once_with_its_attachments() {
        let args = vec![Value::from(1), Value::Binary(Bytes::from_static(b"ab"))];
        let packet = BroadcastPacket::new("/chat", "ev", args.clone(), Some(3)).unwrap();
        assert_eq!(
            packet.frames()[0].as_bytes(),
            br#"451-/chat,3["ev",1,{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(packet.frames()[1].as_bytes(), b"ab");
        assert_eq!(packet.args().unwrap(), &args[..]);
        assert!(BroadcastPacket::new("/", "disconnect", vec![], None).is_err());
    }

    #[test]
    fn a_msgpack_packet_reads_back_and_takes_an_offset() {
        let args = vec![Value::from(1), Value::Binary(Bytes::from_static(b"ab"))];
        let packet =
            BroadcastPacket::encode(Parser::MsgPack, "/chat", "ev", args.clone(), None).unwrap();
        assert_eq!(packet.frames().len(), 1);
        assert!(packet.frames()[0].is_binary());
        let (event, read) = read_event(packet.frames()).unwrap();
        assert_eq!((event.as_str(), read), ("ev", args.clone()));
        let with_offset = packet.with_offset("12-0").unwrap();
        let (_, read) = read_event(with_offset.frames()).unwrap();
        let mut expected = args;
        expected.push(Value::from("12-0"));
        assert_eq!(read, expected);
    }
}
