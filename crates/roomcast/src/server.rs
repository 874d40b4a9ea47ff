//! The server: its options, its namespaces, and how it is served.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use regex::Regex;
use roomcast_engineio::{serve_with, Config, Engine, EngineLayer, HttpOptions, WeakEngine};
use serde::Serialize;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::adapter::RecoveryOptions;
use crate::broadcast::{namespace_methods, BroadcastOperator};
use crate::client::ServerHandler;
use crate::connect_timeout::ConnectTimeouts;
use crate::error::{ConnectError, Error};
use crate::handler::{FromContext, Handler};
use crate::limits::SocketLimits;
use crate::memory_adapter::MemoryAdapter;
use crate::namespace::Namespace;
use crate::observe::Observer;
use crate::packet::{AttachmentLimits, Parser};
use crate::payload::ArgsError;
use crate::registry::{AdapterFactory, Matcher, ParentNamespace, Registry};
use crate::socket::{EventContext, Socket};
use crate::value::Value;

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
    /// Connection state recovery (Node's `connectionStateRecovery`), off by default. With the
    /// in-memory adapter it works within one process; across processes it needs an adapter
    /// that keeps sessions and offsets in the shared store (`roomcast-redis`'s streams adapter).
    pub connection_state_recovery: Option<RecoveryOptions>,
    /// How many namespaces one connection may have sockets in (or be connecting to) at once
    /// (default 100); a CONNECT beyond gets `connect_error` "too many namespaces on this
    /// connection", and the connection's other sockets go on. Node has no such bound: a
    /// client could otherwise make a server hold a socket per dynamic namespace it names.
    pub max_namespaces_per_connection: usize,
    /// Whether a namespace created from a dynamic one ([`Server::of_regex`],
    /// [`Server::of_fn`]) is removed, its adapter closed, when its last socket leaves (Node's
    /// `cleanupEmptyChildNamespaces`, off by default as there). The next CONNECT to its name
    /// creates it again.
    pub cleanup_empty_child_namespaces: bool,
    /// How packets are encoded on the wire (Node's `parser`): Socket.IO's text encoding, or
    /// `socket.io-msgpack-parser`'s binary one; the clients must use the same.
    pub parser: Parser,
    /// How many binary attachments one packet may carry (default 10); a packet announcing
    /// more closes its connection with a logged reason.
    pub max_attachments: usize,
    /// How many bytes the attachments of one packet may add up to, which is what a connection
    /// holds while a binary packet is incomplete (default 10 MB); beyond, the connection is
    /// closed with a logged reason. Each attachment is also bounded by `engine.max_payload`.
    pub max_attachment_bytes: usize,
    /// What one socket may hold and send: rooms, acknowledgements it owes, events per second
    /// (none bounded by default, as in Node).
    pub socket_limits: SocketLimits,
    /// The limits and timeouts of the HTTP connections [`Server::serve`] and
    /// [`Server::listen`] accept (Node's `http.Server` defaults).
    pub http: HttpOptions,
    /// How long [`Server::close`] waits for every connection to receive what is queued for it
    /// and close; connections still open then are dropped (default 10 s).
    pub shutdown_timeout: Duration,
    /// Whether [`Server::serve`] and [`Server::listen`] first raise the process's soft limit
    /// on open files to its hard limit (see [`raise_open_file_limit`](crate::raise_open_file_limit))
    /// and log it; off by default, as it changes the whole process.
    pub raise_open_file_limit: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let mut engine = Config::default();
        engine.path = "/socket.io/".to_owned();
        ServerOptions {
            engine,
            connect_timeout: Duration::from_secs(45),
            adapter: Arc::new(|_| Arc::new(MemoryAdapter::new())),
            connection_state_recovery: None,
            max_namespaces_per_connection: 100,
            cleanup_empty_child_namespaces: false,
            max_attachments: 10,
            max_attachment_bytes: 10_000_000,
            socket_limits: SocketLimits::default(),
            parser: Parser::Json,
            http: HttpOptions::default(),
            shutdown_timeout: Duration::from_secs(10),
            raise_open_file_limit: false,
        }
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerOptions")
            .field("engine", &self.engine)
            .field("connect_timeout", &self.connect_timeout)
            .field("connection_state_recovery", &self.connection_state_recovery)
            .field(
                "max_namespaces_per_connection",
                &self.max_namespaces_per_connection,
            )
            .field(
                "cleanup_empty_child_namespaces",
                &self.cleanup_empty_child_namespaces,
            )
            .field("parser", &self.parser)
            .field("max_attachments", &self.max_attachments)
            .field("max_attachment_bytes", &self.max_attachment_bytes)
            .field("socket_limits", &self.socket_limits)
            .field("http", &self.http)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("raise_open_file_limit", &self.raise_open_file_limit)
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
    registry: Arc<Registry>,
    /// `/`, which exists from the start and is never removed.
    root: Namespace,
    engine: Engine<ServerHandler>,
    serving: Arc<Serving>,
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
        let registry = Arc::new(Registry::new(
            options.adapter,
            options.connection_state_recovery,
            options.cleanup_empty_child_namespaces,
            options.socket_limits,
            options.parser,
        ));
        let root = registry.of("/");
        let handler = ServerHandler::new(
            registry.clone(),
            ConnectTimeouts::new(options.connect_timeout),
            options.max_namespaces_per_connection,
            options.parser,
            AttachmentLimits {
                count: options.max_attachments,
                bytes: options.max_attachment_bytes,
            },
        );
        let engine = Engine::new(handler, options.engine);
        let serving = Arc::new(Serving {
            http: options.http,
            shutdown_timeout: options.shutdown_timeout,
            raise_open_file_limit: options.raise_open_file_limit,
        });
        registry.extensions().insert(WeakServer {
            registry: Arc::downgrade(&registry),
            engine: engine.downgrade(),
            serving: serving.clone(),
        });
        Server {
            registry,
            root,
            engine,
            serving,
        }
    }

    /// Registers an observer: it is told what happens to the server's connections, sockets,
    /// events and broadcasts (the metrics exporter and the Admin UI are observers).
    pub fn observe(&self, observer: Arc<dyn Observer>) {
        self.registry.observers().add(observer);
    }

    /// What the server has sent and received, counted while it has an observer (see
    /// [`Traffic`](crate::Traffic)).
    pub fn traffic(&self) -> crate::Traffic {
        self.registry.observers().watching().traffic().clone()
    }

    /// Provides `value` to every handler that takes a [`State<T>`](crate::State) of its type
    /// (replacing a value of the same type provided before).
    pub fn provide<T: Send + Sync + 'static>(&self, value: T) {
        self.registry.extensions().insert(value);
    }

    /// The namespace `name` (created if needed; a missing leading `/` is added).
    pub fn of(&self, name: &str) -> Namespace {
        self.registry.of(name)
    }

    /// A dynamic namespace: a CONNECT to any name matching `pattern` (a regular expression
    /// over the whole name, e.g. `^/org-[a-z0-9-]+$`) creates that namespace, with the
    /// middleware and connect handlers of the returned parent.
    pub fn of_regex(&self, pattern: &str) -> Result<ParentNamespace, regex::Error> {
        let regex = Regex::new(pattern)?;
        Ok(self.registry.add_parent(Matcher::Regex(regex)))
    }

    /// A dynamic namespace decided by an async predicate over the name and the handshake
    /// `auth`.
    pub fn of_fn<F, Fut>(&self, predicate: F) -> ParentNamespace
    where
        F: Fn(String, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.registry.add_parent(Matcher::predicate(predicate))
    }

    /// Calls `listener` with every namespace created from now on, dynamic ones included
    /// (Node's `io.on("new_namespace", …)`).
    pub fn on_new_namespace<F>(&self, listener: F)
    where
        F: Fn(&Namespace) + Send + Sync + 'static,
    {
        self.registry.on_new_namespace(Arc::new(listener));
    }

    /// Every namespace, in creation order.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.registry.namespaces()
    }

    /// The main namespace `/` (Node's `io.sockets`).
    pub fn sockets(&self) -> Namespace {
        self.root.clone()
    }

    /// Registers a connect handler on `/` (see [`Namespace::on_connect`]).
    pub fn on_connect<H, T>(&self, handler: H)
    where
        H: Handler<Socket, T>,
        T: 'static,
    {
        self.root.on_connect(handler)
    }

    /// Adds middleware to `/` (see [`Namespace::use_`]).
    pub fn use_<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.root.use_(middleware)
    }

    /// An operator for every socket of `/`.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.root.broadcast()
    }

    namespace_methods!();

    /// Sends an event to the other servers of the cluster, in `/`.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        self.root.server_side_emit(event, data).await
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

    /// Serves Socket.IO on an already bound listener, once the adapters of the namespaces that
    /// exist are ready (see [`Server::ready`]).
    ///
    /// Serving stops when [`Server::close`] begins; connections already accepted are closed
    /// by it.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        if self.serving.raise_open_file_limit {
            match roomcast_engineio::raise_open_file_limit() {
                Ok(limit) => tracing::info!(limit, "open file limit"),
                Err(error) => tracing::warn!(%error, "cannot raise the open file limit"),
            }
        }
        self.ready().await;
        serve_with(
            listener,
            self.engine.clone(),
            self.serving.http.clone(),
            self.engine.closing(),
        )
        .await
    }

    /// Binds `addr` (with a backlog of 1024, see [`bind`](crate::bind)) and serves Socket.IO on it.
    pub async fn listen(&self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        self.serve(roomcast_engineio::bind(addr).await?).await
    }

    /// Initializes the adapter of every namespace that exists (a cluster adapter subscribes to
    /// its channels; see [`Adapter::init`](crate::Adapter::init)). [`Server::serve`] and
    /// [`Server::listen`] do it before they take connections; under another server (with
    /// [`Server::layer`]), call it before serving. Namespaces created later get ready before
    /// their first socket connects.
    pub async fn ready(&self) {
        for nsp in self.namespaces() {
            nsp.ready().await;
        }
    }

    /// Shuts the server down: stops accepting connections ([`Server::serve`] returns), closes
    /// every connection after what is queued for it has been delivered (each socket
    /// disconnects with reason `server shutting down`), waiting at most
    /// [`ServerOptions::shutdown_timeout`] before dropping those still open, then releases
    /// the adapters (a cluster adapter unsubscribes, and the other servers stop counting this
    /// one).
    ///
    /// ```no_run
    /// # async fn run(io: roomcast::Server) -> std::io::Result<()> {
    /// tokio::select! {
    ///     served = io.listen("127.0.0.1:3000") => served?,
    ///     _ = tokio::signal::ctrl_c() => io.close().await,
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        let dropped = self.engine.close(self.serving.shutdown_timeout).await;
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "connections still open after shutdown_timeout, dropped"
            );
        }
        for nsp in self.namespaces() {
            nsp.close_adapter().await;
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("namespaces", &self.namespaces())
            .finish_non_exhaustive()
    }
}

/// What serving and closing the server run with.
struct Serving {
    http: HttpOptions,
    shutdown_timeout: Duration,
    raise_open_file_limit: bool,
}

/// The server as its namespaces reach it, without keeping it alive.
struct WeakServer {
    registry: Weak<Registry>,
    engine: WeakEngine<ServerHandler>,
    serving: Arc<Serving>,
}

impl WeakServer {
    fn upgrade(&self) -> Option<Server> {
        let registry = self.registry.upgrade()?;
        let engine = self.engine.upgrade()?;
        let root = registry.of("/");
        Some(Server {
            registry,
            root,
            engine,
            serving: self.serving.clone(),
        })
    }
}

impl Namespace {
    /// The server this namespace belongs to (`None` once the server is gone).
    pub fn server(&self) -> Option<Server> {
        self.extensions().get::<WeakServer>()?.upgrade()
    }
}

impl Socket {
    /// The server this socket belongs to (`None` once the server is gone), without capturing
    /// a clone of it in each handler.
    pub fn server(&self) -> Option<Server> {
        self.namespace().server()
    }
}

fn server_of(socket: &Socket) -> Result<Server, ArgsError> {
    socket
        .server()
        .ok_or_else(|| ArgsError::unavailable("roomcast::Server", "the server is gone"))
}

/// Handlers take the server (Node's `io`).
impl FromContext<EventContext> for Server {
    fn from_context(ctx: &mut EventContext) -> Result<Server, ArgsError> {
        server_of(ctx.socket())
    }
}

impl FromContext<Socket> for Server {
    fn from_context(socket: &mut Socket) -> Result<Server, ArgsError> {
        server_of(socket)
    }
}
