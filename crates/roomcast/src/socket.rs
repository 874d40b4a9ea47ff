//! A socket: one client's connection to one namespace.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use roomcast_engineio::{Frame, IdHasher, Sid, TransportKind};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::ack::{AckSender, PendingAck};
use crate::adapter::{AckSink, LocalSocket};
use crate::broadcast::BroadcastOperator;
use crate::client::Client;
use crate::error::Error;
use crate::handler::{
    run_inline, AnyHandler, BoxFuture, DisconnectHandler, Erased, ErasedEventHandler, ErrorHandler,
    EventError, EventHandler, PacketMiddleware,
};
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::packet::{encode_disconnect, encode_event, EncodedPacket, Event};
use crate::payload::Args;
use crate::rooms::{IntoRooms, Room};
use crate::value::{self, Value};

/// Why a socket was disconnected, with socket.io's wording ([`DisconnectReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client disconnected the socket (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server disconnected the socket ([`Socket::disconnect`], `disconnectSockets`).
    ServerNamespaceDisconnect,
    /// The connection was closed by the client or the network.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent something that is not Socket.IO.
    ParseError,
    /// The server closed the connection.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// socket.io's name for the reason, e.g. `"client namespace disconnect"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<roomcast_engineio::CloseReason> for DisconnectReason {
    fn from(reason: roomcast_engineio::CloseReason) -> Self {
        use roomcast_engineio::CloseReason::*;
        match reason {
            TransportClose => DisconnectReason::TransportClose,
            PingTimeout => DisconnectReason::PingTimeout,
            ForcedClose => DisconnectReason::ForcedClose,
            ParseError => DisconnectReason::ParseError,
            ServerShuttingDown => DisconnectReason::ServerShuttingDown,
            _ => DisconnectReason::TransportError,
        }
    }
}

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
    nsp: Namespace,
    client: Client,
    /// The connection, held here too: a broadcast reaches it in one step from the room index.
    conn: roomcast_engineio::Socket,
    handshake: Handshake,
    connected: AtomicBool,
    handlers: RwLock<Handlers>,
    acks: Mutex<HashMap<u64, PendingAck, IdHasher>>,
    data: Mutex<Value>,
    /// Events that arrive while the connect handlers have not started yet.
    early: Mutex<Option<Vec<Event>>>,
}

#[derive(Default)]
struct Handlers {
    /// Looked up by the names clients send, but only the server adds keys: a fast hash is safe.
    events: HashMap<Box<str>, Arc<dyn ErasedEventHandler>, IdHasher>,
    any: Vec<AnyHandler>,
    packet_middleware: Vec<PacketMiddleware>,
    errors: Vec<ErrorHandler>,
    disconnecting: Vec<DisconnectHandler>,
    disconnect: Vec<DisconnectHandler>,
}

impl Socket {
    pub(crate) fn new(nsp: Namespace, client: Client, handshake: Handshake) -> Socket {
        Socket {
            inner: Arc::new(SocketInner {
                id: Sid::new(),
                nsp,
                conn: client.conn().clone(),
                client,
                handshake,
                connected: AtomicBool::new(false),
                handlers: RwLock::new(Handlers::default()),
                acks: Mutex::new(HashMap::default()),
                data: Mutex::new(Value::Null),
                early: Mutex::new(Some(Vec::new())),
            }),
        }
    }

    /// The socket id (not the connection's Engine.IO id).
    pub fn id(&self) -> Sid {
        self.inner.id
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

    /// Whether the connection was restored by connection state recovery (never, for now).
    pub fn recovered(&self) -> bool {
        false
    }

    /// The transport of the underlying connection.
    pub fn transport(&self) -> TransportKind {
        self.inner.client.transport()
    }

    /// The socket's rooms, its own id-room included, sorted.
    pub fn rooms(&self) -> Vec<Room> {
        self.inner.nsp.adapter().socket_rooms(self.id())
    }

    /// Joins one room or several.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let rooms = rooms.into_rooms()?;
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
        let encoded = encode_event(self.ns(), event, data, None)?;
        self.send_encoded(encoded)
    }

    /// Sends an event and waits for the client's acknowledgement, read as `R` (a tuple for
    /// several arguments). Waits until the socket disconnects; see [`Socket::timeout`].
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, Error> {
        let receiver = self.send_with_ack(event, data)?;
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
    ) -> Result<oneshot::Receiver<Args>, Error> {
        let id = self.inner.nsp.next_ack_id();
        let encoded = encode_event(self.ns(), event, data, Some(id))?;
        let (sender, receiver) = oneshot::channel();
        self.inner.acks.lock().insert(id, PendingAck::One(sender));
        if let Err(error) = self.send_encoded(encoded) {
            self.inner.acks.lock().remove(&id);
            return Err(error);
        }
        Ok(receiver)
    }

    /// Broadcasts to `rooms`, this socket excluded (Node's `socket.to(room)`).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Same as [`Socket::to`].
    pub fn in_(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Broadcasts to everyone but `rooms` and this socket.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Broadcasts to every socket of the namespace but this one (Node's `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.nsp.clone()).except(self.id())
    }

    /// Registers the handler of an event. See [`EventHandler`] for the accepted shapes.
    pub fn on<H, M>(&self, event: impl Into<Box<str>>, handler: H)
    where
        H: EventHandler<M>,
        M: 'static,
    {
        let handler: Arc<dyn ErasedEventHandler> = Arc::new(Erased(handler, PhantomData));
        self.inner
            .handlers
            .write()
            .events
            .insert(event.into(), handler);
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
            .disconnect
            .push(disconnect_handler(handler));
    }

    /// Disconnects the socket from its namespace; with `close`, closes the whole connection
    /// (every namespace of this client).
    pub fn disconnect(&self, close: bool) {
        if close {
            self.inner.client.disconnect_all();
            return;
        }
        if !self.connected() {
            return;
        }
        if let Ok(encoded) = encode_disconnect(self.ns()) {
            let _ = self.send_encoded(encoded);
        }
        self.close(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// The socket's data (Node's `socket.data`), read as `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let data = self.inner.data.lock().clone();
        value::from_value(data).map_err(|error| Error::Adapter(Box::new(error)))
    }

    /// Replaces the socket's data; it travels with `fetch_sockets` answers.
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), Error> {
        let data = value::to_value(data).map_err(|error| Error::Adapter(Box::new(error)))?;
        *self.inner.data.lock() = data;
        Ok(())
    }

    pub(crate) fn send_encoded(&self, encoded: EncodedPacket) -> Result<(), Error> {
        if !self.connected() {
            return Err(Error::Disconnected);
        }
        self.inner.client.send(encoded)
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
        {
            let mut early = self.inner.early.lock();
            if let Some(events) = early.as_mut() {
                events.push(event);
                return;
            }
        }
        self.run_event(event);
    }

    fn run_event(&self, event: Event) {
        let (name, ack_id, args) = event.into_parts();
        let (middleware, any, handler) = {
            let handlers = self.inner.handlers.read();
            (
                handlers.packet_middleware.clone(),
                handlers.any.clone(),
                handlers.events.get(name.as_str()).cloned(),
            )
        };
        let socket = self.clone();
        if middleware.is_empty() {
            if let Some(handler) = socket.start_handlers(name, ack_id, args, &any, handler) {
                run_inline(handler);
            }
            return;
        }
        run_inline(Box::pin(async move {
            for middleware in middleware {
                if let Err(message) = middleware(socket.clone(), name.clone(), args.clone()).await {
                    socket.report(EventError::Refused {
                        event: name,
                        message,
                    });
                    return;
                }
            }
            if let Some(handler) = socket.start_handlers(name, ack_id, args, &any, handler) {
                handler.await;
            }
        }));
    }

    /// Starts the catch-all handlers, then returns the event handler's future (`None` when
    /// there is none, or when the arguments do not fit it, which is reported).
    fn start_handlers(
        &self,
        name: String,
        ack_id: Option<u64>,
        args: Args,
        any: &[AnyHandler],
        handler: Option<Arc<dyn ErasedEventHandler>>,
    ) -> Option<BoxFuture<()>> {
        for any in any {
            run_inline(any(self.clone(), name.clone(), args.clone()));
        }
        let handler = handler?;
        match handler.call(self.clone(), args, AckSender::new(self, ack_id)) {
            Ok(future) => Some(future),
            Err(error) => {
                self.report(EventError::InvalidPayload { event: name, error });
                None
            }
        }
    }

    fn report(&self, error: EventError) {
        let handlers = self.inner.handlers.read().errors.clone();
        if handlers.is_empty() {
            tracing::warn!(socket = %self.id(), nsp = self.ns(), %error, "event not handled");
        }
        for handler in handlers {
            run_inline(handler(self.clone(), error.clone()));
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
        self.inner.client.forget(self.ns());
        let (disconnecting, disconnect) = {
            let handlers = self.inner.handlers.read();
            (handlers.disconnecting.clone(), handlers.disconnect.clone())
        };
        tracing::debug!(socket = %self.id(), nsp = self.ns(), %reason, "socket disconnected");
        let socket = self.clone();
        run_inline(Box::pin(async move {
            for handler in disconnecting {
                handler(socket.clone(), reason).await;
            }
            socket.inner.nsp.remove_socket(socket.id());
            // Dropping the pending acknowledgements tells their waiters.
            socket.inner.acks.lock().clear();
            for handler in disconnect {
                run_inline(handler(socket.clone(), reason));
            }
        }));
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
        let conn = &self.inner.conn;
        if volatile {
            conn.send_volatile(frames);
        } else if let Err(error) = conn.send_all(frames) {
            tracing::debug!(sid = %conn.id(), %error, "broadcast not delivered");
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

impl TimedSocket<'_> {
    /// Sends an event and waits at most the timeout for the acknowledgement
    /// ([`Error::Timeout`] after it).
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, Error> {
        let receiver = self.socket.send_with_ack(event, data)?;
        match tokio::time::timeout(self.timeout, receiver).await {
            Ok(Ok(args)) => Ok(args.deserialize()?),
            Ok(Err(_)) => Err(Error::Disconnected),
            Err(_) => Err(Error::Timeout),
        }
    }
}
