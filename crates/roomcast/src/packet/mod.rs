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

mod decode;
mod encode;
mod msgpack;
mod parser;
mod types;

pub use decode::{DecodeError, Decoder};
pub use encode::{
    encode_ack, encode_connect, encode_connect_error, encode_connect_error_v2, encode_connect_v2,
    encode_disconnect, encode_event, EncodeError, EncodedPacket,
};
pub use parser::Parser;
pub(crate) use parser::{decode_msgpack, msgpack_with_extra_arg, AttachmentLimits, PacketReader};
pub use types::{
    is_reserved_event, Ack, Event, Packet, PacketData, PacketType, RawJson, RESERVED_EVENTS,
};

#[cfg(test)]
mod tests;
