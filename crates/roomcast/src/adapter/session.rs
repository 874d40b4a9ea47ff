//! Connection state recovery as adapters see it: the session of a disconnected socket, kept
//! for a while, and what a reconnecting client gets back.

use std::time::Duration;

use super::options::BroadcastOptions;
use super::packet::BroadcastPacket;
use crate::rooms::Room;
use crate::value::Value;

/// Connection state recovery (Node's `connectionStateRecovery`): a client that loses its
/// connection and comes back within `max_disconnection_duration` gets its socket back — same
/// id, rooms and `data` — and the packets broadcast to it meanwhile. Off by default.
///
/// ```
/// use std::time::Duration;
/// use roomcast::{RecoveryOptions, ServerOptions};
///
/// let mut options = ServerOptions::default();
/// options.connection_state_recovery = Some(RecoveryOptions {
///     max_disconnection_duration: Duration::from_secs(60),
///     ..RecoveryOptions::default()
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryOptions {
    /// How long a session is kept after its socket disconnected (Node's default, 2 minutes).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middleware (Node's default, true).
    pub skip_middlewares: bool,
    /// In-memory adapter: most broadcast packets kept for recovery (the oldest go first).
    pub max_kept_packets: usize,
    /// In-memory adapter: most bytes of broadcast packets kept for recovery (the oldest go
    /// first). A recovery from an offset no longer kept gives a fresh socket.
    pub max_kept_bytes: usize,
}

impl Default for RecoveryOptions {
    fn default() -> Self {
        RecoveryOptions {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_kept_packets: 100_000,
            max_kept_bytes: 64 << 20,
        }
    }
}

/// A socket's session, kept when it disconnects for a reason recovery covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The socket id it gets back.
    pub sid: String,
    /// The private session id the client presents (`auth.pid`).
    pub pid: String,
    /// Its rooms, its own id-room included.
    pub rooms: Vec<Room>,
    /// Its `data`.
    pub data: Value,
}

/// A session found again, with the packets its socket missed, in order.
#[derive(Debug, Clone)]
pub struct RestoredSession {
    /// The session.
    pub session: Session,
    /// The broadcasts it missed, each carrying its offset.
    pub missed: Vec<BroadcastPacket>,
}

/// Whether a packet broadcast with `opts` reached a socket in `rooms`: to the whole namespace or
/// one of its rooms, and to none of the excepted ones (socket.io's `shouldIncludePacket`).
pub fn reaches(rooms: &[Room], opts: &BroadcastOptions) -> bool {
    let included = opts.rooms.is_empty() || rooms.iter().any(|room| opts.rooms.contains(room));
    included && !rooms.iter().any(|room| opts.except.contains(room))
}
