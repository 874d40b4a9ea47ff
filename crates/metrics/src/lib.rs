//! Prometheus metrics for roomcast, in the text exposition format (OpenMetrics), through the
//! Prometheus project's own client crate.
//!
//! ```no_run
//! # async fn demo() {
//! let io = roomcast::Server::new();
//! let metrics = roomcast_metrics::Metrics::install(&io);
//! // Serve `metrics.response()` at `/metrics` with the application's router.
//! println!("{}", metrics.text());
//! # }
//! ```
//!
//! | metric | type | what |
//! |---|---|---|
//! | `roomcast_connections{transport}` | gauge | open Engine.IO connections |
//! | `roomcast_connections_opened_total{transport}` | counter | connections opened |
//! | `roomcast_upgrades_total` | counter | connections upgraded from polling to WebSocket |
//! | `roomcast_http_errors_total{code}` | counter | requests refused, by Engine.IO error code |
//! | `roomcast_sockets{namespace}` | gauge | connected sockets |
//! | `roomcast_rooms{namespace}` | gauge | rooms with members here (sockets' own rooms aside) |
//! | `roomcast_events_received_total` / `roomcast_events_sent_total` | counter | events in / out (each recipient of a broadcast counts) |
//! | `roomcast_bytes_received_total` / `roomcast_bytes_sent_total` | counter | bytes in / out (events and acknowledgements) |
//! | `roomcast_broadcasts_total` | counter | broadcasts (once each) |
//! | `roomcast_acks_sent_total` | counter | acknowledgements sent |
//! | `roomcast_volatile_dropped_total` | counter | volatile events dropped |
//! | `roomcast_queue_overflows_total` | counter | connections closed for a full queue |
//! | `roomcast_ack_timeouts_total` | counter | acknowledgements waited for in vain |
//! | `roomcast_adapter_requests_total{request}`, `roomcast_adapter_request_seconds{request}`, `roomcast_adapter_request_timeouts_total{request}` | counter, histogram, counter | the adapter's requests to the other servers |
//!
//! Namespace names are user input (dynamic namespaces): the first [`MAX_NAMESPACES`] get a
//! label value of their own, the others share `other`. Rooms are never labels. Counters on the
//! hot path (events, bytes, broadcasts) are per-thread slots summed when scraped.

mod counter;
mod metrics;
mod names;

pub use metrics::{Metrics, CONTENT_TYPE};
pub use names::MAX_NAMESPACES;
