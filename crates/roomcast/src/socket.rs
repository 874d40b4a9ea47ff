//! A socket: one client's connection to one namespace. Its handlers, how a received event
//! reaches them (and their acknowledgement goes back out), its rooms, and how it ends.
//!
//! `socket.rs` and `namespace.rs` name each other, as Node's API does: a socket belongs to its
//! namespace (`socket.nsp`), and a namespace lists its sockets (`nsp.sockets`) and runs their
//! connect handlers. Everything else each of them uses lies below both.

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use roomcast_engineio::{Frame, IdHasher, SendError, Sid, TransportKind};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::ack::{AckSender, PendingAck};
use crate::adapter::{AckSink, BroadcastOptions, LocalSocket, Session};
use crate::broadcast::{targeting_methods, BroadcastOperator};
use crate::connection::Connection;
use crate::disconnect::DisconnectReason;
use crate::error::{Error, EventError};
use crate::handler::{
    erase, run_inline, spawn_inline, BoxError, BoxFuture, ErasedHandler, FromContext, Handler,
};
use crate::handshake::Handshake;
use crate::limits::{Admission, Bucket, OverRate};
use crate::namespace::Namespace;
use crate::outbox::Outbox;
use crate::packet::Event;
use crate::payload::{Args, ArgsError};
use crate::rooms::{IntoRooms, Room};
use crate::value::{self, Value};

/// A client's socket in one namespace (Node's `socket`). Cheap to clone.
///
/// ```no_run
/// use roomcast::{AckSender, Server, Socket};
///
/// let io = Server::new();
/// io.of("/chat").on_connect(|socket: Socket| async move {
///     let _ = socket.join("general").await;
///     socket.on("message", |socket: Socket, text: String| async move {
///         let _ = socket.to("general").emit("message", &text).await;
///     });
///     socket.on("ping", |_socket: Socket, (): (), ack: AckSender| async move {
///         let _ = ack.send("pong");
///     });
/// });
/// ```
#[derive(Clone)]
pub struct Socket {
    inner: Arc<SocketInner>,
}

struct SocketInner {
    id: Sid,
    /// The private session id the client presents to recover the socket (recovery on).
    pid: Option<Sid>,
    /// Whether this socket is a recovered session.
    recovered: bool,
    nsp: Namespace,
    /// The connection and this socket's namespace name: a broadcast reaches the connection in
    /// one step from the room index.
    outbox: Outbox,
    /// The connection's other sockets.
    connection: Arc<Connection<Socket>>,
    handshake: Handshake,
    connected: AtomicBool,
    handlers: RwLock<Handlers>,
    acks: Mutex<HashMap<u64, PendingAck, IdHasher>>,
    data: Mutex<Value>,
    /// Events that arrive while the connect handlers have not started yet.
    early: Mutex<Option<Vec<Event>>>,
    /// The socket's event rate, when the server bounds it (boxed: most servers do not).
    bucket: Option<Box<Bucket>>,
}

/// An event handler, its parameter types erased.
type EventHandlerFn = Arc<dyn ErasedHandler<EventContext>>;
/// Sees every incoming event: `|socket, event, args| async move { .. }`.
type AnyHandler = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, ()> + Send + Sync>;
/// Incoming-packet middleware; an `Err` stops the event and goes to the error handlers.
type PacketMiddleware =
    Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;
/// Receives the events that did not reach their handler, or whose handler failed.
type ErrorHandler = Arc<dyn Fn(Socket, EventError) -> BoxFuture<'static, ()> + Send + Sync>;
/// Runs on `disconnecting` and `disconnect`.
type DisconnectHandler =
    Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<'static, ()> + Send + Sync>;

#[derive(Default)]
struct Handlers {
    /// Looked up by the names clients send, but only the server adds keys: a fast hash is safe.
    /// A name given as a `&'static str` is not copied (a socket often has a dozen handlers).
    events: HashMap<Cow<'static, str>, EventHandlerFn, IdHasher>,
    /// Boxed, and only once one is added: most sockets have none.
    hooks: Option<Box<Hooks>>,
}

/// The handlers other than the events'.
#[derive(Default)]
struct Hooks {
    any: Vec<AnyHandler>,
    packet_middleware: Vec<PacketMiddleware>,
    errors: Vec<ErrorHandler>,
    disconnecting: Vec<DisconnectHandler>,
    disconnect: Vec<DisconnectHandler>,
}

/// The hooks of a socket that has none.
static NO_HOOKS: Hooks = Hooks {
    any: Vec::new(),
    packet_middleware: Vec::new(),
    errors: Vec::new(),
    disconnecting: Vec::new(),
    disconnect: Vec::new(),
};

impl Handlers {
    fn hooks(&self) -> &Hooks {
        self.hooks.as_deref().unwrap_or(&NO_HOOKS)
    }

    fn hooks_mut(&mut self) -> &mut Hooks {
        self.hooks.get_or_insert_with(Box::default)
    }
}

impl Socket {
    pub(crate) fn new(
        nsp: Namespace,
        connection: Arc<Connection<Socket>>,
        handshake: Handshake,
        identity: Identity,
    ) -> Socket {
        let nsp_rate = nsp.limits().event_rate;
        Socket {
            inner: Arc::new(SocketInner {
                id: identity.id,
                pid: identity.pid,
                recovered: identity.recovered,
                outbox: Outbox::new(
                    connection.conn().clone(),
                    nsp.shared_name().clone(),
                    connection.parser(),
                ),
                nsp,
                connection,
                handshake,
                connected: AtomicBool::new(false),
                handlers: RwLock::new(Handlers::default()),
                acks: Mutex::new(HashMap::default()),
                data: Mutex::new(identity.data),
                early: Mutex::new(Some(Vec::new())),
                bucket: nsp_rate.map(|rate| Box::new(Bucket::new(rate))),
            }),
        }
    }

    /// The socket id (not the connection's Engine.IO id).
    pub fn id(&self) -> Sid {
        self.inner.id
    }

    /// What the socket sends through.
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }

    /// The namespace name, e.g. `/chat`.
    pub fn ns(&self) -> &str {
        self.inner.nsp.name()
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.nsp
    }

    /// The handshake: headers, query, auth, address.
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// Whether the socket is connected.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Whether this socket is a session restored by connection state recovery: the client
    /// came back within the window with its `pid` and last offset, and got back its id, rooms
    /// and `data`, and what it missed (see
    /// [`ServerOptions::connection_state_recovery`](crate::ServerOptions::connection_state_recovery)).
    ///
    /// ```
    /// use roomcast::{Server, Socket};
    ///
    /// let io = Server::new();
    /// io.on_connect(|socket: Socket| async move {
    ///     if !socket.recovered() {
    ///         // A new session: a recovered one is in its rooms already.
    ///         let _ = socket.join("general").await;
    ///     }
    /// });
    /// ```
    pub fn recovered(&self) -> bool {
        self.inner.recovered
    }

    /// The private session id a recovering client presents (`None` without recovery). Sent
    /// to the client alone, in the CONNECT reply; never to other clients or logs.
    pub(crate) fn pid(&self) -> Option<Sid> {
        self.inner.pid
    }

    /// The id of the underlying Engine.IO connection (Node's `socket.client.id`), shared by
    /// the sockets of every namespace the connection joined.
    pub fn client_id(&self) -> Sid {
        self.inner.outbox.conn().id()
    }

    /// The transport of the underlying connection.
    pub fn transport(&self) -> TransportKind {
        self.inner.outbox.conn().transport()
    }

    /// The socket's rooms, its own id-room included, sorted.
    pub fn rooms(&self) -> Vec<Room> {
        self.inner.nsp.adapter().socket_rooms(self.id())
    }

    /// Joins one room or several.
    ///
    /// With [`SocketLimits::max_rooms`](crate::SocketLimits::max_rooms) set, a join that would
    /// put the socket in more rooms fails with [`Error::TooManyRooms`] and joins none.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let rooms = rooms.into_rooms()?;
        if let Some(max) = self.inner.nsp.limits().max_rooms {
            let current = self.inner.nsp.adapter().socket_rooms(self.id());
            let own = Room::of_socket(self.id());
            let mut after: HashSet<&Room> = current.iter().filter(|room| **room != own).collect();
            after.extend(rooms.iter().filter(|room| **room != own));
            if after.len() > max {
                return Err(Error::TooManyRooms);
            }
        }
        if self.connected() {
            self.inner.nsp.adapter().add_all(self.id(), &rooms);
        }
        Ok(())
    }

    /// Leaves a room.
    pub async fn leave(&self, room: impl IntoRooms) -> Result<(), Error> {
        for room in room.into_rooms()? {
            self.inner.nsp.adapter().del(self.id(), &room);
        }
        Ok(())
    }

    /// Sends an event to this socket only: a tuple is several arguments, `()` none.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        if !self.connected() {
            return Err(Error::Disconnected);
        }
        if self.inner.nsp.recovery().is_none() {
            return self.send_event(event, data, None);
        }
        // With recovery on, even a packet to one socket goes through the adapter, as in Node:
        // it gets an offset and is kept for a replay.
        let packet = self.inner.nsp.packet(event, data, None)?;
        let opts = BroadcastOptions::to(vec![Room::of_socket(self.id())]);
        let adapter = self.inner.nsp.adapter().clone();
        let id = self.id();
        spawn_inline(Box::pin(async move {
            if let Err(error) = adapter.broadcast(&packet, &opts).await {
                tracing::debug!(socket = %id, %error, "event not sent");
            }
        }));
        Ok(())
    }

    /// Sends an event and waits for the client's acknowledgement, read as `R` (a tuple for
    /// several arguments). Waits until the socket disconnects; see [`Socket::timeout`].
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, Error> {
        let (receiver, _pending) = self.send_with_ack(event, data)?;
        let args = receiver.await.map_err(|_| Error::Disconnected)?;
        Ok(args.deserialize()?)
    }

    /// Acknowledgements within `timeout`: `socket.timeout(d).emit_with_ack(..)`.
    pub fn timeout(&self, timeout: Duration) -> TimedSocket<'_> {
        TimedSocket {
            socket: self,
            timeout,
        }
    }

    fn send_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(oneshot::Receiver<Args>, Pending<'_>), Error> {
        if !self.connected() {
            return Err(Error::Disconnected);
        }
        let id = self.inner.nsp.next_ack_id();
        let (sender, receiver) = oneshot::channel();
        {
            let mut acks = self.inner.acks.lock();
            if let Some(max) = self.inner.nsp.limits().max_pending_acks {
                let owed = acks
                    .values()
                    .filter(|ack| matches!(ack, PendingAck::One(_)))
                    .count();
                if owed >= max {
                    return Err(Error::TooManyPendingAcks);
                }
            }
            acks.insert(id, PendingAck::One(sender));
        }
        let pending = Pending { socket: self, id };
        self.send_event(event, data, Some(id))?;
        Ok((receiver, pending))
    }

    /// Queues an event for this socket alone: straight to the connection, or, when someone
    /// observes the server, as a packet the observers see.
    fn send_event<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        ack_id: Option<u64>,
    ) -> Result<(), Error> {
        let Some(observers) = self.inner.nsp.observers() else {
            return self.inner.outbox.emit(event, data, ack_id);
        };
        let packet = self.inner.nsp.packet(event, data, ack_id)?;
        match self.inner.outbox.conn().send_all(packet.frames()) {
            Ok(()) => {
                self.inner.nsp.event_sent(self, packet.frames());
                Ok(())
            }
            Err(error) => {
                if matches!(error, SendError::QueueFull) {
                    observers.queue_overflow();
                }
                Err(error.into())
            }
        }
    }

    targeting_methods!();

    /// Broadcasts to every socket of the namespace but this one (Node's `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        self.inner.nsp.broadcast().except(self.id())
    }

    /// Registers the handler of an event: an async closure or `async fn` whose parameters are,
    /// in any order, any of [`Socket`], [`AckSender`] (the client's callback; sending on it does
    /// nothing when the client asked for none), [`Namespace`], [`Server`](crate::Server),
    /// [`Handshake`], [`State<T>`](crate::State), and the event's arguments as any
    /// deserializable type (a tuple takes them positionally, `()` none, any other type the
    /// first one; [`Args`] takes them as they came). It returns `()` or `Result<(), E>`: an error
    /// goes to the [`Socket::on_error`] handlers, or is logged with the event name. The name is
    /// a `&'static str` (kept as it is) or a `String`.
    ///
    /// Register handlers in the connect handler before its first `.await`: the socket's events
    /// wait for the connect handlers to start, not to finish (see [`crate::Handler`]).
    ///
    /// ```no_run
    /// # use roomcast::{AckSender, Socket};
    /// # fn register(socket: &Socket) {
    /// #[derive(serde::Deserialize)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// socket.on("move", |socket: Socket, m: Move| async move {
    ///     socket.to("game").emit("moved", &(m.x, m.y)).await
    /// });
    /// socket.on("ping", |ack: AckSender| async move { ack.send("pong") });
    /// # }
    /// ```
    pub fn on<H, T>(&self, event: impl Into<Cow<'static, str>>, handler: H)
    where
        H: Handler<EventContext, T>,
        T: 'static,
    {
        self.inner
            .handlers
            .write()
            .events
            .insert(event.into(), erase(handler));
    }

    /// Removes the handler of an event.
    pub fn off(&self, event: &str) {
        self.inner.handlers.write().events.remove(event);
    }

    /// Registers a handler that sees every incoming event before its own handler.
    pub fn on_any<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .handlers
            .write()
            .hooks_mut()
            .any
            .push(Arc::new(move |socket, event, args| {
                Box::pin(handler(socket, event, args))
            }));
    }

    /// Adds incoming-packet middleware (Node's `socket.use`): it sees each event first and
    /// may refuse it with a message, which goes to the [`Socket::on_error`] handlers.
    pub fn use_<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.inner
            .handlers
            .write()
            .hooks_mut()
            .packet_middleware
            .push(Arc::new(move |socket, event, args| {
                Box::pin(middleware(socket, event, args))
            }));
    }

    /// Registers a handler for events that did not reach their handler (refused by
    /// middleware, or arguments of the wrong type). Without one, they are logged.
    pub fn on_error<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket, EventError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .handlers
            .write()
            .hooks_mut()
            .errors
            .push(Arc::new(move |socket, error| {
                Box::pin(handler(socket, error))
            }));
    }

    /// Registers a handler that runs when the socket is about to disconnect, while it is
    /// still in its rooms; the socket leaves them once these handlers have finished.
    pub fn on_disconnecting<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .handlers
            .write()
            .hooks_mut()
            .disconnecting
            .push(disconnect_handler(handler));
    }

    /// Registers a handler that runs once the socket has disconnected.
    pub fn on_disconnect<F, Fut>(&self, handler: F)
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .handlers
            .write()
            .hooks_mut()
            .disconnect
            .push(disconnect_handler(handler));
    }

    /// Disconnects the socket from its namespace; with `close`, closes the whole connection
    /// (every namespace of this client).
    pub fn disconnect(&self, close: bool) {
        if close {
            let connection = &self.inner.connection;
            for socket in connection.sockets() {
                socket.disconnect(false);
            }
            connection.conn().close();
            return;
        }
        if !self.connected() {
            return;
        }
        if let Err(error) = self.inner.outbox.disconnect() {
            tracing::debug!(socket = %self.id(), %error, "DISCONNECT not sent");
        }
        self.close(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// The socket's data (Node's `socket.data`: an empty object until set), read as `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let data = self.inner.data.lock().clone();
        Ok(value::from_value(data)?)
    }

    /// Replaces the socket's data; it travels with `fetch_sockets` answers.
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), Error> {
        let data = value::to_value(data)?;
        *self.inner.data.lock() = data;
        if let Some(observers) = self.inner.nsp.observers() {
            observers.data_changed(self);
        }
        Ok(())
    }

    /// The socket is now connected: registered in its namespace and its own room.
    pub(crate) fn set_connected(&self) {
        self.inner.connected.store(true, Ordering::Release);
        self.inner.nsp.add_socket(self.clone());
    }

    /// The connect handlers have started: events that waited for them are dispatched.
    pub(crate) fn release_early_events(&self) {
        loop {
            let batch = {
                let mut early = self.inner.early.lock();
                match early.as_mut() {
                    Some(events) if !events.is_empty() => std::mem::take(events),
                    _ => {
                        *early = None;
                        return;
                    }
                }
            };
            for event in batch {
                self.run_event(event);
            }
        }
    }

    /// An event from the client.
    pub(crate) fn dispatch(&self, event: Event) {
        if let Some(bucket) = &self.inner.bucket {
            if let Admission::Refused { over, first } = bucket.take() {
                self.over_rate(over, first);
                return;
            }
        }
        {
            let mut early = self.inner.early.lock();
            if let Some(events) = early.as_mut() {
                events.push(event);
                return;
            }
        }
        self.run_event(event);
    }

    /// An event over the socket's rate: dropped, or the socket disconnected.
    fn over_rate(&self, over: OverRate, first: bool) {
        match over {
            OverRate::Drop => {
                if first {
                    tracing::warn!(socket = %self.id(), nsp = self.ns(), "events over the rate limit, dropping them");
                }
            }
            OverRate::Disconnect => {
                tracing::warn!(socket = %self.id(), nsp = self.ns(), "events over the rate limit, disconnecting");
                self.disconnect(false);
            }
        }
    }

    fn run_event(&self, event: Event) {
        let (name, ack_id, args) = event.into_parts();
        self.inner.nsp.event_received(self, &name, &args);
        let (middleware, any, handler) = {
            let handlers = self.inner.handlers.read();
            let hooks = handlers.hooks();
            (
                hooks.packet_middleware.clone(),
                hooks.any.clone(),
                handlers.events.get(name.as_str()).cloned(),
            )
        };
        if middleware.is_empty() {
            if let Some(handler) = self.start_handlers(&name, ack_id, args, &any, handler) {
                let socket = self.clone();
                run_inline(handler, move |outcome| socket.check(name, outcome));
            }
            return;
        }
        let socket = self.clone();
        spawn_inline(Box::pin(async move {
            for middleware in middleware {
                if let Err(message) = middleware(socket.clone(), name.clone(), args.clone()).await {
                    socket.report(EventError::Refused {
                        event: name,
                        message,
                    });
                    return;
                }
            }
            if let Some(handler) = socket.start_handlers(&name, ack_id, args, &any, handler) {
                let outcome = handler.await;
                socket.check(name, outcome);
            }
        }));
    }

    /// Starts the catch-all handlers, then returns the event handler's future (`None` when
    /// there is none, or when the arguments do not fit it, which is reported).
    fn start_handlers(
        &self,
        name: &str,
        ack_id: Option<u64>,
        args: Args,
        any: &[AnyHandler],
        handler: Option<EventHandlerFn>,
    ) -> Option<BoxFuture<'static, Result<(), BoxError>>> {
        for any in any {
            spawn_inline(any(self.clone(), name.to_owned(), args.clone()));
        }
        let handler = handler?;
        let ctx = EventContext {
            socket: self.clone(),
            args,
            ack: ack_id.map(|id| {
                let ack = AckSender::new(self.inner.outbox.clone(), id);
                if self.inner.nsp.observers().is_some() {
                    ack.observed(self.inner.nsp.reports().clone())
                } else {
                    ack
                }
            }),
        };
        match handler.call(ctx) {
            Ok(future) => Some(future),
            Err(error) => {
                self.report(EventError::InvalidPayload {
                    event: name.to_owned(),
                    error,
                });
                None
            }
        }
    }

    /// Reports the error an event handler returned.
    fn check(&self, event: String, outcome: Result<(), BoxError>) {
        if let Err(error) = outcome {
            self.report(EventError::Failed {
                event,
                error: Arc::from(error),
            });
        }
    }

    fn report(&self, error: EventError) {
        let handlers = self.inner.handlers.read().hooks().errors.clone();
        if handlers.is_empty() {
            tracing::warn!(socket = %self.id(), nsp = self.ns(), %error, "event not handled");
        }
        for handler in handlers {
            spawn_inline(handler(self.clone(), error.clone()));
        }
    }

    /// An acknowledgement from the client; unknown ids are ignored, as in socket.io.
    pub(crate) fn on_ack(&self, id: u64, args: Args) {
        match self.inner.acks.lock().remove(&id) {
            Some(pending) => pending.resolve(args),
            None => {
                tracing::debug!(socket = %self.id(), id, "acknowledgement with an unknown id ignored")
            }
        }
    }

    /// Ends the socket: `disconnecting` handlers (rooms intact), then it leaves its rooms and
    /// its namespace, then `disconnect` handlers.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        if !self.inner.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        self.inner.connection.forget(self.ns());
        let (disconnecting, disconnect) = {
            let handlers = self.inner.handlers.read();
            let hooks = handlers.hooks();
            (hooks.disconnecting.clone(), hooks.disconnect.clone())
        };
        tracing::debug!(socket = %self.id(), nsp = self.ns(), %reason, "socket disconnected");
        let socket = self.clone();
        spawn_inline(Box::pin(async move {
            for handler in disconnecting {
                handler(socket.clone(), reason).await;
            }
            if let Some(session) = socket.session(reason) {
                socket.inner.nsp.adapter().persist_session(session).await;
            }
            socket.inner.nsp.remove_socket(socket.id());
            if let Some(observers) = socket.inner.nsp.observers() {
                observers.socket_disconnected(&socket, reason);
            }
            // Dropping the pending acknowledgements tells their waiters.
            socket.inner.acks.lock().clear();
            for handler in disconnect {
                spawn_inline(handler(socket.clone(), reason));
            }
        }));
    }
}

impl Socket {
    /// What recovery keeps of the socket when it disconnects for `reason`: only for the reasons
    /// Node keeps a session for (a lost or closed connection, a missed ping, a server closing
    /// it), never after the client or the server disconnected the socket on purpose.
    fn session(&self, reason: DisconnectReason) -> Option<Session> {
        let pid = self.inner.pid?;
        if !reason.is_recoverable() {
            return None;
        }
        Some(Session {
            sid: self.id().as_str().to_owned(),
            pid: pid.as_str().to_owned(),
            rooms: self.rooms(),
            data: self.inner.data.lock().clone(),
        })
    }
}

/// Who a new socket is: a fresh one, or a recovered session.
pub(crate) struct Identity {
    id: Sid,
    pid: Option<Sid>,
    recovered: bool,
    data: Value,
}

impl Identity {
    /// A fresh socket; with a private session id when recovery is on.
    pub(crate) fn fresh(recovery: bool) -> Identity {
        Identity {
            id: Sid::new(),
            pid: recovery.then(Sid::new),
            recovered: false,
            // Node's `socket.data` starts as `{}`; peers (Node's Admin UI among them) rely on it.
            data: Value::Object(Default::default()),
        }
    }

    /// A fresh socket with a given id (a Socket.IO v2 client's socket in `/`).
    pub(crate) fn with_id(id: Sid, recovery: bool) -> Identity {
        Identity {
            id,
            ..Identity::fresh(recovery)
        }
    }

    /// The socket of a recovered session (`None` if its ids are not ids).
    pub(crate) fn recovered(session: &Session) -> Option<Identity> {
        Some(Identity {
            id: Sid::parse(&session.sid)?,
            pid: Some(Sid::parse(&session.pid)?),
            recovered: true,
            data: session.data.clone(),
        })
    }

    /// The socket id.
    pub(crate) fn id(&self) -> Sid {
        self.id
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.inner.id)
            .field("nsp", &self.ns())
            .finish()
    }
}

impl LocalSocket for Socket {
    fn id(&self) -> Sid {
        self.inner.id
    }

    fn deliver(&self, frames: &[Frame], volatile: bool) {
        let conn = self.inner.outbox.conn();
        let observers = self.inner.nsp.observers();
        if volatile {
            if conn.send_volatile(frames) {
                self.inner.nsp.event_sent(self, frames);
            } else if let Some(observers) = observers {
                observers.volatile_dropped(self);
            }
            return;
        }
        match conn.send_all(frames) {
            Ok(()) => self.inner.nsp.event_sent(self, frames),
            Err(error) => {
                if let (SendError::QueueFull, Some(observers)) = (&error, observers) {
                    observers.queue_overflow();
                }
                tracing::debug!(sid = %conn.id(), %error, "event not delivered");
            }
        }
    }

    fn expect_ack(&self, ack_id: u64, sink: AckSink) {
        self.inner
            .acks
            .lock()
            .insert(ack_id, PendingAck::Broadcast(sink));
    }

    fn disconnect(&self, close: bool) {
        Socket::disconnect(self, close);
    }

    fn describe(&self) -> (Handshake, Value) {
        (self.inner.handshake.clone(), self.inner.data.lock().clone())
    }
}

fn disconnect_handler<F, Fut>(handler: F) -> DisconnectHandler
where
    F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |socket, reason| Box::pin(handler(socket, reason)))
}

/// A socket with an acknowledgement timeout, from [`Socket::timeout`].
#[derive(Debug)]
pub struct TimedSocket<'a> {
    socket: &'a Socket,
    timeout: Duration,
}

/// An acknowledgement the server waits for: forgotten when the wait ends, however it ends
/// (answered, timed out, or the waiting future dropped).
struct Pending<'a> {
    socket: &'a Socket,
    id: u64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.socket.inner.acks.lock().remove(&self.id);
    }
}

impl TimedSocket<'_> {
    /// Sends an event and waits at most the timeout for the acknowledgement
    /// ([`Error::Timeout`] after it).
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, Error> {
        let (receiver, _pending) = self.socket.send_with_ack(event, data)?;
        match tokio::time::timeout(self.timeout, receiver).await {
            Ok(Ok(args)) => Ok(args.deserialize()?),
            Ok(Err(_)) => Err(Error::Disconnected),
            Err(_) => {
                let nsp = &self.socket.inner.nsp;
                if let Some(observers) = nsp.observers() {
                    observers.ack_timed_out(nsp.name());
                }
                Err(Error::Timeout)
            }
        }
    }
}

/// What an event handler is called with: the socket, the event's arguments, and the client's
/// acknowledgement callback. The handler's parameters are taken out of it (see
/// [`FromContext`]).
pub struct EventContext {
    socket: Socket,
    args: Args,
    ack: Option<AckSender>,
}

impl EventContext {
    /// The socket the event came from.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl fmt::Debug for EventContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventContext")
            .field("socket", &self.socket)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl FromContext<EventContext> for Socket {
    fn from_context(ctx: &mut EventContext) -> Result<Socket, ArgsError> {
        Ok(ctx.socket.clone())
    }
}

impl FromContext<EventContext> for Namespace {
    fn from_context(ctx: &mut EventContext) -> Result<Namespace, ArgsError> {
        Ok(ctx.socket.namespace().clone())
    }
}

impl FromContext<EventContext> for AckSender {
    fn from_context(ctx: &mut EventContext) -> Result<AckSender, ArgsError> {
        Ok(ctx.ack.take().unwrap_or_else(AckSender::unrequested))
    }
}

/// The event's arguments, read as the parameter's type; an [`Args`] parameter takes them as
/// they came, without a round trip through serde.
impl<T: DeserializeOwned + 'static> FromContext<EventContext> for T {
    fn from_context(ctx: &mut EventContext) -> Result<T, ArgsError> {
        let mut slot = Some(std::mem::take(&mut ctx.args));
        if let Some(args) = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<T>>()
            .and_then(Option::take)
        {
            return Ok(args);
        }
        let args = slot.unwrap_or_default();
        let read = args.deserialize();
        ctx.args = args;
        read
    }
}

/// The socket's handshake (headers, query, `auth`, address).
impl FromContext<EventContext> for Handshake {
    fn from_context(ctx: &mut EventContext) -> Result<Handshake, ArgsError> {
        Ok(ctx.socket.handshake().clone())
    }
}

/// Connect handlers take the new socket, its namespace, its handshake.
impl FromContext<Socket> for Handshake {
    fn from_context(socket: &mut Socket) -> Result<Handshake, ArgsError> {
        Ok(socket.handshake().clone())
    }
}

impl FromContext<Socket> for Socket {
    fn from_context(socket: &mut Socket) -> Result<Socket, ArgsError> {
        Ok(socket.clone())
    }
}

impl FromContext<Socket> for Namespace {
    fn from_context(socket: &mut Socket) -> Result<Namespace, ArgsError> {
        Ok(socket.namespace().clone())
    }
}

/// What a socket tells the server's observers (they implement it, in `observe.rs`), reached
/// through [`Namespace::observers`] only when there is one: one relaxed load otherwise.
pub(crate) trait SocketReports: Send + Sync {
    /// A socket left its namespace.
    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason);
    /// A socket's `data` was replaced.
    fn data_changed(&self, socket: &Socket);
    /// An event from a client, before its handler runs.
    fn event_received(&self, socket: &Socket, event: &str, args: &Args);
    /// An event was queued for a socket.
    fn event_sent(&self, socket: &Socket, frames: &[Frame]);
    /// A volatile event was dropped.
    fn volatile_dropped(&self, socket: &Socket);
    /// A connection was closed for a full queue.
    fn queue_overflow(&self);
    /// An acknowledgement waited for in vain.
    fn ack_timed_out(&self, nsp: &str);
}
