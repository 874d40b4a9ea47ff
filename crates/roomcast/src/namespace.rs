//! Namespaces: isolated channels on one connection, each with its own sockets, rooms,
//! middleware and handlers.
//!
//! `namespace.rs` and `socket.rs` name each other, as Node's API does (`nsp.sockets`,
//! `socket.nsp`); see `socket.rs`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::RwLock;
use roomcast_engineio::{Frame, IdHasher, Sid};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::adapter::{
    Adapter, BroadcastPacket, LocalSocket, NamespaceHooks, RecoveryOptions, ServerAck,
};
use crate::broadcast::{namespace_methods, BroadcastOperator};
use crate::error::{ConnectError, Error, PartialAcks};
use crate::extensions::Extensions;
use crate::handler::{erase, spawn_inline, BoxFuture, ErasedHandler, FromContext, Handler};
use crate::limits::SocketLimits;
use crate::packet::{EncodeError, Parser};
use crate::payload::{to_arg_values, Args, ArgsError};
use crate::report::{Reports, Watching};
use crate::rooms::Room;
use crate::scope::Scope;
use crate::socket::{Socket, SocketReports};
use crate::spare;
use crate::value::{from_value, Value};

/// A connect handler, its parameter types erased: its context is the new socket.
pub(crate) type ConnectHandler = Arc<dyn ErasedHandler<Socket>>;

/// Namespace middleware: `|socket: Socket| async move { Ok(()) }`, refusing the connection
/// with a [`ConnectError`].
pub(crate) type Middleware =
    Arc<dyn Fn(Socket) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;

/// A handler of server-side events, its parameter types erased.
type ServerEventHandler = Arc<dyn ErasedHandler<ServerEventContext>>;

/// Sees every server-side event from the other servers.
type AnyServerEventHandler =
    Arc<dyn Fn(Namespace, String, Args) -> BoxFuture<'static, ()> + Send + Sync>;

/// Event names `server_side_emit` refuses, as Node's `serverSideEmit` does.
const RESERVED_SERVER_EVENTS: [&str; 3] = ["connect", "connection", "new_namespace"];

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
    /// What the server provides (shared by every namespace).
    extensions: Arc<Extensions>,
    /// What its sockets tell the server's observers.
    observers: Arc<dyn SocketReports>,
    /// Whether the server has observers, and what it counts meanwhile.
    watching: Arc<Watching>,
    sockets: RwLock<HashMap<Sid, Socket, IdHasher>>,
    middleware: RwLock<Vec<Middleware>>,
    connect_handlers: RwLock<Vec<ConnectHandler>>,
    server_events: RwLock<ServerEvents>,
    /// Set once the adapter's `init` has run.
    ready: OnceCell<()>,
    /// Called when its last socket leaves (a dynamic child, with `cleanup_empty_child_namespaces`).
    when_empty: OnceLock<EmptyHook>,
    /// What each socket may hold and send.
    limits: Arc<SocketLimits>,
}

/// What to do when a namespace's last socket leaves.
pub(crate) type EmptyHook = Arc<dyn Fn(&Namespace) + Send + Sync>;

#[derive(Default)]
struct ServerEvents {
    by_name: HashMap<Box<str>, ServerEventHandler>,
    any: Vec<AnyServerEventHandler>,
}

/// What a namespace takes from the server's options and state.
pub(crate) struct Settings {
    pub(crate) recovery: Option<RecoveryOptions>,
    /// What the server provides (shared by every namespace).
    pub(crate) extensions: Arc<Extensions>,
    /// What each socket may hold and send.
    pub(crate) limits: Arc<SocketLimits>,
    /// How packets are encoded.
    pub(crate) parser: Parser,
}

impl Namespace {
    pub(crate) fn new(
        name: Arc<str>,
        adapter: Arc<dyn Adapter>,
        settings: Settings,
        reports: Arc<dyn Reports>,
        observers: Arc<dyn SocketReports>,
        watching: Arc<Watching>,
    ) -> Namespace {
        let Settings {
            recovery,
            extensions,
            limits,
            parser,
        } = settings;
        Namespace {
            inner: Arc::new(NamespaceInner {
                scope: Arc::new(Scope::new(name, adapter, recovery, reports, parser)),
                extensions,
                observers,
                watching,
                sockets: RwLock::new(HashMap::default()),
                middleware: RwLock::new(Vec::new()),
                connect_handlers: RwLock::new(Vec::new()),
                server_events: RwLock::new(ServerEvents::default()),
                ready: OnceCell::new(),
                when_empty: OnceLock::new(),
                limits,
            }),
        }
    }

    /// Waits until the adapter is initialized for this namespace (runs its `init` the first
    /// time). A failed `init` is logged: the namespace then works on this process alone.
    pub async fn ready(&self) {
        self.inner
            .ready
            .get_or_init(|| async {
                let hooks = Arc::downgrade(&self.inner) as Weak<dyn NamespaceHooks>;
                if let Err(error) = self.adapter().init(hooks).await {
                    tracing::warn!(nsp = self.name(), %error, "adapter not initialized");
                }
            })
            .await;
    }

    /// Releases the adapter (see [`Adapter::close`]), if it was initialized.
    pub(crate) async fn close_adapter(&self) {
        if self.inner.ready.initialized() {
            self.adapter().close().await;
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

    /// What its sockets tell the server's observers, when it has any.
    #[inline]
    pub(crate) fn observers(&self) -> Option<&dyn SocketReports> {
        self.inner
            .watching
            .any()
            .then(|| self.inner.observers.as_ref())
    }

    /// An event was queued for `socket`: counted, and told to the observers that want each
    /// event. One relaxed load when the server has no observer.
    #[inline]
    pub(crate) fn event_sent(&self, socket: &Socket, frames: &[Frame]) {
        let watching = &self.inner.watching;
        if !watching.any() {
            return;
        }
        watching
            .traffic()
            .event_sent(frames.iter().map(Frame::message_len).sum());
        if watching.each_event() {
            self.inner.observers.event_sent(socket, frames);
        }
    }

    /// An event came from `socket`: counted, and told to the observers that want each event.
    #[inline]
    pub(crate) fn event_received(&self, socket: &Socket, event: &str, args: &Args) {
        let watching = &self.inner.watching;
        if !watching.any() {
            return;
        }
        watching.traffic().event_received();
        if watching.each_event() {
            self.inner.observers.event_received(socket, event, args);
        }
    }

    /// What the server's observers hear from acknowledgements and operators.
    pub(crate) fn reports(&self) -> &Arc<dyn Reports> {
        self.inner.scope.reports()
    }

    /// What the server provides.
    pub(crate) fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }

    /// The adapter holding this namespace's rooms.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        self.inner.scope.adapter()
    }

    /// A fresh acknowledgement id (one counter per namespace, as in socket.io).
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.inner.scope.next_ack_id()
    }

    /// What each socket may hold and send.
    pub(crate) fn limits(&self) -> &SocketLimits {
        &self.inner.limits
    }

    /// Connection state recovery's options, when the server has it on.
    pub(crate) fn recovery(&self) -> Option<&RecoveryOptions> {
        self.inner.scope.recovery()
    }

    /// An event of this namespace (asking for the acknowledgement `ack_id`, if any), encoded
    /// once, as a broadcast packet.
    pub(crate) fn packet<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        ack_id: Option<u64>,
    ) -> Result<BroadcastPacket, Error> {
        self.inner.scope.packet(event, data, ack_id)
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
        let empty = {
            let mut sockets = self.inner.sockets.write();
            let removed = sockets.remove(&id).is_some();
            spare::give_back(&mut *sockets);
            removed && sockets.is_empty()
        };
        if let (true, Some(hook)) = (empty, self.inner.when_empty.get()) {
            hook(self);
        }
    }

    /// Calls `hook` each time its last socket leaves.
    pub(crate) fn when_empty(&self, hook: EmptyHook) {
        let _ = self.inner.when_empty.set(hook);
    }

    /// Whether `other` is this very namespace.
    pub(crate) fn same(&self, other: &Namespace) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
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

    /// Sends an event to the other servers of the cluster (Node's `serverSideEmit`): they
    /// receive it through [`Namespace::on_server_event`]. With the in-memory adapter there are
    /// none, and nothing happens.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        let args = server_side_args(event, data)?;
        self.adapter().server_side_emit(event, &args).await
    }

    /// Sends an event to the other servers and collects the first argument of each one's
    /// acknowledgement, read as `R` (Node's `serverSideEmitWithAck`). When a server does not
    /// answer within the adapter's request timeout, the error carries the answers that came.
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<R>, PartialAcks<R>> {
        let args = server_side_args(event, data).map_err(PartialAcks::from)?;
        let read = |values: Vec<Value>| -> Result<Vec<R>, Error> {
            values
                .into_iter()
                .map(|value| Ok(from_value(value)?))
                .collect()
        };
        match self.adapter().server_side_emit_with_ack(event, &args).await {
            Ok(values) => read(values).map_err(PartialAcks::from),
            Err(partial) => Err(PartialAcks {
                error: partial.error,
                responses: read(partial.responses).unwrap_or_default(),
            }),
        }
    }

    /// Registers the handler of a server-side event that other servers send with
    /// `server_side_emit` (Node's `io.on("event", …)` for server-side events). Its
    /// parameters are, in any order, any of [`Namespace`], [`ServerAck`] (the answer, for
    /// `server_side_emit_with_ack`) and the event's arguments as a deserializable type.
    pub fn on_server_event<H, T>(&self, event: impl Into<Box<str>>, handler: H)
    where
        H: Handler<ServerEventContext, T>,
        T: 'static,
    {
        self.inner
            .server_events
            .write()
            .by_name
            .insert(event.into(), erase(handler));
    }

    /// Registers a handler that sees every server-side event from the other servers, with its
    /// name, before the event's own handler.
    pub fn on_any_server_event<F, Fut>(&self, handler: F)
    where
        F: Fn(Namespace, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .server_events
            .write()
            .any
            .push(Arc::new(move |nsp, event, args| {
                Box::pin(handler(nsp, event, args))
            }));
    }
}

/// The arguments of a server-side event, checked as Node checks them.
fn server_side_args<T: Serialize + ?Sized>(event: &str, data: &T) -> Result<Vec<Value>, Error> {
    if RESERVED_SERVER_EVENTS.contains(&event) || crate::packet::is_reserved_event(event) {
        return Err(EncodeError::ReservedEvent(event.to_owned()).into());
    }
    Ok(to_arg_values(data).map_err(EncodeError::from)?)
}

impl NamespaceHooks for NamespaceInner {
    fn name(&self) -> &str {
        self.scope.name()
    }

    fn next_ack_id(&self) -> u64 {
        self.scope.next_ack_id()
    }

    fn recovery(&self) -> Option<&RecoveryOptions> {
        self.scope.recovery()
    }

    fn parser(&self) -> Parser {
        self.scope.parser()
    }

    fn adapter_request(&self, request: &'static str, elapsed: Duration, complete: bool) {
        let name = self.scope.name();
        self.scope
            .reports()
            .adapter_request(name, request, elapsed, complete);
    }

    fn server_side_event(self: Arc<Self>, event: String, args: Vec<Value>, ack: Option<ServerAck>) {
        let nsp = Namespace { inner: self };
        let (any, handler) = {
            let events = nsp.inner.server_events.read();
            (
                events.any.clone(),
                events.by_name.get(event.as_str()).cloned(),
            )
        };
        let args = Args::from_values(args);
        for any in any {
            spawn_inline(any(nsp.clone(), event.clone(), args.clone()));
        }
        let Some(handler) = handler else {
            tracing::debug!(
                nsp = nsp.name(),
                event,
                "server-side event without a handler"
            );
            return;
        };
        let ctx = ServerEventContext {
            nsp: nsp.clone(),
            args,
            ack,
        };
        match handler.call(ctx) {
            Ok(future) => crate::handler::run_inline(future, move |outcome| {
                if let Err(error) = outcome {
                    tracing::warn!(nsp = nsp.name(), event, %error, "server-side event handler failed");
                }
            }),
            Err(error) => {
                tracing::warn!(nsp = nsp.name(), event, %error, "server-side event not handled")
            }
        }
    }
}

/// What a server-side event handler is called with: the namespace, the event's arguments and
/// the sender's acknowledgement, if it waits for one.
pub struct ServerEventContext {
    nsp: Namespace,
    args: Args,
    ack: Option<ServerAck>,
}

impl fmt::Debug for ServerEventContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEventContext")
            .field("nsp", &self.nsp)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl FromContext<ServerEventContext> for Namespace {
    fn from_context(ctx: &mut ServerEventContext) -> Result<Namespace, ArgsError> {
        Ok(ctx.nsp.clone())
    }
}

/// The sender's acknowledgement; sending on it does nothing when the sender waits for none.
impl FromContext<ServerEventContext> for ServerAck {
    fn from_context(ctx: &mut ServerEventContext) -> Result<ServerAck, ArgsError> {
        Ok(ctx.ack.take().unwrap_or_else(|| ServerAck::new(drop)))
    }
}

/// The event's arguments, read as the parameter's type.
impl<T: DeserializeOwned + 'static> FromContext<ServerEventContext> for T {
    fn from_context(ctx: &mut ServerEventContext) -> Result<T, ArgsError> {
        ctx.args.deserialize()
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
