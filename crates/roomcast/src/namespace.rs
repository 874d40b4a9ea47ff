//! Namespaces: isolated channels on one connection, each with its own sockets, rooms,
//! middleware and handlers.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use roomcast_engineio::{IdHasher, Sid};
use serde::Serialize;

use crate::adapter::{Adapter, LocalSocket};
use crate::broadcast::BroadcastOperator;
use crate::error::{ConnectError, Error};
use crate::handler::{ConnectHandler, Middleware};
use crate::remote_socket::RemoteSocket;
use crate::rooms::{IntoRooms, Room};
use crate::socket::Socket;

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
    name: Arc<str>,
    adapter: Arc<dyn Adapter>,
    sockets: RwLock<HashMap<Sid, Socket, IdHasher>>,
    middleware: RwLock<Vec<Middleware>>,
    connect_handlers: RwLock<Vec<ConnectHandler>>,
    /// One acknowledgement id counter per namespace, shared by its sockets and broadcasts.
    ack_ids: AtomicU64,
}

impl Namespace {
    pub(crate) fn new(name: Arc<str>, adapter: Arc<dyn Adapter>) -> Namespace {
        Namespace {
            inner: Arc::new(NamespaceInner {
                name,
                adapter,
                sockets: RwLock::new(HashMap::default()),
                middleware: RwLock::new(Vec::new()),
                connect_handlers: RwLock::new(Vec::new()),
                ack_ids: AtomicU64::new(0),
            }),
        }
    }

    /// The name, e.g. `/chat`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The name, shared.
    pub(crate) fn shared_name(&self) -> Arc<str> {
        self.inner.name.clone()
    }

    /// The adapter holding this namespace's rooms.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.inner.adapter
    }

    /// Registers a handler for each socket that connects.
    pub fn on_connect<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .connect_handlers
            .write()
            .push(Arc::new(move |socket| Box::pin(handler(socket))));
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
            .push(Arc::new(move |socket| Box::pin(middleware(socket))));
    }

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

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.inner.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn add_socket(&self, socket: Socket) {
        self.inner
            .sockets
            .write()
            .insert(socket.id(), socket.clone());
        let local: Arc<dyn LocalSocket> = Arc::new(socket);
        self.inner.adapter.add_socket(local);
    }

    pub(crate) fn remove_socket(&self, id: Sid) {
        self.inner.adapter.remove_socket(id);
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
            .inner
            .adapter
            .local_rooms()
            .into_iter()
            .filter(|room| Sid::parse(room.as_str()).is_none_or(|id| !sockets.contains_key(&id)))
            .collect();
        rooms.sort();
        rooms
    }

    /// How many sockets of this process are in `room`.
    pub fn room_size(&self, room: &Room) -> usize {
        self.inner.adapter.local_room_size(room)
    }

    /// Whether `room` has members in this process.
    pub fn room_exists(&self, room: &Room) -> bool {
        self.room_size(room) > 0
    }

    /// Every room of the namespace across the cluster (through the adapter).
    pub async fn all_rooms(&self) -> Result<Vec<Room>, Error> {
        self.inner.adapter.all_rooms().await
    }

    /// An operator for the whole namespace.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    /// Targets the sockets in `rooms` (chain for a union).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Same as [`Namespace::to`].
    pub fn in_(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Only this process's sockets.
    pub fn local(&self) -> BroadcastOperator {
        self.broadcast().local()
    }

    /// Dropped for clients that cannot take it right away.
    pub fn volatile(&self) -> BroadcastOperator {
        self.broadcast().volatile()
    }

    /// Acknowledgements within `timeout`.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.broadcast().timeout(timeout)
    }

    /// Sends an event to every socket of the namespace.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.broadcast().emit(event, data).await
    }

    /// Every socket of the namespace, across the cluster.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Error> {
        self.broadcast().fetch_sockets().await
    }

    /// Makes every socket of the namespace join `rooms`.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.broadcast().sockets_join(rooms).await
    }

    /// Makes every socket of the namespace leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.broadcast().sockets_leave(rooms).await
    }

    /// Disconnects every socket of the namespace.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        self.broadcast().disconnect_sockets(close).await
    }

    /// Sends an event to the other servers of the cluster; with the in-memory adapter there
    /// are none, and nothing happens.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        let args =
            crate::payload::to_arg_values(data).map_err(|error| Error::Adapter(Box::new(error)))?;
        self.inner.adapter.server_side_emit(event, &args).await
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name())
            .finish()
    }
}
