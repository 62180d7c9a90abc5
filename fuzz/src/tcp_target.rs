//! `tcp_input`: one DUT [`Host`] driven by a deterministic scripted peer into
//! a chosen RFC 9293 state, then fed a bounded list of fuzzed steps (peer
//! segments, user calls, clock steps), with invariants checked after every
//! step (and at every timer deadline inside a clock step).
//!
//! # Input layout
//! The bytes are read as [`arbitrary::Unstructured`] reads them, only as
//! little-endian `u8`/`u16`/`u32` (missing bytes read as zero), so that a
//! structured input can be written back to bytes by [`Seed`] (used to
//! generate the committed corpus):
//!
//! * header: `target` (u8: low nibble % 10 indexes [`TARGETS`]; 0x80 =
//!   active open, 0x40 = reach the closing states with close() rather than
//!   shutdown(SHUT_WR)), `opts` (u8: 0x01 MSS, 0x02 window scale, 0x04
//!   SACK-permitted, 0x08 timestamps, high nibble = the shift), `mss` (u16),
//!   `window` (u16), `peer_iss` (u32);
//! * then up to [`MAX_STEPS`] steps, each a kind byte (% 8: 0–3 segment,
//!   4–5 user call, 6–7 clock step) and its fields:
//!   - segment: flags (u8, all 8 bits), seq offset and ack offset ([`Off`]:
//!     byte < 0x80 → offset byte − 0x40; < 0xC0 → an i16 offset follows;
//!     else an absolute u32 follows) relative to the live connection's
//!     RCV.NXT / SND.NXT (the peer's own counters when there is none),
//!     window (u16), payload length (u16 % 3001), options byte (0x01 TS,
//!     then an i8 TSval jitter; bits 1–2 = number of SACK blocks, each a u16
//!     left offset from SND.UNA and a u16 length);
//!   - user call: u8 % 6 = send (u16 % 10001 bytes follow), recv, shutdown
//!     (SHUT_WR), close, SO_LINGER 0, accept;
//!   - clock: u8 t: t < 128 → 10·t ms; t < 224 → 500·(t − 128) ms; else
//!     130 s · (t − 224) / 31.
//!
//! # Invariants (a broken one panics with `tcp_input invariant: ...`)
//! Besides the ones in `fuzz/src/lib.rs`: cwnd ≥ 1 SMSS, ssthresh ≥ 2
//! SMSS once set, the SACK scoreboard bounded and inside SND.UNA..SND.MAX,
//! the send-memory model consistent (`Tcb::check_send_mem`).
//! See the report in `fuzz/src/lib.rs` ([`crate::tcp_input`]) and
//! [`EDGES`] for the state-transition table.

use core::net::{Ipv4Addr, SocketAddrV4};
use stack::tcp::{SeqNumber, Tcb};
use stack::wire::{
    EtherType, EthernetAddress, EthernetRepr, FramePayload, FrameRepr, IpPayload, IpProtocol,
    Ipv4Repr, TcpFlags, TcpOption, TcpOptions, TcpRepr,
};
use stack::{Duration, Fd, Host, HostConfig, Instant, Profile, Shutdown, SockOpt, SocketType};
use stack::{Errno, TcpState};
use std::sync::OnceLock;

/// Steps after the setup, at most.
pub const MAX_STEPS: usize = 64;

const DUT_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const DUT_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const DUT_PORT: u16 = 8080;
const PEER_PORT: u16 = 40000;
/// The listener's backlog.
const BACKLOG: i32 = 8;
/// The peer's initial TSval.
const PEER_TS0: u32 = 1_000_000;
/// The bytes of every peer segment (a payload is at most 3000 bytes) and of
/// every send() (at most 10000), shared instead of allocated per step.
static PEER_DATA: [u8; 3000] = [0x5a; 3000];
static USER_DATA: [u8; 10_000] = [0xa5; 10_000];

/// The target states, indexed by the low nibble of the first byte (% 10).
pub const TARGETS: [TcpState; 10] = [
    TcpState::Listen,
    TcpState::SynSent,
    TcpState::SynReceived,
    TcpState::Established,
    TcpState::FinWait1,
    TcpState::FinWait2,
    TcpState::CloseWait,
    TcpState::Closing,
    TcpState::LastAck,
    TcpState::TimeWait,
];

// ------------------------------------------------------------------ input

/// A sequence/ack offset.
#[derive(Debug, Clone, Copy)]
enum Off {
    Rel(i32),
    Abs(u32),
}

impl Off {
    fn apply(self, base: u32) -> u32 {
        match self {
            Off::Rel(d) => base.wrapping_add(d as u32),
            Off::Abs(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SegStep {
    flags: u8,
    seq: Off,
    ack: Off,
    window: u16,
    len: usize,
    ts: Option<i8>,
    /// `sack[..nsack]`: the SACK blocks (at most 3), inline so that a step
    /// is copied without allocating.
    sack: [(u16, u16); 3],
    nsack: u8,
}

#[derive(Debug, Clone, Copy)]
enum UserCall {
    Send(usize),
    Recv,
    ShutdownWrite,
    Close,
    LingerZero,
    Accept,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Segment(SegStep),
    User(UserCall),
    Clock(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Setup {
    target: TcpState,
    active: bool,
    orphan: bool,
    mss: Option<u16>,
    wscale: Option<u8>,
    sack: bool,
    ts: bool,
    window: u16,
    peer_iss: u32,
}

/// Reads the input front to back as `arbitrary::Unstructured` reads
/// integers (little-endian, missing bytes as zeros), without its generic
/// machinery: decoding was 3 % of a short input's instructions.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        let n = N.min(self.0.len());
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        b
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn u8(&mut self) -> u8 {
        u8::from_le_bytes(self.bytes())
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    fn off(&mut self) -> Off {
        let m = self.u8();
        if m < 0x80 {
            Off::Rel(i32::from(m) - 0x40)
        } else if m < 0xC0 {
            Off::Rel(i32::from(self.u16() as i16))
        } else {
            Off::Abs(self.u32())
        }
    }
}

fn decode(data: &[u8]) -> (Setup, Vec<Step>) {
    let mut r = Reader(data);
    let b0 = r.u8();
    let o = r.u8();
    let mss = r.u16();
    let window = r.u16();
    let peer_iss = r.u32();
    let target = TARGETS[usize::from(b0 & 0x0f) % TARGETS.len()];
    let setup = Setup {
        target,
        // SYN-SENT is only reached by an active open.
        active: b0 & 0x80 != 0 || target == SynSent,
        orphan: b0 & 0x40 != 0,
        mss: (o & 1 != 0).then_some(mss),
        wscale: (o & 2 != 0).then_some(o >> 4),
        sack: o & 4 != 0,
        ts: o & 8 != 0,
        // Our FIN waits for room in the peer's window (Linux
        // tcp_snd_wnd_test), so the states after it is sent are set up
        // with a window of at least one octet.
        window: if matches!(target, Fw2 | Closing | TimeWait | LastAck) {
            window.max(1)
        } else {
            window
        },
        peer_iss,
    };
    let mut steps = Vec::new();
    while steps.len() < MAX_STEPS && !r.is_empty() {
        let k = r.u8() % 8;
        let step = match k {
            0..=3 => {
                let flags = r.u8();
                let seq = r.off();
                let ack = r.off();
                let window = r.u16();
                let len = usize::from(r.u16()) % 3001;
                let ob = r.u8();
                let ts = (ob & 1 != 0).then(|| r.u8() as i8);
                let nsack = (ob >> 1) & 3;
                let mut sack = [(0, 0); 3];
                for b in &mut sack[..usize::from(nsack)] {
                    *b = (r.u16(), r.u16());
                }
                Step::Segment(SegStep {
                    flags,
                    seq,
                    ack,
                    window,
                    len,
                    ts,
                    sack,
                    nsack,
                })
            }
            4 | 5 => Step::User(match r.u8() % 6 {
                0 => UserCall::Send(usize::from(r.u16()) % 10_001),
                1 => UserCall::Recv,
                2 => UserCall::ShutdownWrite,
                3 => UserCall::Close,
                4 => UserCall::LingerZero,
                _ => UserCall::Accept,
            }),
            _ => {
                let t = i64::from(r.u8());
                Step::Clock(if t < 128 {
                    Duration::from_millis(10 * t)
                } else if t < 224 {
                    Duration::from_millis(500 * (t - 128))
                } else {
                    Duration::from_millis(130_000 * (t - 224) / 31)
                })
            }
        };
        steps.push(step);
    }
    (setup, steps)
}

/// Writes bytes that [`decode`] reads back as the given structure (for the
/// seed corpus; see `fuzz/tests/replay.rs`).
#[derive(Debug, Clone, Default)]
pub struct Seed(pub Vec<u8>);

impl Seed {
    /// Header: `target` indexes [`TARGETS`]; `opts` is the options byte
    /// (0x01 MSS, 0x02 wscale, 0x04 SACK-permitted, 0x08 TS, high nibble the
    /// shift).
    pub fn new(target: usize, active: bool, orphan: bool, opts: u8, mss: u16, window: u16) -> Seed {
        let mut b =
            vec![target as u8 | if active { 0x80 } else { 0 } | if orphan { 0x40 } else { 0 }];
        b.push(opts);
        b.extend_from_slice(&mss.to_le_bytes());
        b.extend_from_slice(&window.to_le_bytes());
        b.extend_from_slice(&0x1234_5678u32.to_le_bytes());
        Seed(b)
    }
    /// A peer segment with small offsets (−64..=63), optionally with a TS
    /// option (jitter 0).
    pub fn seg(mut self, flags: u8, seq: i8, ack: i8, window: u16, len: u16, ts: bool) -> Seed {
        let enc = |o: i8| (i32::from(o).clamp(-64, 63) + 0x40) as u8;
        self.0.extend_from_slice(&[0, flags, enc(seq), enc(ack)]);
        self.0.extend_from_slice(&window.to_le_bytes());
        self.0.extend_from_slice(&len.to_le_bytes());
        if ts {
            self.0.extend_from_slice(&[1, 0]);
        } else {
            self.0.push(0);
        }
        self
    }
    /// A user call: 0 send(n), 1 recv, 2 shutdown(SHUT_WR), 3 close,
    /// 4 SO_LINGER 0, 5 accept.
    pub fn user(mut self, call: u8, n: u16) -> Seed {
        self.0.extend_from_slice(&[4, call]);
        if call == 0 {
            self.0.extend_from_slice(&n.to_le_bytes());
        }
        self
    }
    /// A clock step with the encoded byte (see the module docs).
    pub fn clock(mut self, t: u8) -> Seed {
        self.0.extend_from_slice(&[6, t]);
        self
    }
}

// ------------------------------------------------------------------ state edges

/// What caused a state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A segment from the peer (RFC 9293 3.10.7).
    Segment,
    /// A user call (RFC 9293 3.10.1–3.10.6).
    User,
    /// A timeout (RFC 9293 3.10.8).
    Timer,
}

use Cause::{Segment as Seg, Timer as Tmr, User as Usr};
use TcpState::{
    CloseWait, Closed, Closing, Established as Estab, FinWait1 as Fw1, FinWait2 as Fw2, LastAck,
    SynReceived as SynRcvd, SynSent, TimeWait,
};

/// The allowed state changes of one connection, with what causes them and
/// where they come from. A step may chain at most two edges of its own cause
/// (one segment can both acknowledge and carry a FIN: RFC 9293 3.10.7.4
/// processes the ACK in its fifth check and the FIN in its eighth). A
/// connection disappearing from the table counts as → CLOSED; a new one must
/// appear in SYN-SENT (user connect) or SYN-RECEIVED (a SYN to the listener).
pub const EDGES: &[(TcpState, TcpState, Cause, &str)] = &[
    // Segment arrival.
    (SynSent, SynRcvd, Seg, "Fig. 5 rcv SYN (simultaneous open); 3.10.7.3 fourth check"),
    (SynSent, Estab, Seg, "Fig. 5 rcv SYN,ACK / snd ACK; 3.10.7.3 fourth check"),
    (SynSent, Closed, Seg, "3.10.7.3 second check: RST with acceptable ACK"),
    (SynRcvd, Estab, Seg, "Fig. 5 rcv ACK of SYN; 3.10.7.4 fifth check"),
    (SynRcvd, Fw1, Seg, "3.10.4 CLOSE in SYN-RECEIVED queued until ESTABLISHED, then FIN-WAIT-1"),
    (SynRcvd, Closed, Seg, "3.10.7.4 second check: RST; fourth check: a new SYN (passive open: back to LISTEN, the child goes; Linux tcp_check_req embryonic reset)"),
    (Estab, CloseWait, Seg, "Fig. 5 rcv FIN / snd ACK; 3.10.7.4 eighth check"),
    (Estab, Closed, Seg, "3.10.7.4 second check: RST"),
    (Fw1, Fw2, Seg, "Fig. 5 rcv ACK of FIN; 3.10.7.4 fifth check"),
    (Fw1, Closing, Seg, "Fig. 5 rcv FIN / snd ACK"),
    (Fw1, TimeWait, Seg, "3.10.7.4 eighth check: FIN with our FIN ACKed (perhaps in this segment)"),
    (Fw1, Closed, Seg, "3.10.7.4 second check: RST; Linux abort on data after close (RFC 1122 4.2.2.13)"),
    (Fw2, TimeWait, Seg, "Fig. 5 rcv FIN / snd ACK"),
    (Fw2, Closed, Seg, "3.10.7.4 second check: RST; Linux abort on data after close (RFC 1122 4.2.2.13)"),
    (CloseWait, Closed, Seg, "3.10.7.4 second check: RST"),
    (Closing, TimeWait, Seg, "Fig. 5 rcv ACK of FIN"),
    (Closing, Closed, Seg, "3.10.7.4 second check: RST"),
    (LastAck, Closed, Seg, "Fig. 5 rcv ACK of FIN; 3.10.7.4 second check: RST"),
    (TimeWait, Closed, Seg, "3.10.7.4 second check: RST (Linux tcp_rfc1337=0); new SYN reopens (RFC 6191, Linux tcp_timewait_state_process): the old TCB goes"),
    // User calls.
    (SynSent, Closed, Usr, "Fig. 5 CLOSE / delete TCB; 3.10.4, 3.10.5"),
    (SynRcvd, Fw1, Usr, "Fig. 5 CLOSE / snd FIN"),
    (SynRcvd, Closed, Usr, "3.10.5 ABORT (SO_LINGER 0, listener closed)"),
    (Estab, Fw1, Usr, "Fig. 5 CLOSE / snd FIN; 3.10.4"),
    (Estab, Closed, Usr, "3.10.5 ABORT; 3.10.4 close with unread data (Linux tcp_close)"),
    (Fw1, Closed, Usr, "3.10.5 ABORT"),
    (Fw2, Closed, Usr, "3.10.5 ABORT"),
    (CloseWait, LastAck, Usr, "Fig. 5 CLOSE / snd FIN; 3.10.4"),
    (CloseWait, Closed, Usr, "3.10.5 ABORT"),
    (Closing, Closed, Usr, "3.10.5 ABORT"),
    (LastAck, Closed, Usr, "3.10.5 ABORT"),
    (TimeWait, Closed, Usr, "3.10.5 ABORT in TIME-WAIT: delete the TCB"),
    // Timeouts.
    (SynSent, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout (Linux tcp_syn_retries)"),
    (SynRcvd, Closed, Tmr, "3.8.3 R2 (Linux tcp_synack_retries)"),
    (Estab, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout"),
    (Fw1, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout"),
    (Fw2, Closed, Tmr, "Linux orphan FIN-WAIT-2 timeout (tcp_fin_timeout)"),
    (CloseWait, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout"),
    (Closing, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout"),
    (LastAck, Closed, Tmr, "3.8.3 R2 / 3.10.8 user timeout"),
    (TimeWait, Closed, Tmr, "Fig. 5 Timeout=2MSL / delete TCB; 3.10.8"),
];

fn edge(from: TcpState, to: TcpState, cause: Cause) -> bool {
    EDGES
        .iter()
        .any(|(f, t, c, _)| *f == from && *t == to && *c == cause)
}

/// Whether `from → to` is allowed within one step caused by `cause`, by
/// the definition: the same state, one edge, or two edges through any state.
fn allowed_by_edges(from: TcpState, to: TcpState, cause: Cause) -> bool {
    from == to
        || edge(from, to, cause)
        || TARGETS
            .iter()
            .chain([Closed].iter())
            .any(|m| edge(from, *m, cause) && edge(*m, to, cause))
}

/// The index of a state in [`TARGETS`], CLOSED after them.
fn state_index(s: TcpState) -> usize {
    TARGETS
        .iter()
        .position(|t| *t == s)
        .unwrap_or(TARGETS.len())
}

/// [`allowed_by_edges`] for every pair of states and cause, computed once:
/// it runs for every connection after every step, and walking the edge
/// table each time showed in the target's profile.
static ALLOWED: OnceLock<[[[bool; 3]; TARGETS.len() + 1]; TARGETS.len() + 1]> = OnceLock::new();

/// Whether `from → to` is allowed within one step caused by `cause`.
pub fn allowed(from: TcpState, to: TcpState, cause: Cause) -> bool {
    let table = ALLOWED.get_or_init(|| {
        let states: Vec<TcpState> = TARGETS.iter().copied().chain([Closed]).collect();
        let mut t = [[[false; 3]; TARGETS.len() + 1]; TARGETS.len() + 1];
        for (i, f) in states.iter().enumerate() {
            for (j, to) in states.iter().enumerate() {
                for (k, c) in [Seg, Usr, Tmr].into_iter().enumerate() {
                    t[i][j][k] = allowed_by_edges(*f, *to, c);
                }
            }
        }
        t
    });
    let k = match cause {
        Seg => 0,
        Usr => 1,
        Tmr => 2,
    };
    table[state_index(from)][state_index(to)][k]
}

// ------------------------------------------------------------------ harness

/// A map from connection id to `V`, ascending by id like the host's
/// connection table: a handful of entries, so a vector beats a `BTreeMap`
/// (no node allocation per check).
#[derive(Debug)]
struct IdMap<V>(Vec<(u64, V)>);

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap(Vec::new())
    }
}

impl<V> IdMap<V> {
    fn get(&self, id: &u64) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
    fn contains_key(&self, id: &u64) -> bool {
        self.get(id).is_some()
    }
    fn insert(&mut self, id: u64, v: V) {
        match self.0.iter().position(|(k, _)| *k >= id) {
            Some(i) if self.0[i].0 == id => self.0[i].1 = v,
            Some(i) => self.0.insert(i, (id, v)),
            None => self.0.push((id, v)),
        }
    }
    fn retain(&mut self, mut f: impl FnMut(&u64, &V) -> bool) {
        self.0.retain(|(k, v)| f(k, v));
    }
    fn iter(&self) -> impl DoubleEndedIterator<Item = (&u64, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

/// What the invariant checks remember of a connection.
#[derive(Debug, Clone, Copy)]
struct Snap {
    state: TcpState,
    iss: SeqNumber,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    snd_max: SeqNumber,
    rcv_nxt: SeqNumber,
    rcv_wscale: u8,
    ts: bool,
    passive: bool,
    mss: u32,
}

impl Snap {
    fn of(t: &Tcb) -> Snap {
        Snap {
            state: t.state,
            iss: t.iss,
            snd_una: t.snd_una,
            snd_nxt: t.snd_nxt,
            snd_max: t.snd_max,
            rcv_nxt: t.rcv_nxt,
            rcv_wscale: t.negotiated.map(|n| n.rcv_wscale).unwrap_or(0),
            ts: t.negotiated.is_some_and(|n| n.timestamps),
            passive: t.is_passive(),
            mss: t.mss(),
        }
    }
}

macro_rules! check {
    ($h:expr, $cond:expr, $($fmt:tt)*) => {
        if !$cond {
            panic!(
                "tcp_input invariant: {} [{}]",
                format!($($fmt)*),
                $h.context()
            );
        }
    };
}

/// `TCP_INPUT_TRACE` is read once per process, not once per input.
static TRACE: OnceLock<bool> = OnceLock::new();

struct Harness {
    host: Host,
    now: Instant,
    setup: Setup,
    listener: Option<Fd>,
    fd: Option<Fd>,
    /// The peer's idea of its next sequence number and of the DUT's, used
    /// when there is no live connection.
    peer_nxt: u32,
    dut_nxt: u32,
    dut_una: u32,
    peer_ts: u32,
    dut_tsval: u32,
    prev: IdMap<Snap>,
    /// The next `prev`, refilled by every check (its storage reused).
    cur: IdMap<Snap>,
    right_edge: IdMap<SeqNumber>,
    step: usize,
    /// The step being run (`None`: the setup), formatted only when a
    /// check fails or a trace is printed.
    what: Option<Step>,
    buf: Vec<u8>,
    /// The peer's frames are built here.
    frame_buf: Vec<u8>,
    /// `TCP_INPUT_TRACE` set: print every step and DUT segment.
    trace: bool,
}

impl Harness {
    fn new(setup: Setup) -> Harness {
        let config = HostConfig {
            mac: DUT_MAC,
            ipv4: DUT_IP,
            prefix_len: 24,
            gateway: None,
            profile: Profile::linux(),
            static_neighbors: vec![(PEER_IP, PEER_MAC)],
        };
        Harness {
            host: Host::new(config, 0x7cb1),
            now: Instant::ZERO,
            setup,
            listener: None,
            fd: None,
            peer_nxt: setup.peer_iss,
            dut_nxt: 0,
            dut_una: 0,
            peer_ts: PEER_TS0,
            dut_tsval: 0,
            prev: IdMap::default(),
            cur: IdMap::default(),
            right_edge: IdMap::default(),
            step: 0,
            what: None,
            buf: Vec::new(),
            frame_buf: Vec::new(),
            trace: *TRACE.get_or_init(|| std::env::var_os("TCP_INPUT_TRACE").is_some()),
        }
    }

    /// What the current step is, for failure messages and the trace.
    fn what(&self) -> String {
        match &self.what {
            None => "setup".into(),
            Some(Step::Segment(g)) => format!("{g:?}"),
            Some(Step::User(c)) => format!("{c:?}"),
            Some(Step::Clock(d)) => format!("clock +{} ms", d.total_millis()),
        }
    }

    fn context(&self) -> String {
        format!(
            "step {} ({}), t={} ms, target {:?}",
            self.step,
            self.what(),
            self.now.total_millis(),
            self.setup.target
        )
    }

    /// [`live`](Self::live) as the last check saw it: between a check and
    /// the next step nothing changes the host.
    fn live_checked(&self) -> Option<(u64, Snap)> {
        self.prev
            .iter()
            .find(|(_, s)| s.state != Closed)
            .map(|(id, s)| (*id, *s))
    }

    /// The connection of the peer's 4-tuple that is not CLOSED, if any.
    fn live(&self) -> Option<(u64, Snap)> {
        self.host
            .connections()
            .find(|(_, t)| t.state != Closed)
            .map(|(id, t)| (id, Snap::of(t)))
    }

    // -------------------------------------------------------------- peer side

    fn syn_options(&self) -> TcpOptions {
        let s = self.setup;
        let mut o = TcpOptions::new();
        if let Some(m) = s.mss {
            let _ = o.push(TcpOption::MaxSegmentSize(m));
        }
        if s.sack {
            let _ = o.push(TcpOption::SackPermitted);
        }
        if s.ts {
            let _ = o.push(TcpOption::Timestamps {
                tsval: self.peer_ts,
                tsecr: 0,
            });
        }
        if let Some(w) = s.wscale {
            let _ = o.push(TcpOption::NoOperation);
            let _ = o.push(TcpOption::WindowScale(w));
        }
        o
    }

    fn ts_options(&self) -> TcpOptions {
        let mut o = TcpOptions::new();
        if self.setup.ts {
            let _ = o.push_nops_timestamps(self.peer_ts, self.dut_tsval);
        }
        o
    }

    /// The peer's frame for `repr`, written into `buf` (one buffer for
    /// every segment of an input instead of one allocation each).
    fn frame(repr: &TcpRepr, payload: &[u8], buf: &mut Vec<u8>) {
        let ip = Ipv4Repr {
            ident: 1,
            dont_frag: true,
            ..Ipv4Repr::unfragmented(
                PEER_IP,
                DUT_IP,
                IpProtocol::Tcp,
                64,
                repr.header_len() + payload.len(),
            )
        };
        FrameRepr {
            eth: EthernetRepr {
                src_addr: PEER_MAC,
                dst_addr: DUT_MAC,
                ethertype: EtherType::Ipv4,
            },
            payload: FramePayload::Ipv4(ip, IpPayload::Tcp(*repr, payload)),
        }
        .emit_into(buf);
    }

    fn send_segment(
        &mut self,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        window: u16,
        options: TcpOptions,
        payload: &[u8],
    ) {
        let repr = TcpRepr {
            src_port: PEER_PORT,
            dst_port: DUT_PORT,
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: window,
            urgent_pointer: 0,
            options,
            payload_len: payload.len(),
        };
        let mut f = std::mem::take(&mut self.frame_buf);
        Self::frame(&repr, payload, &mut f);
        self.host.receive(self.now, &f);
        self.frame_buf = f;
        self.drain(Cause::Segment, Some(&repr));
    }

    // -------------------------------------------------------------- checks

    /// Drain the DUT's output (checking every frame), then the state.
    fn drain(&mut self, cause: Cause, incoming: Option<&TcpRepr>) {
        let mut n = 0usize;
        while let Some(f) = self.host.transmit(self.now) {
            n += 1;
            check!(self, n <= 20_000, "transmit() keeps returning frames");
            self.check_frame(&f, incoming);
        }
        let pa = self.host.poll_at();
        check!(
            self,
            pa.is_none_or(|t| t > self.now),
            "poll_at() = {:?} is not in the future after transmit() returned None (busy loop)",
            pa.map(|t| t.total_millis())
        );
        self.check_state(cause);
    }

    fn check_frame(&mut self, f: &[u8], incoming: Option<&TcpRepr>) {
        let parsed = FrameRepr::parse(f);
        check!(
            self,
            parsed.is_ok(),
            "emitted frame does not parse: {parsed:?}"
        );
        let Ok(p) = parsed else { return };
        check!(
            self,
            f.len() <= 1514,
            "frame of {} bytes exceeds the MTU",
            f.len()
        );
        check!(
            self,
            p.eth.src_addr == DUT_MAC && p.eth.dst_addr == PEER_MAC,
            "frame MACs {:?} -> {:?}",
            p.eth.src_addr,
            p.eth.dst_addr
        );
        let FramePayload::Ipv4(ip, IpPayload::Tcp(t, data)) = p.payload else {
            check!(self, false, "non-TCP frame emitted: {p:?}");
            return;
        };
        check!(
            self,
            ip.src_addr == DUT_IP && ip.dst_addr == PEER_IP,
            "IP addresses {} -> {}",
            ip.src_addr,
            ip.dst_addr
        );
        check!(
            self,
            t.src_port == DUT_PORT && t.dst_port == PEER_PORT,
            "TCP ports {} -> {}",
            t.src_port,
            t.dst_port
        );
        if let Some((tsval, _)) = t.options.timestamps() {
            self.dut_tsval = tsval;
        }
        if self.trace {
            eprintln!(
                "    dut: {:?} seq {} ack {} win {} len {} {:?}",
                t.flags,
                t.seq_number,
                t.ack_number,
                t.window_len,
                data.len(),
                t.options
            );
        }
        if t.flags.contains(TcpFlags::RST) {
            self.check_rst(&t, data.len(), incoming);
        } else {
            self.check_segment(&t, data.len());
        }
    }

    /// RSTs: either the RFC 9293 3.10.7.1 answer to the segment just
    /// received (never to a RST), or an ABORT (3.10.5)
    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>` of a connection.
    fn check_rst(&self, t: &TcpRepr, len: usize, incoming: Option<&TcpRepr>) {
        check!(self, len == 0, "RST with {len} bytes of payload");
        let answer = incoming.is_some_and(|i| {
            if i.flags.contains(TcpFlags::RST) {
                return false;
            }
            if i.flags.contains(TcpFlags::ACK) {
                t.flags == TcpFlags::RST && t.seq_number == i.ack_number
            } else {
                let l = i.payload_len as u32
                    + u32::from(i.flags.contains(TcpFlags::SYN))
                    + u32::from(i.flags.contains(TcpFlags::FIN));
                t.flags == (TcpFlags::RST | TcpFlags::ACK)
                    && t.seq_number == 0
                    && t.ack_number == i.seq_number.wrapping_add(l)
            }
        });
        let abort = t.flags == (TcpFlags::RST | TcpFlags::ACK)
            && self
                .host
                .connections()
                .map(|(_, c)| Snap::of(c))
                .chain(self.prev.values().copied())
                .any(|s| {
                    // <SEQ=SND.NXT> with SND.NXT as a timeout did not pull it
                    // back: SND.MAX, or the right edge of a window that
                    // shrank below it (Linux tcp_acceptable_seq).
                    let seq = SeqNumber(t.seq_number);
                    s.snd_una <= seq && seq <= s.snd_max && s.rcv_nxt.get() == t.ack_number
                });
        check!(
            self,
            answer || abort,
            "RST seq {} ack {} flags {:?} is neither the RFC 9293 3.10.7.1 answer to {:?} nor an ABORT of a connection",
            t.seq_number,
            t.ack_number,
            t.flags,
            incoming.map(|i| (i.seq_number, i.ack_number, i.flags, i.payload_len))
        );
    }

    fn check_segment(&mut self, t: &TcpRepr, len: usize) {
        let conn = self.live().or_else(|| {
            self.prev
                .iter()
                .rev()
                .find(|(_, s)| s.state != Closed)
                .map(|(id, s)| (*id, *s))
        });
        check!(self, conn.is_some(), "segment {t:?} from no connection");
        let Some((id, c)) = conn else { return };
        let syn = t.flags.contains(TcpFlags::SYN);
        let fin = t.flags.contains(TcpFlags::FIN);
        let seq = SeqNumber(t.seq_number);
        let seg_len = len as u32 + u32::from(syn) + u32::from(fin);
        check!(
            self,
            seq + seg_len <= c.snd_max && seq >= c.snd_una - 1,
            "segment seq {} len {} outside [SND.UNA-1 = {}, SND.MAX = {}]",
            seq,
            seg_len,
            c.snd_una - 1,
            c.snd_max
        );
        if syn {
            check!(self, seq == c.iss, "SYN with seq {seq} != ISS {}", c.iss);
        } else {
            check!(
                self,
                t.options.mss().is_none()
                    && t.options.window_scale().is_none()
                    && !t.options.sack_permitted(),
                "SYN-only option in a non-SYN segment: {:?}",
                t.options
            );
        }
        let max_payload = c.mss.min(1460) as usize;
        check!(
            self,
            len <= max_payload,
            "payload {len} exceeds the send MSS {max_payload}"
        );
        if c.state != SynSent {
            // A simultaneous open's SYN-ACK repeats our SYN's options in
            // Linux's profile, whatever the peer's SYN offered
            // (`Profile::simultaneous_open_syn_options`); every other
            // segment carries TS exactly when both SYNs did.
            let p = self.host.profile();
            let ts = if syn && !c.passive && p.simultaneous_open_syn_options {
                p.timestamps
            } else {
                c.ts
            };
            check!(
                self,
                t.options.timestamps().is_some() == ts,
                "timestamps negotiated = {} but segment options {:?} (RFC 7323 3.2)",
                c.ts,
                t.options
            );
        }
        for (l, r) in t.options.sack_blocks() {
            check!(
                self,
                SeqNumber(l) < SeqNumber(r) && r.wrapping_sub(l) <= 1 << 20,
                "bad SACK block {l}..{r}"
            );
        }
        if t.flags.contains(TcpFlags::ACK) {
            // SEG.ACK = RCV.NXT, as RCV.NXT stood at some point of this
            // step: a segment sent while the ACK field of an incoming one is
            // processed (fast retransmit, window update) precedes that
            // segment's text, and carries the RCV.NXT from before it (as
            // Linux: tcp_ack runs before tcp_data_queue). Never more than
            // RCV.NXT, never older than at the start of the step.
            let lo = self
                .prev
                .get(&id)
                .filter(|p| !matches!(p.state, SynSent | Closed))
                .map(|p| p.rcv_nxt)
                .unwrap_or(c.rcv_nxt);
            let ack = SeqNumber(t.ack_number);
            check!(
                self,
                lo <= ack && ack <= c.rcv_nxt,
                "ACK {} outside [RCV.NXT at step start {}, RCV.NXT {}]",
                ack,
                lo,
                c.rcv_nxt
            );
            let ws = if syn { 0 } else { c.rcv_wscale };
            let edge = SeqNumber(t.ack_number) + (u32::from(t.window_len) << ws);
            if let Some(old) = self.right_edge.get(&id) {
                check!(
                    self,
                    t.window_len == 0 || edge >= *old,
                    "window right edge moved left: {} -> {} (ack {}, window field {}, scale {}) (RFC 9293 3.8.6.2.2)",
                    old,
                    edge,
                    t.ack_number,
                    t.window_len,
                    ws
                );
            }
            self.right_edge.insert(id, edge);
        } else {
            check!(
                self,
                c.state == SynSent && syn,
                "segment without ACK in {:?}: {:?}",
                c.state,
                t.flags
            );
        }
    }

    fn check_state(&mut self, cause: Cause) {
        let (send_buffer, recv_buffer) = {
            let p = self.host.profile();
            (p.send_capacity(), p.recv_buffer)
        };
        // Filled by the loop below, in the table's ascending id order.
        let mut cur = std::mem::take(&mut self.cur);
        cur.0.clear();
        let n = self.host.connection_count();
        // Reset children stay in the accept queue until accepted (as
        // Linux), which the backlog bounds (> BACKLOG queued: SYNs are
        // dropped); plus one half-open child, one held by our fd, one orphan.
        check!(
            self,
            n <= BACKLOG as usize + 1 + 3,
            "{n} connections for one peer 4-tuple (backlog {BACKLOG})"
        );
        if let Some(l) = self.listener {
            let st = self.host.tcp_state(l);
            check!(self, st == Some(TcpState::Listen), "listener in {st:?}");
        }
        for (id, t) in self.host.connections() {
            let s = Snap::of(t);
            cur.0.push((id, s));
            check!(
                self,
                s.snd_una <= s.snd_nxt && s.snd_nxt <= s.snd_max,
                "conn {id}: SND.UNA {} <= SND.NXT {} <= SND.MAX {} broken",
                s.snd_una,
                s.snd_nxt,
                s.snd_max
            );
            check!(
                self,
                (s.snd_max - s.snd_una) as usize <= send_buffer + 2,
                "conn {id}: {} bytes in flight exceed the send buffer",
                s.snd_max - s.snd_una
            );
            // RCV.WND may pass 65535 << scale, the most the field can
            // say: Linux records the window before it clamps the field
            // (tcp_select_window), and takes segments against it.
            let ws = u32::from(s.rcv_wscale);
            check!(
                self,
                t.rcv_wnd as usize <= recv_buffer + (1 << ws),
                "conn {id}: RCV.WND {} exceeds the receive buffer {} (scale {ws})",
                t.rcv_wnd,
                recv_buffer
            );
            // Congestion control and recovery (RFC 5681, RFC 6675): cwnd
            // never below one segment, ssthresh never below two once set,
            // the SACK scoreboard bounded and inside SND.UNA..SND.MAX.
            // (cwnd is set when the connection is synchronized.)
            if !matches!(s.state, Closed | SynSent | TcpState::SynReceived) {
                let mss = t.mss();
                check!(
                    self,
                    t.cwnd() >= mss,
                    "conn {id}: cwnd {} below one SMSS {mss}",
                    t.cwnd()
                );
                check!(
                    self,
                    t.ssthresh() == u32::MAX || t.ssthresh() >= 2 * mss,
                    "conn {id}: ssthresh {} below two SMSS",
                    t.ssthresh()
                );
                let sb = t.scoreboard().ranges();
                check!(
                    self,
                    sb.len() <= stack::tcp::scoreboard::MAX_RANGES
                        && sb
                            .iter()
                            .all(|&(l, r)| { s.snd_una <= l && l < r && r <= s.snd_max }),
                    "conn {id}: scoreboard {sb:?} outside SND.UNA {}..SND.MAX {}",
                    s.snd_una,
                    s.snd_max
                );
            }
            let mem = t.check_send_mem();
            check!(self, mem.is_ok(), "conn {id}: send memory model: {mem:?}");
            check!(
                self,
                t.recv_available() <= recv_buffer && t.send_queued() <= send_buffer,
                "conn {id}: queues {} / {} exceed the buffers",
                t.recv_available(),
                t.send_queued()
            );
            match self.prev.get(&id) {
                Some(o) => {
                    check!(
                        self,
                        allowed(o.state, s.state, cause),
                        "conn {id}: {:?} -> {:?} on {:?} is not an edge of the state diagram",
                        o.state,
                        s.state,
                        cause
                    );
                    if !matches!(o.state, SynSent | Closed) {
                        check!(
                            self,
                            s.rcv_nxt >= o.rcv_nxt,
                            "conn {id}: RCV.NXT moved backwards {} -> {}",
                            o.rcv_nxt,
                            s.rcv_nxt
                        );
                    }
                    check!(
                        self,
                        s.snd_una >= o.snd_una && s.snd_max >= o.snd_max,
                        "conn {id}: SND.UNA/SND.MAX moved backwards {}/{} -> {}/{}",
                        o.snd_una,
                        o.snd_max,
                        s.snd_una,
                        s.snd_max
                    );
                }
                None => {
                    let ok = match cause {
                        Cause::Segment => s.state == SynRcvd,
                        Cause::User => s.state == SynSent,
                        Cause::Timer => false,
                    };
                    check!(
                        self,
                        ok,
                        "conn {id} appeared in {:?} on {:?} (expected LISTEN -> SYN-RECEIVED or CLOSED -> SYN-SENT)",
                        s.state,
                        cause
                    );
                }
            }
        }
        let live = cur.values().filter(|s| s.state != Closed).count();
        check!(self, live <= 1, "{live} live connections for one 4-tuple");
        for (id, o) in self.prev.iter() {
            if !cur.contains_key(id) {
                check!(
                    self,
                    allowed(o.state, Closed, cause),
                    "conn {id}: {:?} -> gone (CLOSED) on {:?} is not an edge",
                    o.state,
                    cause
                );
            }
        }
        self.right_edge.retain(|id, _| cur.contains_key(id));
        if let Some(s) = cur.values().find(|s| s.state != Closed).copied() {
            if s.state != SynSent {
                self.peer_nxt = s.rcv_nxt.get();
            }
            self.dut_nxt = s.snd_nxt.get();
            self.dut_una = s.snd_una.get();
        }
        self.cur = std::mem::replace(&mut self.prev, cur);
    }

    // -------------------------------------------------------------- setup

    fn user<T>(&mut self, r: T) -> T {
        self.drain(Cause::User, None);
        r
    }

    fn state(&self) -> Option<TcpState> {
        match (self.live(), self.listener) {
            (Some((_, s)), _) => Some(s.state),
            (None, Some(_)) => Some(TcpState::Listen),
            _ => None,
        }
    }

    fn ack_setup(&mut self, flags: TcpFlags) {
        let o = self.ts_options();
        let (seq, ack, w) = (self.peer_nxt, self.dut_nxt, self.setup.window);
        self.send_segment(flags, seq, ack, w, o, &[]);
    }

    fn close_setup(&mut self) {
        let Some(fd) = self.fd else { return };
        let now = self.now;
        if self.setup.orphan {
            let r = self.host.close(now, fd);
            self.fd = None;
            self.user(r).expect("close in setup");
        } else {
            let r = self.host.shutdown(now, fd, Shutdown::Write);
            self.user(r).expect("shutdown in setup");
        }
    }

    fn run_setup(&mut self) {
        let s = self.setup;
        let now = self.now;
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, DUT_PORT);
        let peer = SocketAddrV4::new(PEER_IP, PEER_PORT);
        if s.target == TcpState::Listen || !s.active {
            let l = self.host.socket(SocketType::Stream).expect("socket");
            self.host.bind(l, any).expect("bind");
            self.host.listen(l, BACKLOG).expect("listen");
            self.listener = Some(l);
            self.drain(Cause::User, None);
        }
        if s.target != TcpState::Listen {
            let syn_opts = self.syn_options();
            if s.active {
                let fd = self.host.socket(SocketType::Stream).expect("socket");
                self.host.bind(fd, any).expect("bind");
                let r = self.host.connect(now, fd, peer);
                assert_eq!(self.user(r), Err(Errno::EINPROGRESS), "connect");
                self.fd = Some(fd);
                if s.target == SynSent {
                    return self.finish_setup();
                }
                let iss = self.dut_una;
                if s.target == SynRcvd {
                    self.send_segment(TcpFlags::SYN, s.peer_iss, 0, s.window, syn_opts, &[]);
                    return self.finish_setup();
                }
                let flags = TcpFlags::SYN | TcpFlags::ACK;
                let ack = iss.wrapping_add(1);
                self.send_segment(flags, s.peer_iss, ack, s.window, syn_opts, &[]);
            } else {
                self.send_segment(TcpFlags::SYN, s.peer_iss, 0, s.window, syn_opts, &[]);
                if s.target == SynRcvd {
                    return self.finish_setup();
                }
                self.ack_setup(TcpFlags::ACK);
                let l = self.listener.expect("listener");
                let r = self.host.accept(l);
                let (fd, _) = self.user(r).expect("accept in setup");
                self.fd = Some(fd);
            }
            match s.target {
                Fw1 | Fw2 | Closing | TimeWait => {
                    self.close_setup();
                    match s.target {
                        Fw2 => self.ack_setup(TcpFlags::ACK),
                        Closing => {
                            // A FIN that does not acknowledge ours.
                            let o = self.ts_options();
                            let (seq, ack, w) = (self.peer_nxt, self.dut_una, s.window);
                            self.send_segment(TcpFlags::FIN | TcpFlags::ACK, seq, ack, w, o, &[]);
                        }
                        TimeWait => {
                            self.ack_setup(TcpFlags::ACK);
                            self.ack_setup(TcpFlags::FIN | TcpFlags::ACK);
                        }
                        _ => {}
                    }
                }
                CloseWait | LastAck => {
                    self.ack_setup(TcpFlags::FIN | TcpFlags::ACK);
                    if s.target == LastAck {
                        self.close_setup();
                    }
                }
                _ => {}
            }
        }
        self.finish_setup()
    }

    fn finish_setup(&mut self) {
        let st = self.state();
        check!(
            self,
            st == Some(self.setup.target),
            "setup reached {st:?}, not the target"
        );
    }

    // -------------------------------------------------------------- steps

    fn run_step(&mut self, step: &Step) {
        match step {
            Step::Segment(g) => {
                self.what = Some(*step);
                let live = self.live_checked();
                let seq_base = match live {
                    Some((_, c)) if c.state != SynSent => c.rcv_nxt.get(),
                    _ => self.peer_nxt,
                };
                let ack_base = live.map(|(_, c)| c.snd_nxt.get()).unwrap_or(self.dut_nxt);
                let una = live.map(|(_, c)| c.snd_una.get()).unwrap_or(self.dut_una);
                let mut o = TcpOptions::new();
                if let Some(j) = g.ts {
                    let tsval = self.peer_ts.wrapping_add(j as i32 as u32);
                    let _ = o.push_nops_timestamps(tsval, self.dut_tsval);
                }
                if g.nsack > 0 {
                    let mut blocks = [(0u32, 0u32); 3];
                    let n = usize::from(g.nsack);
                    for (b, &(l, n)) in blocks.iter_mut().zip(&g.sack[..n]) {
                        let l = una.wrapping_add(u32::from(l));
                        *b = (l, l.wrapping_add(u32::from(n)));
                    }
                    let _ = o.push_nops_sack(&blocks[..n]);
                }
                self.send_segment(
                    TcpFlags(g.flags),
                    g.seq.apply(seq_base),
                    g.ack.apply(ack_base),
                    g.window,
                    o,
                    &PEER_DATA[..g.len],
                );
            }
            Step::User(c) => {
                self.what = Some(*step);
                let now = self.now;
                match (*c, self.fd) {
                    (UserCall::Send(n), Some(fd)) => {
                        let r = self.host.send(now, fd, &USER_DATA[..n]);
                        if let Ok(k) = r {
                            check!(self, k <= n, "send() reports {k} of {n} bytes");
                        }
                    }
                    (UserCall::Recv, Some(fd)) => {
                        // The 64 KiB receive buffer is allocated on the first
                        // recv() only: most inputs never call it.
                        let mut buf = std::mem::take(&mut self.buf);
                        buf.resize(65536, 0);
                        let r = self.host.recv(now, fd, &mut buf);
                        self.buf = buf;
                        if let Ok(k) = r {
                            check!(self, k <= self.buf.len(), "recv() overran");
                        }
                    }
                    (UserCall::ShutdownWrite, Some(fd)) => {
                        let _ = self.host.shutdown(now, fd, Shutdown::Write);
                    }
                    (UserCall::Close, Some(fd)) => {
                        let _ = self.host.close(now, fd);
                        self.fd = None;
                    }
                    (UserCall::Close, None) => {
                        if let Some(l) = self.listener.take() {
                            let _ = self.host.close(now, l);
                        }
                    }
                    (UserCall::LingerZero, Some(fd)) => {
                        let _ = self.host.setsockopt(fd, SockOpt::Linger, 0);
                    }
                    (UserCall::Accept, None) => {
                        if let Some(l) = self.listener {
                            if let Ok((fd, _)) = self.host.accept(l) {
                                self.fd = Some(fd);
                            }
                        }
                    }
                    _ => {}
                }
                self.drain(Cause::User, None);
            }
            Step::Clock(d) => {
                self.what = Some(*step);
                let target = self.now + *d;
                self.peer_ts = self.peer_ts.wrapping_add(d.total_millis() as u32);
                for _ in 0..10_000 {
                    match self.host.poll_at() {
                        Some(t) if t > self.now && t <= target => {
                            self.now = t;
                            self.drain(Cause::Timer, None);
                        }
                        _ => break,
                    }
                }
                self.now = target;
                self.drain(Cause::Timer, None);
            }
        }
    }
}

/// Decode `data`, drive the DUT into the chosen state and apply the steps,
/// checking the invariants throughout. Returns the state reached by the
/// setup (for the seed corpus test).
pub fn run(data: &[u8]) -> TcpState {
    let (setup, steps) = decode(data);
    let mut h = Harness::new(setup);
    h.run_setup();
    let trace = h.trace;
    if trace {
        eprintln!("setup {:?} -> {:?}", setup, h.state());
    }
    for (i, step) in steps.iter().enumerate() {
        h.step = i + 1;
        h.run_step(step);
        if trace {
            let conns: Vec<_> = h.prev.values().map(|s| s.state).collect();
            eprintln!("  {}: {} -> {:?}", h.step, h.what(), conns);
        }
    }
    setup.target
}

/// Only the setup of `data`: the state it reaches (for seed checks).
pub fn setup_state(data: &[u8]) -> Option<TcpState> {
    let (setup, _) = decode(data);
    let mut h = Harness::new(setup);
    h.run_setup();
    h.state()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table answers as the edge walk for every pair of the eleven
    /// states and every cause (a wrong state index would mix rows up).
    #[test]
    fn allowed_table_matches_the_edges() {
        let states: Vec<TcpState> = TARGETS.iter().copied().chain([Closed]).collect();
        assert_eq!(states.len(), 11, "TARGETS and CLOSED are the eleven states");
        let mut n = 0;
        for f in &states {
            for t in &states {
                for c in [Seg, Usr, Tmr] {
                    assert_eq!(
                        allowed(*f, *t, c),
                        allowed_by_edges(*f, *t, c),
                        "{f:?} -> {t:?} by {c:?}"
                    );
                    n += usize::from(allowed(*f, *t, c));
                }
            }
        }
        // Not everything is allowed: TIME-WAIT never goes back to ESTABLISHED.
        assert!(!allowed(TimeWait, Estab, Seg));
        assert!(n < 3 * 11 * 11);
    }
}
