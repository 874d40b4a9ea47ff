//! What one socket is told directly: events to it alone, and the `error` event for what the
//! chat refuses, payloads of the wrong type included.

use std::fmt::Display;

use roomcast::{AckSender, BoxError, Socket};
use roomcast_gateway::{ErrorHost, ExceptionFilter, InvalidBody};
use serde::Serialize;

/// Sends `event` to `socket` alone. A socket that went away meanwhile is no error.
pub(crate) fn send<T: Serialize + ?Sized>(socket: &Socket, event: &str, data: &T) {
    if let Err(error) = socket.emit(event, data) {
        tracing::debug!(socket = %socket.id(), %error, "{event:?} not sent");
    }
}

/// Tells `socket` why its last event changed nothing: the `error` event, with a plain string.
pub(crate) fn error(socket: &Socket, message: impl Display) {
    let message = message.to_string();
    tracing::debug!(socket = %socket.id(), nsp = socket.ns(), "refused: {message}");
    send(socket, "error", &message);
}

/// The exception filter of both gateways: a message whose payload does not fit its handler (a
/// number where a string belongs, nothing at all) gets an `error` naming what was expected.
pub(crate) struct ChatErrors;

impl ExceptionFilter for ChatErrors {
    fn catch(&self, failure: BoxError, host: &mut ErrorHost) -> Result<(), BoxError> {
        let Some(InvalidBody(invalid)) = failure.downcast_ref::<InvalidBody>() else {
            return Err(failure);
        };
        let message = format!(
            "Invalid {} payload: expected {}, got {}",
            host.event(),
            expected_payload(host.event()),
            invalid.received()
        );
        error(host.socket(), message);
        Ok(())
    }
}

/// What each event that takes an argument expects, in the words of the `error` event.
fn expected_payload(event: &str) -> &'static str {
    match event {
        "switchRoom" | "kickAll" => "a room name (a string)",
        "message" => "the message text (a string)",
        "announce" => "the announcement text (a string)",
        _ => "other arguments",
    }
}

/// Whether the client asked for the acknowledgement `event` answers with; if not, it is told
/// so through `error`, since the answer would have nowhere to go.
pub(crate) fn wants_ack(socket: &Socket, event: &str, ack: &AckSender) -> bool {
    if !ack.requested() {
        error(
            socket,
            format!("{event} answers through an acknowledgement: pass a callback"),
        );
    }
    ack.requested()
}

/// Sends the acknowledgement of `event`.
pub(crate) fn ack<T: Serialize + ?Sized>(socket: &Socket, event: &str, ack: AckSender, data: &T) {
    if let Err(error) = ack.send(data) {
        tracing::debug!(socket = %socket.id(), %error, "acknowledgement of {event:?} not sent");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_with_an_argument_says_what_it_expects() {
        for event in ["switchRoom", "kickAll", "message", "announce"] {
            assert!(expected_payload(event).ends_with("(a string)"), "{event}");
        }
    }
}
