//! Bad input below TCP: truncated and malformed ARP, IPv4, ICMP and UDP
//! headers, bad checksums, fragment floods and overlapping fragments. Each
//! is silently dropped (RFC 1122 3.2.1.1, 3.2.1.2, 3.2.2, 4.1.3.4; RFC 826)
//! or answered with the RFC's error, memory stays bounded, and nothing
//! panics. Every test first shows that the well-formed frame is answered,
//! so that the silence of the bad one means something.

use core::net::Ipv4Addr;
use stack::time::{Duration, Instant};
use stack::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetAddress, EthernetRepr, FramePayload, FrameRepr,
    Icmpv4Repr, IpPayload, IpProtocol, Ipv4Repr, UdpRepr,
};
use stack::{Host, HostConfig, Profile, SocketType};

const US_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const US: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn host() -> Host {
    Host::new(
        HostConfig {
            mac: US_MAC,
            ipv4: US,
            prefix_len: 24,
            gateway: None,
            profile: Profile::linux(),
            static_neighbors: vec![(PEER, PEER_MAC)],
        },
        1,
    )
}

fn out(h: &mut Host, now: Instant) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Some(f) = h.transmit(now) {
        v.push(f);
    }
    v
}

fn eth(ethertype: EtherType) -> EthernetRepr {
    EthernetRepr {
        src_addr: PEER_MAC,
        dst_addr: US_MAC,
        ethertype,
    }
}

fn ip(protocol: IpProtocol) -> Ipv4Repr {
    Ipv4Repr {
        ident: 99,
        ..Ipv4Repr::unfragmented(PEER, US, protocol, 64, 0)
    }
}

fn echo(seq: u16, data: &[u8]) -> Vec<u8> {
    FrameRepr {
        eth: eth(EtherType::Ipv4),
        payload: FramePayload::Ipv4(
            ip(IpProtocol::Icmp),
            IpPayload::Icmp(Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: seq,
                data,
            }),
        ),
    }
    .to_vec()
}

fn udp(port: u16, data: &[u8]) -> Vec<u8> {
    FrameRepr {
        eth: eth(EtherType::Ipv4),
        payload: FramePayload::Ipv4(
            ip(IpProtocol::Udp),
            IpPayload::Udp(
                UdpRepr {
                    src_port: 40000,
                    dst_port: port,
                    payload_len: data.len(),
                },
                data,
            ),
        ),
    }
    .to_vec()
}

fn who_has(target: Ipv4Addr) -> Vec<u8> {
    FrameRepr {
        eth: EthernetRepr {
            dst_addr: EthernetAddress::BROADCAST,
            ..eth(EtherType::Arp)
        },
        payload: FramePayload::Arp(ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: PEER_MAC,
            source_protocol_addr: PEER,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: target,
        }),
    }
    .to_vec()
}

/// A named change to a frame.
type Edit = (&'static str, fn(&mut Vec<u8>));

/// Recomputes the IPv4 header checksum after an edit of the header.
fn fix_ip_checksum(f: &mut [u8]) {
    let ihl = usize::from(f[14] & 0x0f) * 4;
    let end = (14 + ihl).min(f.len());
    f[24] = 0;
    f[25] = 0;
    let mut sum: u32 = 0;
    for c in f[14..end].chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    f[24..26].copy_from_slice(&c.to_be_bytes());
}

/// Feeds every truncation of `frame` and expects silence (and no panic).
fn every_truncation_is_silent(frame: &[u8]) {
    let mut h = host();
    let t = Instant::from_secs(1);
    for n in 0..frame.len() {
        h.receive(t, &frame[..n]);
        assert!(out(&mut h, t).is_empty(), "{n}-byte truncation answered");
    }
}

#[test]
fn arp_truncated_and_malformed() {
    let good = who_has(US);
    let mut h = host();
    let t = Instant::from_secs(1);
    h.receive(t, &good);
    assert_eq!(out(&mut h, t).len(), 1, "a good who-has is answered");
    every_truncation_is_silent(&good[..14 + 28]);
    // Wrong hardware type, protocol type, address lengths, opcode.
    for (at, v) in [
        (14, 0x01),
        (15, 0x06),
        (16, 0x86),
        (18, 8),
        (19, 2),
        (21, 9),
    ] {
        let mut f = good.clone();
        f[at] = v;
        let mut h = host();
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty(), "byte {at} = {v} answered");
    }
    // A sender claiming our address, a broadcast or multicast sender MAC.
    for (range, bytes) in [
        (28..32, US.octets().to_vec()),
        (22..28, vec![0xff; 6]),
        (22..28, vec![0x01, 0, 0x5e, 0, 0, 1]),
    ] {
        let mut f = good.clone();
        f[range].copy_from_slice(&bytes);
        let mut h = host();
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty());
    }
}

#[test]
fn ipv4_truncated_and_malformed_headers() {
    let good = echo(1, &[7; 32]);
    let mut h = host();
    let t = Instant::from_secs(1);
    h.receive(t, &good);
    assert_eq!(out(&mut h, t).len(), 1, "a good echo request is answered");
    every_truncation_is_silent(&good);
    let edits: &[Edit] = &[
        ("version 6", |f| f[14] = 0x65),
        ("version 0", |f| f[14] = 0x05),
        ("ihl 4", |f| f[14] = 0x44),
        ("ihl 0", |f| f[14] = 0x40),
        ("ihl 15 past the datagram", |f| f[14] = 0x4f),
        ("total length past the frame", |f| {
            f[16..18].copy_from_slice(&1000u16.to_be_bytes())
        }),
        ("total length below the header", |f| {
            f[16..18].copy_from_slice(&19u16.to_be_bytes())
        }),
        ("total length 0", |f| f[16..18].copy_from_slice(&[0, 0])),
    ];
    for (what, edit) in edits {
        let mut f = good.clone();
        edit(&mut f);
        fix_ip_checksum(&mut f);
        let mut h = host();
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty(), "{what}: answered");
    }
    // A wrong header checksum (RFC 1122 3.2.1.2: MUST discard silently).
    let mut f = good.clone();
    f[25] ^= 1;
    let mut h = host();
    h.receive(t, &f);
    assert!(out(&mut h, t).is_empty());
}

#[test]
fn icmp_truncated_and_bad_checksum() {
    let good = echo(2, &[1, 2, 3]);
    let t = Instant::from_secs(1);
    // ICMP header cut short inside a consistent IPv4 header.
    for keep in 0..8 {
        let mut f = good[..34 + keep].to_vec();
        let total = (20 + keep) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        fix_ip_checksum(&mut f);
        let mut h = host();
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty(), "{keep}-byte ICMP answered");
    }
    let mut f = good.clone();
    f[36] ^= 0x10;
    let mut h = host();
    h.receive(t, &f);
    assert!(out(&mut h, t).is_empty(), "bad ICMP checksum answered");
    // Unknown ICMP types and ICMP errors from the peer: no answer.
    for ty in [3u8, 11, 13, 42, 255] {
        let mut f = good.clone();
        f[34] = ty;
        // Recompute the ICMP checksum over the message.
        f[36] = 0;
        f[37] = 0;
        let mut sum: u32 = 0;
        for c in f[34..].chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        f[36..38].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        let mut h = host();
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty(), "ICMP type {ty} answered");
    }
}

#[test]
fn udp_truncated_malformed_bad_checksum_and_zero_checksum() {
    let t = Instant::from_secs(1);
    let mut h = host();
    let fd = h.socket(SocketType::Dgram).expect("socket");
    h.udp_bind(fd, "0.0.0.0:8080".parse().expect("addr"))
        .expect("bind");
    let good = udp(8080, &[5; 20]);
    h.receive(t, &good);
    let mut buf = [0u8; 64];
    assert_eq!(h.udp_recvfrom(fd, &mut buf).map(|r| r.0), Ok(20));
    // Zero checksum: "no checksum" (RFC 768), delivered.
    let mut f = good.clone();
    f[40] = 0;
    f[41] = 0;
    h.receive(t, &f);
    assert_eq!(h.udp_recvfrom(fd, &mut buf).map(|r| r.0), Ok(20));
    // Bad checksum, UDP length longer or shorter than the datagram,
    // length below the header: dropped, no ICMP error.
    let edits: &[Edit] = &[
        ("bad checksum", |f| f[41] ^= 1),
        ("udp length too long", |f| {
            f[38..40].copy_from_slice(&29u16.to_be_bytes())
        }),
        ("udp length too short", |f| {
            f[38..40].copy_from_slice(&27u16.to_be_bytes())
        }),
        ("udp length 7", |f| {
            f[38..40].copy_from_slice(&7u16.to_be_bytes())
        }),
    ];
    for (what, edit) in edits {
        let mut f = good.clone();
        edit(&mut f);
        h.receive(t, &f);
        assert!(out(&mut h, t).is_empty(), "{what}: answered");
        assert!(h.udp_recvfrom(fd, &mut buf).is_err(), "{what}: delivered");
    }
    every_truncation_is_silent(&udp(9999, &[1; 8]));
}

#[test]
fn udp_receive_queue_is_bounded() {
    let t = Instant::from_secs(1);
    let mut h = host();
    let fd = h.socket(SocketType::Dgram).expect("socket");
    h.udp_bind(fd, "0.0.0.0:8080".parse().expect("addr"))
        .expect("bind");
    let f = udp(8080, &[0; 1400]);
    for _ in 0..10_000 {
        h.receive(t, &f);
    }
    let mut n = 0;
    let mut buf = [0u8; 2000];
    while h.udp_recvfrom(fd, &mut buf).is_ok() {
        n += 1;
    }
    let bound = Profile::linux().udp_rcvbuf / 1400;
    assert!(n > 0 && n <= bound, "{n} datagrams queued, bound {bound}");
}

fn fragment(ident: u16, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
    FrameRepr {
        eth: eth(EtherType::Ipv4),
        payload: FramePayload::Ipv4(
            Ipv4Repr {
                ident,
                more_frags: more,
                frag_offset: offset,
                ..ip(IpProtocol::Icmp)
            },
            IpPayload::Fragment(data),
        ),
    }
    .to_vec()
}

#[test]
fn fragments_reassembled_overlaps_discarded_floods_bounded() {
    let t = Instant::from_secs(1);
    // The ICMP message of a good echo request, cut in two.
    let whole = echo(3, &[9; 100]);
    let msg = &whole[34..];
    let mut h = host();
    h.receive(t, &fragment(5, 0, true, &msg[..56]));
    assert!(out(&mut h, t).is_empty());
    h.receive(t, &fragment(5, 56, false, &msg[56..]));
    assert_eq!(out(&mut h, t).len(), 1, "reassembled and answered");

    // Overlap: the datagram is discarded; its remaining piece completes
    // nothing.
    let mut h = host();
    h.receive(t, &fragment(6, 0, true, &msg[..56]));
    h.receive(t, &fragment(6, 48, false, &msg[48..]));
    h.receive(t, &fragment(6, 56, false, &msg[56..]));
    assert!(out(&mut h, t).is_empty());

    // A flood of distinct incomplete datagrams: memory stays under the
    // profile's bound, and they all expire without a word (no first
    // fragment among them).
    let mut h = host();
    for ident in 0..20_000u16 {
        h.receive(t, &fragment(ident, 8, true, &[0; 1024]));
    }
    assert!(out(&mut h, t).is_empty());
    let later = t + Duration::from_secs(31);
    assert!(out(&mut h, later).is_empty());

    // Tiny and huge offsets, zero-length fragments: no panic, no answer.
    let mut h = host();
    for (off, more, len) in [
        (0, true, 0),
        (65528, false, 100),
        (65528, true, 8),
        (8, true, 3),
    ] {
        h.receive(t, &fragment(7, off, more, &vec![0; len]));
    }
    assert!(out(&mut h, t).is_empty());
}

#[test]
fn incomplete_datagram_times_out_with_time_exceeded() {
    let t = Instant::from_secs(1);
    let whole = echo(4, &[9; 100]);
    let msg = &whole[34..];
    let mut h = host();
    h.receive(t, &fragment(8, 0, true, &msg[..56]));
    assert_eq!(h.poll_at(), Some(t + Duration::from_secs(30)));
    assert!(out(&mut h, t + Duration::from_secs(29)).is_empty());
    let sent = out(&mut h, t + Duration::from_secs(30));
    assert_eq!(sent.len(), 1);
    let f = FrameRepr::parse(&sent[0]).expect("parses");
    match f.payload {
        FramePayload::Ipv4(_, IpPayload::Icmp(Icmpv4Repr::TimeExceeded { code, data })) => {
            assert_eq!(code, 1);
            assert_eq!(data.len(), 20 + 56, "quotes the first fragment");
        }
        p => panic!("expected time exceeded, got {p:?}"),
    }
}
