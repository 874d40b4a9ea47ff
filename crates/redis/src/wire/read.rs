//! Reading the fields of a decoded message (JSON or MessagePack, both read as a [`Value`]):
//! missing or mistyped fields are errors that name the field.

use roomcast::adapter::SocketInfo;
use roomcast::value::{from_value, Map};
use roomcast::Value;

use super::message::WireError;
use roomcast::value::msgpack;

/// A message's fields.
pub(crate) struct Fields<'a>(&'a Map);

impl<'a> Fields<'a> {
    /// The fields of an object.
    pub(crate) fn of(value: &'a Value, what: &str) -> Result<Fields<'a>, WireError> {
        value
            .as_object()
            .map(Fields)
            .ok_or_else(|| WireError::shape(format!("{what} is not an object")))
    }

    /// A field, if present and not null.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|value| !value.is_null())
    }

    /// A field that must be there.
    pub(crate) fn value(&self, key: &str) -> Result<&'a Value, WireError> {
        self.get(key)
            .ok_or_else(|| WireError::shape(format!("no {key:?} field")))
    }

    /// A string field that must be there.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str, WireError> {
        self.value(key)?
            .as_str()
            .ok_or_else(|| WireError::shape(format!("{key:?} is not a string")))
    }

    /// A string field, if present.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, WireError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_str()
                .map(Some)
                .ok_or_else(|| WireError::shape(format!("{key:?} is not a string"))),
        }
    }

    /// A non-negative integer field that must be there.
    pub(crate) fn uint(&self, key: &str) -> Result<u64, WireError> {
        self.value(key)?
            .as_u64()
            .ok_or_else(|| WireError::shape(format!("{key:?} is not a non-negative integer")))
    }

    /// A boolean field, false when absent (JavaScript's truthiness of `undefined`).
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(truthy)
    }
}

/// JavaScript's truthiness.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(value) => *value,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

/// An event and its arguments from `[event, ...args]`; a number as event name is read as its
/// text, as JavaScript would print it.
pub(crate) fn event_and_args(data: &Value) -> Result<(String, Vec<Value>), WireError> {
    let mut items = data
        .as_array()
        .ok_or_else(|| WireError::shape("event data is not an array"))?
        .iter()
        .cloned();
    let event = match items.next() {
        Some(Value::String(name)) => name,
        Some(Value::Number(number)) => number.to_string(),
        _ => return Err(WireError::shape("event data has no event name")),
    };
    Ok((event, items.collect()))
}

/// A request or response: JSON when it starts with `{`, MessagePack otherwise.
pub(crate) fn read_json_or_msgpack(payload: &[u8]) -> Result<Value, WireError> {
    if payload.first() == Some(&b'{') {
        Ok(serde_json::from_slice(payload)?)
    } else {
        Ok(msgpack::decode(payload)?)
    }
}

/// Sockets described by another server; the ids of a legacy answer are not sockets.
pub(crate) fn read_sockets(value: &Value) -> Result<Vec<SocketInfo>, WireError> {
    let items = value
        .as_array()
        .ok_or_else(|| WireError::shape("\"sockets\" is not an array"))?;
    items
        .iter()
        .map(|item| {
            from_value::<SocketInfo>(item.clone())
                .map_err(|error| WireError::shape(format!("socket description: {error}")))
        })
        .collect()
}
