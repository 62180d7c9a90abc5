//! Wire formats: parsers and emitters for Ethernet II, ARP, IPv4, ICMPv4, UDP
//! and TCP, modelled on smoltcp's `wire` module.
//!
//! # Layout
//!
//! Each format has two levels:
//!
//! * a **view** over a byte buffer (`EthernetFrame<T>`, `ArpPacket<T>`,
//!   `Ipv4Packet<T>`, `Icmpv4Packet<T>`, `UdpPacket<T>`, `TcpPacket<T>`) with
//!   one getter per field (`T: AsRef<[u8]>`), one setter per field
//!   (`T: AsMut<[u8]>`) and payload accessors. Field offsets live in a private
//!   `field` module per format;
//! * a **repr** (`EthernetRepr`, `ArpRepr`, `Ipv4Repr`, `Icmpv4Repr`,
//!   `UdpRepr`, `TcpRepr`): the header as plain values, with `parse`,
//!   `buffer_len` and `emit`.
//!
//! On top, [`FrameRepr`] parses and emits a whole Ethernet frame at once; it
//! is what the rest of the stack uses.
//!
//! # Contract
//!
//! 1. `View::new_unchecked` never fails; accessors on such a view may panic
//!    if the buffer is too short.
//! 2. `View::new_checked` (i.e. `new_unchecked` + `check_len`) checks every
//!    length the accessors rely on: the fixed header, the variable header
//!    length (IPv4 IHL, TCP data offset, ARP address lengths), and the
//!    length fields (IPv4 total length, UDP length) against the buffer. After
//!    it succeeds **no getter and no payload accessor panics**, whatever the
//!    bytes.
//! 3. `Repr::parse` (and [`FrameRepr::parse`]) accept any bytes, **never
//!    panic and never allocate**, and on failure return a typed [`Error`]
//!    saying which layer and what is wrong: `Truncated` (need/have),
//!    `Malformed` (field and value, e.g. `Malformed { layer: "ipv4", field:
//!    "ihl", value: 3 }`), `Checksum` (got/want) or `Unsupported`. `parse`
//!    re-runs the length checks itself, so it is safe on an unchecked view.
//!    Checksums are verified unless [`ChecksumMode::Ignore`] is passed to a
//!    `parse_with`.
//! 4. `Repr::emit` never panics when given a view over a buffer of at least
//!    `Repr::buffer_len()` bytes (for ICMP, exactly `buffer_len()` since the
//!    checksum covers the whole buffer). IPv4, ICMP, UDP and TCP `emit` fill
//!    in lengths and checksums; UDP and TCP take the IPv4 source and
//!    destination for the pseudo-header and copy the payload.
//!    [`FrameRepr::emit`] checks the buffer size itself and returns
//!    `Error::Truncated` instead.
//! 5. `emit` then `parse` gives back the same repr, for every *canonical*
//!    repr: one whose fields are in range for the format (see each type:
//!    IPv4 options a multiple of 4 bytes, fragment offset a multiple of 8,
//!    TCP options as described in the `tcp` module docs, ICMP `next_hop_mtu`
//!    zero unless code 4, enum `Unknown`/`Other` variants not holding a value
//!    that has its own variant). Every repr returned by `parse` is canonical,
//!    so `parse(emit(parse(x))) == parse(x)` for all accepted `x`.

mod arp;
mod checksum;
mod ethernet;
mod frame;
mod icmpv4;
mod ipv4;
mod tcp;
mod udp;

pub use arp::*;
pub use checksum::*;
pub use ethernet::*;
pub use frame::*;
pub use icmpv4::*;
pub use ipv4::*;
pub use tcp::*;
pub use udp::*;

/// What is wrong with bytes that failed to parse, or with a buffer given to `emit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the header or the length a field claims.
    #[error("{layer}: truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Layer name ("ethernet", "arp", "ipv4", "icmpv4", "udp", "tcp", "frame").
        layer: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field holds a value the format forbids (e.g. IPv4 version 6, IHL < 5,
    /// TCP data offset < 5, an option whose length runs past the header).
    #[error("{layer}: malformed {field}: {value}")]
    Malformed {
        /// Layer name.
        layer: &'static str,
        /// Field name.
        field: &'static str,
        /// The offending value.
        value: u32,
    },
    /// A checksum does not verify.
    #[error("{layer}: bad checksum: got {got:#06x}, want {want:#06x}")]
    Checksum {
        /// Layer name.
        layer: &'static str,
        /// Checksum field as received.
        got: u16,
        /// Checksum the field should hold.
        want: u16,
    },
    /// A value the parser recognizes but this stack does not handle
    /// (e.g. ARP for a hardware type other than Ethernet).
    #[error("{layer}: unsupported {field}: {value}")]
    Unsupported {
        /// Layer name.
        layer: &'static str,
        /// Field name.
        field: &'static str,
        /// The unsupported value.
        value: u32,
    },
}

/// Result of wire operations.
pub type Result<T> = core::result::Result<T, Error>;
