//! A map kept as a vector sorted by key, for the host's small tables (the
//! connections, the neighbour cache).
//!
//! Those tables hold a handful of entries and are walked on every
//! `transmit()`/`poll_at()`; a `BTreeMap` walk costs a node traversal per
//! step, and its iterator was the largest single cost left in the
//! `tcp_input` fuzz target's short inputs (callgrind). Iteration order is
//! the key order, as with `BTreeMap`. Lookups are binary searches; an
//! insert or remove moves the entries after it, so tables whose entries are
//! large keep them boxed. Size bounds stay with the callers (the neighbour
//! cache's capacity, the profile's connection limits).

/// A map from `K` to `V`, ascending by key.
#[derive(Debug, Clone)]
pub(crate) struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { items: Vec::new() }
    }
}

impl<K: Ord + Copy, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn find(&self, k: &K) -> Result<usize, usize> {
        self.items.binary_search_by(|(x, _)| x.cmp(k))
    }

    /// The value of `k`.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.find(k).ok().map(|i| &self.items[i].1)
    }

    /// The value of `k`, mutably.
    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.find(k).ok().map(|i| &mut self.items[i].1)
    }

    /// Sets the value of `k`, returning the one it replaces.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => Some(core::mem::replace(&mut self.items[i].1, v)),
            Err(i) => {
                self.items.insert(i, (k, v));
                None
            }
        }
    }

    /// Removes `k`, returning its value.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.find(k).ok().map(|i| self.items.remove(i).1)
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values mutably.
    pub(crate) fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> {
        self.items.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.items.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.items.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutably.
    pub(crate) fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.items.iter_mut().map(|(_, v)| v)
    }

    /// The smallest key greater than `k` (`BTreeMap::range(k + 1..)`'s
    /// first key).
    pub(crate) fn next_key_after(&self, k: &K) -> Option<K> {
        let i = match self.find(k) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        self.items.get(i).map(|(k, _)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Against `BTreeMap` over a deterministic walk of inserts, removes and
    /// lookups (a small LCG picks the operations and keys).
    #[test]
    fn behaves_as_btreemap() {
        let mut v: VecMap<u16, u32> = VecMap::new();
        let mut b: BTreeMap<u16, u32> = BTreeMap::new();
        let mut x: u32 = 12345;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let k = ((x >> 16) % 64) as u16;
            match (x >> 8) % 4 {
                0 | 1 => assert_eq!(v.insert(k, step), b.insert(k, step)),
                2 => assert_eq!(v.remove(&k), b.remove(&k)),
                _ => {
                    if let (Some(a), Some(c)) = (v.get_mut(&k), b.get_mut(&k)) {
                        *a += 1;
                        *c += 1;
                    }
                }
            }
            assert_eq!(v.get(&k), b.get(&k));
            assert_eq!(v.len(), b.len());
            assert_eq!(
                v.next_key_after(&k),
                b.range(k + 1..).next().map(|(k, _)| *k)
            );
        }
        assert!(v.iter().eq(b.iter()));
        assert!(v.keys().rev().eq(b.keys().rev()));
        assert!(v.values().eq(b.values()));
        for (a, c) in v.values_mut().zip(b.values_mut()) {
            *a += 1;
            *c += 1;
        }
        assert!(v
            .iter_mut()
            .map(|(k, x)| (*k, *x))
            .eq(b.iter_mut().map(|(k, x)| (*k, *x))));
    }
}
