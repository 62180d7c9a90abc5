//! IPv4 reassembly (RFC 791 3.2, RFC 1122 3.3.2) with Linux's rules where a
//! script can see them (net/ipv4/ip_fragment.c, net/ipv4/inet_fragment.c):
//!
//! * a datagram is identified by (source, destination, protocol,
//!   identification) (RFC 791);
//! * a fragment that overlaps one already queued, other than an exact
//!   duplicate, discards the whole datagram (RFC 5722 4's rule, applied by
//!   Linux to IPv4 since 4.19); an exact duplicate is ignored;
//! * a non-final fragment's length is trimmed to a multiple of 8 (Linux
//!   ip_frag_queue: `end &= ~7`); a final fragment that contradicts the
//!   length already known, or data past a known end, discards the datagram;
//! * the timer starts with the first fragment and is not restarted (Linux
//!   ipfrag_time 30 s; RFC 1122 3.3.2: MUST time out, 60 s to 120 s
//!   recommended); on expiry an ICMP time exceeded, fragment reassembly, is
//!   sent about the first fragment if it had arrived (RFC 792, RFC 1122
//!   3.3.2);
//! * memory is bounded: every queued fragment is charged its length plus an
//!   overhead, and fragments that would take the total above the limit
//!   (Linux ipfrag_high_thresh, 4 MiB) are dropped; a reassembled datagram
//!   never exceeds 65535 bytes (RFC 791), so nothing an attacker sends
//!   allocates without bound.

use crate::time::{Duration, Instant};
use core::net::Ipv4Addr;
use std::collections::BTreeMap;

/// Bytes charged per queued fragment besides its payload (Linux charges
/// skb truesize).
pub const FRAG_OVERHEAD: usize = 768;

/// Largest IPv4 payload (65535 minus the smallest header).
const MAX_PAYLOAD: usize = 65_535 - 20;

/// The identity of a datagram being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FragKey {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol number.
    pub protocol: u8,
    /// Identification.
    pub ident: u16,
}

#[derive(Debug, Clone)]
struct Queue {
    /// Fragments by offset: (end, bytes).
    parts: BTreeMap<usize, (usize, Vec<u8>)>,
    /// Total payload length, once the final fragment arrived.
    len: Option<usize>,
    /// The first fragment (offset 0) as received: header and data, for an
    /// ICMP error's quote.
    first: Option<Vec<u8>>,
    expires: Instant,
    charged: usize,
}

/// What [`Reassembler::insert`] did with a fragment.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert {
    /// Queued (or an ignored duplicate); the datagram is not complete.
    Pending,
    /// The datagram is complete: its payload.
    Complete(Vec<u8>),
    /// Dropped: over the memory limit, or malformed.
    Dropped,
    /// It overlapped or contradicted what was queued: the whole datagram
    /// is discarded.
    Discarded,
}

/// The reassembly queues of one host.
#[derive(Debug, Clone)]
pub struct Reassembler {
    queues: BTreeMap<FragKey, Queue>,
    timeout: Duration,
    mem_limit: usize,
    mem: usize,
}

impl Reassembler {
    /// Queues that time out after `timeout` and hold at most `mem_limit`
    /// bytes in all (payload plus [`FRAG_OVERHEAD`] per fragment).
    pub fn new(timeout: Duration, mem_limit: usize) -> Reassembler {
        Reassembler {
            queues: BTreeMap::new(),
            timeout,
            mem_limit,
            mem: 0,
        }
    }

    /// Bytes charged for everything queued.
    pub fn memory(&self) -> usize {
        self.mem
    }

    /// Datagrams being reassembled.
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    /// Whether nothing is being reassembled.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    fn kill(&mut self, key: &FragKey) {
        if let Some(q) = self.queues.remove(key) {
            self.mem = self.mem.saturating_sub(q.charged);
        }
    }

    /// Adds the fragment of `key` holding payload bytes `offset..` (`data`;
    /// `more`: More Fragments set). `raw` is the whole fragment as
    /// received (header and data), kept for the first one.
    pub fn insert(
        &mut self,
        now: Instant,
        key: FragKey,
        offset: usize,
        more: bool,
        data: &[u8],
        raw: &[u8],
    ) -> Insert {
        let mut end = offset + data.len();
        if more {
            // Linux: a non-final fragment's length is a multiple of 8.
            end &= !7;
        }
        if end > MAX_PAYLOAD || (more && end <= offset) {
            return Insert::Dropped;
        }
        let data = &data[..end - offset];
        // The first fragment is kept whole for the ICMP quote: charged too.
        let kept = if offset == 0 { raw.len() } else { 0 };
        let cost = data.len() + kept + FRAG_OVERHEAD;
        if !self.queues.contains_key(&key) {
            if self.mem + cost > self.mem_limit {
                return Insert::Dropped;
            }
            self.queues.insert(
                key,
                Queue {
                    parts: BTreeMap::new(),
                    len: None,
                    first: None,
                    expires: now + self.timeout,
                    charged: 0,
                },
            );
        }
        let Some(q) = self.queues.get_mut(&key) else {
            return Insert::Dropped;
        };
        // The final fragment fixes the length; nothing may contradict it.
        if !more {
            if q.len.is_some_and(|l| l != end) || q.parts.values().any(|p| p.0 > end) {
                self.kill(&key);
                return Insert::Discarded;
            }
        } else if q.len.is_some_and(|l| end > l) {
            self.kill(&key);
            return Insert::Discarded;
        }
        // Exact duplicate: ignored. Any other overlap: discard all.
        if q.parts.get(&offset).is_some_and(|p| p.0 == end) {
            return Insert::Pending;
        }
        let overlaps = q
            .parts
            .range(..end)
            .next_back()
            .is_some_and(|(&o, p)| o < end && p.0 > offset)
            || q.parts.range(offset..end).next().is_some();
        if overlaps {
            self.kill(&key);
            return Insert::Discarded;
        }
        if self.mem + cost > self.mem_limit {
            return Insert::Dropped;
        }
        self.mem += cost;
        q.charged += cost;
        q.parts.insert(offset, (end, data.to_vec()));
        if !more {
            q.len = Some(end);
        }
        if offset == 0 {
            q.first = Some(raw.to_vec());
        }
        // Complete when the pieces cover 0..len without a gap.
        let Some(len) = q.len else {
            return Insert::Pending;
        };
        let mut at = 0;
        for (&o, p) in &q.parts {
            if o != at {
                return Insert::Pending;
            }
            at = p.0;
        }
        if at != len {
            return Insert::Pending;
        }
        let q = match self.queues.remove(&key) {
            Some(q) => q,
            None => return Insert::Dropped,
        };
        self.mem = self.mem.saturating_sub(q.charged);
        let mut out = Vec::with_capacity(len);
        for (_, (_, p)) in q.parts {
            out.extend_from_slice(&p);
        }
        Insert::Complete(out)
    }

    /// Drops the datagrams whose time is up at `now`; returns the first
    /// fragment of each that had one (for an ICMP time exceeded).
    pub fn expire(&mut self, now: Instant) -> Vec<Vec<u8>> {
        // Called for every frame; without queues there is nothing to walk.
        if self.queues.is_empty() {
            return Vec::new();
        }
        let due: Vec<FragKey> = self
            .queues
            .iter()
            .filter(|(_, q)| q.expires <= now)
            .map(|(k, _)| *k)
            .collect();
        let mut firsts = Vec::new();
        for k in due {
            if let Some(q) = self.queues.remove(&k) {
                self.mem = self.mem.saturating_sub(q.charged);
                firsts.extend(q.first);
            }
        }
        firsts
    }

    /// The earliest expiry.
    pub fn poll_at(&self) -> Option<Instant> {
        self.queues.values().map(|q| q.expires).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FragKey {
        FragKey {
            src: Ipv4Addr::new(198, 51, 100, 1),
            dst: Ipv4Addr::new(198, 51, 100, 2),
            protocol: 1,
            ident: 7,
        }
    }

    fn r() -> Reassembler {
        Reassembler::new(Duration::from_secs(30), 1 << 20)
    }

    #[test]
    fn in_and_out_of_order() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut a = r();
        let t = Instant::ZERO;
        assert_eq!(
            a.insert(t, key(), 0, true, &data[..48], &[]),
            Insert::Pending
        );
        assert_eq!(
            a.insert(t, key(), 48, false, &data[48..], &[]),
            Insert::Complete(data.clone())
        );
        assert_eq!(a.memory(), 0);
        assert_eq!(
            a.insert(t, key(), 48, true, &data[48..96], &[]),
            Insert::Pending
        );
        assert_eq!(
            a.insert(t, key(), 96, false, &data[96..], &[]),
            Insert::Pending
        );
        assert_eq!(
            a.insert(t, key(), 0, true, &data[..48], &[]),
            Insert::Complete(data)
        );
        assert!(a.is_empty());
    }

    #[test]
    fn overlap_discards_duplicate_ignored() {
        let data = [1u8; 100];
        let mut a = r();
        let t = Instant::ZERO;
        assert_eq!(
            a.insert(t, key(), 0, true, &data[..56], &[]),
            Insert::Pending
        );
        assert_eq!(
            a.insert(t, key(), 0, true, &data[..56], &[]),
            Insert::Pending
        );
        assert_eq!(
            a.insert(t, key(), 48, false, &data[48..], &[]),
            Insert::Discarded
        );
        assert!(a.is_empty());
        assert_eq!(a.memory(), 0);
        // A contradicting final fragment discards too.
        let k = key();
        assert_eq!(a.insert(t, k, 8, false, &data[..40], &[]), Insert::Pending);
        assert_eq!(
            a.insert(t, k, 8, false, &data[..48], &[]),
            Insert::Discarded
        );
        // So does data past a known end.
        assert_eq!(a.insert(t, k, 8, false, &data[..40], &[]), Insert::Pending);
        assert_eq!(a.insert(t, k, 48, true, &data[..8], &[]), Insert::Discarded);
        assert!(a.is_empty());
    }

    #[test]
    fn timeout_reports_first_fragment_only() {
        let data = [1u8; 100];
        let mut a = r();
        let t = Instant::ZERO;
        a.insert(t, key(), 0, true, &data[..56], b"first");
        let other = FragKey { ident: 8, ..key() };
        a.insert(t, other, 56, false, &data[56..], b"second");
        assert_eq!(a.poll_at(), Some(Instant::from_secs(30)));
        assert!(a.expire(Instant::from_secs(29)).is_empty());
        assert_eq!(a.expire(Instant::from_secs(30)), vec![b"first".to_vec()]);
        assert!(a.is_empty());
        assert_eq!(a.memory(), 0);
    }

    #[test]
    fn flood_is_bounded() {
        let mut a = Reassembler::new(Duration::from_secs(30), 64 * 1024);
        let t = Instant::ZERO;
        let data = [0u8; 8];
        for ident in 0..10_000u16 {
            let k = FragKey { ident, ..key() };
            let _ = a.insert(t, k, 8, true, &data, &[]);
            assert!(a.memory() <= 64 * 1024);
        }
        assert!(a.len() < 100);
        // Offsets past 65535 and empty non-final fragments are refused.
        assert_eq!(
            a.insert(t, key(), 65_528, false, &[0; 16], &[]),
            Insert::Dropped
        );
        assert_eq!(a.insert(t, key(), 0, true, &[0; 7], &[]), Insert::Dropped);
    }
}
