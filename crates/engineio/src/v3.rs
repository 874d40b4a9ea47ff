//! Engine.IO v3 framing, for old clients (`socket.io-client` 2.x) when `Config::allow_eio3` is
//! on, as Node's `allowEIO3`: long-polling payloads as `<length>:<packet>` (the length in
//! UTF-16 code units, binary packets as `b4<base64>`), or, when the client takes binary and
//! the payload holds some, the binary payload format (`<0|1><length digits><255><packet>`);
//! a binary packet over WebSocket carries its type in its first byte.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use crate::packet::{decode_text, Frame, Message, Packet, ParseError};

/// The type byte of a message packet.
const MESSAGE: u8 = 4;
/// Ends the length digits of a packet in a binary payload.
const LENGTH_END: u8 = 255;
/// At most this many length digits (Node stops at 310, the digits of `Number.MAX_VALUE`).
const MAX_LENGTH_DIGITS: usize = 20;

/// A long-polling payload for a v3 client, and whether it is binary
/// (`application/octet-stream`) rather than text.
pub(crate) fn encode_payload(frames: &[Frame], supports_binary: bool) -> (Bytes, bool) {
    if supports_binary && frames.iter().any(Frame::is_binary) {
        let mut out = BytesMut::new();
        for frame in frames {
            if frame.is_binary() {
                put_binary_header(&mut out, 1, frame.len() + 1);
                out.put_u8(MESSAGE);
            } else {
                put_binary_header(&mut out, 0, frame.len());
            }
            out.put_slice(frame.as_bytes());
        }
        return (out.freeze(), true);
    }
    let mut out = String::new();
    for frame in frames {
        let packet = if frame.is_binary() {
            format!("b{MESSAGE}{}", BASE64.encode(frame.as_bytes()))
        } else {
            String::from_utf8_lossy(frame.as_bytes()).into_owned()
        };
        out.push_str(&packet.encode_utf16().count().to_string());
        out.push(':');
        out.push_str(&packet);
    }
    (Bytes::from(out), false)
}

fn put_binary_header(out: &mut BytesMut, kind: u8, len: usize) {
    out.put_u8(kind);
    for digit in len.to_string().bytes() {
        out.put_u8(digit - b'0');
    }
    out.put_u8(LENGTH_END);
}

/// Decodes a text payload from a v3 client. Node drops the whole payload at the first error.
pub(crate) fn decode_text_payload(payload: &str) -> Result<Vec<Packet>, ParseError> {
    if payload.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut packets = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let (length, after) = rest.split_once(':').ok_or(ParseError::InvalidPayload)?;
        let units: usize = length.parse().map_err(|_| ParseError::InvalidPayload)?;
        let split = utf16_offset(after, units).ok_or(ParseError::InvalidPayload)?;
        let (packet, next) = after.split_at(split);
        if !packet.is_empty() {
            packets.push(decode_packet(packet)?);
        }
        rest = next;
    }
    Ok(packets)
}

/// The byte offset in `text` after `units` UTF-16 code units, if it falls on a character
/// boundary within the text.
fn utf16_offset(text: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (offset, ch) in text.char_indices() {
        if counted == units {
            return Some(offset);
        }
        counted += ch.len_utf16();
    }
    (counted == units).then_some(text.len())
}

/// One text packet of a v3 payload: `b<type><base64>` for binary, otherwise as in v4.
fn decode_packet(packet: &str) -> Result<Packet, ParseError> {
    match packet.strip_prefix('b') {
        Some(encoded) => {
            let data = encoded
                .strip_prefix('4')
                .ok_or(ParseError::InvalidPayload)?;
            let bytes = BASE64.decode(data).map_err(|_| ParseError::InvalidBase64)?;
            Ok(Packet::Message(Message::Binary(Bytes::from(bytes))))
        }
        None => decode_text(packet),
    }
}

/// Decodes a binary payload from a v3 client (a POST sent as `application/octet-stream`).
pub(crate) fn decode_binary_payload(payload: &[u8]) -> Result<Vec<Packet>, ParseError> {
    let mut packets = Vec::new();
    let mut rest = payload;
    while let Some((&kind, after)) = rest.split_first() {
        let digits_end = after
            .iter()
            .position(|&byte| byte == LENGTH_END)
            .filter(|&end| end <= MAX_LENGTH_DIGITS)
            .ok_or(ParseError::InvalidPayload)?;
        let mut length = 0usize;
        for &digit in &after[..digits_end] {
            if digit > 9 {
                return Err(ParseError::InvalidPayload);
            }
            length = length
                .checked_mul(10)
                .and_then(|length| length.checked_add(usize::from(digit)))
                .ok_or(ParseError::InvalidPayload)?;
        }
        let body = &after[digits_end + 1..];
        let packet = body.get(..length).ok_or(ParseError::InvalidPayload)?;
        packets.push(match kind {
            0 => {
                decode_packet(std::str::from_utf8(packet).map_err(|_| ParseError::InvalidPayload)?)?
            }
            1 => decode_binary_packet(Bytes::copy_from_slice(packet))?,
            _ => return Err(ParseError::InvalidPayload),
        });
        rest = &body[length..];
    }
    Ok(packets)
}

/// A binary packet of a v3 client (a WebSocket binary frame, or a binary payload's part): its
/// type in the first byte; only messages carry binary.
pub(crate) fn decode_binary_packet(packet: Bytes) -> Result<Packet, ParseError> {
    match packet.first() {
        Some(&MESSAGE) => Ok(Packet::Message(Message::Binary(packet.slice(1..)))),
        Some(&kind) => Err(ParseError::UnknownType(char::from(b'0'.wrapping_add(kind)))),
        None => Err(ParseError::Empty),
    }
}

/// The type byte a v3 binary WebSocket frame starts with.
pub(crate) const BINARY_MESSAGE_PREFIX: u8 = MESSAGE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_payloads_count_utf16_units() {
        let frames = [Frame::message("héllo 😀"), Frame::binary(vec![1, 2, 3])];
        let (payload, binary) = encode_payload(&frames, false);
        assert!(!binary);
        assert_eq!(&payload[..], "9:4héllo 😀6:b4AQID".as_bytes());
        let decoded = decode_text_payload(std::str::from_utf8(&payload).unwrap()).unwrap();
        assert_eq!(
            decoded,
            vec![
                Packet::Message(Message::Text("héllo 😀".into())),
                Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3]))),
            ]
        );
    }

    #[test]
    fn binary_payloads_round_trip() {
        let frames = [Frame::message("hi"), Frame::binary(vec![9; 12])];
        let (payload, binary) = encode_payload(&frames, true);
        assert!(binary);
        assert_eq!(&payload[..6], &[0, 3, 255, b'4', b'h', b'i']);
        assert_eq!(&payload[6..11], &[1, 1, 3, 255, 4]);
        assert_eq!(
            decode_binary_payload(&payload).unwrap(),
            vec![
                Packet::Message(Message::Text("hi".into())),
                Packet::Message(Message::Binary(Bytes::from(vec![9; 12]))),
            ]
        );
    }

    #[test]
    fn malformed_payloads_are_refused() {
        for bad in ["", "5:4abc", "x:4", "3:4ab2:", "2:b5AA", "4:b4!!"] {
            assert!(decode_text_payload(bad).is_err(), "{bad:?}");
        }
        for bad in [
            &[0, 9, 255, b'4'][..],
            &[2, 1, 255, 4],
            &[0, 1, 2],
            &[1, 1, 255, 3],
        ] {
            assert!(decode_binary_payload(bad).is_err(), "{bad:?}");
        }
    }
}
