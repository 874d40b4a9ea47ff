//! Event and ack arguments: from user types to the wire and back.
//!
//! # Outgoing: any `T: Serialize`
//!
//! A Socket.IO event carries a list of arguments. A Rust value maps onto it
//! like this:
//!
//! * a tuple (anything serialized with `serialize_tuple`) is spread into
//!   several arguments: `("a", 1)` → `"a", 1`;
//! * `()` means no argument;
//! * anything else (a `Vec`, a slice, a struct, a map, a string, a number, a
//!   [`Value`] …) is **one** argument: `vec![1, 2]` → `[1,2]`.
//!
//! Serde serializes fixed-size arrays (`[T; N]`) with `serialize_tuple` too,
//! so they are spread like tuples; pass a slice (`&arr[..]`) or a `Vec` to send
//! an array as one argument. [`Spread`] turns a slice of values into several
//! arguments.
//!
//! Binary data is whatever serializes with `serialize_bytes` (`bytes::Bytes`,
//! `serde_bytes::ByteBuf`, [`Value::Binary`]); the encoder writes a
//! `{"_placeholder":true,"num":n}` in its place and collects the bytes as an
//! attachment, in one pass over the value.
//!
//! ```
//! use bytes::BytesMut;
//! use roomcast::payload::write_args;
//!
//! let mut buf = BytesMut::new();
//! let attachments = write_args(&mut buf, Some("move"), &("north", 3)).unwrap();
//! assert_eq!(&buf[..], br#"["move","north",3]"#);
//! assert!(attachments.is_empty());
//! ```
//!
//! # Incoming: [`Args`]
//!
//! [`Args`] holds the arguments of a received event or ack. Without binary
//! attachments it keeps each argument as the JSON text it arrived in, checked
//! once on arrival, deserializes straight from that text when asked, and writes
//! it back unchanged when the arguments are sent on. The rule mirrors the
//! outgoing one: a tuple type takes the arguments positionally (missing
//! trailing arguments read as `null`, extra ones are ignored), `()` ignores the
//! arguments, and any other type is built from the first argument (`null` when
//! there is none, so `Option<T>` works).

mod args;
mod write;

pub(crate) use args::json_kind;
pub use args::{Args, ArgsError};
pub use write::{to_arg_values, write_args, Spread};

#[cfg(test)]
mod tests;
