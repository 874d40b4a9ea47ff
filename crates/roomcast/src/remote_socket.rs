//! What `fetch_sockets` returns: a description of a socket, wherever it is connected, with
//! the operations that reach it through the adapter.

use serde::Serialize;

use crate::adapter::SocketInfo;
use crate::error::Error;
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::rooms::{IntoRooms, Room};
use crate::value::Value;

/// A socket found by `fetch_sockets` (Node's `RemoteSocket`): its id, rooms, handshake and
/// data at the time of the call, and operations that target it by its id-room.
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    nsp: Namespace,
    info: SocketInfo,
}

impl RemoteSocket {
    pub(crate) fn new(nsp: Namespace, info: SocketInfo) -> RemoteSocket {
        RemoteSocket { nsp, info }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The namespace name.
    pub fn ns(&self) -> &str {
        self.nsp.name()
    }

    /// The rooms the socket was in, its own id-room included, sorted.
    pub fn rooms(&self) -> &[Room] {
        &self.info.rooms
    }

    /// The socket's handshake.
    pub fn handshake(&self) -> &Handshake {
        &self.info.handshake
    }

    /// The socket's data.
    pub fn data(&self) -> &Value {
        &self.info.data
    }

    fn own_room(&self) -> Result<Room, Error> {
        Ok(Room::new(self.info.id.as_str())?)
    }

    /// Sends an event to this socket.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.nsp.to(self.own_room()?).emit(event, data).await
    }

    /// Makes the socket join `rooms`.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.nsp.in_(self.own_room()?).sockets_join(rooms).await
    }

    /// Makes the socket leave `rooms`.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.nsp.in_(self.own_room()?).sockets_leave(rooms).await
    }

    /// Disconnects the socket (`close`: its whole connection).
    pub async fn disconnect(&self, close: bool) -> Result<(), Error> {
        self.nsp
            .in_(self.own_room()?)
            .disconnect_sockets(close)
            .await
    }
}
