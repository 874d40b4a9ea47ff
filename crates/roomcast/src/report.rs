//! What the layers under sockets (operators, acknowledgements) report to the server's
//! observers: the hooks that need no socket. The observers themselves (`observe.rs`) sit above
//! sockets, since most of their hooks name one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::adapter::{BroadcastOptions, BroadcastPacket};
use crate::tally::Traffic;

/// Whether the server is observed, and how closely, with what it counts meanwhile: shared by
/// the observers' list and every namespace, read on every event.
#[derive(Debug, Default)]
pub(crate) struct Watching {
    any: AtomicBool,
    each_event: AtomicBool,
    traffic: Traffic,
}

impl Watching {
    /// Whether anyone observes the server.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Whether an observer wants to be told of each event.
    #[inline]
    pub(crate) fn each_event(&self) -> bool {
        self.each_event.load(Ordering::Relaxed)
    }

    /// What the server sends and receives, counted while anyone observes.
    #[inline]
    pub(crate) fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// An observer was added (`each_event`: it wants to be told of each event).
    pub(crate) fn add(&self, each_event: bool) {
        if each_event {
            self.each_event.store(true, Ordering::Release);
        }
        self.any.store(true, Ordering::Release);
    }
}

/// The socket-free part of the server's observers, as the operators and acknowledgements
/// see it.
pub(crate) trait Reports: Send + Sync {
    /// Whether anyone listens (one relaxed load).
    fn any(&self) -> bool;
    /// A broadcast left this process.
    fn broadcast(&self, nsp: &str, packet: &BroadcastPacket, opts: &BroadcastOptions);
    /// An acknowledgement the server waited for did not come in time.
    fn ack_timed_out(&self, nsp: &str);
    /// An acknowledgement of `bytes` bytes was queued for a client (counted).
    fn ack_sent(&self, bytes: usize);
    /// The adapter's request to the other servers ended (`complete`: every answer came).
    fn adapter_request(&self, nsp: &str, request: &'static str, elapsed: Duration, complete: bool);
}
