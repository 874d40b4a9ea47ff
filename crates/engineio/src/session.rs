//! A session as the server holds it: the state its transports share, the layer above's
//! connection, the options it runs with, and the registry it leaves when it ends.
//!
//! The transports (polling, WebSocket) and the heartbeat act on a session through this type
//! only; none of them reaches back into the [`Engine`](crate::Engine).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::RwLock;

use crate::config::Config;
use crate::handler::{Connection, Handler};
use crate::packet::{Message, Packet};
use crate::sid::{IdHasher, Sid};
use crate::socket::{CloseReason, Protocol, Shared};

/// The open sessions of an engine, by id.
pub(crate) type Registry<H> = RwLock<HashMap<Sid, Arc<Session<H>>, IdHasher>>;

/// Shrinks the registry to twice its sessions once they fill less than a quarter of it (a
/// capacity of 256 or less is left alone): a table sized for a burst of 10,000 clients is
/// given back when they have gone, at one reallocation each time the count halves.
fn give_back_spare_room<V>(sessions: &mut HashMap<Sid, V, IdHasher>) {
    if sessions.capacity() > 4 * sessions.len().max(64) {
        sessions.shrink_to(sessions.len() * 2);
    }
}

/// One session: what its transports share, and the layer above's connection.
pub(crate) struct Session<H: Handler> {
    pub(crate) shared: Arc<Shared>,
    conn: OnceLock<H::Connection>,
    config: Arc<Config>,
    /// Where the session is registered; weak, so that a session outliving its engine (a
    /// transport task still running) does not keep the engine alive.
    registry: Weak<Registry<H>>,
}

impl<H: Handler> Session<H> {
    /// A session not yet given its connection (see [`Session::attach`]).
    pub(crate) fn new(
        shared: Arc<Shared>,
        config: Arc<Config>,
        registry: Weak<Registry<H>>,
    ) -> Session<H> {
        Session {
            shared,
            conn: OnceLock::new(),
            config,
            registry,
        }
    }

    /// Gives the session the connection that receives its messages.
    pub(crate) fn attach(&self, conn: H::Connection) {
        let _ = self.conn.set(conn);
    }

    /// The options of the engine that opened the session.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Acts on one packet from the client; `Err` ends the session with that reason.
    pub(crate) fn on_packet(&self, packet: Packet) -> Result<(), CloseReason> {
        match packet {
            Packet::Message(message) => {
                self.deliver(message);
                Ok(())
            }
            Packet::Pong if self.shared.protocol == Protocol::V4 => {
                self.shared.pong();
                Ok(())
            }
            // v3: the client pings, the server answers and counts it as a heartbeat.
            Packet::Ping { probe: false } if self.shared.protocol == Protocol::V3 => {
                self.shared
                    .client_ping(self.config.ping_interval + self.config.ping_timeout);
                Ok(())
            }
            Packet::Pong => {
                tracing::warn!(sid = %self.shared.id, "client sent a pong: invalid heartbeat direction");
                Err(CloseReason::TransportError)
            }
            // Over polling a close packet ends the session (the POST handler acts on it before
            // it gets here); over WebSocket, as in Node, it is ignored: clients close the
            // WebSocket itself.
            Packet::Close => {
                tracing::debug!(sid = %self.shared.id, "close packet over WebSocket ignored");
                Ok(())
            }
            Packet::Ping { .. } => {
                tracing::warn!(sid = %self.shared.id, "client sent a ping: invalid heartbeat direction");
                Err(CloseReason::TransportError)
            }
            Packet::Upgrade | Packet::Noop => Ok(()),
        }
    }

    /// Tells the connection that the session moved to WebSocket.
    pub(crate) fn upgraded(&self) {
        if let Some(conn) = self.conn.get() {
            conn.on_upgrade();
        }
    }

    /// Hands a message to the connection.
    pub(crate) fn deliver(&self, message: Message) {
        if let Some(conn) = self.conn.get() {
            conn.on_message(message);
        }
    }

    /// Ends the session (once): wakes its transports, leaves the registry, tells the connection.
    pub(crate) fn finish(&self, reason: CloseReason) {
        if !self.shared.set_reason(reason) {
            return;
        }
        self.shared.mark_ended();
        if let Some(registry) = self.registry.upgrade() {
            let mut sessions = registry.write();
            sessions.remove(&self.shared.id);
            give_back_spare_room(&mut sessions);
        }
        tracing::debug!(sid = %self.shared.id, reason = reason.as_str(), "session closed");
        if let Some(conn) = self.conn.get() {
            conn.on_close(reason);
        }
    }
}
