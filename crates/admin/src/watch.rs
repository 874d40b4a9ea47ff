//! What the Admin UI is told as it happens: the counts behind `aggregatedEvents` (always), and
//! in development mode every socket connected, updated or disconnected, every room joined or
//! left, every event received or sent — queued in order to the task that emits them into the
//! admin namespace, so that no hook waits.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use roomcast::adapter::read_event;
use roomcast::value::{Map, Value};
use roomcast::{
    Args, CloseReason, DisconnectReason, Frame, Namespace, Observer, Sid, Socket, TransportKind,
};
use tokio::sync::mpsc;

use crate::serialize::SerializedSocket;
use crate::stats::Counters;
use crate::time::{iso8601, now_ms};

/// An event for the admin namespace.
#[derive(Debug)]
pub(crate) struct Notice {
    pub(crate) event: &'static str,
    pub(crate) args: Vec<Value>,
}

/// Now, as JavaScript's `Date.toISOString()` writes it.
fn now() -> Value {
    Value::from(iso8601(now_ms()))
}

/// Development mode's part: where notices go, and which sockets each connection has (to tell
/// of their transport when it upgrades).
pub(crate) struct Verbose {
    notices: mpsc::UnboundedSender<Notice>,
    admin_nsp: String,
    by_connection: Mutex<HashMap<Sid, Vec<(String, Sid)>>>,
}

impl Verbose {
    pub(crate) fn new(notices: mpsc::UnboundedSender<Notice>, admin_nsp: String) -> Verbose {
        Verbose {
            notices,
            admin_nsp,
            by_connection: Mutex::new(HashMap::new()),
        }
    }

    fn notify(&self, event: &'static str, args: Vec<Value>) {
        let _ = self.notices.send(Notice { event, args });
    }

    /// Tells of the rooms of `nsp` as sockets join and leave them.
    pub(crate) fn watch_rooms(self: &Arc<Self>, nsp: &Namespace) {
        let verbose = Arc::downgrade(self);
        let name = nsp.name().to_owned();
        nsp.adapter()
            .on_room_event(Arc::new(move |event: &roomcast::adapter::RoomEvent| {
                let Some(verbose) = verbose.upgrade() else {
                    return;
                };
                let (kind, room, id) = match event {
                    roomcast::adapter::RoomEvent::Join(room, id) => ("room_joined", room, id),
                    roomcast::adapter::RoomEvent::Leave(room, id) => ("room_left", room, id),
                    _ => return,
                };
                verbose.notify(
                    kind,
                    vec![
                        Value::from(name.as_str()),
                        Value::from(room.as_str()),
                        Value::from(id.as_str()),
                        now(),
                    ],
                );
            }));
    }
}

/// The Admin UI's observer of the server.
pub(crate) struct Watch {
    pub(crate) counters: Arc<Counters>,
    pub(crate) verbose: Option<Arc<Verbose>>,
}

impl Watch {
    /// The development-mode part, for the events of sockets outside the admin namespace.
    fn verbose_for(&self, socket: &Socket) -> Option<&Verbose> {
        self.verbose
            .as_deref()
            .filter(|verbose| socket.ns() != verbose.admin_nsp)
    }
}

fn event_args(event: &str, args: Vec<Value>) -> Value {
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(Value::from(event));
    all.extend(args);
    Value::Array(all)
}

impl Observer for Watch {
    fn connection_opened(&self, _id: Sid, transport: TransportKind) {
        self.counters
            .connection(transport == TransportKind::Polling);
    }

    fn connection_upgraded(&self, id: Sid) {
        self.counters.upgraded();
        let Some(verbose) = &self.verbose else {
            return;
        };
        let sockets = verbose.by_connection.lock().get(&id).cloned();
        for (nsp, socket) in sockets.into_iter().flatten() {
            let mut update = Map::new();
            update.insert("id".to_owned(), Value::from(socket.as_str()));
            update.insert("nsp".to_owned(), Value::from(nsp));
            update.insert("transport".to_owned(), Value::from("websocket"));
            verbose.notify("socket_updated", vec![Value::Object(update)]);
        }
    }

    fn connection_closed(&self, id: Sid, transport: TransportKind, reason: CloseReason) {
        self.counters
            .disconnection(reason, transport == TransportKind::Polling);
        if let Some(verbose) = &self.verbose {
            verbose.by_connection.lock().remove(&id);
        }
    }

    fn socket_connected(&self, socket: &Socket) {
        let Some(verbose) = &self.verbose else {
            return;
        };
        verbose
            .by_connection
            .lock()
            .entry(socket.client_id())
            .or_default()
            .push((socket.ns().to_owned(), socket.id()));
        let serialized =
            roomcast::value::to_value(&SerializedSocket::local(socket)).unwrap_or(Value::Null);
        verbose.notify("socket_connected", vec![serialized, now()]);
    }

    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        let Some(verbose) = &self.verbose else {
            return;
        };
        if let Some(sockets) = verbose.by_connection.lock().get_mut(&socket.client_id()) {
            sockets.retain(|(_, id)| *id != socket.id());
        }
        verbose.notify(
            "socket_disconnected",
            vec![
                Value::from(socket.ns()),
                Value::from(socket.id().as_str()),
                Value::from(reason.to_string()),
                now(),
            ],
        );
    }

    fn data_changed(&self, socket: &Socket) {
        let Some(verbose) = &self.verbose else {
            return;
        };
        let mut update = Map::new();
        update.insert("id".to_owned(), Value::from(socket.id().as_str()));
        update.insert("nsp".to_owned(), Value::from(socket.ns()));
        update.insert(
            "data".to_owned(),
            socket.data::<Value>().unwrap_or(Value::Null),
        );
        verbose.notify("socket_updated", vec![Value::Object(update)]);
    }

    fn event_received(&self, socket: &Socket, event: &str, args: &Args) {
        let Some(verbose) = self.verbose_for(socket) else {
            return;
        };
        let args = args.to_values().unwrap_or_default();
        verbose.notify(
            "event_received",
            vec![
                Value::from(socket.ns()),
                Value::from(socket.id().as_str()),
                event_args(event, args),
                now(),
            ],
        );
    }

    fn event_sent(&self, socket: &Socket, frames: &[Frame]) {
        let Some(verbose) = self.verbose_for(socket) else {
            return;
        };
        let Ok((event, args)) = read_event(frames) else {
            return;
        };
        verbose.notify(
            "event_sent",
            vec![
                Value::from(socket.ns()),
                Value::from(socket.id().as_str()),
                event_args(&event, args),
                now(),
            ],
        );
    }

    /// Each event is told of in development mode only; the counts come from the server's
    /// traffic.
    fn wants_each_event(&self) -> bool {
        self.verbose.is_some()
    }
}
