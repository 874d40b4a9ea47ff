//! What each of Node's adapters writes and reads for one namespace, behind one interface.

use std::time::Duration;

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};

use super::message::{Count, Incoming, Outgoing, Publish, Subscriptions, WireError};
use super::stream::StreamSide;

/// How a protocol writes and reads messages for one namespace.
pub(crate) trait Protocol: Send + Sync + 'static {
    /// This server's id.
    fn uid(&self) -> &str;
    /// A fresh request id, in the protocol's format.
    fn request_id(&self) -> String;
    /// The sharded adapter's subscription mode (`None` for the other adapters).
    fn sharded_mode(&self) -> Option<crate::mode::SubscriptionMode>;
    /// How long a fetch of sockets waits for the other servers (the cluster protocol honours
    /// the operator's `timeout`).
    fn fetch_timeout(&self, opts: &BroadcastOptions, default: Duration) -> Duration;
    /// What to subscribe to at init.
    fn subscriptions(&self) -> Subscriptions;
    /// How to count the servers of the namespace.
    fn count(&self) -> Count;
    /// The stream side of the namespace (the streams adapter): its entries and the sessions
    /// of connection state recovery.
    fn log(&self) -> Option<&StreamSide>;

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Outgoing, roomcast::Error>;
    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error>;
    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing;
    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing;
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Outgoing;
    fn fetch_sockets(&self, request_id: &str, opts: &BroadcastOptions) -> Publish;
    /// `None` when the protocol has no such request.
    fn all_rooms(&self, request_id: &str) -> Option<Publish>;
    fn server_side_emit(&self, request_id: Option<&str>, event: &str, args: &[Value]) -> Publish;

    fn fetch_sockets_response(&self, to: &str, request_id: &str, sockets: &[SocketInfo])
        -> Publish;
    /// `None` when the protocol has no such request.
    fn all_rooms_response(&self, to: &str, request_id: &str, rooms: &[Room]) -> Option<Publish>;
    fn server_side_emit_response(&self, to: &str, request_id: &str, value: &Value) -> Publish;
    fn client_count_response(&self, to: &str, request_id: &str, count: usize) -> Publish;
    fn ack_response(&self, to: &str, request_id: &str, value: Option<&Value>) -> Publish;
    /// The answer to a legacy request (`sockets`: the ids, for [`Request::Sockets`]).
    fn legacy_response(&self, request_id: &str, sockets: Option<&[String]>) -> Option<Publish>;

    /// Reads a message received on `channel`; `Ok(None)` for a message this server ignores
    /// (another namespace, its own, a room it does not hold is decided by the caller).
    fn decode(&self, channel: &str, payload: &[u8]) -> Result<Option<Incoming>, WireError>;

    /// The room a message on `channel` is for, when it is a room channel (classic: checked
    /// before decoding, a room not held here is skipped).
    fn room_of_channel<'c>(&self, channel: &'c str) -> Option<&'c str>;

    /// The channel of a room, for the sharded adapter's dynamic subscriptions.
    fn room_channel(&self, room: &Room) -> Option<String>;
}
