//! POSIX-like, never-blocking sockets on top of the TCP state machine: the
//! fd table (lowest free number from 3, as Linux), listen backlog and accept
//! queue, and Linux's errno semantics (observed on Linux 6.18: send() on an
//! unconnected socket is EPIPE, connect() on a listener is EISCONN, a failed
//! connect reports its error once and the next connect() starts over).

use crate::iface::Host;
use crate::tcp::state::reset_for;
use crate::tcp::{Segment, Tcb, TcpError, TcpState};
use crate::time::Instant;
use crate::wire::TcpRepr;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::VecDeque;

/// A file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub i32);

/// An error number, with Linux's numeric values.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $v:expr, $doc:expr;)*) => {
        impl Errno {
            $(#[doc = $doc] pub const $name: Errno = Errno($v);)*
            /// The symbolic name ("EAGAIN"), or "E?" if unknown.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($v => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted.";
    EACCES = 13, "Permission denied (e.g. a broadcast without SO_BROADCAST).";
    EDESTADDRREQ = 89, "Destination address required.";
    EBADF = 9, "Bad file descriptor.";
    EAGAIN = 11, "Resource temporarily unavailable (EWOULDBLOCK).";
    ENOMEM = 12, "Out of memory.";
    EINVAL = 22, "Invalid argument.";
    EMFILE = 24, "Too many open files.";
    EPIPE = 32, "Broken pipe.";
    ENOTSOCK = 88, "Not a socket.";
    EMSGSIZE = 90, "Message too long.";
    ENOPROTOOPT = 92, "Protocol not available (unknown socket option).";
    EPROTONOSUPPORT = 93, "Protocol not supported.";
    EOPNOTSUPP = 95, "Operation not supported.";
    EAFNOSUPPORT = 97, "Address family not supported.";
    EADDRINUSE = 98, "Address already in use.";
    EADDRNOTAVAIL = 99, "Cannot assign requested address.";
    ENETUNREACH = 101, "Network is unreachable.";
    ECONNABORTED = 103, "Software caused connection abort.";
    ECONNRESET = 104, "Connection reset by peer.";
    ENOBUFS = 105, "No buffer space available.";
    EISCONN = 106, "Transport endpoint is already connected.";
    ENOTCONN = 107, "Transport endpoint is not connected.";
    ETIMEDOUT = 110, "Connection timed out.";
    ECONNREFUSED = 111, "Connection refused.";
    EHOSTUNREACH = 113, "No route to host.";
    EALREADY = 114, "Operation already in progress.";
    EINPROGRESS = 115, "Operation now in progress.";
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Errno {}

impl From<TcpError> for Errno {
    fn from(e: TcpError) -> Errno {
        match e {
            TcpError::Refused => Errno::ECONNREFUSED,
            TcpError::Reset => Errno::ECONNRESET,
            TcpError::ResetAfterFin => Errno::EPIPE,
            TcpError::TimedOut => Errno::ETIMEDOUT,
            TcpError::HostUnreachable => Errno::EHOSTUNREACH,
        }
    }
}

/// Socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    /// SOCK_STREAM (TCP).
    Stream,
    /// SOCK_DGRAM (UDP; see `crate::udp`).
    Dgram,
}

/// Socket options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockOpt {
    /// SO_REUSEADDR.
    ReuseAddr,
    /// SO_REUSEPORT (accepted, not implemented).
    ReusePort,
    /// TCP_NODELAY.
    NoDelay,
    /// SO_KEEPALIVE (Linux defaults: 7200 s idle, 75 s interval, 9 probes).
    KeepAlive,
    /// TCP_KEEPIDLE, seconds (1..=32767).
    KeepIdle,
    /// TCP_KEEPINTVL, seconds (1..=32767).
    KeepIntvl,
    /// TCP_KEEPCNT (1..=127).
    KeepCnt,
    /// SO_LINGER: value < 0 turns lingering off; value >= 0 turns it on with
    /// that many seconds (0: close() resets the connection).
    Linger,
    /// SO_RCVBUF (sets the receive window as Linux does; see `Tcb::set_rcvbuf`).
    RcvBuf,
    /// SO_SNDBUF (stored and reported as Linux does; the send buffer size is the profile's).
    SndBuf,
    /// TCP_SYNCNT: SYN retransmissions before connect() fails with
    /// ETIMEDOUT (1..=127; Linux default net.ipv4.tcp_syn_retries).
    SynCnt,
    /// TCP_MAXSEG: caps the MSS advertised and used (88..=32767 on Linux).
    MaxSeg,
    /// TCP_LINGER2: seconds an orphaned connection stays in FIN-WAIT-2
    /// (0: net.ipv4.tcp_fin_timeout; negative: none, it is reset; at most
    /// 120, Linux TCP_FIN_TIMEOUT_MAX).
    Linger2,
    /// SO_BROADCAST: UDP sockets may send to broadcast addresses
    /// (accepted and ignored on TCP sockets, as Linux).
    Broadcast,
    /// Any other (level, name): ENOPROTOOPT.
    Other(i32, i32),
}

/// shutdown() direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SHUT_RD.
    Read,
    /// SHUT_WR.
    Write,
    /// SHUT_RDWR.
    Both,
}

/// What poll() would report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness {
    /// POLLIN.
    pub readable: bool,
    /// POLLOUT.
    pub writable: bool,
    /// POLLHUP.
    pub hup: bool,
    /// POLLERR, with the pending error.
    pub error: Option<Errno>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Fresh,
    Listener {
        backlog: u32,
        accept_queue: VecDeque<u64>,
        syn_queue: Vec<u64>,
    },
    Conn {
        id: u64,
        connect_reported: bool,
    },
}

/// One entry of the fd table.
#[derive(Debug, Clone)]
pub(crate) struct Socket {
    pub(crate) local: Option<SocketAddrV4>,
    pub(crate) reuseaddr: bool,
    pub(crate) nodelay: bool,
    pub(crate) keepalive: bool,
    pub(crate) keep_idle: Option<i32>,
    pub(crate) keep_intvl: Option<i32>,
    pub(crate) keep_cnt: Option<i32>,
    pub(crate) syn_cnt: Option<i32>,
    pub(crate) max_seg: Option<i32>,
    pub(crate) linger: Option<i32>,
    pub(crate) linger2: Option<i32>,
    /// SO_RCVBUF / SO_SNDBUF as Linux stores them (doubled), if set.
    pub(crate) rcvbuf: Option<i32>,
    pub(crate) sndbuf: Option<i32>,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    pub(crate) error_taken: bool,
    pub(crate) kind: Kind,
}

impl Socket {
    /// A new fd-table entry with every option at its default (TCP, or a
    /// number reserved for a UDP socket).
    pub(crate) fn fresh() -> Socket {
        Socket {
            local: None,
            reuseaddr: false,
            nodelay: false,
            keepalive: false,
            keep_idle: None,
            keep_intvl: None,
            keep_cnt: None,
            syn_cnt: None,
            max_seg: None,
            linger: None,
            linger2: None,
            rcvbuf: None,
            sndbuf: None,
            shut_rd: false,
            shut_wr: false,
            error_taken: false,
            kind: Kind::Fresh,
        }
    }

    /// The options a connection's TCB carries: TCP_NODELAY, TCP_SYNCNT
    /// (RFC 9293 MUST-21), TCP_MAXSEG before the handshake (3.7.1) and
    /// TCP_LINGER2. Keep-alive needs the profile's defaults; see
    /// `Host::keepalive_params`.
    fn apply_to(&self, tcb: &mut Tcb) {
        tcb.set_nodelay(self.nodelay);
        tcb.set_syn_retries(self.syn_cnt.map(|v| v as u32));
        if let Some(m) = self.max_seg {
            // setsockopt bounded it to 88..=32767.
            tcb.set_user_mss(m as u16);
        }
        tcb.set_linger2(self.linger2);
        if let Some(r) = self.rcvbuf {
            tcb.set_rcvbuf(r as u32);
        }
        if let Some(b) = self.sndbuf {
            tcb.set_sndbuf(b as u32);
        }
    }
}

/// A connection in the table (owned by an fd, a listener's queues, or orphaned).
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    pub(crate) tcb: Tcb,
    pub(crate) fd: Option<i32>,
    pub(crate) listener: Option<i32>,
}

impl Host {
    fn alloc_fd(&self) -> Result<i32, Errno> {
        if self.sockets.len() >= self.config.profile.max_fds {
            return Err(Errno::EMFILE);
        }
        let mut fd = 3;
        for k in self.sockets.keys() {
            if *k == fd {
                fd += 1;
            } else if *k > fd {
                break;
            }
        }
        Ok(fd)
    }

    fn sock(&self, fd: Fd) -> Result<&Socket, Errno> {
        self.sockets.get(&fd.0).ok_or(Errno::EBADF)
    }

    fn sock_mut(&mut self, fd: Fd) -> Result<&mut Socket, Errno> {
        self.sockets.get_mut(&fd.0).ok_or(Errno::EBADF)
    }

    /// socket(AF_INET, ty, 0).
    pub fn socket(&mut self, ty: SocketType) -> Result<Fd, Errno> {
        if ty == SocketType::Dgram {
            return self.udp_socket();
        }
        let fd = self.alloc_fd()?;
        self.sockets.insert(fd, Socket::fresh());
        Ok(Fd(fd))
    }

    /// setsockopt(); unknown options give ENOPROTOOPT.
    pub fn setsockopt(&mut self, fd: Fd, opt: SockOpt, value: i32) -> Result<(), Errno> {
        let s = self.sock_mut(fd)?;
        match opt {
            SockOpt::ReuseAddr => s.reuseaddr = value != 0,
            SockOpt::NoDelay => s.nodelay = value != 0,
            SockOpt::KeepAlive => s.keepalive = value != 0,
            // Linux do_tcp_setsockopt: TCP_KEEPIDLE/KEEPINTVL 1..=MAX_TCP_KEEPIDLE, KEEPCNT 1..=127.
            SockOpt::KeepIdle | SockOpt::KeepIntvl if !(1..=32767).contains(&value) => {
                return Err(Errno::EINVAL)
            }
            SockOpt::KeepCnt if !(1..=127).contains(&value) => return Err(Errno::EINVAL),
            SockOpt::KeepIdle => s.keep_idle = Some(value),
            SockOpt::KeepIntvl => s.keep_intvl = Some(value),
            SockOpt::KeepCnt => s.keep_cnt = Some(value),
            // Linux do_tcp_setsockopt: TCP_SYNCNT 1..=MAX_TCP_SYNCNT (127).
            SockOpt::SynCnt if !(1..=127).contains(&value) => return Err(Errno::EINVAL),
            SockOpt::SynCnt => s.syn_cnt = Some(value),
            // Linux: TCP_MAXSEG 0 restores the default; otherwise
            // TCP_MIN_MSS (88) ..= MAX_TCP_WINDOW (32767).
            SockOpt::MaxSeg if value != 0 && !(88..=32767).contains(&value) => {
                return Err(Errno::EINVAL)
            }
            SockOpt::MaxSeg => s.max_seg = (value != 0).then_some(value),
            SockOpt::Linger => s.linger = (value >= 0).then_some(value),
            // Linux do_tcp_setsockopt TCP_LINGER2: < 0 → -1, 0 → the sysctl,
            // capped at TCP_FIN_TIMEOUT_MAX (120 s).
            SockOpt::Linger2 => {
                s.linger2 = match value {
                    v if v < 0 => Some(-1),
                    0 => None,
                    v => Some(v.min(120)),
                }
            }
            // Linux sock_setsockopt: min(value, net.core.rmem_max / wmem_max
            // = 212992) doubled, at least SOCK_MIN_RCVBUF 2304 /
            // SOCK_MIN_SNDBUF 4608; it also locks the size (the window,
            // see `Tcb::set_rcvbuf`; what a write takes, with
            // `Profile::send_memory`, see `Tcb::set_sndbuf`).
            SockOpt::RcvBuf => s.rcvbuf = Some((value.clamp(0, 212_992) * 2).max(2304)),
            SockOpt::SndBuf => s.sndbuf = Some((value.clamp(0, 212_992) * 2).max(4608)),
            SockOpt::ReusePort => {}
            SockOpt::Broadcast => {}
            SockOpt::Other(..) => return Err(Errno::ENOPROTOOPT),
        }
        let nodelay = s.nodelay;
        let linger2 = s.linger2;
        let syn_cnt = s.syn_cnt;
        let sndbuf = s.sndbuf.filter(|_| opt == SockOpt::SndBuf);
        let ka = self.keepalive_params(fd);
        let now = self.last_now;
        if let Ok(Some((id, _))) = self.conn_of(fd) {
            if let Some(c) = self.conns.get_mut(&id) {
                c.tcb.set_nodelay(nodelay);
                c.tcb.set_linger2(linger2);
                // Linux reads icsk_syn_retries at every SYN timeout.
                c.tcb.set_syn_retries(syn_cnt.map(|v| v as u32));
                if let Some(b) = sndbuf {
                    c.tcb.set_sndbuf(b as u32);
                }
                if matches!(opt, SockOpt::KeepAlive | SockOpt::KeepIdle) {
                    c.tcb.set_keepalive(now, ka);
                } else if matches!(opt, SockOpt::KeepIntvl | SockOpt::KeepCnt) && ka.is_some() {
                    c.tcb.update_keepalive(ka);
                }
            }
        }
        Ok(())
    }

    /// getsockopt() of an integer option, with Linux's defaults where the
    /// socket has not set one. Options outside [`SockOpt`] and SO_REUSEPORT
    /// give ENOPROTOOPT.
    pub fn getsockopt(&self, fd: Fd, opt: SockOpt) -> Result<i32, Errno> {
        let s = self.sock(fd)?;
        let p = &self.config.profile;
        let secs = |d: crate::time::Duration| (d.total_micros() / 1_000_000) as i32;
        Ok(match opt {
            SockOpt::ReuseAddr => i32::from(s.reuseaddr),
            SockOpt::NoDelay => i32::from(s.nodelay),
            SockOpt::KeepAlive => i32::from(s.keepalive),
            SockOpt::KeepIdle => s.keep_idle.unwrap_or_else(|| secs(p.keepalive_time)),
            SockOpt::KeepIntvl => s.keep_intvl.unwrap_or_else(|| secs(p.keepalive_intvl)),
            SockOpt::KeepCnt => s.keep_cnt.unwrap_or(p.keepalive_probes as i32),
            SockOpt::SynCnt => s.syn_cnt.unwrap_or(p.syn_retries as i32),
            SockOpt::Linger => s.linger.unwrap_or(-1),
            // Linux tcp_getsockopt TCP_LINGER2: -1, or the seconds in force.
            SockOpt::Linger2 => s.linger2.unwrap_or_else(|| secs(p.fin_wait2_timeout)),
            // Linux tcp_getsockopt TCP_MAXSEG: the connection's mss_cache
            // once there is one, else the user's value or TCP_MSS_DEFAULT 536.
            SockOpt::MaxSeg => match self.conn_of(fd) {
                Ok(Some((_, c))) => c.tcb.mss() as i32,
                _ => s.max_seg.unwrap_or(536),
            },
            // Linux's defaults: tcp_rmem[1] (the oracle pins 131072;
            // receive auto-tuning is not modelled) and sk_sndbuf, tcp_wmem[1]
            // until the handshake expands it (`Profile::send_memory`).
            SockOpt::RcvBuf => s.rcvbuf.unwrap_or(131_072),
            SockOpt::SndBuf => {
                let modelled = match self.conn_of(fd) {
                    Ok(Some((_, c))) => c.tcb.sndbuf().map(|b| b as usize),
                    _ => None,
                };
                let set = s.sndbuf.map(|v| v as usize);
                let b = modelled.or(set).unwrap_or(p.send_buffer);
                b.min(i32::MAX as usize) as i32
            }
            SockOpt::ReusePort | SockOpt::Broadcast | SockOpt::Other(..) => {
                return Err(Errno::ENOPROTOOPT)
            }
        })
    }

    fn keepalive_params(
        &self,
        fd: Fd,
    ) -> Option<(crate::time::Duration, crate::time::Duration, u32)> {
        use crate::time::Duration;
        let s = self.sockets.get(&fd.0)?;
        if !s.keepalive {
            return None;
        }
        let p = &self.config.profile;
        Some((
            s.keep_idle
                .map(|v| Duration::from_secs(v.into()))
                .unwrap_or(p.keepalive_time),
            s.keep_intvl
                .map(|v| Duration::from_secs(v.into()))
                .unwrap_or(p.keepalive_intvl),
            s.keep_cnt.map(|v| v as u32).unwrap_or(p.keepalive_probes),
        ))
    }

    fn port_in_use(&self, port: u16, except: i32, reuse: bool) -> bool {
        let by_socket = self.sockets.iter().any(|(fd, s)| {
            *fd != except
                && s.local.is_some_and(|a| a.port() == port)
                && !(reuse && s.reuseaddr && !matches!(s.kind, Kind::Listener { .. }))
        });
        // Orphaned connections (e.g. TIME-WAIT) block the port without SO_REUSEADDR.
        let by_orphan = !reuse
            && self
                .conns
                .values()
                .any(|c| c.fd.is_none() && c.listener.is_none() && c.tcb.local.port() == port);
        by_socket || by_orphan
    }

    fn ephemeral_port(&mut self, except: i32, remote: Option<SocketAddrV4>) -> Result<u16, Errno> {
        let (lo, hi) = self.config.profile.ephemeral_ports;
        let (lo, hi) = (u32::from(lo), u32::from(hi.max(lo)));
        let span = hi - lo + 1;
        let start = self.rng.range_inclusive(0, span - 1);
        // Linux (since 4.x, __inet_hash_connect) tries even ports first for connect().
        for parity in [0u32, 1] {
            for i in 0..span {
                let p = lo + (start + i) % span;
                if (p - lo) % 2 != parity {
                    continue;
                }
                let p = p as u16;
                let busy_conn = self
                    .conns
                    .values()
                    .any(|c| c.tcb.local.port() == p && Some(c.tcb.remote) == remote);
                if !self.port_in_use(p, except, false) && !busy_conn {
                    return Ok(p);
                }
            }
        }
        Err(Errno::EADDRNOTAVAIL)
    }

    /// bind().
    pub fn bind(&mut self, fd: Fd, addr: SocketAddrV4) -> Result<(), Errno> {
        let s = self.sock(fd)?;
        if s.local.is_some() || !matches!(s.kind, Kind::Fresh) {
            return Err(Errno::EINVAL);
        }
        let reuse = s.reuseaddr;
        if !addr.ip().is_unspecified() && *addr.ip() != self.config.ipv4 {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let port = if addr.port() == 0 {
            self.ephemeral_port(fd.0, None)?
        } else {
            if self.port_in_use(addr.port(), fd.0, reuse) {
                return Err(Errno::EADDRINUSE);
            }
            addr.port()
        };
        self.sock_mut(fd)?.local = Some(SocketAddrV4::new(*addr.ip(), port));
        Ok(())
    }

    /// listen(): the backlog is clamped to `max_backlog` (Linux: somaxconn).
    pub fn listen(&mut self, fd: Fd, backlog: i32) -> Result<(), Errno> {
        let max = self.config.profile.max_backlog;
        let backlog = if backlog < 0 {
            max
        } else {
            (backlog as u32).min(max)
        };
        let s = self.sock(fd)?;
        match &s.kind {
            Kind::Conn { .. } => return Err(Errno::EINVAL),
            Kind::Listener { .. } => {
                if let Kind::Listener { backlog: b, .. } = &mut self.sock_mut(fd)?.kind {
                    *b = backlog;
                }
                return Ok(());
            }
            Kind::Fresh => {}
        }
        if s.local.is_none() {
            let port = self.ephemeral_port(fd.0, None)?;
            self.sock_mut(fd)?.local = Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
        }
        let local = self.sock(fd)?.local;
        // Only one listener per port.
        let clash = self.sockets.iter().any(|(k, o)| {
            *k != fd.0
                && matches!(o.kind, Kind::Listener { .. })
                && o.local.map(|a| a.port()) == local.map(|a| a.port())
        });
        if clash {
            return Err(Errno::EADDRINUSE);
        }
        self.sock_mut(fd)?.kind = Kind::Listener {
            backlog,
            accept_queue: VecDeque::new(),
            syn_queue: Vec::new(),
        };
        Ok(())
    }

    /// accept(): EAGAIN if no connection is ready; EINVAL if not listening.
    pub fn accept(&mut self, fd: Fd) -> Result<(Fd, SocketAddrV4), Errno> {
        let s = self.sock(fd)?;
        let Kind::Listener { accept_queue, .. } = &s.kind else {
            return Err(Errno::EINVAL);
        };
        if accept_queue.is_empty() {
            return Err(Errno::EAGAIN);
        }
        let new_fd = self.alloc_fd()?;
        // The child inherits the listener's options (Linux sk_clone_lock
        // copies the socket, tcp_create_openreq_child the tcp_sock).
        let opts = Socket {
            kind: Kind::Fresh,
            ..s.clone()
        };
        let id = match &mut self.sock_mut(fd)?.kind {
            Kind::Listener { accept_queue, .. } => accept_queue.pop_front().ok_or(Errno::EAGAIN)?,
            _ => return Err(Errno::EINVAL),
        };
        let conn = self.conns.get_mut(&id).ok_or(Errno::ECONNABORTED)?;
        conn.fd = Some(new_fd);
        conn.listener = None;
        let (local, remote) = (conn.tcb.local, conn.tcb.remote);
        self.sockets.insert(
            new_fd,
            Socket {
                local: Some(local),
                shut_rd: false,
                shut_wr: false,
                error_taken: false,
                kind: Kind::Conn {
                    id,
                    connect_reported: true,
                },
                ..opts
            },
        );
        Ok((Fd(new_fd), remote))
    }

    /// connect(), non-blocking: EINPROGRESS first, EALREADY while pending,
    /// Ok once established, EISCONN afterwards; a failure is reported once.
    pub fn connect(&mut self, now: Instant, fd: Fd, addr: SocketAddrV4) -> Result<(), Errno> {
        self.note_time_pub(now);
        let s = self.sock(fd)?;
        match s.kind.clone() {
            Kind::Listener { .. } => Err(Errno::EISCONN),
            Kind::Conn {
                id,
                connect_reported,
            } => {
                let Some(c) = self.conns.get(&id) else {
                    return self.restart_connect(now, fd, addr);
                };
                match c.tcb.state {
                    TcpState::SynSent | TcpState::SynReceived => Err(Errno::EALREADY),
                    TcpState::Closed => {
                        let err = c.tcb.error;
                        let taken = s.error_taken;
                        self.drop_conn_of(fd);
                        match err {
                            Some(e) if !taken => Err(e.into()),
                            _ => self.restart_connect(now, fd, addr),
                        }
                    }
                    _ => {
                        if connect_reported {
                            Err(Errno::EISCONN)
                        } else {
                            if let Kind::Conn {
                                connect_reported, ..
                            } = &mut self.sock_mut(fd)?.kind
                            {
                                *connect_reported = true;
                            }
                            Ok(())
                        }
                    }
                }
            }
            Kind::Fresh => self.restart_connect(now, fd, addr),
        }
    }

    fn note_time_pub(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    fn drop_conn_of(&mut self, fd: Fd) {
        if let Some(s) = self.sockets.get_mut(&fd.0) {
            if let Kind::Conn { id, .. } = s.kind {
                self.conns.remove(&id);
            }
            s.kind = Kind::Fresh;
            s.error_taken = false;
            s.shut_rd = false;
            s.shut_wr = false;
        }
    }

    fn restart_connect(&mut self, now: Instant, fd: Fd, addr: SocketAddrV4) -> Result<(), Errno> {
        if addr.ip().is_unspecified() || addr.port() == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        if self.next_hop(*addr.ip()).is_none() {
            return Err(Errno::ENETUNREACH);
        }
        let port = match self.sock(fd)?.local {
            Some(l) => l.port(),
            None => {
                let p = self.ephemeral_port(fd.0, Some(addr))?;
                self.sock_mut(fd)?.local = Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p));
                p
            }
        };
        let local = SocketAddrV4::new(self.config.ipv4, port);
        let iss = self
            .isn
            .isn(now, (*local.ip(), port), (*addr.ip(), addr.port()));
        let ts_off = self
            .isn
            .ts_offset((*local.ip(), port), (*addr.ip(), addr.port()));
        let mut tcb = Tcb::connect(&self.config.profile, local, addr, iss, ts_off);
        self.sock(fd)?.apply_to(&mut tcb);
        tcb.set_keepalive(now, self.keepalive_params(fd));
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Box::new(Conn {
                tcb,
                fd: Some(fd.0),
                listener: None,
            }),
        );
        let s = self.sock_mut(fd)?;
        s.kind = Kind::Conn {
            id,
            connect_reported: false,
        };
        s.error_taken = false;
        Err(Errno::EINPROGRESS)
    }

    fn conn_of(&self, fd: Fd) -> Result<Option<(u64, &Conn)>, Errno> {
        match self.sock(fd)?.kind {
            Kind::Conn { id, .. } => Ok(self.conns.get(&id).map(|c| (id, &**c))),
            _ => Ok(None),
        }
    }

    /// Take the pending error of `fd`'s connection, once.
    fn take_conn_error(&mut self, fd: Fd) -> Option<Errno> {
        let s = self.sockets.get_mut(&fd.0)?;
        let Kind::Conn { id, .. } = s.kind else {
            return None;
        };
        let c = self.conns.get(&id)?;
        if s.error_taken {
            return None;
        }
        let e = c.tcb.error?;
        s.error_taken = true;
        Some(e.into())
    }

    /// send(): EAGAIN when the buffer is full, EPIPE after shutdown/close or
    /// on an unconnected socket (as Linux), the connection error once.
    pub fn send(&mut self, now: Instant, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        self.note_time_pub(now);
        let s = self.sock(fd)?;
        if s.shut_wr {
            // Linux tcp_sendmsg_locked: `sk_err || SEND_SHUTDOWN` goes to
            // sk_stream_error, which reports a pending error (a reset
            // after shutdown(SHUT_WR): ECONNRESET) before EPIPE.
            return Err(self.take_conn_error(fd).unwrap_or(Errno::EPIPE));
        }
        let Some((id, c)) = self.conn_of(fd)? else {
            return Err(Errno::EPIPE);
        };
        match c.tcb.state {
            TcpState::SynSent | TcpState::SynReceived => return Err(Errno::EAGAIN),
            TcpState::Established | TcpState::CloseWait if !c.tcb.fin_queued() => {}
            TcpState::Closed => {
                if let Some(e) = self.take_conn_error(fd) {
                    return Err(e);
                }
                return Err(Errno::EPIPE);
            }
            _ => return Err(Errno::EPIPE),
        }
        let c = self.conns.get_mut(&id).ok_or(Errno::EPIPE)?;
        let n = c.tcb.send_at(now, data);
        if n == 0 && !data.is_empty() {
            return Err(Errno::EAGAIN);
        }
        Ok(n)
    }

    /// recv(): EAGAIN when nothing is readable, Ok(0) after FIN, the
    /// connection error (ECONNRESET) once.
    pub fn recv(&mut self, now: Instant, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        self.note_time_pub(now);
        let s = self.sock(fd)?;
        let shut_rd = s.shut_rd;
        let Some((id, c)) = self.conn_of(fd)? else {
            return Err(Errno::ENOTCONN);
        };
        if c.tcb.recv_available() > 0 {
            let c = self.conns.get_mut(&id).ok_or(Errno::ENOTCONN)?;
            let n = c.tcb.recv(buf);
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // Only the urgent byte was there, and it is not part of the
            // stream (see `Tcb::recv`): as if nothing were readable.
        }
        let Some((_, c)) = self.conn_of(fd)? else {
            return Err(Errno::ENOTCONN);
        };
        // Linux tcp_recvmsg: after the peer's FIN (SOCK_DONE) recv returns 0
        // and leaves a pending error for send()/SO_ERROR.
        if c.tcb.fin_received() {
            return Ok(0);
        }
        if let Some(e) = self.take_conn_error(fd) {
            return Err(e);
        }
        let c = self.conns.get(&id).ok_or(Errno::ENOTCONN)?;
        if shut_rd || c.tcb.state == TcpState::Closed {
            return Ok(0);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        Err(Errno::EAGAIN)
    }

    /// shutdown().
    pub fn shutdown(&mut self, now: Instant, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        self.note_time_pub(now);
        let s = self.sock(fd)?;
        match s.kind {
            Kind::Fresh => return Err(Errno::ENOTCONN),
            Kind::Listener { .. } => return Ok(()),
            Kind::Conn { .. } => {}
        }
        let Some((id, c)) = self.conn_of(fd)? else {
            return Err(Errno::ENOTCONN);
        };
        // Linux inet_shutdown: ENOTCONN in TCP_CLOSE, which is also the
        // state of the application's socket once the connection is in
        // TIME-WAIT (tcp_time_wait → tcp_done; `oracle fuzz`,
        // finin-finout.shutrd.result).
        if matches!(c.tcb.state, TcpState::Closed | TcpState::TimeWait) {
            return Err(Errno::ENOTCONN);
        }
        let rd = matches!(how, Shutdown::Read | Shutdown::Both);
        let wr = matches!(how, Shutdown::Write | Shutdown::Both);
        let s = self.sock_mut(fd)?;
        s.shut_rd |= rd;
        s.shut_wr |= wr;
        if let Some(c) = self.conns.get_mut(&id) {
            if rd {
                c.tcb.shutdown_read();
            }
            if wr {
                c.tcb.shutdown_write();
            }
        }
        Ok(())
    }

    /// close(): FIN (or RST with unread data / SO_LINGER 0); the connection
    /// lives on without the fd until it reaches CLOSED (or TIME-WAIT expires).
    pub fn close(&mut self, now: Instant, fd: Fd) -> Result<(), Errno> {
        self.note_time_pub(now);
        if self.is_udp(fd) {
            return self.udp_close(fd);
        }
        let s = self.sockets.remove(&fd.0).ok_or(Errno::EBADF)?;
        match s.kind {
            Kind::Fresh => {}
            Kind::Listener {
                accept_queue,
                syn_queue,
                ..
            } => {
                // Linux inet_csk_listen_stop: children not yet accepted are
                // reset; half-open requests are dropped silently.
                for id in accept_queue {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.listener = None;
                        c.tcb.abort(now);
                    }
                }
                for id in syn_queue {
                    self.conns.remove(&id);
                }
            }
            Kind::Conn { id, .. } => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.fd = None;
                    if s.linger == Some(0) {
                        c.tcb.abort(now);
                    } else {
                        c.tcb.close(now);
                    }
                }
            }
        }
        self.reap();
        Ok(())
    }

    /// What poll() would report for `fd` (all false for a bad fd).
    pub fn readiness(&self, fd: Fd) -> Readiness {
        let Ok(s) = self.sock(fd) else {
            return Readiness::default();
        };
        match &s.kind {
            Kind::Fresh => Readiness {
                hup: true,
                ..Readiness::default()
            },
            Kind::Listener { accept_queue, .. } => Readiness {
                readable: !accept_queue.is_empty(),
                ..Readiness::default()
            },
            Kind::Conn { id, .. } => {
                let Some(c) = self.conns.get(id) else {
                    return Readiness {
                        hup: true,
                        ..Readiness::default()
                    };
                };
                let t = &c.tcb;
                let error = if s.error_taken {
                    None
                } else {
                    t.error.map(Errno::from)
                };
                let closed = t.state == TcpState::Closed;
                let rd_shut = t.fin_received() || s.shut_rd;
                let wr_shut = t.fin_queued() || s.shut_wr;
                let connected = !matches!(t.state, TcpState::SynSent | TcpState::SynReceived);
                Readiness {
                    readable: t.recv_available() > 0 || rd_shut || closed || error.is_some(),
                    writable: connected && (wr_shut || closed || t.send_free() > 0),
                    hup: closed || (rd_shut && wr_shut),
                    error,
                }
            }
        }
    }

    /// getsockopt(SO_ERROR): the pending error, cleared.
    pub fn take_error(&mut self, fd: Fd) -> Option<Errno> {
        self.take_conn_error(fd)
    }

    /// The RFC 9293 state of `fd`'s connection (CLOSED for a fresh socket,
    /// LISTEN for a listener), `None` for a bad fd.
    pub fn tcp_state(&self, fd: Fd) -> Option<TcpState> {
        let s = self.sock(fd).ok()?;
        Some(match &s.kind {
            Kind::Fresh => TcpState::Closed,
            Kind::Listener { .. } => TcpState::Listen,
            Kind::Conn { id, .. } => self
                .conns
                .get(id)
                .map(|c| c.tcb.state)
                .unwrap_or(TcpState::Closed),
        })
    }

    /// The TCB behind `fd`, for tests and invariant checks.
    pub fn tcb(&self, fd: Fd) -> Option<&Tcb> {
        match self.sock(fd).ok()?.kind {
            Kind::Conn { id, .. } => self.conns.get(&id).map(|c| &c.tcb),
            _ => None,
        }
    }

    /// Every connection in the table (orphaned, half-open, and CLOSED ones
    /// still held by an fd included) with an id that stays the same for the
    /// connection's life and is never reused: read-only, for invariant checks
    /// (e.g. the `tcp_input` fuzz target tracks state changes per connection).
    pub fn connections(&self) -> impl Iterator<Item = (u64, &Tcb)> + '_ {
        self.conns.iter().map(|(id, c)| (*id, &c.tcb))
    }

    /// Number of connections in the table (including orphaned and half-open ones).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    // ------------------------------------------------------------ TCP plumbing

    fn find_conn(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<u64> {
        self.conns
            .iter()
            .find(|(_, c)| {
                c.tcb.local == local && c.tcb.remote == remote && c.tcb.state != TcpState::Closed
            })
            .map(|(k, _)| *k)
    }

    fn find_listener(&self, local: SocketAddrV4) -> Option<i32> {
        self.sockets
            .iter()
            .find(|(_, s)| {
                matches!(s.kind, Kind::Listener { .. })
                    && s.local.is_some_and(|a| {
                        a.port() == local.port()
                            && (a.ip().is_unspecified() || a.ip() == local.ip())
                    })
            })
            .map(|(k, _)| *k)
    }

    fn send_reset_for(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, repr: &TcpRepr) {
        if let Some(r) = reset_for(repr) {
            let seg = Segment {
                repr: r,
                payload: Vec::new(),
            };
            self.send_tcp(now, dst, src, &seg);
        }
    }

    /// A TCP segment for us arrived (RFC 9293 3.10.7).
    pub(crate) fn tcp_input(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        repr: &TcpRepr,
        data: &[u8],
    ) {
        let local = SocketAddrV4::new(dst, repr.dst_port);
        let remote = SocketAddrV4::new(src, repr.src_port);
        if let Some(id) = self.find_conn(local, remote) {
            if let Some(iss) = self.time_wait_reuse(id, repr) {
                if let Some(lfd) = self.find_listener(local) {
                    // Linux keeps TIME-WAIT in a timewait socket whether or
                    // not the application still holds the socket
                    // (tcp_time_wait → tcp_done leaves that one CLOSED), so
                    // the SYN reopens through the listener either way. A
                    // socket still held sees its connection CLOSED, as when
                    // the 2MSL timer ends it; an orphan goes.
                    match self.conns.get_mut(&id) {
                        Some(c) if c.fd.is_some() => c.tcb.end_time_wait(),
                        _ => {
                            self.conns.remove(&id);
                        }
                    }
                    self.listen_input(now, lfd, local, remote, repr, Some(iss));
                    return;
                }
            }
            self.conn_input(now, id, repr, data);
            return;
        }
        if let Some(lfd) = self.find_listener(local) {
            self.listen_input(now, lfd, local, remote, repr, None);
            return;
        }
        // RFC 9293 3.10.7.1: CLOSED: reset anything but a reset.
        self.send_reset_for(now, src, dst, repr);
    }

    /// A SYN for a connection in TIME-WAIT may open a new incarnation
    /// ([`Tcb::time_wait_syn`](crate::tcp::Tcb::time_wait_syn)). Returns the
    /// ISN Linux uses then (tcp_timewait_state_process): the old SND.NXT +
    /// 65535 + 2, or 1 where that is 0.
    fn time_wait_reuse(&self, id: u64, repr: &TcpRepr) -> Option<u32> {
        let c = self.conns.get(&id)?;
        c.tcb.time_wait_syn(repr).then(|| {
            let isn = c.tcb.snd_nxt.get().wrapping_add(65535 + 2);
            if isn == 0 {
                1
            } else {
                isn
            }
        })
    }

    fn conn_input(&mut self, now: Instant, id: u64, repr: &TcpRepr, data: &[u8]) {
        let Some(c) = self.conns.get(&id) else {
            return;
        };
        // A request socket until the handshake completes (the TCB leaves
        // SYN-RECEIVED, or Linux makes the full socket while it stays
        // there: `Tcb::is_request_socket`).
        let was_request = c.tcb.is_request_socket();
        let listener = c.listener;
        if was_request {
            if let Some(lfd) = listener {
                // Linux tcp_check_req: with a full accept queue the final ACK
                // is dropped and the SYN-ACK retransmitted later
                // (listen_overflow, tcp_abort_on_overflow = 0). Only a
                // segment that would complete the handshake gets that far:
                // every test before it (the ACK field, the sequence number,
                // PAWS, RST, SYN) answers as with room in the queue. The
                // TCB decides on a copy, so those tests have one definition
                // (a full queue is rare).
                if let Some(Socket {
                    kind:
                        Kind::Listener {
                            backlog,
                            accept_queue,
                            ..
                        },
                    ..
                }) = self.sockets.get(&lfd)
                {
                    if accept_queue.len() as u32 > *backlog
                        && repr.flags.contains(crate::wire::TcpFlags::ACK)
                    {
                        let mut probe = c.tcb.clone();
                        probe.on_segment(now, repr, data);
                        if !probe.is_request_socket() && probe.state != TcpState::Closed {
                            return;
                        }
                    }
                }
            }
        }
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        c.tcb.on_segment(now, repr, data);
        let state = c.tcb.state;
        if was_request && !c.tcb.is_request_socket() && state != TcpState::Closed {
            if let Some(lfd) = listener {
                if let Some(Socket {
                    kind:
                        Kind::Listener {
                            accept_queue,
                            syn_queue,
                            ..
                        },
                    ..
                }) = self.sockets.get_mut(&lfd)
                {
                    syn_queue.retain(|x| *x != id);
                    accept_queue.push_back(id);
                }
            }
        }
        self.reap();
    }

    fn listen_input(
        &mut self,
        now: Instant,
        lfd: i32,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        repr: &TcpRepr,
        iss: Option<u32>,
    ) {
        use crate::wire::TcpFlags;
        let f = repr.flags;
        // RFC 9293 3.10.7.2 LISTEN.
        if f.contains(TcpFlags::RST) {
            return; // first: ignore an incoming RST
        }
        if f.contains(TcpFlags::ACK) {
            // second: any ACK → <SEQ=SEG.ACK><CTL=RST>
            self.send_reset_for(now, *remote.ip(), *local.ip(), repr);
            return;
        }
        if !f.contains(TcpFlags::SYN) {
            return; // fourth: other text or control: drop
        }
        if f.contains(TcpFlags::FIN) {
            // Linux tcp_rcv_state_process (LISTEN): a SYN with FIN is
            // dropped (SKB_DROP_REASON_TCP_FLAGS), where RFC 9293 3.10.7.2
            // (third) would open on the SYN and process the FIN in
            // SYN-RECEIVED. `oracle fuzz`: reset.seg-SF-oow.extra-SA.
            return;
        }
        let Some(Socket {
            kind:
                Kind::Listener {
                    backlog,
                    accept_queue,
                    syn_queue,
                },
            ..
        }) = self.sockets.get(&lfd)
        else {
            return;
        };
        // Bounded queues: Linux drops the SYN when the accept queue is full
        // (sk_acceptq_is_full: more than `backlog`), and keeps a request for
        // it while the request queue holds at most `backlog`
        // (inet_csk_reqsk_queue_is_full: more than `backlog`; measured: with
        // listen(fd, 1) a second concurrent SYN gets a retransmitted SYN-ACK,
        // a third a SYN cookie, which the stack does not implement: dropped).
        // max_syn_backlog bounds the request queue whatever the backlog.
        let syn_full = syn_queue.len() as u32 > *backlog
            || syn_queue.len() as u32 >= self.config.profile.max_syn_backlog;
        if accept_queue.len() as u32 > *backlog || syn_full {
            return;
        }
        let iss = iss.unwrap_or_else(|| {
            self.isn.isn(
                now,
                (*local.ip(), local.port()),
                (*remote.ip(), remote.port()),
            )
        });
        let ts_off = self
            .isn
            .ts_offset((*local.ip(), local.port()), (*remote.ip(), remote.port()));
        let tcb = Tcb::accept(&self.config.profile, local, remote, repr, iss, ts_off);
        let mut tcb = tcb;
        // The listener's options hold for its children from the SYN on:
        // Linux inet_rtx_syn_ack / reqsk_timer_handler bound the SYN-ACK
        // retransmissions by its TCP_SYNCNT, its TCP_MAXSEG caps their MSS.
        if let Some(l) = self.sockets.get(&lfd) {
            l.apply_to(&mut tcb);
        }
        let ka = self.keepalive_params(Fd(lfd));
        tcb.set_keepalive(now, ka);
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Box::new(Conn {
                tcb,
                fd: None,
                listener: Some(lfd),
            }),
        );
        if let Some(Socket {
            kind: Kind::Listener { syn_queue, .. },
            ..
        }) = self.sockets.get_mut(&lfd)
        {
            syn_queue.push(id);
        }
    }

    /// Forget connections nobody can observe any more.
    /// An ICMP fragmentation-needed quoting one of our TCP segments
    /// (RFC 1191; RFC 1122 4.2.3.9): the quoted header names the
    /// connection, and its sequence number must be one we have sent and not
    /// had acknowledged (RFC 5927 4.1, Linux tcp_v4_err: `between(seq,
    /// snd_una, snd_nxt)`), so a blind attacker cannot shrink the MSS.
    pub(crate) fn tcp_frag_needed(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seq: u32,
        mtu: u32,
    ) {
        let Some(id) = self.find_conn(local, remote) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&id) {
            let seq = crate::tcp::SeqNumber(seq);
            if c.tcb.snd_una <= seq && seq <= c.tcb.snd_max {
                c.tcb.path_mtu_reduced(mtu);
            }
        }
    }

    pub(crate) fn reap(&mut self) {
        let is_dead =
            |c: &Conn| c.tcb.state == TcpState::Closed && c.fd.is_none() && !c.tcb.wants_output();
        // Runs after every output pass: most find nothing to reap, and
        // return before allocating.
        if !self.conns.values().any(|c| is_dead(c)) {
            return;
        }
        let dead: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| is_dead(c))
            .map(|(k, _)| *k)
            .collect();
        for id in dead {
            if let Some(c) = self.conns.remove(&id) {
                if let Some(lfd) = c.listener {
                    if let Some(Socket {
                        kind:
                            Kind::Listener {
                                accept_queue,
                                syn_queue,
                                ..
                            },
                        ..
                    }) = self.sockets.get_mut(&lfd)
                    {
                        // A reset child stays in the accept queue (Linux returns it from accept()).
                        if syn_queue.contains(&id) {
                            syn_queue.retain(|x| *x != id);
                        } else if accept_queue.contains(&id) {
                            self.conns.insert(id, c);
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn tcp_timers(&mut self, now: Instant) {
        // A timer touches only its own TCB, so the table is walked in place.
        for c in self.conns.values_mut() {
            if c.tcb.poll_at().is_some_and(|t| t <= now) {
                c.tcb.on_timer(now);
            }
        }
    }

    pub(crate) fn tcp_output(&mut self, now: Instant) {
        // The connections present now, in id order, without copying the ids
        // out (this runs on every transmit): ids only grow, so the walk stops
        // at the last one present when it started.
        let Some(&last) = self.conns.keys().next_back() else {
            return;
        };
        let mut next = self.conns.keys().next().copied();
        while let Some(id) = next.filter(|&id| id <= last) {
            next = self.conns.next_key_after(&id);
            // Bounded per call: at most a window's worth of segments.
            for _ in 0..256 {
                let Some(c) = self.conns.get_mut(&id) else {
                    break;
                };
                let Some(seg) = c.tcb.poll(now) else {
                    break;
                };
                let (src, dst) = (*c.tcb.local.ip(), *c.tcb.remote.ip());
                self.send_tcp(now, src, dst, &seg);
            }
        }
        self.reap();
    }
}
