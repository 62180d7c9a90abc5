//! What the runner needs from a device under test and its testbench.
//!
//! A [`Target`] is one DUT together with the testbench that talks to it: the
//! runner injects frames, collects the frames the DUT sends, and makes socket
//! calls on the DUT. Every socket call is non-blocking here; the runner emulates
//! packetdrill's blocking calls by retrying them as time passes.

use std::net::{Ipv4Addr, SocketAddrV4};

use stack::wire::EthernetAddress;

/// Microseconds since the script started (the runner's time base).
pub type Micros = i64;

/// The harness's addressing plan: everything lives in 198.51.100.0/24
/// (TEST-NET-2) with locally administered MACs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The DUT's MAC address.
    pub dut_mac: EthernetAddress,
    /// The DUT's IPv4 address.
    pub dut_ip: Ipv4Addr,
    /// The testbench's MAC address.
    pub tb_mac: EthernetAddress,
    /// The testbench's IPv4 address (the script's "remote" host).
    pub tb_ip: Ipv4Addr,
    /// Prefix length of the shared subnet.
    pub prefix_len: u8,
}

impl Identity {
    /// The one addressing plan every DUT uses, so traces compare directly.
    pub const STANDARD: Identity = Identity {
        dut_mac: EthernetAddress([0x02, 0, 0, 0, 0, 0x02]),
        dut_ip: Ipv4Addr::new(198, 51, 100, 2),
        tb_mac: EthernetAddress([0x02, 0, 0, 0, 0, 0x01]),
        tb_ip: Ipv4Addr::new(198, 51, 100, 1),
        prefix_len: 24,
    };
}

/// The port the DUT binds when a script says `bind(fd, ..., ...)` and the port
/// the DUT connects to on the testbench for `connect(fd, ..., ...)`, as in
/// packetdrill (its default `--local_port`/`--remote_port` role).
pub const SCRIPT_PORT: u16 = 8080;
/// The testbench's port for connections the testbench opens.
pub const TESTBENCH_PORT: u16 = 40000;

/// A socket call with its arguments resolved, as the DUT receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysCall {
    /// `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)`.
    SocketStream,
    /// `socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)`.
    SocketDgram,
    /// `sendto(fd, buf, len, 0, addr, …)` on a UDP socket; `to: None` for
    /// `send`/`write` on a connected one. The runner chooses the bytes.
    SendTo {
        /// Socket.
        fd: i32,
        /// Bytes to send.
        len: usize,
        /// Destination.
        to: Option<SocketAddrV4>,
    },
    /// `recvfrom(fd, buf, len, 0, …)` / `read` on a UDP socket.
    RecvFrom {
        /// Socket.
        fd: i32,
        /// Buffer size.
        len: usize,
    },
    /// `setsockopt(fd, level, name, [value], 4)` with an integer value.
    SetSockOpt {
        /// Socket.
        fd: i32,
        /// Option, as the script names it (`SO_REUSEADDR`, `TCP_NODELAY`, …).
        name: SockOptName,
        /// Integer value.
        value: i32,
    },
    /// `setsockopt(fd, SOL_SOCKET, SO_LINGER, {l_onoff, l_linger}, 8)`.
    SetLinger {
        /// Socket.
        fd: i32,
        /// `l_onoff`.
        onoff: i32,
        /// `l_linger` in seconds.
        linger: i32,
    },
    /// `bind(fd, addr)`.
    Bind {
        /// Socket.
        fd: i32,
        /// Local address.
        addr: SocketAddrV4,
    },
    /// `listen(fd, backlog)`.
    Listen {
        /// Socket.
        fd: i32,
        /// Backlog.
        backlog: i32,
    },
    /// `accept(fd)`; returns the new fd.
    Accept {
        /// Listening socket.
        fd: i32,
    },
    /// `connect(fd, addr)`.
    Connect {
        /// Socket.
        fd: i32,
        /// Peer address.
        addr: SocketAddrV4,
    },
    /// `write(fd, buf, len)`; the runner chooses the bytes.
    Write {
        /// Socket.
        fd: i32,
        /// Bytes to write.
        len: usize,
    },
    /// `read(fd, buf, len)`.
    Read {
        /// Socket.
        fd: i32,
        /// Buffer size.
        len: usize,
    },
    /// `shutdown(fd, how)` with how 0, 1 or 2 (SHUT_RD, SHUT_WR, SHUT_RDWR).
    Shutdown {
        /// Socket.
        fd: i32,
        /// SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2.
        how: i32,
    },
    /// `close(fd)`.
    Close {
        /// Socket.
        fd: i32,
    },
    /// `getsockopt(fd, SOL_SOCKET, SO_ERROR, …)`: the pending error, 0 if none.
    SoError {
        /// Socket.
        fd: i32,
    },
    /// `getsockopt(fd, level, name, [VALUE], [4])` of an integer option:
    /// returns the value.
    GetSockOpt {
        /// Socket.
        fd: i32,
        /// Option.
        name: SockOptName,
    },
    /// `ioctl(fd, SIOCINQ | SIOCOUTQ | SIOCOUTQNSD, [VALUE])`: returns the
    /// value.
    Ioctl {
        /// Socket.
        fd: i32,
        /// Which queue.
        req: IoctlReq,
    },
    /// `poll([{fd=FD, events=EVENTS, ...}], 1, 0)`: returns revents (0 when
    /// nothing is ready). The runner emulates a timeout.
    Poll {
        /// Socket.
        fd: i32,
        /// POLLIN, POLLOUT, … as Linux numbers them.
        events: i16,
    },
}

/// The socket-queue ioctls (linux/sockios.h; tcp(7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoctlReq {
    /// SIOCINQ (= FIONREAD): bytes readable.
    InQ,
    /// SIOCOUTQ (= TIOCOUTQ): bytes in the send queue not yet acknowledged.
    OutQ,
    /// SIOCOUTQNSD: bytes in the send queue not yet sent.
    OutQNsd,
}

impl IoctlReq {
    /// The request a script names.
    pub fn from_script(name: &str) -> Option<IoctlReq> {
        match name {
            "SIOCINQ" | "FIONREAD" => Some(IoctlReq::InQ),
            "SIOCOUTQ" | "TIOCOUTQ" => Some(IoctlReq::OutQ),
            "SIOCOUTQNSD" => Some(IoctlReq::OutQNsd),
            _ => None,
        }
    }

    /// Linux's request number.
    pub fn linux(self) -> libc::c_ulong {
        match self {
            IoctlReq::InQ => libc::FIONREAD,
            IoctlReq::OutQ => libc::TIOCOUTQ,
            IoctlReq::OutQNsd => 0x894B,
        }
    }
}

/// poll(2) event bits (asm-generic/poll.h), as scripts name them.
pub const POLL_BITS: &[(&str, i16)] = &[
    ("POLLIN", libc::POLLIN),
    ("POLLPRI", libc::POLLPRI),
    ("POLLOUT", libc::POLLOUT),
    ("POLLERR", libc::POLLERR),
    ("POLLHUP", libc::POLLHUP),
    ("POLLNVAL", libc::POLLNVAL),
    ("POLLRDNORM", libc::POLLRDNORM),
    ("POLLRDBAND", libc::POLLRDBAND),
    ("POLLWRNORM", libc::POLLWRNORM),
    ("POLLWRBAND", libc::POLLWRBAND),
    ("POLLRDHUP", libc::POLLRDHUP),
];

/// Integer socket options the scripts set and read, with their Linux
/// (level, name) numbers and the stack's [`stack::SockOpt`] (`None`: the
/// stack does not model it, so the call is *unsupported* on the stack DUTs
/// and runs on Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockOptName {
    /// SOL_SOCKET SO_REUSEADDR.
    ReuseAddr,
    /// SOL_SOCKET SO_REUSEPORT.
    ReusePort,
    /// SOL_SOCKET SO_KEEPALIVE.
    KeepAlive,
    /// SOL_SOCKET SO_RCVBUF.
    RcvBuf,
    /// SOL_SOCKET SO_SNDBUF.
    SndBuf,
    /// IPPROTO_TCP TCP_NODELAY.
    NoDelay,
    /// IPPROTO_TCP TCP_KEEPIDLE (seconds).
    KeepIdle,
    /// IPPROTO_TCP TCP_KEEPINTVL (seconds).
    KeepIntvl,
    /// IPPROTO_TCP TCP_KEEPCNT.
    KeepCnt,
    /// IPPROTO_TCP TCP_SYNCNT: SYN retransmissions before ETIMEDOUT.
    SynCnt,
    /// IPPROTO_TCP TCP_MAXSEG.
    MaxSeg,
    /// IPPROTO_TCP TCP_LINGER2 (seconds).
    Linger2,
    /// SOL_SOCKET SO_BROADCAST.
    Broadcast,
    /// IPPROTO_TCP TCP_CORK (Linux only here).
    Cork,
    /// IPPROTO_TCP TCP_USER_TIMEOUT (Linux only here).
    UserTimeout,
    /// IPPROTO_TCP TCP_NOTSENT_LOWAT (Linux only here).
    NotsentLowat,
    /// IPPROTO_TCP TCP_INQ (Linux only here).
    Inq,
    /// IPPROTO_TCP TCP_QUICKACK (Linux only here).
    QuickAck,
    /// SOL_SOCKET SO_RCVLOWAT (Linux only here).
    RcvLowat,
    /// SOL_SOCKET SO_ZEROCOPY (Linux only here).
    ZeroCopy,
    /// IPPROTO_IP IP_MTU_DISCOVER (Linux only here).
    MtuDiscover,
    /// IPPROTO_IP IP_TOS (Linux only here).
    Tos,
}

/// The level a script names an option with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Socket,
    Tcp,
    Ip,
}

impl SockOptName {
    /// Every option: script name, level, value.
    const TABLE: &'static [(&'static str, Level, SockOptName)] = &[
        ("SO_REUSEADDR", Level::Socket, SockOptName::ReuseAddr),
        ("SO_REUSEPORT", Level::Socket, SockOptName::ReusePort),
        ("SO_KEEPALIVE", Level::Socket, SockOptName::KeepAlive),
        ("SO_RCVBUF", Level::Socket, SockOptName::RcvBuf),
        ("SO_SNDBUF", Level::Socket, SockOptName::SndBuf),
        ("TCP_NODELAY", Level::Tcp, SockOptName::NoDelay),
        ("TCP_KEEPIDLE", Level::Tcp, SockOptName::KeepIdle),
        ("TCP_KEEPINTVL", Level::Tcp, SockOptName::KeepIntvl),
        ("TCP_KEEPCNT", Level::Tcp, SockOptName::KeepCnt),
        ("TCP_SYNCNT", Level::Tcp, SockOptName::SynCnt),
        ("TCP_MAXSEG", Level::Tcp, SockOptName::MaxSeg),
        ("TCP_LINGER2", Level::Tcp, SockOptName::Linger2),
        ("SO_BROADCAST", Level::Socket, SockOptName::Broadcast),
        ("TCP_CORK", Level::Tcp, SockOptName::Cork),
        ("TCP_USER_TIMEOUT", Level::Tcp, SockOptName::UserTimeout),
        ("TCP_NOTSENT_LOWAT", Level::Tcp, SockOptName::NotsentLowat),
        ("TCP_INQ", Level::Tcp, SockOptName::Inq),
        ("TCP_QUICKACK", Level::Tcp, SockOptName::QuickAck),
        ("SO_RCVLOWAT", Level::Socket, SockOptName::RcvLowat),
        ("SO_ZEROCOPY", Level::Socket, SockOptName::ZeroCopy),
        ("IP_MTU_DISCOVER", Level::Ip, SockOptName::MtuDiscover),
        ("IP_TOS", Level::Ip, SockOptName::Tos),
    ];

    /// The option a script names with `level` (`SOL_SOCKET`, `IPPROTO_TCP`
    /// or `SOL_TCP`, `IPPROTO_IP` or `SOL_IP`) and `name`; `None` when the
    /// pair is not supported.
    pub fn from_script(level: &str, name: &str) -> Option<SockOptName> {
        let level = match level {
            "SOL_SOCKET" => Level::Socket,
            "IPPROTO_TCP" | "SOL_TCP" => Level::Tcp,
            "IPPROTO_IP" | "SOL_IP" => Level::Ip,
            _ => return None,
        };
        Self::TABLE
            .iter()
            .find(|(n, l, _)| *n == name && *l == level)
            .map(|(_, _, o)| *o)
    }

    /// The name a script uses.
    pub fn script_name(self) -> &'static str {
        Self::TABLE
            .iter()
            .find(|(_, _, o)| *o == self)
            .map_or("?", |(n, _, _)| n)
    }

    /// Linux's (level, optname).
    pub fn linux(self) -> (i32, i32) {
        use libc::{IPPROTO_IP, IPPROTO_TCP, SOL_SOCKET};
        match self {
            SockOptName::ReuseAddr => (SOL_SOCKET, libc::SO_REUSEADDR),
            SockOptName::ReusePort => (SOL_SOCKET, libc::SO_REUSEPORT),
            SockOptName::KeepAlive => (SOL_SOCKET, libc::SO_KEEPALIVE),
            SockOptName::RcvBuf => (SOL_SOCKET, libc::SO_RCVBUF),
            SockOptName::SndBuf => (SOL_SOCKET, libc::SO_SNDBUF),
            SockOptName::NoDelay => (IPPROTO_TCP, libc::TCP_NODELAY),
            SockOptName::KeepIdle => (IPPROTO_TCP, libc::TCP_KEEPIDLE),
            SockOptName::KeepIntvl => (IPPROTO_TCP, libc::TCP_KEEPINTVL),
            SockOptName::KeepCnt => (IPPROTO_TCP, libc::TCP_KEEPCNT),
            SockOptName::SynCnt => (IPPROTO_TCP, libc::TCP_SYNCNT),
            SockOptName::MaxSeg => (IPPROTO_TCP, libc::TCP_MAXSEG),
            SockOptName::Linger2 => (IPPROTO_TCP, libc::TCP_LINGER2),
            SockOptName::Broadcast => (SOL_SOCKET, libc::SO_BROADCAST),
            SockOptName::Cork => (IPPROTO_TCP, libc::TCP_CORK),
            SockOptName::UserTimeout => (IPPROTO_TCP, libc::TCP_USER_TIMEOUT),
            SockOptName::NotsentLowat => (IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT),
            // include/uapi/linux/tcp.h
            SockOptName::Inq => (IPPROTO_TCP, 36),
            SockOptName::QuickAck => (IPPROTO_TCP, libc::TCP_QUICKACK),
            SockOptName::RcvLowat => (SOL_SOCKET, libc::SO_RCVLOWAT),
            // include/uapi/asm-generic/socket.h
            SockOptName::ZeroCopy => (SOL_SOCKET, 60),
            SockOptName::MtuDiscover => (IPPROTO_IP, libc::IP_MTU_DISCOVER),
            SockOptName::Tos => (IPPROTO_IP, libc::IP_TOS),
        }
    }

    /// The stack's option; `None` for one the stack does not model.
    pub fn stack(self) -> Option<stack::SockOpt> {
        use stack::SockOpt;
        Some(match self {
            SockOptName::ReuseAddr => SockOpt::ReuseAddr,
            SockOptName::ReusePort => SockOpt::ReusePort,
            SockOptName::KeepAlive => SockOpt::KeepAlive,
            SockOptName::RcvBuf => SockOpt::RcvBuf,
            SockOptName::SndBuf => SockOpt::SndBuf,
            SockOptName::NoDelay => SockOpt::NoDelay,
            SockOptName::KeepIdle => SockOpt::KeepIdle,
            SockOptName::KeepIntvl => SockOpt::KeepIntvl,
            SockOptName::KeepCnt => SockOpt::KeepCnt,
            SockOptName::SynCnt => SockOpt::SynCnt,
            SockOptName::MaxSeg => SockOpt::MaxSeg,
            SockOptName::Linger2 => SockOpt::Linger2,
            SockOptName::Broadcast => SockOpt::Broadcast,
            SockOptName::Cork
            | SockOptName::UserTimeout
            | SockOptName::NotsentLowat
            | SockOptName::Inq
            | SockOptName::QuickAck
            | SockOptName::RcvLowat
            | SockOptName::ZeroCopy
            | SockOptName::MtuDiscover
            | SockOptName::Tos => return None,
        })
    }
}

/// A call the stack DUTs cannot make: an option the stack does not model.
pub fn stack_unsupported(call: &SysCall) -> Option<String> {
    match call {
        SysCall::SetSockOpt { name, .. } | SysCall::GetSockOpt { name, .. }
            if name.stack().is_none() =>
        {
            Some(format!(
                "{} on the stack (not modelled)",
                name.script_name()
            ))
        }
        _ => None,
    }
}

/// What a caller waits for on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Data, EOF, an error, or a connection to accept.
    Readable,
    /// Room in the send buffer, a finished connect, or an error.
    Writable,
}

/// A Linux errno value (the stack uses the same numbers).
pub use stack::Errno;

/// One DUT plus its testbench, as the runner drives it.
pub trait Target {
    /// Short name: `linux`, `stack`, `sim`.
    fn name(&self) -> &'static str;
    /// Time since the script started.
    fn now(&mut self) -> Micros;
    /// Let time pass until `t` (real time: sleep; simulation: run the stack's
    /// timers). Frames the DUT sends meanwhile are kept for `recv_frame`.
    fn wait_until(&mut self, t: Micros);
    /// Put a frame on the wire towards the DUT.
    fn inject(&mut self, frame: &[u8]);
    /// Put a TCP frame larger than the MTU on the wire as one TSO packet of
    /// `mss`-byte segments, which the DUT receives whole (as from
    /// packetdrill's tun device). In-process DUTs take the frame as it is.
    fn inject_gso(&mut self, frame: &[u8], mss: u16) {
        let _ = mss;
        self.inject(frame)
    }
    /// Moves the script clock's origin `by` µs later, so that the script's
    /// intervals count from when the testbench, `by` late, acted (see
    /// [`crate::run::RunResult::late`]); whether it did. Not where the
    /// testbench is never late (`sim`).
    fn rebase(&mut self, by: Micros) -> bool {
        let _ = by;
        false
    }
    /// The next frame the DUT sent, waiting at most until `deadline`.
    fn recv_frame(&mut self, deadline: Micros) -> Option<(Micros, Vec<u8>)>;
    /// A socket call; never blocks (`EAGAIN`/`EINPROGRESS` when it would).
    fn syscall(&mut self, call: &SysCall) -> Result<i64, Errno>;
    /// Whether `fd` is ready for `interest` (or has an error pending).
    fn is_ready(&mut self, fd: i32, interest: Interest) -> bool;
    /// Brings the DUT's interface up (scripts with `--dut_link_up`, whose
    /// DUT starts with its interface down).
    fn link_up(&mut self) {}
    /// A backtick command of a script in `dir`. Linux runs it with `sh -c`
    /// inside the DUT's namespace (`Err` with its output when it exits
    /// non-zero, which fails the script as in packetdrill); the stack maps
    /// the sysctl settings it knows onto its profile and reports the rest
    /// ([`crate::sysctl`]). The time the command takes is not script time.
    fn shell(&mut self, cmd: &str, dir: &std::path::Path) -> Result<ShellOutcome, String>;
    /// Why this DUT cannot make `call` (then it is *unsupported* here while
    /// other DUTs run it), or `None`.
    fn unsupported(&self, call: &SysCall) -> Option<String> {
        let _ = call;
        None
    }
    /// `getsockopt(fd, IPPROTO_TCP, TCP_INFO)`: the `tcpi_*` fields this DUT
    /// reports, by name.
    fn tcp_info(&mut self, fd: i32) -> Result<Vec<(&'static str, i64)>, Errno>;
}

pub use crate::sysctl::ShellOutcome;

/// The stack's TCP_INFO fields by their Linux names.
pub fn stack_tcp_info(i: &stack::tcp::TcpInfo) -> Vec<(&'static str, i64)> {
    vec![
        ("tcpi_state", i.state.into()),
        ("tcpi_ca_state", i.ca_state.into()),
        ("tcpi_retransmits", i.retransmits.into()),
        ("tcpi_backoff", i.backoff.into()),
        ("tcpi_rto", i.rto.into()),
        ("tcpi_rtt", i.rtt.into()),
        ("tcpi_rttvar", i.rttvar.into()),
        ("tcpi_snd_mss", i.snd_mss.into()),
        ("tcpi_rcv_mss", i.rcv_mss.into()),
        ("tcpi_unacked", i.unacked.into()),
        ("tcpi_sacked", i.sacked.into()),
        ("tcpi_lost", i.lost.into()),
        ("tcpi_snd_cwnd", i.snd_cwnd.into()),
        ("tcpi_snd_ssthresh", i.snd_ssthresh.into()),
        ("tcpi_reordering", i.reordering.into()),
        ("tcpi_pmtu", i.pmtu.into()),
        ("tcpi_snd_wnd", i.snd_wnd.into()),
        ("tcpi_rcv_wnd", i.rcv_wnd.into()),
        (
            "tcpi_bytes_acked",
            i.bytes_acked.min(i64::MAX as u64) as i64,
        ),
        ("tcpi_notsent_bytes", i.notsent_bytes.into()),
    ]
}
