//! Namespaces: isolated channels on one connection, each with its own sockets, rooms,
//! middleware and handlers.
//!
//! `namespace.rs` and `socket.rs` name each other, as Node's API does (`nsp.sockets`,
//! `socket.nsp`); see `socket.rs`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use parking_lot::RwLock;
use roomcast_engineio::{IdHasher, Sid};
use serde::Serialize;

use crate::adapter::{Adapter, LocalSocket};
use crate::broadcast::{namespace_methods, BroadcastOperator};
use crate::error::{ConnectError, Error};
use crate::handler::{erase, BoxFuture, ErasedHandler, Handler};
use crate::payload::to_arg_values;
use crate::rooms::Room;
use crate::scope::Scope;
use crate::socket::Socket;

/// A connect handler, its parameter types erased: its context is the new socket.
pub(crate) type ConnectHandler = Arc<dyn ErasedHandler<Socket>>;

/// Namespace middleware: `|socket: Socket| async move { Ok(()) }`, refusing the connection
/// with a [`ConnectError`].
pub(crate) type Middleware =
    Arc<dyn Fn(Socket) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;

/// A namespace (Node's `io.of(name)`). Cheap to clone.
///
/// ```no_run
/// use roomcast::{ConnectError, Server, Socket};
///
/// let io = Server::new();
/// let admin = io.of("/admin");
/// admin.use_(|socket: Socket| async move {
///     match socket.handshake().auth.get("token").and_then(|t| t.as_str()) {
///         Some("secret") => Ok(()),
///         _ => Err(ConnectError::new("unauthorized")),
///     }
/// });
/// admin.on_connect(|socket: Socket| async move {
///     let _ = socket.emit("welcome", "admin");
/// });
/// ```
#[derive(Clone)]
pub struct Namespace {
    inner: Arc<NamespaceInner>,
}

struct NamespaceInner {
    scope: Arc<Scope>,
    sockets: RwLock<HashMap<Sid, Socket, IdHasher>>,
    middleware: RwLock<Vec<Middleware>>,
    connect_handlers: RwLock<Vec<ConnectHandler>>,
}

impl Namespace {
    pub(crate) fn new(name: Arc<str>, adapter: Arc<dyn Adapter>) -> Namespace {
        Namespace {
            inner: Arc::new(NamespaceInner {
                scope: Arc::new(Scope::new(name, adapter)),
                sockets: RwLock::new(HashMap::default()),
                middleware: RwLock::new(Vec::new()),
                connect_handlers: RwLock::new(Vec::new()),
            }),
        }
    }

    /// The name, e.g. `/chat`.
    pub fn name(&self) -> &str {
        self.inner.scope.name()
    }

    /// The name, shared.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        self.inner.scope.shared_name()
    }

    /// The adapter holding this namespace's rooms.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        self.inner.scope.adapter()
    }

    /// A fresh acknowledgement id (one counter per namespace, as in socket.io).
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.inner.scope.next_ack_id()
    }

    /// Registers a handler for each socket that connects: an async closure or `async fn` whose
    /// parameters are any of [`Socket`] and [`Namespace`], returning `()` or `Result<(), E>`
    /// (an error is logged).
    pub fn on_connect<H, T>(&self, handler: H)
    where
        H: Handler<Socket, T>,
        T: 'static,
    {
        self.inner.connect_handlers.write().push(erase(handler));
    }

    /// Adds middleware: it runs, in order of registration, for every connection attempt, and
    /// refuses it by returning a [`ConnectError`] (the client gets `connect_error`).
    pub fn use_<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.inner
            .middleware
            .write()
            .push(middleware_of(middleware));
    }

    /// Takes on the middleware and connect handlers of a dynamic namespace's template.
    pub(crate) fn copy_handlers_from(
        &self,
        middleware: &[Middleware],
        connect_handlers: &[ConnectHandler],
    ) {
        self.inner
            .middleware
            .write()
            .extend(middleware.iter().cloned());
        self.inner
            .connect_handlers
            .write()
            .extend(connect_handlers.iter().cloned());
    }

    pub(crate) fn middleware(&self) -> Vec<Middleware> {
        self.inner.middleware.read().clone()
    }

    pub(crate) fn connect_handlers(&self) -> Vec<ConnectHandler> {
        self.inner.connect_handlers.read().clone()
    }

    pub(crate) fn add_socket(&self, socket: Socket) {
        self.inner
            .sockets
            .write()
            .insert(socket.id(), socket.clone());
        let local: Arc<dyn LocalSocket> = Arc::new(socket);
        self.adapter().add_socket(local);
    }

    pub(crate) fn remove_socket(&self, id: Sid) {
        self.adapter().remove_socket(id);
        self.inner.sockets.write().remove(&id);
    }

    /// The sockets of this namespace connected to this process.
    pub fn sockets(&self) -> Vec<Socket> {
        self.inner.sockets.read().values().cloned().collect()
    }

    /// A socket of this process by id.
    pub fn get_socket(&self, id: Sid) -> Option<Socket> {
        self.inner.sockets.read().get(&id).cloned()
    }

    /// How many sockets of this namespace are connected to this process.
    pub fn socket_count(&self) -> usize {
        self.inner.sockets.read().len()
    }

    /// The rooms with members in this process, sorted, socket id-rooms left out.
    pub fn rooms(&self) -> Vec<Room> {
        let sockets = self.inner.sockets.read();
        let mut rooms: Vec<Room> = self
            .adapter()
            .local_rooms()
            .into_iter()
            .filter(|room| Sid::parse(room.as_str()).is_none_or(|id| !sockets.contains_key(&id)))
            .collect();
        rooms.sort();
        rooms
    }

    /// How many sockets of this process are in `room`.
    pub fn room_size(&self, room: &Room) -> usize {
        self.adapter().local_room_size(room)
    }

    /// Whether `room` has members in this process.
    pub fn room_exists(&self, room: &Room) -> bool {
        self.room_size(room) > 0
    }

    /// Every room of the namespace across the cluster (through the adapter).
    pub async fn all_rooms(&self) -> Result<Vec<Room>, Error> {
        self.adapter().all_rooms().await
    }

    /// An operator for every socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.scope.clone())
    }

    namespace_methods!();

    /// Sends an event to the other servers of the cluster; with the in-memory adapter there
    /// are none, and nothing happens.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        let args = to_arg_values(data).map_err(crate::packet::EncodeError::from)?;
        self.adapter().server_side_emit(event, &args).await
    }
}

/// Boxes a middleware closure.
pub(crate) fn middleware_of<F, Fut>(middleware: F) -> Middleware
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    Arc::new(move |socket| Box::pin(middleware(socket)))
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name())
            .finish()
    }
}
