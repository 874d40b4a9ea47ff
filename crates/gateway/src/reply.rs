//! What a handler's return value does, as in NestJS: a [`WsResponse`] (any object with an
//! `event`) is emitted to the sender; any other value acknowledges the message when the client
//! asked for it; nothing (`()`, `None`, `null`) does nothing.

use roomcast::value::{to_value, Value};
use roomcast::{AckSender, Error, Socket};
use serde::ser::{self, Impossible};
use serde::Serialize;

/// An event for the sender (NestJS's `WsResponse`): returning it emits `event` with `data` to
/// the socket the message came from.
///
/// ```
/// use roomcast_gateway::WsResponse;
///
/// async fn ping() -> WsResponse<&'static str> {
///     WsResponse::new("pong", "hello")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsResponse<T> {
    /// The event emitted to the sender.
    pub event: String,
    /// Its argument.
    pub data: T,
}

impl<T> WsResponse<T> {
    /// `event` with `data`.
    pub fn new(event: impl Into<String>, data: T) -> WsResponse<T> {
        WsResponse {
            event: event.into(),
            data,
        }
    }
}

/// Delivers a handler's value: emitted when it names an event, else the acknowledgement.
pub(crate) fn deliver<R: Serialize>(
    value: &R,
    socket: &Socket,
    ack: Option<AckSender>,
) -> Result<(), Error> {
    match top_level(value) {
        Shape::Nothing => Ok(()),
        // Not an object: no event to emit, the value itself answers.
        Shape::Other => match ack {
            Some(ack) => ack.send(value),
            None => Ok(()),
        },
        Shape::Object => {
            let value = to_value(value)?;
            let event = value
                .get("event")
                .and_then(Value::as_str)
                .filter(|event| !event.is_empty());
            match (event, ack) {
                // NestJS emits `data` even when there is none: `["event", null]`.
                (Some(event), _) => {
                    socket.emit(event, &(value.get("data").unwrap_or(&Value::Null),))
                }
                (None, Some(ack)) => ack.send(&value),
                (None, None) => Ok(()),
            }
        }
    }
}

/// The outermost shape of a value, found without building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `()`, `None`, a unit struct: nothing to send.
    Nothing,
    /// A map or a struct: may name an event.
    Object,
    /// Anything else.
    Other,
}

fn top_level<T: Serialize + ?Sized>(value: &T) -> Shape {
    match value.serialize(ShapeOf) {
        Ok(shape) | Err(Stop(shape)) => shape,
    }
}

/// A serializer that only looks at the outermost layer.
struct ShapeOf;

/// The shape of a compound value: the probe stops there rather than walk into it.
#[derive(Debug)]
struct Stop(Shape);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shape {:?}", self.0)
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop(Shape::Other)
    }
}

macro_rules! other {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Shape, Stop> { Ok(Shape::Other) })*
    };
}

impl ser::Serializer for ShapeOf {
    type Ok = Shape;
    type Error = Stop;
    type SerializeSeq = Impossible<Shape, Stop>;
    type SerializeTuple = Impossible<Shape, Stop>;
    type SerializeTupleStruct = Impossible<Shape, Stop>;
    type SerializeTupleVariant = Impossible<Shape, Stop>;
    type SerializeMap = Impossible<Shape, Stop>;
    type SerializeStruct = Impossible<Shape, Stop>;
    type SerializeStructVariant = Impossible<Shape, Stop>;

    other!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_none(self) -> Result<Shape, Stop> {
        Ok(Shape::Nothing)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Shape, Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Shape, Stop> {
        Ok(Shape::Nothing)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<Shape, Stop> {
        Ok(Shape::Nothing)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Shape, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Shape, Stop> {
        Ok(Shape::Object)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop(Shape::Other))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop(Shape::Other))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop(Shape::Other))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop(Shape::Object))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(Stop(Shape::Object))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop(Shape::Object))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop(Shape::Object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Serialize)]
    struct Stats {
        room: String,
        count: usize,
    }

    #[test]
    fn shapes_are_found_without_building_the_value() {
        assert_eq!(top_level(&()), Shape::Nothing);
        assert_eq!(top_level(&None::<u8>), Shape::Nothing);
        assert_eq!(top_level(&Some(3)), Shape::Other);
        assert_eq!(top_level("text"), Shape::Other);
        assert_eq!(top_level(&vec![1, 2]), Shape::Other);
        assert_eq!(top_level(&(1, "a")), Shape::Other);
        let stats = Stats {
            room: "r".into(),
            count: 2,
        };
        assert_eq!(top_level(&stats), Shape::Object);
        assert_eq!(top_level(&HashMap::<String, u8>::new()), Shape::Object);
        assert_eq!(top_level(&WsResponse::new("e", 1)), Shape::Object);
        assert_eq!(top_level(&serde_json::json!({"event": "x"})), Shape::Object);
        assert_eq!(top_level(&serde_json::Value::Null), Shape::Nothing);
    }
}
