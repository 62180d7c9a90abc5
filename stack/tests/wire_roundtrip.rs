//! Property tests: emit → parse is the identity on canonical reprs, parse of
//! arbitrary bytes never panics, and parse → emit → parse is stable.

#[path = "wire_strategies.rs"]
mod strategies;

use core::net::Ipv4Addr;
use proptest::collection::vec;
use proptest::prelude::*;
use stack::wire::*;
use strategies::*;

const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Every parser, on bytes that may be anything. Must not panic.
fn parse_everything(bytes: &[u8]) {
    for mode in [ChecksumMode::Verify, ChecksumMode::Ignore] {
        if let Ok(r) = FrameRepr::parse_with(bytes, mode) {
            let _ = r.to_string();
            let _ = r.buffer_len();
        }
    }
    let _ = EthernetRepr::parse(&EthernetFrame::new_unchecked(bytes));
    let _ = ArpRepr::parse(&ArpPacket::new_unchecked(bytes));
    let _ = Ipv4Repr::parse_with(&Ipv4Packet::new_unchecked(bytes), ChecksumMode::Ignore);
    let _ = Icmpv4Repr::parse_with(&Icmpv4Packet::new_unchecked(bytes), ChecksumMode::Ignore);
    let _ = UdpRepr::parse_with(
        &UdpPacket::new_unchecked(bytes),
        SRC,
        DST,
        ChecksumMode::Ignore,
    );
    let _ = TcpRepr::parse_with(
        &TcpPacket::new_unchecked(bytes),
        SRC,
        DST,
        ChecksumMode::Ignore,
    );
    let _ = TcpOptions::parse(bytes);
    let _ = TcpOption::parse(bytes);
    // After new_checked, every accessor is safe.
    if let Ok(p) = Ipv4Packet::new_checked(bytes) {
        let _ = (
            p.options(),
            p.payload(),
            p.verify_checksum(),
            p.compute_checksum(),
        );
    }
    if let Ok(p) = TcpPacket::new_checked(bytes) {
        let _ = (p.options(), p.payload(), p.verify_checksum(SRC, DST));
    }
    if let Ok(p) = UdpPacket::new_checked(bytes) {
        let _ = (p.payload(), p.verify_checksum(SRC, DST));
    }
    if let Ok(p) = ArpPacket::new_checked(bytes) {
        let _ = (p.source_hardware_addr(), p.target_protocol_addr());
    }
    if let Ok(p) = Icmpv4Packet::new_checked(bytes) {
        let _ = (p.data(), p.verify_checksum(), p.next_hop_mtu());
    }
}

/// parse(emit(parse(x))) == parse(x) whenever parse(x) succeeds.
fn reparse_is_stable(bytes: &[u8]) {
    for mode in [ChecksumMode::Verify, ChecksumMode::Ignore] {
        if let Ok(r) = FrameRepr::parse_with(bytes, mode) {
            let out = r.to_vec();
            assert_eq!(out.len(), r.buffer_len());
            let back = FrameRepr::parse(&out).expect("re-parse of emitted frame");
            assert_eq!(back, r);
        }
    }
}

/// A valid frame with some bytes overwritten and maybe truncated or extended.
fn mutated_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        frame(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
        0u8..4,
    )
        .prop_map(|(spec, muts, cut, how)| {
            let mut bytes = spec.repr().to_vec();
            for (i, b) in muts {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            match how {
                0 => bytes.truncate(cut.index(bytes.len() + 1)),
                1 => bytes.extend_from_slice(&[0; 7]),
                _ => {}
            }
            bytes
        })
}

/// Any `TcpOption` value, including out-of-range ones (SACK count 0 or > 4,
/// unknown lengths outside 2..=40, known kinds as `Unknown`).
fn raw_tcp_option() -> impl Strategy<Value = TcpOption> {
    prop_oneof![
        tcp_option(),
        Just(TcpOption::EndOfList),
        (any::<u8>(), any::<[(u32, u32); 4]>())
            .prop_map(|(count, blocks)| TcpOption::SackRange { count, blocks }),
        (any::<u8>(), any::<u8>(), vec(any::<u8>(), 38)).prop_map(|(kind, len, d)| {
            let mut data = [0u8; 38];
            data.copy_from_slice(&d);
            TcpOption::Unknown { kind, len, data }
        }),
    ]
}

/// Options built by pushing any items, odd ones included: `push` refuses
/// what its bytes could not hold, so what it keeps parses back to itself.
fn raw_tcp_options() -> impl Strategy<Value = TcpOptions> {
    vec(raw_tcp_option(), 0..TCP_MAX_OPTIONS).prop_map(|items| {
        let mut o = TcpOptions::new();
        for i in items {
            let before = o;
            if o.push(i).is_err() {
                assert_eq!(o, before, "a refused push changed the options");
            }
        }
        assert_eq!(
            TcpOptions::parse(o.as_bytes()),
            Ok(o),
            "pushed options do not parse back"
        );
        o
    })
}

proptest! {
    #[test]
    fn emit_never_panics_on_odd_reprs(
        options in raw_tcp_options(),
        ip_opts in (any::<u8>(), any::<[u8; 32]>()),
        payload in payload(),
        claimed in any::<usize>(),
    ) {
        // Repr-level emit into a buffer of buffer_len() bytes.
        let t = TcpRepr {
            src_port: 1, dst_port: 2, seq_number: 3, ack_number: 4, flags: TcpFlags::ACK,
            window_len: 5, urgent_pointer: 0, options, payload_len: payload.len(),
        };
        let mut buf = vec![0u8; t.buffer_len()];
        t.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, &payload);
        let mut short = vec![0u8; t.header_len()];
        let t0 = TcpRepr { payload_len: 0, ..t };
        t0.emit(&mut TcpPacket::new_unchecked(&mut short[..]), Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, &payload);
        // Frame-level emit with inconsistent lengths: Ok or a typed error.
        let mut ip_options = Ipv4Options::new();
        ip_options.bytes[..32].copy_from_slice(&ip_opts.1);
        ip_options.len = ip_opts.0;
        let ip = Ipv4Repr {
            src_addr: SRC, dst_addr: DST, protocol: IpProtocol::Udp, tos: 0, ident: 0,
            dont_frag: false, more_frags: false, frag_offset: 0, ttl: 1,
            options: ip_options, payload_len: claimed,
        };
        let eth = EthernetRepr { src_addr: EthernetAddress::default(), dst_addr: EthernetAddress::BROADCAST, ethertype: EtherType::Unknown(7) };
        let udp = UdpRepr { src_port: 1, dst_port: 2, payload_len: claimed };
        for p in [IpPayload::Tcp(TcpRepr { payload_len: claimed, ..t }, &payload), IpPayload::Udp(udp, &payload)] {
            let f = FrameRepr { eth, payload: FramePayload::Ipv4(ip.clone(), p) };
            let mut out = vec![0u8; f.buffer_len()];
            if f.emit(&mut out).is_ok() {
                // Non-canonical reprs need not round-trip; parsing must not panic.
                let _ = FrameRepr::parse(&out);
            }
        }
    }

    #[test]
    fn frame_emit_parse_identity(spec in frame()) {
        let r = spec.repr();
        let mut buf = vec![0u8; r.buffer_len() + 3];
        let n = r.emit(&mut buf).unwrap();
        prop_assert_eq!(n, r.buffer_len());
        let back = FrameRepr::parse(&buf[..n]).unwrap();
        prop_assert_eq!(&back, &r);
        // Trailing link padding is ignored except for unknown EtherTypes,
        // whose payload is everything after the header.
        if !matches!(r.payload, FramePayload::Unknown(_)) {
            let padded = FrameRepr::parse(&buf).unwrap();
            prop_assert_eq!(&padded, &r);
        }
        let _ = r.to_string();
    }

    #[test]
    fn frame_emit_too_small_is_an_error(spec in frame(), cut in any::<prop::sample::Index>()) {
        let r = spec.repr();
        let short = cut.index(r.buffer_len());
        let mut buf = vec![0u8; short];
        prop_assert_eq!(
            r.emit(&mut buf),
            Err(Error::Truncated { layer: "frame", need: r.buffer_len(), have: short })
        );
    }

    #[test]
    fn ethernet_roundtrip(e in eth(EtherType::Unknown(0x1234)), t in any::<u16>()) {
        let e = EthernetRepr { ethertype: EtherType::from(t), ..e };
        let mut buf = [0u8; 14];
        e.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        prop_assert_eq!(EthernetRepr::parse(&EthernetFrame::new_checked(&buf[..]).unwrap()).unwrap(), e);
    }

    #[test]
    fn arp_roundtrip(a in arp()) {
        let mut buf = [0u8; ARP_LEN];
        a.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()).unwrap(), a);
    }

    #[test]
    fn ipv4_roundtrip(ip in ipv4(true), proto in any::<u8>(), frag in 0u16..8192, mf in any::<bool>(), len in 0usize..100) {
        let ip = Ipv4Repr { protocol: IpProtocol::from(proto), frag_offset: frag * 8, more_frags: mf, payload_len: len, ..ip };
        let mut buf = vec![0u8; ip.buffer_len()];
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        prop_assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()).unwrap(), ip);
    }

    #[test]
    fn icmp_roundtrip(spec in icmp_spec()) {
        let r = spec.repr();
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        prop_assert_eq!(Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
    }

    #[test]
    fn udp_roundtrip(spec in udp_spec(), src in ip_addr(), dst in ip_addr()) {
        let IpSpec::Udp(u, d) = spec else { unreachable!() };
        let mut buf = vec![0u8; u.buffer_len()];
        u.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst, &d);
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_ne!(p.checksum(), 0);
        prop_assert_eq!(UdpRepr::parse(&p, src, dst).unwrap(), u);
        prop_assert_eq!(p.payload(), &d[..]);
    }

    #[test]
    fn tcp_roundtrip(spec in tcp_spec(), src in ip_addr(), dst in ip_addr()) {
        let IpSpec::Tcp(t, d) = spec else { unreachable!() };
        prop_assert!(t.options.is_canonical());
        let mut buf = vec![0u8; t.buffer_len()];
        t.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), src, dst, &d);
        let p = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.header_len() % 4, 0);
        prop_assert_eq!(TcpRepr::parse(&p, src, dst).unwrap(), t);
        prop_assert_eq!(p.payload(), &d[..]);
    }

    #[test]
    fn tcp_options_bytes_roundtrip(opts in tcp_options()) {
        // Options → bytes → options → bytes is stable byte for byte.
        let mut a = [0u8; 40];
        let n = opts.emit(&mut a);
        let parsed = TcpOptions::parse(&a[..n]).unwrap();
        prop_assert_eq!(parsed, opts);
        let mut b = [0u8; 40];
        let m = parsed.emit(&mut b);
        prop_assert_eq!(&a[..n], &b[..m]);
    }

    #[test]
    fn tcp_option_bytes_reemit(bytes in (0usize..=10).prop_flat_map(|n| vec(any::<u8>(), 4 * n))) {
        // Any option space (a multiple of 4 bytes, as the data offset makes
        // it) that parses re-emits to bytes that parse the same.
        if let Ok(o) = TcpOptions::parse(&bytes) {
            let mut out = [0u8; 40];
            let n = o.emit(&mut out);
            prop_assert_eq!(TcpOptions::parse(&out[..n]).unwrap(), o);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..128)) {
        parse_everything(&bytes);
        reparse_is_stable(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic_and_reparse(bytes in mutated_frame()) {
        parse_everything(&bytes);
        parse_everything(bytes.get(14..).unwrap_or(&[]));
        parse_everything(bytes.get(34..).unwrap_or(&[]));
        reparse_is_stable(&bytes);
    }
}
