//! The packet encoding a server speaks with every client: Socket.IO's text encoding (the
//! default), or the binary one of `socket.io-msgpack-parser`.

use bytes::Bytes;
use serde::Serialize;

use super::decode::{DecodeError, Decoder};
use super::encode::{
    encode_ack, encode_connect, encode_connect_error, encode_connect_error_v2, encode_connect_v2,
    encode_disconnect, encode_event, EncodeError, EncodedPacket,
};
use super::msgpack;
use super::types::Packet;
use crate::value::Value;

/// How packets are encoded on the wire (Node's `parser` server option); the clients must use
/// the same.
///
/// ```
/// use roomcast::{packet::Parser, ServerOptions};
///
/// let mut options = ServerOptions::default();
/// // Clients: io(url, { parser: require("socket.io-msgpack-parser") })
/// options.parser = Parser::MsgPack;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parser {
    /// Socket.IO's own encoding: a text message per packet, binary arguments as attachments.
    #[default]
    Json,
    /// `socket.io-msgpack-parser`: one binary MessagePack message per packet, binary
    /// arguments inline.
    MsgPack,
}

impl Parser {
    /// The server's CONNECT reply.
    pub fn connect(
        self,
        nsp: &str,
        sid: &str,
        pid: Option<&str>,
    ) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_connect(nsp, sid, pid),
            Parser::MsgPack => msgpack::connect(nsp, sid, pid),
        }
    }

    /// A CONNECT_ERROR.
    pub fn connect_error<D: Serialize + ?Sized>(
        self,
        nsp: &str,
        message: &str,
        data: Option<&D>,
    ) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_connect_error(nsp, message, data),
            Parser::MsgPack => msgpack::connect_error(nsp, message, data),
        }
    }

    /// The CONNECT reply to a Socket.IO v2 client (no session id in it).
    pub fn connect_v2(self, nsp: &str) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_connect_v2(nsp),
            Parser::MsgPack => msgpack::connect_v2(nsp),
        }
    }

    /// A CONNECT_ERROR to a Socket.IO v2 client: `data` if given, else the message alone.
    pub fn connect_error_v2(
        self,
        nsp: &str,
        message: &str,
        data: Option<&serde_json::Value>,
    ) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_connect_error_v2(nsp, message, data),
            Parser::MsgPack => msgpack::connect_error_v2(nsp, message, data),
        }
    }

    /// A DISCONNECT.
    pub fn disconnect(self, nsp: &str) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_disconnect(nsp),
            Parser::MsgPack => msgpack::disconnect(nsp),
        }
    }

    /// An event (`args` spread as [`crate::payload`] says).
    #[inline]
    pub fn event<T: Serialize + ?Sized>(
        self,
        nsp: &str,
        event: &str,
        args: &T,
        ack_id: Option<u64>,
    ) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_event(nsp, event, args, ack_id),
            Parser::MsgPack => msgpack::event(nsp, event, args, ack_id),
        }
    }

    /// An acknowledgement.
    #[inline]
    pub fn ack<T: Serialize + ?Sized>(
        self,
        nsp: &str,
        id: u64,
        args: &T,
    ) -> Result<EncodedPacket, EncodeError> {
        match self {
            Parser::Json => encode_ack(nsp, id, args),
            Parser::MsgPack => msgpack::ack(nsp, id, args),
        }
    }
}

/// How many binary attachments one packet may carry, and how many bytes they may add up to
/// (what a connection holds while a binary packet is incomplete). The msgpack parser has no
/// attachments: its packets are bounded by the transport's `max_payload`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttachmentLimits {
    pub(crate) count: usize,
    pub(crate) bytes: usize,
}

/// What reads one connection's packets: the text decoder (which keeps the state of a binary
/// packet waiting for its attachments), or the stateless MessagePack one.
#[derive(Debug)]
pub(crate) enum PacketReader {
    Json(Decoder),
    MsgPack,
}

impl PacketReader {
    pub(crate) fn new(parser: Parser, limits: AttachmentLimits) -> PacketReader {
        match parser {
            Parser::Json => PacketReader::Json(Decoder::with_limits(limits.count, limits.bytes)),
            Parser::MsgPack => PacketReader::MsgPack,
        }
    }

    /// A text message: a packet, or `None` while attachments are awaited.
    pub(crate) fn text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        match self {
            PacketReader::Json(decoder) => decoder.decode_text(text),
            PacketReader::MsgPack => Err(DecodeError::TextForMsgPack),
        }
    }

    /// A binary message: an attachment, or a MessagePack packet.
    pub(crate) fn binary(&mut self, bytes: Bytes) -> Result<Option<Packet>, DecodeError> {
        match self {
            PacketReader::Json(decoder) => decoder.decode_binary(bytes),
            PacketReader::MsgPack => msgpack::decode(&bytes).map(Some),
        }
    }
}

/// A MessagePack event with one more argument at the end.
pub(crate) fn msgpack_with_extra_arg(
    bytes: &Bytes,
    extra: Value,
) -> Result<EncodedPacket, EncodeError> {
    msgpack::with_extra_arg(bytes, extra)
}

/// Reads a MessagePack packet.
pub(crate) fn decode_msgpack(bytes: &[u8]) -> Result<Packet, DecodeError> {
    msgpack::decode(bytes)
}
