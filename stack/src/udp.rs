//! UDP sockets (RFC 768, RFC 1122 4.1) with Linux's semantics where a
//! script can see them:
//!
//! * `socket(SOCK_DGRAM)` takes the lowest free fd, shared with TCP sockets;
//! * a datagram is delivered to the socket bound to its port whose local
//!   address is the destination or the wildcard, and, if the socket is
//!   connected, whose peer is the source (Linux __udp4_lib_lookup scoring);
//!   broadcast datagrams (255.255.255.255 or the subnet's directed
//!   broadcast) reach only wildcard-bound sockets;
//! * no socket: ICMP port unreachable for a unicast datagram (RFC 1122
//!   4.1.3.1), nothing for a broadcast one (RFC 1122 3.2.2: no ICMP error
//!   about a broadcast datagram);
//! * a zero checksum means "none" and is accepted (RFC 768; the wire parser
//!   verifies it otherwise);
//! * sending to a broadcast address needs SO_BROADCAST, EACCES otherwise
//!   (Linux udp_sendmsg: RTCF_BROADCAST without SOCK_BROADCAST);
//! * a datagram larger than 65507 bytes is EMSGSIZE; one larger than the
//!   MTU is fragmented (RFC 791), others carry DF (Linux's default
//!   IP_PMTUDISC_WANT sets DF on what fits the path MTU);
//! * the API is `Host::udp_*` (`socket(SocketType::Dgram)` and `close`
//!   dispatch here; the other generic calls of `crate::socket` are TCP's
//!   and do not, yet);
//! * the receive queue is bounded in bytes (Linux: SO_RCVBUF,
//!   net.core.rmem_default 212992, charged per datagram with overhead);
//!   datagrams beyond it are dropped.

use crate::iface::Host;
use crate::socket::{Errno, Fd, Readiness, SockOpt, Socket};
use crate::time::Instant;
use crate::wire::{
    EthernetAddress, FramePayload, FrameRepr, IpPayload, IpProtocol, Ipv4Repr, UdpRepr,
    ETHERNET_HEADER_LEN, IPV4_HEADER_LEN, UDP_HEADER_LEN,
};
use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::VecDeque;

/// Largest UDP payload in one IPv4 datagram (65535 − 20 − 8).
pub const UDP_MAX_PAYLOAD: usize = 65_507;

/// Bytes charged per queued datagram besides its payload, as Linux charges
/// an skb's truesize (an approximation: the exact truesize depends on the
/// driver).
const DATAGRAM_OVERHEAD: usize = 768;

/// One UDP socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct UdpSocket {
    pub(crate) local: Option<SocketAddrV4>,
    pub(crate) remote: Option<SocketAddrV4>,
    pub(crate) broadcast: bool,
    pub(crate) queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
    pub(crate) queued_bytes: usize,
}

impl Host {
    /// socket(AF_INET, SOCK_DGRAM, 0).
    pub fn udp_socket(&mut self) -> Result<Fd, Errno> {
        if self.sockets.len() + self.udp.len() >= self.config.profile.max_fds {
            return Err(Errno::EMFILE);
        }
        let mut fd = 3;
        while self.sockets.contains_key(&fd) || self.udp.contains_key(&fd) {
            fd += 1;
        }
        self.udp.insert(fd, UdpSocket::default());
        // Reserve the number in the TCP table too, so TCP's allocator skips it.
        self.sockets.insert(fd, Socket::fresh());
        Ok(Fd(fd))
    }

    /// Whether `fd` is a UDP socket.
    pub fn is_udp(&self, fd: Fd) -> bool {
        self.udp.contains_key(&fd.0)
    }

    fn udp_sock(&mut self, fd: Fd) -> Result<&mut UdpSocket, Errno> {
        self.udp.get_mut(&fd.0).ok_or(Errno::EBADF)
    }

    fn udp_port_in_use(&self, port: u16) -> bool {
        self.udp
            .values()
            .any(|s| s.local.is_some_and(|a| a.port() == port))
    }

    fn udp_ephemeral(&mut self) -> Result<u16, Errno> {
        let (lo, hi) = self.config.profile.ephemeral_ports;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        let start = self.rng.next_u32() % span;
        for i in 0..span {
            let p = lo + ((start + i) % span) as u16;
            if !self.udp_port_in_use(p) {
                return Ok(p);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// bind() of a UDP socket: the address must be ours or the wildcard;
    /// port 0 picks an ephemeral port.
    pub fn udp_bind(&mut self, fd: Fd, addr: SocketAddrV4) -> Result<(), Errno> {
        if self.udp_sock(fd)?.local.is_some() {
            return Err(Errno::EINVAL);
        }
        if !addr.ip().is_unspecified() && *addr.ip() != self.config.ipv4 {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let port = if addr.port() == 0 {
            self.udp_ephemeral()?
        } else if self.udp_port_in_use(addr.port()) {
            return Err(Errno::EADDRINUSE);
        } else {
            addr.port()
        };
        self.udp_sock(fd)?.local = Some(SocketAddrV4::new(*addr.ip(), port));
        Ok(())
    }

    fn udp_autobind(&mut self, fd: Fd) -> Result<SocketAddrV4, Errno> {
        if let Some(l) = self.udp_sock(fd)?.local {
            return Ok(l);
        }
        let port = self.udp_ephemeral()?;
        let l = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        self.udp_sock(fd)?.local = Some(l);
        Ok(l)
    }

    fn is_broadcast_addr(&self, ip: Ipv4Addr) -> bool {
        ip == Ipv4Addr::BROADCAST || ip == self.subnet_broadcast()
    }

    /// The route to `dst` first, then the broadcast permission, as Linux
    /// (ip_route_output, then udp_sendmsg's RTCF_BROADCAST check): the
    /// limited broadcast 255.255.255.255 is routed like any off-link
    /// address, so without a default route it is ENETUNREACH (measured on
    /// Linux 6.18), whatever SO_BROADCAST says; the subnet's directed
    /// broadcast is on-link.
    fn udp_route_check(&self, dst: Ipv4Addr, broadcast_ok: bool) -> Result<(), Errno> {
        if self.next_hop(dst).is_none() {
            return Err(Errno::ENETUNREACH);
        }
        if self.is_broadcast_addr(dst) && !broadcast_ok {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// connect() of a UDP socket: sets the default peer and filters what is
    /// received (RFC 1122 4.1.3.4); a broadcast peer needs SO_BROADCAST.
    pub fn udp_connect(&mut self, fd: Fd, addr: SocketAddrV4) -> Result<(), Errno> {
        let broadcast_ok = self.udp_sock(fd)?.broadcast;
        self.udp_route_check(*addr.ip(), broadcast_ok)?;
        self.udp_autobind(fd)?;
        self.udp_sock(fd)?.remote = Some(addr);
        Ok(())
    }

    /// sendto() (or send()/write() on a connected socket when `to` is None).
    pub fn udp_sendto(
        &mut self,
        now: Instant,
        fd: Fd,
        data: &[u8],
        to: Option<SocketAddrV4>,
    ) -> Result<usize, Errno> {
        let s = self.udp_sock(fd)?;
        let Some(dst) = to.or(s.remote) else {
            return Err(Errno::EDESTADDRREQ);
        };
        let broadcast_ok = s.broadcast;
        if data.len() > UDP_MAX_PAYLOAD {
            return Err(Errno::EMSGSIZE);
        }
        self.udp_route_check(*dst.ip(), broadcast_ok)?;
        let local = self.udp_autobind(fd)?;
        let udp = UdpRepr {
            src_port: local.port(),
            dst_port: dst.port(),
            payload_len: data.len(),
        };
        let mtu = self.config.profile.mtu;
        let whole = UDP_HEADER_LEN + data.len();
        let ident = self.rng.next_u16();
        let ip = Ipv4Repr {
            ident,
            // Linux IP_PMTUDISC_WANT: DF on what fits the MTU.
            dont_frag: IPV4_HEADER_LEN + whole <= mtu,
            ..Ipv4Repr::unfragmented(
                self.config.ipv4,
                *dst.ip(),
                IpProtocol::Udp,
                self.config.profile.ttl,
                whole,
            )
        };
        let frame = FrameRepr {
            eth: ipv4_eth(self.config.mac),
            payload: FramePayload::Ipv4(ip.clone(), IpPayload::Udp(udp, data)),
        }
        .to_vec();
        if IPV4_HEADER_LEN + whole <= mtu {
            self.route_frame(now, *dst.ip(), frame);
        } else {
            // RFC 791 fragmentation: 8-octet aligned pieces of the datagram.
            let body = &frame[ETHERNET_HEADER_LEN + IPV4_HEADER_LEN..];
            let step = (mtu - IPV4_HEADER_LEN) / 8 * 8;
            let mut off = 0;
            while off < body.len() {
                let end = (off + step).min(body.len());
                let frag = Ipv4Repr {
                    dont_frag: false,
                    more_frags: end < body.len(),
                    frag_offset: off as u16,
                    ..ip.clone()
                };
                let f = FrameRepr {
                    eth: ipv4_eth(self.config.mac),
                    payload: FramePayload::Ipv4(frag, IpPayload::Fragment(&body[off..end])),
                }
                .to_vec();
                self.route_frame(now, *dst.ip(), f);
                off = end;
            }
        }
        Ok(data.len())
    }

    /// recvfrom(): the next datagram, truncated to `buf` (the rest of it is
    /// discarded, as without MSG_TRUNC), and its source; EAGAIN if none.
    pub fn udp_recvfrom(&mut self, fd: Fd, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), Errno> {
        let s = self.udp_sock(fd)?;
        let Some((from, d)) = s.queue.pop_front() else {
            return Err(Errno::EAGAIN);
        };
        s.queued_bytes = s.queued_bytes.saturating_sub(d.len() + DATAGRAM_OVERHEAD);
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok((n, from))
    }

    /// setsockopt() on a UDP socket: SO_BROADCAST; SO_REUSEADDR,
    /// SO_RCVBUF, SO_SNDBUF accepted and ignored; others ENOPROTOOPT.
    pub fn udp_setsockopt(&mut self, fd: Fd, opt: SockOpt, value: i32) -> Result<(), Errno> {
        let s = self.udp_sock(fd)?;
        match opt {
            SockOpt::Broadcast => s.broadcast = value != 0,
            SockOpt::ReuseAddr | SockOpt::ReusePort | SockOpt::RcvBuf | SockOpt::SndBuf => {}
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// getsockopt() on a UDP socket: SO_BROADCAST.
    pub fn udp_getsockopt(&mut self, fd: Fd, opt: SockOpt) -> Result<i32, Errno> {
        let s = self.udp_sock(fd)?;
        match opt {
            SockOpt::Broadcast => Ok(i32::from(s.broadcast)),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// close() of a UDP socket.
    pub fn udp_close(&mut self, fd: Fd) -> Result<(), Errno> {
        self.udp.remove(&fd.0).ok_or(Errno::EBADF)?;
        self.sockets.remove(&fd.0);
        Ok(())
    }

    /// poll() of a UDP socket: readable with a datagram queued; always
    /// writable (datagrams are sent at once).
    pub fn udp_readiness(&self, fd: Fd) -> Readiness {
        match self.udp.get(&fd.0) {
            Some(s) => Readiness {
                readable: !s.queue.is_empty(),
                writable: true,
                ..Readiness::default()
            },
            None => Readiness::default(),
        }
    }

    /// A received UDP datagram for us (`bcast`: sent to a broadcast
    /// address). Returns false when no socket takes it (the caller then
    /// answers a unicast datagram with port unreachable).
    pub(crate) fn udp_input(
        &mut self,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        bcast: bool,
        data: &[u8],
    ) -> bool {
        let cap = self.config.profile.udp_rcvbuf;
        // Best match: a connected socket whose peer is the source, then one
        // bound to the destination address, then the wildcard
        // (Linux compute_score).
        let mut best: Option<(u8, i32)> = None;
        for (fd, s) in &self.udp {
            let Some(l) = s.local else { continue };
            if l.port() != dst.port() {
                continue;
            }
            let mut score = 1;
            if l.ip().is_unspecified() {
            } else if *l.ip() == *dst.ip() && !bcast {
                score += 1;
            } else {
                continue;
            }
            if let Some(r) = s.remote {
                if r != src {
                    continue;
                }
                score += 2;
            }
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, *fd));
            }
        }
        let Some((_, fd)) = best else {
            return false;
        };
        if let Some(s) = self.udp.get_mut(&fd) {
            let cost = data.len() + DATAGRAM_OVERHEAD;
            if s.queued_bytes + cost <= cap {
                s.queued_bytes += cost;
                s.queue.push_back((src, data.to_vec()));
            }
        }
        true
    }
}

fn ipv4_eth(src: EthernetAddress) -> crate::wire::EthernetRepr {
    crate::wire::EthernetRepr {
        src_addr: src,
        dst_addr: EthernetAddress([0; 6]),
        ethertype: crate::wire::EtherType::Ipv4,
    }
}
