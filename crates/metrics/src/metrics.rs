//! The metrics of one server: what each one counts, how the server's observer hooks and room
//! events feed them, and their text exposition.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use roomcast::adapter::{BroadcastOptions, BroadcastPacket, RoomEvent};
use roomcast::{
    CloseReason, DisconnectReason, Namespace, Observer, Server, Sid, Socket, Traffic, TransportKind,
};

use crate::counter::{Part, ShardedCounter, TrafficCounter};
use crate::names::NamespaceLabels;

/// A label set of one label.
type Label = Vec<(&'static str, String)>;

fn label(name: &'static str, value: impl Into<String>) -> Label {
    vec![(name, value.into())]
}

fn transport(kind: TransportKind) -> Label {
    label("transport", kind.as_str())
}

/// The metrics of a server; see the crate documentation for each one.
pub struct Metrics {
    registry: Registry,
    connections: Family<Label, Gauge>,
    connections_opened: Family<Label, Counter>,
    upgrades: Counter,
    http_errors: Family<Label, Counter>,
    sockets: Family<Label, Gauge>,
    rooms: Family<Label, Gauge>,
    events_received: TrafficCounter,
    events_sent: TrafficCounter,
    bytes_received: TrafficCounter,
    bytes_sent: TrafficCounter,
    broadcasts: ShardedCounter,
    acks_sent: TrafficCounter,
    volatile_dropped: Counter,
    queue_overflows: Counter,
    ack_timeouts: Counter,
    adapter_requests: Family<Label, Counter>,
    adapter_request_seconds: Family<Label, Histogram>,
    adapter_request_timeouts: Family<Label, Counter>,
    namespaces: NamespaceLabels,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn request_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    fn new(traffic: Traffic) -> Metrics {
        let mut metrics = Metrics {
            registry: Registry::default(),
            connections: Family::default(),
            connections_opened: Family::default(),
            upgrades: Counter::default(),
            http_errors: Family::default(),
            sockets: Family::default(),
            rooms: Family::default(),
            events_received: TrafficCounter::new(traffic.clone(), Part::EventsReceived),
            events_sent: TrafficCounter::new(traffic.clone(), Part::EventsSent),
            bytes_received: TrafficCounter::new(traffic.clone(), Part::BytesReceived),
            bytes_sent: TrafficCounter::new(traffic.clone(), Part::BytesSent),
            broadcasts: ShardedCounter::default(),
            acks_sent: TrafficCounter::new(traffic, Part::AcksSent),
            volatile_dropped: Counter::default(),
            queue_overflows: Counter::default(),
            ack_timeouts: Counter::default(),
            adapter_requests: Family::default(),
            adapter_request_seconds: Family::new_with_constructor(request_histogram),
            adapter_request_timeouts: Family::default(),
            namespaces: NamespaceLabels::default(),
        };
        metrics.register();
        metrics
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "roomcast_connections",
            "Open Engine.IO connections, by transport",
            self.connections.clone(),
        );
        r.register(
            "roomcast_connections_opened",
            "Engine.IO connections opened, by transport",
            self.connections_opened.clone(),
        );
        r.register(
            "roomcast_upgrades",
            "Connections upgraded from polling to WebSocket",
            self.upgrades.clone(),
        );
        r.register(
            "roomcast_http_errors",
            "Requests refused, by Engine.IO error code (0 unknown transport, 1 unknown session id, 2 bad handshake method, 3 bad request, 4 forbidden, 5 unsupported protocol version)",
            self.http_errors.clone(),
        );
        r.register(
            "roomcast_sockets",
            "Connected sockets, by namespace",
            self.sockets.clone(),
        );
        r.register(
            "roomcast_rooms",
            "Rooms with members in this process (sockets' own rooms aside), by namespace",
            self.rooms.clone(),
        );
        r.register(
            "roomcast_events_received",
            "Events received from clients",
            self.events_received.clone(),
        );
        r.register(
            "roomcast_events_sent",
            "Events queued for clients (each recipient of a broadcast counts)",
            self.events_sent.clone(),
        );
        r.register(
            "roomcast_bytes_received",
            "Bytes of the messages received from clients",
            self.bytes_received.clone(),
        );
        r.register(
            "roomcast_bytes_sent",
            "Bytes of the events and acknowledgements queued for clients",
            self.bytes_sent.clone(),
        );
        r.register(
            "roomcast_broadcasts",
            "Broadcasts made by this process (once each, whatever the number of recipients)",
            self.broadcasts.clone(),
        );
        r.register(
            "roomcast_acks_sent",
            "Acknowledgements sent to clients",
            self.acks_sent.clone(),
        );
        r.register(
            "roomcast_volatile_dropped",
            "Volatile events dropped for clients that could not take them right away",
            self.volatile_dropped.clone(),
        );
        r.register(
            "roomcast_queue_overflows",
            "Connections closed because their queue of unsent data was full",
            self.queue_overflows.clone(),
        );
        r.register(
            "roomcast_ack_timeouts",
            "Acknowledgements the server waited for in vain",
            self.ack_timeouts.clone(),
        );
        r.register(
            "roomcast_adapter_requests",
            "Requests of the adapter to the other servers, by request",
            self.adapter_requests.clone(),
        );
        r.register(
            "roomcast_adapter_request_seconds",
            "How long the adapter's requests took, by request",
            self.adapter_request_seconds.clone(),
        );
        r.register(
            "roomcast_adapter_request_timeouts",
            "Requests of the adapter that timed out, by request",
            self.adapter_request_timeouts.clone(),
        );
    }

    /// Starts counting what happens in `io`; scrape with [`Metrics::text`].
    ///
    /// ```
    /// let io = roomcast::Server::new();
    /// let metrics = roomcast_metrics::Metrics::install(&io);
    /// assert!(metrics.text().contains("roomcast_events_received_total 0"));
    /// ```
    pub fn install(io: &Server) -> Arc<Metrics> {
        let metrics = Arc::new(Metrics::new(io.traffic()));
        io.observe(metrics.clone());
        let watcher = Arc::downgrade(&metrics);
        io.on_new_namespace(move |nsp: &Namespace| {
            if let Some(metrics) = watcher.upgrade() {
                metrics.watch_rooms(nsp);
            }
        });
        for nsp in io.namespaces() {
            metrics.watch_rooms(&nsp);
        }
        metrics
    }

    /// Counts the rooms of `nsp` as they are created and deleted.
    fn watch_rooms(self: &Arc<Self>, nsp: &Namespace) {
        let gauge = self
            .rooms
            .get_or_create(&label("namespace", self.namespaces.of(nsp.name())));
        let gauge = gauge.clone();
        nsp.adapter()
            .on_room_event(Arc::new(move |event: &RoomEvent| match event {
                RoomEvent::Create(room) if Sid::parse(room.as_str()).is_none() => {
                    gauge.inc();
                }
                RoomEvent::Delete(room) if Sid::parse(room.as_str()).is_none() => {
                    gauge.dec();
                }
                _ => {}
            }));
    }

    /// The metrics in the Prometheus text exposition format (OpenMetrics).
    pub fn text(&self) -> String {
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::warn!(%error, "metrics not encoded");
        }
        text
    }

    /// An HTTP answer with [`Metrics::text`] and its content type.
    pub fn response(&self) -> http::Response<String> {
        let mut response = http::Response::new(self.text());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(CONTENT_TYPE),
        );
        response
    }
}

/// The content type of [`Metrics::text`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Observer for Metrics {
    fn connection_opened(&self, _id: Sid, kind: TransportKind) {
        self.connections.get_or_create(&transport(kind)).inc();
        self.connections_opened
            .get_or_create(&transport(kind))
            .inc();
    }

    fn connection_upgraded(&self, _id: Sid) {
        self.connections
            .get_or_create(&transport(TransportKind::Polling))
            .dec();
        self.connections
            .get_or_create(&transport(TransportKind::WebSocket))
            .inc();
        self.upgrades.inc();
    }

    fn connection_closed(&self, _id: Sid, kind: TransportKind, _reason: CloseReason) {
        self.connections.get_or_create(&transport(kind)).dec();
    }

    fn request_refused(&self, code: u8) {
        self.http_errors
            .get_or_create(&label("code", code.to_string()))
            .inc();
    }

    fn socket_connected(&self, socket: &Socket) {
        let nsp = self.namespaces.of(socket.ns());
        self.sockets.get_or_create(&label("namespace", nsp)).inc();
    }

    fn socket_disconnected(&self, socket: &Socket, _reason: DisconnectReason) {
        let nsp = self.namespaces.of(socket.ns());
        self.sockets.get_or_create(&label("namespace", nsp)).dec();
    }

    fn broadcast(&self, _nsp: &str, _packet: &BroadcastPacket, _opts: &BroadcastOptions) {
        self.broadcasts.inc();
    }

    fn volatile_dropped(&self, _socket: &Socket) {
        self.volatile_dropped.inc();
    }

    fn queue_overflow(&self) {
        self.queue_overflows.inc();
    }

    fn ack_timed_out(&self, _nsp: &str) {
        self.ack_timeouts.inc();
    }

    fn adapter_request(
        &self,
        _nsp: &str,
        request: &'static str,
        elapsed: Duration,
        complete: bool,
    ) {
        let request = label("request", request);
        self.adapter_requests.get_or_create(&request).inc();
        self.adapter_request_seconds
            .get_or_create(&request)
            .observe(elapsed.as_secs_f64());
        if !complete {
            self.adapter_request_timeouts.get_or_create(&request).inc();
        }
    }
}
