//! A dynamic Socket.IO value: JSON plus binary.
//!
//! [`Value`] is what a Socket.IO argument can hold once decoded without a
//! target type: the JSON data model (like `serde_json::Value`) extended with
//! [`Value::Binary`] for the binary attachments the protocol carries out of
//! band.
//!
//! `Value` works in both serde directions:
//!
//! * it implements [`Serialize`]: binary goes through `serialize_bytes`, which
//!   the packet encoder turns into an attachment;
//! * it implements [`Deserialize`]: `visit_bytes`/`visit_byte_buf` produce
//!   [`Value::Binary`];
//! * it implements [`serde::Deserializer`] (and [`IntoDeserializer`]), so any
//!   `T: DeserializeOwned` can be built from a `Value` with [`from_value`] or
//!   `T::deserialize(value)`; binary drives `visit_bytes`/`visit_byte_buf`
//!   (and `visit_seq` of `u8` for `Vec<u8>`).
//!
//! ```
//! use roomcast::value::{from_value, to_value, Value};
//!
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Msg {
//!     text: String,
//!     file: bytes::Bytes,
//! }
//!
//! let msg = Msg { text: "hi".into(), file: bytes::Bytes::from_static(b"\x01\x02") };
//! let value = to_value(&msg).unwrap();
//! assert_eq!(value.get("text").and_then(Value::as_str), Some("hi"));
//! assert!(value.get("file").and_then(Value::as_bytes).is_some());
//! let back: Msg = from_value(value).unwrap();
//! assert_eq!(back, msg);
//! ```

mod de;
mod model;
pub mod msgpack;
mod ser;

pub use de::from_value;
pub(crate) use model::JSON_RAW_TOKEN;
pub use model::{Map, Number, Value, ValueError};
pub use ser::{
    to_value, SerializeObject, SerializeStruct, SerializeVariant, SerializeVec, ValueSerializer,
};

#[cfg(test)]
mod tests;
