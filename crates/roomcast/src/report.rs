//! What the layers under sockets (operators, acknowledgements) report to the server's
//! observers: the hooks that need no socket. The observers themselves (`observe.rs`) sit above
//! sockets, since most of their hooks name one.

use std::time::Duration;

use crate::adapter::{BroadcastOptions, BroadcastPacket};

/// The socket-free part of the server's observers, as the operators and acknowledgements
/// see it.
pub(crate) trait Reports: Send + Sync {
    /// Whether anyone listens (one relaxed load).
    fn any(&self) -> bool;
    /// A broadcast left this process.
    fn broadcast(&self, nsp: &str, packet: &BroadcastPacket, opts: &BroadcastOptions);
    /// An acknowledgement the server waited for did not come in time.
    fn ack_timed_out(&self, nsp: &str);
    /// An acknowledgement of `bytes` bytes was queued for a client.
    fn ack_sent(&self, bytes: usize);
    /// The adapter's request to the other servers ended (`complete`: every answer came).
    fn adapter_request(&self, nsp: &str, request: &'static str, elapsed: Duration, complete: bool);
}
