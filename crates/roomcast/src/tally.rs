//! Counters for the hot path, each thread adding to its own part, summed when read — no lock,
//! and no cache line bounced between the threads of the runtime: a [`Tally`] for an observer's
//! counts (slots on their own cache lines), [`Traffic`] for what the server queues for its
//! clients and receives from them.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// How many slots: threads beyond that share them (still atomically).
const SLOTS: usize = 16;

/// A slot on its own cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot(AtomicU64);

/// A monotonic counter added to from many threads (an [`Observer`](crate::Observer)'s counts of
/// events or bytes); clones share it.
///
/// ```
/// let sent = roomcast::Tally::default();
/// sent.add(3);
/// sent.inc();
/// assert_eq!(sent.get(), 4);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Tally {
    slots: Arc<[Slot; SLOTS]>,
}

/// The slot of the current thread.
fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SLOT.with(|slot| {
        if slot.get() == usize::MAX {
            slot.set(NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS);
        }
        slot.get()
    })
}

impl Tally {
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        if let Some(slot) = self.slots.get(slot()) {
            slot.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// The sum of every slot.
    pub fn get(&self) -> u64 {
        self.slots
            .iter()
            .map(|slot| slot.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// What a [`Traffic`] counts, by index in a lane.
#[derive(Debug, Clone, Copy)]
enum Count {
    EventsSent,
    BytesSent,
    AcksSent,
    AckBytesSent,
    MessagesReceived,
    BytesReceived,
    EventsReceived,
}

const COUNTS: usize = 7;

/// A slot of [`Traffic`]: its counts on one cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Lane([AtomicU64; COUNTS]);

impl Lane {
    #[inline]
    fn add(&self, count: Count, n: u64) {
        if let Some(cell) = self.0.get(count as usize) {
            cell.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// What a server has sent and received, counted while the server has an observer — installing
/// roomcast-metrics or the Admin UI adds one: events queued for clients (each recipient of a
/// broadcast counts), acknowledgements, messages and events received, and their bytes (each
/// message without its Engine.IO packet type, binary attachments whole). Read it with
/// [`Server::traffic`](crate::Server::traffic); clones share it.
///
/// Counting costs a thread-local read and an uncontended atomic add: each thread counts in a
/// slot of its own (on its own cache line), and reading sums the slots.
///
/// ```
/// use std::sync::Arc;
/// use roomcast::{Observer, Server};
///
/// struct Watching;
/// impl Observer for Watching {}
///
/// let io = Server::new();
/// io.observe(Arc::new(Watching));
/// assert_eq!(io.traffic().events_sent(), 0);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Traffic {
    lanes: Arc<[Lane; SLOTS]>,
}

impl Traffic {
    /// Adds to two counts on this thread's slot.
    #[inline]
    fn count(&self, first: (Count, u64), second: (Count, u64)) {
        if let Some(lane) = self.lanes.get(slot()) {
            lane.add(first.0, first.1);
            lane.add(second.0, second.1);
        }
    }

    /// An event of `bytes` bytes was queued for a client.
    #[inline]
    pub(crate) fn event_sent(&self, bytes: usize) {
        self.count((Count::EventsSent, 1), (Count::BytesSent, bytes as u64));
    }

    /// An acknowledgement of `bytes` bytes was queued for a client.
    pub(crate) fn ack_sent(&self, bytes: usize) {
        self.count((Count::AcksSent, 1), (Count::AckBytesSent, bytes as u64));
    }

    /// A message of `bytes` bytes arrived.
    pub(crate) fn message_received(&self, bytes: usize) {
        self.count(
            (Count::MessagesReceived, 1),
            (Count::BytesReceived, bytes as u64),
        );
    }

    /// An event arrived.
    pub(crate) fn event_received(&self) {
        if let Some(lane) = self.lanes.get(slot()) {
            lane.add(Count::EventsReceived, 1);
        }
    }

    fn sum(&self, count: Count) -> u64 {
        self.lanes
            .iter()
            .filter_map(|lane| lane.0.get(count as usize))
            .map(|cell| cell.load(Ordering::Relaxed))
            .sum()
    }

    /// Events queued for clients.
    pub fn events_sent(&self) -> u64 {
        self.sum(Count::EventsSent)
    }

    /// The bytes of those events.
    pub fn bytes_sent(&self) -> u64 {
        self.sum(Count::BytesSent)
    }

    /// Acknowledgements queued for clients.
    pub fn acks_sent(&self) -> u64 {
        self.sum(Count::AcksSent)
    }

    /// The bytes of those acknowledgements.
    pub fn ack_bytes_sent(&self) -> u64 {
        self.sum(Count::AckBytesSent)
    }

    /// Messages received (Socket.IO packets and binary attachments).
    pub fn messages_received(&self) -> u64 {
        self.sum(Count::MessagesReceived)
    }

    /// The bytes of those messages.
    pub fn bytes_received(&self) -> u64 {
        self.sum(Count::BytesReceived)
    }

    /// Events received from clients.
    pub fn events_received(&self) -> u64 {
        self.sum(Count::EventsReceived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_counts() {
        let counter = Tally::default();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counter.inc();
                    }
                    counter.add(10);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counter.get(), 4 * 1010);
    }

    #[test]
    fn traffic_counts_every_thread_apart_from_other_servers() {
        let (traffic, other) = (Traffic::default(), Traffic::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let traffic = traffic.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        traffic.event_sent(10);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        other.event_sent(5);
        other.message_received(7);
        assert_eq!(
            (traffic.events_sent(), traffic.bytes_sent()),
            (4000, 40_000)
        );
        assert_eq!((other.events_sent(), other.bytes_sent()), (1, 5));
        assert_eq!((other.messages_received(), other.bytes_received()), (1, 7));
    }
}
