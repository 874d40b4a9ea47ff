//! Watching a server: what happens to its connections, sockets, events and broadcasts, told to
//! the observers registered with [`Server::observe`](crate::Server::observe) — the metrics
//! exporter, the Admin UI. With no observer, each place that would tell one costs a load and a
//! branch.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use roomcast_engineio::{CloseReason, Frame, Sid, TransportKind};

use crate::adapter::{BroadcastOptions, BroadcastPacket};
use crate::disconnect::DisconnectReason;
use crate::payload::Args;
use crate::report::{Reports, Watching};
use crate::socket::{Socket, SocketReports};

/// Told what happens in a server. Every method does nothing by default; each runs on the task
/// where the thing happened, so it must be quick and must not block.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use roomcast::{Observer, Server, Socket};
///
/// #[derive(Default)]
/// struct Arrivals(AtomicU64);
///
/// impl Observer for Arrivals {
///     fn socket_connected(&self, _: &Socket) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let io = Server::new();
/// io.observe(std::sync::Arc::new(Arrivals::default()));
/// ```
#[allow(unused_variables)]
pub trait Observer: Send + Sync + 'static {
    /// An Engine.IO connection `id` opened on `transport`.
    fn connection_opened(&self, id: Sid, transport: TransportKind) {}
    /// A connection moved from polling to WebSocket.
    fn connection_upgraded(&self, id: Sid) {}
    /// A connection ended; `transport` is the one it ended on.
    fn connection_closed(&self, id: Sid, transport: TransportKind, reason: CloseReason) {}
    /// An HTTP request was refused with the Engine.IO error `code` (0 unknown transport, 1
    /// unknown session id, 2 bad handshake method, 3 bad request, 4 forbidden, 5 unsupported
    /// protocol version).
    fn request_refused(&self, code: u8) {}
    /// A socket joined its namespace.
    fn socket_connected(&self, socket: &Socket) {}
    /// A socket left its namespace (it has left its rooms already).
    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {}
    /// A socket's `data` was replaced.
    fn data_changed(&self, socket: &Socket) {}
    /// An event from a client, before its handler runs. Called only when an observer [wants
    /// each event](Observer::wants_each_event); the counts are in
    /// [`Server::traffic`](crate::Server::traffic) either way.
    fn event_received(&self, socket: &Socket, event: &str, args: &Args) {}
    /// An event was queued for a socket (`frames`: the text message and its attachments),
    /// whether a broadcast delivered it or the socket's own `emit`. Called only when an
    /// observer [wants each event](Observer::wants_each_event): a broadcast to thousands of
    /// sockets calls it thousands of times. The counts are in
    /// [`Server::traffic`](crate::Server::traffic) either way.
    fn event_sent(&self, socket: &Socket, frames: &[Frame]) {}
    /// A broadcast left this process (once, whatever the number of recipients).
    fn broadcast(&self, nsp: &str, packet: &BroadcastPacket, opts: &BroadcastOptions) {}
    /// A volatile event was dropped: its socket could not take it right away.
    fn volatile_dropped(&self, socket: &Socket) {}
    /// A connection was closed because its queue of unsent data was full.
    fn queue_overflow(&self) {}
    /// An acknowledgement the server waited for did not come in time.
    fn ack_timed_out(&self, nsp: &str) {}
    /// A request of the adapter to the other servers (`fetchSockets`, `serverSideEmit`, …)
    /// ended after `elapsed`, `complete` unless it timed out.
    fn adapter_request(&self, nsp: &str, request: &'static str, elapsed: Duration, complete: bool) {
    }
    /// Whether [`Observer::event_received`] and [`Observer::event_sent`] are to be called for
    /// every event, received or queued for each socket (asked once, when the observer is
    /// added).
    fn wants_each_event(&self) -> bool {
        false
    }
}

/// The observers of a server: read without a lock on every hook, replaced as a whole when one
/// is added.
#[derive(Default)]
pub(crate) struct Observers {
    /// Whether there are any, and what is counted meanwhile; shared with each namespace.
    watching: Arc<Watching>,
    list: ArcSwap<Vec<Arc<dyn Observer>>>,
    /// Serializes additions (reads never take it).
    adding: Mutex<()>,
}

impl Observers {
    /// Adds an observer.
    pub(crate) fn add(&self, observer: Arc<dyn Observer>) {
        let _adding = self.adding.lock();
        let mut grown: Vec<Arc<dyn Observer>> = self.list.load().iter().cloned().collect();
        let each_event = observer.wants_each_event();
        grown.push(observer);
        self.list.store(Arc::new(grown));
        self.watching.add(each_event);
    }

    /// Whether any observer is registered (the fast path: nothing to tell).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.watching.any()
    }

    /// Whether there are any, and what is counted meanwhile.
    pub(crate) fn watching(&self) -> &Arc<Watching> {
        &self.watching
    }

    /// Tells every observer.
    #[inline]
    pub(crate) fn tell(&self, each: impl Fn(&dyn Observer)) {
        if !self.any() {
            return;
        }
        for observer in self.list.load().iter() {
            each(observer.as_ref());
        }
    }
}

impl Reports for Observers {
    fn any(&self) -> bool {
        Observers::any(self)
    }

    fn broadcast(&self, nsp: &str, packet: &BroadcastPacket, opts: &BroadcastOptions) {
        self.tell(|observer| observer.broadcast(nsp, packet, opts));
    }

    fn ack_timed_out(&self, nsp: &str) {
        self.tell(|observer| observer.ack_timed_out(nsp));
    }

    fn ack_sent(&self, bytes: usize) {
        if self.any() {
            self.watching.traffic().ack_sent(bytes);
        }
    }

    fn adapter_request(&self, nsp: &str, request: &'static str, elapsed: Duration, complete: bool) {
        self.tell(|observer| observer.adapter_request(nsp, request, elapsed, complete));
    }
}

impl SocketReports for Observers {
    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        self.tell(|observer| observer.socket_disconnected(socket, reason));
    }

    fn data_changed(&self, socket: &Socket) {
        self.tell(|observer| observer.data_changed(socket));
    }

    fn event_received(&self, socket: &Socket, event: &str, args: &Args) {
        self.tell(|observer| observer.event_received(socket, event, args));
    }

    fn event_sent(&self, socket: &Socket, frames: &[Frame]) {
        self.tell(|observer| observer.event_sent(socket, frames));
    }

    fn volatile_dropped(&self, socket: &Socket) {
        self.tell(|observer| observer.volatile_dropped(socket));
    }

    fn queue_overflow(&self) {
        self.tell(|observer| observer.queue_overflow());
    }

    fn ack_timed_out(&self, nsp: &str) {
        self.tell(|observer| observer.ack_timed_out(nsp));
    }
}
