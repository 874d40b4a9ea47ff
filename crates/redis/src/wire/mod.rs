//! What servers say to each other through Redis, apart from how it is written: the requests,
//! the responses, and the two ways Node writes them — the classic adapter's
//! ([`classic`], `@socket.io/redis-adapter`'s `createAdapter`) and the cluster protocol of the
//! sharded adapter ([`sharded`], `createShardedAdapter`).

pub(crate) mod classic;
mod json;
mod opts;
mod read;
pub(crate) mod sharded;

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};

/// A message to publish: where, what, and whether on sharded pub/sub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) sharded: bool,
}

/// How subscriptions are counted to know how many servers serve a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Count {
    /// `PUBSUB NUMSUB channel`.
    NumSub(String),
    /// `PUBSUB SHARDNUMSUB channel`.
    ShardNumSub(String),
}

/// What a server subscribes to for a namespace.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Subscriptions {
    pub(crate) patterns: Vec<String>,
    pub(crate) channels: Vec<String>,
    pub(crate) shard_channels: Vec<String>,
}

/// A message from another server (or an emitter).
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The sender's id, when the message has one (an emitter's requests have none).
    pub(crate) from: Option<String>,
    pub(crate) body: Body,
}

/// What a message asks or answers.
#[derive(Debug)]
pub(crate) enum Body {
    Request(Request),
    Response(Response),
}

/// Something asked of every server.
#[derive(Debug)]
pub(crate) enum Request {
    /// Deliver to the targeted sockets.
    Broadcast {
        event: String,
        args: Vec<Value>,
        opts: BroadcastOptions,
    },
    /// Deliver asking for acknowledgements: answer with the count of sockets reached, then
    /// each socket's answer.
    BroadcastWithAck {
        request_id: String,
        event: String,
        args: Vec<Value>,
        opts: BroadcastOptions,
    },
    SocketsJoin {
        opts: BroadcastOptions,
        rooms: Vec<Room>,
    },
    SocketsLeave {
        opts: BroadcastOptions,
        rooms: Vec<Room>,
    },
    DisconnectSockets {
        opts: BroadcastOptions,
        close: bool,
    },
    /// Describe the targeted sockets.
    FetchSockets {
        request_id: String,
        opts: BroadcastOptions,
    },
    /// List every room (classic only).
    AllRooms {
        request_id: String,
    },
    /// A server-side event; with a request id the sender waits for one answer.
    ServerSideEmit {
        request_id: Option<String>,
        event: String,
        args: Vec<Value>,
    },
    /// Legacy (socket.io-redis 5/6) request for the ids of the sockets in rooms: answered.
    Sockets {
        request_id: String,
        rooms: Vec<Room>,
    },
    /// Legacy request on one socket by id: answered when the socket is here.
    RemoteSocket {
        request_id: Option<String>,
        sid: String,
        action: RemoteAction,
    },
}

/// What a legacy request does to one socket.
#[derive(Debug)]
pub(crate) enum RemoteAction {
    Join(Room),
    Leave(Room),
    Disconnect { close: bool },
}

/// An answer to a request of ours.
#[derive(Debug)]
pub(crate) enum Response {
    FetchSockets {
        request_id: String,
        sockets: Vec<SocketInfo>,
    },
    AllRooms {
        request_id: String,
        rooms: Vec<Room>,
    },
    ServerSideEmit {
        request_id: String,
        value: Value,
    },
    ClientCount {
        request_id: String,
        count: usize,
    },
    Ack {
        request_id: String,
        value: Option<Value>,
    },
}

impl Response {
    /// The id of the request this answers.
    pub(crate) fn request_id(&self) -> &str {
        match self {
            Response::FetchSockets { request_id, .. }
            | Response::AllRooms { request_id, .. }
            | Response::ServerSideEmit { request_id, .. }
            | Response::ClientCount { request_id, .. }
            | Response::Ack { request_id, .. } => request_id,
        }
    }
}

/// Why a message from Redis was skipped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error(transparent)]
    MessagePack(#[from] crate::msgpack::DecodeError),
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Shape(String),
}

impl WireError {
    pub(crate) fn shape(message: impl Into<String>) -> WireError {
        WireError::Shape(message.into())
    }
}

/// How a protocol writes and reads messages for one namespace.
pub(crate) trait Protocol: Send + Sync + 'static {
    /// This server's id.
    fn uid(&self) -> &str;
    /// A fresh request id, in the protocol's format.
    fn request_id(&self) -> String;
    /// The sharded adapter's subscription mode (`None` for the classic adapter).
    fn sharded_mode(&self) -> Option<crate::mode::SubscriptionMode>;
    /// What to subscribe to at init.
    fn subscriptions(&self) -> Subscriptions;
    /// How to count the servers of the namespace.
    fn count(&self) -> Count;

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error>;
    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error>;
    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Publish;
    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Publish;
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Publish;
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
