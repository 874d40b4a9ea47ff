//! Acknowledgements: answering the client's, and waiting for the client's answers to ours.

use std::fmt;

use serde::Serialize;
use tokio::sync::oneshot;

use std::sync::Arc;

use crate::adapter::{AckMessage, AckSink};
use crate::error::Error;
use crate::outbox::Outbox;
use crate::payload::Args;
use crate::report::Reports;

/// Answers an event whose sender asked for an acknowledgement (the `callback` of a Node
/// listener). Consumed by [`AckSender::send`]; an event without an ack request gets one
/// whose `send` does nothing.
///
/// ```no_run
/// # use roomcast::{AckSender, Socket};
/// # fn register(socket: &Socket) {
/// socket.on("echo", |text: String, ack: AckSender| async move {
///     let _ = ack.send(&text);
/// });
/// # }
/// ```
pub struct AckSender {
    target: Option<(Outbox, u64)>,
    /// Told of the answer, when the server has observers.
    reports: Option<Arc<dyn Reports>>,
}

impl AckSender {
    /// Answers the event `id` through `outbox`.
    pub(crate) fn new(outbox: Outbox, id: u64) -> AckSender {
        AckSender {
            target: Some((outbox, id)),
            reports: None,
        }
    }

    /// The same, telling the server's observers of the answer.
    pub(crate) fn observed(mut self, reports: Arc<dyn Reports>) -> AckSender {
        self.reports = Some(reports);
        self
    }

    /// For an event that asked for no acknowledgement: sending does nothing.
    pub fn unrequested() -> AckSender {
        AckSender {
            target: None,
            reports: None,
        }
    }

    /// Whether the client asked for an acknowledgement.
    pub fn requested(&self) -> bool {
        self.target.is_some()
    }

    /// Sends the acknowledgement: a tuple is several arguments, `()` none, anything else one.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        let Some((outbox, id)) = self.target else {
            return Ok(());
        };
        let bytes = outbox.ack(id, data)?;
        if let Some(reports) = self.reports {
            reports.ack_sent(bytes);
        }
        Ok(())
    }
}

impl fmt::Debug for AckSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckSender")
            .field("id", &self.target.as_ref().map(|(_, id)| id))
            .finish()
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
                let _ = sink.send(AckMessage::Ack(args));
            }
        }
    }
}
