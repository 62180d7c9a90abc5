//! ICMPv4 messages (RFC 792): echo, destination unreachable, time exceeded,
//! others raw.

use super::checksum;
use super::{ChecksumMode, Error, Result};

/// An ICMPv4 message. `'a` borrows the payload / quoted datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    /// Type 8, code 0.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Type 0, code 0.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Type 3. `next_hop_mtu` is meaningful for code 4 (fragmentation needed,
    /// RFC 1191), zero otherwise. `data` is the quoted IP header + 8 bytes (or more).
    DstUnreachable {
        /// Code (see [`dst_unreachable`]).
        code: u8,
        /// Next-hop MTU (bytes 6..8) for code 4; parsed as 0 for other codes,
        /// and not emitted for them.
        next_hop_mtu: u16,
        /// Quoted datagram.
        data: &'a [u8],
    },
    /// Type 11.
    TimeExceeded {
        /// Code: 0 TTL exceeded in transit, 1 reassembly time exceeded.
        code: u8,
        /// Quoted datagram.
        data: &'a [u8],
    },
    /// Any other type: the 4 bytes after the checksum and the rest, raw.
    Other {
        /// Type (not 0, 3, 8, 11 for a canonical repr).
        msg_type: u8,
        /// Code.
        code: u8,
        /// Bytes 4..8.
        rest_of_header: [u8; 4],
        /// Bytes 8...
        data: &'a [u8],
    },
}

/// ICMP destination-unreachable codes used by the stack.
pub mod dst_unreachable {
    /// Network unreachable.
    pub const NET_UNREACHABLE: u8 = 0;
    /// Host unreachable.
    pub const HOST_UNREACHABLE: u8 = 1;
    /// Protocol unreachable.
    pub const PROTO_UNREACHABLE: u8 = 2;
    /// Port unreachable.
    pub const PORT_UNREACHABLE: u8 = 3;
    /// Fragmentation needed and DF set (RFC 1191: carries the next-hop MTU).
    pub const FRAG_NEEDED: u8 = 4;
}

/// ICMPv4 message type numbers.
pub mod icmp_type {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DST_UNREACHABLE: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
}

/// Length of the ICMPv4 header (type, code, checksum, 4 bytes).
pub const ICMPV4_HEADER_LEN: usize = 8;

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const MTU: Range<usize> = 6..8;
    pub const DATA: usize = 8;
}

/// A read/write view of an ICMPv4 message (the whole IP payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps a buffer without checking (accessors may panic).
    pub const fn new_unchecked(buffer: T) -> Icmpv4Packet<T> {
        Icmpv4Packet { buffer }
    }

    /// Wraps a buffer, checking it holds the 8-byte header. After this
    /// succeeds no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Icmpv4Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the buffer holds the 8-byte header.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buffer.as_ref().len();
        if have < ICMPV4_HEADER_LEN {
            return Err(Error::Truncated {
                layer: "icmpv4",
                need: ICMPV4_HEADER_LEN,
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

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }

    /// Bytes 4..8 (the "rest of header").
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = &self.buffer.as_ref()[field::REST];
        [b[0], b[1], b[2], b[3]]
    }

    /// Echo identifier (bytes 4..6).
    pub fn echo_ident(&self) -> u16 {
        self.be16(field::ECHO_IDENT)
    }

    /// Echo sequence number (bytes 6..8).
    pub fn echo_seq_no(&self) -> u16 {
        self.be16(field::ECHO_SEQNO)
    }

    /// Next-hop MTU (bytes 6..8, RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        self.be16(field::MTU)
    }

    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }

    /// The checksum the message should carry.
    pub fn compute_checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        let acc = checksum::sum_words(0, &b[..field::CHECKSUM.start]);
        checksum::fold(checksum::sum_words(acc, &b[field::CHECKSUM.end..]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv4Packet<&'a T> {
    /// Everything after the 8-byte header.
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::DATA..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets bytes 4..8.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_IDENT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_SEQNO].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the next-hop MTU (bytes 6..8).
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        self.buffer.as_mut()[field::MTU].copy_from_slice(&v.to_be_bytes());
    }

    /// Everything after the header, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a message, verifying its checksum.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        Self::parse_with(packet, ChecksumMode::Verify)
    }

    /// Parses a message; `mode` says whether to verify the checksum.
    /// Echo messages with a code other than 0 are kept as [`Icmpv4Repr::Other`]
    /// so that they round-trip.
    pub fn parse_with<T: AsRef<[u8]> + ?Sized>(
        packet: &Icmpv4Packet<&'a T>,
        mode: ChecksumMode,
    ) -> Result<Icmpv4Repr<'a>> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::Checksum {
                layer: "icmpv4",
                got: packet.checksum(),
                want: packet.compute_checksum(),
            });
        }
        let data = packet.data();
        let code = packet.msg_code();
        Ok(match packet.msg_type() {
            icmp_type::ECHO_REQUEST if code == 0 => Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            icmp_type::ECHO_REPLY if code == 0 => Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            icmp_type::DST_UNREACHABLE => Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu: if code == dst_unreachable::FRAG_NEEDED {
                    packet.next_hop_mtu()
                } else {
                    0
                },
                data,
            },
            icmp_type::TIME_EXCEEDED => Icmpv4Repr::TimeExceeded { code, data },
            msg_type => Icmpv4Repr::Other {
                msg_type,
                code,
                rest_of_header: packet.rest_of_header(),
                data,
            },
        })
    }

    /// The data after the 8-byte header.
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::DstUnreachable { data, .. }
            | Icmpv4Repr::TimeExceeded { data, .. }
            | Icmpv4Repr::Other { data, .. } => data,
        }
    }

    /// Length of the emitted message: 8 + data.
    pub fn buffer_len(&self) -> usize {
        ICMPV4_HEADER_LEN + self.data().len()
    }

    /// Writes the message and its checksum into a buffer of exactly
    /// [`buffer_len`](Self::buffer_len) bytes (the checksum covers the whole
    /// buffer, so a longer buffer must be sliced first).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        let (ty, code, rest) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                (icmp_type::ECHO_REQUEST, 0, echo_rest(ident, seq_no))
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                (icmp_type::ECHO_REPLY, 0, echo_rest(ident, seq_no))
            }
            Icmpv4Repr::DstUnreachable {
                code, next_hop_mtu, ..
            } => {
                let mut rest = [0u8; 4];
                if code == dst_unreachable::FRAG_NEEDED {
                    rest[2..].copy_from_slice(&next_hop_mtu.to_be_bytes());
                }
                (icmp_type::DST_UNREACHABLE, code, rest)
            }
            Icmpv4Repr::TimeExceeded { code, .. } => (icmp_type::TIME_EXCEEDED, code, [0; 4]),
            Icmpv4Repr::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => (msg_type, code, rest_of_header),
        };
        packet.set_msg_type(ty);
        packet.set_msg_code(code);
        packet.set_checksum(0);
        packet.set_rest_of_header(rest);
        let data = self.data();
        packet.data_mut()[..data.len()].copy_from_slice(data);
        let len = self.buffer_len();
        let c = checksum::checksum(&packet.buffer.as_ref()[..len]);
        packet.set_checksum(c);
    }
}

fn echo_rest(ident: u16, seq: u16) -> [u8; 4] {
    let i = ident.to_be_bytes();
    let s = seq.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    // ping -c1: echo request id 0x1234 seq 1, 8 bytes of data.
    fn echo() -> [u8; 16] {
        let mut p = [
            8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h',
        ];
        let c = checksum::checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn echo_roundtrip() {
        let p = echo();
        let r = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&p[..]).unwrap()).unwrap();
        assert_eq!(
            r,
            Icmpv4Repr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: b"abcdefgh"
            }
        );
        let mut buf = [0u8; 16];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, p);
    }

    #[test]
    fn frag_needed() {
        let quoted = [0x45u8; 28];
        let r = Icmpv4Repr::DstUnreachable {
            code: 4,
            next_hop_mtu: 1400,
            data: &quoted,
        };
        let mut buf = [0u8; 36];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[4..8], &[0, 0, 0x05, 0x78]);
        let back = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn errors() {
        let p = echo();
        assert_eq!(
            Icmpv4Packet::new_checked(&p[..7]).unwrap_err(),
            Error::Truncated {
                layer: "icmpv4",
                need: 8,
                have: 7
            }
        );
        let mut b = p;
        b[15] ^= 1;
        let v = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert!(matches!(
            Icmpv4Repr::parse(&v),
            Err(Error::Checksum {
                layer: "icmpv4",
                ..
            })
        ));
        assert!(Icmpv4Repr::parse_with(&v, ChecksumMode::Ignore).is_ok());
        let mut b = p;
        b[1] = 1;
        let v = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert!(matches!(
            Icmpv4Repr::parse_with(&v, ChecksumMode::Ignore).unwrap(),
            Icmpv4Repr::Other {
                msg_type: 8,
                code: 1,
                ..
            }
        ));
    }
}
