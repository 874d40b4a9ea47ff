//! Counters for the hot path, each thread adding to its own part, summed when read — no lock,
//! and no cache line bounced between the threads of the runtime: a [`Tally`] for an observer's
//! counts (slots on their own cache lines), [`Traffic`] for what the server queues for its
//! clients (a lane per thread, written without locked instructions).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

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

/// A thread's counts of one [`Traffic`]: written by that thread alone (a load and a store, no
/// locked instruction), read by anyone.
#[derive(Debug, Default)]
struct Lane {
    events: AtomicU64,
    bytes: AtomicU64,
}

impl Lane {
    #[inline]
    fn add(&self, events: u64, bytes: u64) {
        // One writer: this lane's thread. Readers see each value whole.
        let (e, b) = (&self.events, &self.bytes);
        e.store(e.load(Ordering::Relaxed) + events, Ordering::Relaxed);
        b.store(b.load(Ordering::Relaxed) + bytes, Ordering::Relaxed);
    }
}

thread_local! {
    /// This thread's lane of each `Traffic`, by its id.
    static LANES: RefCell<Vec<Option<Arc<Lane>>>> = const { RefCell::new(Vec::new()) };
}

/// The events a server has queued for its clients and their bytes (each recipient of a
/// broadcast counts, acknowledgements do not), counted while the server has an observer —
/// installing roomcast-metrics or the Admin UI adds one. Read it with
/// [`Server::traffic`](crate::Server::traffic); clones share it.
///
/// Counting costs a thread-local lookup and two plain stores: each thread counts in a lane of
/// its own, and reading sums the lanes.
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
#[derive(Debug, Clone)]
pub struct Traffic {
    inner: Arc<TrafficInner>,
}

#[derive(Debug)]
struct TrafficInner {
    /// Its index in each thread's `LANES`.
    id: usize,
    /// Every thread's lane, for reading.
    lanes: Mutex<Vec<Arc<Lane>>>,
}

impl Default for Traffic {
    fn default() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Traffic {
            inner: Arc::new(TrafficInner {
                id: NEXT.fetch_add(1, Ordering::Relaxed),
                lanes: Mutex::new(Vec::new()),
            }),
        }
    }
}

impl Traffic {
    /// Counts `events` events of `bytes` bytes in all.
    #[inline]
    pub(crate) fn add(&self, events: u64, bytes: u64) {
        LANES.with(|lanes| {
            let mut lanes = lanes.borrow_mut();
            let id = self.inner.id;
            if let Some(Some(lane)) = lanes.get(id) {
                lane.add(events, bytes);
                return;
            }
            let lane = Arc::new(Lane::default());
            lane.add(events, bytes);
            self.inner.lanes.lock().push(lane.clone());
            if lanes.len() <= id {
                lanes.resize(id + 1, None);
            }
            lanes[id] = Some(lane);
        });
    }

    fn sum(&self, count: impl Fn(&Lane) -> u64) -> u64 {
        self.inner.lanes.lock().iter().map(|lane| count(lane)).sum()
    }

    /// Events queued for clients.
    pub fn events_sent(&self) -> u64 {
        self.sum(|lane| lane.events.load(Ordering::Relaxed))
    }

    /// Their bytes (each message without its Engine.IO packet type, binary attachments whole).
    pub fn bytes_sent(&self) -> u64 {
        self.sum(|lane| lane.bytes.load(Ordering::Relaxed))
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
                        traffic.add(1, 10);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        other.add(5, 5);
        assert_eq!(
            (traffic.events_sent(), traffic.bytes_sent()),
            (4000, 40_000)
        );
        assert_eq!((other.events_sent(), other.bytes_sent()), (5, 5));
    }
}
