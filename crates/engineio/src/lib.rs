//! Engine.IO v4 server transport: HTTP long-polling, WebSocket, the upgrade between them,
//! heartbeats and payload limits, compatible with Node's `engine.io` 6 and its clients.
//!
//! It knows nothing of Socket.IO: the layer above implements [`Handler`] and gets, for each
//! session, a [`Socket`] to send [`Frame`]s on, and gives back a [`Connection`] that receives
//! the session's [`Message`]s in order and learns how it ended.
//!
//! ```no_run
//! use roomcast_engineio::{serve, CloseReason, Config, Connection, Engine, Frame, Handler, Message, Socket};
//!
//! struct Echo;
//! struct EchoConnection(Socket);
//!
//! impl Handler for Echo {
//!     type Connection = EchoConnection;
//!     fn on_open(&self, socket: Socket) -> EchoConnection {
//!         EchoConnection(socket)
//!     }
//! }
//!
//! impl Connection for EchoConnection {
//!     fn on_message(&self, message: Message) {
//!         let _ = self.0.send(Frame::from(message));
//!     }
//!     fn on_close(&self, reason: CloseReason) {
//!         println!("{} closed: {reason}", self.0.id());
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let engine = Engine::new(Echo, Config::default());
//!     let listener = roomcast_engineio::bind("127.0.0.1:3000").await?;
//!     serve(listener, engine).await
//! }
//! ```

mod beat;
mod config;
mod cors;
mod engine;
mod error;
#[cfg(feature = "fuzz")]
#[doc(hidden)]
pub mod fuzz;
mod handler;
mod heartbeat;
mod http;
mod listen;
mod packet;
mod polling;
mod request;
mod service;
mod session;
mod sid;
mod signal;
mod socket;
mod v3;
mod ws;

pub use config::{AllowFuture, AllowRequest, Config, Cors, CorsOrigin, Deflate, Transports};
pub use engine::{Engine, WeakEngine};
pub use error::SendError;
pub use handler::{Connection, Handler};
pub use http::HttpOptions;
pub use listen::{bind, raise_open_file_limit, serve, serve_with};
pub use packet::{Frame, InvalidFrame, Message, ParseError};
pub use request::{RemoteAddr, RequestInfo};
pub use service::{EngineLayer, EngineService};
pub use sid::{IdHash, IdHasher, Sid};
pub use socket::{CloseReason, Protocol, Socket, TransportKind};

/// The boxed error type bodies and services may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
