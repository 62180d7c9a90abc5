//! Initial sequence numbers (RFC 6528) and timestamp offsets.
//!
//! RFC 6528 3: `ISN = M + F(localip, localport, remoteip, remoteport, secretkey)`
//! where M is a 4-microsecond timer and F a keyed pseudo-random function. F is
//! SipHash-2-4 here (Linux uses siphash too, in secure_tcp_seq; Linux's clock
//! ticks every 64 ns, we follow the RFC's 4 µs). The timestamp offset is a
//! keyed hash of the 4-tuple too (RFC 7323 5.4 / 7.1: a random offset per
//! connection; Linux 6.18 derives it from the same 4-tuple siphash as the
//! ISN, measured: two connections between the same hosts have unrelated TS
//! clocks).

use crate::time::Instant;
use core::net::Ipv4Addr;

/// SipHash-2-4 of `data` under the 128-bit key `(k0, k1)`.
pub fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v0 = k0 ^ 0x736f_6d65_7073_6575;
    let mut v1 = k1 ^ 0x646f_7261_6e64_6f6d;
    let mut v2 = k0 ^ 0x6c79_6765_6e65_7261;
    let mut v3 = k1 ^ 0x7465_6462_7974_6573;
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let process = |m: u64, v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        let mut v = [*v0, *v1, *v2, *v3 ^ m];
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
        *v0 = v[0];
        *v1 = v[1];
        *v2 = v[2];
        *v3 = v[3];
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        process(u64::from_le_bytes(b), &mut v0, &mut v1, &mut v2, &mut v3);
    }
    let rem = chunks.remainder();
    let mut last = [0u8; 8];
    last[..rem.len()].copy_from_slice(rem);
    let m = u64::from_le_bytes(last) | ((data.len() as u64 & 0xff) << 56);
    process(m, &mut v0, &mut v1, &mut v2, &mut v3);
    let mut v = [v0, v1, v2 ^ 0xff, v3];
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Keyed generator of ISNs and timestamp offsets.
#[derive(Debug, Clone)]
pub struct IsnGenerator {
    key: (u64, u64),
}

impl IsnGenerator {
    /// A generator with the given secret key (taken from the seeded RNG).
    pub fn new(k0: u64, k1: u64) -> IsnGenerator {
        IsnGenerator { key: (k0, k1) }
    }

    /// RFC 6528 3: ISN = M + F(4-tuple, key), M ticking every 4 µs.
    pub fn isn(&self, now: Instant, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> u32 {
        let mut d = [0u8; 12];
        d[0..4].copy_from_slice(&local.0.octets());
        d[4..8].copy_from_slice(&remote.0.octets());
        d[8..10].copy_from_slice(&local.1.to_be_bytes());
        d[10..12].copy_from_slice(&remote.1.to_be_bytes());
        let f = siphash24(self.key.0, self.key.1, &d) as u32;
        let m = (now.total_micros() / 4) as u32;
        f.wrapping_add(m)
    }

    /// Per-connection TSval offset (RFC 7323 7.1; Linux 6.18:
    /// secure_tcp_seq_and_ts_off, from the 4-tuple).
    pub fn ts_offset(&self, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> u32 {
        let mut d = [0u8; 13];
        d[0..4].copy_from_slice(&local.0.octets());
        d[4..8].copy_from_slice(&remote.0.octets());
        d[8..10].copy_from_slice(&local.1.to_be_bytes());
        d[10..12].copy_from_slice(&remote.1.to_be_bytes());
        d[12] = 0x75;
        siphash24(self.key.1, self.key.0, &d) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_reference_vector() {
        // Reference from the SipHash paper: key 00..0f, message 00..0e.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn isn_advances_with_clock_and_depends_on_tuple() {
        let g = IsnGenerator::new(1, 2);
        let l = (Ipv4Addr::new(198, 51, 100, 2), 80);
        let r = (Ipv4Addr::new(198, 51, 100, 1), 40000);
        let a = g.isn(Instant::ZERO, l, r);
        let b = g.isn(Instant::from_micros(400), l, r);
        assert_eq!(b.wrapping_sub(a), 100);
        assert_ne!(a, g.isn(Instant::ZERO, l, (r.0, 40001)));
    }

    #[test]
    fn isn_depends_on_the_secret_key() {
        // RFC 6528 3: F is keyed, so an off-path attacker who knows the
        // 4-tuple and the clock cannot predict the ISN.
        let l = (Ipv4Addr::new(198, 51, 100, 2), 80);
        let r = (Ipv4Addr::new(198, 51, 100, 1), 40000);
        let a = IsnGenerator::new(1, 2).isn(Instant::ZERO, l, r);
        let b = IsnGenerator::new(3, 4).isn(Instant::ZERO, l, r);
        assert_ne!(a, b);
        assert_ne!(
            IsnGenerator::new(1, 2).ts_offset(l, r),
            IsnGenerator::new(3, 4).ts_offset(l, r)
        );
        // Per connection: another port, another TS clock offset.
        let g = IsnGenerator::new(1, 2);
        assert_ne!(g.ts_offset(l, r), g.ts_offset(l, (r.0, 40001)));
    }
}
