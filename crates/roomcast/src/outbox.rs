//! What a socket sends through: its connection, and the namespace its packets name. Sockets
//! emit and acknowledgements answer through it, down to the connection's queue.

use std::sync::Arc;

use roomcast_engineio::{Frame, Socket as Connection};
use serde::Serialize;

use crate::error::Error;
use crate::packet::{EncodeError, EncodedPacket, Parser};

/// A socket's way out: cheap to clone (two reference counts).
#[derive(Clone)]
pub(crate) struct Outbox {
    conn: Connection,
    nsp: Arc<str>,
    parser: Parser,
}

impl Outbox {
    pub(crate) fn new(conn: Connection, nsp: Arc<str>, parser: Parser) -> Outbox {
        Outbox { conn, nsp, parser }
    }

    /// The connection.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Queues an encoded packet, its attachments right after it; returns the size of its
    /// messages.
    pub(crate) fn send(&self, encoded: EncodedPacket) -> Result<usize, Error> {
        if encoded.attachments.is_empty() {
            let frame = EncodedPacket::head_frame(encoded.text, encoded.binary)
                .map_err(EncodeError::from)?;
            let bytes = frame.message_len();
            self.conn.send(frame)?;
            return Ok(bytes);
        }
        let frames = encoded.into_frames()?;
        self.conn.send_all(&frames)?;
        Ok(frames.iter().map(Frame::message_len).sum())
    }

    /// Sends an event, asking for an acknowledgement with `ack_id`.
    pub(crate) fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        ack_id: Option<u64>,
    ) -> Result<(), Error> {
        self.send(self.parser.event(&self.nsp, event, data, ack_id)?)
            .map(drop)
    }

    /// Answers the client's event `id`; returns how many bytes.
    pub(crate) fn ack<T: Serialize + ?Sized>(&self, id: u64, data: &T) -> Result<usize, Error> {
        self.send(self.parser.ack(&self.nsp, id, data)?)
    }

    /// Tells the client its socket in this namespace is disconnected.
    pub(crate) fn disconnect(&self) -> Result<(), Error> {
        self.send(self.parser.disconnect(&self.nsp)?).map(drop)
    }
}
