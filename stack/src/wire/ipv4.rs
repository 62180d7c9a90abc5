//! IPv4 packets (RFC 791). Options are kept raw.

use super::checksum;
use super::{ChecksumMode, Error, Result};
use core::fmt;
use core::net::Ipv4Addr;

/// IP protocol numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    /// 1.
    Icmp,
    /// 6.
    Tcp,
    /// 17.
    Udp,
    /// Any other protocol number.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(v: IpProtocol) -> u8 {
        match v {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Unknown(other) => other,
        }
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Icmp => write!(f, "ICMP"),
            IpProtocol::Tcp => write!(f, "TCP"),
            IpProtocol::Udp => write!(f, "UDP"),
            IpProtocol::Unknown(v) => write!(f, "ip-proto-{v}"),
        }
    }
}

/// Maximum length of IPv4 options (IHL 15 → 60-byte header).
pub const IPV4_MAX_OPTIONS_LEN: usize = 40;

/// An IPv4 header. Options are kept raw (length-checked: a multiple of 4, at
/// most 40 bytes). `payload_len` is total length minus header length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// DSCP and ECN, the whole second byte.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// DF flag.
    pub dont_frag: bool,
    /// MF flag.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Raw options (between the 20-byte fixed header and the payload).
    pub options: Ipv4Options,
    /// Total length minus header length.
    pub payload_len: usize,
}

/// Raw IPv4 options, at most 40 bytes, without allocation.
///
/// Only `bytes[..len]` is meaningful: equality ignores the bytes after `len`.
/// Parsed options always have `len` a multiple of 4 (the IHL granularity);
/// `emit` pads a `len` that is not with zeros (End of Option List).
#[derive(Debug, Clone, Copy, Eq)]
pub struct Ipv4Options {
    /// Number of meaningful bytes in `bytes` (≤ 40).
    pub len: u8,
    /// The option bytes, `bytes[..len]`.
    pub bytes: [u8; IPV4_MAX_OPTIONS_LEN],
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options {
            len: 0,
            bytes: [0; IPV4_MAX_OPTIONS_LEN],
        }
    }
}

impl PartialEq for Ipv4Options {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Ipv4Options {
    /// No options.
    pub const fn new() -> Ipv4Options {
        Ipv4Options {
            len: 0,
            bytes: [0; IPV4_MAX_OPTIONS_LEN],
        }
    }

    /// Options from raw bytes; `Error::Malformed` if longer than 40 bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Ipv4Options> {
        if data.len() > IPV4_MAX_OPTIONS_LEN {
            return Err(Error::Malformed {
                layer: "ipv4",
                field: "options length",
                value: data.len() as u32,
            });
        }
        let mut o = Ipv4Options::new();
        o.bytes[..data.len()].copy_from_slice(data);
        o.len = data.len() as u8;
        Ok(o)
    }

    /// The meaningful option bytes (clamped to 40).
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(IPV4_MAX_OPTIONS_LEN)]
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Length on the wire: `len` rounded up to a multiple of 4 (≤ 40).
    pub fn wire_len(&self) -> usize {
        (self.as_slice().len() + 3) & !3
    }
}

/// Minimum IPv4 header length.
pub const IPV4_HEADER_LEN: usize = 20;

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(b: &[u8], r: core::ops::Range<usize>) -> u16 {
    u16::from_be_bytes([b[r.start], b[r.start + 1]])
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking (accessors may panic).
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer, checking lengths (see [`check_len`](Self::check_len)).
    /// After this succeeds no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks: buffer ≥ 20 bytes (`Truncated`), IHL ≥ 5 (`Malformed` "ihl"),
    /// total length ≥ header length (`Malformed` "total length"), buffer ≥ total
    /// length (`Truncated`). Bytes after the total length are allowed.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buffer.as_ref().len();
        if have < IPV4_HEADER_LEN {
            return Err(Error::Truncated {
                layer: "ipv4",
                need: IPV4_HEADER_LEN,
                have,
            });
        }
        let ihl = self.ihl();
        if ihl < 5 {
            return Err(Error::Malformed {
                layer: "ipv4",
                field: "ihl",
                value: ihl.into(),
            });
        }
        let hlen = self.header_len();
        let total = usize::from(self.total_len());
        if total < hlen {
            return Err(Error::Malformed {
                layer: "ipv4",
                field: "total length",
                value: total as u32,
            });
        }
        if have < total {
            return Err(Error::Truncated {
                layer: "ipv4",
                need: total,
                have,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version field (4 bits).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// IHL field in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// Type of service / DSCP+ECN byte.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length field.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// The reserved (evil) bit.
    pub fn reserved_flag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x8000 != 0
    }

    /// DF flag.
    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x4000 != 0
    }

    /// MF flag.
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff) << 3
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The options bytes (between byte 20 and the header length).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[IPV4_HEADER_LEN..self.header_len()]
    }

    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.buffer.as_ref()[..self.header_len()]) == 0
    }

    /// The checksum the header should carry.
    pub fn compute_checksum(&self) -> u16 {
        let h = &self.buffer.as_ref()[..self.header_len()];
        let acc = checksum::sum_words(0, &h[..field::CHECKSUM.start]);
        checksum::fold(checksum::sum_words(acc, &h[field::CHECKSUM.end..]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv4Packet<&'a T> {
    /// The payload: bytes from the header length to the total length
    /// (trailing link-layer padding excluded).
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..usize::from(self.total_len())]
    }
}

/// The flags-and-fragment-offset field (RFC 791 3.1): DF 0x4000, MF 0x2000,
/// the offset in 8-octet units below them.
fn flags_and_frag_offset(dont_frag: bool, more_frags: bool, offset: u16) -> u16 {
    let mut v = (offset >> 3) & 0x1fff;
    if dont_frag {
        v |= 0x4000;
    }
    if more_frags {
        v |= 0x2000;
    }
    v
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets version (4 bits).
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets IHL in 32-bit words (4 bits).
    pub fn set_ihl(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | (v & 0x0f);
    }

    /// Sets the TOS byte.
    pub fn set_tos(&mut self, v: u8) {
        self.buffer.as_mut()[field::TOS] = v;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets flags (reserved, DF, MF) and the fragment offset in bytes
    /// (truncated to a multiple of 8).
    pub fn set_flags_and_frag_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = flags_and_frag_offset(dont_frag, more_frags, offset);
        self.buffer.as_mut()[field::FLG_OFF].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.into();
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        self.set_checksum(c);
    }

    /// The options bytes, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[IPV4_HEADER_LEN..h]
    }

    /// The payload (header length .. total length), mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (h, t) = (self.header_len(), usize::from(self.total_len()));
        &mut self.buffer.as_mut()[h..t]
    }
}

impl Ipv4Repr {
    /// An unfragmented header without options, TOS 0, ID 0, DF clear; set
    /// the other fields with struct-update syntax. `payload_len` is derived
    /// again when emitted through [`FrameRepr`](super::FrameRepr).
    pub fn unfragmented(
        src_addr: Ipv4Addr,
        dst_addr: Ipv4Addr,
        protocol: IpProtocol,
        ttl: u8,
        payload_len: usize,
    ) -> Ipv4Repr {
        Ipv4Repr {
            src_addr,
            dst_addr,
            protocol,
            tos: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            ttl,
            options: Ipv4Options::default(),
            payload_len,
        }
    }

    /// Parses a packet, verifying the header checksum.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        Self::parse_with(packet, ChecksumMode::Verify)
    }

    /// Parses a packet; `mode` says whether to verify the header checksum.
    ///
    /// Errors: the length checks of [`Ipv4Packet::check_len`], version ≠ 4
    /// (`Malformed` "version"), bad checksum (`Checksum`). The reserved flag is
    /// ignored.
    pub fn parse_with<T: AsRef<[u8]>>(
        packet: &Ipv4Packet<T>,
        mode: ChecksumMode,
    ) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::Malformed {
                layer: "ipv4",
                field: "version",
                value: packet.version().into(),
            });
        }
        if mode == ChecksumMode::Verify && !packet.verify_checksum() {
            return Err(Error::Checksum {
                layer: "ipv4",
                got: packet.checksum(),
                want: packet.compute_checksum(),
            });
        }
        let opts = packet.options();
        let mut options = Ipv4Options::new();
        options.bytes[..opts.len()].copy_from_slice(opts);
        options.len = opts.len() as u8;
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            ttl: packet.ttl(),
            options,
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
        })
    }

    /// Header length: 20 + options rounded up to 4.
    pub fn header_len(&self) -> usize {
        IPV4_HEADER_LEN + self.options.wire_len()
    }

    /// Header plus payload length (the total length field).
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Whether this is a fragment (MF set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Writes the header (version 4, IHL, total length = header + `payload_len`
    /// truncated to 16 bits, flags, options padded with zeros, checksum) into a
    /// packet of at least [`header_len`](Self::header_len) bytes. The payload is
    /// the caller's.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        let hlen = self.header_len();
        let [l0, l1] = (self.buffer_len() as u16).to_be_bytes();
        let [i0, i1] = self.ident.to_be_bytes();
        let [f0, f1] =
            flags_and_frag_offset(self.dont_frag, self.more_frags, self.frag_offset).to_be_bytes();
        let [s0, s1, s2, s3] = self.src_addr.octets();
        let [d0, d1, d2, d3] = self.dst_addr.octets();
        // The fixed header built whole and copied once, as in TcpRepr::emit
        // (the fields as the `set_*` methods write them; checksum 0 until
        // computed).
        let header = [
            0x40 | ((hlen / 4) as u8 & 0x0f),
            self.tos,
            l0,
            l1,
            i0,
            i1,
            f0,
            f1,
            self.ttl,
            self.protocol.into(),
            0,
            0,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ];
        packet.buffer.as_mut()[..IPV4_HEADER_LEN].copy_from_slice(&header);
        let opts = self.options.as_slice();
        let dst = &mut packet.buffer.as_mut()[IPV4_HEADER_LEN..hlen];
        dst[..opts.len()].copy_from_slice(opts);
        dst[opts.len()..].fill(0);
        let c = checksum::checksum(&packet.buffer.as_ref()[..hlen]);
        packet.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 198.51.100.1 → 198.51.100.2, TCP, DF, TTL 64, 4 payload bytes, + 2 bytes
    // of link padding.
    fn packet() -> [u8; 26] {
        let mut p = [
            0x45, 0x00, 0x00, 0x18, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 198, 51, 100,
            1, 198, 51, 100, 2, 1, 2, 3, 4, 0, 0,
        ];
        let c = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn parse_emit() {
        let p = packet();
        let v = Ipv4Packet::new_checked(&p[..]).unwrap();
        let r = Ipv4Repr::parse(&v).unwrap();
        assert_eq!(r.src_addr, Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(r.protocol, IpProtocol::Tcp);
        assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
        assert_eq!(r.payload_len, 4);
        assert_eq!(v.payload(), &[1, 2, 3, 4]);
        let mut buf = [0u8; 24];
        r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        buf[20..].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(buf[..], p[..24]);
    }

    #[test]
    fn errors() {
        let p = packet();
        assert_eq!(
            Ipv4Packet::new_checked(&p[..19]).unwrap_err(),
            Error::Truncated {
                layer: "ipv4",
                need: 20,
                have: 19
            }
        );
        assert_eq!(
            Ipv4Packet::new_checked(&p[..23]).unwrap_err(),
            Error::Truncated {
                layer: "ipv4",
                need: 24,
                have: 23
            }
        );
        let mut b = p;
        b[0] = 0x43;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed {
                layer: "ipv4",
                field: "ihl",
                value: 3
            }
        );
        let mut b = p;
        b[0] = 0x65;
        let v = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Ipv4Repr::parse(&v).unwrap_err(),
            Error::Malformed {
                layer: "ipv4",
                field: "version",
                value: 6
            }
        );
        let mut b = p;
        b[3] = 19;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed {
                layer: "ipv4",
                field: "total length",
                value: 19
            }
        );
        let mut b = p;
        b[8] = 63; // TTL changed, checksum stale
        let v = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(matches!(
            Ipv4Repr::parse(&v),
            Err(Error::Checksum { layer: "ipv4", .. })
        ));
        assert!(Ipv4Repr::parse_with(&v, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn options_and_fragments() {
        let mut r = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::Udp,
            tos: 0xb8,
            ident: 7,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            ttl: 1,
            options: Ipv4Options::from_bytes(&[0x94, 0x04, 0, 0]).unwrap(),
            payload_len: 8,
        };
        let mut buf = [0u8; 32];
        r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf[0], 0x46);
        let back = Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(back.is_fragment());
        r.options = Ipv4Options::default();
        assert_eq!(r.header_len(), 20);
        assert!(Ipv4Options::from_bytes(&[0; 41]).is_err());
    }
}
