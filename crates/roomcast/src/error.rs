//! The errors of the Socket.IO layer, and what each means for the caller.
//!
//! * [`Error`]: a server-side operation failed (emitting, joining, fetching, acknowledging…).
//!   Each variant is one cause a caller can act on; the specific reasons it wraps
//!   ([`RoomError`], [`EncodeError`], [`ArgsError`], [`ValueError`]) are also what the
//!   lower-level functions that can only fail that way return.
//! * [`PartialAcks`]: a broadcast with acknowledgements ended early; it carries the answers that
//!   had arrived, as socket.io's `(err, responses)` does.
//! * [`ConnectError`]: not a failure of the server but a refusal it sends: what middleware
//!   returns to turn a connection away with a `connect_error`.
//! * [`EventError`]: an event that did not reach its handler, or whose handler failed, as the
//!   [`Socket::on_error`](crate::Socket::on_error) handlers receive it.
//!
//! Input from the network never becomes an `Error`: a malformed packet closes its connection
//! with a logged reason.

use std::fmt;
use std::sync::Arc;

use crate::handler::BoxError;
use crate::packet::EncodeError;
use crate::payload::ArgsError;
use crate::rooms::RoomError;
use crate::value::ValueError;

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
    /// The socket's `data` could not be converted to or from the requested type.
    #[error("socket data: {0}")]
    Data(#[from] ValueError),
    /// The socket is not connected (any more).
    #[error("the socket is disconnected")]
    Disconnected,
    /// The connection's outgoing queue is full; the connection is being closed.
    #[error("the connection's outgoing queue is full")]
    QueueFull,
    /// The socket is in as many rooms as [`SocketLimits::max_rooms`] allows.
    ///
    /// [`SocketLimits::max_rooms`]: crate::SocketLimits::max_rooms
    #[error("the socket is in too many rooms")]
    TooManyRooms,
    /// The socket owes as many acknowledgements as [`SocketLimits::max_pending_acks`] allows.
    ///
    /// [`SocketLimits::max_pending_acks`]: crate::SocketLimits::max_pending_acks
    #[error("too many acknowledgements pending on this socket")]
    TooManyPendingAcks,
    /// No acknowledgement within the timeout.
    #[error("operation has timed out")]
    Timeout,
    /// Broadcasting with an acknowledgement needs a timeout (`.timeout(d)`), as in socket.io.
    #[error("broadcast acknowledgements need a timeout: call .timeout() first")]
    AckWithoutTimeout,
    /// The adapter failed to reach the other servers (for instance a Redis error).
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

impl<R> From<Error> for PartialAcks<R> {
    /// Failed before any answer came.
    fn from(error: Error) -> PartialAcks<R> {
        PartialAcks {
            error,
            responses: Vec::new(),
        }
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

/// An incoming event that did not reach its handler, or whose handler failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A packet middleware (`socket.use_`) refused it.
    #[error("event {event:?} refused: {message}")]
    Refused {
        /// The event name.
        event: String,
        /// The middleware's message.
        message: String,
    },
    /// The arguments do not fit the handler's parameters.
    #[error("event {event:?}: {error}")]
    InvalidPayload {
        /// The event name.
        event: String,
        /// What did not fit.
        error: ArgsError,
    },
    /// The handler returned an error.
    #[error("event {event:?}: handler failed: {error}")]
    Failed {
        /// The event name.
        event: String,
        /// The handler's error.
        error: Arc<dyn std::error::Error + Send + Sync>,
    },
}
