//! One connection's Socket.IO state: its packet decoder, where each namespace the client asked
//! for stands (connecting, or its socket), and whether it ever joined one.
//!
//! Generic over the socket type so that this file sits below `socket.rs`, which both uses it (a
//! disconnected socket frees its namespace; `disconnect(true)` reaches its siblings) and is what
//! it holds; `client.rs` routes packets with it.

use std::sync::Arc;

use parking_lot::Mutex;
use roomcast_engineio::Socket as EngineSocket;

use crate::connect_timeout::Admission;
use crate::packet::{AttachmentLimits, PacketReader, Parser};

/// A connection and its sockets.
pub(crate) struct Connection<S> {
    reader: Mutex<PacketReader>,
    /// How packets are encoded.
    parser: Parser,
    /// By namespace name. A client is in one namespace or a few (at most `max_namespaces`):
    /// a list, searched in order, is smaller and as fast as a map.
    slots: Mutex<Vec<(Box<str>, Slot<S>)>>,
    /// The Engine.IO connection, and whether any namespace was ever joined (the connect
    /// timeout only applies before).
    admission: Arc<Admission>,
    /// How many namespaces it may be in (or connecting to) at once.
    max_namespaces: usize,
}

/// Where a namespace of a connection stands.
pub(crate) enum Slot<S> {
    /// CONNECT received; the namespace's middleware is running.
    Connecting,
    /// The socket is connected.
    Connected(S),
}

impl<S: Clone> Connection<S> {
    pub(crate) fn new(
        conn: EngineSocket,
        max_namespaces: usize,
        parser: Parser,
        attachments: AttachmentLimits,
    ) -> Connection<S> {
        Connection {
            admission: Admission::new(conn),
            reader: Mutex::new(PacketReader::new(parser, attachments)),
            parser,
            slots: Mutex::new(Vec::new()),
            max_namespaces,
        }
    }

    /// What the connect timeout watches.
    pub(crate) fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// The Engine.IO connection.
    pub(crate) fn conn(&self) -> &EngineSocket {
        self.admission.conn()
    }

    /// The connection's packet reader (binary packets span several messages).
    pub(crate) fn reader(&self) -> &Mutex<PacketReader> {
        &self.reader
    }

    /// How the connection's packets are encoded.
    pub(crate) fn parser(&self) -> Parser {
        self.parser
    }

    /// Where the namespace stands (`None`: never asked for, or freed).
    pub(crate) fn slot(&self, nsp: &str) -> Option<Slot<S>> {
        let slots = self.slots.lock();
        slots
            .iter()
            .find(|(name, _)| **name == *nsp)
            .map(|(_, slot)| match slot {
                Slot::Connecting => Slot::Connecting,
                Slot::Connected(socket) => Slot::Connected(socket.clone()),
            })
    }

    /// A CONNECT for the namespace arrived: it is connecting — unless the connection is in as
    /// many namespaces as it may be (`false`).
    pub(crate) fn begin(&self, nsp: &str) -> bool {
        let mut slots = self.slots.lock();
        if let Some((_, slot)) = slots.iter_mut().find(|(name, _)| **name == *nsp) {
            *slot = Slot::Connecting;
            return true;
        }
        if slots.len() >= self.max_namespaces {
            return false;
        }
        // One more at a time: most connections never have a second.
        slots.reserve_exact(1);
        slots.push((nsp.into(), Slot::Connecting));
        true
    }

    /// The namespace's socket is accepted; `false` (and nothing recorded) when the connection
    /// closed or the attempt was abandoned meanwhile.
    pub(crate) fn complete(&self, nsp: &str, socket: S) -> bool {
        let mut slots = self.slots.lock();
        match slots.iter_mut().find(|(name, _)| **name == *nsp) {
            Some((_, slot @ Slot::Connecting)) if !self.conn().is_closed() => {
                *slot = Slot::Connected(socket);
                self.admission.joined();
                true
            }
            _ => false,
        }
    }

    /// The namespace is free again: a new CONNECT for it may come.
    pub(crate) fn forget(&self, nsp: &str) {
        let mut slots = self.slots.lock();
        slots.retain(|(name, _)| **name != *nsp);
        if slots.is_empty() {
            *slots = Vec::new();
        }
    }

    /// The connected sockets.
    pub(crate) fn sockets(&self) -> Vec<S> {
        self.slots
            .lock()
            .iter()
            .filter_map(|(_, slot)| match slot {
                Slot::Connected(socket) => Some(socket.clone()),
                Slot::Connecting => None,
            })
            .collect()
    }

    /// Frees every namespace, returning the sockets that were connected.
    pub(crate) fn drain(&self) -> Vec<S> {
        std::mem::take(&mut *self.slots.lock())
            .into_iter()
            .filter_map(|(_, slot)| match slot {
                Slot::Connected(socket) => Some(socket),
                Slot::Connecting => None,
            })
            .collect()
    }
}
