//! ARP over Ethernet/IPv4 (RFC 826).

use super::{Error, EthernetAddress, Result};
use core::net::Ipv4Addr;

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// 1.
    Request,
    /// 2.
    Reply,
    /// Any other opcode.
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(v: ArpOperation) -> u16 {
        match v {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(other) => other,
        }
    }
}

/// ARP over Ethernet/IPv4 (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    /// Opcode.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub source_hardware_addr: EthernetAddress,
    /// Sender protocol address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target hardware address.
    pub target_hardware_addr: EthernetAddress,
    /// Target protocol address.
    pub target_protocol_addr: Ipv4Addr,
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const ARP_LEN: usize = 28;

/// ARP hardware type for Ethernet.
pub const ARP_HTYPE_ETHERNET: u16 = 1;
/// ARP protocol type for IPv4.
pub const ARP_PTYPE_IPV4: u16 = 0x0800;

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const ADDRS: usize = 8;
}

/// A read/write view of an ARP packet (any hardware/protocol lengths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps a buffer without checking (accessors may panic).
    pub const fn new_unchecked(buffer: T) -> ArpPacket<T> {
        ArpPacket { buffer }
    }

    /// Wraps a buffer, checking it holds the fixed part and the four
    /// addresses of the lengths it declares. After this succeeds no accessor
    /// panics. Trailing bytes (Ethernet padding) are allowed.
    pub fn new_checked(buffer: T) -> Result<ArpPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`new_checked`](Self::new_checked).
    pub fn check_len(&self) -> Result<()> {
        let have = self.buffer.as_ref().len();
        if have < field::ADDRS {
            return Err(Error::Truncated {
                layer: "arp",
                need: field::ADDRS,
                have,
            });
        }
        let need = self.packet_len();
        if have < need {
            return Err(Error::Truncated {
                layer: "arp",
                need,
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

    /// Length of the packet as declared: 8 + 2·hlen + 2·plen.
    pub fn packet_len(&self) -> usize {
        field::ADDRS + 2 * usize::from(self.hardware_len()) + 2 * usize::from(self.protocol_len())
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        self.be16(field::HTYPE)
    }

    /// Protocol type.
    pub fn protocol_type(&self) -> u16 {
        self.be16(field::PTYPE)
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(self.be16(field::OPER))
    }

    fn sha_range(&self) -> core::ops::Range<usize> {
        let s = field::ADDRS;
        s..s + usize::from(self.hardware_len())
    }
    fn spa_range(&self) -> core::ops::Range<usize> {
        let s = self.sha_range().end;
        s..s + usize::from(self.protocol_len())
    }
    fn tha_range(&self) -> core::ops::Range<usize> {
        let s = self.spa_range().end;
        s..s + usize::from(self.hardware_len())
    }
    fn tpa_range(&self) -> core::ops::Range<usize> {
        let s = self.tha_range().end;
        s..s + usize::from(self.protocol_len())
    }

    /// Sender hardware address bytes (hlen bytes).
    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sha_range()]
    }

    /// Sender protocol address bytes (plen bytes).
    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.spa_range()]
    }

    /// Target hardware address bytes (hlen bytes).
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tha_range()]
    }

    /// Target protocol address bytes (plen bytes).
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tpa_range()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, v: u16) {
        self.buffer.as_mut()[field::HTYPE].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, v: u16) {
        self.buffer.as_mut()[field::PTYPE].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the hardware address length.
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    /// Sets the protocol address length.
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, v: ArpOperation) {
        self.buffer.as_mut()[field::OPER].copy_from_slice(&u16::from(v).to_be_bytes());
    }

    /// Sets the sender hardware address (length must equal hlen).
    pub fn set_source_hardware_addr(&mut self, a: &[u8]) {
        let r = self.sha_range();
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the sender protocol address (length must equal plen).
    pub fn set_source_protocol_addr(&mut self, a: &[u8]) {
        let r = self.spa_range();
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the target hardware address (length must equal hlen).
    pub fn set_target_hardware_addr(&mut self, a: &[u8]) {
        let r = self.tha_range();
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the target protocol address (length must equal plen).
    pub fn set_target_protocol_addr(&mut self, a: &[u8]) {
        let r = self.tpa_range();
        self.buffer.as_mut()[r].copy_from_slice(a);
    }
}

fn ipv4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

impl ArpRepr {
    /// Parses an Ethernet/IPv4 ARP packet. Other hardware/protocol types or
    /// address lengths → `Error::Unsupported` (field "htype", "ptype", "hlen",
    /// "plen").
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        packet.check_len()?;
        let unsupported = |field: &'static str, value: u32| Error::Unsupported {
            layer: "arp",
            field,
            value,
        };
        if packet.hardware_type() != ARP_HTYPE_ETHERNET {
            return Err(unsupported("htype", packet.hardware_type().into()));
        }
        if packet.protocol_type() != ARP_PTYPE_IPV4 {
            return Err(unsupported("ptype", packet.protocol_type().into()));
        }
        if packet.hardware_len() != 6 {
            return Err(unsupported("hlen", packet.hardware_len().into()));
        }
        if packet.protocol_len() != 4 {
            return Err(unsupported("plen", packet.protocol_len().into()));
        }
        Ok(ArpRepr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress::from_bytes(packet.source_hardware_addr()),
            source_protocol_addr: ipv4(packet.source_protocol_addr()),
            target_hardware_addr: EthernetAddress::from_bytes(packet.target_hardware_addr()),
            target_protocol_addr: ipv4(packet.target_protocol_addr()),
        })
    }

    /// Length of the emitted packet (28).
    pub const fn buffer_len(&self) -> usize {
        ARP_LEN
    }

    /// Writes the packet into a buffer of at least 28 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(ARP_HTYPE_ETHERNET);
        packet.set_protocol_type(ARP_PTYPE_IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(&self.source_hardware_addr.0);
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(&self.target_hardware_addr.0);
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // who-has 198.51.100.2 tell 198.51.100.1, followed by Ethernet padding.
    static REQUEST: [u8; 32] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198,
        51, 100, 1, 0, 0, 0, 0, 0, 0, 198, 51, 100, 2, 0, 0, 0, 0,
    ];

    #[test]
    fn parse_emit() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.operation, ArpOperation::Request);
        assert_eq!(r.source_hardware_addr, EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(198, 51, 100, 2));
        let mut buf = [0u8; 28];
        r.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], REQUEST[..28]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated {
                layer: "arp",
                need: 28,
                have: 27
            }
        );
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..5]).unwrap_err(),
            Error::Truncated {
                layer: "arp",
                need: 8,
                have: 5
            }
        );
        let mut b = REQUEST;
        b[1] = 6; // IEEE 802
        assert_eq!(
            ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()).unwrap_err(),
            Error::Unsupported {
                layer: "arp",
                field: "htype",
                value: 6
            }
        );
        let mut b = REQUEST;
        b[5] = 16; // plen 16 does not fit
        assert!(matches!(
            ArpPacket::new_checked(&b[..]),
            Err(Error::Truncated { .. })
        ));
        let mut b = REQUEST;
        b[2] = 0x86;
        b[3] = 0xdd;
        assert_eq!(
            ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()).unwrap_err(),
            Error::Unsupported {
                layer: "arp",
                field: "ptype",
                value: 0x86dd
            }
        );
    }
}
