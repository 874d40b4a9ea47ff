//! The [`Adapter`] trait: the seam between "which sockets" and "where they live".

use std::sync::{Arc, Weak};

use roomcast_engineio::Sid;

use super::hooks::{NamespaceHooks, RoomListener};
use super::options::BroadcastOptions;
use super::packet::BroadcastPacket;
use super::session::{RestoredSession, Session};
use super::socket::{AckSink, LocalSocket, SocketInfo};
use crate::error::{Error, PartialAcks};
use crate::handler::BoxFuture;
use crate::rooms::Room;
use crate::value::Value;

/// The seam between "which sockets" and "where they live". See the module documentation.
pub trait Adapter: Send + Sync + 'static {
    /// Prepares the adapter for its namespace (a cluster adapter subscribes to its channels),
    /// once, before the namespace takes connections: [`Server::serve`](crate::Server::serve)
    /// waits for the namespaces that exist, a dynamic namespace is ready before its first socket
    /// connects. `nsp` reaches back into the namespace. A failure is logged and the namespace
    /// works on this process meanwhile.
    fn init(&self, nsp: Weak<dyn NamespaceHooks>) -> BoxFuture<'_, Result<(), Error>> {
        let _ = nsp;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Releases what [`Adapter::init`] took (a cluster adapter unsubscribes, so the other
    /// servers stop counting this one), when the server closes.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

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
    /// Adds a listener of the room changes of this process.
    fn on_room_event(&self, listener: RoomListener);

    /// Delivers a packet to the targeted sockets.
    fn broadcast<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Delivers a packet that asks for acknowledgements (its
    /// [`ack_id`](BroadcastPacket::ack_id)): each server that takes part sends `sink` the
    /// count of sockets it reached, then every answer goes to `sink`. Resolves to how many
    /// servers take part (this one included), i.e. how many counts to wait for.
    fn broadcast_with_ack<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
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
    /// Sends an event to the other servers and collects one answer from each (the first
    /// argument of its acknowledgement); on timeout, the error carries what had arrived.
    fn server_side_emit_with_ack<'a>(
        &'a self,
        event: &'a str,
        args: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Value>, PartialAcks<Value>>>;
    /// Every room of the namespace, across the cluster.
    fn all_rooms(&self) -> BoxFuture<'_, Result<Vec<Room>, Error>>;
    /// How many servers serve the namespace, this one included.
    fn server_count(&self) -> BoxFuture<'_, Result<usize, Error>>;

    /// Keeps the session of a socket that disconnected, for connection state recovery (an
    /// adapter without recovery keeps nothing).
    fn persist_session(&self, session: Session) -> BoxFuture<'_, ()> {
        let _ = session;
        Box::pin(std::future::ready(()))
    }

    /// The session `pid` with the packets it missed since `offset`, if the session is kept,
    /// not expired, and `offset` still known (an adapter without recovery never finds one).
    /// A session is given back once.
    fn restore_session<'a>(
        &'a self,
        pid: &'a str,
        offset: &'a str,
    ) -> BoxFuture<'a, Result<Option<RestoredSession>, Error>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }
}
