//! The binary encoding of `socket.io-msgpack-parser`: each packet is one MessagePack map
//! `{type, data, nsp, id?}` in one binary Engine.IO message, binary arguments inline as `bin`,
//! no attachments and no BINARY_EVENT / BINARY_ACK types. Decoding checks what that parser's
//! `checkPacket` checks, with its error messages.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Serialize;

use super::decode::DecodeError;
use super::encode::{EncodeError, EncodedPacket};
use super::types::{is_reserved_event, Ack, Event, Packet, PacketData, PacketType, RawJson};
use crate::payload::{to_arg_values, Args};
use crate::value::msgpack::{self, Writer};
use crate::value::{to_value, Map, Value};

/// Writes the map `{type, data?, nsp, id?}`.
fn packet(ty: PacketType, nsp: &str, data: Option<&Value>, id: Option<u64>) -> EncodedPacket {
    let mut writer = Writer::new();
    writer.map(2 + usize::from(data.is_some()) + usize::from(id.is_some()));
    writer.str("type");
    writer.uint(u64::from(ty.as_u8()));
    if let Some(data) = data {
        writer.str("data");
        writer.value(data);
    }
    writer.str("nsp");
    writer.str(nsp);
    if let Some(id) = id {
        writer.str("id");
        writer.uint(id);
    }
    EncodedPacket::msgpack(writer.finish())
}

fn check_nsp(nsp: &str) -> Result<&str, EncodeError> {
    match nsp {
        "" => Ok("/"),
        _ if nsp.starts_with('/') => Ok(nsp),
        _ => Err(EncodeError::InvalidNamespace(nsp.to_owned())),
    }
}

/// The CONNECT reply: `data: {sid, pid?}`.
pub(crate) fn connect(
    nsp: &str,
    sid: &str,
    pid: Option<&str>,
) -> Result<EncodedPacket, EncodeError> {
    let mut data = Map::new();
    data.insert("sid".to_owned(), Value::from(sid));
    if let Some(pid) = pid {
        data.insert("pid".to_owned(), Value::from(pid));
    }
    Ok(packet(
        PacketType::Connect,
        check_nsp(nsp)?,
        Some(&Value::Object(data)),
        None,
    ))
}

/// A CONNECT_ERROR: `data: {message, data?}`.
pub(crate) fn connect_error<D: Serialize + ?Sized>(
    nsp: &str,
    message: &str,
    data: Option<&D>,
) -> Result<EncodedPacket, EncodeError> {
    let mut payload = Map::new();
    payload.insert("message".to_owned(), Value::from(message));
    if let Some(data) = data {
        payload.insert("data".to_owned(), to_value(data)?);
    }
    Ok(packet(
        PacketType::ConnectError,
        check_nsp(nsp)?,
        Some(&Value::Object(payload)),
        None,
    ))
}

/// The CONNECT reply of a Socket.IO v2 client: no data.
pub(crate) fn connect_v2(nsp: &str) -> Result<EncodedPacket, EncodeError> {
    Ok(packet(PacketType::Connect, check_nsp(nsp)?, None, None))
}

/// The CONNECT_ERROR of a Socket.IO v2 client: the error's data, or its message.
pub(crate) fn connect_error_v2(
    nsp: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> Result<EncodedPacket, EncodeError> {
    let data = match data {
        Some(data) => to_value(data)?,
        None => Value::from(message),
    };
    Ok(packet(
        PacketType::ConnectError,
        check_nsp(nsp)?,
        Some(&data),
        None,
    ))
}

/// A DISCONNECT (no data).
pub(crate) fn disconnect(nsp: &str) -> Result<EncodedPacket, EncodeError> {
    Ok(packet(PacketType::Disconnect, check_nsp(nsp)?, None, None))
}

/// An EVENT: `data: [event, ...args]` (the arguments as [`crate::payload`] spreads them).
pub(crate) fn event<T: Serialize + ?Sized>(
    nsp: &str,
    event: &str,
    args: &T,
    ack_id: Option<u64>,
) -> Result<EncodedPacket, EncodeError> {
    if is_reserved_event(event) {
        return Err(EncodeError::ReservedEvent(event.to_owned()));
    }
    let mut data = vec![Value::from(event)];
    data.extend(to_arg_values(args)?);
    Ok(packet(
        PacketType::Event,
        check_nsp(nsp)?,
        Some(&Value::Array(data)),
        ack_id,
    ))
}

/// An ACK: `data: [...args]`.
pub(crate) fn ack<T: Serialize + ?Sized>(
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<EncodedPacket, EncodeError> {
    let data = Value::Array(to_arg_values(args)?);
    Ok(packet(
        PacketType::Ack,
        check_nsp(nsp)?,
        Some(&data),
        Some(id),
    ))
}

/// Reads one packet from a binary message, as `socket.io-msgpack-parser`'s decoder does.
pub(crate) fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    let Value::Object(mut fields) = msgpack::decode(bytes).map_err(DecodeError::InvalidMsgPack)?
    else {
        return Err(DecodeError::InvalidMsgPackPacket("invalid packet type"));
    };
    let ty = fields
        .get("type")
        .and_then(Value::as_u64)
        .and_then(|ty| u8::try_from(ty).ok())
        .and_then(PacketType::from_u8)
        .filter(|ty| ty.as_u8() <= PacketType::ConnectError.as_u8())
        .ok_or(DecodeError::InvalidMsgPackPacket("invalid packet type"))?;
    let nsp = match fields.remove("nsp") {
        Some(Value::String(nsp)) => nsp,
        _ => return Err(DecodeError::InvalidMsgPackPacket("invalid namespace")),
    };
    let id = match fields.get("id") {
        None => None,
        Some(id) => Some(
            id.as_u64()
                .ok_or(DecodeError::InvalidMsgPackPacket("invalid packet id"))?,
        ),
    };
    let invalid_payload = || DecodeError::InvalidMsgPackPacket("invalid payload");
    let data = match (ty, fields.remove("data")) {
        (PacketType::Connect, None | Some(Value::Null)) => PacketData::Connect(None),
        (PacketType::Connect, Some(auth @ Value::Object(_))) => {
            PacketData::Connect(Some(raw_json(&auth)?))
        }
        (PacketType::Disconnect, None | Some(Value::Null)) => PacketData::Disconnect,
        (PacketType::ConnectError, Some(error @ (Value::String(_) | Value::Object(_)))) => {
            PacketData::ConnectError(raw_json(&error)?)
        }
        (PacketType::Event, Some(Value::Array(mut data))) => {
            if data.is_empty() {
                return Err(DecodeError::EmptyEvent);
            }
            let name = match data.remove(0) {
                Value::String(name) => name,
                other => return Err(DecodeError::InvalidEventName(other.kind())),
            };
            if is_reserved_event(&name) {
                return Err(DecodeError::ReservedEvent(name));
            }
            PacketData::Event(Event {
                name,
                numeric_name: false,
                ack_id: id,
                args: Args::from_values(data),
            })
        }
        (PacketType::Ack, Some(Value::Array(data))) => match id {
            Some(id) => PacketData::Ack(Ack {
                id,
                args: Args::from_values(data),
            }),
            None => PacketData::Empty(PacketType::Ack),
        },
        _ => return Err(invalid_payload()),
    };
    Ok(Packet {
        nsp: Cow::Owned(nsp),
        data,
    })
}

/// A CONNECT auth or CONNECT_ERROR payload kept as JSON text, as the text parser keeps it
/// (binary inside it cannot be JSON: refused).
fn raw_json(value: &Value) -> Result<RawJson, DecodeError> {
    let text = serde_json::to_string(value).map_err(DecodeError::InvalidJson)?;
    if contains_binary(value) {
        return Err(DecodeError::InvalidMsgPackPacket("invalid payload"));
    }
    RawJson::from_string(text).map_err(DecodeError::InvalidJson)
}

fn contains_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(contains_binary),
        Value::Object(map) => map.values().any(contains_binary),
        _ => false,
    }
}

/// The bytes of a MessagePack packet, for a broadcast that adds an argument (recovery's
/// offset): decoded, extended, written again.
pub(crate) fn with_extra_arg(bytes: &Bytes, extra: Value) -> Result<EncodedPacket, EncodeError> {
    let packet = decode(bytes).map_err(|_| EncodeError::NotAnEvent)?;
    let PacketData::Event(event) = packet.data else {
        return Err(EncodeError::NotAnEvent);
    };
    let (name, ack_id, args) = event.into_parts();
    let mut data = vec![Value::from(name.as_str())];
    data.extend(args.into_values().map_err(|_| EncodeError::NotAnEvent)?);
    data.push(extra);
    Ok(self::packet(
        PacketType::Event,
        &packet.nsp,
        Some(&Value::Array(data)),
        ack_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(encoded: EncodedPacket) -> Packet {
        assert!(encoded.binary);
        assert!(encoded.attachments.is_empty());
        decode(&encoded.text).expect("decodes")
    }

    #[test]
    fn events_and_acks_go_through_with_binary_inline() {
        let blob = Bytes::from_static(&[1, 2, 3]);
        let packet = roundtrip(event("/chat", "file", &("name", blob.clone()), Some(7)).unwrap());
        assert_eq!(packet.nsp, "/chat");
        let PacketData::Event(event) = packet.data else {
            panic!("an event")
        };
        assert_eq!((event.name(), event.ack_id()), ("file", Some(7)));
        assert_eq!(
            event.args().to_values().unwrap(),
            vec![Value::from("name"), Value::Binary(blob)]
        );
        let packet = roundtrip(ack("/", 3, &(1, "two")).unwrap());
        let PacketData::Ack(ack) = packet.data else {
            panic!("an ack")
        };
        assert_eq!(ack.id(), 3);
        assert_eq!(
            ack.args().to_values().unwrap(),
            vec![Value::from(1), Value::from("two")]
        );
    }

    #[test]
    fn connect_disconnect_and_errors_keep_their_shape() {
        let encoded = connect("/", "abc", Some("p")).unwrap();
        let value = msgpack::decode(&encoded.text).unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"data":{"pid":"p","sid":"abc"},"nsp":"/","type":0}"#
        );
        let encoded = connect_error("/a", "no", Some(&[1])).unwrap();
        let value = msgpack::decode(&encoded.text).unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"data":{"data":[1],"message":"no"},"nsp":"/a","type":4}"#
        );
        assert!(matches!(
            roundtrip(disconnect("/x").unwrap()).data,
            PacketData::Disconnect
        ));
    }

    fn encode_map(value: &Value) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.value(value);
        writer.finish()
    }

    #[test]
    fn malformed_packets_are_refused_with_the_parsers_messages() {
        let cases: &[(&str, &str)] = &[
            (r#"{"type":9,"nsp":"/"}"#, "invalid packet type"),
            (
                r#"{"type":2.5,"nsp":"/","data":["e"]}"#,
                "invalid packet type",
            ),
            (r#"{"type":2,"data":["e"]}"#, "invalid namespace"),
            (r#"{"type":2,"nsp":"/"}"#, "invalid payload"),
            (r#"{"type":2,"nsp":"/","data":{"e":1}}"#, "invalid payload"),
            (r#"{"type":1,"nsp":"/","data":[1]}"#, "invalid payload"),
            (r#"{"type":0,"nsp":"/","data":"token"}"#, "invalid payload"),
            (
                r#"{"type":2,"nsp":"/","data":["e"],"id":-1}"#,
                "invalid packet id",
            ),
            (r#"[2,"/"]"#, "invalid packet type"),
        ];
        for (json, message) in cases {
            let value: Value = serde_json::from_str(json).unwrap();
            let error = decode(&encode_map(&value)).expect_err(json);
            assert_eq!(error.to_string(), *message, "{json}");
        }
        assert!(matches!(
            decode(&[0x92, 0x01]),
            Err(DecodeError::InvalidMsgPack(_))
        ));
        assert!(matches!(
            decode(&encode_map(
                &serde_json::from_str(r#"{"type":2,"nsp":"/","data":[]}"#).unwrap()
            )),
            Err(DecodeError::EmptyEvent)
        ));
    }
}
