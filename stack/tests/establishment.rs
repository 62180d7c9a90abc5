//! Connection establishment on the TCB alone (issue 3): SYN retransmission
//! schedule and limits, SYN-SENT's answer to unacceptable ACKs, simultaneous
//! open, and the segment size bound by the peer's window.

use core::net::{Ipv4Addr, SocketAddrV4};
use stack::tcp::options::syn_options;
use stack::tcp::{Segment, Tcb, TcpError, TcpState};
use stack::wire::{TcpFlags, TcpOptions, TcpRepr};
use stack::{Duration, Instant, Profile};

fn ends() -> (SocketAddrV4, SocketAddrV4) {
    (
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 2), 40000),
        SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 8080),
    )
}

fn seg(seq: u32, ack: u32, flags: TcpFlags, win: u16, options: TcpOptions) -> TcpRepr {
    TcpRepr {
        src_port: 8080,
        dst_port: 40000,
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: win,
        urgent_pointer: 0,
        options,
        payload_len: 0,
    }
}

fn drain(t: &mut Tcb, now: Instant) -> Vec<Segment> {
    std::iter::from_fn(|| t.poll(now)).collect()
}

/// Runs the TCB's timers until `end`; returns the times SYNs left.
fn run_syns(t: &mut Tcb, end: Instant) -> Vec<i64> {
    let mut out = Vec::new();
    let mut now = Instant::ZERO;
    loop {
        for s in drain(t, now) {
            if s.repr.flags.contains(TcpFlags::SYN) {
                out.push(now.total_millis());
            }
        }
        match t.poll_at() {
            Some(at) if at <= end => {
                now = at;
                t.on_timer(now);
            }
            _ => return out,
        }
    }
}

#[test]
fn syn_timeouts_are_linear_then_double_as_linux() {
    let (l, r) = ends();
    let mut t = Tcb::connect(&Profile::linux(), l, r, 1000, 0);
    let syns = run_syns(&mut t, Instant::from_secs(200));
    let secs: Vec<i64> = syns.iter().map(|ms| ms / 1000).collect();
    assert_eq!(secs, [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    assert_eq!(
        (t.state, t.error),
        (TcpState::Closed, Some(TcpError::TimedOut))
    );
}

#[test]
fn rfc_profile_doubles_every_syn_timeout() {
    let (l, r) = ends();
    let mut t = Tcb::connect(&Profile::rfc(), l, r, 1000, 0);
    let syns = run_syns(&mut t, Instant::from_secs(200));
    let secs: Vec<i64> = syns.iter().map(|ms| ms / 1000).collect();
    // RFC 6298 5.5: 1, 2, 4, … s; 6 retransmissions, or 127 s of them.
    assert_eq!(secs, [0, 1, 3, 7, 15, 31, 63]);
}

#[test]
fn syncnt_limits_by_count_or_modelled_time() {
    let (l, r) = ends();
    // Given up at 3 s, 7 s ((2 << n) - 1 s after the first SYN) and 19 s
    // (after syn_retries + 4 retransmissions), as measured on Linux 6.18.
    for (n, syns) in [
        (1, vec![0, 1, 2]),
        (2, vec![0, 1, 2, 3, 4, 5]),
        (3, vec![0, 1, 2, 3, 4, 5, 7, 11]),
    ] {
        let mut t = Tcb::connect(&Profile::linux(), l, r, 1000, 0);
        t.set_syn_retries(Some(n));
        let got = run_syns(&mut t, Instant::from_secs(200));
        let secs: Vec<i64> = got.iter().map(|ms| ms / 1000).collect();
        assert_eq!(secs, syns, "TCP_SYNCNT {n}");
        assert_eq!(t.state, TcpState::Closed);
        assert_eq!(t.error, Some(TcpError::TimedOut));
    }
}

#[test]
fn unacceptable_ack_in_syn_sent_brings_the_syn_retransmission_forward() {
    let (l, r) = ends();
    let p = Profile::linux();
    let mut t = Tcb::connect(&p, l, r, 1000, 0);
    let now = Instant::ZERO;
    assert_eq!(drain(&mut t, now).len(), 1);
    // RST with SEG.ACK = ISS: dropped, no answer, timer at TCP_TIMEOUT_MIN.
    let at = Instant::from_millis(10);
    t.on_segment(
        at,
        &seg(0, 1000, TcpFlags::RST | TcpFlags::ACK, 0, TcpOptions::new()),
        &[],
    );
    assert!(drain(&mut t, at).is_empty());
    assert_eq!(t.state, TcpState::SynSent);
    assert_eq!(t.poll_at(), Some(at + p.timeout_min));
    t.on_timer(at + p.timeout_min);
    let again = drain(&mut t, at + p.timeout_min);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].repr.flags, TcpFlags::SYN);
    // The next timeout is a full RTO (not backed off), and a second bad ACK
    // no longer brings it forward.
    let next = t.poll_at().unwrap();
    assert_eq!(next, at + p.timeout_min + Duration::from_secs(1));
    let ack = seg(0, 1005, TcpFlags::ACK, 100, TcpOptions::new());
    t.on_segment(at + Duration::from_millis(20), &ack, &[]);
    let rst = drain(&mut t, at);
    assert_eq!(rst.len(), 1, "an unacceptable ACK is answered by a reset");
    assert_eq!(
        (rst[0].repr.flags, rst[0].repr.seq_number),
        (TcpFlags::RST, 1005)
    );
    assert_eq!(t.poll_at(), Some(next));
    // A RST without ACK is dropped; one acknowledging the SYN refuses.
    t.on_segment(at, &seg(0, 0, TcpFlags::RST, 0, TcpOptions::new()), &[]);
    assert_eq!(t.state, TcpState::SynSent);
    t.on_segment(
        at,
        &seg(0, 1001, TcpFlags::RST | TcpFlags::ACK, 0, TcpOptions::new()),
        &[],
    );
    assert_eq!(
        (t.state, t.error),
        (TcpState::Closed, Some(TcpError::Refused))
    );
}

#[test]
fn simultaneous_open_establishes_on_the_crossed_syn_ack() {
    let (l, r) = ends();
    let mut t = Tcb::connect(&Profile::linux(), l, r, 1000, 0);
    let now = Instant::ZERO;
    drain(&mut t, now);
    let opts = |val, ecr| syn_options(1460, true, Some((val, ecr)), Some(7));
    t.on_segment(now, &seg(5000, 0, TcpFlags::SYN, 65535, opts(200, 0)), &[]);
    assert_eq!(t.state, TcpState::SynReceived);
    let synack = drain(&mut t, now);
    assert_eq!(synack.len(), 1);
    assert_eq!(synack[0].repr.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(
        (synack[0].repr.seq_number, synack[0].repr.ack_number),
        (1000, 5001)
    );
    // The peer's SYN-ACK: its SYN is a duplicate; the ACK completes the handshake.
    let later = Instant::from_millis(10);
    let peer = seg(
        5000,
        1001,
        TcpFlags::SYN | TcpFlags::ACK,
        30000,
        opts(210, 0),
    );
    t.on_segment(later, &peer, &[]);
    assert_eq!(t.state, TcpState::Established);
    assert_eq!(
        t.snd_wnd, 30000,
        "the window is the SYN-ACK's, unscaled (a SYN's window never is)"
    );
    assert_eq!(t.ts_recent(), Some(210));
    let ack = drain(&mut t, later);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].repr.flags, TcpFlags::ACK);
    assert_eq!(ack[0].repr.ack_number, 5001);
    let sack: Vec<_> = ack[0]
        .repr
        .options
        .iter()
        .filter_map(|o| match o {
            stack::wire::TcpOption::SackRange { count, blocks } => {
                Some(blocks[..usize::from(count)].to_vec())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sack,
        [vec![(5000, 5001)]],
        "D-SACK of the duplicate SYN, as Linux"
    );
    // A SYN-ACK not acknowledging our SYN is not taken for one.
    let mut u = Tcb::connect(&Profile::linux(), l, r, 1000, 0);
    drain(&mut u, now);
    u.on_segment(now, &seg(5000, 0, TcpFlags::SYN, 65535, opts(200, 0)), &[]);
    drain(&mut u, now);
    u.on_segment(
        later,
        &seg(
            5000,
            999,
            TcpFlags::SYN | TcpFlags::ACK,
            65535,
            opts(210, 0),
        ),
        &[],
    );
    assert_eq!(u.state, TcpState::SynReceived);
}

#[test]
fn segments_are_bounded_by_half_the_peer_window() {
    let (l, r) = ends();
    let p = Profile::linux();
    let mut t = Tcb::connect(&p, l, r, 1000, 0);
    let now = Instant::ZERO;
    drain(&mut t, now);
    // A SYN-ACK offering 2000 bytes: 1000-byte segments (Linux tcp_bound_to_half_wnd).
    let synack = seg(
        5000,
        1001,
        TcpFlags::SYN | TcpFlags::ACK,
        2000,
        syn_options(1460, false, None, None),
    );
    t.on_segment(now, &synack, &[]);
    drain(&mut t, now);
    assert_eq!(t.state, TcpState::Established);
    assert_eq!(t.send(&[7u8; 3000]), 3000);
    let out = drain(&mut t, now);
    let lens: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
    assert_eq!(lens, [1000, 1000]);
}

#[test]
fn user_mss_caps_the_advertised_mss_and_rounds_the_window() {
    let (l, r) = ends();
    let p = Profile::linux();
    let mut t = Tcb::connect(&p, l, r, 1000, 0);
    t.set_user_mss(1000);
    let syn = drain(&mut t, Instant::ZERO);
    assert_eq!(syn[0].repr.options.mss(), Some(1000));
    assert_eq!(syn[0].repr.window_len, 65000, "65536 rounded down to 1000s");
    // Passive: the SYN-ACK carries it too, and the send MSS follows it.
    let peer_syn = seg(
        5000,
        0,
        TcpFlags::SYN,
        65535,
        syn_options(1460, true, Some((1, 0)), Some(7)),
    );
    let mut s = Tcb::accept(&p, l, r, &peer_syn, 9000, 0);
    s.set_user_mss(1000);
    let synack = drain(&mut s, Instant::ZERO);
    assert_eq!(synack[0].repr.options.mss(), Some(1000));
    assert_eq!(s.mss(), 988, "min(1460, 1000) less 12 bytes of timestamps");
}

#[test]
fn a_syn_ack_does_not_complete_a_passive_open() {
    let (l, r) = ends();
    let opts = syn_options(1460, true, Some((200, 0)), Some(7));
    let syn = seg(5000, 0, TcpFlags::SYN, 65535, opts);
    let mut s = Tcb::accept(&Profile::linux(), l, r, &syn, 9000, 0);
    drain(&mut s, Instant::ZERO);
    let synack = seg(5000, 9001, TcpFlags::SYN | TcpFlags::ACK, 65535, opts);
    let t = Instant::from_millis(10);
    s.on_segment(t, &synack, &[]);
    // Linux tcp_check_req: the segment (SEQ = IRS, its SYN before RCV.NXT)
    // is not in the window: answered by an ACK, the request stays.
    assert_eq!(s.state, TcpState::SynReceived);
    let out = drain(&mut s, t);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].repr.flags, TcpFlags::ACK);
    assert_eq!(
        (out[0].repr.seq_number, out[0].repr.ack_number),
        (9001, 5001)
    );
}

/// A crossed SYN offering only its MSS: Linux's SYN-ACK repeats our SYN's
/// options and keeps our window scale (`Profile::simultaneous_open_syn_options`,
/// measured on 6.18: `win 502` after the handshake); RFC 7323 2.2 and 3.2
/// allow neither, and the RFC profile mirrors the peer.
#[test]
fn simultaneous_open_syn_ack_options_linux_repeats_the_syn_rfc_mirrors_the_peer() {
    let (l, r) = ends();
    for (profile, full) in [(Profile::linux(), true), (Profile::rfc(), false)] {
        let mut t = Tcb::connect(&profile, l, r, 1000, 0);
        drain(&mut t, Instant::ZERO);
        let mss_only = syn_options(1460, false, None, None);
        let at = Instant::from_millis(2);
        t.on_segment(at, &seg(5000, 0, TcpFlags::SYN, 65535, mss_only), &[]);
        let synack = drain(&mut t, at);
        assert_eq!(synack.len(), 1);
        let o = &synack[0].repr.options;
        let ws = Some(profile.window_scale);
        assert_eq!(
            (
                o.sack_permitted(),
                o.timestamps().map(|(_, ecr)| ecr),
                o.window_scale()
            ),
            if full {
                (true, Some(0), ws)
            } else {
                (false, None, None)
            },
            "{profile:?}"
        );
        let later = Instant::from_millis(10);
        let peer = seg(5000, 1001, TcpFlags::SYN | TcpFlags::ACK, 65535, mss_only);
        t.on_segment(later, &peer, &[]);
        assert_eq!(t.state, TcpState::Established);
        let ack = drain(&mut t, later);
        assert_eq!(ack.len(), 1);
        assert!(ack[0].repr.options.timestamps().is_none(), "no TS in use");
        let win = u32::from(ack[0].repr.window_len);
        if full {
            // 64,256 (a multiple of 128 at least as large as the SYN-ACK's
            // 64,240) >> 7.
            assert_eq!(win, 502);
        } else {
            assert!(win > 60_000, "unscaled: {win}");
        }
    }
}

#[test]
fn simultaneous_open_syn_ack_retransmits_on_the_syn_timer_then_times_out() {
    let (l, r) = ends();
    let mut t = Tcb::connect(&Profile::linux(), l, r, 1000, 0);
    t.set_syn_retries(Some(1));
    drain(&mut t, Instant::ZERO);
    let at = Instant::from_millis(10);
    let opts = syn_options(1460, true, Some((200, 0)), Some(7));
    t.on_segment(at, &seg(5000, 0, TcpFlags::SYN, 65535, opts), &[]);
    assert_eq!(drain(&mut t, at).len(), 1);
    // Linux keeps the SYN's timer: the SYN-ACK goes again 1 s after the SYN,
    // then the doubled timeout ends the attempt with ETIMEDOUT (measured: by
    // 3.5 s with TCP_SYNCNT 1).
    assert_eq!(t.poll_at(), Some(Instant::from_secs(1)));
    t.on_timer(Instant::from_secs(1));
    let again = drain(&mut t, Instant::from_secs(1));
    assert_eq!(again[0].repr.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(t.poll_at(), Some(Instant::from_secs(3)));
    t.on_timer(Instant::from_secs(3));
    assert_eq!(
        (t.state, t.error),
        (TcpState::Closed, Some(TcpError::TimedOut))
    );
}
