//! Raw Ethernet access to one end of the veth pair.
//!
//! [`PacketLink`] is a pnet AF_PACKET channel bound to one veth end, opened
//! from inside that end's namespace. A background thread reads frames into a
//! channel, timestamped with `Instant::now()` when read. Frames the socket
//! itself sent are never read back: the socket is created by us with
//! `PACKET_IGNORE_OUTGOING` (Linux ≥ 4.20) and handed to pnet, because pnet's
//! Linux receiver discards `sll_pkttype` and would otherwise return every
//! injected frame too (AF_PACKET sees PACKET_OUTGOING copies).
//!
//! [`Testbench`] is the [`PacketLink`] on the testbench end; the stack DUT
//! uses a [`PacketLink`] on the DUT end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pnet_datalink::{Channel, DataLinkSender, MacAddr, NetworkInterface};

use crate::kernel::Errno;
pub use crate::netns::Side;
use crate::netns::{link_state, NetnsError, Topology};

/// A frame read from the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// When the capture thread read it.
    pub at: Instant,
    /// The whole Ethernet frame (no FCS).
    pub bytes: Vec<u8>,
}

/// `PACKET_IGNORE_OUTGOING` from linux/if_packet.h.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// How often the capture thread checks whether it should stop.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// An AF_PACKET socket on one end of the veth pair.
///
/// It reads only frames *arriving* on its interface (sent by the other end);
/// everything transmitted on the interface, by this socket or by the kernel
/// of that namespace, is filtered out (`PACKET_IGNORE_OUTGOING`).
pub struct PacketLink {
    ifname: String,
    tx: Box<dyn DataLinkSender>,
    /// A send-only AF_PACKET socket with `PACKET_VNET_HDR`, for TSO packets
    /// ([`PacketLink::send_gso`]).
    gso: Option<std::os::fd::OwnedFd>,
    rx: mpsc::Receiver<Captured>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PacketLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketLink")
            .field("ifname", &self.ifname)
            .finish_non_exhaustive()
    }
}

/// An AF_PACKET raw socket with protocol 0 (it receives nothing until bound
/// with a protocol) and the `SOL_PACKET` option `opt` set to 1.
fn packet_socket(
    ifname: &str,
    opt: libc::c_int,
    what: &'static str,
) -> Result<std::os::fd::OwnedFd, NetnsError> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain syscall.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(packet_error(ifname, "socket(AF_PACKET)", Errno::last()));
    }
    // SAFETY: a fresh fd we own (closed on drop, on every error path too).
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
    let one: libc::c_int = 1;
    // SAFETY: live fd, pointer/length of a c_int.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            opt,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(packet_error(ifname, what, Errno::last()));
    }
    Ok(fd)
}

fn packet_error(ifname: &str, what: &'static str, errno: Errno) -> NetnsError {
    NetnsError::PacketSocket {
        ifname: ifname.into(),
        what,
        errno,
    }
}

fn open_channel(ifname: &str) -> Result<Channel, NetnsError> {
    use std::os::fd::IntoRawFd;
    // Protocol 0: receives nothing until pnet binds it to the interface with
    // ETH_P_ALL, so no frame of another interface can slip in.
    let fd = packet_socket(
        ifname,
        PACKET_IGNORE_OUTGOING,
        "setsockopt(PACKET_IGNORE_OUTGOING) (needs Linux >= 4.20)",
    )?;
    let st = link_state(ifname)?;
    let fd = fd.into_raw_fd();
    let iface = NetworkInterface {
        name: ifname.to_string(),
        description: String::new(),
        index: st.ifindex,
        mac: Some(MacAddr::from(st.mac)),
        ips: Vec::new(),
        flags: 0,
    };
    let config = pnet_datalink::Config {
        read_timeout: Some(POLL_INTERVAL),
        write_timeout: Some(Duration::from_secs(1)),
        read_buffer_size: 65536,
        write_buffer_size: 65536,
        promiscuous: true,
        socket_fd: Some(fd),
        ..Default::default()
    };
    // pnet binds (ETH_P_ALL, ifindex), sets promiscuous mode and O_NONBLOCK;
    // it owns (and on bind failure closes) the fd from here on.
    pnet_datalink::channel(&iface, config).map_err(|e| {
        packet_error(
            ifname,
            "pnet channel (bind)",
            Errno(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })
}

/// A send-only AF_PACKET socket with `PACKET_VNET_HDR` bound to `ifname`
/// with protocol 0 (so it receives nothing).
fn open_vnet_sender(ifname: &str) -> Result<std::os::fd::OwnedFd, NetnsError> {
    use std::os::fd::AsRawFd;
    const PACKET_VNET_HDR: libc::c_int = 15;
    let fd = packet_socket(ifname, PACKET_VNET_HDR, "setsockopt(PACKET_VNET_HDR)")?;
    let raw = fd.as_raw_fd();
    let st = link_state(ifname)?;
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = 0;
    sll.sll_ifindex = st.ifindex as i32;
    // SAFETY: a live fd and a properly sized sockaddr_ll.
    let r = unsafe {
        libc::bind(
            raw,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(packet_error(ifname, "bind(AF_PACKET)", Errno::last()));
    }
    Ok(fd)
}

impl PacketLink {
    /// Opens an AF_PACKET channel on the veth end of `side`, from inside that
    /// side's namespace.
    pub fn open(topo: &Topology, side: Side) -> Result<PacketLink, NetnsError> {
        let ifname = topo.ifname(side).to_string();
        let channel = topo.in_side(side, || open_channel(&ifname))??;
        let gso = topo.in_side(side, || open_vnet_sender(&ifname))?.ok();
        let (tx, mut rx) = match channel {
            Channel::Ethernet(tx, rx) => (tx, rx),
            _ => {
                return Err(NetnsError::PacketSocket {
                    ifname,
                    what: "pnet returned a non-Ethernet channel",
                    errno: Errno(libc::EINVAL),
                })
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (q_tx, q_rx) = mpsc::channel();
        let stop2 = stop.clone();
        let name2 = ifname.clone();
        let thread = std::thread::Builder::new()
            .name(format!("capture-{ifname}"))
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match rx.next() {
                        Ok(frame) => {
                            let c = Captured {
                                at: Instant::now(),
                                bytes: frame.to_vec(),
                            };
                            if q_tx.send(c).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => {
                            tracing::error!("capture on {name2} failed: {e}");
                            break;
                        }
                    }
                }
            })
            .map_err(|e| NetnsError::Sys {
                what: "spawning capture thread".into(),
                errno: Errno(e.raw_os_error().unwrap_or(libc::EIO)),
            })?;
        Ok(PacketLink {
            ifname,
            tx,
            gso,
            rx: q_rx,
            stop,
            thread: Some(thread),
        })
    }

    /// Name of the interface the socket is bound to.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// Injects one Ethernet frame (without FCS).
    pub fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        match self.tx.send_to(frame, None) {
            Some(r) => r,
            None => Err(std::io::Error::other("pnet send_to returned no result")),
        }
    }

    /// Injects one Ethernet/IPv4/TCP frame larger than the MTU as a TSO
    /// packet of `mss`-byte segments: a virtio-net header (linux/virtio_net.h:
    /// NEEDS_CSUM, GSO_TCPV4) in front of it makes the kernel take it whole,
    /// and with TSO on at this end (`TopologyConfig::tb_gso`) the veth hands
    /// it to the peer unsegmented. The receiving TCP takes it as one segment,
    /// as from packetdrill's tun device; its checksum, already complete in
    /// the frame, is not checked again by Linux (CHECKSUM_PARTIAL).
    pub fn send_gso(&mut self, frame: &[u8], mss: u16) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let Some(fd) = &self.gso else {
            return Err(std::io::Error::other(
                "no PACKET_VNET_HDR socket on this link",
            ));
        };
        let ihl = usize::from(frame.get(14).copied().unwrap_or(0) & 0x0f) * 4;
        let doff = usize::from(frame.get(14 + ihl + 12).copied().unwrap_or(0) >> 4) * 4;
        if ihl < 20 || doff < 20 || frame.len() < 14 + ihl + doff {
            return Err(std::io::Error::other("not an IPv4/TCP frame"));
        }
        let csum_start = (14 + ihl) as u16;
        let mut buf = Vec::with_capacity(10 + frame.len());
        buf.push(1); // VIRTIO_NET_HDR_F_NEEDS_CSUM
        buf.push(1); // VIRTIO_NET_HDR_GSO_TCPV4
        buf.extend_from_slice(&((14 + ihl + doff) as u16).to_ne_bytes()); // hdr_len
        buf.extend_from_slice(&mss.to_ne_bytes()); // gso_size
        buf.extend_from_slice(&csum_start.to_ne_bytes());
        buf.extend_from_slice(&16u16.to_ne_bytes()); // csum_offset: TCP checksum
        buf.extend_from_slice(frame);
        // SAFETY: a live fd and a buffer of the given length.
        let n = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// The next frame sent by the other side (frames this socket injected are
    /// never returned), or None after `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Captured> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next frame already captured, without waiting.
    pub fn try_recv(&mut self) -> Option<Captured> {
        self.rx.try_recv().ok()
    }

    /// Discards and returns everything captured so far.
    pub fn drain(&mut self) -> Vec<Captured> {
        self.rx.try_iter().collect()
    }
}

impl Drop for PacketLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The testbench: a [`PacketLink`] on the testbench end. It owns no kernel
/// IP address.
#[derive(Debug)]
pub struct Testbench {
    link: PacketLink,
}

impl Testbench {
    /// Opens the AF_PACKET channel on the testbench end.
    pub fn open(topo: &Topology) -> Result<Testbench, NetnsError> {
        Ok(Testbench {
            link: PacketLink::open(topo, Side::Testbench)?,
        })
    }

    /// Injects one Ethernet frame towards the DUT.
    pub fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        self.link.send(frame)
    }

    /// The next frame sent by the DUT, or None after `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Captured> {
        self.link.recv_timeout(timeout)
    }

    /// The next frame already captured, without waiting.
    pub fn try_recv(&mut self) -> Option<Captured> {
        self.link.try_recv()
    }

    /// Discards and returns everything captured so far.
    pub fn drain(&mut self) -> Vec<Captured> {
        self.link.drain()
    }

    /// The underlying link.
    pub fn link(&mut self) -> &mut PacketLink {
        &mut self.link
    }
}
