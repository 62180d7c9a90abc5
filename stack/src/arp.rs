//! ARP (RFC 826) neighbour cache with resolve-before-send.
//!
//! Entries are static (from the configuration), resolved, or incomplete with
//! a bounded queue of frames waiting for the answer. Incomplete entries are
//! re-probed every `arp_retrans` (Linux retrans_time_ms 1000) and fail after
//! `arp_solicit` requests (Linux mcast_solicit 3), dropping their queue.
//! Not modelled yet: Linux's REACHABLE → STALE → DELAY → PROBE aging
//! (unicast re-probes after base_reachable_time 30 s); resolved entries do
//! not expire.

use crate::time::{Duration, Instant};
use crate::wire::EthernetAddress;
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, VecDeque};

/// Bytes charged per queued frame besides its length (Linux charges an
/// skb's truesize; for a small frame about this much).
pub const PENDING_OVERHEAD: usize = 768;

#[derive(Debug, Clone)]
enum Entry {
    Static(EthernetAddress),
    Resolved(EthernetAddress),
    Incomplete {
        probes: u32,
        next_probe: Instant,
        pending: VecDeque<Vec<u8>>,
        /// Bytes charged for `pending`.
        bytes: usize,
    },
}

/// What the cache asks its owner to do after [`NeighborCache::poll`].
#[derive(Debug, Default)]
pub struct PollResult {
    /// Addresses to send a who-has for.
    pub probes: Vec<Ipv4Addr>,
    /// Addresses whose resolution failed (their queued frames are dropped).
    pub failed: Vec<Ipv4Addr>,
}

/// Outcome of [`NeighborCache::resolve_or_queue`].
#[derive(Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Known: send to this address.
    Known(EthernetAddress),
    /// Queued; send a who-has now (first request).
    QueuedProbe,
    /// Queued behind an outstanding request.
    Queued,
    /// Dropped (cache full).
    Dropped,
}

/// The neighbour cache.
#[derive(Debug, Clone)]
pub struct NeighborCache {
    entries: BTreeMap<Ipv4Addr, Entry>,
    capacity: usize,
    pending_bytes: usize,
    retrans: Duration,
    solicit: u32,
}

impl NeighborCache {
    /// An empty cache.
    pub fn new(capacity: usize, pending_bytes: usize, retrans: Duration, solicit: u32) -> Self {
        NeighborCache {
            entries: BTreeMap::new(),
            capacity,
            pending_bytes,
            retrans,
            solicit,
        }
    }

    /// Add a permanent entry.
    pub fn add_static(&mut self, ip: Ipv4Addr, mac: EthernetAddress) {
        self.entries.insert(ip, Entry::Static(mac));
    }

    /// The hardware address of `ip`, if resolved.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<EthernetAddress> {
        match self.entries.get(&ip) {
            Some(Entry::Static(m)) | Some(Entry::Resolved(m)) => Some(*m),
            _ => None,
        }
    }

    /// Learn `ip` → `mac` (RFC 826 "merge"): update an existing entry, or
    /// create one if `create`. Returns the frames that were waiting for it.
    pub fn learn(&mut self, ip: Ipv4Addr, mac: EthernetAddress, create: bool) -> Vec<Vec<u8>> {
        match self.entries.get_mut(&ip) {
            Some(Entry::Static(_)) => Vec::new(),
            Some(e @ Entry::Resolved(_)) => {
                *e = Entry::Resolved(mac);
                Vec::new()
            }
            Some(e @ Entry::Incomplete { .. }) => {
                let old = core::mem::replace(e, Entry::Resolved(mac));
                match old {
                    Entry::Incomplete { pending, .. } => pending.into_iter().collect(),
                    _ => Vec::new(),
                }
            }
            None => {
                if create && self.make_room() {
                    self.entries.insert(ip, Entry::Resolved(mac));
                }
                Vec::new()
            }
        }
    }

    fn make_room(&mut self) -> bool {
        if self.entries.len() < self.capacity {
            return true;
        }
        // Evict a resolved entry (the lowest address: deterministic).
        let victim = self
            .entries
            .iter()
            .find(|(_, e)| matches!(e, Entry::Resolved(_)))
            .map(|(k, _)| *k);
        match victim {
            Some(k) => {
                self.entries.remove(&k);
                true
            }
            None => false,
        }
    }

    /// Resolve `ip` for `frame`, or queue the frame (bounded in bytes: the
    /// oldest frames are dropped when full, as Linux __neigh_event_send).
    pub fn resolve_or_queue(&mut self, now: Instant, ip: Ipv4Addr, frame: Vec<u8>) -> Resolve {
        if let Some(m) = self.lookup(ip) {
            return Resolve::Known(m);
        }
        let cost = frame.len() + PENDING_OVERHEAD;
        let limit = self.pending_bytes;
        if let Some(Entry::Incomplete { pending, bytes, .. }) = self.entries.get_mut(&ip) {
            // Linux __neigh_event_send: drop the oldest until the new one fits.
            while *bytes + cost > limit {
                let Some(old) = pending.pop_front() else {
                    break;
                };
                *bytes = bytes.saturating_sub(old.len() + PENDING_OVERHEAD);
            }
            if *bytes + cost <= limit {
                *bytes += cost;
                pending.push_back(frame);
            }
            return Resolve::Queued;
        }
        if !self.make_room() {
            return Resolve::Dropped;
        }
        let mut pending = VecDeque::new();
        let mut bytes = 0;
        if cost <= limit {
            pending.push_back(frame);
            bytes = cost;
        }
        self.entries.insert(
            ip,
            Entry::Incomplete {
                probes: 1,
                next_probe: now + self.retrans,
                pending,
                bytes,
            },
        );
        Resolve::QueuedProbe
    }

    /// Run retransmissions and failures due at `now`.
    pub fn poll(&mut self, now: Instant) -> PollResult {
        let mut r = PollResult::default();
        for (ip, e) in self.entries.iter_mut() {
            if let Entry::Incomplete {
                probes, next_probe, ..
            } = e
            {
                if *next_probe <= now {
                    if *probes >= self.solicit {
                        r.failed.push(*ip);
                    } else {
                        *probes += 1;
                        *next_probe = now + self.retrans;
                        r.probes.push(*ip);
                    }
                }
            }
        }
        for ip in &r.failed {
            self.entries.remove(ip);
        }
        r
    }

    /// The earliest retransmission deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| match e {
                Entry::Incomplete { next_probe, .. } => Some(*next_probe),
                _ => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_resolve_fail() {
        // Room for two one-byte frames.
        let mut c = NeighborCache::new(4, 2 * (1 + PENDING_OVERHEAD), Duration::from_secs(1), 3);
        let ip = Ipv4Addr::new(198, 51, 100, 1);
        let t0 = Instant::ZERO;
        assert_eq!(c.resolve_or_queue(t0, ip, vec![1]), Resolve::QueuedProbe);
        assert_eq!(c.resolve_or_queue(t0, ip, vec![2]), Resolve::Queued);
        assert_eq!(c.resolve_or_queue(t0, ip, vec![3]), Resolve::Queued);
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        assert_eq!(c.learn(ip, mac, false), vec![vec![2], vec![3]]);
        assert_eq!(c.lookup(ip), Some(mac));

        let other = Ipv4Addr::new(198, 51, 100, 9);
        c.resolve_or_queue(t0, other, vec![9]);
        assert_eq!(c.poll(Instant::from_secs(1)).probes, vec![other]);
        assert_eq!(c.poll(Instant::from_secs(2)).probes, vec![other]);
        let r = c.poll(Instant::from_secs(3));
        assert_eq!(r.failed, vec![other]);
        assert_eq!(c.poll_at(), None);
    }
}
