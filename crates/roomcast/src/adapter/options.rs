//! Which sockets an operation targets, and how: socket.io's `BroadcastOptions` and flags.

use std::time::Duration;

use crate::rooms::Room;

/// Which sockets an operation targets, and how: socket.io's `BroadcastOptions`.
///
/// With no `rooms`, every socket of the namespace; otherwise the sockets in at least one of
/// `rooms` (each once); minus the sockets in any of `except`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BroadcastOptions {
    /// Target rooms (a union); empty for the whole namespace.
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are left out.
    pub except: Vec<Room>,
    /// Delivery flags.
    pub flags: BroadcastFlags,
}

impl BroadcastOptions {
    /// The sockets in `rooms` (a union), without flags.
    ///
    /// ```
    /// use roomcast::{BroadcastOptions, Room};
    ///
    /// let opts = BroadcastOptions::to(vec![Room::new("r1").unwrap()]);
    /// assert_eq!(opts.rooms.len(), 1);
    /// assert!(opts.except.is_empty());
    /// ```
    pub fn to(rooms: Vec<Room>) -> BroadcastOptions {
        BroadcastOptions {
            rooms,
            ..BroadcastOptions::default()
        }
    }
}

/// The flags of a broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// Only this process's sockets (no cluster fan-out).
    pub local: bool,
    /// Dropped for a client that cannot take it right away, instead of queued.
    pub volatile: bool,
    /// The `compress` flag as given (accepted for compatibility; compression is per
    /// connection here, decided by the per-message-deflate threshold).
    pub compress: Option<bool>,
    /// How long to wait for acknowledgements (and, for `fetch_sockets` across a cluster, for
    /// the other servers' answers).
    pub timeout: Option<Duration>,
}
