//! The fuzz targets' logic, as plain functions: the cargo-fuzz binaries in
//! `fuzz_targets/` call them, and `tests/replay.rs` replays every committed
//! corpus input (`corpus/fuzz/<target>/`) through them under `cargo test`, so
//! regressions are caught on stable without a fuzzer.
//!
//! Every target checks meaning, not only survival: a panic is a finding, and
//! so is a broken invariant (an assertion here).

use stack::wire::{ChecksumMode, FramePayload, FrameRepr, IpPayload, TcpFlags};

pub mod host_input;
pub mod stack_pair;
pub mod tcp_target;

/// `parse_frame`: any bytes through every wire parser (the frame parser
/// dispatches to Ethernet, ARP, IPv4, ICMPv4, UDP and TCP), with checksums
/// verified and ignored. A frame that parses must re-emit to bytes that
/// parse to the same representation (`emit ∘ parse` is the identity on what
/// `parse` accepts). Verification only rejects: where the verifying parse
/// accepts, the ignoring one accepts the same representation (so the
/// round trip is checked once for both).
pub fn parse_frame(data: &[u8]) {
    let verified = FrameRepr::parse_with(data, ChecksumMode::Verify);
    let ignored = FrameRepr::parse_with(data, ChecksumMode::Ignore);
    let repr = match (&verified, &ignored) {
        (Ok(v), Ok(i)) => {
            assert_eq!(v, i, "ignoring checksums changed the parse");
            agrees_with_etherparse(data, v);
            v
        }
        (Ok(v), Err(e)) => {
            panic!("accepted with checksums verified ({v:?}), rejected ignoring them: {e}")
        }
        (Err(_), Ok(i)) => i,
        (Err(_), Err(_)) => return,
    };
    // Emitted into one buffer per thread rather than a new vector per input.
    EMITTED.with_borrow_mut(|bytes| {
        let n = repr.emit_into(bytes);
        assert_eq!(n, repr.buffer_len());
        let again =
            FrameRepr::parse(bytes).expect("an emitted frame must parse, checksums included");
        assert_eq!(&again, repr, "emit then parse changed the frame");
    });
    // Formatting never panics either (written to a sink: nothing is kept).
    let _ = std::fmt::Write::write_fmt(&mut Discard, format_args!("{repr}"));
}

thread_local! {
    /// `parse_frame`'s re-emitted frame.
    static EMITTED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A `fmt::Write` that drops what it is given.
struct Discard;

impl std::fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> std::fmt::Result {
        Ok(())
    }
}

/// Where both parsers accept a frame, etherparse 0.21 (an independent
/// implementation) reads the same addresses, ports, sequence numbers,
/// flags and lengths. Its zero-copy `SlicedPacket` is used rather than
/// `PacketHeaders`, which copies every header into owned structs (IPv6
/// extension headers included): that copying was half of this target's
/// time (callgrind, `__memcpy_avx_unaligned_erms` 54 % of the instructions).
fn agrees_with_etherparse(data: &[u8], ours: &FrameRepr<'_>) {
    use etherparse::{LinkSlice, NetSlice, SlicedPacket, TransportSlice};
    let Ok(h) = SlicedPacket::from_ethernet(data) else {
        return;
    };
    let Some(LinkSlice::Ethernet2(eth)) = &h.link else {
        return;
    };
    assert_eq!(eth.source(), ours.eth.src_addr.0, "etherparse: source MAC");
    assert_eq!(
        eth.destination(),
        ours.eth.dst_addr.0,
        "etherparse: destination MAC"
    );
    let FramePayload::Ipv4(ip, inner) = &ours.payload else {
        return;
    };
    let Some(NetSlice::Ipv4(eip)) = &h.net else {
        return;
    };
    let eip = eip.header();
    assert_eq!(
        eip.source(),
        ip.src_addr.octets(),
        "etherparse: source address"
    );
    assert_eq!(
        eip.destination(),
        ip.dst_addr.octets(),
        "etherparse: destination address"
    );
    assert_eq!(eip.ttl(), ip.ttl, "etherparse: TTL");
    assert_eq!(eip.identification(), ip.ident, "etherparse: identification");
    assert_eq!(eip.more_fragments(), ip.more_frags, "etherparse: MF");
    assert_eq!(
        eip.fragments_offset().byte_offset(),
        ip.frag_offset,
        "etherparse: offset"
    );
    match (inner, &h.transport) {
        (IpPayload::Tcp(t, payload), Some(TransportSlice::Tcp(et))) => {
            assert_eq!(
                (et.source_port(), et.destination_port()),
                (t.src_port, t.dst_port),
                "etherparse: TCP ports"
            );
            assert_eq!(
                (et.sequence_number(), et.acknowledgment_number()),
                (t.seq_number, t.ack_number),
                "etherparse: SEQ/ACK"
            );
            let f = t.flags;
            assert_eq!(
                (et.syn(), et.ack(), et.fin(), et.rst(), et.psh()),
                (
                    f.contains(TcpFlags::SYN),
                    f.contains(TcpFlags::ACK),
                    f.contains(TcpFlags::FIN),
                    f.contains(TcpFlags::RST),
                    f.contains(TcpFlags::PSH)
                ),
                "etherparse: TCP flags"
            );
            assert_eq!(et.window_size(), t.window_len, "etherparse: window");
            assert_eq!(et.payload().len(), payload.len(), "etherparse: TCP payload");
        }
        (IpPayload::Udp(d, payload), Some(TransportSlice::Udp(eu))) => {
            assert_eq!(
                (eu.source_port(), eu.destination_port()),
                (d.src_port, d.dst_port),
                "etherparse: UDP ports"
            );
            assert_eq!(eu.payload().len(), payload.len(), "etherparse: UDP payload");
        }
        _ => {}
    }
}

/// `script_parse`: any text through the script parser. It must not panic,
/// and a script that parses must print (its events in script syntax) without
/// panicking.
pub fn script_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(script) = oracle::script::parse("fuzz.pkt", text) {
        for e in &script.events {
            let _ = e.to_string();
        }
    }
}

/// `tcp_input`: a DUT host driven by a scripted peer into a chosen RFC 9293
/// state (LISTEN … TIME-WAIT, peer options MSS / window scale / SACK-permitted
/// / timestamps), then up to 64 fuzzed steps: peer segments (any flags, seq
/// and ack relative to RCV.NXT / SND.NXT, window, up to 3000 bytes, TS and
/// SACK options), user calls (send, recv, shutdown(SHUT_WR), close,
/// SO_LINGER 0, accept) and clock steps (0..=130 s). See [`tcp_target`] for
/// the input layout, the invariants and the state-edge table.
///
/// Checked after every step and at every timer deadline:
/// * per connection: SND.UNA ≤ SND.NXT ≤ SND.MAX; SND.MAX − SND.UNA ≤ send
///   buffer + 2; SND.UNA, SND.MAX and RCV.NXT never move backwards; RCV.WND
///   ≤ receive buffer (+ scale granularity) and ≤ 65535 << scale; queued
///   data within the buffers;
/// * every state change is in [`tcp_target::EDGES`] (at most two edges of
///   the step's cause); a vanished connection counts as → CLOSED; new ones
///   appear only in SYN-RECEIVED (segment) or SYN-SENT (connect);
/// * ≤ backlog + 4 connections (reset children wait in the accept queue)
///   and ≤ 1 non-CLOSED one for the peer's 4-tuple; the
///   listener stays in LISTEN; after `transmit` returns `None`, `poll_at`
///   is in the future (no busy loop, no overdue timer);
/// * every frame parses (checksums verified), fits the MTU, goes from the
///   DUT's MAC/IP/port to the peer's, and is TCP; a RST carries no data and
///   is either the RFC 9293 3.10.7.1 answer to the segment just received
///   (never to a RST) or an ABORT `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`
///   (SEG.SEQ within SND.UNA..=SND.MAX: SND.NXT as a timeout did not pull
///   it back, or a shrunk window's right edge, as Linux tcp_acceptable_seq);
///   any other segment has SND.UNA − 1 ≤ SEG.SEQ and SEG.SEQ + SEG.LEN ≤
///   SND.MAX, SYN only at ISS, no SYN-only options otherwise, payload ≤ the
///   send MSS, timestamps on every segment iff negotiated (RFC 7323 3.2),
///   sane SACK blocks, ACK set (except the SYN in SYN-SENT) with SEG.ACK =
///   RCV.NXT (as it stood during the step: never beyond it, never older
///   than at the step's start), and a window right edge that never moves left unless the window
///   is 0 (RFC 9293 3.8.6.2.2).
pub fn tcp_input(data: &[u8]) {
    tcp_target::run(data);
}

/// `stack_pair`: two stack hosts over a lossy, duplicating, reordering
/// in-memory link decided by the input; what the server reads must be what
/// the client wrote, in order, and all of it unless a side gave up. See
/// [`stack_pair`] for the layout and the oracle.
pub fn stack_pair(data: &[u8]) {
    stack_pair::run(data)
}

/// `host_input`: frames of every kind (ARP, IPv4 and fragments, ICMP, UDP,
/// TCP to a listener from four peers, raw bytes), clock steps and socket
/// calls at one host; no panic, every emitted frame well-formed and from
/// the host, bounded connections and output, no busy loop. See
/// [`host_input`].
pub fn host_input(data: &[u8]) {
    host_input::run(data)
}
