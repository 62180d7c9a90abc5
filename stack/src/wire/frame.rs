//! Whole-frame parsing and emission: Ethernet → ARP | IPv4 → TCP | UDP | ICMP.
//!
//! # Lengths on emit
//!
//! [`FrameRepr::emit`] derives every length and demultiplexing field from the
//! inner payload, so the caller does not have to keep them consistent:
//!
//! * the EtherType is `Arp` / `Ipv4` for those payloads (kept for `Unknown`);
//! * `Ipv4Repr::payload_len` (hence the total length) is the length of the
//!   emitted transport message, and `Ipv4Repr::protocol` is `Tcp` / `Udp` /
//!   `Icmp` for those payloads (kept for `Fragment` / `Unknown`);
//! * `UdpRepr::payload_len` and `TcpRepr::payload_len` are the length of the
//!   payload slice.
//!
//! The repr's own values of these fields are ignored (not overwritten: the
//! repr is borrowed), so `parse(emit(r)) == r` holds exactly when they are
//! consistent, which is always the case for a repr returned by `parse`.
//!
//! # Round trip
//!
//! For any bytes `x` that [`FrameRepr::parse`] accepts,
//! `parse(emit(parse(x))) == parse(x)`: what parse ignores (Ethernet padding
//! after the IPv4 total length or the 28 ARP bytes, TCP option bytes after
//! EOL, the unused ICMP header bytes, the IPv4 reserved flag and the TCP
//! reserved bits) is not reproduced. To make this hold, a UDP datagram whose
//! length field is shorter than the IPv4 payload is rejected by the frame
//! parser (`Malformed` "udp" "length").

use super::*;
use core::fmt;

/// Whether parsers verify checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumMode {
    /// Verify every checksum; a mismatch is `Error::Checksum`.
    #[default]
    Verify,
    /// Do not look at checksums (e.g. frames from a device with checksum
    /// offload).
    Ignore,
}

/// The content of an IPv4 packet.
// `TcpRepr` is large (~1.8 KB, its options are an inline array); the shape of
// these enums is part of the API, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPayload<'a> {
    /// A TCP segment and its payload.
    Tcp(TcpRepr, &'a [u8]),
    /// A UDP datagram and its payload.
    Udp(UdpRepr, &'a [u8]),
    /// An ICMPv4 message.
    Icmp(Icmpv4Repr<'a>),
    /// A fragment (MF set or offset != 0): transport not parsed
    Fragment(&'a [u8]),
    /// Another protocol: the raw IP payload.
    Unknown(&'a [u8]),
}

impl IpPayload<'_> {
    /// Length of the emitted IP payload.
    pub fn buffer_len(&self) -> usize {
        match self {
            IpPayload::Tcp(t, d) => t.header_len() + d.len(),
            IpPayload::Udp(_, d) => UDP_HEADER_LEN + d.len(),
            IpPayload::Icmp(i) => i.buffer_len(),
            IpPayload::Fragment(d) | IpPayload::Unknown(d) => d.len(),
        }
    }
}

/// The content of an Ethernet frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramePayload<'a> {
    /// An ARP packet.
    Arp(ArpRepr),
    /// An IPv4 packet and its content.
    Ipv4(Ipv4Repr, IpPayload<'a>),
    /// Another EtherType: everything after the Ethernet header.
    Unknown(&'a [u8]),
}

/// A parsed Ethernet frame, borrowing payloads from the frame bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRepr<'a> {
    /// The Ethernet header.
    pub eth: EthernetRepr,
    /// What the frame carries.
    pub payload: FramePayload<'a>,
}

impl<'a> FrameRepr<'a> {
    /// Parses a whole frame, verifying every checksum.
    pub fn parse(frame: &'a [u8]) -> Result<FrameRepr<'a>> {
        Self::parse_with(frame, ChecksumMode::Verify)
    }

    /// Parses a whole frame; `mode` says whether to verify checksums.
    /// Never panics and never allocates; errors are those of each layer's
    /// parser.
    pub fn parse_with(frame: &'a [u8], mode: ChecksumMode) -> Result<FrameRepr<'a>> {
        let f = EthernetFrame::new_checked(frame)?;
        let eth = EthernetRepr::parse(&f)?;
        let payload = match eth.ethertype {
            EtherType::Arp => {
                FramePayload::Arp(ArpRepr::parse(&ArpPacket::new_checked(f.payload())?)?)
            }
            EtherType::Ipv4 => {
                let p = Ipv4Packet::new_checked(f.payload())?;
                let ip = Ipv4Repr::parse_with(&p, mode)?;
                let inner = parse_ip_payload(&ip, p.payload(), mode)?;
                FramePayload::Ipv4(ip, inner)
            }
            EtherType::Unknown(_) => FramePayload::Unknown(f.payload()),
        };
        Ok(FrameRepr { eth, payload })
    }

    /// Exact emitted length (no padding to the 60-byte Ethernet minimum).
    pub fn buffer_len(&self) -> usize {
        ETHERNET_HEADER_LEN
            + match &self.payload {
                FramePayload::Arp(a) => a.buffer_len(),
                FramePayload::Ipv4(ip, p) => ip.header_len() + p.buffer_len(),
                FramePayload::Unknown(d) => d.len(),
            }
    }

    /// Writes the frame into `buf`, computing lengths and checksums (see the
    /// module docs), and returns the number of bytes written
    /// ([`buffer_len`](Self::buffer_len)). Errors: `Truncated` if `buf` is
    /// too small; `Malformed` if a length does not fit its field (IPv4 total
    /// length > 65535, TCP options > 40 bytes).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(Error::Truncated {
                layer: "frame",
                need: len,
                have: buf.len(),
            });
        }
        let buf = &mut buf[..len];
        let mut eth = self.eth;
        eth.ethertype = match self.payload {
            FramePayload::Arp(_) => EtherType::Arp,
            FramePayload::Ipv4(..) => EtherType::Ipv4,
            FramePayload::Unknown(_) => self.eth.ethertype,
        };
        let (hdr, rest) = buf.split_at_mut(ETHERNET_HEADER_LEN);
        eth.emit(&mut EthernetFrame::new_unchecked(hdr));
        match &self.payload {
            FramePayload::Arp(a) => a.emit(&mut ArpPacket::new_unchecked(rest)),
            FramePayload::Unknown(d) => rest.copy_from_slice(d),
            FramePayload::Ipv4(ip, p) => emit_ipv4(ip, p, rest)?,
        }
        Ok(len)
    }

    /// The emitted frame in a new vector.
    ///
    /// # Panics
    /// If [`emit`](Self::emit) fails (a length that does not fit its field).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.emit_into(&mut v);
        v
    }

    /// The emitted frame in `buf`, replacing its contents (a buffer reused
    /// across frames saves an allocation each); returns what
    /// [`emit`](Self::emit) returns, the bytes written.
    ///
    /// # Panics
    /// If [`emit`](Self::emit) fails (a length that does not fit its field).
    pub fn emit_into(&self, buf: &mut Vec<u8>) -> usize {
        buf.clear();
        buf.resize(self.buffer_len(), 0);
        match self.emit(buf) {
            Ok(n) => n,
            Err(e) => panic!("FrameRepr::emit_into: {e}"),
        }
    }
}

fn parse_ip_payload<'a>(
    ip: &Ipv4Repr,
    data: &'a [u8],
    mode: ChecksumMode,
) -> Result<IpPayload<'a>> {
    if ip.is_fragment() {
        return Ok(IpPayload::Fragment(data));
    }
    let (src, dst) = (ip.src_addr, ip.dst_addr);
    Ok(match ip.protocol {
        IpProtocol::Tcp => {
            let t = TcpPacket::new_checked(data)?;
            let r = TcpRepr::parse_with(&t, src, dst, mode)?;
            IpPayload::Tcp(r, t.payload())
        }
        IpProtocol::Udp => {
            let u = UdpPacket::new_checked(data)?;
            if usize::from(u.len()) != data.len() {
                return Err(Error::Malformed {
                    layer: "udp",
                    field: "length",
                    value: u.len().into(),
                });
            }
            let r = UdpRepr::parse_with(&u, src, dst, mode)?;
            IpPayload::Udp(r, u.payload())
        }
        IpProtocol::Icmp => {
            let i = Icmpv4Packet::new_checked(data)?;
            IpPayload::Icmp(Icmpv4Repr::parse_with(&i, mode)?)
        }
        IpProtocol::Unknown(_) => IpPayload::Unknown(data),
    })
}

fn emit_ipv4(ip: &Ipv4Repr, p: &IpPayload<'_>, buf: &mut [u8]) -> Result<()> {
    let mut ip = ip.clone();
    ip.payload_len = p.buffer_len();
    match p {
        IpPayload::Tcp(..) => ip.protocol = IpProtocol::Tcp,
        IpPayload::Udp(..) => ip.protocol = IpProtocol::Udp,
        IpPayload::Icmp(_) => ip.protocol = IpProtocol::Icmp,
        IpPayload::Fragment(_) | IpPayload::Unknown(_) => {}
    }
    let total = ip.buffer_len();
    if total > usize::from(u16::MAX) {
        return Err(Error::Malformed {
            layer: "ipv4",
            field: "total length",
            value: total as u32,
        });
    }
    let hl = ip.header_len();
    let (hdr, rest) = buf.split_at_mut(hl);
    ip.emit(&mut Ipv4Packet::new_unchecked(hdr));
    let (src, dst) = (ip.src_addr, ip.dst_addr);
    match p {
        IpPayload::Tcp(t, d) => {
            if t.options.wire_len() > TCP_MAX_OPTIONS_LEN {
                return Err(Error::Malformed {
                    layer: "tcp",
                    field: "options length",
                    value: t.options.wire_len() as u32,
                });
            }
            let mut t = *t;
            t.payload_len = d.len();
            t.emit(&mut TcpPacket::new_unchecked(rest), src, dst, d);
        }
        IpPayload::Udp(u, d) => {
            let mut u = *u;
            u.payload_len = d.len();
            u.emit(&mut UdpPacket::new_unchecked(rest), src, dst, d);
        }
        IpPayload::Icmp(i) => i.emit(&mut Icmpv4Packet::new_unchecked(rest)),
        IpPayload::Fragment(d) | IpPayload::Unknown(d) => rest.copy_from_slice(d),
    }
    Ok(())
}

impl fmt::Display for FrameRepr<'_> {
    /// A tcpdump-like one-line summary, e.g.
    /// `02:00:00:00:00:01 > 02:00:00:00:00:02, 198.51.100.1.4000 > 198.51.100.2.8080: Flags [S], seq 0, win 65535, options [mss 1460], length 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", self.eth.src_addr, self.eth.dst_addr)?;
        match &self.payload {
            FramePayload::Arp(a) => match a.operation {
                ArpOperation::Request => write!(
                    f,
                    "ARP, Request who-has {} tell {}",
                    a.target_protocol_addr, a.source_protocol_addr
                ),
                ArpOperation::Reply => write!(
                    f,
                    "ARP, Reply {} is-at {}",
                    a.source_protocol_addr, a.source_hardware_addr
                ),
                ArpOperation::Unknown(op) => write!(
                    f,
                    "ARP, opcode {op}, {} > {}",
                    a.source_protocol_addr, a.target_protocol_addr
                ),
            },
            FramePayload::Unknown(d) => {
                write!(f, "{}, length {}", self.eth.ethertype, d.len())
            }
            FramePayload::Ipv4(ip, p) => fmt_ip(f, ip, p),
        }
    }
}

fn fmt_ip(f: &mut fmt::Formatter<'_>, ip: &Ipv4Repr, p: &IpPayload<'_>) -> fmt::Result {
    let (s, d) = (ip.src_addr, ip.dst_addr);
    match p {
        IpPayload::Tcp(t, data) => {
            write!(
                f,
                "{s}.{} > {d}.{}: Flags [{}], ",
                t.src_port, t.dst_port, t.flags
            )?;
            if data.is_empty() {
                write!(f, "seq {}", t.seq_number)?;
            } else {
                let end = t.seq_number.wrapping_add(data.len() as u32);
                write!(f, "seq {}:{}", t.seq_number, end)?;
            }
            if t.flags.contains(TcpFlags::ACK) {
                write!(f, ", ack {}", t.ack_number)?;
            }
            write!(f, ", win {}", t.window_len)?;
            if t.flags.contains(TcpFlags::URG) {
                write!(f, ", urg {}", t.urgent_pointer)?;
            }
            if !t.options.is_empty() {
                write!(f, ", options [{}]", t.options)?;
            }
            write!(f, ", length {}", data.len())
        }
        IpPayload::Udp(u, data) => {
            write!(
                f,
                "{s}.{} > {d}.{}: UDP, length {}",
                u.src_port,
                u.dst_port,
                data.len()
            )
        }
        IpPayload::Icmp(i) => {
            write!(f, "{s} > {d}: ICMP ")?;
            let len = i.buffer_len();
            match i {
                Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                    write!(f, "echo request, id {ident}, seq {seq_no}, length {len}")
                }
                Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                    write!(f, "echo reply, id {ident}, seq {seq_no}, length {len}")
                }
                Icmpv4Repr::DstUnreachable {
                    code, next_hop_mtu, ..
                } => {
                    match *code {
                        dst_unreachable::NET_UNREACHABLE => write!(f, "net unreachable")?,
                        dst_unreachable::HOST_UNREACHABLE => write!(f, "host unreachable")?,
                        dst_unreachable::PROTO_UNREACHABLE => write!(f, "protocol unreachable")?,
                        dst_unreachable::PORT_UNREACHABLE => write!(f, "port unreachable")?,
                        dst_unreachable::FRAG_NEEDED => {
                            write!(f, "unreachable - need to frag (mtu {next_hop_mtu})")?
                        }
                        c => write!(f, "unreachable code {c}")?,
                    }
                    write!(f, ", length {len}")
                }
                Icmpv4Repr::TimeExceeded { code, .. } => {
                    let what = if *code == 0 {
                        "in-transit"
                    } else {
                        "reassembly"
                    };
                    write!(f, "time exceeded {what}, length {len}")
                }
                Icmpv4Repr::Other { msg_type, code, .. } => {
                    write!(f, "type {msg_type}, code {code}, length {len}")
                }
            }
        }
        IpPayload::Fragment(data) => {
            write!(
                f,
                "{s} > {d}: {} frag (id {}, offset {}, flags [{}]), length {}",
                ip.protocol,
                ip.ident,
                ip.frag_offset,
                if ip.more_frags { "+" } else { "none" },
                data.len()
            )
        }
        IpPayload::Unknown(data) => write!(f, "{s} > {d}: {}, length {}", ip.protocol, data.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const IP1: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const IP2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

    fn eth() -> EthernetRepr {
        EthernetRepr {
            src_addr: MAC1,
            dst_addr: MAC2,
            ethertype: EtherType::Ipv4,
        }
    }

    fn ip(protocol: IpProtocol, payload_len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: IP1,
            dst_addr: IP2,
            protocol,
            tos: 0,
            ident: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            ttl: 64,
            options: Ipv4Options::new(),
            payload_len,
        }
    }

    #[test]
    fn syn_display_and_roundtrip() {
        let options = TcpOptions::from_slice(&[
            TcpOption::MaxSegmentSize(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 1, tsecr: 0 },
            TcpOption::NoOperation,
            TcpOption::WindowScale(7),
        ])
        .unwrap();
        let tcp = TcpRepr {
            src_port: 4000,
            dst_port: 8080,
            seq_number: 0,
            ack_number: 0,
            flags: TcpFlags::SYN,
            window_len: 65535,
            urgent_pointer: 0,
            options,
            payload_len: 0,
        };
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(ip(IpProtocol::Tcp, 40), IpPayload::Tcp(tcp, &[])),
        };
        assert_eq!(
            r.to_string(),
            "02:00:00:00:00:01 > 02:00:00:00:00:02, 198.51.100.1.4000 > 198.51.100.2.8080: \
             Flags [S], seq 0, win 65535, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
        );
        let bytes = r.to_vec();
        assert_eq!(bytes.len(), 14 + 20 + 40);
        assert_eq!(FrameRepr::parse(&bytes).unwrap(), r);
        // Ethernet padding is ignored.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(FrameRepr::parse(&padded).unwrap(), r);
        // Too small a buffer.
        let mut small = [0u8; 73];
        assert_eq!(
            r.emit(&mut small),
            Err(Error::Truncated {
                layer: "frame",
                need: 74,
                have: 73
            })
        );
    }

    #[test]
    fn arp_display() {
        let r = FrameRepr {
            eth: EthernetRepr {
                src_addr: MAC1,
                dst_addr: EthernetAddress::BROADCAST,
                ethertype: EtherType::Arp,
            },
            payload: FramePayload::Arp(ArpRepr {
                operation: ArpOperation::Request,
                source_hardware_addr: MAC1,
                source_protocol_addr: IP1,
                target_hardware_addr: EthernetAddress::default(),
                target_protocol_addr: IP2,
            }),
        };
        assert_eq!(
            r.to_string(),
            "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 198.51.100.2 tell 198.51.100.1"
        );
        let mut bytes = r.to_vec();
        bytes.resize(60, 0);
        assert_eq!(FrameRepr::parse(&bytes).unwrap(), r);
    }

    #[test]
    fn icmp_udp_display() {
        let data = [0u8; 56];
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(
                ip(IpProtocol::Icmp, 64),
                IpPayload::Icmp(Icmpv4Repr::EchoRequest {
                    ident: 1,
                    seq_no: 1,
                    data: &data,
                }),
            ),
        };
        assert!(r
            .to_string()
            .ends_with("198.51.100.1 > 198.51.100.2: ICMP echo request, id 1, seq 1, length 64"));
        assert_eq!(FrameRepr::parse(&r.to_vec()).unwrap(), r);
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(
                ip(IpProtocol::Udp, 11),
                IpPayload::Udp(
                    UdpRepr {
                        src_port: 53,
                        dst_port: 1234,
                        payload_len: 3,
                    },
                    b"abc",
                ),
            ),
        };
        assert!(r
            .to_string()
            .ends_with("198.51.100.1.53 > 198.51.100.2.1234: UDP, length 3"));
        assert_eq!(FrameRepr::parse(&r.to_vec()).unwrap(), r);
    }

    #[test]
    fn lengths_are_derived() {
        // Inconsistent lengths and protocol in the repr are replaced on emit.
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(
                ip(IpProtocol::Icmp, 999),
                IpPayload::Udp(
                    UdpRepr {
                        src_port: 1,
                        dst_port: 2,
                        payload_len: 77,
                    },
                    b"xy",
                ),
            ),
        };
        let bytes = r.to_vec();
        let back = FrameRepr::parse(&bytes).unwrap();
        let FramePayload::Ipv4(ip, IpPayload::Udp(u, d)) = back.payload else {
            panic!()
        };
        assert_eq!(ip.payload_len, 10);
        assert_eq!(ip.protocol, IpProtocol::Udp);
        assert_eq!(u.payload_len, 2);
        assert_eq!(d, b"xy");
    }

    #[test]
    fn udp_shorter_than_ip_is_rejected() {
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(
                ip(IpProtocol::Udp, 0),
                IpPayload::Udp(
                    UdpRepr {
                        src_port: 1,
                        dst_port: 2,
                        payload_len: 2,
                    },
                    b"xy",
                ),
            ),
        };
        let mut bytes = r.to_vec();
        // Claim a UDP length of 9 (one byte shorter than the IP payload).
        bytes[14 + 20 + 5] = 9;
        assert_eq!(
            FrameRepr::parse_with(&bytes, ChecksumMode::Ignore).unwrap_err(),
            Error::Malformed {
                layer: "udp",
                field: "length",
                value: 9
            }
        );
    }

    #[test]
    fn fragments_and_unknown() {
        let mut i = ip(IpProtocol::Tcp, 8);
        i.more_frags = true;
        i.dont_frag = false;
        let r = FrameRepr {
            eth: eth(),
            payload: FramePayload::Ipv4(i, IpPayload::Fragment(&[1; 8])),
        };
        assert_eq!(FrameRepr::parse(&r.to_vec()).unwrap(), r);
        let r = FrameRepr {
            eth: EthernetRepr {
                ethertype: EtherType::Unknown(0x86dd),
                ..eth()
            },
            payload: FramePayload::Unknown(&[1, 2, 3]),
        };
        assert_eq!(FrameRepr::parse(&r.to_vec()).unwrap(), r);
        assert!(r.to_string().ends_with("ethertype 0x86dd, length 3"));
    }
}
