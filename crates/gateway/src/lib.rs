//! NestJS-style gateways for roomcast: a type per namespace whose methods handle events, with
//! typed message bodies and validation, guards (on messages, and on connections), exception
//! filters, interceptors, lifecycle hooks, and return values that become acknowledgements.
//!
//! ```no_run
//! use roomcast::{Namespace, Server, Socket};
//! use roomcast_gateway::{gateway, register, Valid, WsException};
//!
//! #[derive(serde::Deserialize, garde::Validate)]
//! struct JoinRoom {
//!     #[garde(length(min = 1, max = 64), pattern(r"^[a-z0-9:_-]+$"))]
//!     room: String,
//! }
//!
//! struct RoomGateway;
//!
//! #[gateway(namespace = "/")]
//! impl RoomGateway {
//!     #[subscribe_message("joinRoom")]
//!     async fn join_room(&self, Valid(body): Valid<JoinRoom>, socket: Socket) -> Result<(), WsException> {
//!         socket.join(body.room.as_str()).await.map_err(|e| WsException::new(e.to_string()))
//!     }
//!
//!     #[subscribe_message("roomSize")]
//!     async fn room_size(&self, Valid(body): Valid<JoinRoom>, nsp: Namespace) -> usize {
//!         nsp.in_(body.room.as_str()).fetch_sockets().await.map_or(0, |sockets| sockets.len())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let io = Server::new();
//!     register(&io, RoomGateway).await?;
//!     io.listen("127.0.0.1:3000").await?;
//!     Ok(())
//! }
//! ```
//!
//! A message goes through the gateway's guards, then the handler's; then its parameters are
//! taken (a [`Valid`] body checked); then the interceptors run around the handler; its value
//! is emitted (a [`WsResponse`]) or acknowledges the message. A refusal or an error on the way
//! goes to the handler's exception filters, then the gateway's, then the default one, which
//! sends the `exception` event (and the acknowledgement, when one was asked for) and logs the
//! error with the gateway's and the event's names.
//!
//! Validation rules are derived with [garde](https://docs.rs/garde) (`#[derive(garde::Validate)]`,
//! `garde` among the crate's dependencies).

mod exception;
mod filter;
mod gateway;
mod guard;
mod handler;
mod interceptor;
mod message;
mod reply;

pub use exception::{WsException, FORBIDDEN};
pub use filter::{Catch, ErrorHost, ExceptionFilter};
pub use gateway::{register, Declaration, Gateway, GatewayError, NamespaceSpec};
pub use guard::{ConnectionGuard, Guard, GuardContext};
pub use handler::{MessageHandler, Route};
pub use interceptor::{InterceptContext, Interceptor, Next, Outcome};
pub use message::{Auth, Body, Event, FromMessage, Invalid, InvalidBody, Message, Valid};
pub use reply::WsResponse;
pub use roomcast_gateway_macros::gateway;

/// What the `#[gateway]` attribute's expansion uses; not for other code.
#[doc(hidden)]
pub mod __private {
    /// Names a handler parameter that is not one where it is written.
    pub fn parameter<T: crate::FromMessage>() {}
}
