//! Guards: whether a message may reach its handler (NestJS's `CanActivate`), and — what NestJS
//! cannot do — whether a connection may join the gateway's namespace at all.

use std::future::Future;

use roomcast::{Args, BoxFuture, ConnectError, Handshake, Socket};
use serde::de::DeserializeOwned;

/// What a guard sees of a message: the socket, its handshake, the event and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct GuardContext<'a> {
    socket: &'a Socket,
    event: &'a str,
    args: &'a Args,
}

impl<'a> GuardContext<'a> {
    pub(crate) fn new(socket: &'a Socket, event: &'a str, args: &'a Args) -> GuardContext<'a> {
        GuardContext {
            socket,
            event,
            args,
        }
    }

    /// The socket the message came from.
    pub fn socket(&self) -> &'a Socket {
        self.socket
    }

    /// Its handshake.
    pub fn handshake(&self) -> &'a Handshake {
        self.socket.handshake()
    }

    /// The handshake's `auth` read as `T` (`None` when it does not fit).
    pub fn auth<T: DeserializeOwned>(&self) -> Option<T> {
        roomcast::value::from_value(self.socket.handshake().auth.clone()).ok()
    }

    /// The event name.
    pub fn event(&self) -> &'a str {
        self.event
    }

    /// The message's arguments.
    pub fn args(&self) -> &'a Args {
        self.args
    }

    /// The message body read as `T` (`None` when it does not fit).
    pub fn body<T: DeserializeOwned>(&self) -> Option<T> {
        self.args.deserialize().ok()
    }
}

/// Decides whether a message reaches its handler. A refused message gets the `exception` event
/// `{ status: "error", message: "Forbidden resource" }` (and the same object as its
/// acknowledgement, when it asked for one); the handler does not run.
///
/// ```
/// use roomcast_gateway::{Guard, GuardContext};
///
/// #[derive(serde::Deserialize)]
/// struct Role { role: String }
///
/// /// Only connections whose handshake auth says `role: "admin"`.
/// struct AdminGuard;
///
/// impl Guard for AdminGuard {
///     async fn can_activate(&self, ctx: GuardContext<'_>) -> bool {
///         ctx.auth::<Role>().is_some_and(|auth| auth.role == "admin")
///     }
/// }
/// ```
pub trait Guard: Send + Sync + 'static {
    /// Whether the message may go on.
    fn can_activate(&self, ctx: GuardContext<'_>) -> impl Future<Output = bool> + Send;
}

/// Decides whether a connection may join the gateway's namespace; a refusal reaches the client
/// as `connect_error` with its message and data.
///
/// ```
/// use roomcast::{ConnectError, Socket};
/// use roomcast_gateway::ConnectionGuard;
///
/// /// Only handshakes whose auth has a non-empty `user`.
/// struct UserGuard;
///
/// impl ConnectionGuard for UserGuard {
///     async fn can_connect(&self, socket: &Socket) -> Result<(), ConnectError> {
///         match socket.handshake().auth.get("user").and_then(|user| user.as_str()) {
///             Some(user) if !user.is_empty() => Ok(()),
///             _ => Err(ConnectError::new("unauthorized")),
///         }
///     }
/// }
/// ```
pub trait ConnectionGuard: Send + Sync + 'static {
    /// `Ok` to let the connection in.
    fn can_connect(&self, socket: &Socket)
        -> impl Future<Output = Result<(), ConnectError>> + Send;
}

/// A [`Guard`] behind a pointer.
pub(crate) trait DynGuard: Send + Sync + 'static {
    fn can_activate<'a>(&'a self, ctx: GuardContext<'a>) -> BoxFuture<'a, bool>;
}

impl<G: Guard> DynGuard for G {
    fn can_activate<'a>(&'a self, ctx: GuardContext<'a>) -> BoxFuture<'a, bool> {
        Box::pin(Guard::can_activate(self, ctx))
    }
}

/// A [`ConnectionGuard`] behind a pointer.
pub(crate) trait DynConnectionGuard: Send + Sync + 'static {
    fn can_connect<'a>(&'a self, socket: &'a Socket) -> BoxFuture<'a, Result<(), ConnectError>>;
}

impl<G: ConnectionGuard> DynConnectionGuard for G {
    fn can_connect<'a>(&'a self, socket: &'a Socket) -> BoxFuture<'a, Result<(), ConnectError>> {
        Box::pin(ConnectionGuard::can_connect(self, socket))
    }
}
