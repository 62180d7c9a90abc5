//! The case generator: a connection prefix and a sequence of stimuli, drawn
//! deterministically from a `u64` seed, rendered as a record-mode script.
//!
//! Stimuli are kept *relative* (sequence offsets from the testbench's next
//! sequence number, ack offsets from the DUT's modelled SND.NXT, payload
//! sizes), and the absolute numbers are computed when the case is rendered:
//! dropping a stimulus while shrinking keeps the rest meaningful, as
//! packetdrill's relative numbering does.

use std::fmt::Write as _;

/// A small deterministic generator (SplitMix64): the same seed gives the
/// same case on every machine, which is all the fuzzer needs of it.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// One of `items`, chosen with the given weights.
    pub fn weighted<T: Copy>(&mut self, items: &[(u32, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (w, t) in items {
            if r < u64::from(*w) {
                return *t;
            }
            r -= u64::from(*w);
        }
        items[items.len() - 1].1
    }
}

/// How the connection is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// socket/bind/listen, inbound SYN, the DUT's SYN-ACK, inbound ACK, accept.
    Passive,
    /// Non-blocking connect, the DUT's SYN, inbound SYN-ACK.
    Active,
}

/// The testbench's handshake options and window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    /// Passive or active open.
    pub open: Open,
    /// MSS option, if any.
    pub mss: Option<u16>,
    /// Window scale option, if any.
    pub wscale: Option<u8>,
    /// SACK permitted.
    pub sack_ok: bool,
    /// Timestamps.
    pub ts: bool,
    /// The testbench's (unscaled) window field in the handshake.
    pub win: u16,
    /// Socket options the application sets on its first socket (the
    /// listener, whose connections inherit them, or the connecting
    /// socket) before the handshake.
    pub sockopts: SockOpts,
}

/// Socket options set before the handshake: they change the window
/// offered and its scale (SO_RCVBUF), how much a write takes (SO_SNDBUF)
/// and the MSS advertised and used (TCP_MAXSEG), so the receive- and
/// send-memory models and the MSS clamp meet Linux under other sizes than
/// the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SockOpts {
    /// `setsockopt(SOL_SOCKET, SO_RCVBUF)`'s value.
    pub rcvbuf: Option<u32>,
    /// `setsockopt(SOL_SOCKET, SO_SNDBUF)`'s value.
    pub sndbuf: Option<u32>,
    /// `setsockopt(IPPROTO_TCP, TCP_MAXSEG)`'s value.
    pub maxseg: Option<u16>,
}

impl SockOpts {
    /// The `setsockopt` lines for socket `fd`, in a fixed order.
    fn calls(&self, fd: u32) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(v) = self.rcvbuf {
            out.push(format!(
                "setsockopt({fd}, SOL_SOCKET, SO_RCVBUF, [{v}], 4) = 0"
            ));
        }
        if let Some(v) = self.sndbuf {
            out.push(format!(
                "setsockopt({fd}, SOL_SOCKET, SO_SNDBUF, [{v}], 4) = 0"
            ));
        }
        if let Some(v) = self.maxseg {
            out.push(format!(
                "setsockopt({fd}, IPPROTO_TCP, TCP_MAXSEG, [{v}], 4) = 0"
            ));
        }
        out
    }

    /// The same options with one of them left out, for the shrinker.
    pub fn without_each(&self) -> Vec<SockOpts> {
        let o = self.clone();
        [
            SockOpts {
                rcvbuf: None,
                ..o.clone()
            },
            SockOpts {
                sndbuf: None,
                ..o.clone()
            },
            SockOpts { maxseg: None, ..o },
        ]
        .into_iter()
        .filter(|c| c != self)
        .collect()
    }
}

/// One inbound segment, relative to the modelled connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    /// TCP flag bits.
    pub flags: u8,
    /// Sequence number minus the testbench's next sequence number.
    pub seq_off: i64,
    /// Ack number minus the DUT's modelled SND.NXT.
    pub ack_off: i64,
    /// Payload length.
    pub len: u32,
    /// Window field.
    pub win: u16,
    /// Carry the timestamps option (when negotiated; one without it is a
    /// stimulus of its own, RFC 7323 3.2).
    pub ts: bool,
    /// One SACK block, as offsets (start, end) from the DUT's SND.UNA model.
    pub sack: Option<(i64, i64)>,
}

/// One stimulus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stim {
    /// An inbound segment.
    Seg(Seg),
    /// `write(fd, ..., N)`.
    Write(u32),
    /// `read(fd, ..., N)`.
    Read(u32),
    /// `shutdown(fd, SHUT_WR)`.
    ShutWr,
    /// `shutdown(fd, SHUT_RD)`.
    ShutRd,
    /// `close(fd)`.
    Close,
    /// `setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, [v], 4)`.
    NoDelay(bool),
    /// `getsockopt(fd, SOL_SOCKET, SO_ERROR, ...)`.
    SoError,
}

/// A stimulus and the time before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Milliseconds since the previous line.
    pub gap_ms: u32,
    /// What happens.
    pub stim: Stim,
}

/// A whole case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The connection's opening.
    pub prefix: Prefix,
    /// The stimuli after the handshake.
    pub steps: Vec<Step>,
}

/// Inter-stimulus gaps (ms). At least 10 ms, so that what a DUT sends in
/// answer to a stimulus (Linux's delayed ACK of a FIN, 0.4–8 ms at HZ=250)
/// falls before the next one on both DUTs; none long enough to wait out
/// retransmission timers (Linux's minimum RTO is 200 ms) in most cases.
const GAPS: &[(u32, u32)] = &[(5, 10), (3, 20), (2, 60), (1, 250)];

/// Flag sets of inbound segments, weighted towards the ordinary ones.
const FLAGS: &[(u32, u8)] = &[
    (20, 0x10), // .
    (20, 0x18), // P.
    (6, 0x11),  // F.
    (3, 0x19),  // FP.
    (4, 0x04),  // R
    (3, 0x14),  // R.
    (3, 0x02),  // S
    (2, 0x12),  // S.
    (1, 0x01),  // F
    (1, 0x08),  // P
    (1, 0x16),  // SR.
    (1, 0x03),  // SF
    (1, 0x30),  // U.
];

/// Draws a case of `steps` stimuli from `seed`.
pub fn generate(seed: u64, steps: usize) -> Case {
    let mut r = Rng::new(seed);
    let open = if r.chance(70) {
        Open::Passive
    } else {
        Open::Active
    };
    let mut prefix = Prefix {
        open,
        mss: r.chance(85).then(|| {
            r.weighted(&[
                (6, 1460u16),
                (2, 536),
                (1, 1000),
                (1, 100),
                (1, 48),
                (1, 9000),
            ])
        }),
        wscale: r
            .chance(75)
            .then(|| r.weighted(&[(4, 7u8), (2, 0), (1, 2), (1, 14)])),
        sack_ok: r.chance(70),
        ts: r.chance(70),
        win: r.weighted(&[(6, 65535u16), (1, 1000), (1, 0), (1, 2920)]),
        sockopts: SockOpts::default(),
    };
    let n = 1 + r.below(steps.max(1) as u64) as usize;
    let steps = (0..n).map(|_| gen_step(&mut r)).collect();
    // Drawn after the steps, so that the draws before them (and a seed's
    // cases as far as they went without socket options) stay as they were.
    prefix.sockopts = SockOpts {
        rcvbuf: r
            .chance(12)
            .then(|| r.weighted(&[(2, 4096u32), (1, 1024), (2, 16_384), (1, 65_536)])),
        sndbuf: r
            .chance(12)
            .then(|| r.weighted(&[(2, 4096u32), (1, 2048), (2, 16_384), (1, 65_536)])),
        maxseg: r
            .chance(8)
            .then(|| r.weighted(&[(2, 536u16), (2, 1000), (1, 88)])),
    };
    Case {
        seed,
        prefix,
        steps,
    }
}

fn gen_offset(r: &mut Rng, small: i64) -> i64 {
    match r.below(10) {
        0..=5 => 0,
        6 => -(1 + r.below(small.max(1) as u64) as i64),
        7 => 1 + r.below(small.max(1) as u64) as i64,
        8 => r.weighted(&[(1, 65_535i64), (1, -65_535), (1, 1 << 20), (1, -(1 << 20))]),
        _ => r.weighted(&[(1, 1i64 << 31), (1, -(1i64 << 31) + 1), (1, 100_000)]),
    }
}

fn gen_step(r: &mut Rng) -> Step {
    let gap_ms = r.weighted(GAPS);
    let stim = match r.below(100) {
        0..=54 => {
            let flags = r.weighted(FLAGS);
            let len = match r.below(10) {
                0..=3 => 0,
                4..=6 => 1 + r.below(200) as u32,
                7 => 1 + r.below(1460) as u32,
                8 => 1460,
                _ => 1448,
            };
            Stim::Seg(Seg {
                flags,
                seq_off: gen_offset(r, 2000),
                ack_off: gen_offset(r, 2000),
                len,
                win: r.weighted(&[(8, 502u16), (1, 0), (1, 65535), (1, 1)]),
                ts: r.chance(90),
                sack: r.chance(10).then(|| {
                    let a = r.below(3000) as i64;
                    (a, a + 1 + r.below(1500) as i64)
                }),
            })
        }
        55..=74 => {
            Stim::Write(r.weighted(&[(4, 100u32), (2, 1), (2, 1460), (2, 3000), (1, 20_000)]))
        }
        75..=83 => Stim::Read(r.weighted(&[(3, 1000u32), (1, 1), (1, 100_000)])),
        84..=86 => Stim::ShutWr,
        87 => Stim::ShutRd,
        88..=91 => Stim::Close,
        92..=94 => Stim::NoDelay(r.chance(70)),
        _ => Stim::SoError,
    };
    Step { gap_ms, stim }
}

/// The model the absolute numbers are computed from: what a conforming
/// peer would have seen, not what either DUT did (both get the same bytes).
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The testbench's next sequence number (its ISN is 0).
    pub tb_nxt: u32,
    /// The DUT's modelled SND.NXT, relative to its ISN.
    pub dut_nxt: u32,
    /// The testbench's TS val clock (ms).
    pub ts_val: u32,
    /// The testbench sent a FIN in sequence.
    pub fin_in: bool,
    /// The application shut down or closed its side.
    pub fin_out: bool,
    /// The application closed the socket.
    pub closed: bool,
    /// The testbench sent an in-sequence RST.
    pub reset: bool,
}

impl Model {
    /// A coarse name of the connection's state at this point, for
    /// signatures: the same bug in the same state is reported once.
    pub fn state(&self) -> &'static str {
        match (self.reset, self.closed, self.fin_in, self.fin_out) {
            (true, _, _, _) => "reset",
            (_, true, true, _) => "closed-finin",
            (_, true, false, _) => "closed",
            (_, _, true, true) => "finin-finout",
            (_, _, true, false) => "finin",
            (_, _, false, true) => "finout",
            _ => "est",
        }
    }
}

/// The script fd of the connection.
pub fn conn_fd(p: &Prefix) -> u32 {
    match p.open {
        Open::Passive => 4,
        Open::Active => 3,
    }
}

/// Flag letters in script order.
pub fn flags_text(flags: u8) -> String {
    crate::run::flag_letters(flags)
}

/// A short name of a stimulus, for signatures (`seg-F.`, `close`).
pub fn stim_kind(s: &Stim) -> String {
    match s {
        Stim::Seg(g) => {
            let f = flags_text(g.flags);
            let f = if f.is_empty() { "none".into() } else { f };
            let pos = if g.seq_off == 0 { "" } else { "-oow" };
            format!("seg-{}{pos}", f.replace('.', "A"))
        }
        Stim::Write(_) => "write".into(),
        Stim::Read(_) => "read".into(),
        Stim::ShutWr => "shutwr".into(),
        Stim::ShutRd => "shutrd".into(),
        Stim::Close => "close".into(),
        Stim::NoDelay(_) => "nodelay".into(),
        Stim::SoError => "soerror".into(),
    }
}

/// Whether `g`, sent with the model at `m`, is an in-sequence segment with
/// only ACK (and PSH) whose ACK lies before the DUT's ISN + 1. Such an ACK
/// is older than SND.UNA − MAX.SND.WND for any SND.UNA (Linux bounds
/// MAX.SND.WND by the bytes acknowledged, so the bound is never below
/// ISN + 1): RFC 5961 5.2 discards the segment and sends an ACK, while
/// Linux's header prediction (tcp_rcv_established) may queue its data, or
/// record its TSval, before tcp_ack rejects the ACK, whenever
/// `!after(ack, snd_nxt)` holds, i.e. while the DUT's SND.NXT is less than
/// 2^31 past the ACK. The model counts every written byte as sent (its
/// `dut_nxt` is an upper bound: data may still wait for the window or
/// cwnd), so it cannot tell whether the real SND.NXT is that far; the tag
/// then covers every such ACK, as the ACK is before ISN + 1 and SND.NXT
/// is at least ISN + 1. (The earlier rule also required the
/// modelled distance to stay below 2^31, and `est.seg-PA.missing-A`, case
/// seed 121109, escaped it: 20,000 bytes written, 5,360 sent.)
pub fn old_ack(g: &Seg, m: &Model) -> bool {
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    if g.flags & ACK == 0 || g.flags & !(ACK | PSH) != 0 || g.seq_off != 0 {
        return false;
    }
    let ack = (i64::from(m.dut_nxt) + g.ack_off) as u32;
    let behind_isn1 = 1u32.wrapping_sub(ack);
    (behind_isn1 as i32) > 0
}

/// One rendered line of a case and what kind of line it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Absolute script time in µs.
    pub at: i64,
    /// The line without its time.
    pub text: String,
    /// Index of the step it renders, `None` for the prefix.
    pub step: Option<usize>,
    /// Inbound segment: its TS ecr is the DUT's latest TS val (rewritten
    /// when the case is written as a replayable script).
    pub ts_ecr: bool,
    /// A call: its result is rewritten from the recorded one.
    pub call: bool,
    /// The model state before this line (for signatures).
    pub state: &'static str,
    /// An in-sequence segment with only ACK (and PSH) whose ACK is older
    /// than anything the DUT has sent (before its ISN + 1, so below
    /// SND.UNA − MAX.SND.WND however much was acknowledged): RFC 5961 5.2
    /// drops it, Linux's header prediction may take it (see [`old_ack`]).
    pub old_ack: bool,
}

fn ts_opt(m: &Model) -> String {
    // ecr 1: "echo the DUT's latest TS val" (record mode maps any nonzero
    // ecr onto it; the writer puts the recorded value back).
    format!("TS val {} ecr 1", m.ts_val)
}

/// The case's lines, in order, with absolute times.
pub fn render_lines(case: &Case) -> Vec<Line> {
    let p = &case.prefix;
    let mut m = Model {
        tb_nxt: 1,
        dut_nxt: 1,
        ts_val: 100,
        ..Model::default()
    };
    let mut out = Vec::new();
    let mut at: i64 = 0;
    let push = |out: &mut Vec<Line>, at: i64, text: String, step, ts_ecr, call, state| {
        out.push(Line {
            at,
            text,
            step,
            ts_ecr,
            call,
            state,
            old_ack: false,
        })
    };
    // A call of the connection's opening (est state, no step).
    let call = |out: &mut Vec<Line>, at: i64, text: &str| {
        push(out, at, text.into(), None, false, true, "est")
    };
    let mut syn_opts = Vec::new();
    if let Some(v) = p.mss {
        syn_opts.push(format!("mss {v}"));
    }
    if p.sack_ok {
        syn_opts.push("sackOK".into());
    }
    if p.ts {
        // In a SYN the ecr is 0; in the SYN-ACK of an active open it echoes.
        syn_opts.push(match p.open {
            Open::Passive => format!("TS val {} ecr 0", m.ts_val),
            Open::Active => ts_opt(&m),
        });
    }
    if let Some(w) = p.wscale {
        syn_opts.push("nop".into());
        syn_opts.push(format!("wscale {w}"));
    }
    let syn_opts = if syn_opts.is_empty() {
        String::new()
    } else {
        format!(" <{}>", syn_opts.join(","))
    };
    let fd = conn_fd(p);
    match p.open {
        Open::Passive => {
            call(&mut out, 0, "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
            call(
                &mut out,
                0,
                "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
            );
            for c in p.sockopts.calls(3) {
                call(&mut out, 0, &c);
            }
            call(&mut out, 0, "bind(3, ..., ...) = 0");
            call(&mut out, 0, "listen(3, 1) = 0");
            push(
                &mut out,
                0,
                format!("< S 0:0(0) win {}{syn_opts}", p.win),
                None,
                false,
                false,
                "est",
            );
            at += 10_000;
            m.ts_val += 10;
            let ts = if p.ts {
                format!(" <nop,nop,{}>", ts_opt(&m))
            } else {
                String::new()
            };
            push(
                &mut out,
                at,
                format!("< . 1:1(0) ack 1 win {}{ts}", p.win),
                None,
                p.ts,
                false,
                "est",
            );
            // accept a little later: a blocking accept still pending would
            // make the fcntl that follows "a call while another is pending".
            at += 5_000;
            m.ts_val += 5;
            call(&mut out, at, "accept(3, ..., ...) = 4");
            call(&mut out, at, "fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        }
        Open::Active => {
            call(&mut out, 0, "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
            for c in p.sockopts.calls(3) {
                call(&mut out, 0, &c);
            }
            call(&mut out, 0, "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
            call(&mut out, 0, "connect(3, ..., ...) = -1 EINPROGRESS");
            at += 10_000;
            m.ts_val += 10;
            push(
                &mut out,
                at,
                format!("< S. 0:0(0) ack 1 win {}{syn_opts}", p.win),
                None,
                p.ts,
                false,
                "est",
            );
        }
    }
    for (i, st) in case.steps.iter().enumerate() {
        at += i64::from(st.gap_ms) * 1000;
        m.ts_val = m.ts_val.wrapping_add(st.gap_ms);
        let state = m.state();
        // No call on a closed fd: the Linux DUT's fds are the harness
        // process's, and the number may already name another job's socket.
        if m.closed && !matches!(st.stim, Stim::Seg(_)) {
            continue;
        }
        match &st.stim {
            Stim::Seg(g) => {
                let with_ts = p.ts && g.ts;
                // The frame fits the veth's 1500-byte MTU: 40 bytes of
                // headers and the options (TS 12, SACK block 12 with NOPs).
                let opt_len = 12 * u32::from(with_ts) + 12 * u32::from(g.sack.is_some());
                let len = g.len.min(1460 - opt_len);
                let seq = (i64::from(m.tb_nxt) + g.seq_off) as u32;
                let end = seq.wrapping_add(len);
                let mut text = format!("< {} {seq}:{end}({len})", flags_text(g.flags));
                if g.flags & 0x10 != 0 {
                    let ack = (i64::from(m.dut_nxt) + g.ack_off) as u32;
                    let _ = write!(text, " ack {ack}");
                }
                let _ = write!(text, " win {}", g.win);
                if g.flags & 0x20 != 0 {
                    text.push_str(" urg 1");
                }
                let mut opts = Vec::new();
                if with_ts {
                    opts.push("nop".to_string());
                    opts.push("nop".to_string());
                    opts.push(ts_opt(&m));
                }
                if let Some((a, b)) = g.sack {
                    let a = (1 + a) as u32;
                    let b = (1 + b) as u32;
                    opts.push("nop".to_string());
                    opts.push("nop".to_string());
                    opts.push(format!("sack {a}:{b}"));
                }
                if !opts.is_empty() {
                    let _ = write!(text, " <{}>", opts.join(","));
                }
                push(&mut out, at, text, Some(i), with_ts, false, state);
                if let Some(l) = out.last_mut() {
                    l.old_ack = old_ack(g, &m);
                }
                if g.seq_off == 0 {
                    if g.flags & 0x04 != 0 {
                        m.reset = true;
                    }
                    if g.flags & 0x02 == 0 {
                        m.tb_nxt = m.tb_nxt.wrapping_add(len);
                        if g.flags & 0x01 != 0 && !m.fin_in {
                            m.fin_in = true;
                            m.tb_nxt = m.tb_nxt.wrapping_add(1);
                        }
                    }
                }
            }
            Stim::Write(n) => {
                push(
                    &mut out,
                    at,
                    format!("write({fd}, ..., {n}) = {n}"),
                    Some(i),
                    false,
                    true,
                    state,
                );
                if !m.fin_out {
                    m.dut_nxt = m.dut_nxt.wrapping_add(*n);
                }
            }
            Stim::Read(n) => {
                push(
                    &mut out,
                    at,
                    format!("read({fd}, ..., {n}) = {n}"),
                    Some(i),
                    false,
                    true,
                    state,
                );
            }
            Stim::ShutWr | Stim::Close => {
                let text = if st.stim == Stim::Close {
                    m.closed = true;
                    format!("close({fd}) = 0")
                } else {
                    format!("shutdown({fd}, SHUT_WR) = 0")
                };
                push(&mut out, at, text, Some(i), false, true, state);
                if !m.fin_out {
                    m.fin_out = true;
                    m.dut_nxt = m.dut_nxt.wrapping_add(1);
                }
            }
            Stim::ShutRd => {
                push(
                    &mut out,
                    at,
                    format!("shutdown({fd}, SHUT_RD) = 0"),
                    Some(i),
                    false,
                    true,
                    state,
                );
            }
            Stim::NoDelay(on) => {
                let v = u8::from(*on);
                push(
                    &mut out,
                    at,
                    format!("setsockopt({fd}, IPPROTO_TCP, TCP_NODELAY, [{v}], 4) = 0"),
                    Some(i),
                    false,
                    true,
                    state,
                );
            }
            Stim::SoError => {
                push(
                    &mut out,
                    at,
                    format!("getsockopt({fd}, SOL_SOCKET, SO_ERROR, [0], [4]) = 0"),
                    Some(i),
                    false,
                    true,
                    state,
                );
            }
        }
    }
    out
}

/// The case as a record-mode script.
pub fn render(case: &Case) -> String {
    let mut s = String::new();
    for l in render_lines(case) {
        let _ = writeln!(s, "{:.6} {}", l.at as f64 / 1e6, l.text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_case() {
        for seed in 0..50 {
            assert_eq!(generate(seed, 12), generate(seed, 12));
            assert_eq!(render(&generate(seed, 12)), render(&generate(seed, 12)));
        }
        // Some cases set socket options before the handshake.
        let with_opts = (0..300)
            .filter(|&s| generate(s, 12).prefix.sockopts != SockOpts::default())
            .count();
        assert!((30..150).contains(&with_opts), "{with_opts} of 300");
        // And different seeds give different cases (not one constant case).
        let distinct: std::collections::HashSet<String> =
            (0..50).map(|s| render(&generate(s, 12))).collect();
        assert!(distinct.len() > 45, "{} distinct cases", distinct.len());
    }

    #[test]
    fn every_generated_case_parses() {
        for seed in 0..300 {
            let text = render(&generate(seed, 16));
            let script = match crate::script::parse("gen", &text) {
                Ok(s) => s,
                Err(e) => panic!("seed {seed}: {e}\n{text}"),
            };
            // Every inbound segment fits the 1500-byte MTU.
            use crate::script::{EventKind, PacketSpec, TcpOptionSpec, TcpOptionsSpec};
            for ev in &script.events {
                let EventKind::Packet(p) = &ev.kind else {
                    continue;
                };
                let PacketSpec::Tcp(t) = &p.packet else {
                    continue;
                };
                let opts: u32 = match &t.options {
                    Some(TcpOptionsSpec::List(l)) => l
                        .iter()
                        .map(|o| match o {
                            TcpOptionSpec::Nop | TcpOptionSpec::Eol => 1,
                            TcpOptionSpec::Mss(_) => 4,
                            TcpOptionSpec::WScale(_) => 3,
                            TcpOptionSpec::SackOk => 2,
                            TcpOptionSpec::Sack(b) => 2 + 8 * b.len() as u32,
                            TcpOptionSpec::Timestamp { .. } => 10,
                        })
                        .sum(),
                    _ => 0,
                };
                assert!(40 + opts + t.len <= 1500, "seed {seed}: {}", ev.text);
            }
        }
    }

    #[test]
    fn numbers_are_relative_to_the_model() {
        let case = Case {
            seed: 0,
            prefix: Prefix {
                open: Open::Passive,
                mss: Some(1460),
                wscale: None,
                sack_ok: false,
                ts: false,
                win: 65535,
                sockopts: SockOpts::default(),
            },
            steps: vec![
                Step {
                    gap_ms: 10,
                    stim: Stim::Write(100),
                },
                Step {
                    gap_ms: 10,
                    stim: Stim::Seg(Seg {
                        flags: 0x18,
                        seq_off: 0,
                        ack_off: 0,
                        len: 50,
                        win: 502,
                        ts: true,
                        sack: None,
                    }),
                },
                Step {
                    gap_ms: 10,
                    stim: Stim::Seg(Seg {
                        flags: 0x11,
                        seq_off: 0,
                        ack_off: -1,
                        len: 0,
                        win: 502,
                        ts: true,
                        sack: None,
                    }),
                },
            ],
        };
        let lines = render_lines(&case);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert!(
            texts.contains(&"< P. 1:51(50) ack 101 win 502"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"< F. 51:51(0) ack 100 win 502"),
            "{texts:?}"
        );
        assert_eq!(lines.last().map(|l| l.state), Some("est"));
    }
}
