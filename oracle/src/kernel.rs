//! Thin safe wrappers over the libc socket calls used to drive the Linux
//! kernel as the device under test (DUT).
//!
//! Sockets must be created inside the DUT network namespace: use
//! [`socket_in_dut`] (or call [`socket`] from inside
//! [`Topology::in_dut`](crate::netns::Topology::in_dut)). Once created, a
//! socket stays in that namespace for its whole life and every other call here
//! can be made from any thread.
//!
//! File descriptors are plain [`RawFd`]s because packetdrill scripts name them
//! by number; the caller closes them with [`close`].

use std::fmt;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::RawFd;

use crate::netns::Topology;

/// An `errno` value as returned by a failed system call.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The `errno` of the last failed libc call on this thread.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The symbolic name ("ECONNREFUSED", ...) for common values, or
    /// "E<number>" for the others.
    pub fn name(&self) -> String {
        let n = match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::EIO => "EIO",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::ENODEV => "ENODEV",
            libc::ENOTDIR => "ENOTDIR",
            libc::EINVAL => "EINVAL",
            libc::ENFILE => "ENFILE",
            libc::EMFILE => "EMFILE",
            libc::ENOSPC => "ENOSPC",
            libc::EPIPE => "EPIPE",
            libc::ERANGE => "ERANGE",
            libc::ENOSYS => "ENOSYS",
            libc::ENOTSOCK => "ENOTSOCK",
            libc::EDESTADDRREQ => "EDESTADDRREQ",
            libc::EMSGSIZE => "EMSGSIZE",
            libc::EPROTOTYPE => "EPROTOTYPE",
            libc::ENOPROTOOPT => "ENOPROTOOPT",
            libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            libc::EAFNOSUPPORT => "EAFNOSUPPORT",
            libc::EADDRINUSE => "EADDRINUSE",
            libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            libc::ENETDOWN => "ENETDOWN",
            libc::ENETUNREACH => "ENETUNREACH",
            libc::ECONNABORTED => "ECONNABORTED",
            libc::ECONNRESET => "ECONNRESET",
            libc::ENOBUFS => "ENOBUFS",
            libc::EISCONN => "EISCONN",
            libc::ENOTCONN => "ENOTCONN",
            libc::ETIMEDOUT => "ETIMEDOUT",
            libc::ECONNREFUSED => "ECONNREFUSED",
            libc::EHOSTDOWN => "EHOSTDOWN",
            libc::EHOSTUNREACH => "EHOSTUNREACH",
            libc::EALREADY => "EALREADY",
            libc::EINPROGRESS => "EINPROGRESS",
            _ => return format!("E{}", self.0),
        };
        n.to_string()
    }

    /// Parses a symbolic name produced by [`Errno::name`].
    pub fn from_name(name: &str) -> Option<Errno> {
        (1..200).map(Errno).find(|e| e.name() == name)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = std::io::Error::from_raw_os_error(self.0).to_string();
        // io::Error's Display is "<text> (os error N)"; keep only the text.
        let text = msg.split(" (os error").next().unwrap_or(&msg);
        write!(f, "{} ({})", self.name(), text)
    }
}

impl std::error::Error for Errno {}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

fn cvt(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret == -1 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

fn cvt_size(ret: libc::ssize_t) -> Result<usize, Errno> {
    if ret == -1 {
        Err(Errno::last())
    } else {
        Ok(ret as usize)
    }
}

fn sockaddr_from(addr: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
    sa
}

fn sockaddr_to(sa: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
        u16::from_be(sa.sin_port),
    )
}

/// `socket(2)` in the network namespace of the calling thread.
pub fn socket(domain: i32, ty: i32, proto: i32) -> Result<RawFd, Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })
}

/// `socket(2)` inside the DUT namespace of `topo`. If entering the namespace
/// fails, the error's errno is returned (EIO when there is none).
pub fn socket_in_dut(topo: &Topology, domain: i32, ty: i32, proto: i32) -> Result<RawFd, Errno> {
    match topo.in_dut(|| socket(domain, ty, proto)) {
        Ok(r) => r,
        Err(e) => Err(Errno(e.errno().unwrap_or(libc::EIO))),
    }
}

/// `setsockopt(2)` with an `int` value.
pub fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe a live c_int.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            mem::size_of::<i32>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `getsockopt(2)` of an `int` option.
pub fn getsockopt_int(fd: RawFd, level: i32, name: i32) -> Result<i32, Errno> {
    let mut value: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: the pointer and length describe a live c_int.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    })?;
    Ok(value)
}

/// `getsockopt(SOL_SOCKET, SO_ERROR)`: the pending socket error, if any
/// (reading it clears it).
pub fn so_error(fd: RawFd) -> Result<Option<Errno>, Errno> {
    let e = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok(if e == 0 { None } else { Some(Errno(e)) })
}

/// `bind(2)` to an IPv4 address.
pub fn bind(fd: RawFd, addr: SocketAddrV4) -> Result<(), Errno> {
    let sa = sockaddr_from(addr);
    // SAFETY: the pointer and length describe a live sockaddr_in.
    cvt(unsafe {
        libc::bind(
            fd,
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `connect(2)` to an IPv4 address (EINPROGRESS for non-blocking sockets is
/// returned as an error, as the kernel does).
pub fn connect(fd: RawFd, addr: SocketAddrV4) -> Result<(), Errno> {
    let sa = sockaddr_from(addr);
    // SAFETY: the pointer and length describe a live sockaddr_in.
    cvt(unsafe {
        libc::connect(
            fd,
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `sendto(2)`; without an address, `send(2)`.
pub fn sendto(fd: RawFd, buf: &[u8], to: Option<SocketAddrV4>) -> Result<usize, Errno> {
    let n = match to {
        Some(addr) => {
            let sa = sockaddr_from(addr);
            // SAFETY: buf and the sockaddr_in are live for the call.
            unsafe {
                libc::sendto(
                    fd,
                    buf.as_ptr().cast(),
                    buf.len(),
                    0,
                    &sa as *const libc::sockaddr_in as *const libc::sockaddr,
                    mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        // SAFETY: buf is live for the call.
        None => unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), 0) },
    };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// `recvfrom(2)`: the length received and the source address.
pub fn recvfrom(fd: RawFd, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), Errno> {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: buf and the sockaddr_in are live and sized as given.
    let n = unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut len,
        )
    };
    if n < 0 {
        return Err(Errno::last());
    }
    let ip = std::net::Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
    Ok((n as usize, SocketAddrV4::new(ip, u16::from_be(sa.sin_port))))
}

/// `listen(2)`.
pub fn listen(fd: RawFd, backlog: i32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// `accept4(2)` (with SOCK_CLOEXEC): the new fd and the peer's address.
pub fn accept(fd: RawFd) -> Result<(RawFd, SocketAddrV4), Errno> {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: the pointer and length describe a live sockaddr_in.
    let nfd = cvt(unsafe {
        libc::accept4(
            fd,
            &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut len,
            libc::SOCK_CLOEXEC,
        )
    })?;
    Ok((nfd, sockaddr_to(&sa)))
}

/// `getsockname(2)` for an IPv4 socket.
pub fn local_addr(fd: RawFd) -> Result<SocketAddrV4, Errno> {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: the pointer and length describe a live sockaddr_in.
    cvt(unsafe {
        libc::getsockname(
            fd,
            &mut sa as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut len,
        )
    })?;
    Ok(sockaddr_to(&sa))
}

/// `read(2)`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the pointer and length describe a live, writable buffer.
    cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) })
}

/// `write(2)`. (A broken pipe is reported as EPIPE; SIGPIPE is not raised
/// because Rust programs ignore it.)
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the pointer and length describe a live buffer.
    cvt_size(unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) })
}

/// `close(2)`.
pub fn close(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: closing an fd the caller owns.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// Which direction(s) [`shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// `shutdown(2)`.
pub fn shutdown(fd: RawFd, how: Shutdown) -> Result<(), Errno> {
    let how = match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::shutdown(fd, how) }).map(drop)
}

/// Sets or clears O_NONBLOCK with `fcntl(2)`.
pub fn set_nonblocking(fd: RawFd, nonblocking: bool) -> Result<(), Errno> {
    // SAFETY: plain fcntl calls with integer arguments.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let flags = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags) }).map(drop)
}

/// `poll(2)` on one fd: returns `revents` (0 on timeout). `timeout_ms < 0`
/// waits forever.
pub fn poll(fd: RawFd, events: i16, timeout_ms: i32) -> Result<i16, Errno> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = cvt(unsafe { libc::poll(&mut pfd, 1, timeout_ms) })?;
    Ok(if n == 0 { 0 } else { pfd.revents })
}

/// `ioctl(fd, req, &int)` for the socket-queue requests: the value.
pub fn ioctl_int(fd: RawFd, req: libc::c_ulong) -> Result<i32, Errno> {
    let mut v: libc::c_int = 0;
    // SAFETY: the request writes one int through the pointer.
    cvt(unsafe { libc::ioctl(fd, req as _, &mut v as *mut libc::c_int) })?;
    Ok(v)
}

/// Waits up to `timeout_ms` for the fd to become readable (or hung up / in
/// error, which also makes a read return).
pub fn wait_readable(fd: RawFd, timeout_ms: i32) -> Result<bool, Errno> {
    let r = poll(fd, libc::POLLIN, timeout_ms)?;
    Ok(r & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
}

/// Waits up to `timeout_ms` for the fd to become writable (or in error).
pub fn wait_writable(fd: RawFd, timeout_ms: i32) -> Result<bool, Errno> {
    let r = poll(fd, libc::POLLOUT, timeout_ms)?;
    Ok(r & (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) != 0)
}

/// The subset of the kernel's `struct tcp_info` the oracle looks at.
/// Fields the running kernel does not report are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// TCP_ESTABLISHED = 1, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2,
    /// TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING.
    pub tcpi_state: u8,
    pub tcpi_ca_state: u8,
    pub tcpi_retransmits: u8,
    pub tcpi_probes: u8,
    pub tcpi_backoff: u8,
    pub tcpi_options: u8,
    pub tcpi_snd_wscale: u8,
    pub tcpi_rcv_wscale: u8,
    pub tcpi_rto: u32,
    pub tcpi_ato: u32,
    pub tcpi_snd_mss: u32,
    pub tcpi_rcv_mss: u32,
    pub tcpi_unacked: u32,
    pub tcpi_sacked: u32,
    pub tcpi_lost: u32,
    pub tcpi_retrans: u32,
    pub tcpi_fackets: u32,
    pub tcpi_last_data_sent: u32,
    pub tcpi_last_ack_sent: u32,
    pub tcpi_last_data_recv: u32,
    pub tcpi_last_ack_recv: u32,
    pub tcpi_pmtu: u32,
    pub tcpi_rcv_ssthresh: u32,
    pub tcpi_rtt: u32,
    pub tcpi_rttvar: u32,
    pub tcpi_snd_ssthresh: u32,
    pub tcpi_snd_cwnd: u32,
    pub tcpi_advmss: u32,
    pub tcpi_reordering: u32,
    pub tcpi_rcv_rtt: u32,
    pub tcpi_rcv_space: u32,
    pub tcpi_total_retrans: u32,
    pub tcpi_bytes_acked: u64,
    pub tcpi_bytes_received: u64,
    pub tcpi_segs_out: u32,
    pub tcpi_segs_in: u32,
    pub tcpi_notsent_bytes: u32,
    pub tcpi_min_rtt: u32,
    pub tcpi_data_segs_in: u32,
    pub tcpi_data_segs_out: u32,
    pub tcpi_delivered: u32,
    pub tcpi_bytes_sent: u64,
    pub tcpi_bytes_retrans: u64,
    pub tcpi_snd_wnd: u32,
    pub tcpi_rcv_wnd: u32,
    pub tcpi_delivery_rate_app_limited: u8,
    pub tcpi_pacing_rate: u64,
    pub tcpi_max_pacing_rate: u64,
    pub tcpi_delivery_rate: u64,
    pub tcpi_busy_time: u64,
    pub tcpi_rwnd_limited: u64,
    pub tcpi_sndbuf_limited: u64,
    pub tcpi_delivered_ce: u32,
    pub tcpi_dsack_dups: u32,
    pub tcpi_reord_seen: u32,
    pub tcpi_rcv_ooopack: u32,
    pub tcpi_rehash: u32,
    pub tcpi_total_rto: u32,
    pub tcpi_total_rto_recoveries: u32,
    pub tcpi_total_rto_time: u32,
}

impl TcpInfo {
    /// Every field by its `tcpi_*` name.
    pub fn fields(&self) -> Vec<(&'static str, i64)> {
        macro_rules! f {
            ($($n:ident),*) => { vec![$((stringify!($n), self.$n as i64)),*] };
        }
        f!(
            tcpi_state,
            tcpi_ca_state,
            tcpi_retransmits,
            tcpi_probes,
            tcpi_backoff,
            tcpi_options,
            tcpi_snd_wscale,
            tcpi_rcv_wscale,
            tcpi_rto,
            tcpi_ato,
            tcpi_snd_mss,
            tcpi_rcv_mss,
            tcpi_unacked,
            tcpi_sacked,
            tcpi_lost,
            tcpi_retrans,
            tcpi_fackets,
            tcpi_last_data_sent,
            tcpi_last_ack_sent,
            tcpi_last_data_recv,
            tcpi_last_ack_recv,
            tcpi_pmtu,
            tcpi_rcv_ssthresh,
            tcpi_rtt,
            tcpi_rttvar,
            tcpi_snd_ssthresh,
            tcpi_snd_cwnd,
            tcpi_advmss,
            tcpi_reordering,
            tcpi_rcv_rtt,
            tcpi_rcv_space,
            tcpi_total_retrans,
            tcpi_bytes_acked,
            tcpi_bytes_received,
            tcpi_segs_out,
            tcpi_segs_in,
            tcpi_notsent_bytes,
            tcpi_min_rtt,
            tcpi_data_segs_in,
            tcpi_data_segs_out,
            tcpi_delivered,
            tcpi_bytes_sent,
            tcpi_bytes_retrans,
            tcpi_snd_wnd,
            tcpi_rcv_wnd,
            tcpi_delivery_rate_app_limited,
            tcpi_pacing_rate,
            tcpi_max_pacing_rate,
            tcpi_delivery_rate,
            tcpi_busy_time,
            tcpi_rwnd_limited,
            tcpi_sndbuf_limited,
            tcpi_delivered_ce,
            tcpi_dsack_dups,
            tcpi_reord_seen,
            tcpi_rcv_ooopack,
            tcpi_rehash,
            tcpi_total_rto,
            tcpi_total_rto_recoveries,
            tcpi_total_rto_time
        )
    }
}

/// Numeric values of `tcpi_state` (linux/tcp_states.h).
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
}

/// `getsockopt(IPPROTO_TCP, TCP_INFO)`, decoded by byte offset of the
/// kernel's `struct tcp_info` (include/uapi/linux/tcp.h), so that older and
/// newer kernels both work: fields beyond the returned length stay 0.
pub fn tcp_info(fd: RawFd) -> Result<TcpInfo, Errno> {
    let mut buf = [0u8; 512];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the pointer and length describe a live buffer.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    })?;
    let len = len as usize;
    let u32_at = |off: usize| -> u32 {
        if off + 4 <= len {
            u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap())
        } else {
            0
        }
    };
    let u16_at = |off: usize| -> u16 {
        if off + 2 <= len {
            u16::from_ne_bytes(buf[off..off + 2].try_into().unwrap())
        } else {
            0
        }
    };
    let u64_at = |off: usize| -> u64 {
        if off + 8 <= len {
            u64::from_ne_bytes(buf[off..off + 8].try_into().unwrap())
        } else {
            0
        }
    };
    Ok(TcpInfo {
        tcpi_state: buf[0],
        tcpi_ca_state: buf[1],
        tcpi_retransmits: buf[2],
        tcpi_probes: buf[3],
        tcpi_backoff: buf[4],
        tcpi_options: buf[5],
        // Bitfields `snd_wscale:4, rcv_wscale:4` (little-endian layout:
        // first field in the low bits).
        tcpi_snd_wscale: buf[6] & 0x0f,
        tcpi_rcv_wscale: buf[6] >> 4,
        tcpi_rto: u32_at(8),
        tcpi_ato: u32_at(12),
        tcpi_snd_mss: u32_at(16),
        tcpi_rcv_mss: u32_at(20),
        tcpi_unacked: u32_at(24),
        tcpi_sacked: u32_at(28),
        tcpi_lost: u32_at(32),
        tcpi_retrans: u32_at(36),
        tcpi_fackets: u32_at(40),
        tcpi_last_data_sent: u32_at(44),
        tcpi_last_ack_sent: u32_at(48),
        tcpi_last_data_recv: u32_at(52),
        tcpi_last_ack_recv: u32_at(56),
        tcpi_pmtu: u32_at(60),
        tcpi_rcv_ssthresh: u32_at(64),
        tcpi_rtt: u32_at(68),
        tcpi_rttvar: u32_at(72),
        tcpi_snd_ssthresh: u32_at(76),
        tcpi_snd_cwnd: u32_at(80),
        tcpi_advmss: u32_at(84),
        tcpi_reordering: u32_at(88),
        tcpi_rcv_rtt: u32_at(92),
        tcpi_rcv_space: u32_at(96),
        tcpi_total_retrans: u32_at(100),
        tcpi_bytes_acked: u64_at(120),
        tcpi_bytes_received: u64_at(128),
        tcpi_segs_out: u32_at(136),
        tcpi_segs_in: u32_at(140),
        tcpi_notsent_bytes: u32_at(144),
        tcpi_min_rtt: u32_at(148),
        tcpi_data_segs_in: u32_at(152),
        tcpi_data_segs_out: u32_at(156),
        tcpi_delivered: u32_at(192),
        tcpi_bytes_sent: u64_at(200),
        tcpi_bytes_retrans: u64_at(208),
        tcpi_snd_wnd: u32_at(228),
        tcpi_rcv_wnd: u32_at(232),
        // Bitfield `delivery_rate_app_limited:1, fastopen_client_fail:2`.
        tcpi_delivery_rate_app_limited: buf[7] & 1,
        tcpi_pacing_rate: u64_at(104),
        tcpi_max_pacing_rate: u64_at(112),
        tcpi_delivery_rate: u64_at(160),
        tcpi_busy_time: u64_at(168),
        tcpi_rwnd_limited: u64_at(176),
        tcpi_sndbuf_limited: u64_at(184),
        tcpi_delivered_ce: u32_at(196),
        tcpi_dsack_dups: u32_at(216),
        tcpi_reord_seen: u32_at(220),
        tcpi_rcv_ooopack: u32_at(224),
        tcpi_rehash: u32_at(236),
        tcpi_total_rto: u32::from(u16_at(240)),
        tcpi_total_rto_recoveries: u32::from(u16_at(242)),
        tcpi_total_rto_time: u32_at(244),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(Errno(libc::ECONNREFUSED).name(), "ECONNREFUSED");
        assert_eq!(Errno(libc::EAGAIN).name(), "EAGAIN");
        assert_eq!(Errno::from_name("EPIPE"), Some(Errno(libc::EPIPE)));
        assert!(Errno(libc::ETIMEDOUT)
            .to_string()
            .starts_with("ETIMEDOUT ("));
    }
}
