//! What `fetch_sockets` returns: a description of a socket, wherever it is connected, with
//! the operations that reach it through the adapter.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::adapter::{BroadcastOptions, SocketInfo};
use crate::error::Error;
use crate::handshake::Handshake;
use crate::rooms::{IntoRooms, Room};
use crate::scope::Scope;
use crate::value::Value;

/// A socket found by `fetch_sockets` (Node's `RemoteSocket`): its id, rooms, handshake and
/// data at the time of the call, and operations that target it by its id-room.
#[derive(Clone)]
pub struct RemoteSocket {
    scope: Arc<Scope>,
    info: SocketInfo,
}

impl RemoteSocket {
    pub(crate) fn new(scope: Arc<Scope>, info: SocketInfo) -> RemoteSocket {
        RemoteSocket { scope, info }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The namespace name.
    pub fn ns(&self) -> &str {
        self.scope.name()
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

    /// The options that target this socket alone, by its id-room.
    fn itself(&self) -> Result<BroadcastOptions, Error> {
        Ok(BroadcastOptions {
            rooms: vec![Room::new(self.info.id.as_str())?],
            ..BroadcastOptions::default()
        })
    }

    /// Sends an event to this socket.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.scope.emit(&self.itself()?, event, data).await
    }

    /// Makes the socket join `rooms`.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let rooms = rooms.into_rooms()?;
        self.scope.sockets_join(&self.itself()?, &rooms).await
    }

    /// Makes the socket leave `rooms`.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let rooms = rooms.into_rooms()?;
        self.scope.sockets_leave(&self.itself()?, &rooms).await
    }

    /// Disconnects the socket (`close`: its whole connection).
    pub async fn disconnect(&self, close: bool) -> Result<(), Error> {
        self.scope.disconnect_sockets(&self.itself()?, close).await
    }
}

impl fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("nsp", &self.ns())
            .field("info", &self.info)
            .finish()
    }
}
