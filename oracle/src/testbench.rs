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

fn open_channel(ifname: &str) -> Result<Channel, NetnsError> {
    let err = |what: &'static str, errno: Errno| NetnsError::PacketSocket {
        ifname: ifname.into(),
        what,
        errno,
    };
    // Protocol 0: receives nothing until pnet binds it to the interface with
    // ETH_P_ALL, so no frame of another interface can slip in.
    // SAFETY: plain syscall.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(err("socket(AF_PACKET)", Errno::last()));
    }
    let one: libc::c_int = 1;
    // SAFETY: live fd, pointer/length of a c_int.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        let e = Errno::last();
        // SAFETY: closing our own fd.
        unsafe { libc::close(fd) };
        return Err(err(
            "setsockopt(PACKET_IGNORE_OUTGOING) (needs Linux >= 4.20)",
            e,
        ));
    }
    let st = match link_state(ifname) {
        Ok(st) => st,
        Err(e) => {
            // SAFETY: closing our own fd.
            unsafe { libc::close(fd) };
            return Err(e);
        }
    };
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
        err(
            "pnet channel (bind)",
            Errno(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })
}

impl PacketLink {
    /// Opens an AF_PACKET channel on the veth end of `side`, from inside that
    /// side's namespace.
    pub fn open(topo: &Topology, side: Side) -> Result<PacketLink, NetnsError> {
        let ifname = topo.ifname(side).to_string();
        let channel = topo.in_side(side, || open_channel(&ifname))??;
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
