//! Acknowledgements: answering the client's, and waiting for the client's answers to ours.

use serde::Serialize;
use tokio::sync::oneshot;

use crate::adapter::AckSink;
use crate::error::Error;
use crate::packet::encode_ack;
use crate::payload::Args;
use crate::socket::Socket;

/// Answers an event whose sender asked for an acknowledgement (the `callback` of a Node
/// listener). Consumed by [`AckSender::send`]; an event without an ack request gets one
/// whose `send` does nothing.
///
/// ```no_run
/// # use roomcast::{AckSender, Socket};
/// # fn register(socket: &Socket) {
/// socket.on("echo", |_socket: Socket, text: String, ack: AckSender| async move {
///     let _ = ack.send(&text);
/// });
/// # }
/// ```
#[derive(Debug)]
pub struct AckSender {
    target: Option<(Socket, u64)>,
}

impl AckSender {
    pub(crate) fn new(socket: &Socket, id: Option<u64>) -> AckSender {
        AckSender {
            target: id.map(|id| (socket.clone(), id)),
        }
    }

    /// Whether the client asked for an acknowledgement.
    pub fn requested(&self) -> bool {
        self.target.is_some()
    }

    /// Sends the acknowledgement: a tuple is several arguments, `()` none, anything else one.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        let Some((socket, id)) = self.target else {
            return Ok(());
        };
        let encoded = encode_ack(socket.ns(), id, data)?;
        socket.send_encoded(encoded)
    }
}

/// Someone waiting for a client's acknowledgement.
pub(crate) enum PendingAck {
    /// `socket.emit_with_ack`.
    One(oneshot::Sender<Args>),
    /// A broadcast with acknowledgements: every recipient answers into the same sink.
    Broadcast(AckSink),
}

impl PendingAck {
    pub(crate) fn resolve(self, args: Args) {
        match self {
            PendingAck::One(sender) => {
                let _ = sender.send(args);
            }
            PendingAck::Broadcast(sink) => {
                let _ = sink.send(args);
            }
        }
    }
}
