//! `host_input`: whole frames at a host that has a TCP listener, from up to
//! four peers: ARP requests and replies, IPv4 datagrams and fragments
//! (any offset, MF, identification, overlap), ICMP, UDP and TCP segments to
//! and from several connections, raw bytes, clock steps and accept/recv/close
//! calls, as the input decides. Frames are built with valid checksums
//! unless the input asks for a broken one, so the input reaches the layers
//! above the parsers.
//!
//! # Oracle, after every step
//! - no panic (the stack core never panics on wire input);
//! - every frame the host emits parses (checksums verified), fits the MTU,
//!   comes from the host's own MAC, and (for IPv4) from its own address;
//! - the host stays bounded: at most `backlog + max_syn_backlog + 4`
//!   connections, and a step never emits more than a bounded number of
//!   frames (no amplification loop);
//! - `poll_at()` is never in the past after `transmit()` returned `None`
//!   (no busy loop).

use arbitrary::Unstructured;
use core::net::{Ipv4Addr, SocketAddrV4};
use stack::wire::{EthernetAddress, FramePayload, FrameRepr};
use stack::{Duration, Errno, Fd, Host, HostConfig, Instant, Profile, SocketType};

const HOST_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const PORT: u16 = 8080;
const BACKLOG: i32 = 4;
/// Frames one step may make the host send (ARP retries, RTO bursts, ACKs).
const MAX_FRAMES_PER_STEP: usize = 256;
const MAX_STEPS: usize = 128;

fn peer_ip(p: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 10 + (p & 3))
}

fn peer_mac(p: u8) -> [u8; 6] {
    [2, 0, 0, 0, 1, 10 + (p & 3)]
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        acc += u32::from(*b) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn ether(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 packet: `frag` is (offset in 8-byte units, MF).
#[allow(clippy::too_many_arguments)]
fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
    frag: (u16, bool),
    ttl: u8,
    payload: &[u8],
    bad_csum: bool,
) -> Vec<u8> {
    let total = (20 + payload.len()).min(65535) as u16;
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    let ff = (frag.0 & 0x1fff) | if frag.1 { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&ff.to_be_bytes());
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let mut c = fold(sum16(&h, 0));
    if bad_csum {
        c ^= 0x5a5a;
    }
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut p = h.to_vec();
    p.extend_from_slice(payload);
    p
}

/// A transport checksum over the IPv4 pseudo-header, written at `at`.
fn l4_csum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &mut [u8], at: usize) {
    let mut acc = sum16(&src.octets(), 0);
    acc = sum16(&dst.octets(), acc);
    acc += u32::from(proto) + seg.len() as u32;
    seg[at] = 0;
    seg[at + 1] = 0;
    let c = fold(sum16(seg, acc));
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

fn tcp_segment(u: &mut Unstructured<'_>, src: Ipv4Addr, peer: u8) -> Vec<u8> {
    let sport = 40000 + u16::from(peer & 3);
    let dport = if u.ratio(7, 8).unwrap_or(true) {
        PORT
    } else {
        u.arbitrary().unwrap_or(1)
    };
    let seq: u32 = u.arbitrary().unwrap_or(0);
    let ack: u32 = u.arbitrary().unwrap_or(0);
    let flags: u8 = u.arbitrary().unwrap_or(0x02);
    let win: u16 = u.arbitrary().unwrap_or(65535);
    let opts: Vec<u8> = {
        let n = usize::from(u.arbitrary::<u8>().unwrap_or(0) % 11) * 4;
        (0..n).map(|_| u.arbitrary().unwrap_or(1)).collect()
    };
    let len = usize::from(u.arbitrary::<u16>().unwrap_or(0) % 1461);
    let mut s = Vec::with_capacity(20 + opts.len() + len);
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.push((((20 + opts.len()) / 4) as u8) << 4);
    s.push(flags);
    s.extend_from_slice(&win.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(&opts);
    s.extend((0..len).map(|i| i as u8));
    l4_csum(src, HOST_IP, 6, &mut s, 16);
    s
}

fn udp_datagram(u: &mut Unstructured<'_>, src: Ipv4Addr) -> Vec<u8> {
    let dport: u16 = if u.ratio(1, 2).unwrap_or(true) {
        PORT
    } else {
        u.arbitrary().unwrap_or(7)
    };
    let len = usize::from(u.arbitrary::<u16>().unwrap_or(0) % 1473);
    let mut d = Vec::with_capacity(8 + len);
    d.extend_from_slice(&5353u16.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&((8 + len) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend((0..len).map(|i| i as u8));
    if u.ratio(3, 4).unwrap_or(true) {
        l4_csum(src, HOST_IP, 17, &mut d, 6);
    }
    d
}

fn icmp_message(u: &mut Unstructured<'_>) -> Vec<u8> {
    let ty: u8 = if u.ratio(1, 2).unwrap_or(true) {
        8
    } else {
        u.arbitrary().unwrap_or(3)
    };
    let code: u8 = u.arbitrary().unwrap_or(0);
    let len = usize::from(u.arbitrary::<u16>().unwrap_or(0) % 1473);
    let mut m = vec![ty, code, 0, 0];
    m.extend((0..len + 4).map(|_| u.arbitrary::<u8>().unwrap_or(0)));
    let c = fold(sum16(&m, 0));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn arp(u: &mut Unstructured<'_>, peer: u8) -> Vec<u8> {
    let op: u16 = if u.ratio(2, 3).unwrap_or(true) { 1 } else { 2 };
    let target = if u.ratio(3, 4).unwrap_or(true) {
        HOST_IP
    } else {
        Ipv4Addr::from(u.arbitrary::<u32>().unwrap_or(0))
    };
    let sender = if u.ratio(7, 8).unwrap_or(true) {
        peer_ip(peer)
    } else {
        Ipv4Addr::from(u.arbitrary::<u32>().unwrap_or(0))
    };
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&peer_mac(peer));
    a.extend_from_slice(&sender.octets());
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&target.octets());
    let dst = if op == 1 { [0xff; 6] } else { HOST_MAC };
    ether(dst, peer_mac(peer), 0x0806, &a)
}

/// One input step's frame.
fn frame(u: &mut Unstructured<'_>) -> Vec<u8> {
    let kind: u8 = u.arbitrary().unwrap_or(0);
    let peer: u8 = u.arbitrary().unwrap_or(0);
    let src = peer_ip(peer);
    let dst_ip = match u.arbitrary::<u8>().unwrap_or(0) % 8 {
        0 => Ipv4Addr::BROADCAST,
        1 => Ipv4Addr::new(198, 51, 100, 255),
        2 => Ipv4Addr::new(198, 51, 100, 77),
        _ => HOST_IP,
    };
    let dst_mac = if dst_ip.octets()[3] == 255 || u.ratio(1, 16).unwrap_or(false) {
        [0xff; 6]
    } else {
        HOST_MAC
    };
    let ttl = u
        .arbitrary::<u8>()
        .unwrap_or(64)
        .max(u8::from(u.ratio(15, 16).unwrap_or(true)));
    let bad = u.ratio(1, 16).unwrap_or(false);
    let (proto, body) = match kind % 8 {
        0 => return arp(u, peer),
        1 => {
            // Raw bytes after an Ethernet header of any type.
            let et: u16 = u.arbitrary().unwrap_or(0x0800);
            let n = usize::from(u.arbitrary::<u16>().unwrap_or(0) % 1501);
            let body: Vec<u8> = (0..n).map(|_| u.arbitrary().unwrap_or(0)).collect();
            return ether(dst_mac, peer_mac(peer), et, &body);
        }
        2 => (1u8, icmp_message(u)),
        3 => (17u8, udp_datagram(u, src)),
        _ => (6u8, tcp_segment(u, src, peer)),
    };
    if u.ratio(1, 6).unwrap_or(false) {
        // A fragment of the body: any offset, MF, identification.
        let ident: u16 = u16::from(u.arbitrary::<u8>().unwrap_or(0) % 4);
        let off8: u16 = u.arbitrary::<u16>().unwrap_or(0) % 200;
        let start = (usize::from(off8) * 8).min(body.len());
        let len = usize::from(u.arbitrary::<u16>().unwrap_or(0) % 1481).min(body.len() - start);
        let mf: bool = u.arbitrary().unwrap_or(true);
        let p = ipv4(
            src,
            dst_ip,
            proto,
            ident,
            (off8, mf),
            ttl,
            &body[start..start + len],
            bad,
        );
        return ether(dst_mac, peer_mac(peer), 0x0800, &p);
    }
    let p = ipv4(src, dst_ip, proto, 0, (0, false), ttl, &body, bad);
    ether(dst_mac, peer_mac(peer), 0x0800, &p)
}

fn drain(host: &mut Host, now: Instant, mtu: usize) {
    let mut n = 0;
    while let Some(f) = host.transmit(now) {
        n += 1;
        assert!(
            n <= MAX_FRAMES_PER_STEP,
            "host_input: more than {MAX_FRAMES_PER_STEP} frames in one step"
        );
        assert!(
            f.len() <= mtu + 14,
            "host_input: {} byte frame exceeds the MTU",
            f.len()
        );
        let repr = FrameRepr::parse(&f)
            .unwrap_or_else(|e| panic!("host_input: emitted frame does not parse: {e:?}"));
        assert_eq!(
            repr.eth.src_addr,
            EthernetAddress(HOST_MAC),
            "host_input: frame from another MAC"
        );
        if let FramePayload::Ipv4(ip, _) = &repr.payload {
            assert_eq!(
                ip.src_addr, HOST_IP,
                "host_input: datagram from another address"
            );
        }
    }
    if let Some(t) = host.poll_at() {
        assert!(
            t > now,
            "host_input: poll_at {t:?} not in the future (busy loop)"
        );
    }
}

/// Runs one input; panics on a broken oracle.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let profile = Profile::linux();
    let mtu = profile.mtu;
    let max_conns = BACKLOG as usize + profile.max_syn_backlog as usize + 4;
    let mut host = Host::new(
        HostConfig {
            mac: EthernetAddress(HOST_MAC),
            ipv4: HOST_IP,
            prefix_len: 24,
            gateway: None,
            profile,
            static_neighbors: Vec::new(),
        },
        u.arbitrary().unwrap_or(0),
    );
    let listener = host.socket(SocketType::Stream).expect("socket");
    host.bind(listener, SocketAddrV4::new(HOST_IP, PORT))
        .expect("bind");
    host.listen(listener, BACKLOG).expect("listen");
    let mut fds: Vec<Fd> = Vec::new();
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; 4096];
    for _ in 0..MAX_STEPS {
        if u.is_empty() {
            break;
        }
        match u.arbitrary::<u8>().unwrap_or(0) % 16 {
            0 => {
                let ms = i64::from(u.arbitrary::<u16>().unwrap_or(0));
                now += Duration::from_millis(ms * 10);
                // Run the timers the host asks for up to the new time.
                let mut guard = 0;
                while let Some(t) = host.poll_at() {
                    if t > now || guard > 10_000 {
                        break;
                    }
                    guard += 1;
                    drain(&mut host, t.max(Instant::ZERO), mtu);
                }
            }
            1 => match host.accept(listener) {
                Ok((fd, _)) => fds.push(fd),
                Err(Errno::EAGAIN) => {}
                Err(e) => panic!("host_input: accept: {e:?}"),
            },
            2 => {
                if let Some(&fd) = fds.first() {
                    let _ = host.recv(now, fd, &mut buf);
                    let _ = host.send(now, fd, &buf[..64]);
                }
            }
            3 => {
                if let Some(fd) = fds.pop() {
                    let _ = host.close(now, fd);
                }
            }
            _ => {
                let f = frame(&mut u);
                host.receive(now, &f);
            }
        }
        drain(&mut host, now, mtu);
        assert!(
            host.connection_count() <= max_conns,
            "host_input: {} connections (bound {max_conns})",
            host.connection_count()
        );
    }
}
