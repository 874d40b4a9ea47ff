//! Watching a server: what happens to its connections, sockets, events and broadcasts, told to
//! the observers registered with [`Server::observe`](crate::Server::observe) — the metrics
//! exporter, the Admin UI. With no observer, each place that would tell one costs a load and a
//! branch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use roomcast_engineio::{CloseReason, Frame, Sid, TransportKind};

use crate::adapter::{BroadcastOptions, BroadcastPacket};
use crate::disconnect::DisconnectReason;
use crate::payload::Args;
use crate::report::Reports;
use crate::socket::{Socket, SocketReports};
use crate::tally::Traffic;

/// Told what happens in a server. Every method does nothing by default; each runs on the task
/// where the thing happened, so it must be quick and must not block.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use roomcast::{Args, Observer, Server, Socket};
///
/// #[derive(Default)]
/// struct EventCount(AtomicU64);
///
/// impl Observer for EventCount {
///     fn event_received(&self, _: &Socket, _: &str, _: &Args) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let io = Server::new();
/// io.observe(std::sync::Arc::new(EventCount::default()));
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
    /// A message of `bytes` bytes arrived on a connection.
    fn message_received(&self, bytes: usize) {}
    /// A socket joined its namespace.
    fn socket_connected(&self, socket: &Socket) {}
    /// A socket left its namespace (it has left its rooms already).
    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {}
    /// A socket's `data` was replaced.
    fn data_changed(&self, socket: &Socket) {}
    /// An event from a client, before its handler runs.
    fn event_received(&self, socket: &Socket, event: &str, args: &Args) {}
    /// An event was queued for a socket (`frames`: the text message and its attachments),
    /// whether a broadcast delivered it or the socket's own `emit`. Called only when an
    /// observer [wants each event](Observer::wants_each_event): a broadcast to thousands of
    /// sockets calls it thousands of times. The counts are in
    /// [`Server::traffic`](crate::Server::traffic) either way.
    fn event_sent(&self, socket: &Socket, frames: &[Frame]) {}
    /// An acknowledgement of `bytes` bytes was queued for a client.
    fn ack_sent(&self, bytes: usize) {}
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
    /// Whether [`Observer::event_sent`] is to be called for every event queued for every
    /// socket (asked once, when the observer is added).
    fn wants_each_event(&self) -> bool {
        false
    }
}

/// The observers of a server: read without a lock on every hook, replaced as a whole when one
/// is added.
#[derive(Default)]
pub(crate) struct Observers {
    /// Whether there is any, shared with each namespace (its sockets read it on every event).
    any: Arc<AtomicBool>,
    /// Whether one wants `event_sent` for each event.
    each_event: AtomicBool,
    list: ArcSwap<Vec<Arc<dyn Observer>>>,
    /// The events queued for clients, counted while anyone observes.
    traffic: Traffic,
    /// Serializes additions (reads never take it).
    adding: Mutex<()>,
}

impl Observers {
    /// Adds an observer.
    pub(crate) fn add(&self, observer: Arc<dyn Observer>) {
        let _adding = self.adding.lock();
        let mut grown: Vec<Arc<dyn Observer>> = self.list.load().iter().cloned().collect();
        if observer.wants_each_event() {
            self.each_event.store(true, Ordering::Release);
        }
        grown.push(observer);
        self.list.store(Arc::new(grown));
        self.any.store(true, Ordering::Release);
    }

    /// Whether any observer is registered (the fast path: nothing to tell).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// The flag telling whether there is any observer.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.any.clone()
    }

    /// The events queued for clients.
    pub(crate) fn traffic(&self) -> &Traffic {
        &self.traffic
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
        self.tell(|observer| observer.ack_sent(bytes));
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
        let bytes = frames.iter().map(Frame::message_len).sum::<usize>();
        self.traffic.add(1, bytes as u64);
        if self.each_event.load(Ordering::Acquire) {
            self.tell(|observer| observer.event_sent(socket, frames));
        }
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
