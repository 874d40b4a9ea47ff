//! What an adapter can do back into its namespace and hear from its room index: receive
//! server-side events from other servers, take acknowledgement ids, and follow rooms as they
//! are created, joined, left and deleted.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use roomcast_engineio::Sid;
use serde::Serialize;

use super::session::RecoveryOptions;
use crate::error::Error;
use crate::packet::Parser;
use crate::rooms::Room;
use crate::value::{to_value, Value};

/// The namespace an adapter serves, as the adapter reaches back into it (given to
/// [`Adapter::init`](crate::Adapter::init)).
pub trait NamespaceHooks: Send + Sync + 'static {
    /// The namespace name.
    fn name(&self) -> &str;
    /// A fresh acknowledgement id of the namespace (for a broadcast with acknowledgements
    /// that another server asked for).
    fn next_ack_id(&self) -> u64;
    /// Connection state recovery's options, when the server has it on: the adapter then gives
    /// each recoverable broadcast an offset and keeps what recovery needs.
    fn recovery(&self) -> Option<&RecoveryOptions>;
    /// How the server encodes packets: an adapter encodes what other servers broadcast with it
    /// ([`BroadcastPacket::encode`](crate::BroadcastPacket::encode)). Socket.IO's text
    /// encoding by default.
    fn parser(&self) -> Parser {
        Parser::Json
    }
    /// A server-side event from another server (`serverSideEmit`); `ack` answers it when the
    /// sender waits for answers (`serverSideEmitWithAck`).
    fn server_side_event(self: Arc<Self>, event: String, args: Vec<Value>, ack: Option<ServerAck>);
    /// A request of the adapter to the other servers (`fetchSockets`, `serverSideEmit`, …)
    /// ended after `elapsed`, `complete` unless it timed out: for the server's observers
    /// (metrics). Does nothing by default.
    fn adapter_request(&self, request: &'static str, elapsed: Duration, complete: bool) {
        let _ = (request, elapsed, complete);
    }
}

/// Answers a server-side event that another server sent with `serverSideEmitWithAck`. The
/// first answer counts; a dropped `ServerAck` sends none.
pub struct ServerAck(Box<dyn FnOnce(Value) + Send>);

impl ServerAck {
    /// An answer that goes to `reply` (the adapter publishes it to the sender).
    pub fn new(reply: impl FnOnce(Value) + Send + 'static) -> ServerAck {
        ServerAck(Box::new(reply))
    }

    /// Sends the answer.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), Error> {
        (self.0)(to_value(data)?);
        Ok(())
    }
}

impl fmt::Debug for ServerAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerAck")
    }
}

/// A change of the rooms of this process, as socket.io's adapter emits `create-room`,
/// `join-room`, `leave-room` and `delete-room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// The room got its first member here.
    Create(Room),
    /// A socket joined the room.
    Join(Room, Sid),
    /// A socket left the room.
    Leave(Room, Sid),
    /// The room lost its last member here.
    Delete(Room),
}

/// Hears every [`RoomEvent`], in order, right after the change (never under the adapter's
/// locks, so it may call back into the adapter).
pub type RoomListener = Arc<dyn Fn(&RoomEvent) + Send + Sync>;
