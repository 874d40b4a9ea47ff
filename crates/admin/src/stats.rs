//! What `server_stats` tells every 2 seconds: this server's id, host, process, uptime, its
//! connections (and how many poll), the events counted since the last stats
//! (`aggregatedEvents`), and its namespaces with their socket counts. Connections are counted
//! here in atomics; packets and bytes are the server's `Traffic` (per-thread slots); each stats
//! reads what was added since the last.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use roomcast::{CloseReason, Server, Traffic};
use serde::Serialize;

/// Every close reason, in the order their counters are kept.
const CLOSE_REASONS: [CloseReason; 6] = [
    CloseReason::TransportClose,
    CloseReason::TransportError,
    CloseReason::PingTimeout,
    CloseReason::ForcedClose,
    CloseReason::ParseError,
    CloseReason::ServerShuttingDown,
];

fn reason_index(reason: CloseReason) -> usize {
    CLOSE_REASONS
        .iter()
        .position(|known| *known == reason)
        .unwrap_or(0)
}

/// The counts since the last stats, and the connections that poll.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    connections: AtomicU64,
    disconnections: [AtomicU64; 6],
    /// What the server sent and received, read as the difference with `drained`.
    traffic: Traffic,
    /// The traffic as the last stats read it (packets in, out, bytes in, out).
    drained: [AtomicU64; 4],
    /// Open connections on polling now.
    polling: AtomicUsize,
}

impl Counters {
    /// Counters that read the events sent from the server's `traffic`.
    pub(crate) fn new(traffic: Traffic) -> Counters {
        Counters {
            traffic,
            ..Counters::default()
        }
    }

    pub(crate) fn connection(&self, polling: bool) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        if polling {
            self.polling.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn upgraded(&self) {
        self.stop_polling();
    }

    pub(crate) fn disconnection(&self, reason: CloseReason, polling: bool) {
        if let Some(count) = self.disconnections.get(reason_index(reason)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        if polling {
            self.stop_polling();
        }
    }

    fn stop_polling(&self) {
        let _ = self
            .polling
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// The counts since the last call, as `aggregatedEvents` at `timestamp` (ms, whole
    /// seconds); counts of zero are left out.
    fn drain(&self, timestamp: u64) -> Vec<AggregatedEvent> {
        let mut events = Vec::new();
        let mut push = |kind: &'static str, sub_type: Option<&'static str>, count: u64| {
            if count > 0 {
                events.push(AggregatedEvent {
                    timestamp,
                    kind,
                    sub_type,
                    count,
                });
            }
        };
        push(
            "rawConnection",
            None,
            self.connections.swap(0, Ordering::Relaxed),
        );
        for (reason, count) in CLOSE_REASONS.iter().zip(&self.disconnections) {
            push(
                "rawDisconnection",
                Some(reason.as_str()),
                count.swap(0, Ordering::Relaxed),
            );
        }
        let traffic = &self.traffic;
        let totals = [
            ("packetsIn", traffic.messages_received()),
            ("packetsOut", traffic.events_sent() + traffic.acks_sent()),
            ("bytesIn", traffic.bytes_received()),
            ("bytesOut", traffic.bytes_sent() + traffic.ack_bytes_sent()),
        ];
        for ((kind, total), drained) in totals.into_iter().zip(&self.drained) {
            push(
                kind,
                None,
                total - drained.swap(total, Ordering::Relaxed).min(total),
            );
        }
        events
    }
}

/// One entry of `aggregatedEvents`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedEvent {
    timestamp: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_type: Option<&'static str>,
    count: u64,
}

/// A namespace and its sockets here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceCount {
    name: String,
    sockets_count: usize,
}

/// The `server_stats` payload, in Node's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerStats {
    server_id: String,
    hostname: String,
    pid: u32,
    uptime: f64,
    clients_count: usize,
    polling_clients_count: usize,
    aggregated_events: Vec<AggregatedEvent>,
    namespaces: Vec<NamespaceCount>,
}

/// Who this server is, for its stats.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) server_id: String,
    hostname: String,
    started: Instant,
}

impl Identity {
    pub(crate) fn new(server_id: Option<String>) -> Identity {
        let hostname = gethostname::gethostname().to_string_lossy().into_owned();
        Identity {
            server_id: server_id.unwrap_or_else(|| hostname.clone()),
            hostname,
            started: Instant::now(),
        }
    }

    /// The stats of `io` now, taking the counts since the last ones.
    pub(crate) fn stats(&self, io: &Server, counters: &Counters) -> ServerStats {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        ServerStats {
            server_id: self.server_id.clone(),
            hostname: self.hostname.clone(),
            pid: std::process::id(),
            uptime: self.started.elapsed().as_secs_f64(),
            clients_count: io.engine().session_count(),
            polling_clients_count: counters.polling.load(Ordering::Relaxed),
            aggregated_events: counters.drain(now_ms - now_ms % 1000),
            namespaces: io
                .namespaces()
                .iter()
                .map(|nsp| NamespaceCount {
                    name: nsp.name().to_owned(),
                    sockets_count: nsp.socket_count(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_drained_as_aggregated_events() {
        let counters = Counters::default();
        counters.connection(true);
        counters.connection(false);
        counters.upgraded();
        counters.disconnection(CloseReason::TransportClose, false);
        let events = serde_json::to_value(counters.drain(5000)).unwrap();
        assert_eq!(
            events,
            serde_json::json!([
                {"timestamp": 5000, "type": "rawConnection", "count": 2},
                {"timestamp": 5000, "type": "rawDisconnection", "subType": "transport close", "count": 1},
            ])
        );
        assert!(counters.drain(6000).is_empty(), "drained");
        assert_eq!(counters.polling.load(Ordering::Relaxed), 0);
    }
}
