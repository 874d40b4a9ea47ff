//! The messages servers exchange, decoded: what is asked, what is answered, and where a
//! message goes.

use roomcast::adapter::{BroadcastOptions, SocketInfo};
use roomcast::{Room, Value};

/// A message to publish: where, what, and whether on sharded pub/sub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) sharded: bool,
}

/// An entry to append to a stream: `XADD <stream> MAXLEN ~ <max_len> * <field> <value> …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Append {
    pub(crate) stream: String,
    pub(crate) max_len: usize,
    pub(crate) fields: Vec<(&'static str, Vec<u8>)>,
}

/// How an operation reaches the other servers: published, or appended to a stream (then the
/// sender acts locally once Redis has given the entry its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    Publish(Publish),
    Append(Append),
}

#[cfg(test)]
impl Outgoing {
    /// The published message (tests of the pub/sub protocols).
    pub(crate) fn published(self) -> Publish {
        match self {
            Outgoing::Publish(publish) => publish,
            Outgoing::Append(append) => panic!("appended to {}, not published", append.stream),
        }
    }
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
    /// The id of the stream entry it came in (the offset connection state recovery gives
    /// broadcasts); `None` for a published message.
    pub(crate) offset: Option<String>,
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
    MessagePack(#[from] roomcast::value::msgpack::DecodeError),
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("{0}")]
    Shape(String),
}

impl WireError {
    pub(crate) fn shape(message: impl Into<String>) -> WireError {
        WireError::Shape(message.into())
    }
}
