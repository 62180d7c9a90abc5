//! ICMP error generation policy: Linux's per-destination rate limit
//! (inet_peer_xrlim_allow with net.ipv4.icmp_ratelimit = 1000 ms and
//! XRLIM_BURST_FACTOR 6: a token bucket of 6 s refilled in real time, each
//! error costing 1 s, starting full). Applies to the types in
//! net.ipv4.icmp_ratemask (destination unreachable, source quench, time
//! exceeded, parameter problem), not to echo replies.
//!
//! Measured on Linux 6.18 (UDP to a closed port): type 3 code 3, TOS 0xc0,
//! DF clear, TTL 64, quoting the datagram up to a 576-byte reply; 7 errors
//! for a quick burst of 13 datagrams, then about one per second.

use crate::time::{Duration, Instant};
use core::net::Ipv4Addr;
use std::collections::BTreeMap;

/// Largest IP datagram an ICMP error may form (RFC 1812 4.3.2.3; Linux
/// icmp_send: 576 bytes).
pub const ICMP_ERROR_MAX_LEN: usize = 576;

/// TOS of ICMP errors (Linux icmp_send: IPTOS_PREC_INTERNETCONTROL).
pub const ICMP_ERROR_TOS: u8 = 0xc0;

/// Per-destination token buckets.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    peers: BTreeMap<Ipv4Addr, (Duration, Instant)>,
    cost: Duration,
    burst: i64,
    capacity: usize,
}

impl RateLimiter {
    /// A limiter charging `cost` per message with a bucket of `burst * cost`,
    /// tracking at most `capacity` destinations.
    pub fn new(cost: Duration, burst: i64, capacity: usize) -> RateLimiter {
        RateLimiter {
            peers: BTreeMap::new(),
            cost,
            burst,
            capacity,
        }
    }

    /// Whether an error to `dst` may be sent at `now` (and charge it).
    pub fn allow(&mut self, now: Instant, dst: Ipv4Addr) -> bool {
        if self.cost <= Duration::ZERO {
            return true;
        }
        let max = self.cost.saturating_mul(self.burst);
        if !self.peers.contains_key(&dst) && self.peers.len() >= self.capacity {
            // Forget the destination seen longest ago.
            if let Some(k) = self
                .peers
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            {
                self.peers.remove(&k);
            }
        }
        let (tokens, last) = self.peers.get(&dst).copied().unwrap_or((max, now));
        let tokens = (tokens + (now - last).max(Duration::ZERO)).min(max);
        let (tokens, ok) = if tokens >= self.cost {
            (tokens - self.cost, true)
        } else {
            (tokens, false)
        };
        self.peers.insert(dst, (tokens, now));
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_second() {
        let mut r = RateLimiter::new(Duration::from_secs(1), 6, 8);
        let d = Ipv4Addr::new(198, 51, 100, 1);
        let t0 = Instant::from_secs(100);
        let sent = (0..10).filter(|_| r.allow(t0, d)).count();
        assert_eq!(sent, 6);
        assert!(!r.allow(t0 + Duration::from_millis(999), d));
        assert!(r.allow(t0 + Duration::from_millis(1000), d));
        assert!(r.allow(t0, Ipv4Addr::new(198, 51, 100, 9)));
    }
}
