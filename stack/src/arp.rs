//! ARP (RFC 826) neighbour cache with resolve-before-send.
//!
//! Entries are static (from the configuration), resolved, or incomplete with
//! a bounded queue of frames waiting for the answer. Incomplete entries are
//! re-probed every `arp_retrans` (Linux retrans_time_ms 1000) and fail after
//! `arp_solicit` requests (Linux mcast_solicit 3), dropping their queue.
//!
//! Resolved entries age as Linux's neighbour states do (RFC 1122 2.3.2.1
//! asks for a way to flush out-of-date entries; Linux follows RFC 4861 7.3's
//! Neighbor Unreachability Detection for ARP too): an answer to our own
//! request (a reply unicast to us) makes an entry REACHABLE for
//! `reachable` (Linux base_reachable_time 30 s, randomized by Linux between
//! 15 and 45 s; fixed here), anything else learnt is STALE; a STALE entry
//! that is used goes to DELAY, and `delay_probe` (Linux
//! delay_first_probe_time 5 s) later, unconfirmed, to PROBE: up to
//! `ucast_solicit` (3) unicast who-has to the cached MAC `arp_retrans`
//! apart, after which the entry is dropped and the next packet resolves
//! anew with broadcasts (measured on Linux 6.18: probes at 5.2, 6.2, 7.3 s
//! after the first use). Upper layers confirm reachability
//! ([`NeighborCache::confirm`]): Linux TCP does when ACKs advance; the host
//! approximates that with every TCP segment received from the neighbour.
//! Not modelled: Linux's locktime (1 s during which a non-gratuitous ARP does not
//! override an entry).

use crate::time::{Duration, Instant};
use crate::vecmap::VecMap;
use crate::wire::EthernetAddress;
use core::net::Ipv4Addr;
use std::collections::VecDeque;

/// Bytes charged per queued frame besides its length (Linux charges an
/// skb's truesize; for a small frame about this much).
pub const PENDING_OVERHEAD: usize = 768;

/// Neighbour Unreachability Detection state of a resolved entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nud {
    /// Confirmed recently, until the instant given.
    Reachable(Instant),
    /// Not confirmed; used as is, and checked when next used.
    Stale,
    /// Used while stale; probed unless confirmed by the instant given.
    Delay(Instant),
    /// Unicast probes sent so far, and when the next is due.
    Probe(u32, Instant),
}

#[derive(Debug, Clone)]
enum Entry {
    Static(EthernetAddress),
    Resolved(EthernetAddress, Nud),
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
    /// Unicast who-has to send: re-validation of a cached entry.
    pub unicast_probes: Vec<(Ipv4Addr, EthernetAddress)>,
}

/// Aging parameters of resolved entries (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Aging {
    /// How long a confirmed entry stays REACHABLE.
    pub reachable: Duration,
    /// DELAY before the first unicast probe.
    pub delay_probe: Duration,
    /// Unicast probes before the entry is dropped.
    pub ucast_solicit: u32,
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
    entries: VecMap<Ipv4Addr, Entry>,
    capacity: usize,
    pending_bytes: usize,
    retrans: Duration,
    solicit: u32,
    aging: Aging,
}

impl NeighborCache {
    /// An empty cache.
    pub fn new(capacity: usize, pending_bytes: usize, retrans: Duration, solicit: u32) -> Self {
        NeighborCache {
            entries: VecMap::new(),
            capacity,
            pending_bytes,
            retrans,
            solicit,
            aging: Aging {
                reachable: Duration::from_secs(30),
                delay_probe: Duration::from_secs(5),
                ucast_solicit: 3,
            },
        }
    }

    /// The same cache with other aging parameters.
    pub fn with_aging(mut self, aging: Aging) -> Self {
        self.aging = aging;
        self
    }

    /// Reachability confirmed by an upper layer (RFC 4861 7.3.1): a resolved
    /// entry becomes REACHABLE again.
    pub fn confirm(&mut self, now: Instant, ip: Ipv4Addr) {
        if let Some(Entry::Resolved(_, n)) = self.entries.get_mut(&ip) {
            *n = Nud::Reachable(now + self.aging.reachable);
        }
    }

    /// The NUD state of `ip`, if it is a resolved (not static) entry.
    pub fn state(&self, ip: Ipv4Addr) -> Option<Nud> {
        match self.entries.get(&ip) {
            Some(Entry::Resolved(_, n)) => Some(*n),
            _ => None,
        }
    }

    /// Add a permanent entry.
    pub fn add_static(&mut self, ip: Ipv4Addr, mac: EthernetAddress) {
        self.entries.insert(ip, Entry::Static(mac));
    }

    /// The hardware address of `ip`, if resolved.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<EthernetAddress> {
        match self.entries.get(&ip) {
            Some(Entry::Static(m)) | Some(Entry::Resolved(m, _)) => Some(*m),
            _ => None,
        }
    }

    /// Learn `ip` → `mac` (RFC 826 "merge"): update an existing entry, or
    /// create one if `create`. `confirmed`: the ARP was a reply unicast to
    /// us (the answer to our request), which makes the entry REACHABLE;
    /// anything else makes a new or changed entry STALE, and leaves an
    /// unchanged one as it was (Linux __neigh_update). Returns the frames
    /// that were waiting for it.
    pub fn learn(
        &mut self,
        now: Instant,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        create: bool,
        confirmed: bool,
    ) -> Vec<Vec<u8>> {
        let fresh = if confirmed {
            Nud::Reachable(now + self.aging.reachable)
        } else {
            Nud::Stale
        };
        match self.entries.get_mut(&ip) {
            Some(Entry::Static(_)) => Vec::new(),
            Some(Entry::Resolved(m, n)) => {
                if confirmed || *m != mac {
                    *m = mac;
                    *n = fresh;
                }
                Vec::new()
            }
            Some(e @ Entry::Incomplete { .. }) => {
                let old = core::mem::replace(e, Entry::Resolved(mac, fresh));
                match old {
                    Entry::Incomplete { pending, .. } => pending.into_iter().collect(),
                    _ => Vec::new(),
                }
            }
            None => {
                if create && self.make_room() {
                    self.entries.insert(ip, Entry::Resolved(mac, Nud::Stale));
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
            .find(|(_, e)| matches!(e, Entry::Resolved(..)))
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
        let delay = now + self.aging.delay_probe;
        match self.entries.get_mut(&ip) {
            Some(Entry::Static(m)) => return Resolve::Known(*m),
            Some(Entry::Resolved(m, n)) => {
                // Using a STALE entry starts the DELAY timer.
                if *n == Nud::Stale {
                    *n = Nud::Delay(delay);
                }
                return Resolve::Known(*m);
            }
            _ => {}
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

    /// Run retransmissions, aging and failures due at `now`.
    pub fn poll(&mut self, now: Instant) -> PollResult {
        let mut r = PollResult::default();
        let mut dead = Vec::new();
        for (ip, e) in self.entries.iter_mut() {
            match e {
                Entry::Incomplete {
                    probes, next_probe, ..
                } if *next_probe <= now => {
                    if *probes >= self.solicit {
                        r.failed.push(*ip);
                    } else {
                        *probes += 1;
                        *next_probe = now + self.retrans;
                        r.probes.push(*ip);
                    }
                }
                Entry::Resolved(m, n) => match *n {
                    Nud::Reachable(t) if t <= now => *n = Nud::Stale,
                    Nud::Delay(t) if t <= now => {
                        *n = Nud::Probe(1, now + self.retrans);
                        r.unicast_probes.push((*ip, *m));
                    }
                    Nud::Probe(k, t) if t <= now => {
                        if k >= self.aging.ucast_solicit {
                            dead.push(*ip);
                        } else {
                            *n = Nud::Probe(k + 1, now + self.retrans);
                            r.unicast_probes.push((*ip, *m));
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        for ip in r.failed.iter().chain(&dead) {
            self.entries.remove(ip);
        }
        r
    }

    /// The earliest retransmission or aging deadline.
    pub fn poll_at(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| match e {
                Entry::Incomplete { next_probe, .. } => Some(*next_probe),
                Entry::Resolved(_, Nud::Reachable(t) | Nud::Delay(t) | Nud::Probe(_, t)) => {
                    Some(*t)
                }
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
        assert_eq!(c.learn(t0, ip, mac, false, true), vec![vec![2], vec![3]]);
        assert_eq!(c.lookup(ip), Some(mac));

        let other = Ipv4Addr::new(198, 51, 100, 9);
        c.resolve_or_queue(t0, other, vec![9]);
        assert_eq!(c.poll(Instant::from_secs(1)).probes, vec![other]);
        assert_eq!(c.poll(Instant::from_secs(2)).probes, vec![other]);
        let r = c.poll(Instant::from_secs(3));
        assert_eq!(r.failed, vec![other]);
        // Only the REACHABLE timer of the first entry is left.
        assert_eq!(c.poll_at(), Some(Instant::from_secs(30)));
        assert_eq!(c.lookup(other), None);
    }

    #[test]
    fn stale_delay_probe_then_gone() {
        let mut c = NeighborCache::new(4, 4096, Duration::from_secs(1), 3);
        let ip = Ipv4Addr::new(198, 51, 100, 1);
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let t = |ms: i64| Instant::from_micros(ms * 1000);
        // Learnt from their request: STALE, no timer.
        c.learn(t(0), ip, mac, true, false);
        assert_eq!(c.state(ip), Some(Nud::Stale));
        assert_eq!(c.poll_at(), None);
        // Used: DELAY for 5 s, then three unicast probes 1 s apart.
        assert_eq!(c.resolve_or_queue(t(10), ip, vec![1]), Resolve::Known(mac));
        assert_eq!(c.state(ip), Some(Nud::Delay(t(5010))));
        assert!(c.poll(t(5009)).unicast_probes.is_empty());
        assert_eq!(c.poll(t(5010)).unicast_probes, vec![(ip, mac)]);
        assert_eq!(c.poll(t(6010)).unicast_probes, vec![(ip, mac)]);
        assert_eq!(c.poll(t(7010)).unicast_probes, vec![(ip, mac)]);
        // Still usable while probing; gone after the last one.
        assert_eq!(c.lookup(ip), Some(mac));
        let r = c.poll(t(8010));
        assert!(r.unicast_probes.is_empty() && r.failed.is_empty());
        assert_eq!(c.lookup(ip), None);
        assert_eq!(
            c.resolve_or_queue(t(9000), ip, vec![2]),
            Resolve::QueuedProbe
        );
        // Our request answered: REACHABLE for 30 s, then STALE.
        c.learn(t(9010), ip, mac, false, true);
        assert_eq!(c.state(ip), Some(Nud::Reachable(t(39010))));
        c.poll(t(39010));
        assert_eq!(c.state(ip), Some(Nud::Stale));
        // The same MAC unconfirmed leaves the state; a new MAC makes it STALE.
        c.resolve_or_queue(t(40000), ip, vec![3]);
        c.learn(t(40001), ip, mac, false, false);
        assert_eq!(c.state(ip), Some(Nud::Delay(t(45000))));
        let other = EthernetAddress([2, 0, 0, 0, 0, 3]);
        c.learn(t(40002), ip, other, false, false);
        assert_eq!(c.state(ip), Some(Nud::Stale));
        assert_eq!(c.lookup(ip), Some(other));
    }
}
