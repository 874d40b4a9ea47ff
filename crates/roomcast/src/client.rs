//! One Engine.IO connection as Socket.IO sees it: decodes its packets and routes them to the
//! sockets it has in each namespace (several namespaces share one connection), and connects
//! new sockets, running the namespace's middleware and connect handlers.

use std::sync::Arc;

use roomcast_engineio::{CloseReason, Connection as EngineConnection, Message, Protocol, Sid};

use crate::adapter::{LocalSocket, RestoredSession};
use crate::connect_timeout::ConnectTimeouts;
use crate::connection::{Connection, Slot};
use crate::disconnect::DisconnectReason;
use crate::handler::{run_inline, spawn_inline};
use crate::handshake::Handshake;
use crate::namespace::Namespace;
use crate::outbox::Outbox;
use crate::packet::{AttachmentLimits, Packet, PacketData, Parser, RawJson};
use crate::registry::Registry;
use crate::socket::{Identity, Socket};
use crate::value::Value;

/// The `connect_error` message beyond [`ServerOptions::max_namespaces_per_connection`]
/// (crate::ServerOptions::max_namespaces_per_connection).
const TOO_MANY_NAMESPACES: &str = "too many namespaces on this connection";

/// The Engine.IO handler of a [`Server`](crate::Server): it turns each Engine.IO session into a
/// Socket.IO connection. It appears in the types of [`Server::engine`](crate::Server::engine)
/// and [`Server::layer`](crate::Server::layer).
pub struct ServerHandler {
    registry: Arc<Registry>,
    timeouts: ConnectTimeouts,
    /// How many namespaces one connection may be in at once.
    max_namespaces: usize,
    /// How packets are encoded.
    parser: Parser,
    /// What a binary packet may carry.
    attachments: AttachmentLimits,
}

impl ServerHandler {
    pub(crate) fn new(
        registry: Arc<Registry>,
        timeouts: ConnectTimeouts,
        max_namespaces: usize,
        parser: Parser,
        attachments: AttachmentLimits,
    ) -> ServerHandler {
        ServerHandler {
            registry,
            timeouts,
            max_namespaces,
            parser,
            attachments,
        }
    }
}

impl roomcast_engineio::Handler for ServerHandler {
    type Connection = Client;

    fn on_open(&self, conn: roomcast_engineio::Socket) -> Client {
        let (id, transport) = (conn.id(), conn.transport());
        self.registry
            .observers()
            .tell(|observer| observer.connection_opened(id, transport));
        let connection = Arc::new(Connection::new(
            conn,
            self.max_namespaces,
            self.parser,
            self.attachments,
        ));
        self.timeouts.watch(connection.admission());
        let client = Client {
            registry: self.registry.clone(),
            connection,
        };
        if client.legacy() {
            // A Socket.IO v2 client is in `/` from the start, without asking (Node does the
            // same for Engine.IO v3 connections).
            client.join(String::from("/"), Value::Object(Default::default()));
        }
        client
    }

    fn on_refused(&self, code: u8) {
        self.registry
            .observers()
            .tell(|observer| observer.request_refused(code));
    }
}

/// A connection's Socket.IO state: the Engine.IO connection handler of a
/// [`Server`](crate::Server). It has no API of its own; it only appears in types.
#[derive(Clone)]
pub struct Client {
    registry: Arc<Registry>,
    connection: Arc<Connection<Socket>>,
}

impl Client {
    fn conn(&self) -> &roomcast_engineio::Socket {
        self.connection.conn()
    }

    /// Whether the client speaks Socket.IO v2 over Engine.IO v3.
    fn legacy(&self) -> bool {
        self.conn().protocol() == Protocol::V3
    }

    fn on_packet(&self, packet: Packet) {
        let kind = packet.packet_type();
        let Packet { nsp, data } = packet;
        if self.legacy() {
            if let PacketData::Connect(_) = data {
                // A v2 client names its namespace with its query: `/chat?token=abc` is `/chat`
                // with the auth `{"token": "abc"}`.
                let (name, auth) = legacy_namespace(&nsp);
                if self.connection.slot(&name).is_none() {
                    return self.join(name, auth);
                }
                tracing::warn!(sid = %self.conn().id(), nsp = name, "second CONNECT to a namespace, closing the connection");
                return self.conn().close();
            }
        }
        let socket = match self.connection.slot(&nsp) {
            Some(Slot::Connected(socket)) => Some(socket),
            Some(Slot::Connecting) => None,
            None => {
                if let PacketData::Connect(auth) = data {
                    return self.connect(nsp.into_owned(), auth);
                }
                None
            }
        };
        match (socket, data) {
            (Some(socket), PacketData::Event(event)) => socket.dispatch(event),
            (Some(socket), PacketData::Ack(ack)) => {
                let (id, args) = ack.into_parts();
                socket.on_ack(id, args);
            }
            (Some(socket), PacketData::Disconnect) => {
                socket.close(DisconnectReason::ClientNamespaceDisconnect)
            }
            (Some(_), PacketData::Empty(_)) => {
                tracing::debug!(sid = %self.conn().id(), nsp = &*nsp, %kind, "packet without content ignored");
            }
            _ => {
                tracing::warn!(sid = %self.conn().id(), nsp = &*nsp, %kind, "packet in an invalid state, closing the connection");
                self.conn().close();
            }
        }
    }

    fn connect(&self, nsp: String, auth: Option<RawJson>) {
        let auth = match auth.map(|raw| raw.to_value()) {
            None => Value::Object(Default::default()),
            Some(Ok(auth @ Value::Object(_))) => auth,
            Some(_) => {
                tracing::warn!(sid = %self.conn().id(), nsp, "CONNECT auth is not an object, closing the connection");
                self.conn().close();
                return;
            }
        };
        self.join(nsp, auth);
    }

    /// Starts joining `nsp` with `auth`, unless the connection is in too many namespaces.
    fn join(&self, nsp: String, auth: Value) {
        if !self.connection.begin(&nsp) {
            tracing::warn!(sid = %self.conn().id(), nsp, "too many namespaces on one connection, CONNECT refused");
            // Not `refuse`: the namespace's slot, if any, is another attempt's.
            return self.send_connect_error(&nsp, TOO_MANY_NAMESPACES, None);
        }
        let client = self.clone();
        spawn_inline(Box::pin(
            async move { client.join_namespace(nsp, auth).await },
        ));
    }

    fn refuse(&self, nsp: &str, message: &str, data: Option<&serde_json::Value>) {
        self.connection.forget(nsp);
        tracing::debug!(sid = %self.conn().id(), nsp, message, "connection to namespace refused");
        self.send_connect_error(nsp, message, data);
    }

    /// Tells the client its CONNECT to `nsp` is refused.
    fn send_connect_error(&self, nsp: &str, message: &str, data: Option<&serde_json::Value>) {
        let parser = self.connection.parser();
        let encoded = if self.legacy() {
            parser.connect_error_v2(nsp, message, data)
        } else {
            parser.connect_error(nsp, message, data)
        };
        let sent = encoded
            .map_err(Into::into)
            .and_then(|encoded| self.outbox(nsp).send(encoded));
        if let Err(error) = sent {
            tracing::debug!(nsp, %error, "connect_error not sent");
        }
    }

    /// The way out for packets of a namespace the client has no socket in.
    fn outbox(&self, nsp: &str) -> Outbox {
        Outbox::new(self.conn().clone(), nsp.into(), self.connection.parser())
    }

    async fn join_namespace(&self, name: String, auth: Value) {
        let Some(nsp) = self.registry.namespace_for(&name, &auth).await else {
            return self.refuse(&name, "Invalid namespace", None);
        };
        nsp.ready().await;
        let (identity, restored) = match restore(&nsp, &auth).await {
            Some((identity, restored)) => (identity, Some(restored)),
            None if self.legacy() && name == "/" => {
                // As Node, a v2 client's socket in `/` takes the connection's id, which is
                // what the client takes as its `socket.id`.
                (
                    Identity::with_id(self.conn().id(), nsp.recovery().is_some()),
                    None,
                )
            }
            None => (Identity::fresh(nsp.recovery().is_some()), None),
        };
        let handshake = Handshake::new(self.conn().request().clone(), auth);
        let socket = Socket::new(nsp.clone(), self.connection.clone(), handshake, identity);
        let skip_middlewares = restored.is_some()
            && nsp
                .recovery()
                .is_some_and(|recovery| recovery.skip_middlewares);
        if !skip_middlewares {
            for middleware in nsp.middleware() {
                if let Err(error) = middleware(socket.clone()).await {
                    return self.refuse(&name, error.message(), error.data());
                }
            }
        }
        if !self.connection.complete(&name, socket.clone()) {
            return;
        }
        if let Some(restored) = &restored {
            // What it missed comes before the CONNECT reply, as Node writes it: the client
            // hands those events to its listeners before `connect`.
            for packet in &restored.missed {
                LocalSocket::deliver(&socket, packet.frames(), false);
            }
        }
        let pid = socket.pid();
        let parser = self.connection.parser();
        let reply = if self.legacy() {
            parser.connect_v2(&name)
        } else {
            parser.connect(&name, socket.id().as_str(), pid.as_ref().map(Sid::as_str))
        };
        let sent = reply
            .map_err(Into::into)
            .and_then(|encoded| socket.outbox().send(encoded));
        if let Err(error) = sent {
            tracing::debug!(nsp = name, %error, "CONNECT reply not sent");
        }
        if let Some(restored) = restored {
            // Then it rejoins its rooms: newer broadcasts come after.
            socket.set_connected();
            if let Err(error) = socket.join(restored.session.rooms).await {
                tracing::debug!(socket = %socket.id(), %error, "recovered rooms not joined");
            }
            tracing::debug!(socket = %socket.id(), nsp = name, missed = restored.missed.len(), "socket recovered");
        } else {
            socket.set_connected();
        }
        tracing::debug!(socket = %socket.id(), nsp = name, "socket connected");
        self.registry
            .observers()
            .tell(|observer| observer.socket_connected(&socket));
        for handler in nsp.connect_handlers() {
            match handler.call(socket.clone()) {
                Ok(future) => {
                    let (id, nsp) = (socket.id(), name.clone());
                    run_inline(future, move |outcome| {
                        if let Err(error) = outcome {
                            tracing::warn!(socket = %id, nsp, %error, "connect handler failed");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(socket = %socket.id(), nsp = name, %error, "connect handler not run")
                }
            }
        }
        socket.release_early_events();
    }
}

/// The session a reconnecting client asks for with `auth: {pid, offset}`, when recovery is on
/// and the adapter still has it, and no socket of the namespace has its id now.
async fn restore(nsp: &Namespace, auth: &Value) -> Option<(Identity, RestoredSession)> {
    nsp.recovery()?;
    let pid = auth.get("pid")?.as_str()?;
    let offset = auth.get("offset")?.as_str()?;
    let restored = match nsp.adapter().restore_session(pid, offset).await {
        Ok(restored) => restored?,
        Err(error) => {
            tracing::warn!(nsp = nsp.name(), %error, "session not restored");
            return None;
        }
    };
    let identity = Identity::recovered(&restored.session)?;
    if nsp.get_socket(identity.id()).is_some() {
        return None;
    }
    Some((identity, restored))
}

impl EngineConnection for Client {
    fn on_message(&self, message: Message) {
        let watching = self.registry.observers().watching();
        if watching.any() {
            let bytes = match &message {
                Message::Text(text) => text.len(),
                Message::Binary(bytes) => bytes.len(),
            };
            watching.traffic().message_received(bytes);
        }
        let decoded = {
            let mut reader = self.connection.reader().lock();
            match message {
                Message::Text(text) => reader.text(&text),
                Message::Binary(bytes) => reader.binary(bytes),
            }
        };
        match decoded {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(sid = %self.conn().id(), %error, "invalid Socket.IO packet, closing the connection");
                self.conn().close();
            }
        }
    }

    fn on_upgrade(&self) {
        let id = self.conn().id();
        self.registry
            .observers()
            .tell(|observer| observer.connection_upgraded(id));
    }

    fn on_close(&self, reason: CloseReason) {
        let (id, transport) = (self.conn().id(), self.conn().transport());
        self.registry
            .observers()
            .tell(|observer| observer.connection_closed(id, transport, reason));
        let reason = DisconnectReason::from(reason);
        for socket in self.connection.drain() {
            socket.close(reason);
        }
    }
}

/// A Socket.IO v2 CONNECT's namespace and the auth its query carries (Node:
/// `Client._parseNamespace`).
fn legacy_namespace(nsp: &str) -> (String, Value) {
    let (path, query) = nsp.split_once('?').unwrap_or((nsp, ""));
    let auth = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), Value::from(value.as_ref())))
        .collect();
    (path.to_owned(), Value::Object(auth))
}
