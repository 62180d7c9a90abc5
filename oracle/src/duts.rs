//! The three DUTs: the Linux kernel in a namespace (`linux`), the stack on a
//! veth end over AF_PACKET in real time (`stack`), and the stack in-process on
//! a virtual clock (`sim`).

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as WallInstant};

use stack::time::Instant;
use stack::{Fd, Host, HostConfig, Profile, Shutdown, SockOpt, SocketType};

use crate::kernel;
use crate::netns::{NetnsError, Side, Topology, TopologyConfig};
use crate::profile::linux_sysctls;
use crate::target::{Errno, Identity, Interest, IoctlReq, Micros, ShellOutcome, SysCall, Target};
use crate::testbench::PacketLink;

/// Which DUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DutKind {
    /// The host's Linux kernel, in its own network namespace.
    Linux,
    /// The stack over a veth pair, AF_PACKET, real time.
    Stack,
    /// The stack in-process, virtual time.
    Sim,
}

impl DutKind {
    /// All DUTs, in report order.
    pub const ALL: [DutKind; 3] = [DutKind::Linux, DutKind::Stack, DutKind::Sim];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            DutKind::Linux => "linux",
            DutKind::Stack => "stack",
            DutKind::Sim => "sim",
        }
    }

    /// Parses a name.
    pub fn from_name(s: &str) -> Option<DutKind> {
        DutKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether this DUT needs network namespaces.
    pub fn needs_namespaces(self) -> bool {
        self != DutKind::Sim
    }
}

/// Per-run settings of a DUT.
#[derive(Debug, Clone, Copy)]
pub struct DutSetup {
    /// Give the DUT a static neighbour entry for the testbench (false for ARP
    /// scenarios, which are about resolution itself).
    pub static_neighbor: bool,
    /// Seed of the stack's random source.
    pub seed: u64,
    /// The DUT's interface starts down and comes up when the script starts
    /// (`--dut_link_up`).
    pub link_down: bool,
    /// Proxy ARP for this subnet, which the DUT routes out of another
    /// interface (`--proxy_arp=NET/PREFIX`).
    pub proxy_arp: Option<(std::net::Ipv4Addr, u8)>,
    /// The script injects TCP segments larger than the MTU: the testbench
    /// end gets TSO so they arrive whole (`TopologyConfig::tb_gso`).
    pub tb_gso: bool,
}

/// Creates a target of `kind`.
pub fn make_target(kind: DutKind, setup: DutSetup) -> Result<Box<dyn Target>, NetnsError> {
    Ok(match kind {
        DutKind::Linux => Box::new(LinuxTarget::new(setup)?),
        DutKind::Stack => Box::new(StackTarget::new(setup)?),
        DutKind::Sim => Box::new(SimTarget::new(setup)),
    })
}

fn new_host(setup: DutSetup) -> Host {
    let mut h = Host::new(host_config(setup), setup.seed);
    if let Some((net, plen)) = setup.proxy_arp {
        h.add_proxy_arp(net, plen);
    }
    h
}

fn host_config(setup: DutSetup) -> HostConfig {
    let id = Identity::STANDARD;
    HostConfig {
        mac: id.dut_mac,
        ipv4: id.dut_ip,
        prefix_len: id.prefix_len,
        gateway: None,
        profile: Profile::linux(),
        static_neighbors: if setup.static_neighbor {
            vec![(id.tb_ip, id.tb_mac)]
        } else {
            Vec::new()
        },
    }
}

/// A call on a UDP socket of the stack; `None` when `call` is not one.
fn stack_udp_call(host: &mut Host, now: Instant, call: &SysCall) -> Option<Result<i64, Errno>> {
    let udp = |fd: i32| host.is_udp(Fd(fd));
    Some(match *call {
        SysCall::SocketDgram => host.socket(SocketType::Dgram).map(|fd| i64::from(fd.0)),
        SysCall::SendTo { fd, len, to } => {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            host.udp_sendto(now, Fd(fd), &data, to).map(|n| n as i64)
        }
        SysCall::Write { fd, len } if udp(fd) => {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            host.udp_sendto(now, Fd(fd), &data, None).map(|n| n as i64)
        }
        SysCall::RecvFrom { fd, len } | SysCall::Read { fd, len } if udp(fd) => {
            let mut buf = vec![0u8; len];
            host.udp_recvfrom(Fd(fd), &mut buf).map(|(n, _)| n as i64)
        }
        SysCall::Bind { fd, addr } if udp(fd) => host.udp_bind(Fd(fd), addr).map(|()| 0),
        SysCall::Connect { fd, addr } if udp(fd) => host.udp_connect(Fd(fd), addr).map(|()| 0),
        SysCall::SetSockOpt { fd, name, value } if udp(fd) => match name.stack() {
            Some(o) => host.udp_setsockopt(Fd(fd), o, value).map(|()| 0),
            None => Err(Errno::ENOPROTOOPT),
        },
        SysCall::GetSockOpt { fd, name } if udp(fd) => match name.stack() {
            Some(o) => host.udp_getsockopt(Fd(fd), o).map(i64::from),
            None => Err(Errno::ENOPROTOOPT),
        },
        SysCall::Close { fd } if udp(fd) => host.close(now, Fd(fd)).map(|()| 0),
        SysCall::SoError { fd } if udp(fd) => Ok(0),
        _ => return None,
    })
}

fn stack_call(host: &mut Host, now: Instant, call: &SysCall) -> Result<i64, Errno> {
    if let Some(r) = stack_udp_call(host, now, call) {
        return r;
    }
    match *call {
        SysCall::SocketStream => host.socket(SocketType::Stream).map(|fd| i64::from(fd.0)),
        SysCall::SocketDgram | SysCall::SendTo { .. } | SysCall::RecvFrom { .. } => {
            Err(Errno::EBADF)
        }
        SysCall::SetSockOpt { fd, .. } | SysCall::GetSockOpt { fd, .. }
            if host.tcp_state(Fd(fd)).is_none() =>
        {
            Err(Errno::EBADF)
        }
        SysCall::SetSockOpt { fd, name, value } => match name.stack() {
            Some(o) => host.setsockopt(Fd(fd), o, value).map(|()| 0),
            None => Err(Errno::ENOPROTOOPT),
        },
        SysCall::GetSockOpt { fd, name } => match name.stack() {
            Some(o) => host.getsockopt(Fd(fd), o).map(i64::from),
            None => Err(Errno::ENOPROTOOPT),
        },
        SysCall::SetLinger { fd, onoff, linger } => host
            .setsockopt(
                Fd(fd),
                SockOpt::Linger,
                if onoff != 0 { linger } else { -1 },
            )
            .map(|()| 0),
        SysCall::Bind { fd, addr } => host.bind(Fd(fd), addr).map(|()| 0),
        SysCall::Listen { fd, backlog } => host.listen(Fd(fd), backlog).map(|()| 0),
        SysCall::Accept { fd } => host.accept(Fd(fd)).map(|(fd, _)| i64::from(fd.0)),
        SysCall::Connect { fd, addr } => host.connect(now, Fd(fd), addr).map(|()| 0),
        SysCall::Write { fd, len } => {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            host.send(now, Fd(fd), &data).map(|n| n as i64)
        }
        SysCall::Read { fd, len } => {
            let mut buf = vec![0u8; len];
            host.recv(now, Fd(fd), &mut buf).map(|n| n as i64)
        }
        SysCall::Shutdown { fd, how } => {
            let how = match how {
                0 => Shutdown::Read,
                1 => Shutdown::Write,
                _ => Shutdown::Both,
            };
            host.shutdown(now, Fd(fd), how).map(|()| 0)
        }
        SysCall::Close { fd } => host.close(now, Fd(fd)).map(|()| 0),
        // A closed (or never opened) fd is EBADF, as the kernel's fd table
        // says before any socket code runs; the connection of a closed fd
        // may live on in the stack without it.
        SysCall::SoError { fd } if host.tcp_state(Fd(fd)).is_none() => Err(Errno::EBADF),
        SysCall::SoError { fd } => Ok(host.take_error(Fd(fd)).map_or(0, |e| i64::from(e.0))),
        SysCall::Ioctl { fd, req } => {
            let tcb = host.tcb(Fd(fd));
            match (req, tcb) {
                (_, None) if host.tcp_state(Fd(fd)).is_none() => Err(Errno::EBADF),
                // tcp_ioctl: EINVAL on a listener.
                (_, None) if host.tcp_state(Fd(fd)) == Some(stack::TcpState::Listen) => {
                    Err(Errno::EINVAL)
                }
                (_, None) => Ok(0),
                (IoctlReq::InQ, Some(t)) => Ok(t.recv_available() as i64),
                // The send buffer holds what is unacknowledged or unsent.
                (IoctlReq::OutQ, Some(t)) => Ok(t.send_queued() as i64),
                (IoctlReq::OutQNsd, Some(t)) => Ok(i64::from(t.info().notsent_bytes)),
            }
        }
        SysCall::Poll { fd, events } => {
            if host.tcp_state(Fd(fd)).is_none() && !host.is_udp(Fd(fd)) {
                return Ok(i64::from(libc::POLLNVAL));
            }
            let r = if host.is_udp(Fd(fd)) {
                host.udp_readiness(Fd(fd))
            } else {
                host.readiness(Fd(fd))
            };
            let mut m = 0;
            if r.readable {
                m |= libc::POLLIN | libc::POLLRDNORM;
            }
            if r.writable {
                m |= libc::POLLOUT | libc::POLLWRNORM;
            }
            if r.error.is_some() {
                m |= libc::POLLERR;
            }
            if r.hup {
                m |= libc::POLLHUP;
            }
            Ok(i64::from(m & (events | libc::POLLERR | libc::POLLHUP)))
        }
    }
}

fn stack_ready(host: &Host, fd: i32, interest: Interest) -> bool {
    let r = if host.is_udp(Fd(fd)) {
        host.udp_readiness(Fd(fd))
    } else {
        host.readiness(Fd(fd))
    };
    r.error.is_some()
        || r.hup
        || match interest {
            Interest::Readable => r.readable,
            Interest::Writable => r.writable,
        }
}

// ---------------------------------------------------------------- sim

/// The stack in-process on a virtual clock; the testbench is in-process too.
/// Deterministic: the same script and seed give the same trace.
pub struct SimTarget {
    host: Host,
    now: Micros,
    out: VecDeque<(Micros, Vec<u8>)>,
}

impl SimTarget {
    /// A stack host with the standard identity and the `linux` profile.
    pub fn new(setup: DutSetup) -> SimTarget {
        SimTarget {
            host: new_host(setup),
            now: 0,
            out: VecDeque::new(),
        }
    }

    fn flush(&mut self) {
        let now = Instant::from_micros(self.now);
        while let Some(f) = self.host.transmit(now) {
            self.out.push_back((self.now, f));
        }
    }

    /// Runs timers up to `t`, stopping early once a frame is out.
    fn advance(&mut self, t: Micros, stop_on_frame: bool) {
        loop {
            self.flush();
            if stop_on_frame && !self.out.is_empty() {
                return;
            }
            match self.host.poll_at() {
                Some(d) if d.total_micros() <= t => {
                    // A deadline in the past still advances by nothing: the
                    // flush above ran it.
                    let next = d.total_micros().max(self.now);
                    if next == self.now && self.host.poll_at() == Some(d) {
                        // The host did not consume its deadline; avoid a spin.
                        self.now += 1;
                    } else {
                        self.now = next;
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
        self.flush();
    }
}

impl Target for SimTarget {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn now(&mut self) -> Micros {
        self.now
    }
    fn wait_until(&mut self, t: Micros) {
        self.advance(t, false);
    }
    fn inject(&mut self, frame: &[u8]) {
        self.host.receive(Instant::from_micros(self.now), frame);
        self.flush();
    }
    fn recv_frame(&mut self, deadline: Micros) -> Option<(Micros, Vec<u8>)> {
        if self.out.is_empty() {
            self.advance(deadline, true);
        }
        self.out.pop_front()
    }
    fn syscall(&mut self, call: &SysCall) -> Result<i64, Errno> {
        let r = stack_call(&mut self.host, Instant::from_micros(self.now), call);
        self.flush();
        r
    }
    fn is_ready(&mut self, fd: i32, interest: Interest) -> bool {
        stack_ready(&self.host, fd, interest)
    }
    fn link_up(&mut self) {
        self.host.interface_up(Instant::from_micros(self.now));
        self.flush();
    }
    fn shell(&mut self, cmd: &str, dir: &std::path::Path) -> Result<ShellOutcome, String> {
        Ok(crate::sysctl::interpret(cmd, dir, self.host.profile_mut()))
    }
    fn unsupported(&self, call: &SysCall) -> Option<String> {
        crate::target::stack_unsupported(call)
    }
    fn tcp_info(&mut self, fd: i32) -> Result<Vec<(&'static str, i64)>, Errno> {
        stack_tcp_info_of(&self.host, fd)
    }
}

/// TCP_INFO of the stack's `fd`: EBADF for no socket, and for a socket
/// without a connection only its state (listening or closed), as Linux
/// reports the other fields as zeros there.
fn stack_tcp_info_of(host: &Host, fd: i32) -> Result<Vec<(&'static str, i64)>, Errno> {
    match host.tcb(Fd(fd)) {
        Some(tcb) => Ok(crate::target::stack_tcp_info(&tcb.info())),
        None => match host.tcp_state(Fd(fd)) {
            None => Err(Errno::EBADF),
            Some(stack::TcpState::Listen) => Ok(vec![("tcpi_state", 10)]),
            Some(_) => Ok(vec![("tcpi_state", 7)]),
        },
    }
}

// ---------------------------------------------------------------- real time

/// A real-time testbench: the AF_PACKET socket on the testbench end and the
/// script clock.
struct RealBench {
    tb: PacketLink,
    start: WallInstant,
}

impl RealBench {
    fn now(&self) -> Micros {
        self.start.elapsed().as_micros() as Micros
    }
    fn wait_until(&mut self, t: Micros) {
        let now = self.now();
        if t > now {
            std::thread::sleep(Duration::from_micros((t - now) as u64));
        }
    }
    fn rebase(&mut self, by: Micros) -> bool {
        self.start += Duration::from_micros(by.max(0) as u64);
        true
    }
    fn recv(&mut self, deadline: Micros) -> Option<(Micros, Vec<u8>)> {
        let timeout = (deadline - self.now()).max(0) as u64;
        let c = self.tb.recv_timeout(Duration::from_micros(timeout))?;
        let at = c.at.saturating_duration_since(self.start).as_micros() as Micros;
        Some((at, c.bytes))
    }
    fn inject(&mut self, frame: &[u8]) {
        if let Err(e) = self.tb.send(frame) {
            tracing::error!("testbench inject failed: {e}");
        }
    }
    fn inject_gso(&mut self, frame: &[u8], mss: u16) {
        if let Err(e) = self.tb.send_gso(frame, mss) {
            tracing::error!("testbench TSO inject failed: {e}");
        }
    }
}

/// The host's Linux kernel in a fresh network namespace, its TCP sysctls
/// pinned to the documented profile ([`crate::profile`]).
pub struct LinuxTarget {
    bench: RealBench,
    topo: Topology,
    fds: Vec<RawFd>,
    /// A backtick command has run (the DUT interface got its `tun0` name).
    shell_used: bool,
}

impl LinuxTarget {
    /// Builds the namespaces, pins the sysctls, opens the testbench.
    pub fn new(setup: DutSetup) -> Result<LinuxTarget, NetnsError> {
        let mut cfg = TopologyConfig::linux_dut();
        if !setup.static_neighbor {
            cfg.dut_static_neigh = None;
        }
        cfg.dut_link_down = setup.link_down;
        cfg.tb_gso = setup.tb_gso;
        cfg.dut_sysctls = linux_sysctls();
        if let Some(net) = setup.proxy_arp {
            // Linux answers for another host only when it forwards
            // (arp_process's proxy branch needs IN_DEV_FORWARD) and routes
            // the target out of another interface (arp_fwd_proxy).
            cfg.dut_routed = Some(net);
            for (k, v) in [
                ("net/ipv4/conf/all/forwarding", "1"),
                ("net/ipv4/conf/{dut}/forwarding", "1"),
                ("net/ipv4/conf/{dut}/proxy_arp", "1"),
                // Answer at once, not after a random delay of up to 0.8 s.
                ("net/ipv4/neigh/{dut}/proxy_delay", "0"),
            ] {
                cfg.dut_sysctls.push((k.to_string(), v.to_string()));
            }
        }
        let topo = Topology::create(&cfg)?;
        let tb = PacketLink::open(&topo, Side::Testbench)?;
        Ok(LinuxTarget {
            bench: RealBench {
                tb,
                start: WallInstant::now(),
            },
            topo,
            fds: Vec::new(),
            shell_used: false,
        })
    }
}

impl Drop for LinuxTarget {
    fn drop(&mut self) {
        for fd in self.fds.drain(..) {
            let _ = kernel::close(fd);
        }
    }
}

fn kerr(e: kernel::Errno) -> Errno {
    Errno(e.0)
}

impl Target for LinuxTarget {
    fn name(&self) -> &'static str {
        "linux"
    }
    fn now(&mut self) -> Micros {
        self.bench.now()
    }
    fn wait_until(&mut self, t: Micros) {
        self.bench.wait_until(t)
    }
    fn rebase(&mut self, by: Micros) -> bool {
        self.bench.rebase(by)
    }
    fn inject(&mut self, frame: &[u8]) {
        self.bench.inject(frame)
    }
    fn inject_gso(&mut self, frame: &[u8], mss: u16) {
        self.bench.inject_gso(frame, mss)
    }
    fn recv_frame(&mut self, deadline: Micros) -> Option<(Micros, Vec<u8>)> {
        self.bench.recv(deadline)
    }
    fn syscall(&mut self, call: &SysCall) -> Result<i64, Errno> {
        use libc::SOL_SOCKET;
        let r = match *call {
            SysCall::SocketStream => {
                let fd = kernel::socket_in_dut(&self.topo, libc::AF_INET, libc::SOCK_STREAM, 0)
                    .map_err(kerr)?;
                // Blocking is emulated by the runner on every DUT alike.
                kernel::set_nonblocking(fd, true).map_err(kerr)?;
                self.fds.push(fd);
                Ok(i64::from(fd))
            }
            SysCall::SocketDgram => {
                let fd = kernel::socket_in_dut(&self.topo, libc::AF_INET, libc::SOCK_DGRAM, 0)
                    .map_err(kerr)?;
                kernel::set_nonblocking(fd, true).map_err(kerr)?;
                self.fds.push(fd);
                Ok(i64::from(fd))
            }
            SysCall::SendTo { fd, len, to } => {
                let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                kernel::sendto(fd, &data, to).map(|n| n as i64)
            }
            SysCall::RecvFrom { fd, len } => {
                let mut buf = vec![0u8; len];
                kernel::recvfrom(fd, &mut buf).map(|(n, _)| n as i64)
            }
            SysCall::SetSockOpt { fd, name, value } => {
                let (level, opt) = name.linux();
                kernel::setsockopt_int(fd, level, opt, value).map(|()| 0)
            }
            SysCall::GetSockOpt { fd, name } => {
                let (level, opt) = name.linux();
                kernel::getsockopt_int(fd, level, opt).map(i64::from)
            }
            SysCall::SetLinger { fd, onoff, linger } => {
                let l = libc::linger {
                    l_onoff: onoff,
                    l_linger: linger,
                };
                // SAFETY: setsockopt with a properly sized linger struct.
                let rc = unsafe {
                    libc::setsockopt(
                        fd,
                        SOL_SOCKET,
                        libc::SO_LINGER,
                        (&l as *const libc::linger).cast(),
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    )
                };
                if rc == 0 {
                    Ok(0)
                } else {
                    Err(kernel::Errno::last())
                }
            }
            SysCall::Bind { fd, addr } => kernel::bind(fd, addr).map(|()| 0),
            SysCall::Listen { fd, backlog } => kernel::listen(fd, backlog).map(|()| 0),
            SysCall::Accept { fd } => kernel::accept(fd).and_then(|(nfd, _)| {
                kernel::set_nonblocking(nfd, true)?;
                self.fds.push(nfd);
                Ok(i64::from(nfd))
            }),
            SysCall::Connect { fd, addr } => kernel::connect(fd, addr).map(|()| 0),
            SysCall::Write { fd, len } => {
                let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                kernel::write(fd, &data).map(|n| n as i64)
            }
            SysCall::Read { fd, len } => {
                let mut buf = vec![0u8; len];
                kernel::read(fd, &mut buf).map(|n| n as i64)
            }
            SysCall::Shutdown { fd, how } => {
                let how = match how {
                    0 => kernel::Shutdown::Read,
                    1 => kernel::Shutdown::Write,
                    _ => kernel::Shutdown::Both,
                };
                kernel::shutdown(fd, how).map(|()| 0)
            }
            SysCall::Close { fd } => {
                self.fds.retain(|f| *f != fd);
                kernel::close(fd).map(|()| 0)
            }
            SysCall::SoError { fd } => {
                kernel::so_error(fd).map(|e| e.map_or(0, |e| i64::from(e.0)))
            }
            SysCall::Ioctl { fd, req } => kernel::ioctl_int(fd, req.linux()).map(i64::from),
            SysCall::Poll { fd, events } => kernel::poll(fd, events, 0).map(i64::from),
        };
        r.map_err(kerr)
    }
    fn is_ready(&mut self, fd: i32, interest: Interest) -> bool {
        let events = match interest {
            Interest::Readable => libc::POLLIN,
            Interest::Writable => libc::POLLOUT,
        };
        kernel::poll(fd, events, 0).is_ok_and(|r| r != 0)
    }
    fn link_up(&mut self) {
        if let Err(e) = self.topo.dut_link_up() {
            tracing::error!("bringing the DUT's interface up: {e}");
        }
        // The script's time 0 is when the interface is up (what the kernel
        // sent while it came up is stamped 0).
        self.bench.start = WallInstant::now();
    }
    fn shell(&mut self, cmd: &str, dir: &std::path::Path) -> Result<ShellOutcome, String> {
        let t0 = WallInstant::now();
        let ifname = self.topo.dut_ifname().to_string();
        let first = !self.shell_used;
        self.shell_used = true;
        let out = self.topo.in_dut(|| {
            if first {
                // packetdrill's DUT interface is tun0, and the usual
                // defaults.sh configures it by that name (`tc qdisc add dev
                // tun0 root pfifo`): give the veth end that alternative name
                // inside the DUT's namespace.
                let _ = std::process::Command::new("ip")
                    .args(["link", "property", "add", "dev", &ifname, "altname", "tun0"])
                    .output();
            }
            // packetdrill exports its pid, which the selftests'
            // set_sysctls.py names its restore script after (scripts run
            // `/tmp/sysctl_restore_${PPID}.sh`: the shell's parent is us).
            std::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .current_dir(dir)
                .env("PACKETDRILL_PID", std::process::id().to_string())
                .output()
        });
        // The command's own duration is not script time (packetdrill runs
        // it between events).
        self.bench.start += t0.elapsed();
        let out = out
            .map_err(|e| format!("entering the DUT namespace: {e}"))?
            .map_err(|e| format!("running sh: {e}"))?;
        if out.status.success() {
            Ok(ShellOutcome::default())
        } else {
            let mut msg = format!("`{cmd}` exited with {}", out.status);
            let err = String::from_utf8_lossy(&out.stderr);
            if let Some(l) = err.lines().rfind(|l| !l.trim().is_empty()) {
                msg.push_str(&format!(": {}", l.trim()));
            }
            Err(msg)
        }
    }
    fn tcp_info(&mut self, fd: i32) -> Result<Vec<(&'static str, i64)>, Errno> {
        kernel::tcp_info(fd).map(|i| i.fields()).map_err(kerr)
    }
}

/// This project's stack on the DUT veth end over AF_PACKET, driven in real
/// time by the stack's own driver loop; the kernel in that namespace owns no
/// address, so it never answers.
pub struct StackTarget {
    bench: RealBench,
    host: Arc<Mutex<Host>>,
    stop: Arc<AtomicBool>,
    driver: Option<JoinHandle<()>>,
    /// The device's sending half: a call's output leaves before the call
    /// returns (see [`stack::device::pnet::PnetSender`]).
    sender: Option<stack::device::pnet::PnetSender>,
    epoch: WallInstant,
    /// Frames the testbench injected; calls wait until the stack has taken
    /// them all in, as the kernel has by the time a Linux call runs.
    injected: u64,
    _topo: Topology,
}

impl StackTarget {
    /// Builds the namespaces and starts the stack on the DUT end.
    pub fn new(setup: DutSetup) -> Result<StackTarget, NetnsError> {
        let topo = Topology::create(&TopologyConfig {
            dut_link_down: setup.link_down,
            tb_gso: setup.tb_gso,
            ..TopologyConfig::stack_dut()
        })?;
        let tb = PacketLink::open(&topo, Side::Testbench)?;
        let host = Arc::new(Mutex::new(new_host(setup)));
        let mut t = StackTarget {
            bench: RealBench {
                tb,
                start: WallInstant::now(),
            },
            host,
            stop: Arc::new(AtomicBool::new(false)),
            driver: None,
            sender: None,
            epoch: WallInstant::now(),
            injected: 0,
            _topo: topo,
        };
        // An AF_PACKET socket bound to a down interface starts with a
        // pending ENETDOWN: with `--dut_link_up` the device is opened once
        // the interface is up.
        if !setup.link_down {
            t.start_driver()?;
        }
        Ok(t)
    }

    /// Opens the AF_PACKET device on the DUT's end and starts the driver.
    fn start_driver(&mut self) -> Result<(), NetnsError> {
        let ifname = self._topo.dut_ifname().to_string();
        let dev = self
            ._topo
            .in_dut(|| stack::device::pnet::PnetDevice::open(&ifname))?
            .map_err(|e| NetnsError::Sys {
                what: format!("opening the stack's AF_PACKET device on {ifname}: {e}"),
                errno: kernel::Errno(e.raw_os_error().unwrap_or(libc::EIO)),
            })?;
        self.sender = Some(dev.sender());
        let (host, stop, epoch) = (self.host.clone(), self.stop.clone(), self.epoch);
        let driver = std::thread::Builder::new()
            .name("stack-driver".into())
            .spawn(move || stack::device::pnet::run(host, dev, stop, epoch))
            .map_err(|e| NetnsError::Sys {
                what: "spawning the stack driver".into(),
                errno: kernel::Errno(e.raw_os_error().unwrap_or(libc::EIO)),
            })?;
        self.driver = Some(driver);
        Ok(())
    }

    fn stack_now(&self) -> Instant {
        Instant::from_micros(self.epoch.elapsed().as_micros() as i64)
    }

    /// Locks the host once it has received every injected frame (or after
    /// 50 ms, if a frame was lost on the wire).
    fn host_in_sync(&self) -> std::sync::MutexGuard<'_, Host> {
        let give_up = WallInstant::now() + Duration::from_millis(50);
        loop {
            let host = self.host.lock().unwrap_or_else(|p| p.into_inner());
            if host.frames_received() >= self.injected || WallInstant::now() >= give_up {
                return host;
            }
            drop(host);
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

impl Drop for StackTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(d) = self.driver.take() {
            let _ = d.join();
        }
    }
}

impl Target for StackTarget {
    fn name(&self) -> &'static str {
        "stack"
    }
    fn now(&mut self) -> Micros {
        self.bench.now()
    }
    fn wait_until(&mut self, t: Micros) {
        self.bench.wait_until(t)
    }
    fn rebase(&mut self, by: Micros) -> bool {
        self.bench.rebase(by)
    }
    fn inject(&mut self, frame: &[u8]) {
        self.bench.inject(frame);
        self.injected += 1;
    }
    fn inject_gso(&mut self, frame: &[u8], mss: u16) {
        self.bench.inject_gso(frame, mss);
        self.injected += 1;
    }
    fn recv_frame(&mut self, deadline: Micros) -> Option<(Micros, Vec<u8>)> {
        self.bench.recv(deadline)
    }
    fn syscall(&mut self, call: &SysCall) -> Result<i64, Errno> {
        let mut host = self.host_in_sync();
        let now = self.stack_now();
        let r = stack_call(&mut host, now, call);
        if let Some(tx) = &self.sender {
            tx.transmit(&mut host, now);
        }
        r
    }
    fn is_ready(&mut self, fd: i32, interest: Interest) -> bool {
        let host = self.host_in_sync();
        stack_ready(&host, fd, interest)
    }
    fn link_up(&mut self) {
        if let Err(e) = self._topo.dut_link_up() {
            tracing::error!("bringing the DUT's interface up: {e}");
        }
        if self.driver.is_none() {
            if let Err(e) = self.start_driver() {
                tracing::error!("starting the stack on the DUT's interface: {e}");
            }
        }
        let now = self.stack_now();
        let mut host = self.host_in_sync();
        host.interface_up(now);
        drop(host);
        // Time 0 is when the interface is up, as for Linux.
        self.bench.start = WallInstant::now();
    }
    fn shell(&mut self, cmd: &str, dir: &std::path::Path) -> Result<ShellOutcome, String> {
        let mut host = self.host_in_sync();
        Ok(crate::sysctl::interpret(cmd, dir, host.profile_mut()))
    }
    fn unsupported(&self, call: &SysCall) -> Option<String> {
        crate::target::stack_unsupported(call)
    }
    fn tcp_info(&mut self, fd: i32) -> Result<Vec<(&'static str, i64)>, Errno> {
        let host = self.host_in_sync();
        stack_tcp_info_of(&host, fd)
    }
}
