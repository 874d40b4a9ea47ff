//! The adapter boundary: which sockets an operation reaches, and where they live.
//!
//! Every server-side operation that can involve other processes goes through an [`Adapter`]:
//! broadcasts (with or without acknowledgements), `socketsJoin` / `socketsLeave`,
//! `disconnectSockets`, `fetchSockets`, `serverSideEmit` and room listings. The in-memory
//! [`MemoryAdapter`](crate::MemoryAdapter) is the default; a cluster adapter implements the
//! same trait and keeps using a `MemoryAdapter` for the sockets of its own process.

use std::sync::Arc;
use std::time::Duration;

use roomcast_engineio::{Frame, Sid};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::handshake::Handshake;
use crate::packet::EncodedPacket;
use crate::payload::Args;
use crate::rooms::Room;
use crate::value::Value;

pub use crate::handler::BoxFuture;

/// Where an acknowledgement's arguments are sent, for a broadcast with acknowledgements.
pub type AckSink = mpsc::UnboundedSender<Args>;

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
    /// How long to wait for acknowledgements.
    pub timeout: Option<Duration>,
}

/// A broadcast packet, encoded once: the same frames are queued for every recipient.
#[derive(Debug, Clone)]
pub struct BroadcastPacket {
    nsp: Arc<str>,
    encoded: EncodedPacket,
    frames: Arc<[Frame]>,
}

impl BroadcastPacket {
    pub(crate) fn new(nsp: Arc<str>, encoded: EncodedPacket) -> Result<BroadcastPacket, Error> {
        let frames = encoded.frames()?.into();
        Ok(BroadcastPacket {
            nsp,
            encoded,
            frames,
        })
    }

    /// The namespace the packet belongs to.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The encoded packet: its text (Engine.IO message type included) and attachments.
    pub fn encoded(&self) -> &EncodedPacket {
        &self.encoded
    }

    /// The Engine.IO frames every recipient gets.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }
}

/// What fetching sockets tells about one socket, wherever it is connected.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// Its rooms, its own id-room included.
    pub rooms: Vec<Room>,
    /// Its handshake.
    pub handshake: Handshake,
    /// Its `data`.
    pub data: Value,
}

/// What an adapter needs of a socket of its own process: deliver bytes, wait for an
/// acknowledgement, disconnect, describe. Nothing else of the socket is visible to it.
pub trait LocalSocket: Send + Sync + 'static {
    /// The socket id.
    fn id(&self) -> Sid;
    /// Queues encoded frames; `volatile` drops them when the client cannot take them now.
    fn deliver(&self, frames: &[Frame], volatile: bool);
    /// Registers that the acknowledgement `ack_id` of a broadcast goes to `sink`.
    fn expect_ack(&self, ack_id: u64, sink: AckSink);
    /// Disconnects the socket from its namespace (`close`: the whole connection).
    fn disconnect(&self, close: bool);
    /// The socket's handshake and data.
    fn describe(&self) -> (Handshake, Value);
}

/// The seam between "which sockets" and "where they live". See the module documentation.
pub trait Adapter: Send + Sync + 'static {
    /// Registers a socket of this process; it joins the room named after its id.
    fn add_socket(&self, socket: Arc<dyn LocalSocket>);
    /// Forgets a socket of this process: it leaves every room.
    fn remove_socket(&self, id: Sid);
    /// Adds a local socket to rooms.
    fn add_all(&self, id: Sid, rooms: &[Room]);
    /// Removes a local socket from a room.
    fn del(&self, id: Sid, room: &Room);
    /// The rooms of a local socket (empty when unknown).
    fn socket_rooms(&self, id: Sid) -> Vec<Room>;
    /// The rooms that have members in this process, socket id-rooms included.
    fn local_rooms(&self) -> Vec<Room>;
    /// How many sockets of this process are in `room`.
    fn local_room_size(&self, room: &Room) -> usize;

    /// Delivers a packet to the targeted sockets.
    fn broadcast<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Delivers a packet that asks for acknowledgements: every recipient's answer goes to
    /// `sink`. Resolves to how many answers to expect in all.
    fn broadcast_with_ack<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        ack_id: u64,
        opts: &'a BroadcastOptions,
        sink: AckSink,
    ) -> BoxFuture<'a, Result<usize, Error>>;
    /// Describes the targeted sockets.
    fn fetch_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<Vec<SocketInfo>, Error>>;
    /// Makes the targeted sockets join `rooms`.
    fn add_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Makes the targeted sockets leave `rooms`.
    fn del_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Disconnects the targeted sockets.
    fn disconnect_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        close: bool,
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Sends an event to the other servers of the cluster (none with a single process).
    fn server_side_emit<'a>(
        &'a self,
        event: &'a str,
        args: &'a [Value],
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Every room of the namespace, across the cluster.
    fn all_rooms(&self) -> BoxFuture<'_, Result<Vec<Room>, Error>>;
}
