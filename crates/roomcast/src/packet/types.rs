//! What a Socket.IO packet is: its types, its decoded form, and the events and
//! acknowledgements it carries.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::payload::Args;
use crate::value::Value;

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
pub struct RawJson(pub(super) Box<RawValue>);

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
    pub(super) name: String,
    /// The name came as a JSON number (Node accepts `42[1]`).
    pub(super) numeric_name: bool,
    pub(super) ack_id: Option<u64>,
    pub(super) args: Args,
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
    pub(super) id: u64,
    pub(super) args: Args,
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
}
