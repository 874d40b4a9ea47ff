//! One Engine.IO connection as Socket.IO sees it: decodes its packets and routes them to the
//! sockets it has in each namespace (several namespaces share one connection).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use roomcast_engineio::{CloseReason, Connection, Frame, Message, TransportKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::Error;
use crate::handler::run_inline;
use crate::handshake::Handshake;
use crate::packet::{
    encode_connect, encode_connect_error, Decoder, EncodedPacket, Packet, PacketData, RawJson,
};
use crate::server::ServerInner;
use crate::socket::{DisconnectReason, Socket};
use crate::value::Value;

/// A connection's Socket.IO state: the Engine.IO connection handler of a [`Server`](crate::Server). It
/// has no API of its own; it only appears in types.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

/// Closes the connections that join no namespace within the connect timeout. Every connection
/// gets the same timeout, so deadlines come in order: one task and one queue serve them all,
/// instead of a timer per connection.
pub(crate) struct ConnectTimeouts {
    timeout: Duration,
    queue: OnceLock<mpsc::UnboundedSender<(Instant, Weak<ClientInner>)>>,
}

impl ConnectTimeouts {
    pub(crate) fn new(timeout: Duration) -> ConnectTimeouts {
        ConnectTimeouts {
            timeout,
            queue: OnceLock::new(),
        }
    }

    fn watch(&self, client: &Arc<ClientInner>) {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(close_late_connections(receiver));
            sender
        });
        let _ = queue.send((Instant::now() + self.timeout, Arc::downgrade(client)));
    }
}

async fn close_late_connections(mut queue: mpsc::UnboundedReceiver<(Instant, Weak<ClientInner>)>) {
    let waiting = |client: &Weak<ClientInner>| {
        client
            .upgrade()
            .filter(|inner| !inner.joined.load(Ordering::Acquire))
    };
    while let Some((deadline, client)) = queue.recv().await {
        if waiting(&client).is_none() {
            continue;
        }
        tokio::time::sleep_until(deadline).await;
        if let Some(inner) = waiting(&client) {
            tracing::debug!(sid = %inner.conn.id(), "no namespace joined within connect_timeout, closing");
            inner.conn.close();
        }
    }
}

struct ClientInner {
    server: Arc<ServerInner>,
    conn: roomcast_engineio::Socket,
    decoder: Mutex<Decoder>,
    /// Keyed by names the client sends: std's keyed hasher, not `IdHasher`.
    namespaces: Mutex<HashMap<String, Slot>>,
    /// Whether any namespace was ever joined (the connect timeout only applies before).
    joined: AtomicBool,
}

/// Where a namespace of this connection stands.
enum Slot {
    /// CONNECT received; middleware is running.
    Connecting,
    Connected(Socket),
}

impl Client {
    pub(crate) fn new(server: Arc<ServerInner>, conn: roomcast_engineio::Socket) -> Client {
        let client = Client {
            inner: Arc::new(ClientInner {
                server,
                conn,
                decoder: Mutex::new(Decoder::new()),
                namespaces: Mutex::new(HashMap::default()),
                joined: AtomicBool::new(false),
            }),
        };
        client.inner.server.connect_timeouts().watch(&client.inner);
        client
    }

    pub(crate) fn transport(&self) -> TransportKind {
        self.inner.conn.transport()
    }

    /// Queues an encoded packet and its attachments on the connection.
    pub(crate) fn send(&self, encoded: EncodedPacket) -> Result<(), Error> {
        let text = Frame::from_encoded_message(encoded.text)
            .map_err(|error| Error::Adapter(Box::new(error)))?;
        if encoded.attachments.is_empty() {
            return Ok(self.inner.conn.send(text)?);
        }
        let mut frames = Vec::with_capacity(1 + encoded.attachments.len());
        frames.push(text);
        frames.extend(encoded.attachments.into_iter().map(Frame::binary));
        Ok(self.inner.conn.send_all(&frames)?)
    }

    /// The connection's Engine.IO handle.
    pub(crate) fn conn(&self) -> &roomcast_engineio::Socket {
        &self.inner.conn
    }

    /// The namespace's socket is gone: a new CONNECT for it may come.
    pub(crate) fn forget(&self, nsp: &str) {
        self.inner.namespaces.lock().remove(nsp);
    }

    /// Disconnects every socket of this connection, then closes it.
    pub(crate) fn disconnect_all(&self) {
        for socket in self.sockets() {
            socket.disconnect(false);
        }
        self.inner.conn.close();
    }

    fn sockets(&self) -> Vec<Socket> {
        self.inner
            .namespaces
            .lock()
            .values()
            .filter_map(|slot| match slot {
                Slot::Connected(socket) => Some(socket.clone()),
                Slot::Connecting => None,
            })
            .collect()
    }

    fn on_packet(&self, packet: Packet) {
        let kind = packet.packet_type();
        let Packet { nsp, data } = packet;
        let socket = {
            let namespaces = self.inner.namespaces.lock();
            match namespaces.get(&*nsp) {
                Some(Slot::Connected(socket)) => Some(socket.clone()),
                Some(Slot::Connecting) => None,
                None => {
                    drop(namespaces);
                    if let PacketData::Connect(auth) = data {
                        return self.connect(nsp.into_owned(), auth);
                    }
                    None
                }
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
                tracing::debug!(sid = %self.inner.conn.id(), nsp = &*nsp, %kind, "packet without content ignored");
            }
            _ => {
                tracing::warn!(sid = %self.inner.conn.id(), nsp = &*nsp, %kind, "packet in an invalid state, closing the connection");
                self.inner.conn.close();
            }
        }
    }

    fn connect(&self, nsp: String, auth: Option<RawJson>) {
        let auth = match auth.map(|raw| raw.to_value()) {
            None => Value::Object(Default::default()),
            Some(Ok(auth @ Value::Object(_))) => auth,
            Some(_) => {
                tracing::warn!(sid = %self.inner.conn.id(), nsp, "CONNECT auth is not an object, closing the connection");
                self.inner.conn.close();
                return;
            }
        };
        self.inner
            .namespaces
            .lock()
            .insert(nsp.clone(), Slot::Connecting);
        let client = self.clone();
        run_inline(Box::pin(
            async move { client.join_namespace(nsp, auth).await },
        ));
    }

    fn refuse(&self, nsp: &str, message: &str, data: Option<&serde_json::Value>) {
        self.forget(nsp);
        tracing::debug!(sid = %self.inner.conn.id(), nsp, message, "connection to namespace refused");
        match encode_connect_error(nsp, message, data) {
            Ok(encoded) => {
                let _ = self.send(encoded);
            }
            Err(error) => tracing::warn!(nsp, %error, "connect_error not encodable"),
        }
    }

    async fn join_namespace(&self, name: String, auth: Value) {
        let handshake = Handshake::new(self.inner.conn.request().clone(), auth);
        let Some(nsp) = self.inner.server.namespace_for(&name, &handshake).await else {
            return self.refuse(&name, "Invalid namespace", None);
        };
        let socket = Socket::new(nsp.clone(), self.clone(), handshake);
        for middleware in nsp.middleware() {
            if let Err(error) = middleware(socket.clone()).await {
                return self.refuse(&name, error.message(), error.data());
            }
        }
        {
            let mut namespaces = self.inner.namespaces.lock();
            if self.inner.conn.is_closed()
                || !matches!(namespaces.get(&name), Some(Slot::Connecting))
            {
                return;
            }
            namespaces.insert(name.clone(), Slot::Connected(socket.clone()));
        }
        self.inner.joined.store(true, Ordering::Release);
        match encode_connect(&name, socket.id().as_str(), None) {
            Ok(encoded) => {
                let _ = self.send(encoded);
            }
            Err(error) => tracing::warn!(nsp = name, %error, "CONNECT reply not encodable"),
        }
        socket.set_connected();
        tracing::debug!(socket = %socket.id(), nsp = name, "socket connected");
        for handler in nsp.connect_handlers() {
            run_inline(handler(socket.clone()));
        }
        socket.release_early_events();
    }
}

impl Connection for Client {
    fn on_message(&self, message: Message) {
        let decoded = {
            let mut decoder = self.inner.decoder.lock();
            match message {
                Message::Text(text) => decoder.decode_text(&text),
                Message::Binary(bytes) => decoder.decode_binary(bytes),
            }
        };
        match decoded {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(sid = %self.inner.conn.id(), %error, "invalid Socket.IO packet, closing the connection");
                self.inner.conn.close();
            }
        }
    }

    fn on_close(&self, reason: CloseReason) {
        let slots: Vec<Slot> = self
            .inner
            .namespaces
            .lock()
            .drain()
            .map(|(_, slot)| slot)
            .collect();
        for slot in slots {
            if let Slot::Connected(socket) = slot {
                socket.close(reason.into());
            }
        }
    }
}
