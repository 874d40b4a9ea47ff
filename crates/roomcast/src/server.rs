//! The server: namespaces (static and dynamic), options, and how it is served.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use regex::Regex;
use roomcast_engineio::{serve, Config, Engine, EngineLayer, Socket as EngineSocket};
use serde::Serialize;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::adapter::Adapter;
use crate::broadcast::BroadcastOperator;
use crate::client::{Client, ConnectTimeouts};
use crate::error::{ConnectError, Error};
use crate::handler::{BoxFuture, ConnectHandler, Middleware};
use crate::handshake::Handshake;
use crate::memory_adapter::MemoryAdapter;
use crate::namespace::Namespace;
use crate::remote_socket::RemoteSocket;
use crate::rooms::IntoRooms;
use crate::socket::Socket;
use crate::value::Value;

/// Makes the adapter of each namespace, given its name.
pub type AdapterFactory = Arc<dyn Fn(&str) -> Arc<dyn Adapter> + Send + Sync>;

/// Server options: the Engine.IO transport's, plus Socket.IO's own.
///
/// ```
/// use std::time::Duration;
/// use roomcast::{Cors, ServerOptions};
///
/// let mut options = ServerOptions::default();
/// options.engine.ping_interval = Duration::from_secs(10);
/// options.engine.cors = Some(Cors::default());
/// assert_eq!(options.engine.path, "/socket.io/");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Transport options; the path defaults to `/socket.io/`.
    pub engine: Config,
    /// How long a connection may stay without joining any namespace (default 45 s).
    pub connect_timeout: Duration,
    /// The adapter of each namespace (default: [`MemoryAdapter`]).
    pub adapter: AdapterFactory,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let mut engine = Config::default();
        engine.path = "/socket.io/".to_owned();
        ServerOptions {
            engine,
            connect_timeout: Duration::from_secs(45),
            adapter: Arc::new(|_| Arc::new(MemoryAdapter::new())),
        }
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerOptions")
            .field("engine", &self.engine)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// A Socket.IO server (Node's `io`). Cheap to clone; the methods that do not name a
/// namespace act on the main namespace `/`.
///
/// ```no_run
/// use roomcast::{Server, Socket};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let io = Server::new();
///     io.on_connect(|socket: Socket| async move {
///         let _ = socket.emit("hello", "world");
///     });
///     io.listen("127.0.0.1:3000").await
/// }
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
    /// `/`, which exists from the start and is never removed.
    root: Namespace,
    engine: Engine<ServerHandler>,
}

pub(crate) struct ServerInner {
    namespaces: RwLock<Namespaces>,
    parents: RwLock<Vec<ParentNamespace>>,
    adapter: AdapterFactory,
    connect_timeouts: ConnectTimeouts,
}

/// The namespaces, by name and in creation order.
#[derive(Default)]
struct Namespaces {
    by_name: HashMap<Arc<str>, Namespace>,
    ordered: Vec<Namespace>,
}

/// The Engine.IO handler of a [`Server`]: it turns each Engine.IO session into a Socket.IO
/// connection. It appears in the types of [`Server::engine`] and [`Server::layer`].
pub struct ServerHandler {
    server: Arc<ServerInner>,
}

impl roomcast_engineio::Handler for ServerHandler {
    type Connection = Client;

    fn on_open(&self, socket: EngineSocket) -> Client {
        Client::new(self.server.clone(), socket)
    }
}

fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

impl ServerInner {
    pub(crate) fn connect_timeouts(&self) -> &ConnectTimeouts {
        &self.connect_timeouts
    }

    fn of(&self, name: &str) -> Namespace {
        let name = normalize(name);
        if let Some(nsp) = self.namespaces.read().by_name.get(name.as_str()) {
            return nsp.clone();
        }
        self.create(name, None)
    }

    fn create(&self, name: String, parent: Option<&ParentNamespace>) -> Namespace {
        let mut namespaces = self.namespaces.write();
        if let Some(nsp) = namespaces.by_name.get(name.as_str()) {
            return nsp.clone();
        }
        let name: Arc<str> = name.into();
        let nsp = Namespace::new(name.clone(), (self.adapter)(&name));
        if let Some(parent) = parent {
            nsp.copy_handlers_from(
                &parent.inner.middleware.read(),
                &parent.inner.connect_handlers.read(),
            );
            parent.inner.children.write().push(nsp.clone());
        }
        namespaces.by_name.insert(name, nsp.clone());
        namespaces.ordered.push(nsp.clone());
        tracing::debug!(nsp = nsp.name(), "namespace created");
        nsp
    }

    /// The namespace a CONNECT names: an existing one, or a new child of the first dynamic
    /// namespace that matches.
    pub(crate) async fn namespace_for(
        &self,
        name: &str,
        handshake: &Handshake,
    ) -> Option<Namespace> {
        if let Some(nsp) = self.namespaces.read().by_name.get(name) {
            return Some(nsp.clone());
        }
        let parents = self.parents.read().clone();
        for parent in parents {
            if parent.matches(name, &handshake.auth).await {
                return Some(self.create(name.to_owned(), Some(&parent)));
            }
        }
        None
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// A server with the default options.
    pub fn new() -> Server {
        Server::with_options(ServerOptions::default())
    }

    /// A server with these options.
    pub fn with_options(options: ServerOptions) -> Server {
        let inner = Arc::new(ServerInner {
            namespaces: RwLock::new(Namespaces::default()),
            parents: RwLock::new(Vec::new()),
            adapter: options.adapter,
            connect_timeouts: ConnectTimeouts::new(options.connect_timeout),
        });
        let root = inner.of("/");
        let engine = Engine::new(
            ServerHandler {
                server: inner.clone(),
            },
            options.engine,
        );
        Server {
            inner,
            root,
            engine,
        }
    }

    /// The namespace `name` (created if needed; a missing leading `/` is added).
    pub fn of(&self, name: &str) -> Namespace {
        self.inner.of(name)
    }

    /// A dynamic namespace: a CONNECT to any name matching `pattern` (a regular expression
    /// over the whole name, e.g. `^/org-[a-z0-9-]+$`) creates that namespace, with the
    /// middleware and connect handlers of the returned parent.
    pub fn of_regex(&self, pattern: &str) -> Result<ParentNamespace, regex::Error> {
        let regex = Regex::new(pattern)?;
        Ok(self.add_parent(Matcher::Regex(regex)))
    }

    /// A dynamic namespace decided by an async predicate over the name and the handshake
    /// `auth`.
    pub fn of_fn<F, Fut>(&self, predicate: F) -> ParentNamespace
    where
        F: Fn(String, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.add_parent(Matcher::Predicate(Arc::new(move |name, auth| {
            Box::pin(predicate(name, auth))
        })))
    }

    fn add_parent(&self, matcher: Matcher) -> ParentNamespace {
        let parent = ParentNamespace {
            inner: Arc::new(ParentInner {
                matcher,
                middleware: RwLock::new(Vec::new()),
                connect_handlers: RwLock::new(Vec::new()),
                children: RwLock::new(Vec::new()),
            }),
        };
        self.inner.parents.write().push(parent.clone());
        parent
    }

    /// Every namespace, in creation order.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.inner.namespaces.read().ordered.clone()
    }

    /// The main namespace `/` (Node's `io.sockets`).
    pub fn sockets(&self) -> Namespace {
        self.root.clone()
    }

    /// Registers a connect handler on `/`.
    pub fn on_connect<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sockets().on_connect(handler)
    }

    /// Adds middleware to `/`.
    pub fn use_<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.sockets().use_(middleware)
    }

    /// Targets rooms of `/`.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.sockets().to(rooms)
    }

    /// Same as [`Server::to`].
    pub fn in_(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.sockets().to(rooms)
    }

    /// Everyone in `/` except `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.sockets().except(rooms)
    }

    /// Only this process's sockets of `/`.
    pub fn local(&self) -> BroadcastOperator {
        self.sockets().local()
    }

    /// Volatile delivery in `/`.
    pub fn volatile(&self) -> BroadcastOperator {
        self.sockets().volatile()
    }

    /// Acknowledgement timeout for a broadcast in `/`.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.sockets().timeout(timeout)
    }

    /// Sends an event to every socket of `/`.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.sockets().emit(event, data).await
    }

    /// Every socket of `/`.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Error> {
        self.sockets().fetch_sockets().await
    }

    /// Makes every socket of `/` join `rooms`.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.sockets().sockets_join(rooms).await
    }

    /// Makes every socket of `/` leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        self.sockets().sockets_leave(rooms).await
    }

    /// Disconnects every socket of `/`.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        self.sockets().disconnect_sockets(close).await
    }

    /// Sends an event to the other servers of the cluster, in `/`.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        self.sockets().server_side_emit(event, data).await
    }

    /// The Engine.IO server underneath: a tower service (`Service<http::Request<B>>`).
    pub fn engine(&self) -> &Engine<ServerHandler> {
        &self.engine
    }

    /// A tower layer that serves Socket.IO at its path and hands every other request to the
    /// wrapped service (an axum `Router`, say).
    ///
    /// Everything under the path is Socket.IO's: a route that must live there too (the client
    /// bundle at `/socket.io/socket.io.min.js`, as Node serves it) goes outside the layer,
    /// e.g. with axum by adding it to the router after `.layer(io.layer())`.
    ///
    /// Sockets learn their peer address (`handshake().address()`) from a
    /// [`RemoteAddr`](crate::RemoteAddr) request extension, which [`Server::listen`] and
    /// [`Server::serve`] insert; under another server, insert it yourself (with axum, from
    /// `ConnectInfo<SocketAddr>` in a middleware).
    pub fn layer(&self) -> EngineLayer<ServerHandler> {
        EngineLayer::new(self.engine.clone())
    }

    /// Serves Socket.IO on an already bound listener.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        serve(listener, self.engine.clone()).await
    }

    /// Binds `addr` (with a backlog of 1024, see [`bind`](crate::bind)) and serves Socket.IO on it.
    pub async fn listen(&self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        self.serve(roomcast_engineio::bind(addr).await?).await
    }

    /// Closes every connection (reason `server shutting down`).
    pub fn close(&self) {
        self.engine.close_all();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("namespaces", &self.namespaces())
            .finish_non_exhaustive()
    }
}

type Predicate = Arc<dyn Fn(String, Value) -> BoxFuture<bool> + Send + Sync>;

enum Matcher {
    Regex(Regex),
    Predicate(Predicate),
}

/// A dynamic namespace (Node's `ParentNamespace`): the template of every namespace created
/// from it. Its middleware and connect handlers are given to each child when it is created.
///
/// ```no_run
/// use roomcast::{Server, Socket};
///
/// let io = Server::new();
/// let orgs = io.of_regex(r"^/org-[a-z0-9-]+$").unwrap();
/// orgs.on_connect(|socket: Socket| async move {
///     let _ = socket.emit("welcome", socket.ns());
/// });
/// ```
#[derive(Clone)]
pub struct ParentNamespace {
    inner: Arc<ParentInner>,
}

struct ParentInner {
    matcher: Matcher,
    middleware: RwLock<Vec<Middleware>>,
    connect_handlers: RwLock<Vec<ConnectHandler>>,
    children: RwLock<Vec<Namespace>>,
}

impl ParentNamespace {
    async fn matches(&self, name: &str, auth: &Value) -> bool {
        match &self.inner.matcher {
            Matcher::Regex(regex) => regex.is_match(name),
            Matcher::Predicate(predicate) => predicate(name.to_owned(), auth.clone()).await,
        }
    }

    /// Registers a connect handler for every child namespace.
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

    /// Adds middleware for every child namespace.
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

    /// The namespaces created from this one so far.
    pub fn children(&self) -> Vec<Namespace> {
        self.inner.children.read().clone()
    }

    /// Sends an event to every socket of every child namespace.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        for child in self.children() {
            child.emit(event, data).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for ParentNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParentNamespace")
            .field("children", &self.children())
            .finish_non_exhaustive()
    }
}
