//! What an adapter sees of sockets: the handle of a socket of this process, the description
//! of a socket anywhere in the cluster, and where acknowledgements of a broadcast go.

use roomcast_engineio::{Frame, Sid};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::handshake::Handshake;
use crate::payload::Args;
use crate::rooms::Room;
use crate::value::Value;

/// Where the answers of a broadcast with acknowledgements go.
pub type AckSink = mpsc::UnboundedSender<AckMessage>;

/// What a broadcast with acknowledgements hears back.
#[derive(Debug)]
pub enum AckMessage {
    /// One server reached this many sockets (each server that took part sends one).
    Count(usize),
    /// A socket answered.
    Ack(Args),
}

/// What fetching sockets tells about one socket, wherever it is connected. Serializes (and
/// deserializes) as Node's `fetchSockets` answers carry it across a cluster:
/// `{id, handshake, rooms, data}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// Its handshake.
    #[serde(deserialize_with = "Handshake::from_peer")]
    pub handshake: Handshake,
    /// Its rooms, its own id-room included.
    #[serde(deserialize_with = "crate::rooms::peer_rooms")]
    pub rooms: Vec<Room>,
    /// Its `data`.
    #[serde(default)]
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
