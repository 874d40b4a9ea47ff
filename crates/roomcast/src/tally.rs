//! A counter for observers on the hot path: one cache line per slot, each thread adding to its
//! own, summed when read — no lock, and no cache line bounced between the threads of the
//! runtime.

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
}
