//! The Internet checksum (RFC 1071) and the IPv4 pseudo-header.
//!
//! The functions work on a 32-bit one's-complement accumulator so that partial
//! sums over several slices can be combined ([`combine`]) before folding and
//! complementing ([`fold`]). A slice of odd length is padded with a zero byte,
//! so only the last slice of a chain may have odd length.

use core::net::Ipv4Addr;

/// Adds the big-endian 16-bit words of `data` to a running sum (no folding,
/// no complement). An odd trailing byte is treated as the high byte of a word.
pub fn sum_words(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = add_word(acc, u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc = add_word(acc, u16::from_be_bytes([*last, 0]));
    }
    acc
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

    #[test]
    fn all_ones_sum() {
        assert_eq!(checksum(&[0xff; 64]), 0);
        assert_eq!(checksum(&[]), 0xffff);
    }
}
