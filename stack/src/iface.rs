//! The host: one Ethernet interface with one IPv4 address, its neighbour
//! cache, ICMP echo, and the TCP connection table. Sans-IO: frames go in with
//! [`Host::receive`] and come out of [`Host::transmit`]; time is given by the
//! caller; all randomness comes from the seed given to [`Host::new`].

use crate::arp::{NeighborCache, Resolve};
use crate::config::Profile;
use crate::rand::Rng;
use crate::socket::{Conn, Socket};
use crate::tcp::isn::IsnGenerator;
use crate::tcp::Segment;
use crate::time::Instant;
use crate::vecmap::VecMap;
use crate::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetAddress, EthernetRepr, FramePayload, FrameRepr,
    Icmpv4Repr, IpPayload, IpProtocol, Ipv4Repr,
};
use core::net::Ipv4Addr;
use std::collections::{BTreeMap, VecDeque};

/// Static configuration of a [`Host`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Our MAC address.
    pub mac: EthernetAddress,
    /// Our IPv4 address.
    pub ipv4: Ipv4Addr,
    /// Prefix length of the on-link subnet.
    pub prefix_len: u8,
    /// Default gateway, if any (off-link destinations are unreachable without one).
    pub gateway: Option<Ipv4Addr>,
    /// Tunables.
    pub profile: Profile,
    /// Permanent neighbour entries.
    pub static_neighbors: Vec<(Ipv4Addr, EthernetAddress)>,
}

/// A network host: the whole stack behind one interface.
#[derive(Debug)]
pub struct Host {
    pub(crate) config: HostConfig,
    pub(crate) rng: Rng,
    pub(crate) isn: IsnGenerator,
    pub(crate) neighbors: NeighborCache,
    pub(crate) tx: VecDeque<Vec<u8>>,
    pub(crate) sockets: BTreeMap<i32, Socket>,
    /// Boxed: a removal moves the entries after it (see `VecMap`).
    pub(crate) conns: VecMap<u64, Box<Conn>>,
    pub(crate) next_conn: u64,
    pub(crate) last_now: Instant,
    pub(crate) icmp_limiter: crate::icmp::RateLimiter,
    /// Frames handed to [`Host::receive`] so far (the interface's rx_packets).
    pub(crate) rx_frames: u64,
    /// UDP sockets by fd (their numbers are reserved in `sockets` too).
    pub(crate) udp: BTreeMap<i32, crate::udp::UdpSocket>,
    /// IPv4 datagrams being reassembled.
    pub(crate) frags: crate::ipfrag::Reassembler,
    /// Subnets we answer who-has for (proxy ARP), as (network, prefix).
    pub(crate) proxy_arp: Vec<(Ipv4Addr, u8)>,
}

impl Host {
    /// A host with the given configuration; `seed` determines every random choice.
    pub fn new(config: HostConfig, seed: u64) -> Host {
        let mut rng = Rng::new(seed);
        let isn = IsnGenerator::new(rng.next_u64(), rng.next_u64());
        let p = &config.profile;
        let mut neighbors = NeighborCache::new(
            p.arp_cache_size,
            p.arp_pending_bytes,
            p.arp_retrans,
            p.arp_solicit,
        )
        .with_aging(crate::arp::Aging {
            reachable: p.arp_reachable,
            delay_probe: p.arp_delay_probe,
            ucast_solicit: p.arp_ucast_solicit,
        });
        for (ip, mac) in &config.static_neighbors {
            neighbors.add_static(*ip, *mac);
        }
        let icmp_limiter = crate::icmp::RateLimiter::new(p.icmp_ratelimit, p.icmp_burst, 1024);
        let p = p.clone();
        Host {
            config,
            rng,
            isn,
            neighbors,
            tx: VecDeque::new(),
            sockets: BTreeMap::new(),
            conns: VecMap::new(),
            next_conn: 1,
            last_now: Instant::ZERO,
            icmp_limiter,
            rx_frames: 0,
            udp: BTreeMap::new(),
            frags: crate::ipfrag::Reassembler::new(p.ipfrag_time, p.ipfrag_mem),
            proxy_arp: Vec::new(),
        }
    }

    /// Frames handed to [`Host::receive`] so far, parseable or not (as an
    /// interface's rx_packets counter). A real-time driver's caller uses it to
    /// know that a frame it put on the wire has been processed.
    pub fn frames_received(&self) -> u64 {
        self.rx_frames
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The tunables.
    pub fn profile(&self) -> &Profile {
        &self.config.profile
    }

    /// The tunables, to change (a harness mapping a sysctl, say). Like a
    /// Linux sysctl, a change applies to sockets and connections created
    /// after it; the neighbour cache, reassembly and ICMP limits keep the
    /// values they were built with.
    pub fn profile_mut(&mut self) -> &mut Profile {
        &mut self.config.profile
    }

    fn note_time(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    /// Whether `ip` is on the local subnet.
    pub fn is_on_link(&self, ip: Ipv4Addr) -> bool {
        let bits = u32::from(self.config.prefix_len.min(32));
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        u32::from(ip) & mask == u32::from(self.config.ipv4) & mask
    }

    pub(crate) fn subnet_broadcast(&self) -> Ipv4Addr {
        let bits = u32::from(self.config.prefix_len.min(32));
        let host_mask = if bits >= 32 { 0 } else { u32::MAX >> bits };
        Ipv4Addr::from(u32::from(self.config.ipv4) | host_mask)
    }

    /// The next hop for `dst`: itself if on-link, else the gateway.
    pub fn next_hop(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        if self.is_on_link(dst) {
            Some(dst)
        } else {
            self.config.gateway
        }
    }

    /// Answer who-has for addresses of `net`/`prefix` with our own MAC
    /// (proxy ARP, RFC 1027), as a host that routes that subnet out of
    /// another interface: the range may be a more specific part of our own
    /// subnet (longest prefix wins, as in Linux's routing); the rest of
    /// our link is never proxied (Linux arp_fwd_proxy: only targets routed
    /// out of another interface).
    pub fn add_proxy_arp(&mut self, net: Ipv4Addr, prefix: u8) {
        self.proxy_arp.push((net, prefix.min(32)));
    }

    fn proxies(&self, ip: Ipv4Addr) -> bool {
        ip != self.config.ipv4
            && self.proxy_arp.iter().any(|&(net, p)| {
                let mask = if p == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(p))
                };
                u32::from(ip) & mask == u32::from(net) & mask
            })
    }

    /// The interface came up. With `Profile::arp_notify`, announce our
    /// address: a who-has for it from it, broadcast (RFC 5227 2.3 ARP
    /// Announcement; Linux inetdev_send_gratuitous_arp on NETDEV_UP:
    /// sender and target our address, target MAC zero).
    pub fn interface_up(&mut self, now: Instant) {
        self.note_time(now);
        if self.config.profile.arp_notify {
            let me = self.config.ipv4;
            self.arp_request(me);
        }
    }

    /// Feed one received Ethernet frame. Never panics; malformed frames are dropped.
    pub fn receive(&mut self, now: Instant, frame: &[u8]) {
        self.note_time(now);
        self.rx_frames = self.rx_frames.wrapping_add(1);
        let Ok(parsed) = FrameRepr::parse(frame) else {
            return;
        };
        let dst = parsed.eth.dst_addr;
        if dst != self.config.mac && !dst.is_broadcast() {
            return;
        }
        match parsed.payload {
            FramePayload::Arp(arp) => self.process_arp(now, &arp, dst == self.config.mac),
            FramePayload::Ipv4(ip, payload) => {
                let total = ip.options.wire_len() + crate::wire::IPV4_HEADER_LEN + ip.payload_len;
                let raw = frame.get(14..14 + total).unwrap_or(&[]);
                self.process_ipv4(now, &ip, payload, raw)
            }
            FramePayload::Unknown(_) => {}
        }
    }

    /// RFC 826 packet reception. `unicast`: the frame was addressed to our
    /// MAC (a reply so addressed answers our request: Linux makes the entry
    /// REACHABLE only then).
    fn process_arp(&mut self, now: Instant, arp: &ArpRepr, unicast: bool) {
        let sip = arp.source_protocol_addr;
        let sha = arp.source_hardware_addr;
        if sip.is_unspecified() || sip == self.config.ipv4 || !sha.is_unicast() {
            return;
        }
        let proxied =
            arp.operation == ArpOperation::Request && self.proxies(arp.target_protocol_addr);
        let for_us = arp.target_protocol_addr == self.config.ipv4 || proxied;
        // RFC 826: merge the sender if known; add it if we are the target of a request.
        let create = for_us && arp.operation == ArpOperation::Request;
        let confirmed = unicast && arp.operation == ArpOperation::Reply;
        let flushed = self.neighbors.learn(now, sip, sha, create, confirmed);
        for mut f in flushed {
            if let Some(d) = f.get_mut(0..6) {
                d.copy_from_slice(sha.as_bytes());
            }
            self.push_tx(f);
        }
        if for_us && arp.operation == ArpOperation::Request {
            // Reply unicast to the requester; 42 bytes, no padding (as Linux on veth).
            let reply = FrameRepr {
                eth: EthernetRepr {
                    src_addr: self.config.mac,
                    dst_addr: sha,
                    ethertype: EtherType::Arp,
                },
                payload: FramePayload::Arp(ArpRepr {
                    operation: ArpOperation::Reply,
                    source_hardware_addr: self.config.mac,
                    // The address asked about: ours, or one we proxy for.
                    source_protocol_addr: arp.target_protocol_addr,
                    target_hardware_addr: sha,
                    target_protocol_addr: sip,
                }),
            };
            self.push_tx(reply.to_vec());
        }
    }

    fn process_ipv4(&mut self, now: Instant, ip: &Ipv4Repr, payload: IpPayload<'_>, raw: &[u8]) {
        let to_us = ip.dst_addr == self.config.ipv4;
        let bcast = ip.dst_addr == Ipv4Addr::BROADCAST || ip.dst_addr == self.subnet_broadcast();
        // No forwarding: anything not for us is dropped silently. TTL is not
        // checked for local delivery (as Linux).
        if !to_us && !bcast {
            return;
        }
        match payload {
            IpPayload::Icmp(Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }) if to_us => {
                // RFC 1122 3.2.2.6 / RFC 792; Linux icmp_reply: TTL 64, DF clear,
                // TOS of the request. Broadcast echo is ignored
                // (Linux icmp_echo_ignore_broadcasts = 1).
                let reply = Ipv4Repr {
                    tos: ip.tos,
                    ident: self.rng.next_u16(),
                    ..Ipv4Repr::unfragmented(
                        self.config.ipv4,
                        ip.src_addr,
                        IpProtocol::Icmp,
                        self.config.profile.ttl,
                        8 + data.len(),
                    )
                };
                let icmp = Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                let frame = FrameRepr {
                    eth: self.eth_header(EthernetAddress([0; 6])),
                    payload: FramePayload::Ipv4(reply, IpPayload::Icmp(icmp)),
                };
                let bytes = frame.to_vec();
                self.route_frame(now, ip.src_addr, bytes);
            }
            IpPayload::Tcp(repr, data) if to_us => {
                // TCP traffic from a neighbour confirms it is reachable
                // (RFC 4861 7.3.1's upper-layer hint; Linux TCP confirms
                // when ACKs advance: approximated by any segment).
                if let Some(hop) = self.next_hop(ip.src_addr) {
                    self.neighbors.confirm(now, hop);
                }
                self.tcp_input(now, ip.src_addr, ip.dst_addr, &repr, data);
            }
            IpPayload::Udp(udp, data) => {
                let src = core::net::SocketAddrV4::new(ip.src_addr, udp.src_port);
                let dst = core::net::SocketAddrV4::new(ip.dst_addr, udp.dst_port);
                // No socket: RFC 1122 4.1.3.1 / RFC 792 port unreachable
                // (Linux __udp4_lib_rcv → icmp_send), never about a
                // broadcast datagram (RFC 1122 3.2.2).
                if !self.udp_input(src, dst, bcast, data) && to_us {
                    self.icmp_error(
                        now,
                        ip,
                        3,
                        crate::wire::dst_unreachable::PORT_UNREACHABLE,
                        raw,
                    );
                }
            }
            IpPayload::Fragment(data) => self.process_fragment(now, ip, data, raw),
            IpPayload::Icmp(Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu,
                data: quoted,
            }) if code == crate::wire::dst_unreachable::FRAG_NEEDED && to_us => {
                self.icmp_frag_needed(next_hop_mtu, quoted);
            }
            // Other ICMP errors are not delivered to TCP (RFC 5927 leaves
            // soft errors to the timers; Linux reports them only to the
            // application, which the script language cannot see).
            _ => {}
        }
    }

    /// RFC 1191: a fragmentation-needed quoting a TCP segment we sent (IP
    /// header + at least 8 bytes: ports and sequence number) lowers that
    /// connection's path MTU.
    fn icmp_frag_needed(&mut self, mtu: u16, quoted: &[u8]) {
        let Some(&vihl) = quoted.first() else {
            return;
        };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 || quoted.len() < ihl + 8 || quoted[9] != 6 {
            return;
        }
        let ip4 = |o: usize| {
            core::net::Ipv4Addr::new(quoted[o], quoted[o + 1], quoted[o + 2], quoted[o + 3])
        };
        let (src, dst) = (ip4(12), ip4(16));
        if src != self.config.ipv4 {
            return;
        }
        let t = &quoted[ihl..];
        let sport = u16::from_be_bytes([t[0], t[1]]);
        let dport = u16::from_be_bytes([t[2], t[3]]);
        let seq = u32::from_be_bytes([t[4], t[5], t[6], t[7]]);
        self.tcp_frag_needed(
            core::net::SocketAddrV4::new(src, sport),
            core::net::SocketAddrV4::new(dst, dport),
            seq,
            u32::from(mtu),
        );
    }

    /// A fragment for us (RFC 791 3.2 reassembly, `crate::ipfrag`): when it
    /// completes its datagram, the datagram is processed as if received
    /// whole.
    fn process_fragment(&mut self, now: Instant, ip: &Ipv4Repr, data: &[u8], raw: &[u8]) {
        use crate::ipfrag::{FragKey, Insert};
        let key = FragKey {
            src: ip.src_addr,
            dst: ip.dst_addr,
            protocol: u8::from(ip.protocol),
            ident: ip.ident,
        };
        let offset = usize::from(ip.frag_offset);
        let Insert::Complete(payload) =
            self.frags
                .insert(now, key, offset, ip.more_frags, data, raw)
        else {
            return;
        };
        // Rebuild the whole datagram (the first fragment's header without
        // its fragment fields; options dropped) and parse it as received.
        let whole = Ipv4Repr {
            more_frags: false,
            frag_offset: 0,
            options: crate::wire::Ipv4Options::new(),
            payload_len: payload.len(),
            ..ip.clone()
        };
        if crate::wire::IPV4_HEADER_LEN + payload.len() > usize::from(u16::MAX) {
            return;
        }
        let frame = FrameRepr {
            eth: self.eth_header(self.config.mac),
            payload: FramePayload::Ipv4(whole, IpPayload::Unknown(&payload)),
        }
        .to_vec();
        let Ok(parsed) = FrameRepr::parse(&frame) else {
            return;
        };
        if let FramePayload::Ipv4(ip, inner) = parsed.payload {
            if !matches!(inner, IpPayload::Fragment(_)) {
                let raw = frame.get(14..).unwrap_or(&[]);
                self.process_ipv4(now, &ip, inner, raw);
            }
        }
    }

    /// Send an ICMP error about `raw` (the offending datagram) to its source,
    /// subject to the rate limit (Linux icmp_send).
    fn icmp_error(&mut self, now: Instant, ip: &Ipv4Repr, ty: u8, code: u8, raw: &[u8]) {
        if !(ty == 3 || ty == 11)
            || ip.src_addr.is_unspecified()
            || ip.src_addr.is_broadcast()
            || ip.src_addr.is_multicast()
        {
            return;
        }
        if !self.icmp_limiter.allow(now, ip.src_addr) {
            return;
        }
        let room = crate::icmp::ICMP_ERROR_MAX_LEN - crate::wire::IPV4_HEADER_LEN - 8;
        let quoted = &raw[..raw.len().min(room)];
        let icmp = if ty == 11 {
            Icmpv4Repr::TimeExceeded { code, data: quoted }
        } else {
            Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu: 0,
                data: quoted,
            }
        };
        let reply = Ipv4Repr {
            tos: crate::icmp::ICMP_ERROR_TOS,
            ident: self.rng.next_u16(),
            ..Ipv4Repr::unfragmented(
                self.config.ipv4,
                ip.src_addr,
                IpProtocol::Icmp,
                self.config.profile.ttl,
                8 + quoted.len(),
            )
        };
        let frame = FrameRepr {
            eth: self.eth_header(EthernetAddress([0; 6])),
            payload: FramePayload::Ipv4(reply, IpPayload::Icmp(icmp)),
        };
        let bytes = frame.to_vec();
        self.route_frame(now, ip.src_addr, bytes);
    }

    fn eth_header(&self, dst: EthernetAddress) -> EthernetRepr {
        EthernetRepr {
            src_addr: self.config.mac,
            dst_addr: dst,
            ethertype: EtherType::Ipv4,
        }
    }

    pub(crate) fn push_tx(&mut self, mut frame: Vec<u8>) {
        // RFC 894: pad the data field to 46 octets (profile: Linux on veth
        // does not).
        if self.config.profile.pad_frames && frame.len() < crate::wire::ETHERNET_MIN_FRAME_LEN {
            frame.resize(crate::wire::ETHERNET_MIN_FRAME_LEN, 0);
        }
        if self.tx.len() < self.config.profile.tx_queue {
            self.tx.push_back(frame);
        }
    }

    fn arp_request(&mut self, target: Ipv4Addr) {
        self.arp_request_to(target, EthernetAddress::BROADCAST);
    }

    /// A who-has for `target` sent to `dst` (unicast: NUD's probe of a
    /// cached entry).
    fn arp_request_to(&mut self, target: Ipv4Addr, dst: EthernetAddress) {
        let req = FrameRepr {
            eth: EthernetRepr {
                src_addr: self.config.mac,
                dst_addr: dst,
                ethertype: EtherType::Arp,
            },
            payload: FramePayload::Arp(ArpRepr {
                operation: ArpOperation::Request,
                source_hardware_addr: self.config.mac,
                source_protocol_addr: self.config.ipv4,
                target_hardware_addr: EthernetAddress([0; 6]),
                target_protocol_addr: target,
            }),
        };
        self.push_tx(req.to_vec());
    }

    /// Send an Ethernet frame carrying IPv4 to `dst`, resolving the next hop
    /// first (the destination MAC bytes are patched in). Returns false if
    /// there is no route.
    pub(crate) fn route_frame(&mut self, now: Instant, dst: Ipv4Addr, mut frame: Vec<u8>) -> bool {
        let Some(hop) = self.next_hop(dst) else {
            return false;
        };
        if dst == Ipv4Addr::BROADCAST || dst == self.subnet_broadcast() {
            if let Some(d) = frame.get_mut(0..6) {
                d.copy_from_slice(EthernetAddress::BROADCAST.as_bytes());
            }
            self.push_tx(frame);
            return true;
        }
        match self.neighbors.resolve_or_queue(now, hop, frame.clone()) {
            Resolve::Known(mac) => {
                if let Some(d) = frame.get_mut(0..6) {
                    d.copy_from_slice(mac.as_bytes());
                }
                self.push_tx(frame);
            }
            Resolve::QueuedProbe => self.arp_request(hop),
            Resolve::Queued | Resolve::Dropped => {}
        }
        true
    }

    /// Emit a TCP segment from `src` to `dst` (DF set: Linux does PMTU discovery).
    pub(crate) fn send_tcp(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, seg: &Segment) {
        let ip = Ipv4Repr {
            ident: self.rng.next_u16(),
            dont_frag: true,
            ..Ipv4Repr::unfragmented(
                src,
                dst,
                IpProtocol::Tcp,
                self.config.profile.ttl,
                seg.repr.header_len() + seg.payload.len(),
            )
        };
        let frame = FrameRepr {
            eth: self.eth_header(EthernetAddress([0; 6])),
            payload: FramePayload::Ipv4(ip, IpPayload::Tcp(seg.repr, &seg.payload)),
        };
        let bytes = frame.to_vec();
        self.route_frame(now, dst, bytes);
    }

    /// Run timers due at `now`.
    fn run_timers(&mut self, now: Instant) {
        let r = self.neighbors.poll(now);
        for ip in r.probes {
            self.arp_request(ip);
        }
        for (ip, mac) in r.unicast_probes {
            self.arp_request_to(ip, mac);
        }
        for ip in r.failed {
            self.neighbor_failed(ip);
        }
        // RFC 792 / RFC 1122 3.3.2: time exceeded, fragment reassembly,
        // about a datagram whose first fragment had arrived.
        for first in self.frags.expire(now) {
            if let Ok(p) = crate::wire::Ipv4Packet::new_checked(first.as_slice()) {
                if let Ok(ip) = Ipv4Repr::parse(&p) {
                    self.icmp_error(now, &ip, 11, 1, &first);
                }
            }
        }
        self.tcp_timers(now);
    }

    /// Resolution of `hop` failed: report EHOSTUNREACH to connections using it.
    fn neighbor_failed(&mut self, hop: Ipv4Addr) {
        let ids: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| self.next_hop(*c.tcb.remote.ip()) == Some(hop))
            .map(|(k, _)| *k)
            .collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                c.tcb.host_unreachable();
            }
        }
        self.reap();
    }

    /// The next frame to put on the wire, if any; runs due timers first.
    /// Call until `None`.
    pub fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.note_time(now);
        if let Some(f) = self.tx.pop_front() {
            return Some(f);
        }
        self.run_timers(now);
        self.tcp_output(now);
        self.tx.pop_front()
    }

    /// The earliest time at which [`transmit`](Self::transmit) has something
    /// to do: the last time seen if output is pending, else the earliest timer.
    pub fn poll_at(&self) -> Option<Instant> {
        if !self.tx.is_empty() {
            return Some(self.last_now);
        }
        let mut t = crate::tcp::timer::earliest(self.neighbors.poll_at(), self.frags.poll_at());
        for c in self.conns.values() {
            if c.tcb.wants_output() {
                return Some(self.last_now);
            }
            t = crate::tcp::timer::earliest(t, c.tcb.poll_at());
        }
        t
    }
}
