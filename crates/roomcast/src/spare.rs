//! Giving back what a burst of sockets left in the collections that hold them.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

/// A collection that keeps its capacity when emptied.
pub(crate) trait Spare {
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    fn shrink_to(&mut self, capacity: usize);
}

impl<K: Eq + Hash, V, S: BuildHasher> Spare for HashMap<K, V, S> {
    fn len(&self) -> usize {
        HashMap::len(self)
    }
    fn capacity(&self) -> usize {
        HashMap::capacity(self)
    }
    fn shrink_to(&mut self, capacity: usize) {
        HashMap::shrink_to(self, capacity);
    }
}

impl<T> Spare for VecDeque<T> {
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn capacity(&self) -> usize {
        VecDeque::capacity(self)
    }
    fn shrink_to(&mut self, capacity: usize) {
        VecDeque::shrink_to(self, capacity);
    }
}

/// Shrinks `collection` to twice its entries once they fill less than a quarter of it (a
/// capacity of 256 or less is left alone): a table sized for a burst of 10,000 sockets is given
/// back when they have gone, at one reallocation each time the count halves. Call it after
/// removals.
pub(crate) fn give_back(collection: &mut impl Spare) {
    if collection.capacity() > 4 * collection.len().max(64) {
        collection.shrink_to(collection.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_emptied_after_a_burst_shrinks_and_a_full_one_does_not() {
        let mut map: HashMap<u32, u32> = (0..10_000).map(|k| (k, k)).collect();
        let burst = map.capacity();
        for k in 0..9_000 {
            map.remove(&k);
            give_back(&mut map);
        }
        assert!(map.capacity() <= burst / 4, "{} of {burst}", map.capacity());
        assert!(map.capacity() >= map.len());
        for k in 9_000..10_000 {
            map.remove(&k);
            give_back(&mut map);
        }
        assert!(map.capacity() <= 4 * 64, "{}", map.capacity());

        let mut full: HashMap<u32, u32> = (0..1_000).map(|k| (k, k)).collect();
        let capacity = full.capacity();
        full.remove(&0);
        give_back(&mut full);
        assert_eq!(full.capacity(), capacity);
    }

    #[test]
    fn a_queue_drained_after_a_burst_shrinks() {
        let mut queue: VecDeque<u64> = (0..10_000).collect();
        while queue.len() > 10 {
            queue.pop_front();
            give_back(&mut queue);
        }
        assert!(queue.capacity() <= 4 * 64, "{}", queue.capacity());
        assert_eq!(queue.front(), Some(&9_990));
    }
}
