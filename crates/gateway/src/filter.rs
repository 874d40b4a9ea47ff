//! Exception filters: what the client gets when a handler fails (NestJS's `@UseFilters`,
//! `@Catch` and `BaseWsExceptionFilter`). The handler's filters are asked first, then the
//! gateway's, then the default one: a [`WsException`] reaches the client as it is, anything
//! else as `Internal server error`.

use std::marker::PhantomData;

use roomcast::value::Value;
use roomcast::{AckSender, Args, BoxError, Socket};
use serde::Serialize;

use crate::exception::{error_payload, WsException};
use crate::message::{Invalid, InvalidBody};

/// Where a failed message came from, for a filter to answer it: the socket, the event, its
/// arguments, and its acknowledgement while nothing has answered it.
#[derive(Debug)]
pub struct ErrorHost {
    socket: Socket,
    gateway: &'static str,
    event: std::sync::Arc<str>,
    args: Args,
    ack: Option<AckSender>,
}

impl ErrorHost {
    pub(crate) fn new(
        socket: Socket,
        gateway: &'static str,
        event: std::sync::Arc<str>,
        args: Args,
        ack: Option<AckSender>,
    ) -> ErrorHost {
        ErrorHost {
            socket,
            gateway,
            event,
            args,
            ack,
        }
    }

    /// The socket the message came from (`getClient()`).
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The gateway's name.
    pub fn gateway(&self) -> &'static str {
        self.gateway
    }

    /// The event name (`getPattern()`).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The message's arguments (`getData()`).
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// NestJS's `cause`: `{ pattern, data }`, the event and the message as a handler sees it
    /// (one argument: itself; several: their array; none: no `data`).
    pub fn cause(&self) -> Value {
        let mut cause = roomcast::value::Map::new();
        cause.insert("pattern".to_owned(), Value::from(&*self.event));
        let data = match self.args.to_values() {
            Ok(mut values) if values.len() == 1 => values.pop(),
            Ok(values) if values.is_empty() => None,
            Ok(values) => Some(Value::Array(values)),
            Err(_) => None,
        };
        if let Some(data) = data {
            cause.insert("data".to_owned(), data);
        }
        Value::Object(cause)
    }

    /// Whether the client asked for an acknowledgement that nothing has sent yet.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Acknowledges the message with `value`, if the client asked for it and nothing has yet.
    pub fn ack<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Some(ack) = self.ack.take() {
            if let Err(error) = ack.send(value) {
                tracing::debug!(gateway = self.gateway, event = %self.event, %error, "acknowledgement not sent");
            }
        }
    }

    /// Emits `event` to the socket.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) {
        if let Err(error) = self.socket.emit(event, data) {
            tracing::debug!(gateway = self.gateway, event, %error, "event not sent");
        }
    }
}

/// Handles the errors of handlers. Returns `Ok(())` when it handled the error, or gives it back
/// for the next filter.
pub trait ExceptionFilter: Send + Sync + 'static {
    /// Handles `error`, or gives it back.
    fn catch(&self, error: BoxError, host: &mut ErrorHost) -> Result<(), BoxError>;
}

/// A filter for the errors of one type `E` (NestJS's `@Catch(E)`); the others go on to the
/// next filter.
///
/// ```
/// use roomcast_gateway::{Catch, ErrorHost};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("room {0} is full")]
/// struct RoomFull(String);
///
/// let filter = Catch::new(|error: &RoomFull, host: &mut ErrorHost| {
///     host.emit("roomFull", &error.0);
///     host.ack(&serde_json::json!({ "full": true }));
/// });
/// # let _ = filter;
/// ```
pub struct Catch<E, F> {
    handle: F,
    error: PhantomData<fn(&E)>,
}

impl<E, F> Catch<E, F>
where
    E: std::error::Error + 'static,
    F: Fn(&E, &mut ErrorHost) + Send + Sync + 'static,
{
    /// Handles the errors of type `E` with `handle`.
    pub fn new(handle: F) -> Catch<E, F> {
        Catch {
            handle,
            error: PhantomData,
        }
    }
}

impl<E, F> ExceptionFilter for Catch<E, F>
where
    E: std::error::Error + 'static,
    F: Fn(&E, &mut ErrorHost) + Send + Sync + 'static,
{
    fn catch(&self, error: BoxError, host: &mut ErrorHost) -> Result<(), BoxError> {
        match error.downcast_ref::<E>() {
            Some(typed) => {
                (self.handle)(typed, host);
                Ok(())
            }
            None => Err(error),
        }
    }
}

/// The last filter (NestJS's `BaseWsExceptionFilter`, answering the acknowledgement too): the
/// `exception` event with the exception's payload, or `Internal server error` for any other
/// error, which is logged with the gateway and event names.
pub(crate) fn default_filter(error: BoxError, host: &mut ErrorHost) {
    let (gateway, event) = (host.gateway, host.event.clone());
    let cause = Some(host.cause());
    let payload = if let Some(exception) = error.downcast_ref::<WsException>() {
        tracing::info!("[{gateway}] \"{event}\" refused: {exception}");
        exception.payload_with(cause)
    } else if error.is::<InvalidBody>() || error.is::<Invalid>() {
        // The client's message does not fit: it is told why.
        tracing::info!("[{gateway}] \"{event}\" refused: {error}");
        error_payload(Value::from(error.to_string()), cause)
    } else {
        tracing::error!("[{gateway}] \"{event}\" failed: {error}");
        error_payload(Value::from("Internal server error"), cause)
    };
    host.emit("exception", &payload);
    host.ack(&payload);
}
