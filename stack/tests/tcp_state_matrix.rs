//! The state × segment-kind matrix of the TCP state machine (issue 3): every
//! segment a peer can send, in every RFC 9293 state, has a defined outcome
//! (the resulting state, the one segment emitted if any, the data delivered),
//! and the queues a peer can fill are bounded by the profile.
//!
//! Rows: SYN-SENT … TIME-WAIT on a [`Tcb`] driven by a real handshake/close
//! with a peer `Tcb` (nothing is poked into the TCB); LISTEN and CLOSED on a
//! [`Host`], as the socket layer handles them. Columns: [`Kind`], each segment
//! computed from the TCB's current variables ([`Vars`]). Expected outcomes:
//! [`expect`] (one arm per cell, with its RFC clause). Each cell is one test
//! named `<state>::<kind>`, so a failure names the cell.
//!
//! Variables at the cell (all states except SYN-SENT/SYN-RECEIVED are reached
//! by the client side, `us`, of a connection with timestamps, SACK and window
//! scaling, as `Profile::linux()` negotiates):
//! * SYN-SENT: our SYN unacknowledged; SYN-RECEIVED: passive open, our
//!   SYN-ACK unacknowledged;
//! * ESTABLISHED, CLOSE-WAIT: 10 bytes of ours in flight;
//! * FIN-WAIT-1, CLOSING, LAST-ACK: our FIN in flight;
//! * FIN-WAIT-2, TIME-WAIT: nothing in flight (SND.UNA = SND.NXT).
//!
//! Where RFC 9293 leaves room and the expectation is Linux's, it was measured
//! on the oracle's `linux` DUT with packetdrill probes: SYN-RECEIVED × SYN
//! (`R.` seq 0 ack SEG.SEQ+1, request dropped), × RST in window (ACK),
//! × PAWS (ACK, not established); ESTABLISHED × ACK of unsent data (ACK),
//! × ACK too old (ACK); CLOSE-WAIT × data, × out-of-order FIN (nothing);
//! SYN-SENT × ACK or data without SYN (nothing); TIME-WAIT × RST in window,
//! × ACK of unsent / too old data at RCV.NXT (nothing), × data without ACK,
//! × SYN with no listener (ACK).

use core::net::{Ipv4Addr, SocketAddrV4};
use stack::tcp::state::{Tcb, TcpError, TcpState};
use stack::tcp::SeqNumber;
use stack::wire::*;
use stack::{Duration, Errno, Fd, Host, HostConfig, Instant, Profile, SocketType};

const US: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 40000);
const PEER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 2), 80);
/// Our ISS and the peer's, both close to 2^32 so that the cells' arithmetic
/// crosses the wrap.
const US_ISS: u32 = u32::MAX - 7;
const PEER_ISS: u32 = u32::MAX - 2;
/// The payload of every data-bearing kind.
const DATA: &[u8; 5] = b"abcde";
/// Far outside any window offered here (the receive window is about 64 KiB)
/// and well inside 2^31.
const FAR: u32 = 1 << 20;

fn t0() -> Instant {
    Instant::from_secs(1)
}

/// The time at which the cell's segment arrives.
fn t_cell() -> Instant {
    Instant::from_millis(1010)
}

// ------------------------------------------------------------------ rows

/// The rows: RFC 9293 3.3.2 states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// The columns: what a peer can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// SYN, SEG.SEQ = RCV.NXT (in the window), no ACK.
    Syn,
    /// SYN, SEG.SEQ = IRS: the peer's original SYN again.
    SynRetransmit,
    /// SYN+ACK, SEG.SEQ = RCV.NXT, SEG.ACK = SND.NXT.
    SynAck,
    /// RST, SEG.SEQ = RCV.NXT.
    RstExact,
    /// RST, SEG.SEQ = RCV.NXT + 1 (in the window, not exact).
    RstInWindow,
    /// RST, SEG.SEQ = RCV.NXT + 2^20 (outside the window).
    RstOutOfWindow,
    /// ACK, SEG.ACK = SND.NXT (acknowledges everything in flight).
    AckNew,
    /// ACK, SEG.ACK = SND.UNA (duplicate).
    AckDup,
    /// ACK, SEG.ACK = SND.UNA − 2^20 (older than SND.UNA − MAX.SND.WND, RFC 5961 5.2).
    AckTooOld,
    /// ACK, SEG.ACK = SND.NXT + 100 (acknowledges data not yet sent).
    AckUnsent,
    /// 5 bytes at RCV.NXT, ACK = SND.UNA.
    Data,
    /// 5 bytes at RCV.NXT − 5 (entirely old).
    DataOld,
    /// 5 bytes at RCV.NXT + RCV.WND + 100 (beyond the window).
    DataBeyond,
    /// FIN+ACK at RCV.NXT, no data; where the peer's FIN was already received
    /// (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT): that FIN again, at RCV.NXT − 1.
    FinInOrder,
    /// FIN+ACK with 5 bytes at RCV.NXT + 10 (a 10-byte hole before it).
    FinOutOfOrder,
    /// 5 bytes at RCV.NXT with only PSH: no ACK flag.
    NoAck,
    /// 5 bytes at RCV.NXT, ACK, TSval = TS.Recent − 1000 (RFC 7323 PAWS).
    Paws,
}

/// A connection under test and its peer.
struct Fx {
    us: Tcb,
    /// The peer's SYN-ACK to our SYN (SYN-SENT row: the template of the SYN kinds).
    synack: Option<TcpRepr>,
}

fn pump(now: Instant, from: &mut Tcb, to: &mut Tcb) -> usize {
    let mut n = 0;
    while let Some(s) = from.poll(now) {
        to.on_segment(now, &s.repr, &s.payload);
        n += 1;
        assert!(n < 100, "pump does not terminate");
    }
    n
}

fn drain(t: &mut Tcb, now: Instant) -> Vec<(TcpRepr, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(s) = t.poll(now) {
        out.push((s.repr, s.payload));
        assert!(out.len() < 100, "poll does not terminate");
    }
    out
}

/// An established pair driven by a real handshake: `us` the active side.
fn established() -> (Tcb, Tcb) {
    let p = matrix_profile();
    let now = t0();
    let mut us = Tcb::connect(&p, US, PEER, US_ISS, 7);
    let syn = us.poll(now).expect("SYN");
    let mut peer = Tcb::accept(&p, PEER, US, &syn.repr, PEER_ISS, 99);
    pump(now, &mut peer, &mut us);
    pump(now, &mut us, &mut peer);
    assert_eq!(us.state, TcpState::Established);
    assert_eq!(peer.state, TcpState::Established);
    (us, peer)
}

/// The matrix checks RFC 9293's answers, so the ACK of a FIN into
/// CLOSE-WAIT goes at once (the linux profile's delayed one,
/// `Profile::fin_ack_tick`, is checked in core_pair.rs and by the
/// scenarios).
fn matrix_profile() -> Profile {
    Profile {
        fin_ack_tick: None,
        ..Profile::linux()
    }
}

/// Bring a connection into `row` the way the wire does.
fn reach(row: Row) -> Fx {
    let p = matrix_profile();
    let now = t0();
    let mut synack = None;
    let mut us = match row {
        Row::SynSent => {
            let mut us = Tcb::connect(&p, US, PEER, US_ISS, 7);
            let syn = us.poll(now).expect("SYN");
            let mut peer = Tcb::accept(&p, PEER, US, &syn.repr, PEER_ISS, 99);
            synack = Some(peer.poll(now).expect("SYN-ACK").repr);
            us
        }
        Row::SynReceived => {
            let mut peer = Tcb::connect(&p, PEER, US, PEER_ISS, 99);
            let syn = peer.poll(now).expect("SYN");
            let mut us = Tcb::accept(&p, US, PEER, &syn.repr, US_ISS, 7);
            let sa = us.poll(now).expect("SYN-ACK");
            assert_eq!(sa.repr.flags, TcpFlags::SYN | TcpFlags::ACK);
            us
        }
        Row::Established | Row::CloseWait => {
            let (mut us, mut peer) = established();
            if row == Row::CloseWait {
                peer.shutdown_write();
                pump(now, &mut peer, &mut us);
                pump(now, &mut us, &mut peer);
            }
            // 10 bytes of ours in flight (sent, not delivered).
            assert_eq!(us.send(b"0123456789"), 10);
            let d = us.poll(now).expect("data");
            assert_eq!(d.payload.len(), 10);
            us
        }
        Row::FinWait1 | Row::FinWait2 | Row::TimeWait => {
            let (mut us, mut peer) = established();
            us.shutdown_write();
            if row == Row::FinWait1 {
                let fin = us.poll(now).expect("FIN");
                assert!(fin.repr.flags.contains(TcpFlags::FIN));
            } else {
                pump(now, &mut us, &mut peer);
                pump(now, &mut peer, &mut us);
                if row == Row::TimeWait {
                    peer.shutdown_write();
                    pump(now, &mut peer, &mut us);
                    drain(&mut us, now);
                }
            }
            us
        }
        Row::Closing => {
            let (mut us, mut peer) = established();
            us.shutdown_write();
            let fin = us.poll(now).expect("FIN");
            assert!(fin.repr.flags.contains(TcpFlags::FIN));
            peer.shutdown_write();
            pump(now, &mut peer, &mut us);
            drain(&mut us, now);
            us
        }
        Row::LastAck => {
            let (mut us, mut peer) = established();
            peer.shutdown_write();
            pump(now, &mut peer, &mut us);
            pump(now, &mut us, &mut peer);
            us.shutdown_write();
            let fin = us.poll(now).expect("FIN");
            assert!(fin.repr.flags.contains(TcpFlags::FIN));
            us
        }
        Row::Listen | Row::Closed => unreachable!("socket-layer rows run on a Host"),
    };
    let want = match row {
        Row::SynSent => TcpState::SynSent,
        Row::SynReceived => TcpState::SynReceived,
        Row::Established => TcpState::Established,
        Row::FinWait1 => TcpState::FinWait1,
        Row::FinWait2 => TcpState::FinWait2,
        Row::CloseWait => TcpState::CloseWait,
        Row::Closing => TcpState::Closing,
        Row::LastAck => TcpState::LastAck,
        Row::TimeWait => TcpState::TimeWait,
        Row::Listen | Row::Closed => unreachable!(),
    };
    assert_eq!(us.state, want, "reaching {row:?}");
    assert!(us.poll(now).is_none(), "nothing pending before the cell");
    Fx { us, synack }
}

// ------------------------------------------------------------------ columns

/// The TCB variables the segments are computed from (raw u32, wrapping).
#[derive(Debug, Clone, Copy)]
struct Vars {
    iss: u32,
    irs: u32,
    snd_una: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    rcv_wnd: u32,
    /// The ACK a well-behaved peer sends with data: SND.UNA, or ISS + 1 in the
    /// unsynchronized states (the only acceptable ACK there).
    cur_ack: u32,
    ts_recent: Option<u32>,
}

impl Vars {
    fn of(row: Row, t: &Tcb) -> Vars {
        let unsync = matches!(row, Row::SynSent | Row::SynReceived);
        let (irs, rcv_nxt) = if row == Row::SynSent {
            // Not known yet: the peer's ISN is PEER_ISS.
            (PEER_ISS, PEER_ISS.wrapping_add(1))
        } else {
            (t.irs.get(), t.rcv_nxt.get())
        };
        Vars {
            iss: t.iss.get(),
            irs,
            snd_una: t.snd_una.get(),
            snd_nxt: t.snd_nxt.get(),
            rcv_nxt,
            rcv_wnd: t.rcv_wnd,
            cur_ack: if unsync {
                t.iss.get().wrapping_add(1)
            } else {
                t.snd_una.get()
            },
            ts_recent: t.ts_recent(),
        }
    }
}

fn repr(seq: u32, ack: u32, flags: TcpFlags, opts: TcpOptions, len: usize) -> TcpRepr {
    TcpRepr {
        src_port: PEER.port(),
        dst_port: US.port(),
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 1000,
        urgent_pointer: 0,
        options: opts,
        payload_len: len,
    }
}

/// The segment of kind `k` for a TCB in `row` with variables `v`.
fn segment(row: Row, k: Kind, v: &Vars, synack: Option<&TcpRepr>) -> (TcpRepr, Vec<u8>) {
    use Kind::*;
    let (ack, syn, rst, psh, fin) = (
        TcpFlags::ACK,
        TcpFlags::SYN,
        TcpFlags::RST,
        TcpFlags::PSH,
        TcpFlags::FIN,
    );
    if row == Row::SynSent {
        // RFC 9293 3.10.7.3: the SYN kinds come with the peer's options
        // (taken from a real SYN-ACK); the others carry none (no TS.Recent).
        let t = *synack.expect("SYN-ACK template");
        let with = |flags: TcpFlags, tsback: u32| {
            let mut r = t;
            r.flags = flags;
            if let Some((tsval, tsecr)) = t.options.timestamps() {
                let opts: Vec<TcpOption> = t
                    .options
                    .iter()
                    .map(|o| match o {
                        TcpOption::Timestamps { .. } => TcpOption::Timestamps {
                            tsval: tsval.wrapping_sub(tsback),
                            tsecr,
                        },
                        o => o,
                    })
                    .collect();
                r.options = TcpOptions::from_slice(&opts).unwrap();
            }
            (r, Vec::new())
        };
        let none = TcpOptions::new();
        let p1 = v.rcv_nxt;
        return match k {
            Syn | SynRetransmit => with(syn, 0),
            SynAck => with(syn | ack, 0),
            Paws => with(syn | ack, 1000),
            // "exact" in SYN-SENT: the RST that refuses our SYN (acceptable ACK).
            RstExact => (repr(0, v.snd_nxt, rst | ack, none, 0), vec![]),
            // "in window" in SYN-SENT: a RST without ACK.
            RstInWindow => (repr(0, 0, rst, none, 0), vec![]),
            // "out of window": a RST with an unacceptable ACK.
            RstOutOfWindow => (repr(0, v.iss, rst | ack, none, 0), vec![]),
            AckNew => (repr(p1, v.snd_nxt, ack, none, 0), vec![]),
            AckDup => (repr(p1, v.snd_una, ack, none, 0), vec![]),
            AckTooOld => (repr(p1, v.snd_una.wrapping_sub(FAR), ack, none, 0), vec![]),
            AckUnsent => (repr(p1, v.snd_nxt.wrapping_add(100), ack, none, 0), vec![]),
            Data => (repr(p1, v.cur_ack, ack | psh, none, 5), DATA.to_vec()),
            DataOld => (
                repr(p1.wrapping_sub(5), v.cur_ack, ack | psh, none, 5),
                DATA.to_vec(),
            ),
            DataBeyond => (
                repr(p1.wrapping_add(FAR), v.cur_ack, ack | psh, none, 5),
                DATA.to_vec(),
            ),
            FinInOrder => (repr(p1, v.cur_ack, fin | ack, none, 0), vec![]),
            FinOutOfOrder => (
                repr(p1.wrapping_add(10), v.cur_ack, fin | ack | psh, none, 5),
                DATA.to_vec(),
            ),
            NoAck => (repr(p1, 0, psh, none, 5), DATA.to_vec()),
        };
    }
    let ts = |back: u32| match v.ts_recent {
        Some(r) => TcpOptions::from_slice(&[
            TcpOption::NoOperation,
            TcpOption::NoOperation,
            TcpOption::Timestamps {
                tsval: if back > 0 {
                    r.wrapping_sub(back)
                } else {
                    r.wrapping_add(1)
                },
                tsecr: 0,
            },
        ])
        .unwrap(),
        None => TcpOptions::new(),
    };
    let fin_seen = matches!(
        row,
        Row::CloseWait | Row::Closing | Row::LastAck | Row::TimeWait
    );
    let n = v.rcv_nxt;
    let d = || DATA.to_vec();
    match k {
        Syn => (repr(n, 0, syn, ts(0), 0), vec![]),
        SynRetransmit => (repr(v.irs, 0, syn, ts(0), 0), vec![]),
        SynAck => (repr(n, v.snd_nxt, syn | ack, ts(0), 0), vec![]),
        RstExact => (repr(n, 0, rst, ts(0), 0), vec![]),
        RstInWindow => (repr(n.wrapping_add(1), 0, rst, ts(0), 0), vec![]),
        RstOutOfWindow => (repr(n.wrapping_add(FAR), 0, rst, ts(0), 0), vec![]),
        AckNew => (repr(n, v.snd_nxt, ack, ts(0), 0), vec![]),
        AckDup => (repr(n, v.snd_una, ack, ts(0), 0), vec![]),
        AckTooOld => (repr(n, v.snd_una.wrapping_sub(FAR), ack, ts(0), 0), vec![]),
        AckUnsent => (repr(n, v.snd_nxt.wrapping_add(100), ack, ts(0), 0), vec![]),
        Data => (repr(n, v.cur_ack, ack | psh, ts(0), 5), d()),
        DataOld => (repr(n.wrapping_sub(5), v.cur_ack, ack | psh, ts(0), 5), d()),
        DataBeyond => (
            repr(
                n.wrapping_add(v.rcv_wnd).wrapping_add(100),
                v.cur_ack,
                ack | psh,
                ts(0),
                5,
            ),
            d(),
        ),
        FinInOrder => {
            let seq = if fin_seen { n.wrapping_sub(1) } else { n };
            (repr(seq, v.cur_ack, fin | ack, ts(0), 0), vec![])
        }
        FinOutOfOrder => (
            repr(n.wrapping_add(10), v.cur_ack, fin | ack | psh, ts(0), 5),
            d(),
        ),
        NoAck => (repr(n, 0, psh, ts(0), 5), d()),
        Paws => (repr(n, v.cur_ack, ack | psh, ts(1000), 5), d()),
    }
}

// ------------------------------------------------------------------ outcomes

/// What the TCB emits in answer to the cell's segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// Nothing.
    Nothing,
    /// One `<SEQ=SND.NXT><ACK=RCV.NXT + n><CTL=ACK>` (SND.NXT, RCV.NXT as
    /// before the segment): a plain ACK, a challenge ACK or the ACK of
    /// accepted data / FIN.
    Ack(u32),
    /// One `<SEQ=SEG.ACK><CTL=RST>`.
    RstSeqIsSegAck,
    /// One `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
    RstAckIsSegEnd,
    /// One `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>`.
    SynAckIss,
}

/// The expected outcome of one cell.
#[derive(Debug, Clone, Copy)]
struct Exp {
    state: TcpState,
    out: Out,
    /// Bytes that become readable (the cell's payload, in order).
    delivered: usize,
    /// The connection's error afterwards.
    error: Option<TcpError>,
    /// The rule.
    rule: &'static str,
}

const fn x(state: TcpState, out: Out, rule: &'static str) -> Exp {
    Exp {
        state,
        out,
        delivered: 0,
        error: None,
        rule,
    }
}

const fn xd(state: TcpState, out: Out, delivered: usize, rule: &'static str) -> Exp {
    Exp {
        state,
        out,
        delivered,
        error: None,
        rule,
    }
}

const fn xe(state: TcpState, error: TcpError, rule: &'static str) -> Exp {
    Exp {
        state,
        out: Out::Nothing,
        delivered: 0,
        error: Some(error),
        rule,
    }
}

fn row_state(row: Row) -> TcpState {
    match row {
        Row::Closed => TcpState::Closed,
        Row::Listen => TcpState::Listen,
        Row::SynSent => TcpState::SynSent,
        Row::SynReceived => TcpState::SynReceived,
        Row::Established => TcpState::Established,
        Row::FinWait1 => TcpState::FinWait1,
        Row::FinWait2 => TcpState::FinWait2,
        Row::CloseWait => TcpState::CloseWait,
        Row::Closing => TcpState::Closing,
        Row::LastAck => TcpState::LastAck,
        Row::TimeWait => TcpState::TimeWait,
    }
}

/// The expected outcome of each TCB cell.
fn expect(row: Row, k: Kind) -> Exp {
    use Kind::*;
    use Out::*;
    use TcpState as S;
    let here = row_state(row);
    match row {
        // RFC 9293 3.10.7.3.
        Row::SynSent => match k {
            Syn | SynRetransmit => x(
                S::SynReceived,
                SynAckIss,
                "3.10.7.3 fourth: SYN without ACK (simultaneous open) → SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",
            ),
            SynAck => x(
                S::Established,
                Ack(0),
                "3.10.7.3 fourth: SYN with an acceptable ACK → ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            ),
            Paws => x(
                S::Established,
                Ack(0),
                "RFC 7323 5.3: no TS.Recent before the SYN: PAWS does not apply to the SYN-ACK",
            ),
            RstExact => xe(
                S::Closed,
                TcpError::Refused,
                "3.10.7.3 second: RST with an acceptable ACK → CLOSED, 'connection reset' (Linux: ECONNREFUSED)",
            ),
            RstInWindow => x(here, Nothing, "3.10.7.3 second: RST without ACK → drop"),
            RstOutOfWindow => x(
                here,
                Nothing,
                "3.10.7.3 first: unacceptable ACK on a RST → drop (never answer a RST)",
            ),
            AckDup | AckTooOld => x(
                here,
                RstSeqIsSegAck,
                "3.10.7.3 first: SEG.ACK =< ISS → <SEQ=SEG.ACK><CTL=RST>, drop",
            ),
            AckUnsent => x(
                here,
                RstSeqIsSegAck,
                "3.10.7.3 first: SEG.ACK > SND.NXT → <SEQ=SEG.ACK><CTL=RST>, drop",
            ),
            AckNew | Data | DataOld | DataBeyond | FinInOrder | FinOutOfOrder | NoAck => x(
                here,
                Nothing,
                "3.10.7.3 fifth: neither SYN nor RST → drop (Linux tcp_rcv_synsent_state_process: discard)",
            ),
        },
        // RFC 9293 3.10.7.4 for a passive open (Linux tcp_check_req).
        Row::SynReceived => match k {
            Syn => x(
                S::Closed,
                RstAckIsSegEnd,
                "3.10.7.4 fourth (MUST-11), SYN-RECEIVED from a passive OPEN: a new SYN returns the connection to LISTEN; Linux tcp_check_req: embryonic reset, <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>",
            ),
            SynAck => x(
                S::Closed,
                RstSeqIsSegAck,
                "3.10.7.4 fourth (MUST-11), SYN-RECEIVED from a passive OPEN: back to LISTEN; Linux tcp_check_req: embryonic reset, <SEQ=SEG.ACK><CTL=RST>",
            ),
            SynRetransmit => x(
                here,
                SynAckIss,
                "the peer's SYN again: the SYN-ACK is retransmitted (Linux tcp_check_req, 'pure retransmitted SYN')",
            ),
            RstExact => xe(
                S::Closed,
                TcpError::Refused,
                "3.10.7.4 second: RST at RCV.NXT in SYN-RECEIVED → CLOSED (passive: the socket layer drops the child, the listener stays)",
            ),
            RstInWindow => x(
                here,
                Ack(0),
                "3.10.7.4 second, RFC 5961 3.2: RST in window, not exact → challenge ACK (Linux tcp_check_req too: measured)",
            ),
            RstOutOfWindow => x(here, Nothing, "3.10.7.4 first: unacceptable RST → drop"),
            AckNew => x(
                S::Established,
                Nothing,
                "3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT → ESTABLISHED",
            ),
            AckDup | AckTooOld | AckUnsent => x(
                here,
                RstSeqIsSegAck,
                "3.10.7.4 fifth, SYN-RECEIVED: unacceptable ACK → <SEQ=SEG.ACK><CTL=RST>",
            ),
            Data => xd(
                S::Established,
                Ack(5),
                5,
                "3.10.7.4 fifth → ESTABLISHED, seventh: text delivered and acknowledged",
            ),
            DataOld | DataBeyond => x(
                here,
                Ack(0),
                "3.10.7.4 first: unacceptable → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop",
            ),
            FinInOrder => x(
                S::CloseWait,
                Ack(1),
                "3.10.7.4 fifth → ESTABLISHED, eighth: FIN → CLOSE-WAIT, ACK the FIN",
            ),
            FinOutOfOrder => x(
                S::Established,
                Ack(0),
                "3.10.7.4 fifth → ESTABLISHED; seventh: held out of order, immediate duplicate ACK",
            ),
            NoAck => x(here, Nothing, "3.10.7.4 fifth: ACK bit off → drop"),
            Paws => x(
                here,
                Ack(0),
                "RFC 7323 5.3 R1: TSval < TS.Recent → ACK and drop (Linux tcp_check_req: paws_reject → send_ack)",
            ),
        },
        // Linux tcp_timewait_state_process, which the stack follows.
        Row::TimeWait => match k {
            Syn | SynRetransmit | SynAck => x(
                here,
                Ack(0),
                "3.10.7.4 fourth / Linux tcp_timewait_state_process: a SYN in TIME-WAIT with no listener to reopen the connection → ACK (TCP_TW_ACK); reopening is the socket layer's",
            ),
            RstExact => x(
                S::Closed,
                Nothing,
                "3.10.7.4 second, TIME-WAIT: RST at RCV.NXT → CLOSED (Linux tcp_rfc1337 = 0)",
            ),
            RstInWindow => x(
                here,
                Nothing,
                "Linux tcp_timewait_state_process: a RST not at RCV.NXT is ignored (the stack follows Linux, not RFC 5961 3.2's challenge ACK)",
            ),
            RstOutOfWindow => x(here, Nothing, "3.10.7.4 first: unacceptable RST → drop"),
            AckNew | AckDup | AckTooOld | AckUnsent => x(
                here,
                Nothing,
                "Linux tcp_timewait_state_process: a bare segment at RCV.NXT is absorbed (ACK not checked)",
            ),
            Data | DataOld | DataBeyond | FinOutOfOrder | NoAck | Paws => x(
                here,
                Ack(0),
                "3.10.7.4 seventh: TIME-WAIT ignores text; Linux tcp_timewait_state_process ACKs every segment that is not a bare one at RCV.NXT (TCP_TW_ACK)",
            ),
            FinInOrder => x(
                here,
                Ack(0),
                "3.10.7.4 eighth, TIME-WAIT: the retransmitted FIN is acknowledged and the 2 MSL timeout restarted",
            ),
        },
        Row::Listen | Row::Closed => unreachable!("host rows: expect_host"),
        // ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK.
        _ => {
            let text = matches!(row, Row::Established | Row::FinWait1 | Row::FinWait2);
            match k {
                Syn | SynAck => x(
                    here,
                    Ack(0),
                    "3.10.7.4 fourth, RFC 5961 4.2: SYN in a synchronized state → challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop",
                ),
                SynRetransmit => x(
                    here,
                    Ack(0),
                    "3.10.7.4 first: old SYN (SEG.SEQ < RCV.NXT) → ACK, drop (RFC 5961 4.2 challenge ACK is the same segment)",
                ),
                RstExact => match row {
                    Row::CloseWait => xe(
                        S::Closed,
                        TcpError::ResetAfterFin,
                        "3.10.7.4 second: RST at RCV.NXT → CLOSED; Linux tcp_reset: EPIPE in CLOSE-WAIT",
                    ),
                    Row::Closing | Row::LastAck => xe(
                        S::Closed,
                        TcpError::Reset,
                        "3.10.7.4 second, CLOSING/LAST-ACK: RST at RCV.NXT → CLOSED; Linux tcp_reset reports ECONNRESET (measured)",
                    ),
                    _ => xe(
                        S::Closed,
                        TcpError::Reset,
                        "3.10.7.4 second, RFC 5961 3.2: RST at RCV.NXT → CLOSED, 'connection reset' (ECONNRESET)",
                    ),
                },
                RstInWindow => x(
                    here,
                    Ack(0),
                    "3.10.7.4 second, RFC 5961 3.2: RST in window, not exact → challenge ACK",
                ),
                RstOutOfWindow => x(here, Nothing, "3.10.7.4 first: unacceptable RST → drop silently"),
                AckNew => match row {
                    Row::FinWait1 => x(
                        S::FinWait2,
                        Nothing,
                        "3.10.7.4 fifth, FIN-WAIT-1: our FIN acknowledged → FIN-WAIT-2",
                    ),
                    Row::Closing => x(
                        S::TimeWait,
                        Nothing,
                        "3.10.7.4 fifth, CLOSING: our FIN acknowledged → TIME-WAIT",
                    ),
                    Row::LastAck => x(
                        S::Closed,
                        Nothing,
                        "3.10.7.4 fifth, LAST-ACK: our FIN acknowledged → CLOSED",
                    ),
                    _ => x(
                        here,
                        Nothing,
                        "3.10.7.4 fifth: SND.UNA < SEG.ACK =< SND.NXT → SND.UNA = SEG.ACK (FIN-WAIT-2: nothing in flight, SEG.ACK = SND.NXT)",
                    ),
                },
                AckDup => x(
                    here,
                    Nothing,
                    "3.10.7.4 fifth: SEG.ACK =< SND.UNA is a duplicate and ignored (one RFC 5681 dupack)",
                ),
                AckTooOld => x(
                    here,
                    Ack(0),
                    "3.10.7.4 fifth, RFC 5961 5.2: SEG.ACK < SND.UNA − MAX.SND.WND → discard and send an ACK (Linux tcp_ack: challenge ACK)",
                ),
                AckUnsent => x(
                    here,
                    Ack(0),
                    "3.10.7.4 fifth: SEG.ACK > SND.NXT → send an ACK, drop",
                ),
                Data if text => xd(
                    here,
                    Ack(5),
                    5,
                    "3.10.7.4 seventh: in-order text delivered, RCV.NXT advanced, ACK (quick-ack)",
                ),
                Data => x(
                    here,
                    Nothing,
                    "3.10.7.4 seventh: CLOSE-WAIT/CLOSING/LAST-ACK ignore the text (Linux tcp_rcv_state_process: no ACK)",
                ),
                DataOld => x(
                    here,
                    Ack(0),
                    "3.10.7.4 first: entirely before RCV.NXT → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop",
                ),
                DataBeyond => x(
                    here,
                    Ack(0),
                    "3.10.7.4 first: beyond RCV.NXT + RCV.WND → ACK, drop",
                ),
                FinInOrder => match row {
                    Row::Established => x(
                        S::CloseWait,
                        Ack(1),
                        "3.10.7.4 eighth: FIN → CLOSE-WAIT, ACK the FIN",
                    ),
                    Row::FinWait1 => x(
                        S::Closing,
                        Ack(1),
                        "3.10.7.4 eighth, FIN-WAIT-1, our FIN not acknowledged → CLOSING",
                    ),
                    Row::FinWait2 => x(
                        S::TimeWait,
                        Ack(1),
                        "3.10.7.4 eighth, FIN-WAIT-2 → TIME-WAIT",
                    ),
                    _ => x(
                        here,
                        Ack(0),
                        "3.10.7.4 first: the retransmitted FIN is old → ACK (eighth: remain in the state)",
                    ),
                },
                FinOutOfOrder if text => x(
                    here,
                    Ack(0),
                    "3.10.7.4 seventh: held out of order, immediate duplicate ACK (SACK); the FIN waits for the hole",
                ),
                FinOutOfOrder => x(
                    here,
                    Nothing,
                    "3.10.7.4 seventh: text after the peer's FIN is ignored; eighth applies to a FIN at RCV.NXT only (Linux: no ACK)",
                ),
                NoAck => x(here, Nothing, "3.10.7.4 fifth: ACK bit off → drop"),
                Paws => x(
                    here,
                    Ack(0),
                    "RFC 7323 5.3 R1: TSval < TS.Recent → ACK and drop",
                ),
            }
        }
    }
}

fn check_out(
    want: Out,
    out: &[(TcpRepr, Vec<u8>)],
    v: &Vars,
    seg: &TcpRepr,
    payload_len: usize,
    ctx: &str,
) {
    if want == Out::Nothing {
        assert!(out.is_empty(), "expected nothing, got {out:?}: {ctx}");
        return;
    }
    assert_eq!(out.len(), 1, "expected one segment, got {out:?}: {ctx}");
    let (r, p) = &out[0];
    assert!(p.is_empty(), "no payload expected: {ctx}");
    let got = (r.flags, r.seq_number, r.ack_number);
    let f = seg.flags;
    let seg_end = seg
        .seq_number
        .wrapping_add(payload_len as u32)
        .wrapping_add(u32::from(f.contains(TcpFlags::SYN)))
        .wrapping_add(u32::from(f.contains(TcpFlags::FIN)));
    let exp = match want {
        Out::Nothing => unreachable!(),
        Out::Ack(n) => (TcpFlags::ACK, v.snd_nxt, v.rcv_nxt.wrapping_add(n)),
        Out::RstSeqIsSegAck => (TcpFlags::RST, seg.ack_number, 0),
        Out::RstAckIsSegEnd => (TcpFlags::RST | TcpFlags::ACK, 0, seg_end),
        Out::SynAckIss => (TcpFlags::SYN | TcpFlags::ACK, v.iss, v.rcv_nxt),
    };
    assert_eq!(got, exp, "(flags, seq, ack) emitted: want {want:?}: {ctx}");
}

/// One TCB cell.
fn run(row: Row, k: Kind) {
    if matches!(row, Row::Listen | Row::Closed) {
        return run_host(row, k);
    }
    let mut fx = reach(row);
    let v = Vars::of(row, &fx.us);
    let (seg, payload) = segment(row, k, &v, fx.synack.as_ref());
    let exp = expect(row, k);
    let ctx = format!("{row:?} × {k:?}: {}", exp.rule);
    let readable = fx.us.recv_available();
    let now = t_cell();
    fx.us.on_segment(now, &seg, &payload);
    let out = drain(&mut fx.us, now);
    assert_eq!(fx.us.state, exp.state, "state: {ctx}");
    check_out(exp.out, &out, &v, &seg, payload.len(), &ctx);
    let got = fx.us.recv_available() - readable;
    assert_eq!(got, exp.delivered, "bytes delivered: {ctx}");
    if got > 0 {
        let mut buf = vec![0u8; readable + got];
        assert_eq!(fx.us.recv(&mut buf), readable + got);
        assert_eq!(&buf[readable..], &DATA[..got], "data delivered: {ctx}");
    }
    assert_eq!(fx.us.error, exp.error, "error: {ctx}");
    // What the cell implies beyond the segment.
    let t = &fx.us;
    assert!(t.snd_una <= t.snd_nxt, "SND.UNA =< SND.NXT: {ctx}");
    if k == Kind::AckNew && t.state.is_synchronized() {
        assert_eq!(
            t.snd_una,
            SeqNumber(seg.ack_number),
            "SND.UNA = SEG.ACK: {ctx}"
        );
    }
    if matches!(exp.out, Out::Nothing | Out::Ack(0)) && exp.delivered == 0 {
        let moved = t.rcv_nxt.get() != v.rcv_nxt && row != Row::SynSent;
        assert!(
            !moved || exp.state == TcpState::Closed,
            "RCV.NXT moved: {ctx}"
        );
    }
    if row == Row::TimeWait && k == Kind::FinInOrder {
        assert_eq!(
            t.poll_at(),
            Some(now + Profile::linux().time_wait),
            "2 MSL restarted: {ctx}"
        );
    }
}

// ------------------------------------------------------------------ LISTEN / CLOSED

const US_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

fn host(profile: Profile) -> Host {
    Host::new(
        HostConfig {
            mac: US_MAC,
            ipv4: *US.ip(),
            prefix_len: 24,
            gateway: None,
            profile,
            static_neighbors: vec![(*PEER.ip(), PEER_MAC)],
        },
        1,
    )
}

fn listener(h: &mut Host, backlog: i32) -> Fd {
    let l = h.socket(SocketType::Stream).unwrap();
    h.bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, US.port()))
        .unwrap();
    h.listen(l, backlog).unwrap();
    l
}

/// Hand `repr` (from the peer) to the host and collect its TCP answers.
fn exchange(h: &mut Host, now: Instant, repr: TcpRepr, payload: &[u8]) -> Vec<TcpRepr> {
    let mut repr = repr;
    repr.payload_len = payload.len();
    let ip = Ipv4Repr {
        ident: 1,
        dont_frag: true,
        ..Ipv4Repr::unfragmented(
            *PEER.ip(),
            *US.ip(),
            IpProtocol::Tcp,
            64,
            repr.header_len() + payload.len(),
        )
    };
    let frame = FrameRepr {
        eth: EthernetRepr {
            src_addr: PEER_MAC,
            dst_addr: US_MAC,
            ethertype: EtherType::Ipv4,
        },
        payload: FramePayload::Ipv4(ip, IpPayload::Tcp(repr, payload)),
    }
    .to_vec();
    h.receive(now, &frame);
    let mut out = Vec::new();
    while let Some(f) = h.transmit(now) {
        if let Ok(FrameRepr {
            payload: FramePayload::Ipv4(_, IpPayload::Tcp(t, _)),
            ..
        }) = FrameRepr::parse(&f)
        {
            out.push(t);
        }
        assert!(out.len() < 100);
    }
    out
}

/// The numbers the LISTEN/CLOSED segments are built from (no TCB: any will do).
fn host_vars() -> Vars {
    Vars {
        iss: 777,
        irs: 5000,
        snd_una: 9000,
        snd_nxt: 9000,
        rcv_nxt: 5001,
        rcv_wnd: 64000,
        cur_ack: 9000,
        ts_recent: Some(100),
    }
}

/// RFC 9293 3.10.7.1 (CLOSED: no socket on the port) and 3.10.7.2 (LISTEN).
fn expect_host(row: Row, k: Kind) -> (Out, usize, &'static str) {
    use Kind::*;
    use Out::*;
    match (row, k) {
        (_, RstExact | RstInWindow | RstOutOfWindow) => (
            Nothing,
            0,
            "3.10.7.1 / 3.10.7.2 first: an incoming RST is ignored",
        ),
        (Row::Listen, Syn | SynRetransmit) => (
            SynAckIss,
            1,
            "3.10.7.2 third: SYN → a SYN-RECEIVED connection, <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>",
        ),
        (Row::Listen, NoAck) => (
            Nothing,
            0,
            "3.10.7.2 fourth: other text or control without ACK → drop",
        ),
        (Row::Listen, _) => (
            RstSeqIsSegAck,
            0,
            "3.10.7.2 second: any ACK → <SEQ=SEG.ACK><CTL=RST>",
        ),
        (_, Syn | SynRetransmit | NoAck) => (
            RstAckIsSegEnd,
            0,
            "3.10.7.1: no ACK → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
        ),
        (_, _) => (
            RstSeqIsSegAck,
            0,
            "3.10.7.1: with ACK → <SEQ=SEG.ACK><CTL=RST>",
        ),
    }
}

fn run_host(row: Row, k: Kind) {
    let mut h = host(Profile::linux());
    let l = (row == Row::Listen).then(|| listener(&mut h, 8));
    let v = host_vars();
    let (seg, payload) = segment(row, k, &v, None);
    let (want, conns, rule) = expect_host(row, k);
    let ctx = format!("{row:?} × {k:?}: {rule}");
    let out = exchange(&mut h, t_cell(), seg, &payload);
    if want == Out::SynAckIss {
        // The ISS is the host's own: check the flags and the ACK only.
        assert_eq!(out.len(), 1, "{out:?}: {ctx}");
        assert_eq!(out[0].flags, TcpFlags::SYN | TcpFlags::ACK, "{ctx}");
        assert_eq!(out[0].ack_number, seg.seq_number.wrapping_add(1), "{ctx}");
    } else {
        let out: Vec<_> = out.into_iter().map(|r| (r, Vec::new())).collect();
        check_out(want, &out, &v, &seg, payload.len(), &ctx);
    }
    assert_eq!(h.connection_count(), conns, "connections: {ctx}");
    if let Some(l) = l {
        assert_eq!(h.tcp_state(l), Some(TcpState::Listen), "{ctx}");
    }
}

// ------------------------------------------------------------------ bounds

/// An established pair with `profile` on both sides.
fn established_with(p: &Profile) -> (Tcb, Tcb) {
    let now = t0();
    let mut us = Tcb::connect(p, US, PEER, US_ISS, 7);
    let syn = us.poll(now).unwrap();
    let mut peer = Tcb::accept(p, PEER, US, &syn.repr, PEER_ISS, 99);
    pump(now, &mut peer, &mut us);
    pump(now, &mut us, &mut peer);
    assert_eq!(us.state, TcpState::Established);
    (us, peer)
}

fn ts_opts(t: &Tcb) -> TcpOptions {
    TcpOptions::from_slice(&[
        TcpOption::NoOperation,
        TcpOption::NoOperation,
        TcpOption::Timestamps {
            tsval: t.ts_recent().unwrap().wrapping_add(1),
            tsecr: 0,
        },
    ])
    .unwrap()
}

/// The reassembly queue holds at most `max_ooo_segments` segments: a flood
/// of out-of-order segments past the bound is acknowledged (duplicate ACK,
/// RFC 9293 3.10.7.4 seventh / RFC 5681 4.2) but not held; filling the hole
/// delivers exactly what was held.
#[test]
fn bound_reassembly_queue_max_ooo_segments() {
    for bound in [4usize, Profile::linux().max_ooo_segments] {
        let p = Profile {
            max_ooo_segments: bound,
            ..Profile::linux()
        };
        let (mut us, _) = established_with(&p);
        let now = t_cell();
        let n = us.rcv_nxt.get();
        let una = us.snd_una.get();
        let flood = 3 * bound;
        let mut last_sack = Vec::new();
        for i in 0..flood {
            let seq = n.wrapping_add(10 + 10 * i as u32);
            let seg = repr(seq, una, TcpFlags::ACK, ts_opts(&us), 10);
            us.on_segment(now, &seg, &[b'o'; 10]);
            let out = drain(&mut us, now);
            assert_eq!(out.len(), 1, "segment {i}: one duplicate ACK");
            assert_eq!(out[0].0.ack_number, n, "segment {i}: ACK stays at RCV.NXT");
            last_sack = out[0].0.options.sack_blocks().to_vec();
        }
        let held_end = n.wrapping_add(10 + 10 * bound as u32);
        assert_eq!(
            last_sack,
            vec![(n.wrapping_add(10), held_end)],
            "bound {bound}: only the first {bound} segments are held"
        );
        assert_eq!(us.recv_available(), 0);
        // Fill the hole: RCV.NXT moves over the held segments only.
        let seg = repr(n, una, TcpFlags::ACK, ts_opts(&us), 10);
        us.on_segment(now, &seg, &[b'h'; 10]);
        let out = drain(&mut us, now);
        assert_eq!(out.last().unwrap().0.ack_number, held_end);
        assert_eq!(us.rcv_nxt, SeqNumber(held_end));
        assert_eq!(us.recv_available(), 10 + 10 * bound);
    }
}

/// A peer with its own port doing a handshake with the host.
fn syn_from(h: &mut Host, now: Instant, port: u16) -> Option<TcpRepr> {
    let mut s = repr(
        1000 * u32::from(port),
        0,
        TcpFlags::SYN,
        TcpOptions::new(),
        0,
    );
    s.src_port = port;
    let out = exchange(h, now, s, &[]);
    assert!(out.len() <= 1);
    out.first().copied()
}

fn ack_from(h: &mut Host, now: Instant, port: u16, synack: &TcpRepr) -> Vec<TcpRepr> {
    let mut a = repr(
        1000 * u32::from(port) + 1,
        synack.seq_number.wrapping_add(1),
        TcpFlags::ACK,
        TcpOptions::new(),
        0,
    );
    a.src_port = port;
    exchange(h, now, a, &[])
}

fn accept_all(h: &mut Host, l: Fd) -> usize {
    let mut n = 0;
    loop {
        match h.accept(l) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e, Errno::EAGAIN);
                return n;
            }
        }
    }
}

/// The accept queue holds backlog + 1 connections (Linux sk_acceptq_is_full:
/// more than `backlog`); further SYNs are dropped unanswered (Linux
/// tcp_conn_request), so a flood of full handshakes leaves exactly that many
/// connections.
#[test]
fn bound_accept_queue_backlog() {
    let mut h = host(Profile::linux());
    let l = listener(&mut h, 2);
    let now = t_cell();
    let mut answered = 0;
    for port in 30000..30050u16 {
        if let Some(sa) = syn_from(&mut h, now, port) {
            answered += 1;
            assert!(ack_from(&mut h, now, port, &sa).is_empty());
        }
    }
    assert_eq!(answered, 3, "backlog 2 → 3 SYNs answered, 47 dropped");
    assert_eq!(h.connection_count(), 3);
    assert_eq!(accept_all(&mut h, l), 3);
}

/// The final ACK of a handshake whose SYN was admitted is dropped while the
/// accept queue is full (Linux tcp_check_req → inet_csk_complete_hashdance
/// fails: the request stays, its SYN-ACK is retransmitted); once accept()
/// makes room, the next ACK completes it.
#[test]
fn bound_accept_queue_final_ack_dropped_when_full() {
    let mut h = host(Profile::linux());
    let l = listener(&mut h, 2);
    let now = t_cell();
    let sa1 = syn_from(&mut h, now, 31001).unwrap();
    let sa2 = syn_from(&mut h, now, 31002).unwrap();
    ack_from(&mut h, now, 31001, &sa1);
    ack_from(&mut h, now, 31002, &sa2);
    let sa3 = syn_from(&mut h, now, 31003).unwrap();
    let sa4 = syn_from(&mut h, now, 31004).unwrap();
    ack_from(&mut h, now, 31003, &sa3);
    assert!(ack_from(&mut h, now, 31004, &sa4).is_empty());
    assert_eq!(h.connection_count(), 4, "31004 is still half-open");
    // Its SYN-ACK is retransmitted after the initial RTO (1 s).
    let later = now + Duration::from_secs(1);
    let mut rtx = Vec::new();
    while let Some(f) = h.transmit(later) {
        if let Ok(FrameRepr {
            payload: FramePayload::Ipv4(_, IpPayload::Tcp(t, _)),
            ..
        }) = FrameRepr::parse(&f)
        {
            rtx.push(t);
        }
    }
    assert_eq!(rtx.len(), 1);
    assert_eq!(
        (rtx[0].flags, rtx[0].dst_port, rtx[0].seq_number),
        (TcpFlags::SYN | TcpFlags::ACK, 31004, sa4.seq_number)
    );
    assert_eq!(accept_all(&mut h, l), 3);
    ack_from(&mut h, later, 31004, &sa4);
    assert_eq!(accept_all(&mut h, l), 1);
}

/// Half-open connections per listener are bounded by
/// min(backlog + 1, Profile::max_syn_backlog) (Linux: tcp_max_syn_backlog);
/// SYNs beyond it are dropped unanswered.
#[test]
fn bound_syn_queue_max_syn_backlog() {
    let p = Profile {
        max_syn_backlog: 5,
        ..Profile::linux()
    };
    let mut h = host(p);
    let l = listener(&mut h, 100);
    let now = t_cell();
    let answered = (32000..32050u16)
        .filter(|port| syn_from(&mut h, now, *port).is_some())
        .count();
    assert_eq!(answered, 5);
    assert_eq!(h.connection_count(), 5);
    assert_eq!(
        accept_all(&mut h, l),
        0,
        "half-open requests are not accepted"
    );
}

/// listen()'s backlog is clamped to Profile::max_backlog (Linux somaxconn).
#[test]
fn bound_listen_backlog_clamped_to_max_backlog() {
    let p = Profile {
        max_backlog: 3,
        ..Profile::linux()
    };
    let mut h = host(p);
    let l = listener(&mut h, 100_000);
    let now = t_cell();
    for port in 33000..33050u16 {
        if let Some(sa) = syn_from(&mut h, now, port) {
            ack_from(&mut h, now, port, &sa);
        }
    }
    assert_eq!(h.connection_count(), 4, "3 + 1 (sk_acceptq_is_full)");
    assert_eq!(accept_all(&mut h, l), 4);
}

/// The send/retransmission queue is bounded by Profile::send_buffer: SEND
/// takes what fits (RFC 9293 3.10.2), the rest is refused; unacknowledged
/// data stays within the bound across retransmissions, and an ACK makes room.
#[test]
fn bound_send_queue_send_buffer() {
    let p = Profile {
        send_buffer: 4096,
        send_memory: false,
        ..Profile::linux()
    };
    let (mut us, _) = established_with(&p);
    let mut now = t_cell();
    assert_eq!(us.send(&[7u8; 100_000]), 4096);
    assert_eq!(us.send(&[7u8; 10]), 0, "full: refused");
    assert_eq!(us.send_free(), 0);
    let sent: usize = drain(&mut us, now).iter().map(|(_, d)| d.len()).sum();
    assert_eq!(sent, 4096);
    // Nothing is acknowledged: retransmissions keep the queue at the bound.
    for _ in 0..5 {
        match us.poll_at() {
            Some(t) => now = t,
            None => break,
        }
        us.on_timer(now);
        drain(&mut us, now);
        assert_eq!(us.send_queued(), 4096);
        assert_eq!(us.send(&[7u8; 10]), 0);
    }
    // The peer acknowledges 1000 bytes: room for exactly 1000.
    let ack = us.snd_una.get().wrapping_add(1000);
    let seg = repr(us.rcv_nxt.get(), ack, TcpFlags::ACK, ts_opts(&us), 0);
    us.on_segment(now, &seg, &[]);
    assert_eq!(us.send_queued(), 3096);
    assert_eq!(us.send(&[7u8; 5000]), 1000);
}

/// With Linux's send memory (`Profile::send_memory`), SEND takes what the
/// memory admits, which is less than a fixed buffer of the same size when
/// segments are small; the socket stays unwritable (POLLOUT) until ACKs
/// free enough (sk_stream_is_writeable), and an ACK of all that was sent
/// makes room again.
#[test]
fn send_memory_admits_and_acks_free() {
    let p = Profile::linux();
    let (mut us, _) = established_with(&p);
    let now = t_cell();
    let sndbuf = us.sndbuf().expect("modelled") as usize;
    assert!(
        sndbuf > p.send_buffer,
        "expanded on establishment: {sndbuf}"
    );
    let n = us.send(&[7u8; 200_000]);
    assert!(n > 0 && n < 200_000, "took {n} of 200000");
    assert_eq!(us.send(&[7u8; 10]), 0, "full: refused");
    assert_eq!(us.send_free(), 0, "not writable");
    let wmem = us.wmem_queued().unwrap() as usize;
    assert!(
        wmem >= sndbuf,
        "stopped below the buffer: {wmem} < {sndbuf}"
    );
    assert_eq!(us.check_send_mem(), Ok(()));
    let sent: usize = drain(&mut us, now).iter().map(|(_, d)| d.len()).sum();
    assert!(sent > 0);
    assert_eq!(us.check_send_mem(), Ok(()));
    // The peer acknowledges all of it: the memory is freed, and the
    // socket is writable again.
    let ack = us.snd_una.get().wrapping_add(sent as u32);
    let seg = repr(us.rcv_nxt.get(), ack, TcpFlags::ACK, ts_opts(&us), 0);
    us.on_segment(now, &seg, &[]);
    assert!(us.wmem_queued().unwrap() as usize <= wmem - sent);
    drain(&mut us, now);
    assert_eq!(us.check_send_mem(), Ok(()));
    assert!(us.send_free() > 0, "writable after the ACK");
    assert!(us.send(&[7u8; 10_000]) > 0);
}

/// Through the socket layer: send() returns what fits, then EAGAIN, and the
/// socket is not writable.
#[test]
fn bound_send_queue_socket_eagain() {
    let p = Profile {
        send_buffer: 4096,
        send_memory: false,
        ..Profile::linux()
    };
    let mut h = host(p);
    let l = listener(&mut h, 4);
    let now = t_cell();
    let sa = syn_from(&mut h, now, 34000).unwrap();
    ack_from(&mut h, now, 34000, &sa);
    let (s, _) = h.accept(l).unwrap();
    assert_eq!(h.send(now, s, &[1u8; 10_000]), Ok(4096));
    assert_eq!(h.send(now, s, &[1u8; 10]), Err(Errno::EAGAIN));
    assert!(!h.readiness(s).writable);
    assert_eq!(h.tcb(s).unwrap().send_queued(), 4096);
}

/// Answers owed to a flood of segments that the driver does not poll for in
/// between are bounded by Profile::tx_queue (as Host::push_tx bounds frames):
/// 5000 unacceptable segments queue at most tx_queue ACKs.
#[test]
fn bound_unpolled_answers_tx_queue() {
    let p = Profile {
        tx_queue: 16,
        ..Profile::linux()
    };
    let (mut us, _) = established_with(&p);
    let now = t_cell();
    let n = us.rcv_nxt.get();
    let una = us.snd_una.get();
    for i in 0..5000u32 {
        let seg = repr(
            n.wrapping_sub(100 + i % 50),
            una,
            TcpFlags::ACK,
            ts_opts(&us),
            5,
        );
        us.on_segment(now, &seg, DATA);
    }
    let out = drain(&mut us, now);
    assert!(
        !out.is_empty() && out.len() <= 16,
        "{} answers queued",
        out.len()
    );
    assert!(out.iter().all(|(r, _)| r.flags == TcpFlags::ACK));
    assert_eq!(us.state, TcpState::Established);
}

/// The out-of-order FIN cell, continued: once the hole is filled the held
/// data and the FIN are processed together (RFC 9293 3.10.7.4: "segments
/// with higher beginning sequence numbers SHOULD be held").
#[test]
fn held_fin_processed_when_hole_filled() {
    let mut fx = reach(Row::Established);
    let v = Vars::of(Row::Established, &fx.us);
    let now = t_cell();
    let (seg, payload) = segment(Row::Established, Kind::FinOutOfOrder, &v, None);
    fx.us.on_segment(now, &seg, &payload);
    drain(&mut fx.us, now);
    let fill = repr(v.rcv_nxt, v.cur_ack, TcpFlags::ACK, ts_opts(&fx.us), 10);
    fx.us.on_segment(now, &fill, &[b'h'; 10]);
    let out = drain(&mut fx.us, now);
    assert_eq!(fx.us.state, TcpState::CloseWait);
    assert_eq!(out.last().unwrap().0.ack_number, v.rcv_nxt.wrapping_add(16));
    assert_eq!(fx.us.recv_available(), 15);
    assert!(fx.us.fin_received());
}

/// SYN-RECEIVED reached by a simultaneous open: a new SYN is handled as in
/// the synchronized states (RFC 9293 3.10.7.4 fourth: "Otherwise, handle per
/// the directions for synchronized states"; RFC 5961 4.2 challenge ACK), not
/// by the passive-open reset of the `syn_received::syn` cell.
#[test]
fn simultaneous_open_syn_received_syn_gets_challenge_ack() {
    let p = Profile::linux();
    let now = t0();
    let mut us = Tcb::connect(&p, US, PEER, US_ISS, 7);
    us.poll(now).unwrap();
    let mut peer = Tcb::connect(&p, PEER, US, PEER_ISS, 99);
    let their_syn = peer.poll(now).unwrap();
    us.on_segment(now, &their_syn.repr, &[]);
    assert_eq!(us.state, TcpState::SynReceived);
    drain(&mut us, now);
    let v = Vars::of(Row::SynReceived, &us);
    let (seg, _) = segment(Row::SynReceived, Kind::Syn, &v, None);
    us.on_segment(t_cell(), &seg, &[]);
    let out = drain(&mut us, t_cell());
    assert_eq!(us.state, TcpState::SynReceived);
    check_out(Out::Ack(0), &out, &v, &seg, 0, "simultaneous open × SYN");
}

/// The passive SYN-RECEIVED cell through the socket layer: a new SYN on the
/// half-open connection's 4-tuple is answered with a reset, the child is gone
/// and the listener stays (RFC 9293 3.10.7.4 fourth: "return this connection
/// to the LISTEN state"; Linux tcp_check_req embryonic reset).
#[test]
fn passive_syn_received_new_syn_returns_to_listen() {
    let mut h = host(Profile::linux());
    let l = listener(&mut h, 8);
    let now = t_cell();
    let sa = syn_from(&mut h, now, 35000).unwrap();
    assert_eq!(h.connection_count(), 1);
    let mut syn = repr(
        sa.ack_number.wrapping_add(10),
        0,
        TcpFlags::SYN,
        TcpOptions::new(),
        0,
    );
    syn.src_port = 35000;
    let out = exchange(&mut h, now, syn, &[]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].flags, out[0].seq_number, out[0].ack_number),
        (
            TcpFlags::RST | TcpFlags::ACK,
            0,
            syn.seq_number.wrapping_add(1)
        )
    );
    assert_eq!(h.connection_count(), 0);
    assert_eq!(h.tcp_state(l), Some(TcpState::Listen));
    assert_eq!(accept_all(&mut h, l), 0);
}

// ------------------------------------------------------------------ the cells

/// One module per state (row), one test per segment kind (column), so a
/// failure names its cell: `<state>::<kind>`.
macro_rules! row {
    ($m:ident, $row:ident) => {
        mod $m {
            use super::*;
            cells!($row, {
                syn => Syn,
                syn_retransmit => SynRetransmit,
                syn_ack => SynAck,
                rst_exact => RstExact,
                rst_in_window => RstInWindow,
                rst_out_of_window => RstOutOfWindow,
                ack_new => AckNew,
                ack_dup => AckDup,
                ack_too_old => AckTooOld,
                ack_unsent => AckUnsent,
                data => Data,
                data_old => DataOld,
                data_beyond => DataBeyond,
                fin_in_order => FinInOrder,
                fin_out_of_order => FinOutOfOrder,
                no_ack => NoAck,
                paws => Paws,
            });
        }
    };
}

macro_rules! cells {
    ($row:ident, { $($t:ident => $k:ident,)* }) => {
        $(
            #[test]
            fn $t() {
                run(Row::$row, Kind::$k);
            }
        )*
    };
}

row!(closed, Closed);
row!(listen, Listen);
row!(syn_sent, SynSent);
row!(syn_received, SynReceived);
row!(established, Established);
row!(fin_wait_1, FinWait1);
row!(fin_wait_2, FinWait2);
row!(close_wait, CloseWait);
row!(closing, Closing);
row!(last_ack, LastAck);
row!(time_wait, TimeWait);
