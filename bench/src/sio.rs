//! Engine.IO v4 / Socket.IO v5 packets of the main namespace `/`, as text: classification of
//! what the server sends, and the few numbers the scenarios read out of event arguments, without
//! a JSON parser.

use std::io::Write;

/// What one Engine.IO text message from the server is.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO `0{...}`: the session is open.
    Open,
    /// Engine.IO `1`: the server closes the session.
    Close,
    /// Engine.IO `2`: a heartbeat the client must answer with `3`.
    Ping,
    /// Engine.IO `3` / `6` and anything else that needs nothing.
    Noop,
    /// Socket.IO `40...`: the namespace is connected.
    Connect,
    /// Socket.IO `41`: the namespace was disconnected by the server.
    Disconnect,
    /// Socket.IO `44{...}`: the namespace connection was refused.
    ConnectError(&'a [u8]),
    /// Socket.IO `42[<id>]["name",...]`: `rest` is what follows the name (`,arg,...]` or `]`).
    Event {
        /// The id the server wants acknowledged, if any.
        ack: Option<u64>,
        /// The event name, without its quotes.
        name: &'a [u8],
        /// The text after the name.
        rest: &'a [u8],
    },
    /// Socket.IO `43<id>[...]`: the acknowledgement of the client's event `id`.
    Ack {
        /// The id of the acknowledged event.
        id: u64,
        /// The text after the id: the array of arguments.
        args: &'a [u8],
    },
    /// Anything else (binary events, other namespaces).
    Other(&'a [u8]),
}

/// Splits leading ASCII digits (up to 19, so that they fit a u64) off `s`.
pub fn split_number(s: &[u8]) -> (Option<u64>, &[u8]) {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return (None, s);
    }
    let mut n = 0u64;
    for &b in &s[..digits] {
        n = n * 10 + u64::from(b - b'0');
    }
    (Some(n), &s[digits..])
}

/// Classifies one Engine.IO text message.
pub fn classify(text: &[u8]) -> Packet<'_> {
    match text {
        [b'0', ..] => Packet::Open,
        [b'1', ..] => Packet::Close,
        [b'2', ..] => Packet::Ping,
        [b'4', b'0', ..] => Packet::Connect,
        [b'4', b'1', ..] => Packet::Disconnect,
        [b'4', b'4', rest @ ..] => Packet::ConnectError(rest),
        [b'4', b'2', rest @ ..] => {
            let (ack, rest) = split_number(rest);
            let Some(body) = rest.strip_prefix(b"[\"") else {
                return Packet::Other(text);
            };
            let Some(end) = body.iter().position(|&b| b == b'"' || b == b'\\') else {
                return Packet::Other(text);
            };
            if body[end] == b'\\' {
                return Packet::Other(text);
            }
            Packet::Event {
                ack,
                name: &body[..end],
                rest: &body[end + 1..],
            }
        }
        [b'4', b'3', rest @ ..] => match split_number(rest) {
            (Some(id), args) => Packet::Ack { id, args },
            (None, _) => Packet::Other(text),
        },
        [b'3', ..] | [b'6', ..] => Packet::Noop,
        _ => Packet::Other(text),
    }
}

/// The first `N` arguments of an event when they are non-negative integers: `rest` is the text
/// after the event name, as in [`Packet::Event`].
pub fn leading_numbers<const N: usize>(mut rest: &[u8]) -> Option<[u64; N]> {
    let mut out = [0u64; N];
    for slot in out.iter_mut() {
        rest = rest.strip_prefix(b",")?;
        let (n, tail) = split_number(rest);
        *slot = n?;
        rest = tail;
    }
    Some(out)
}

/// Writes the text of the event `name` with optional ack id and `args` (a JSON array body
/// without brackets, empty for none): `42<id>["name",args]`.
pub fn put_event(out: &mut Vec<u8>, ack: Option<u64>, name: &str, args: std::fmt::Arguments) {
    out.extend_from_slice(b"42");
    if let Some(id) = ack {
        let _ = write!(out, "{id}");
    }
    let _ = write!(out, "[\"{name}\"");
    let at = out.len();
    let _ = out.write_fmt(args);
    if out.len() > at {
        out.insert(at, b',');
    }
    out.push(b']');
}

/// A JSON string of `len` bytes of `x` (quotes not counted).
pub fn filler(len: usize) -> String {
    format!("\"{}\"", "x".repeat(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_packets_a_server_sends() {
        assert_eq!(classify(br#"0{"sid":"a"}"#), Packet::Open);
        assert_eq!(classify(b"2"), Packet::Ping);
        assert_eq!(classify(br#"40{"sid":"b"}"#), Packet::Connect);
        assert_eq!(
            classify(br#"44{"message":"no"}"#),
            Packet::ConnectError(br#"{"message":"no"}"#)
        );
        assert_eq!(
            classify(br#"42["m",7,"xx"]"#),
            Packet::Event {
                ack: None,
                name: b"m",
                rest: br#",7,"xx"]"#
            }
        );
        assert_eq!(
            classify(br#"4212["e"]"#),
            Packet::Event {
                ack: Some(12),
                name: b"e",
                rest: b"]"
            }
        );
        assert_eq!(
            classify(b"43345[true]"),
            Packet::Ack {
                id: 345,
                args: b"[true]"
            }
        );
        assert!(matches!(classify(b"451-[\"b\"]"), Packet::Other(_)));
    }

    #[test]
    fn reads_leading_numbers() {
        assert_eq!(leading_numbers::<2>(b",3,1234]"), Some([3, 1234]));
        assert_eq!(leading_numbers::<1>(br#",42,"x"]"#), Some([42]));
        assert_eq!(leading_numbers::<1>(br#","x"]"#), None);
        assert_eq!(leading_numbers::<1>(b"]"), None);
    }

    #[test]
    fn writes_events() {
        let mut out = Vec::new();
        put_event(&mut out, Some(5), "join", format_args!("\"r1\""));
        assert_eq!(out, br#"425["join","r1"]"#);
        out.clear();
        put_event(&mut out, None, "rooms", format_args!(""));
        assert_eq!(out, br#"42["rooms"]"#);
    }
}
