//! UDP datagrams (RFC 768).

use super::checksum;
use super::{ChecksumMode, Error, Result};
use core::net::Ipv4Addr;

/// A UDP header; the payload is not part of the repr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of the payload (UDP length − 8).
    pub payload_len: usize,
}

/// UDP header length.
pub const UDP_HEADER_LEN: usize = 8;

/// IP protocol number of UDP (for the pseudo-header).
const PROTO_UDP: u8 = 17;

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// A read/write view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps a buffer without checking (accessors may panic).
    pub const fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// Wraps a buffer, checking: buffer ≥ 8 (`Truncated`), length field ≥ 8
    /// (`Malformed` "length"), buffer ≥ length field (`Truncated`). Bytes
    /// after the length are allowed (ignored). After this succeeds no accessor
    /// panics.
    pub fn new_checked(buffer: T) -> Result<UdpPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`new_checked`](Self::new_checked).
    pub fn check_len(&self) -> Result<()> {
        let have = self.buffer.as_ref().len();
        if have < UDP_HEADER_LEN {
            return Err(Error::Truncated {
                layer: "udp",
                need: UDP_HEADER_LEN,
                have,
            });
        }
        let len = usize::from(self.len());
        if len < UDP_HEADER_LEN {
            return Err(Error::Malformed {
                layer: "udp",
                field: "length",
                value: len as u32,
            });
        }
        if have < len {
            return Err(Error::Truncated {
                layer: "udp",
                need: len,
                have,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn be16(&self, r: core::ops::Range<usize>) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[r.start], b[r.start + 1]])
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }

    /// Length field (header + payload).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        self.be16(field::LENGTH)
    }

    /// Checksum field (0 = none).
    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }

    /// Whether the checksum verifies (a zero checksum field means "none" and
    /// verifies).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let data = &self.buffer.as_ref()[..usize::from(self.len())];
        checksum::pseudo_header_checksum(src, dst, PROTO_UDP, data) == 0
    }

    /// The checksum the datagram should carry (0 mapped to 0xffff).
    pub fn compute_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let data = &self.buffer.as_ref()[..usize::from(self.len())];
        let mut acc = checksum::pseudo_header_sum(src, dst, PROTO_UDP, data.len() as u32);
        acc = checksum::sum_words(acc, &data[..field::CHECKSUM.start]);
        acc = checksum::sum_words(acc, &data[field::CHECKSUM.end..]);
        match checksum::fold(acc) {
            0 => 0xffff,
            c => c,
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> UdpPacket<&'a T> {
    /// The payload (8 .. length field).
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD..usize::from(self.len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the length field.
    pub fn set_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// The payload (8 .. length field), mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let l = usize::from(self.len());
        &mut self.buffer.as_mut()[field::PAYLOAD..l]
    }

    /// Computes and stores the checksum (a computed 0 is sent as 0xffff).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let c = self.compute_checksum(src, dst);
        self.set_checksum(c);
    }
}

impl UdpRepr {
    /// Parses a datagram sent from `src` to `dst`, verifying the checksum
    /// (a zero checksum means "none" and is accepted).
    pub fn parse<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<UdpRepr> {
        Self::parse_with(packet, src, dst, ChecksumMode::Verify)
    }

    /// Parses a datagram; `mode` says whether to verify the checksum.
    pub fn parse_with<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        mode: ChecksumMode,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum {
                layer: "udp",
                got: packet.checksum(),
                want: packet.compute_checksum(src, dst),
            });
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: usize::from(packet.len()) - UDP_HEADER_LEN,
        })
    }

    /// Header length (8).
    pub const fn header_len(&self) -> usize {
        UDP_HEADER_LEN
    }

    /// Header plus payload length.
    pub const fn buffer_len(&self) -> usize {
        UDP_HEADER_LEN + self.payload_len
    }

    /// Writes the header (length = 8 + `payload_len`), copies `payload` after
    /// it and fills the checksum with the pseudo-header of `src`/`dst` (a
    /// computed 0 is sent as 0xffff). `payload.len()` should equal
    /// `payload_len`; at most `payload_len` bytes are copied. Does not panic
    /// if the buffer holds at least [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(self.buffer_len() as u16);
        packet.set_checksum(0);
        let n = payload.len().min(self.payload_len);
        let end = field::PAYLOAD + n;
        packet.buffer.as_mut()[field::PAYLOAD..end].copy_from_slice(&payload[..n]);
        let data = &packet.buffer.as_ref()[..self.buffer_len()];
        let c = match checksum::pseudo_header_checksum(src, dst, PROTO_UDP, data) {
            0 => 0xffff,
            c => c,
        };
        packet.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

    #[test]
    fn roundtrip() {
        let r = UdpRepr {
            src_port: 4000,
            dst_port: 53,
            payload_len: 5,
        };
        let mut buf = [0u8; 13];
        r.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            b"hello",
        );
        assert_eq!(&buf[..6], &[0x0f, 0xa0, 0x00, 0x35, 0x00, 0x0d]);
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(UdpRepr::parse(&p, SRC, DST).unwrap(), r);
        assert_eq!(p.payload(), b"hello");
        // A zero checksum means "none".
        buf[6] = 0;
        buf[7] = 0;
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(UdpRepr::parse(&p, SRC, DST).unwrap(), r);
    }

    #[test]
    fn zero_sum_sent_as_ffff() {
        // Find a payload whose checksum computes to 0, then check it is sent as 0xffff.
        let r = UdpRepr {
            src_port: 1,
            dst_port: 2,
            payload_len: 2,
        };
        let mut buf = [0u8; 10];
        r.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            &[0, 0],
        );
        let c = u16::from_be_bytes([buf[6], buf[7]]);
        // Make the payload word equal to the checksum: the new sum is 0xffff
        // → checksum 0.
        let mut buf2 = [0u8; 10];
        r.emit(
            &mut UdpPacket::new_unchecked(&mut buf2[..]),
            SRC,
            DST,
            &c.to_be_bytes(),
        );
        assert_eq!(&buf2[6..8], &[0xff, 0xff]);
        let p = UdpPacket::new_checked(&buf2[..]).unwrap();
        assert!(UdpRepr::parse(&p, SRC, DST).is_ok());
    }

    #[test]
    fn errors() {
        let r = UdpRepr {
            src_port: 4000,
            dst_port: 53,
            payload_len: 5,
        };
        let mut buf = [0u8; 13];
        r.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            b"hello",
        );
        assert_eq!(
            UdpPacket::new_checked(&buf[..7]).unwrap_err(),
            Error::Truncated {
                layer: "udp",
                need: 8,
                have: 7
            }
        );
        assert_eq!(
            UdpPacket::new_checked(&buf[..12]).unwrap_err(),
            Error::Truncated {
                layer: "udp",
                need: 13,
                have: 12
            }
        );
        let mut b = buf;
        b[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed {
                layer: "udp",
                field: "length",
                value: 7
            }
        );
        let mut b = buf;
        b[12] ^= 0x20;
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert!(matches!(
            UdpRepr::parse(&p, SRC, DST),
            Err(Error::Checksum { layer: "udp", .. })
        ));
        assert!(UdpRepr::parse_with(&p, SRC, DST, ChecksumMode::Ignore).is_ok());
    }
}
