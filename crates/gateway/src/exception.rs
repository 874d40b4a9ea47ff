//! What a handler's failure is: a [`WsException`] the client is meant to see, or any other
//! error, which the client sees as `Internal server error` (NestJS's `WsException` and
//! `BaseWsExceptionFilter`).

use std::fmt;

use roomcast::value::{to_value, Value};
use serde::Serialize;

/// The message refused guards give (NestJS's `FORBIDDEN_MESSAGE`).
pub const FORBIDDEN: &str = "Forbidden resource";

/// An error meant for the client, as NestJS's `WsException`: its `error` (a text or any
/// value) reaches the client in the `exception` event — `{ status: "error", message, cause }`
/// for a text (or a number…), an object or array as it is.
///
/// ```
/// use roomcast_gateway::WsException;
///
/// let refused = WsException::new("room is full");
/// assert_eq!(refused.to_string(), "room is full");
/// let detailed = WsException::with_object(&serde_json::json!({ "status": "error", "code": 7 }));
/// assert_eq!(detailed.payload().get("code").and_then(|code| code.as_u64()), Some(7));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WsException {
    error: Value,
}

impl WsException {
    /// An exception whose error is a text.
    pub fn new(message: impl Into<String>) -> WsException {
        WsException {
            error: Value::String(message.into()),
        }
    }

    /// An exception whose error is an object (sent as it is). A value that does not serialize
    /// becomes its error text.
    pub fn with_object<T: Serialize + ?Sized>(error: &T) -> WsException {
        match to_value(error) {
            Ok(error) => WsException { error },
            Err(failure) => WsException::new(failure.to_string()),
        }
    }

    /// What a guard's refusal throws: `Forbidden resource`.
    pub fn forbidden() -> WsException {
        WsException::new(FORBIDDEN)
    }

    /// The error, as given.
    pub fn error(&self) -> &Value {
        &self.error
    }

    /// What the client receives, `cause` aside: `{ status: "error", message }` for a text (or
    /// any value that is not an object or array), the error itself otherwise.
    pub fn payload(&self) -> Value {
        self.payload_with(None)
    }

    /// The payload, with NestJS's `cause` (`{ pattern, data }`) for a text error.
    pub(crate) fn payload_with(&self, cause: Option<Value>) -> Value {
        match &self.error {
            Value::Object(_) | Value::Array(_) => self.error.clone(),
            message => error_payload(message.clone(), cause),
        }
    }
}

impl fmt::Display for WsException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Value::String(message) => f.write_str(message),
            other => write!(f, "{}", serde_json::to_string(other).unwrap_or_default()),
        }
    }
}

impl std::error::Error for WsException {}

/// `{ status: "error", message, cause }` (`cause` when given).
pub(crate) fn error_payload(message: Value, cause: Option<Value>) -> Value {
    let mut payload = roomcast::value::Map::new();
    payload.insert("status".to_owned(), Value::from("error"));
    payload.insert("message".to_owned(), message);
    if let Some(cause) = cause {
        payload.insert("cause".to_owned(), cause);
    }
    Value::Object(payload)
}
