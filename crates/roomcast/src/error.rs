//! The errors of the Socket.IO layer.

use std::fmt;

use crate::packet::EncodeError;
use crate::payload::ArgsError;
use crate::rooms::RoomError;

/// A boxed error from an adapter or a user hook.
pub use roomcast_engineio::BoxError;

/// What can go wrong in a server-side operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A room name was refused.
    #[error(transparent)]
    InvalidRoom(#[from] RoomError),
    /// The event or its payload could not be encoded (reserved event name, bad namespace,
    /// serialization failure).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Received arguments do not fit the requested type.
    #[error(transparent)]
    InvalidPayload(#[from] ArgsError),
    /// The socket is not connected (any more).
    #[error("the socket is disconnected")]
    Disconnected,
    /// The connection's outgoing queue is full; the connection is being closed.
    #[error("the connection's outgoing queue is full")]
    QueueFull,
    /// No acknowledgement within the timeout.
    #[error("operation has timed out")]
    Timeout,
    /// Broadcasting with an acknowledgement needs a timeout (`.timeout(d)`), as in socket.io.
    #[error("broadcast acknowledgements need a timeout: call .timeout() first")]
    AckWithoutTimeout,
    /// The adapter failed (for instance a Redis error).
    #[error("adapter error: {0}")]
    Adapter(#[source] BoxError),
}

impl From<roomcast_engineio::SendError> for Error {
    fn from(error: roomcast_engineio::SendError) -> Error {
        match error {
            roomcast_engineio::SendError::Closed => Error::Disconnected,
            roomcast_engineio::SendError::QueueFull => Error::QueueFull,
        }
    }
}

/// A broadcast acknowledgement that did not complete: the error (usually
/// [`Error::Timeout`]) and the responses that had arrived, as socket.io's `(err, responses)`.
#[derive(Debug)]
pub struct PartialAcks<R> {
    /// Why the acknowledgements are incomplete.
    pub error: Error,
    /// The responses received before that.
    pub responses: Vec<R>,
}

impl<R> fmt::Display for PartialAcks<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} responses received)",
            self.error,
            self.responses.len()
        )
    }
}

impl<R: fmt::Debug> std::error::Error for PartialAcks<R> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The error a namespace middleware refuses a connection with: the client's `connect_error`
/// gets `message`, and `data` when set. Any error converts into one (its text is the message),
/// so `?` works in middleware.
///
/// ```
/// use roomcast::ConnectError;
///
/// let refused = ConnectError::new("unauthorized").with_data(serde_json::json!({ "retry": false }));
/// assert_eq!(refused.message(), "unauthorized");
/// ```
#[derive(Debug, Clone)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> ConnectError {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds the `data` the client receives with the error.
    pub fn with_data(mut self, data: serde_json::Value) -> ConnectError {
        self.data = Some(data);
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data, if any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for ConnectError {
    fn from(error: E) -> ConnectError {
        ConnectError::new(error.to_string())
    }
}
