//! Anonymous network namespaces and the veth pair between the testbench and
//! the device under test (DUT).
//!
//! Design:
//!
//! * Namespaces are **anonymous**: a throwaway thread calls
//!   `unshare(CLONE_NEWNET)`, opens `/proc/thread-self/ns/net` and exits. The
//!   returned fd is the only thing that keeps the namespace alive; nothing is
//!   bind-mounted under `/run/netns` and nothing is ever created in the host
//!   namespace. When the process dies (even by SIGKILL) the kernel destroys
//!   the namespaces and the veth pair inside them.
//! * Code runs "inside" a namespace on a short-lived thread that calls
//!   `setns(fd, CLONE_NEWNET)` and then runs a closure
//!   ([`Topology::in_testbench`], [`Topology::in_dut`]). Sockets created there
//!   stay in that namespace for their whole life and can be used from any
//!   thread afterwards.
//! * Links, addresses and neighbours are configured over rtnetlink from the
//!   process itself (no `ip` binary); offloads with the SIOCETHTOOL ioctl;
//!   sysctls by writing `/proc/sys/net/...` from a thread inside the
//!   namespace (the kernel resolves `/proc/sys/net` against the *calling
//!   thread's* namespace).
//!
//! Sockets (kernel sockets, [`PacketLink`](crate::testbench::PacketLink)s)
//! hold a reference on their namespace: close them before (or together with)
//! the [`Topology`] for the namespace to go away at once.

use std::ffi::CString;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::kernel::Errno;

/// Prefix of every interface name this harness creates.
pub const IFNAME_PREFIX: &str = "pdh";

/// How long [`Topology::create`] waits for both veth ends to become ready.
const LINK_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// What failed while building or using a topology, with the errno.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("creating network namespace: {errno}{hint}")]
    CreateNamespace { errno: Errno, hint: &'static str },
    #[error("entering network namespace of the {side}: setns: {errno}")]
    EnterNamespace { side: &'static str, errno: Errno },
    #[error("{what}: {errno}")]
    Sys { what: String, errno: Errno },
    #[error("user namespace: {0}")]
    UserNamespace(String),
    #[error("netlink: {what}: {msg}")]
    Netlink {
        what: String,
        errno: Option<Errno>,
        msg: String,
    },
    #[error("sysctl {key} = {value}: {errno}")]
    Sysctl {
        key: String,
        value: String,
        errno: Errno,
    },
    #[error("ethtool {ifname}: {what}: {errno}")]
    Ethtool {
        ifname: String,
        what: &'static str,
        errno: Errno,
    },
    #[error("packet socket on {ifname}: {what}: {errno}")]
    PacketSocket {
        ifname: String,
        what: &'static str,
        errno: Errno,
    },
    #[error("interface {0} not found in its namespace")]
    NoSuchInterface(String),
    #[error("verification failed: {0}")]
    Verify(String),
}

impl NetnsError {
    /// The errno behind the error, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetnsError::CreateNamespace { errno, .. }
            | NetnsError::EnterNamespace { errno, .. }
            | NetnsError::Sys { errno, .. }
            | NetnsError::Sysctl { errno, .. }
            | NetnsError::Ethtool { errno, .. }
            | NetnsError::PacketSocket { errno, .. } => Some(errno.0),
            NetnsError::Netlink { errno, .. } => errno.map(|e| e.0),
            NetnsError::NoSuchInterface(_) => Some(libc::ENODEV),
            NetnsError::UserNamespace(_) | NetnsError::Verify(_) => None,
        }
    }

    fn sys(what: impl Into<String>, errno: Errno) -> Self {
        NetnsError::Sys {
            what: what.into(),
            errno,
        }
    }

    fn io(what: impl Into<String>, e: io::Error) -> Self {
        NetnsError::sys(what, Errno(e.raw_os_error().unwrap_or(libc::EIO)))
    }

    fn netlink(what: impl Into<String>, e: rtnetlink::Error) -> Self {
        let errno = match &e {
            rtnetlink::Error::NetlinkError(m) => m.code.map(|c| Errno(-c.get())),
            _ => None,
        };
        let msg = match errno {
            Some(errno) => errno.to_string(),
            None => e.to_string(),
        };
        NetnsError::Netlink {
            what: what.into(),
            errno,
            msg,
        }
    }
}

/// Which end of the veth pair / which namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Testbench,
    Dut,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Testbench => "testbench",
            Side::Dut => "DUT",
        }
    }
}

/// How to build a [`Topology`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyConfig {
    /// Testbench end MAC (locally administered, 02:..).
    pub tb_mac: [u8; 6],
    /// DUT end MAC.
    pub dut_mac: [u8; 6],
    /// MTU of both ends (1500).
    pub mtu: u32,
    /// Some for the Linux DUT (198.51.100.2/24); None for the stack DUT
    /// (the kernel owns no address there).
    pub dut_kernel_addr: Option<(Ipv4Addr, u8)>,
    /// Permanent neighbour entry in the DUT namespace (testbench IP → tb
    /// MAC), Linux DUT only.
    pub dut_static_neigh: Option<(Ipv4Addr, [u8; 6])>,
    /// Sysctls written under /proc/sys inside the DUT namespace, e.g.
    /// ("net/ipv4/tcp_congestion_control", "reno"). Dots are accepted as
    /// separators too when the key contains no '/'.
    pub dut_sysctls: Vec<(String, String)>,
    /// An address for the testbench namespace's kernel (None for the
    /// oracle, whose testbench owns no address; Some for tests that run
    /// ordinary kernel clients, ping, against the DUT).
    pub tb_kernel_addr: Option<(Ipv4Addr, u8)>,
    /// A subnet the DUT namespace routes out of another interface (one end
    /// of a second veth pair, `proxied0`, owning the first address of it): proxy ARP's
    /// "an address it routes for".
    pub dut_routed: Option<(Ipv4Addr, u8)>,
    /// Leave the DUT's end down; [`Topology::dut_link_up`] brings it up
    /// later (a scenario about what happens when an interface comes up).
    pub dut_link_down: bool,
    /// Turn TX checksum, scatter-gather and TSO back on at the testbench end
    /// (only), so that a TSO packet the testbench injects with a virtio-net
    /// header crosses the veth whole and reaches the DUT as one large
    /// segment, as packetdrill's tun device delivers one
    /// ([`crate::testbench::PacketLink::send_gso`]). The DUT end keeps every
    /// offload off, so what the DUT sends is still segmented.
    pub tb_gso: bool,
}

impl TopologyConfig {
    /// The usual Linux-DUT setup: DUT 198.51.100.2/24 with MAC
    /// 02:00:00:00:00:02, testbench 198.51.100.1 with MAC 02:00:00:00:00:01
    /// (as a permanent neighbour on the DUT), MTU 1500.
    pub fn linux_dut() -> Self {
        let tb_mac = [0x02, 0, 0, 0, 0, 0x01];
        TopologyConfig {
            tb_mac,
            dut_mac: [0x02, 0, 0, 0, 0, 0x02],
            mtu: 1500,
            dut_kernel_addr: Some((Ipv4Addr::new(198, 51, 100, 2), 24)),
            dut_static_neigh: Some((Ipv4Addr::new(198, 51, 100, 1), tb_mac)),
            dut_sysctls: Vec::new(),
            tb_kernel_addr: None,
            dut_routed: None,
            dut_link_down: false,
            tb_gso: false,
        }
    }

    /// The stack-DUT setup: same MACs and MTU, the kernel owns no address
    /// in the DUT namespace.
    pub fn stack_dut() -> Self {
        TopologyConfig {
            dut_kernel_addr: None,
            dut_static_neigh: None,
            ..Self::linux_dut()
        }
    }
}

/// Options not part of the normal configuration (tests only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// Turn TSO/GSO/GRO/SG/checksum offloads off on both veth ends
    /// (default true; the oracle needs them off).
    pub disable_offloads: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            disable_offloads: true,
        }
    }
}

/// Two anonymous network namespaces joined by a veth pair.
///
/// Dropping it closes the namespace fds; the kernel then destroys the
/// namespaces and the veth pair (once no socket refers to them any more).
#[derive(Debug)]
pub struct Topology {
    tb_ns: OwnedFd,
    dut_ns: OwnedFd,
    tb_ifname: String,
    dut_ifname: String,
}

static NAME_COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_names() -> (String, String) {
    let n = NAME_COUNTER.fetch_add(1, Ordering::Relaxed) % 10_000;
    let pid = std::process::id() % 10_000_000;
    // "pdh" + ≤7 + "t"/"d" + ≤4 = ≤15 characters (IFNAMSIZ - 1).
    (format!("pdh{pid}t{n}"), format!("pdh{pid}d{n}"))
}

/// Creates an anonymous network namespace and returns the fd holding it.
pub(crate) fn new_anonymous_netns() -> Result<OwnedFd, NetnsError> {
    let r = std::thread::Builder::new()
        .name("netns-create".into())
        .spawn(|| -> Result<OwnedFd, NetnsError> {
            // SAFETY: unshare affects only this (throwaway) thread.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                let errno = Errno::last();
                let hint = if errno.0 == libc::EPERM {
                    " (not root and no user namespace: call userns::ensure_privileges() at the start of main)"
                } else {
                    ""
                };
                return Err(NetnsError::CreateNamespace { errno, hint });
            }
            let path = c"/proc/thread-self/ns/net";
            // SAFETY: valid C string; the fd is owned by the OwnedFd below.
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(NetnsError::sys(
                    "opening /proc/thread-self/ns/net",
                    Errno::last(),
                ));
            }
            // SAFETY: fd is a freshly opened descriptor nobody else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        })
        .map_err(|e| NetnsError::io("spawning namespace thread", e))?
        .join();
    match r {
        Ok(r) => r,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Runs `f` on a fresh thread that first joins the network namespace `ns`.
pub(crate) fn run_in_ns<R: Send>(
    ns: BorrowedFd<'_>,
    side: &'static str,
    f: impl FnOnce() -> R + Send,
) -> Result<R, NetnsError> {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name(format!("netns-{side}"))
            .spawn_scoped(s, move || {
                // SAFETY: setns on this thread only; ns is a live netns fd.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(NetnsError::EnterNamespace {
                        side,
                        errno: Errno::last(),
                    });
                }
                Ok(f())
            })
            .map_err(|e| NetnsError::io("spawning namespace thread", e))?;
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// Runs an rtnetlink conversation on the current thread (and so in its
/// network namespace) with a tokio current-thread runtime.
fn with_netlink<T, F, Fut>(f: F) -> Result<T, NetnsError>
where
    F: FnOnce(rtnetlink::Handle) -> Fut,
    Fut: Future<Output = Result<T, NetnsError>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| NetnsError::io("starting tokio runtime", e))?;
    rt.block_on(async move {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| NetnsError::io("opening NETLINK_ROUTE socket", e))?;
        let task = tokio::spawn(conn);
        let r = f(handle).await;
        task.abort();
        r
    })
}

/// Interface index of `ifname` in the current thread's namespace.
pub fn ifindex(ifname: &str) -> Result<u32, NetnsError> {
    let c = CString::new(ifname).map_err(|_| NetnsError::NoSuchInterface(ifname.into()))?;
    // SAFETY: valid C string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        Err(NetnsError::NoSuchInterface(ifname.into()))
    } else {
        Ok(idx)
    }
}

fn sysctl_path(key: &str) -> String {
    let key = key.trim_start_matches("/proc/sys/");
    let key = if key.contains('/') {
        key.to_string()
    } else {
        key.replace('.', "/")
    };
    format!("/proc/sys/{key}")
}

/// Writes a sysctl in the current thread's network namespace
/// (`key` relative to /proc/sys, e.g. "net/ipv4/ip_default_ttl").
pub fn write_sysctl(key: &str, value: &str) -> Result<(), NetnsError> {
    std::fs::write(sysctl_path(key), value).map_err(|e| NetnsError::Sysctl {
        key: key.into(),
        value: value.into(),
        errno: Errno(e.raw_os_error().unwrap_or(libc::EIO)),
    })
}

/// Reads a sysctl (trimmed) in the current thread's network namespace.
pub fn read_sysctl(key: &str) -> Result<String, NetnsError> {
    std::fs::read_to_string(sysctl_path(key))
        .map(|s| s.trim().to_string())
        .map_err(|e| NetnsError::Sysctl {
            key: key.into(),
            value: "<read>".into(),
            errno: Errno(e.raw_os_error().unwrap_or(libc::EIO)),
        })
}

// ---------------------------------------------------------------------------
// ioctls: link state and ethtool offloads

#[repr(C)]
#[derive(Clone, Copy)]
union IfrData {
    ptr: *mut libc::c_void,
    int: libc::c_int,
    flags: libc::c_short,
    hwaddr: libc::sockaddr,
    _pad: [u8; 24],
}

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    data: IfrData,
}

impl IfReq {
    fn new(ifname: &str) -> Result<IfReq, NetnsError> {
        let b = ifname.as_bytes();
        if b.len() >= libc::IFNAMSIZ {
            return Err(NetnsError::NoSuchInterface(ifname.into()));
        }
        let mut name = [0u8; libc::IFNAMSIZ];
        name[..b.len()].copy_from_slice(b);
        Ok(IfReq {
            name,
            data: IfrData { _pad: [0; 24] },
        })
    }
}

/// A throwaway AF_INET datagram socket for interface ioctls (sends nothing).
fn ioctl_socket() -> Result<OwnedFd, NetnsError> {
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(NetnsError::sys("socket for ioctl", Errno::last()));
    }
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl(fd: RawFd, req: libc::c_ulong, ifr: &mut IfReq) -> Result<(), Errno> {
    // SAFETY: ifr is a live, correctly laid out struct ifreq.
    if unsafe { libc::ioctl(fd, req as _, ifr as *mut IfReq) } < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// State of one interface as read back from the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub ifindex: u32,
    pub up: bool,
    pub running: bool,
    pub mac: [u8; 6],
    pub mtu: u32,
}

/// Reads flags, MAC and MTU of `ifname` in the current thread's namespace.
pub fn link_state(ifname: &str) -> Result<LinkState, NetnsError> {
    let s = ioctl_socket()?;
    let fd = s.as_raw_fd();
    let e = |what: &str, errno| NetnsError::sys(format!("{what} {ifname}"), errno);
    let mut r = IfReq::new(ifname)?;
    ioctl(fd, libc::SIOCGIFFLAGS, &mut r).map_err(|x| e("SIOCGIFFLAGS", x))?;
    // SAFETY: the kernel filled the flags member.
    let flags = unsafe { r.data.flags } as libc::c_int;
    let mut r = IfReq::new(ifname)?;
    ioctl(fd, libc::SIOCGIFHWADDR, &mut r).map_err(|x| e("SIOCGIFHWADDR", x))?;
    // SAFETY: the kernel filled the hwaddr member.
    let hw = unsafe { r.data.hwaddr };
    let mut mac = [0u8; 6];
    for (m, b) in mac.iter_mut().zip(hw.sa_data.iter()) {
        *m = *b as u8;
    }
    let mut r = IfReq::new(ifname)?;
    ioctl(fd, libc::SIOCGIFMTU, &mut r).map_err(|x| e("SIOCGIFMTU", x))?;
    // SAFETY: the kernel filled the int member.
    let mtu = unsafe { r.data.int } as u32;
    Ok(LinkState {
        ifindex: ifindex(ifname)?,
        up: flags & libc::IFF_UP != 0,
        running: flags & libc::IFF_RUNNING != 0,
        mac,
        mtu,
    })
}

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GRXCSUM: u32 = 0x14;
const ETHTOOL_SRXCSUM: u32 = 0x15;
const ETHTOOL_GTXCSUM: u32 = 0x16;
const ETHTOOL_STXCSUM: u32 = 0x17;
const ETHTOOL_GSG: u32 = 0x18;
const ETHTOOL_SSG: u32 = 0x19;
const ETHTOOL_GTSO: u32 = 0x1e;
const ETHTOOL_STSO: u32 = 0x1f;
const ETHTOOL_GGSO: u32 = 0x23;
const ETHTOOL_SGSO: u32 = 0x24;
const ETHTOOL_GGRO: u32 = 0x2b;
const ETHTOOL_SGRO: u32 = 0x2c;

#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

fn ethtool_value(fd: RawFd, ifname: &str, cmd: u32, data: u32) -> Result<u32, Errno> {
    let mut v = EthtoolValue { cmd, data };
    let mut r = IfReq::new(ifname).map_err(|_| Errno(libc::ENODEV))?;
    r.data.ptr = &mut v as *mut EthtoolValue as *mut libc::c_void;
    ioctl(fd, SIOCETHTOOL, &mut r)?;
    Ok(v.data)
}

/// Offload state of an interface, as the legacy ethtool G* commands report
/// it (what `ethtool -k` shows as tcp-segmentation-offload,
/// generic-segmentation-offload, generic-receive-offload,
/// tx-checksumming, rx-checksumming, scatter-gather).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offloads {
    pub tso: bool,
    pub gso: bool,
    pub gro: bool,
    pub tx_csum: bool,
    pub rx_csum: bool,
    pub sg: bool,
}

impl Offloads {
    pub fn all_off(&self) -> bool {
        !(self.tso || self.gso || self.gro || self.tx_csum || self.rx_csum || self.sg)
    }
}

/// Reads the offload state of `ifname` in the current thread's namespace.
pub fn get_offloads(ifname: &str) -> Result<Offloads, NetnsError> {
    let s = ioctl_socket()?;
    let fd = s.as_raw_fd();
    let g = |what: &'static str, cmd| {
        ethtool_value(fd, ifname, cmd, 0)
            .map(|v| v != 0)
            .map_err(|errno| NetnsError::Ethtool {
                ifname: ifname.into(),
                what,
                errno,
            })
    };
    Ok(Offloads {
        tso: g("ETHTOOL_GTSO", ETHTOOL_GTSO)?,
        gso: g("ETHTOOL_GGSO", ETHTOOL_GGSO)?,
        gro: g("ETHTOOL_GGRO", ETHTOOL_GGRO)?,
        tx_csum: g("ETHTOOL_GTXCSUM", ETHTOOL_GTXCSUM)?,
        rx_csum: g("ETHTOOL_GRXCSUM", ETHTOOL_GRXCSUM)?,
        sg: g("ETHTOOL_GSG", ETHTOOL_GSG)?,
    })
}

/// Turns TX checksum, SG and TSO on (in that order: each needs the one
/// before) on `ifname`, leaving GSO and GRO off.
fn set_tso_chain(ifname: &str) -> Result<(), NetnsError> {
    let s = ioctl_socket()?;
    for (what, cmd) in [
        ("ETHTOOL_STXCSUM", ETHTOOL_STXCSUM),
        ("ETHTOOL_SSG", ETHTOOL_SSG),
        ("ETHTOOL_STSO", ETHTOOL_STSO),
    ] {
        ethtool_value(s.as_raw_fd(), ifname, cmd, 1).map_err(|errno| NetnsError::Ethtool {
            ifname: ifname.into(),
            what,
            errno,
        })?;
    }
    Ok(())
}

/// Turns TSO, GSO, GRO, SG and TX/RX checksum offload on or off on
/// `ifname` (current thread's namespace).
pub fn set_offloads(ifname: &str, on: bool) -> Result<(), NetnsError> {
    let s = ioctl_socket()?;
    let fd = s.as_raw_fd();
    let v = u32::from(on);
    // Order matters when turning off: TSO depends on SG, SG on TX csum.
    let cmds: [(&'static str, u32); 6] = [
        ("ETHTOOL_STSO", ETHTOOL_STSO),
        ("ETHTOOL_SGSO", ETHTOOL_SGSO),
        ("ETHTOOL_SGRO", ETHTOOL_SGRO),
        ("ETHTOOL_SSG", ETHTOOL_SSG),
        ("ETHTOOL_STXCSUM", ETHTOOL_STXCSUM),
        ("ETHTOOL_SRXCSUM", ETHTOOL_SRXCSUM),
    ];
    let mut order: Vec<_> = cmds.to_vec();
    if on {
        order.reverse();
    }
    for (what, cmd) in order {
        ethtool_value(fd, ifname, cmd, v).map_err(|errno| NetnsError::Ethtool {
            ifname: ifname.into(),
            what,
            errno,
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// netlink steps

async fn link_up(h: &rtnetlink::Handle, ifname: &str) -> Result<(), NetnsError> {
    let idx = ifindex(ifname)?;
    h.link()
        .set(rtnetlink::LinkUnspec::new_with_index(idx).up().build())
        .execute()
        .await
        .map_err(|e| NetnsError::netlink(format!("setting {ifname} up"), e))
}

/// Waits until `ifname` is RUNNING (operstate up, carrier on) and its qdisc
/// has been activated. Until the kernel's linkwatch work has run after the
/// carrier came on, the device still has `noop` as qdisc, which silently
/// drops every transmitted frame (including AF_PACKET injections).
async fn wait_link_ready(
    h: &rtnetlink::Handle,
    ifname: &str,
    timeout: Duration,
) -> Result<Duration, NetnsError> {
    use futures::TryStreamExt;
    use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags};
    let idx = ifindex(ifname)?;
    let start = Instant::now();
    loop {
        let mut stream = h.link().get().match_index(idx).execute();
        let mut state = String::from("no RTM_NEWLINK reply");
        let mut ready = false;
        while let Some(m) = stream
            .try_next()
            .await
            .map_err(|e| NetnsError::netlink(format!("reading state of {ifname}"), e))?
        {
            let running = m.header.flags.contains(LinkFlags::Running);
            let qdisc = m.attributes.iter().find_map(|a| match a {
                LinkAttribute::Qdisc(q) => Some(q.clone()),
                _ => None,
            });
            ready = running && qdisc.as_deref().is_some_and(|q| q != "noop");
            state = format!("running={running} qdisc={qdisc:?}");
        }
        if ready {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(NetnsError::Verify(format!(
                "{ifname} not ready after {timeout:?}: {state}"
            )));
        }
        // Plain sleep: nothing else needs this runtime meanwhile.
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn disable_ipv6_here() -> Result<(), NetnsError> {
    write_sysctl("net/ipv6/conf/all/disable_ipv6", "1")?;
    write_sysctl("net/ipv6/conf/default/disable_ipv6", "1")
}

// ---------------------------------------------------------------------------
// Topology

impl Topology {
    /// Builds the two namespaces and the veth pair; see the module docs.
    pub fn create(cfg: &TopologyConfig) -> Result<Topology, NetnsError> {
        Self::create_with(cfg, &CreateOptions::default())
    }

    /// [`Topology::create`] with extra options (tests only).
    pub fn create_with(cfg: &TopologyConfig, opts: &CreateOptions) -> Result<Topology, NetnsError> {
        for (what, mac) in [("tb_mac", cfg.tb_mac), ("dut_mac", cfg.dut_mac)] {
            if mac[0] & 0x03 != 0x02 {
                return Err(NetnsError::Verify(format!(
                    "{what} {mac:02x?} is not a locally administered unicast MAC"
                )));
            }
        }
        sweep_stale();
        let (tb_ifname, dut_ifname) = unique_names();
        let topo = Topology {
            tb_ns: new_anonymous_netns()?,
            dut_ns: new_anonymous_netns()?,
            tb_ifname,
            dut_ifname,
        };
        // From here on an early return drops `topo`, which destroys
        // everything created so far.

        let (tb_if, dut_if) = (topo.tb_ifname.as_str(), topo.dut_ifname.as_str());
        // 1. IPv6 off in both namespaces *before* the veth pair exists, so
        //    that both ends inherit disable_ipv6=1 from "default" and never
        //    send DAD/RS/MLD.
        topo.in_testbench(disable_ipv6_here)??;
        topo.in_dut(disable_ipv6_here)??;

        // 2. The veth pair, created in the testbench namespace with the peer
        //    placed straight into the DUT namespace (IFLA_NET_NS_FD).
        let dut_fd = topo.dut_ns.as_raw_fd();
        topo.in_testbench(|| {
            with_netlink(|h| async move {
                use rtnetlink::packet_route::link::{InfoData, InfoVeth};
                let peer = rtnetlink::LinkUnspec::new_with_name(dut_if)
                    .address(cfg.dut_mac.to_vec())
                    .mtu(cfg.mtu)
                    .setns_by_fd(dut_fd)
                    .build();
                let msg = rtnetlink::LinkVeth::new(tb_if, dut_if)
                    .address(cfg.tb_mac.to_vec())
                    .mtu(cfg.mtu)
                    .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
                    .build();
                h.link().add(msg).execute().await.map_err(|e| {
                    NetnsError::netlink(format!("creating veth {} <-> {}", tb_if, dut_if), e)
                })
            })
        })??;

        // 3. Each end: IPv6 off explicitly, offloads off, lo and the end up.
        let setup_end = |ifname: &str| -> Result<(), NetnsError> {
            write_sysctl(&format!("net/ipv6/conf/{ifname}/disable_ipv6"), "1")?;
            if opts.disable_offloads {
                set_offloads(ifname, false)?;
            }
            Ok(())
        };
        topo.in_testbench(|| {
            setup_end(tb_if)?;
            if cfg.tb_gso {
                set_tso_chain(tb_if)?;
            }
            with_netlink(|h| async move {
                link_up(&h, "lo").await?;
                if let Some((addr, plen)) = cfg.tb_kernel_addr {
                    h.address()
                        .add(ifindex(tb_if)?, IpAddr::V4(addr), plen)
                        .execute()
                        .await
                        .map_err(|e| {
                            NetnsError::netlink(format!("adding {addr}/{plen} to testbench end"), e)
                        })?;
                }
                link_up(&h, tb_if).await
            })
        })??;
        topo.in_dut(|| {
            setup_end(dut_if)?;
            // `{dut}` in a key names the DUT's end of the veth pair (its
            // per-interface conf and neigh entries were copied from
            // "default" when it was created, before these writes).
            for (k, v) in &cfg.dut_sysctls {
                write_sysctl(&k.replace("{dut}", dut_if), v)?;
            }
            with_netlink(|h| async move {
                link_up(&h, "lo").await?;
                let idx = ifindex(dut_if)?;
                if let Some((addr, plen)) = cfg.dut_kernel_addr {
                    h.address()
                        .add(idx, IpAddr::V4(addr), plen)
                        .execute()
                        .await
                        .map_err(|e| {
                            NetnsError::netlink(format!("adding {addr}/{plen} to DUT end"), e)
                        })?;
                }
                if let Some((net, plen)) = cfg.dut_routed {
                    // A veth pair inside the DUT namespace (the dummy
                    // driver may not be loaded, and a namespace cannot load it).
                    h.link()
                        .add(rtnetlink::LinkVeth::new("proxied0", "proxied1").build())
                        .execute()
                        .await
                        .map_err(|e| NetnsError::netlink("creating proxied0", e))?;
                    link_up(&h, "proxied1").await?;
                    let first = Ipv4Addr::from(u32::from(net) | 1);
                    h.address()
                        .add(ifindex("proxied0")?, IpAddr::V4(first), plen)
                        .execute()
                        .await
                        .map_err(|e| {
                            NetnsError::netlink(format!("adding {first} to proxied0"), e)
                        })?;
                    link_up(&h, "proxied0").await?;
                }
                if let Some((ip, mac)) = cfg.dut_static_neigh {
                    h.neighbours()
                        .add(idx, IpAddr::V4(ip))
                        .link_layer_address(&mac)
                        .state(rtnetlink::packet_route::neighbour::NeighbourState::Permanent)
                        .execute()
                        .await
                        .map_err(|e| {
                            NetnsError::netlink(format!("adding permanent neighbour {ip}"), e)
                        })?;
                }
                if cfg.dut_link_down {
                    return Ok(());
                }
                link_up(&h, dut_if).await
            })
        })??;

        // 4. Wait until both ends can really transmit (carrier on, qdisc
        //    activated by linkwatch).
        let sides: &[Side] = if cfg.dut_link_down {
            &[]
        } else {
            &[Side::Testbench, Side::Dut]
        };
        for &side in sides {
            let ifname = topo.ifname(side);
            let waited = topo.in_side(side, || {
                with_netlink(
                    |h| async move { wait_link_ready(&h, ifname, LINK_READY_TIMEOUT).await },
                )
            })??;
            tracing::debug!("{ifname} ready after {waited:?}");
        }

        // 5. Read back from fresh threads (proves the sysctl writes hit the
        //    namespaces: the per-interface entries exist only there).
        for side in [Side::Testbench, Side::Dut] {
            let ifname = topo.ifname(side).to_string();
            let (ipv6, state) = topo.in_side(side, || {
                let mut v = Vec::new();
                for k in ["all", "default", ifname.as_str()] {
                    v.push(read_sysctl(&format!("net/ipv6/conf/{k}/disable_ipv6"))?);
                }
                Ok::<_, NetnsError>((v, link_state(&ifname)?))
            })??;
            if ipv6.iter().any(|v| v != "1") {
                return Err(NetnsError::Verify(format!(
                    "disable_ipv6 (all, default, {ifname}) in the {} namespace reads {ipv6:?}",
                    side.label()
                )));
            }
            let want_mac = match side {
                Side::Testbench => cfg.tb_mac,
                Side::Dut => cfg.dut_mac,
            };
            // With the DUT's end left down, it is not up; whether either
            // end reads running then is the kernel's business.
            let want_up = !cfg.dut_link_down || side == Side::Testbench;
            if state.up != want_up
                || (!cfg.dut_link_down && !state.running)
                || state.mac != want_mac
                || state.mtu != cfg.mtu
            {
                return Err(NetnsError::Verify(format!(
                    "{ifname} reads {state:?}, expected up and running, MAC {want_mac:02x?}, MTU {}",
                    cfg.mtu
                )));
            }
        }
        tracing::debug!(
            tb = %topo.tb_ifname,
            dut = %topo.dut_ifname,
            "topology up"
        );
        Ok(topo)
    }

    /// Name of the testbench end of the veth pair (in the testbench ns).
    pub fn tb_ifname(&self) -> &str {
        &self.tb_ifname
    }

    /// Name of the DUT end of the veth pair (in the DUT ns).
    pub fn dut_ifname(&self) -> &str {
        &self.dut_ifname
    }

    /// Interface name of one end.
    pub fn ifname(&self, side: Side) -> &str {
        match side {
            Side::Testbench => &self.tb_ifname,
            Side::Dut => &self.dut_ifname,
        }
    }

    /// The namespace fd of one side (borrowed; valid while `self` lives).
    pub fn ns_fd(&self, side: Side) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        match side {
            Side::Testbench => self.tb_ns.as_fd(),
            Side::Dut => self.dut_ns.as_fd(),
        }
    }

    /// Inode number of a namespace (what `readlink /proc/PID/ns/net` shows
    /// as `net:[INODE]`).
    pub fn ns_inode(&self, side: Side) -> Result<u64, NetnsError> {
        // SAFETY: stat is plain old data.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: live fd and stat buffer.
        if unsafe { libc::fstat(self.ns_fd(side).as_raw_fd(), &mut st) } != 0 {
            return Err(NetnsError::sys("fstat on namespace fd", Errno::last()));
        }
        Ok(st.st_ino)
    }

    /// Runs `f` on a thread inside the testbench namespace.
    pub fn in_testbench<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R, NetnsError> {
        run_in_ns(self.ns_fd(Side::Testbench), "testbench", f)
    }

    /// Runs `f` on a thread inside the DUT namespace.
    pub fn in_dut<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R, NetnsError> {
        run_in_ns(self.ns_fd(Side::Dut), "DUT", f)
    }

    /// Runs `f` on a thread inside the namespace of `side`.
    pub fn in_side<R: Send>(
        &self,
        side: Side,
        f: impl FnOnce() -> R + Send,
    ) -> Result<R, NetnsError> {
        run_in_ns(self.ns_fd(side), side.label(), f)
    }

    /// Flags, MAC and MTU of one end, read back from the kernel.
    pub fn link_state(&self, side: Side) -> Result<LinkState, NetnsError> {
        let ifname = self.ifname(side);
        self.in_side(side, || link_state(ifname))?
    }

    /// Offload state of one end, read back with ETHTOOL_G* ioctls.
    pub fn offloads(&self, side: Side) -> Result<Offloads, NetnsError> {
        let ifname = self.ifname(side);
        self.in_side(side, || get_offloads(ifname))?
    }

    /// Brings the DUT's end up (when it was created down) and waits until
    /// both ends can transmit.
    pub fn dut_link_up(&self) -> Result<(), NetnsError> {
        let dut_if = self.dut_ifname.as_str();
        self.in_dut(|| with_netlink(|h| async move { link_up(&h, dut_if).await }))??;
        for side in [Side::Testbench, Side::Dut] {
            let ifname = self.ifname(side);
            self.in_side(side, || {
                with_netlink(
                    |h| async move { wait_link_ready(&h, ifname, LINK_READY_TIMEOUT).await },
                )
            })??;
        }
        Ok(())
    }

    /// Reads a sysctl inside one namespace.
    pub fn read_sysctl(&self, side: Side, key: &str) -> Result<String, NetnsError> {
        self.in_side(side, || read_sysctl(key))?
    }

    /// Writes a sysctl inside one namespace.
    pub fn write_sysctl(&self, side: Side, key: &str, value: &str) -> Result<(), NetnsError> {
        self.in_side(side, || write_sysctl(key, value))?
    }
}

/// Defensive cleanup of leftovers from older harness versions: removes any
/// link in the calling thread's network namespace (normally the host's) and
/// any `/run/netns` entry whose name starts with [`IFNAME_PREFIX`]. With
/// anonymous namespaces this normally finds nothing. Returns what it
/// removed; failures are logged, not fatal.
pub fn sweep_stale() -> Vec<String> {
    let mut removed = Vec::new();

    let stale_links: Vec<(u32, String)> = if_names()
        .into_iter()
        .filter(|(_, n)| n.starts_with(IFNAME_PREFIX))
        .collect();
    if !stale_links.is_empty() {
        // A fresh thread inherits the caller's namespace and keeps tokio off
        // the caller's thread (which may already run a runtime).
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                with_netlink(|h| async move {
                    let mut done = Vec::new();
                    for (idx, name) in stale_links {
                        match h.link().del(idx).execute().await {
                            Ok(()) => done.push(format!("link {name}")),
                            Err(e) => tracing::warn!(
                                "sweep_stale: could not delete stale link {name}: {}",
                                NetnsError::netlink("delete", e)
                            ),
                        }
                    }
                    Ok(done)
                })
            })
            .join()
        });
        match r {
            Ok(Ok(done)) => removed.extend(done),
            Ok(Err(e)) => tracing::warn!("sweep_stale: {e}"),
            Err(_) => tracing::warn!("sweep_stale: netlink thread panicked"),
        }
    }

    if let Ok(dir) = std::fs::read_dir("/run/netns") {
        for ent in dir.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            if !name.starts_with(IFNAME_PREFIX) {
                continue;
            }
            let path = ent.path();
            if let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) {
                // SAFETY: valid C string. Failure (not a mount point) is fine.
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(format!("/run/netns/{name}")),
                Err(e) => tracing::warn!("sweep_stale: could not remove {}: {e}", path.display()),
            }
        }
    }
    for r in &removed {
        tracing::warn!("sweep_stale: removed stale {r}");
    }
    removed
}

/// (index, name) of every interface in the calling thread's namespace.
pub fn if_names() -> Vec<(u32, String)> {
    let mut out = Vec::new();
    // SAFETY: if_nameindex returns a NULL-terminated array we free below.
    unsafe {
        let list = libc::if_nameindex();
        if list.is_null() {
            return out;
        }
        let mut p = list;
        while (*p).if_index != 0 && !(*p).if_name.is_null() {
            let name = std::ffi::CStr::from_ptr((*p).if_name)
                .to_string_lossy()
                .into_owned();
            out.push(((*p).if_index, name));
            p = p.add(1);
        }
        libc::if_freenameindex(list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz() {
        let (a, b) = unique_names();
        assert!(a.starts_with(IFNAME_PREFIX) && b.starts_with(IFNAME_PREFIX));
        assert!(a.len() <= 15 && b.len() <= 15, "{a} {b}");
        assert_ne!(a, b);
        let max = format!("pdh{}t{}", 9_999_999, 9_999);
        assert!(max.len() <= 15);
    }

    #[test]
    fn sysctl_paths() {
        assert_eq!(
            sysctl_path("net.ipv4.tcp_sack"),
            "/proc/sys/net/ipv4/tcp_sack"
        );
        assert_eq!(
            sysctl_path("net/ipv6/conf/pdh1t0/disable_ipv6"),
            "/proc/sys/net/ipv6/conf/pdh1t0/disable_ipv6"
        );
    }
}
