//! The Internet checksum (RFC 1071) and the IPv4 pseudo-header.
//!
//! The functions work on a 32-bit one's-complement accumulator so that partial
//! sums over several slices can be combined ([`combine`]) before folding and
//! complementing ([`fold`]). A slice of odd length is padded with a zero byte,
//! so only the last slice of a chain may have odd length.

use core::net::Ipv4Addr;

/// Adds the big-endian 16-bit words of `data` to a running sum (folded to
/// 16 bits, not complemented). An odd trailing byte is treated as the
/// high byte of a word.
///
/// RFC 1071 §2(B)/(C): the one's-complement sum may be computed on wider
/// words and folded at the end, so 32 bytes (then 8) are added per iteration (as
/// big-endian 32-bit halves into a 64-bit accumulator, which cannot overflow
/// for any slice shorter than 2^34 bytes, so the adds wrap without a check)
/// instead of one 16-bit word with a fold each. This is the hottest loop of
/// every frame emitted or verified.
pub fn sum_words(acc: u32, data: &[u8]) -> u32 {
    /// The two 32-bit halves of the big-endian 64-bit word at `c[i..i + 8]`.
    #[inline(always)]
    fn halves(c: &[u8; 32], i: usize) -> u64 {
        let w = u64::from_be_bytes([
            c[i],
            c[i + 1],
            c[i + 2],
            c[i + 3],
            c[i + 4],
            c[i + 5],
            c[i + 6],
            c[i + 7],
        ]);
        (w >> 32) + (w & 0xffff_ffff)
    }
    // Fixed-size arrays rather than `chunks_exact`: the indices are then
    // constants, so no bounds check (and, in a fuzz build, no traced
    // comparison) is left per byte.
    let mut wide = u64::from(acc);
    let mut rest = data;
    while let Some((c, r)) = rest.split_first_chunk::<32>() {
        wide = wide
            .wrapping_add(halves(c, 0))
            .wrapping_add(halves(c, 8))
            .wrapping_add(halves(c, 16))
            .wrapping_add(halves(c, 24));
        rest = r;
    }
    while let Some((c, r)) = rest.split_first_chunk::<8>() {
        let w = u64::from_be_bytes(*c);
        wide = wide.wrapping_add((w >> 32) + (w & 0xffff_ffff));
        rest = r;
    }
    while let Some(([hi, lo], r)) = rest.split_first_chunk::<2>() {
        wide = wide.wrapping_add(u64::from(u16::from_be_bytes([*hi, *lo])));
        rest = r;
    }
    if let [last] = rest {
        wide = wide.wrapping_add(u64::from(u16::from_be_bytes([*last, 0])));
    }
    // Fold 64 → 16 bits with end-around carries (RFC 1071 §2(C)).
    while wide > 0xffff {
        wide = (wide & 0xffff) + (wide >> 16);
    }
    wide as u32
}

#[inline]
fn add_word(acc: u32, w: u16) -> u32 {
    // Fold eagerly enough that the u32 never overflows.
    let s = acc + u32::from(w);
    (s & 0xffff) + (s >> 16)
}

/// Sums several partial sums (as returned by [`sum_words`]) together.
pub fn combine(sums: &[u32]) -> u32 {
    let mut acc: u32 = 0;
    for &s in sums {
        let s = (s & 0xffff) + (s >> 16);
        acc = add_word(acc, ((s & 0xffff) + (s >> 16)) as u16);
    }
    acc
}

/// Folds a running sum to 16 bits and returns its one's complement: the value
/// to store in a checksum field.
pub fn fold(acc: u32) -> u16 {
    let mut s = acc;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The Internet checksum of `data`: the value to store in a checksum field
/// whose bytes in `data` are zero. Verifying: `checksum(data) == 0` when the
/// checksum field is included.
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum_words(0, data))
}

/// The running sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768):
/// source, destination, zero, protocol, upper-layer length.
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u32) -> u32 {
    let mut acc = sum_words(0, &src.octets());
    acc = sum_words(acc, &dst.octets());
    acc = add_word(acc, u16::from(protocol));
    acc = add_word(acc, (length >> 16) as u16);
    add_word(acc, length as u16)
}

/// The checksum of an upper-layer (TCP/UDP) segment `data` with the IPv4
/// pseudo-header. With the checksum field zeroed in `data` this is the value
/// to store; with the stored field included a correct segment gives 0.
pub fn pseudo_header_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, data: &[u8]) -> u16 {
    let ph = pseudo_header_sum(src, dst, protocol, data.len() as u32);
    fold(sum_words(ph, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2 → checksum 220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_and_combine() {
        let data = [1u8, 2, 3, 4, 5];
        let whole = checksum(&data);
        let parts = fold(combine(&[
            sum_words(0, &data[..2]),
            sum_words(0, &data[2..]),
        ]));
        assert_eq!(whole, parts);
        assert_eq!(whole, !(0x0102u16 + 0x0304 + 0x0500));
    }

    #[test]
    fn ipv4_header_verifies() {
        // A real IPv4 header with its checksum (0xb861).
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&hdr), 0);
        let mut z = hdr;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }

    /// The wide loop agrees with the plain 16-bit definition on every
    /// length and alignment of the chunking (remainders 0..=7, odd lengths,
    /// and an accumulator carried in).
    #[test]
    fn wide_sum_matches_word_sum() {
        fn reference(mut acc: u32, data: &[u8]) -> u32 {
            for c in data.chunks(2) {
                let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
                acc += u32::from(w);
                acc = (acc & 0xffff) + (acc >> 16);
            }
            acc
        }
        let mut x: u32 = 0x9e37_79b9;
        let data: Vec<u8> = (0..3110)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for len in (0..64).chain([1459, 1460, 1500, 3000, 3099]) {
            for start in 0..3 {
                for acc in [0u32, 1, 0xffff, 0x1_fffe] {
                    let d = &data[start..start + len];
                    assert_eq!(
                        fold(sum_words(acc, d)),
                        fold(reference(acc, d)),
                        "len {len} start {start} acc {acc:#x}"
                    );
                }
            }
        }
        assert_eq!(checksum(&[0xff; 3001]), fold(reference(0, &[0xff; 3001])));
    }

    #[test]
    fn all_ones_sum() {
        assert_eq!(checksum(&[0xff; 64]), 0);
        assert_eq!(checksum(&[]), 0xffff);
    }
}
