//! A userspace TCP/IP stack: Ethernet, ARP, IPv4, ICMPv4, UDP and TCP.
//!
//! The core is sans-IO and deterministic: it never reads a clock, never does
//! I/O and takes its randomness from a seeded source, so the same inputs, times
//! and seed give the same output bit for bit. Devices (an in-memory link and an
//! AF_PACKET device) are adapters outside the core.
//!
//! Entry point: [`Host`] (frames in with [`Host::receive`], out with
//! [`Host::transmit`], timers via [`Host::poll_at`], and a POSIX-like socket
//! API). Tunables: [`config::Profile`].

pub mod arp;
pub mod config;
pub mod device;
pub mod icmp;
pub mod iface;
pub mod ipfrag;
pub mod rand;
pub mod socket;
pub mod tcp;
pub mod time;
pub mod udp;
mod vecmap;
pub mod wire;

pub use config::Profile;
pub use iface::{Host, HostConfig};
pub use socket::{Errno, Fd, Readiness, Shutdown, SockOpt, SocketType};
pub use tcp::TcpState;
pub use time::{Duration, Instant};
