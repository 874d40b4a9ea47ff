//! roomcast: a Socket.IO v5 server for Rust, built around namespaces and rooms, that the
//! official clients connect to unchanged.
//!
//! The API follows Node's `socket.io`, name for name:
//!
//! | Node.js | roomcast |
//! |---|---|
//! | `io.of("/chat")` | [`Server::of`]`("/chat")` |
//! | `io.of(/^\/org-\w+$/)` | [`Server::of_regex`]`(r"^/org-\w+$")` |
//! | `nsp.use((socket, next) => …)` | [`Namespace::use_`]`(\|socket\| async { Ok(()) })` |
//! | `io.on("connection", socket => …)` | [`Server::on_connect`]`(\|socket\| async { … })` |
//! | `socket.on("e", (data, ack) => …)` | [`Socket::on`]`("e", \|data: T, ack: AckSender\| async { … })` (parameters in any order) |
//! | `await socket.join("r")` | [`Socket::join`]`("r").await` |
//! | `socket.emit("e", a, b)` | [`Socket::emit`]`("e", &(a, b))` |
//! | `socket.to("r").emit(…)` | [`Socket::to`]`("r").emit(…).await` |
//! | `io.to("r1").to("r2").except("r3").emit(…)` | `io.to("r1").to("r2").except("r3").emit(…).await` |
//! | `io.timeout(ms).emit("e", (err, res) => …)` | `io.timeout(d).emit_with_ack::<_, R>("e", &data).await` |
//! | `await io.in("r").fetchSockets()` | `io.in_("r").fetch_sockets().await` |
//! | `io.in("r").socketsJoin("s")` | `io.in_("r").sockets_join("s").await` |
//! | `io.in("r").disconnectSockets(true)` | `io.in_("r").disconnect_sockets(true).await` |
//! | `io.serverSideEmit("e", a)` / `serverSideEmitWithAck` | [`Namespace::server_side_emit`] / [`Namespace::server_side_emit_with_ack`] |
//! | `io.on("e", …)` (a server-side event) | [`Namespace::on_server_event`] |
//! | `socket.nsp` / `nsp.sockets.size` | [`Socket::namespace`] / [`Namespace::socket_count`] |
//! | `socket.on("disconnect", reason => …)` | [`Socket::on_disconnect`]`(\|socket, reason\| async { … })` |
//!
//! For a cluster (several processes, or a fleet mixed with Node servers), see the
//! `roomcast-redis` crate: Redis adapters that speak Node's `@socket.io/redis-adapter` protocol.
//!
//! Event payloads are any `serde` type: a tuple is several Socket.IO arguments, `()` none,
//! anything else one; `bytes::Bytes` (or anything serialized as bytes) travels as binary.
//!
//! ```no_run
//! use roomcast::{AckSender, Server, Socket};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let io = Server::new();
//!     io.of("/chat").on_connect(|socket: Socket| async move {
//!         let _ = socket.join("general").await;
//!         socket.on("message", |socket: Socket, text: String| async move {
//!             // Everyone in the room but the sender.
//!             socket.to("general").emit("message", &text).await
//!         });
//!         socket.on("rooms", |socket: Socket, ack: AckSender| async move {
//!             ack.send(&socket.rooms())
//!         });
//!     });
//!     io.listen("127.0.0.1:3000").await
//! }
//! ```

mod ack;
pub mod adapter;
mod broadcast;
mod client;
mod connect_timeout;
mod connection;
mod disconnect;
mod error;
mod extensions;
#[cfg(feature = "fuzz")]
#[doc(hidden)]
pub mod fuzz;
mod handler;
mod handshake;
mod limits;
mod members;
mod memory_adapter;
mod namespace;
mod observe;
mod outbox;
pub mod packet;
pub mod payload;
mod raw_args;
mod recovery;
mod registry;
mod remote_socket;
mod report;
mod rooms;
mod scope;
mod server;
mod socket;
mod spare;
mod state;
mod tally;
pub mod value;

pub use ack::AckSender;
pub use adapter::{
    Adapter, BroadcastFlags, BroadcastOptions, BroadcastPacket, LocalSocket, RecoveryOptions,
    SocketInfo,
};
pub use broadcast::BroadcastOperator;
pub use client::{Client, ServerHandler};
pub use disconnect::DisconnectReason;
pub use error::{ConnectError, Error, EventError, PartialAcks};
pub use handler::{BoxError, BoxFuture, FromContext, Handler, HandlerOutput};
pub use handshake::Handshake;
pub use limits::{EventRate, OverRate, SocketLimits};
pub use memory_adapter::MemoryAdapter;
pub use namespace::Namespace;
pub use namespace::ServerEventContext;
pub use observe::Observer;
pub use payload::{Args, ArgsError};
pub use registry::{AdapterFactory, ParentNamespace};
pub use remote_socket::RemoteSocket;
pub use roomcast_engineio::{
    bind, raise_open_file_limit, serve_with, CloseReason, Cors, CorsOrigin, Frame, HttpOptions,
    RemoteAddr, Sid, TransportKind,
};
pub use rooms::{IntoRooms, Room, RoomError, MAX_ROOM_LEN};
pub use server::{Server, ServerOptions};
pub use socket::{EventContext, Socket, TimedSocket};
pub use state::State;
pub use tally::{Tally, Traffic};
pub use value::Value;
