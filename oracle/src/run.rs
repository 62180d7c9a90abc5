//! The runner: plays one script against one [`Target`] and records a [`Trace`].
//!
//! Semantics follow packetdrill's:
//! - inbound (`<`) packets are injected at their script time; sequence numbers
//!   of the testbench are taken literally, ack numbers are relative to the DUT's
//!   ISN, a TS ecr is mapped onto the DUT's real TS clock;
//! - outbound (`>`) packets must arrive within the timing tolerance of their
//!   script time and match every field the script gives (an omitted `win` or
//!   option list is not checked; the DUT's TS val is learnt, not checked);
//! - any frame the script does not expect is an error;
//! - a call on a blocking socket that would block stays pending while the
//!   following lines run, and must finish with the result the script gives
//!   (and, for `START...END`, at END).
//!
//! The run stops at the first error, as packetdrill does, after collecting the
//! frames the DUT sends within the tolerance so the trace shows what it did.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddrV4;

use stack::wire::{
    ArpOperation, ArpRepr, EtherType, EthernetAddress, EthernetRepr, FramePayload, FrameRepr,
    Icmpv4Repr, IpPayload, IpProtocol, Ipv4Repr, TcpFlags, TcpOption, TcpOptions, TcpRepr, UdpRepr,
};

use crate::script::{
    ArpSpec, CallEvent, CsumSpec, Direction, EchoType, Ecn, Event, EventKind, Expr, IcmpEchoed,
    IcmpSpec, MacSpec, PacketMods, PacketSpec, Script, TcpOptionSpec, TcpOptionsSpec, TcpSpec,
    TimeSpec,
};
use crate::target::{
    Errno, Identity, Interest, IoctlReq, Micros, SockOptName, SysCall, Target, SCRIPT_PORT,
    TESTBENCH_PORT,
};
use crate::trace::{Dir, Trace, TraceKind};

/// Timing tolerance, as packetdrill's `--tolerance_usecs` (default 4 ms) and
/// the relative part (12.5% of the interval since the previous event).
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Absolute tolerance.
    pub usecs: Micros,
    /// Relative tolerance in percent of the interval.
    pub percent: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            usecs: 4_000,
            percent: 12.5,
        }
    }
}

impl Tolerance {
    /// This tolerance with a script's own `--tolerance_usecs` applied, as
    /// both the run and the Linux-vs-stack diff use it.
    pub fn for_script(self, script: &Script) -> Tolerance {
        let mut tol = self;
        for opt in &script.options {
            if opt.name == "tolerance_usecs" {
                if let Some(v) = opt.value.as_deref().and_then(|v| v.parse().ok()) {
                    tol.usecs = v;
                }
            }
            if opt.name == "tolerance_percent" {
                if let Some(v) = opt.value.as_deref().and_then(|v| v.parse::<f64>().ok()) {
                    tol.percent = v.clamp(0.0, 100.0);
                }
            }
        }
        tol
    }

    /// The allowed deviation for an event `interval` µs after the previous one.
    pub fn allowed(&self, interval: Micros) -> Micros {
        let rel = (interval.max(0) as f64 * self.percent / 100.0) as Micros;
        self.usecs.max(rel)
    }
}

/// Outcome of one script on one DUT, as packetdrill would report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every line happened as the script says.
    Passed,
    /// A line did not happen as written.
    Failed(Failure),
    /// The script uses something this harness cannot run.
    Unsupported {
        /// Script line.
        line: usize,
        /// What is unsupported.
        what: String,
    },
}

/// Why a script failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The script line.
    pub line: usize,
    /// The script's text for that line.
    pub script: String,
    /// What went wrong, packetdrill-style.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}\n  script: {}",
            self.line, self.message, self.script
        )
    }
}

/// What normalization needs to know about the run (learnt while running).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFacts {
    /// The DUT's initial sequence number, once seen.
    pub dut_isn: Option<u32>,
    /// The DUT's TCP port.
    pub dut_port: u16,
    /// Whether that port was chosen by the DUT (an ephemeral port).
    pub dut_port_ephemeral: bool,
    /// The testbench's TCP port.
    pub tb_port: u16,
    /// Trace indices of DUT SYN-ACKs that began a new incarnation with an
    /// ISN of its own (e.g. after TIME-WAIT); normalization counts from it.
    pub new_isns: Vec<usize>,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The DUT's name.
    pub dut: &'static str,
    /// Everything that happened.
    pub trace: Trace,
    /// The verdict.
    pub verdict: Verdict,
    /// Facts for normalization.
    pub facts: RunFacts,
    /// What the DUT did not apply of the script's backtick commands (the
    /// stack's unmapped sysctls, say), as `line N: …`.
    pub notes: Vec<String>,
    /// Script lines the testbench performed (a packet injected, a call
    /// begun) more than [`LATE_USECS`] after their time (or after the DUT's
    /// packet they follow, if that came later), as `line N: … ms late`. On
    /// a loaded machine the testbench's thread can wake milliseconds late;
    /// a late SYN would shorten the DUT's first RTT sample, and with it
    /// whatever depends on the RTT. So the script clock then moves by that
    /// much ([`crate::target::Target::rebase`]): the script's intervals
    /// count from when the testbench acted, the DUT's timers may look that
    /// much early, and the TS comparison follows real time
    /// ([`crate::trace::TraceEvent::shift`]). A failure next to one of these
    /// may be the machine's, not the DUT's. Always empty on `sim`.
    pub late: Vec<String>,
}

/// How late (µs) a testbench action may be before the run records it in
/// [`RunResult::late`]: an idle machine wakes well under a millisecond late.
pub const LATE_USECS: Micros = 1_000;

/// Settings of a run that do not come from the script.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Timing tolerance (a script's `--tolerance_usecs` overrides it).
    pub tolerance: Tolerance,
    /// packetdrill's rule for outbound packets no line expects: instead of
    /// failing the script at once (this harness's default, so scenarios
    /// catch every extra segment), they queue, and the next `>` line is
    /// checked against the oldest of them; what is left at the end is only
    /// recorded. Public scripts rely on it (a delayed ACK they do not write).
    pub lenient: bool,
    /// Record mode (`oracle fuzz`): the script holds only inbound packets,
    /// calls and waits; every frame the DUT sends is recorded, not an error,
    /// and call results are recorded, not checked. The DUT's ISN and TS
    /// clock are still learnt from its SYN / SYN-ACK, so inbound `ack` and
    /// TS ecr stay relative to the live connection as packetdrill's are.
    pub record: bool,
}

/// Payload byte `i` of frames and writes the runner makes up.
fn payload_byte(i: usize) -> u8 {
    (i % 251) as u8
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(payload_byte).collect()
}

/// The largest TCP payload a 1500-byte IPv4 packet holds without options;
/// an inbound segment longer than the MTU allows is injected as one TSO
/// packet ([`Target::inject_gso`]).
pub const MAX_PLAIN_PAYLOAD: u32 = 1460;

/// How long the runner waits for frames after the last line, or after an
/// error, so the trace shows what the DUT did next.
pub(crate) const DRAIN: Micros = 20_000;

/// A call waiting for its socket to become ready (packetdrill's blocking call).
struct Pending {
    event: usize,
    call: SysCall,
    interest: Interest,
    /// Connect in progress: completes through SO_ERROR.
    connect: bool,
    /// The result check applies when it completes.
    start: Micros,
    /// poll's timeout: the call returns 0 then.
    timeout_at: Option<Micros>,
    /// See [`Runner::end_base`].
    end_base: Micros,
    /// A blocking write: bytes already written before `call`'s.
    written: usize,
}

struct Runner<'a, T: Target + ?Sized> {
    target: &'a mut T,
    script: &'a Script,
    id: Identity,
    tol: Tolerance,
    trace: Trace,
    facts: RunFacts,
    /// Script fd → DUT fd.
    fds: HashMap<i64, i32>,
    nonblocking: HashMap<i64, bool>,
    /// Script fds of UDP sockets.
    udp_fds: std::collections::HashSet<i64>,
    /// TS val the script gave the DUT minus the DUT's real one (packetdrill's
    /// mapping of outbound TS val onto inbound TS ecr), per connection
    /// (testbench port).
    ts_offset: HashMap<u16, i64>,
    /// The DUT's ISN on the other connections (`port N`), by testbench port.
    other_isns: HashMap<u16, u32>,
    /// The DUT's latest TS val, per connection (testbench port).
    last_dut_tsval: HashMap<u16, u32>,
    pending: Option<Pending>,
    ip_ident: u16,
    /// Time of the previous event (script time base for `+` times).
    last_time: Micros,
    /// The ack of the DUT SYN-ACK its ISN was learnt from.
    isn_synack_ack: Option<u32>,
    /// When the previous packet event actually happened.
    last_actual: Micros,
    /// The DUT fd of the socket under test (the latest TCP socket made,
    /// accepted or connected): `%{ }%` blocks read its TCP_INFO.
    sut: Option<i32>,
    /// See [`RunResult::notes`].
    notes: Vec<String>,
    /// See [`RunResult::late`].
    late: Vec<String>,
    /// The segment size of TSO injections: packetdrill's `--mss=N`, else
    /// the MSS the testbench announced in its SYN.
    tb_mss: u16,
    /// `--mss` was given.
    tb_mss_given: bool,
    /// What an unsigned `END` of the current call's `START...END` counts
    /// from: the previous event's time when `START` is relative, else 0.
    end_base: Micros,
    /// [`RunOptions::lenient`].
    lenient: bool,
    /// Variables `%{ }%` blocks assigned.
    py_vars: crate::python::Vars,
    /// Outbound frames no line expected yet (lenient runs only).
    queued: std::collections::VecDeque<(Micros, Vec<u8>)>,
    /// [`RunOptions::record`].
    record: bool,
}

/// Plays `script` on `target`.
pub fn run_script<T: Target + ?Sized>(
    target: &mut T,
    script: &Script,
    opts: RunOptions,
) -> RunResult {
    let tol = opts.tolerance.for_script(script);
    let mut runner = Runner {
        target,
        script,
        id: Identity::STANDARD,
        tol,
        trace: Trace::default(),
        facts: RunFacts {
            dut_port: SCRIPT_PORT,
            tb_port: TESTBENCH_PORT,
            ..RunFacts::default()
        },
        fds: HashMap::new(),
        nonblocking: HashMap::new(),
        udp_fds: Default::default(),
        ts_offset: HashMap::new(),
        other_isns: HashMap::new(),
        last_dut_tsval: HashMap::new(),
        pending: None,
        ip_ident: 0,
        last_time: 0,
        isn_synack_ack: None,
        last_actual: 0,
        sut: None,
        notes: Vec::new(),
        late: Vec::new(),
        tb_mss: script
            .options
            .iter()
            .find(|o| o.name == "mss")
            .and_then(|o| o.value.as_deref()?.parse().ok())
            .unwrap_or(1460),
        tb_mss_given: script.options.iter().any(|o| o.name == "mss"),
        end_base: 0,
        lenient: opts.lenient,
        py_vars: Vec::new(),
        queued: Default::default(),
        record: opts.record,
    };
    let verdict = runner.run();
    RunResult {
        dut: runner.target.name(),
        trace: runner.trace,
        verdict,
        facts: runner.facts,
        notes: runner.notes,
        late: runner.late,
    }
}

type Step = Result<(), Verdict>;

impl<T: Target + ?Sized> Runner<'_, T> {
    fn run(&mut self) -> Verdict {
        // Option lines: the ones that change this run; IPv6 cannot run; the
        // rest of packetdrill's (`--tcp_ts_tick_usecs`, …) are noted.
        for o in &self.script.options {
            match o.name.as_str() {
                "tolerance_usecs" | "tolerance_percent" | "dut_link_up" | "proxy_arp" | "mss" => {}
                "ip_version" if o.value.as_deref() == Some("ipv4") => {}
                "ip_version" => {
                    return Verdict::Unsupported {
                        line: o.span.line,
                        what: format!(
                            "--ip_version={} (IPv4 only)",
                            o.value.as_deref().unwrap_or("")
                        ),
                    }
                }
                other => self.notes.push(format!(
                    "line {}: option --{other} is not used by this harness",
                    o.span.line
                )),
            }
        }
        // `--dut_link_up`: the DUT's interface comes up as the script starts.
        if self.script.options.iter().any(|o| o.name == "dut_link_up") {
            self.target.link_up();
        }
        for (i, ev) in self.script.events.iter().enumerate() {
            if let Err(v) = self.event(i, ev) {
                self.drain();
                return v;
            }
        }
        // The last blocking call must have finished: wait for it until the
        // end of its `START...END` window (what follows the last line).
        let mut end = self.target.now();
        if let Some(t) = self.pending.as_ref().and_then(|p| p.timeout_at) {
            end = end.max(t + 1);
        }
        if let Some(p) = &self.pending {
            let ev = &self.script.events[p.event];
            if let Some(t) = ev.time.as_ref().and_then(|t| t.blocking_end.as_ref()) {
                let due = match *t {
                    TimeSpec::Absolute(us) => Some(p.end_base + us),
                    TimeSpec::Relative(us) => Some(p.start + us),
                    TimeSpec::Any => None,
                };
                if let Some(due) = due {
                    end = end.max(due + self.tol.allowed(due - p.start) + 1);
                }
            }
        }
        while self.pending.is_some() && self.target.now() < end {
            let step = (self.target.now() + 1_000).min(end);
            if let Err(v) = self.idle_until(step, None) {
                return v;
            }
        }
        let end = self.target.now() + DRAIN;
        if let Err(v) = self.idle_until(end, None) {
            return v;
        }
        if let Some(p) = &self.pending {
            let ev = &self.script.events[p.event];
            return self.fail(ev, "blocking call never returned".into());
        }
        Verdict::Passed
    }

    fn fail(&self, ev: &Event, message: String) -> Verdict {
        Verdict::Failed(Failure {
            line: ev.span.line,
            script: ev.text.clone(),
            message,
        })
    }

    fn unsupported(&self, ev: &Event, what: impl Into<String>) -> Verdict {
        Verdict::Unsupported {
            line: ev.span.line,
            what: what.into(),
        }
    }

    /// Records a frame the DUT sent.
    fn record_out(&mut self, at: Micros, line: Option<usize>, bytes: Vec<u8>) {
        self.trace.push(
            at,
            line,
            TraceKind::Frame {
                dir: Dir::Out,
                bytes,
            },
        );
    }

    /// How long to wait for a frame: until `deadline`, but wake up at least
    /// every millisecond while a blocking call is pending, to retry it.
    fn wake_step(&self, now: Micros, deadline: Micros) -> Micros {
        if self.pending.is_some() {
            (now + 1_000).min(deadline)
        } else {
            deadline
        }
    }

    /// Collects what the DUT sends for a little while after the end.
    fn drain(&mut self) {
        for (at, bytes) in std::mem::take(&mut self.queued) {
            self.record_out(at, None, bytes);
        }
        let end = self.target.now() + DRAIN;
        while let Some((at, bytes)) = self.target.recv_frame(end) {
            self.record_out(at, None, bytes);
        }
    }

    /// The script time of an event, resolved against the previous event.
    fn resolve(&self, t: &TimeSpec) -> Option<Micros> {
        match *t {
            TimeSpec::Absolute(us) => Some(us),
            TimeSpec::Relative(us) => Some(self.last_time + us),
            TimeSpec::Any => None,
        }
    }

    fn event(&mut self, index: usize, ev: &Event) -> Step {
        let start = match &ev.time {
            Some(t) => self.resolve(&t.start),
            // A line without a time (a shell command) happens right away.
            None => Some(self.last_time),
        };
        match &ev.kind {
            EventKind::Packet(p) if p.direction == Direction::Outbound => {
                self.outbound(ev, &p.packet, &p.mods, p.ecn, start)
            }
            EventKind::Packet(p) => {
                let t = start.unwrap_or_else(|| self.target.now());
                self.idle_until(t, Some(ev))?;
                self.note_late(ev, t);
                self.last_time = t;
                let mut frame = self.build_inbound(ev, &p.packet, &p.mods)?;
                if let Some(ecn) = p.ecn {
                    // The IP header's ECN field (RFC 3168 5): 00 Not-ECT,
                    // 01 ECT(1), 10 ECT(0), 11 CE.
                    let bits = match ecn {
                        Ecn::NotEct => 0,
                        Ecn::Ect1 => 1,
                        Ecn::Ect0 => 2,
                        Ecn::Ce => 3,
                        Ecn::Ect01 => {
                            return Err(self.fail(
                                ev,
                                "`[ect01]` (either codepoint) matches outbound packets only".into(),
                            ))
                        }
                    };
                    set_ecn(&mut frame, bits);
                }
                if let PacketSpec::Tcp(t) = &p.packet {
                    if t.flags & crate::script::tcp_flags::SYN != 0 && !self.tb_mss_given {
                        if let Some(m) = t.options.as_ref().and_then(|o| o.mss()) {
                            self.tb_mss = m;
                        }
                    }
                }
                let now = self.target.now();
                self.last_actual = now;
                // An IP packet beyond the 1500-byte MTU: one TSO packet of
                // segments of the MSS the testbench announced.
                if frame.len() > 14 + 1500 && matches!(p.packet, PacketSpec::Tcp(_)) {
                    self.target.inject_gso(&frame, self.tb_mss.clamp(1, 1460));
                } else {
                    self.target.inject(&frame);
                }
                self.trace.push(
                    now,
                    Some(ev.span.line),
                    TraceKind::Frame {
                        dir: Dir::In,
                        bytes: frame,
                    },
                );
                Ok(())
            }
            EventKind::Call(call) => {
                let t = start.unwrap_or_else(|| self.target.now());
                self.idle_until(t, Some(ev))?;
                self.note_late(ev, t);
                // packetdrill reads `+A...B` as both times relative to the
                // previous event (`+0...0.100 read` after an event at 0.2
                // returns at 0.3); `A...B` as both absolute.
                self.end_base = match ev.time.as_ref().map(|t| &t.start) {
                    Some(TimeSpec::Relative(_)) => self.last_time,
                    _ => 0,
                };
                self.last_time = t;
                let r = self.call(index, ev, call);
                // What the call sends, it sends before it returns.
                self.last_actual = self.target.now();
                r
            }
            EventKind::Shell(cmd) => {
                if let Some(t) = start {
                    self.idle_until(t, Some(ev))?;
                    self.last_time = t;
                }
                let path = std::path::Path::new(&self.script.path);
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => std::path::Path::new("."),
                };
                match self.target.shell(cmd, dir) {
                    Ok(out) => {
                        let line = ev.span.line;
                        self.notes
                            .extend(out.notes.iter().map(|n| format!("line {line}: {n}")));
                        Ok(())
                    }
                    Err(msg) => Err(self.fail(ev, msg)),
                }
            }
            EventKind::Python(code) => {
                let t = start.unwrap_or_else(|| self.target.now());
                self.idle_until(t, Some(ev))?;
                self.last_time = t;
                let Some(fd) = self.sut else {
                    return Err(self.unsupported(ev, "a %{ }% block before any TCP socket"));
                };
                let fields = match self.target.tcp_info(fd) {
                    Ok(f) => f,
                    Err(e) => {
                        return Err(self.fail(ev, format!("getsockopt(TCP_INFO) failed: {e}")))
                    }
                };
                let mut printed = Vec::new();
                let outcome =
                    crate::python::check_printing(code, &fields, &mut self.py_vars, &mut printed);
                let line = ev.span.line;
                self.notes
                    .extend(printed.iter().map(|p| format!("line {line}: print: {p}")));
                match outcome {
                    crate::python::Outcome::Passed => Ok(()),
                    crate::python::Outcome::Failed(m) => Err(self.fail(ev, m)),
                    crate::python::Outcome::Unsupported(m) => Err(self.unsupported(ev, m)),
                }
            }
        }
    }

    /// Records `ev` in [`RunResult::late`] if the testbench got to it more
    /// than [`LATE_USECS`] after `t`, its time.
    fn note_late(&mut self, ev: &Event, t: Micros) {
        // Not before the DUT's packet this line follows was seen: waiting
        // for it is not being late.
        let late = self.target.now() - t.max(self.last_actual);
        if late > LATE_USECS {
            self.late.push(format!(
                "line {}: {:.1} ms late",
                ev.span.line,
                late as f64 / 1000.0
            ));
            // Keep the script's intervals from here on: what the DUT does
            // in answer is timed from when the testbench acted.
            if self.target.rebase(late) {
                self.trace.shift += late;
            }
        }
    }

    /// Lets time pass until `t`; every frame the DUT sends meanwhile is
    /// unexpected. Pending blocking calls are retried as time passes.
    fn idle_until(&mut self, t: Micros, ev: Option<&Event>) -> Step {
        loop {
            self.poll_pending()?;
            let now = self.target.now();
            if now >= t {
                return Ok(());
            }
            let step = self.wake_step(now, t);
            if let Some((at, bytes)) = self.target.recv_frame(step) {
                if self.lenient {
                    self.queued.push_back((at, bytes));
                    continue;
                }
                let summary = describe_frame(&bytes);
                if self.record {
                    self.learn_recorded(&bytes);
                    self.record_out(at, None, bytes);
                    continue;
                }
                self.record_out(at, None, bytes);
                let msg = format!("unexpected packet: {summary}");
                return Err(match ev {
                    Some(ev) => self.fail(ev, msg),
                    None => Verdict::Failed(Failure {
                        line: self.script.events.last().map_or(0, |e| e.span.line),
                        script: "(end of script)".into(),
                        message: msg,
                    }),
                });
            }
        }
    }

    /// Record mode: what a `>` line would have taught the runner, learnt
    /// from a frame no line expected: the DUT's ISN from its first SYN on
    /// the script's connection (its sequence numbers written relative, as
    /// `S. 0:0(0)` would) and its latest TS val (echoed by inbound TS ecr).
    fn learn_recorded(&mut self, bytes: &[u8]) {
        let Ok(frame) = FrameRepr::parse(bytes) else {
            return;
        };
        let FramePayload::Ipv4(_, IpPayload::Tcp(tcp, _)) = &frame.payload else {
            return;
        };
        if tcp.dst_port != self.facts.tb_port {
            return;
        }
        let synack = tcp.flags.contains(TcpFlags::SYN | TcpFlags::ACK);
        // A SYN-ACK answering another peer SYN than the first one opens a
        // new incarnation with an ISN of its own, as check_tcp finds it.
        let new_incarnation = synack
            && self.facts.dut_isn.is_some()
            && self.isn_synack_ack.is_some_and(|a| a != tcp.ack_number);
        if new_incarnation {
            // The frame is recorded right after this call.
            self.facts.new_isns.push(self.trace.events.len());
        }
        if tcp.flags.contains(TcpFlags::SYN) && (self.facts.dut_isn.is_none() || new_incarnation) {
            self.facts.dut_isn = Some(tcp.seq_number);
            if synack {
                self.isn_synack_ack = Some(tcp.ack_number);
            }
            if self.facts.dut_port_ephemeral {
                self.facts.dut_port = tcp.src_port;
            }
        }
        if let Some((val, _)) = tcp.options.timestamps() {
            self.last_dut_tsval.insert(self.facts.tb_port, val);
        }
    }

    fn outbound(
        &mut self,
        ev: &Event,
        spec: &PacketSpec,
        mods: &PacketMods,
        ecn: Option<Ecn>,
        start: Option<Micros>,
    ) -> Step {
        // `A~B`: anywhere in the window (packetdrill's time range).
        let end = ev
            .time
            .as_ref()
            .and_then(|t| t.range_end.as_ref())
            .and_then(|e| self.resolve(e));
        // The previous event itself may have happened late (an inbound
        // packet injected after a wake-up delay under load): the packet is
        // then due that much later too, as counted from when it happened.
        let late = (self.last_actual - self.last_time).max(0);
        let window = start.map(|t| {
            let a = self.tol.allowed(t - self.last_time);
            (t - a, end.unwrap_or(t).max(t + late) + a, a)
        });
        let deadline = match window {
            Some((_, hi, _)) => hi,
            // `*`: any time; give up after 10 s.
            None => self.target.now() + 10_000_000,
        };
        // Retry a pending call while waiting.
        let (at, bytes) = loop {
            self.poll_pending()?;
            let now = self.target.now();
            let step = self.wake_step(now, deadline);
            let next = match self.queued.pop_front() {
                Some(f) => Some(f),
                None => self.target.recv_frame(step),
            };
            match next {
                Some(f) => break f,
                None if self.target.now() >= deadline => {
                    return Err(
                        self.fail(ev, format!("expected packet did not arrive: {}", ev.text))
                    )
                }
                None => continue,
            }
        };
        self.record_out(at, Some(ev.span.line), bytes.clone());
        self.last_actual = at;
        if let (Some(t), Some((lo, _, a))) = (start, window) {
            if at < lo {
                return Err(self.fail(
                    ev,
                    format!(
                        "timing error: expected outbound packet at {:.6} sec but happened at {:.6} sec; tolerance {:.6} sec",
                        secs(t),
                        secs(at),
                        secs(a)
                    ),
                ));
            }
        }
        // The next relative time counts from when this packet was due: its
        // script time, or the actual time within a window.
        self.last_time = match (start, end) {
            (Some(t), Some(e)) => at.clamp(t, e.max(t)),
            (Some(t), None) => t,
            (None, _) => at,
        };
        // packetdrill's tun device hands it a TSO/GSO burst as one packet,
        // so public scripts write `P. 1:10001(10000)` for ten segments; the
        // veth DUTs here send them segmented. A data segment shorter than the
        // line expects is merged with the contiguous segments right behind it.
        let merged = match (spec, tcp_of(&bytes)) {
            (PacketSpec::Tcp(s), Some((tcp, len))) if len > 0 && (len as u32) < s.len => {
                let a = self.tol.allowed(0);
                Some(self.gso_merge(ev, tcp, len, s.len as usize, at + a.max(1_000)))
            }
            _ => None,
        };
        self.check_outbound(ev, spec, mods, ecn, &bytes, merged)
    }

    /// Collects the segments that continue `first` (contiguous sequence
    /// numbers, same ACK) until `want` bytes or `until`; returns the merged
    /// header (PSH and FIN of the last, as tcp_gso_segment leaves them only
    /// on the last segment) and the total length.
    fn gso_merge(
        &mut self,
        ev: &Event,
        first: TcpRepr,
        len: usize,
        want: usize,
        until: Micros,
    ) -> (TcpRepr, usize) {
        let mut merged = first;
        let mut total = len;
        while total < want {
            let next = match self.queued.pop_front() {
                Some(f) => Some(f),
                None => self.target.recv_frame(until),
            };
            let Some((at, bytes)) = next else {
                break;
            };
            let next = tcp_of(&bytes);
            self.record_out(at, Some(ev.span.line), bytes);
            match next {
                Some((t, n))
                    if n > 0
                        && t.seq_number == merged.seq_number.wrapping_add(total as u32)
                        && t.ack_number == merged.ack_number
                        && t.src_port == merged.src_port =>
                {
                    total += n;
                    let tail = TcpFlags::PSH.0 | TcpFlags::FIN.0;
                    merged.flags = TcpFlags((merged.flags.0 & !tail) | (t.flags.0 & tail));
                }
                // Not a continuation: the check reports the short length.
                _ => break,
            }
        }
        merged.payload_len = total;
        (merged, total)
    }

    fn check_outbound(
        &mut self,
        ev: &Event,
        spec: &PacketSpec,
        mods: &PacketMods,
        ecn: Option<Ecn>,
        bytes: &[u8],
        merged: Option<(TcpRepr, usize)>,
    ) -> Step {
        let frame = match FrameRepr::parse(bytes) {
            Ok(f) => f,
            Err(e) => return Err(self.fail(ev, format!("outbound frame does not parse: {e}"))),
        };
        let id = self.id;
        let mut errs: Vec<String> = Vec::new();
        // Addresses of an outbound IPv4 frame: the DUT's to the testbench's
        // unless the line says otherwise (`src`, `dst`, `to`).
        let want_src = mods.src.unwrap_or(id.dut_ip);
        let want_dst = mods.dst.unwrap_or(id.tb_ip);
        let want_mac = match mods.eth_dst {
            None => Some(id.tb_mac),
            Some(m) => self.mac(Some(&m)),
        };
        if let FramePayload::Ipv4(ip, _) = &frame.payload {
            if ip.src_addr != want_src || ip.dst_addr != want_dst {
                errs.push(format!(
                    "addresses {} > {} (expected {want_src} > {want_dst})",
                    ip.src_addr, ip.dst_addr
                ));
            }
            if let Some(want) = ecn {
                let got = ip.tos & 3;
                let ok = match want {
                    Ecn::NotEct => got == 0,
                    Ecn::Ect1 => got == 1,
                    Ecn::Ect0 => got == 2,
                    Ecn::Ce => got == 3,
                    Ecn::Ect01 => got == 1 || got == 2,
                };
                if !ok {
                    let name = ["[noecn]", "[ect1]", "[ect0]", "[ce]"][usize::from(got)];
                    errs.push(format!("ECN {name} (expected {want})"));
                }
            }
            if let Some(ttl) = mods.ttl {
                if ip.ttl != ttl {
                    errs.push(format!("ttl {} (expected {ttl})", ip.ttl));
                }
            }
            if want_mac.is_some_and(|m| m != frame.eth.dst_addr) {
                errs.push(format!("ethernet destination {}", frame.eth.dst_addr));
            }
        }
        match (spec, &frame.payload) {
            (PacketSpec::Tcp(s), FramePayload::Ipv4(_, IpPayload::Tcp(tcp, data))) => match &merged
            {
                Some((m, total)) => self.check_tcp(s, m, *total, &mut errs),
                None => self.check_tcp(s, tcp, data.len(), &mut errs),
            },
            (PacketSpec::Arp(s), FramePayload::Arp(arp)) => {
                // Ethernet destination: `to MAC`, else broadcast for a
                // who-has and the testbench for a reply.
                let (to, default) = match s {
                    ArpSpec::Request { eth_dst, .. } => (eth_dst, EthernetAddress::BROADCAST),
                    ArpSpec::Reply { eth_dst, .. } => (eth_dst, id.tb_mac),
                };
                let want = match to {
                    None => Some(default),
                    Some(m) => self.mac(Some(m)),
                };
                if want.is_some_and(|m| m != frame.eth.dst_addr) {
                    errs.push(format!("ethernet destination {}", frame.eth.dst_addr));
                }
                check_arp(s, arp, &id, &mut errs)
            }
            (PacketSpec::Icmp(s), FramePayload::Ipv4(_, IpPayload::Icmp(icmp))) => {
                check_icmp(s, icmp, &id, self.facts.dut_port, &mut errs);
            }
            (PacketSpec::Udp(s), FramePayload::Ipv4(_, IpPayload::Udp(udp, data))) => {
                // packetdrill's `udp (LEN)`: the script's ports (the DUT's
                // bound or chosen port to the testbench's) and the length.
                let dut_port = self.facts.dut_port;
                if udp.src_port != dut_port || udp.dst_port != self.facts.tb_port {
                    errs.push(format!(
                        "ports {} > {} (expected {dut_port} > {})",
                        udp.src_port, udp.dst_port, self.facts.tb_port
                    ));
                }
                if data.len() != s.len as usize {
                    errs.push(format!("length {} (expected {})", data.len(), s.len));
                }
            }
            _ => errs.push(format!("wrong kind of packet: {}", describe_frame(bytes))),
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(self.fail(
                ev,
                format!(
                    "bad outbound packet: {}\n  actual: {}",
                    errs.join("; "),
                    describe_frame(bytes)
                ),
            ))
        }
    }

    fn check_tcp(&mut self, s: &TcpSpec, tcp: &TcpRepr, len: usize, errs: &mut Vec<String>) {
        if tcp.flags.0 != s.flags {
            errs.push(format!(
                "flags {} (expected {})",
                flag_letters(tcp.flags.0),
                flag_letters(s.flags)
            ));
        }
        // A SYN-ACK answering another peer SYN than the one the ISN was learnt
        // from is a new incarnation (e.g. after TIME-WAIT). Written `S. 0:0(0)`
        // it has an ISN of its own, learnt here as packetdrill does for each
        // SYN (and normalize.rs counts from it); written with another sequence
        // number, that number is checked against the old ISN (Linux's ISN for
        // a SYN accepted in TIME-WAIT is the old SND.NXT + 65537).
        let tb_port = self.tb_port_of(s);
        let main = tb_port == self.facts.tb_port;
        let synack = tcp.flags.contains(TcpFlags::SYN | TcpFlags::ACK);
        let new_incarnation = main
            && synack
            && s.seq == 0
            && self.isn_synack_ack.is_some_and(|a| a != tcp.ack_number);
        if tcp.flags.contains(TcpFlags::SYN) && (self.isn_of(tb_port).is_none() || new_incarnation)
        {
            let isn = tcp.seq_number.wrapping_sub(s.seq);
            if main {
                if new_incarnation {
                    // check_tcp runs on the frame just recorded.
                    let index = self.trace.events.len().saturating_sub(1);
                    self.facts.new_isns.push(index);
                }
                self.isn_synack_ack = synack.then_some(tcp.ack_number);
                self.facts.dut_isn = Some(isn);
                if self.facts.dut_port_ephemeral {
                    self.facts.dut_port = tcp.src_port;
                }
            } else {
                self.other_isns.insert(tb_port, isn);
            }
        }
        if tcp.src_port != self.facts.dut_port || tcp.dst_port != tb_port {
            errs.push(format!(
                "ports {} > {} (expected {} > {})",
                tcp.src_port, tcp.dst_port, self.facts.dut_port, tb_port
            ));
        }
        // A RST answering a segment that matched no connection carries seq 0
        // or the segment's ack: both are literal in the script when no ISN is
        // known yet.
        let isn = self.isn_of(tb_port).unwrap_or(0);
        let rel_seq = tcp.seq_number.wrapping_sub(isn);
        // A RST|ACK with seq 0 answers a segment that matched no connection
        // (RFC 9293 3.10.7.1), also after the script's connection is gone:
        // `R. 0:0(0)` is literal then.
        let literal_rst = tcp.flags.contains(TcpFlags::RST) && tcp.seq_number == 0 && s.seq == 0;
        if rel_seq != s.seq && !literal_rst {
            errs.push(format!("seq {rel_seq} (expected {})", s.seq));
        }
        if len as u32 != s.len {
            errs.push(format!("length {len} (expected {})", s.len));
        }
        if let Some(ack) = s.ack {
            if tcp.ack_number != ack {
                errs.push(format!("ack {} (expected {ack})", tcp.ack_number));
            }
        }
        if let Some(win) = s.win {
            if u32::from(tcp.window_len) != win {
                errs.push(format!("win {} (expected {win})", tcp.window_len));
            }
        }
        match &s.options {
            None | Some(TcpOptionsSpec::Any) => {
                self.learn_ts(s, tcp);
            }
            Some(TcpOptionsSpec::List(want)) => {
                let got: Vec<TcpOption> = tcp.options.iter().collect();
                let got = strip_trailing_eol(&got);
                if got.len() != want.len() {
                    errs.push(format!(
                        "options <{}> (expected <{}>)",
                        options_text(got),
                        want.iter()
                            .map(|o| o.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    ));
                } else {
                    for (g, w) in got.iter().zip(want) {
                        if !self.option_matches(g, w) {
                            errs.push(format!("option {} (expected {w})", option_text(g)));
                        }
                    }
                }
                self.learn_ts(s, tcp);
            }
        }
    }

    /// packetdrill maps the script's outbound TS val onto the DUT's real one,
    /// and uses the same offset for the TS ecr of later inbound packets.
    fn learn_ts(&mut self, s: &TcpSpec, tcp: &TcpRepr) {
        let script_val = match &s.options {
            Some(TcpOptionsSpec::List(l)) => l.iter().find_map(|o| match o {
                TcpOptionSpec::Timestamp { val, .. } => Some(*val),
                _ => None,
            }),
            _ => None,
        };
        // Per connection: Linux 6.18 draws the TS offset per 4-tuple.
        let tb_port = self.tb_port_of(s);
        if let Some((val, _)) = tcp.options.timestamps() {
            self.last_dut_tsval.insert(tb_port, val);
            if let Some(sv) = script_val {
                self.ts_offset
                    .insert(tb_port, i64::from(val) - i64::from(sv));
            }
        }
    }

    fn option_matches(&self, got: &TcpOption, want: &TcpOptionSpec) -> bool {
        match (got, want) {
            (TcpOption::NoOperation, TcpOptionSpec::Nop) => true,
            (TcpOption::EndOfList, TcpOptionSpec::Eol) => true,
            (TcpOption::MaxSegmentSize(a), TcpOptionSpec::Mss(b)) => a == b,
            (TcpOption::WindowScale(a), TcpOptionSpec::WScale(b)) => a == b,
            (TcpOption::SackPermitted, TcpOptionSpec::SackOk) => true,
            (TcpOption::SackRange { count, blocks }, TcpOptionSpec::Sack(want)) => {
                let got = &blocks[..usize::from(*count).min(blocks.len())];
                got.len() == want.len() && got.iter().zip(want).all(|(g, w)| *g == (w.0, w.1))
            }
            // The DUT's TS val is its own clock: learnt, not checked; the ecr
            // echoes the testbench's TS val, which the script gives literally.
            (TcpOption::Timestamps { tsecr, .. }, TcpOptionSpec::Timestamp { ecr, .. }) => {
                tsecr == ecr
            }
            _ => false,
        }
    }

    /// The frame of an inbound line, with its modifiers applied.
    fn build_inbound(
        &mut self,
        ev: &Event,
        spec: &PacketSpec,
        mods: &PacketMods,
    ) -> Result<Vec<u8>, Verdict> {
        let mut frame = self.build_inbound_plain(ev, spec, mods)?;
        if matches!(spec, PacketSpec::Arp(_)) {
            return Ok(frame);
        }
        if let Some(m) = mods.eth_dst {
            match self.mac(Some(&m)) {
                Some(mac) => frame[..6].copy_from_slice(mac.as_bytes()),
                None => return Err(self.fail(ev, "`to *` on an inbound packet".into())),
            }
        }
        apply_ip_mods(&mut frame, spec, mods);
        Ok(frame)
    }

    fn build_inbound_plain(
        &mut self,
        ev: &Event,
        spec: &PacketSpec,
        mods: &PacketMods,
    ) -> Result<Vec<u8>, Verdict> {
        let id = self.id;
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let ident = mods.ip_id.unwrap_or(self.ip_ident);
        let ip = |protocol, dont_frag| Ipv4Repr {
            ident,
            dont_frag,
            ..Ipv4Repr::unfragmented(
                mods.src.unwrap_or(id.tb_ip),
                mods.dst.unwrap_or(id.dut_ip),
                protocol,
                mods.ttl.unwrap_or(64),
                0,
            )
        };
        let eth = EthernetRepr {
            src_addr: id.tb_mac,
            dst_addr: id.dut_mac,
            ethertype: EtherType::Ipv4,
        };
        match spec {
            PacketSpec::Tcp(s) => {
                let mut options = TcpOptions::default();
                match &s.options {
                    None => {}
                    Some(TcpOptionsSpec::Any) => {
                        return Err(
                            self.fail(ev, "`<...>` is only allowed on outbound packets".into())
                        )
                    }
                    Some(TcpOptionsSpec::List(list)) => {
                        for o in list {
                            let opt = self.inbound_option(o, self.tb_port_of(s));
                            if options.push(opt).is_err() {
                                return Err(self.fail(ev, "TCP options exceed 40 bytes".into()));
                            }
                        }
                    }
                }
                let tb_port = self.tb_port_of(s);
                let ack = match s.ack {
                    Some(a) => a.wrapping_add(self.isn_of(tb_port).unwrap_or(0)),
                    None => 0,
                };
                let data = payload(s.len as usize);
                let tcp = TcpRepr {
                    src_port: tb_port,
                    dst_port: self.facts.dut_port,
                    seq_number: s.seq,
                    ack_number: ack,
                    flags: TcpFlags(s.flags),
                    window_len: s.win.unwrap_or(65535).min(65535) as u16,
                    urgent_pointer: s.urg.unwrap_or(0) as u16,
                    options,
                    payload_len: data.len(),
                };
                let frame = FrameRepr {
                    eth,
                    payload: FramePayload::Ipv4(
                        ip(IpProtocol::Tcp, true),
                        IpPayload::Tcp(tcp, &data),
                    ),
                };
                Ok(frame.to_vec())
            }
            PacketSpec::Icmp(IcmpSpec::Echo {
                kind: EchoType::Request,
                id: ident,
                seq,
                len,
            }) => {
                let data = payload(*len as usize);
                let frame = FrameRepr {
                    eth,
                    payload: FramePayload::Ipv4(
                        ip(IpProtocol::Icmp, false),
                        IpPayload::Icmp(Icmpv4Repr::EchoRequest {
                            ident: *ident,
                            seq_no: *seq,
                            data: &data,
                        }),
                    ),
                };
                Ok(frame.to_vec())
            }
            PacketSpec::Icmp(IcmpSpec::Error {
                type_name,
                code,
                mtu,
                echoed,
            }) => {
                // packetdrill's inbound ICMP error: about a packet the DUT
                // sent, quoting its IP header and first 8 transport bytes
                // (RFC 792), as a router on the path would.
                let Some((ty, Some(code))) = icmp_error_numbers(type_name, code.as_deref()) else {
                    return Err(self.fail(
                        ev,
                        "an inbound ICMP error needs a known type and code".into(),
                    ));
                };
                let quoted = match echoed {
                    Some(e) => self.quote_dut_packet(e),
                    None => Vec::new(),
                };
                let icmp = match ty {
                    3 => Icmpv4Repr::DstUnreachable {
                        code,
                        next_hop_mtu: mtu.unwrap_or(0).min(65535) as u16,
                        data: &quoted,
                    },
                    11 => Icmpv4Repr::TimeExceeded {
                        code,
                        data: &quoted,
                    },
                    _ => return Err(self.unsupported(ev, format!("inbound ICMP {type_name}"))),
                };
                let frame = FrameRepr {
                    eth,
                    payload: FramePayload::Ipv4(ip(IpProtocol::Icmp, false), IpPayload::Icmp(icmp)),
                };
                Ok(frame.to_vec())
            }
            PacketSpec::Udp(u) => {
                // packetdrill's `udp (LEN)`: testbench port to the script's port.
                let data = payload(u.len as usize);
                let udp = UdpRepr {
                    src_port: self.facts.tb_port,
                    dst_port: self.facts.dut_port,
                    payload_len: data.len(),
                };
                let frame = FrameRepr {
                    eth,
                    payload: FramePayload::Ipv4(
                        ip(IpProtocol::Udp, false),
                        IpPayload::Udp(udp, &data),
                    ),
                };
                Ok(frame.to_vec())
            }
            PacketSpec::Arp(ArpSpec::Request {
                target_ip: target,
                sender_ip: sender,
                sender_mac,
                eth_dst,
            }) => {
                let sha = self.mac(sender_mac.as_ref()).unwrap_or(id.tb_mac);
                let dst = self
                    .mac(eth_dst.as_ref())
                    .unwrap_or(EthernetAddress::BROADCAST);
                let arp = ArpRepr {
                    operation: ArpOperation::Request,
                    source_hardware_addr: sha,
                    source_protocol_addr: *sender,
                    target_hardware_addr: EthernetAddress([0; 6]),
                    target_protocol_addr: *target,
                };
                let frame = FrameRepr {
                    eth: EthernetRepr {
                        src_addr: sha,
                        dst_addr: dst,
                        ethertype: EtherType::Arp,
                    },
                    payload: FramePayload::Arp(arp),
                };
                Ok(frame.to_vec())
            }
            PacketSpec::Arp(ArpSpec::Reply {
                sender_ip,
                sender_mac,
                eth_dst,
            }) => {
                // A reply to the DUT; one sent to the broadcast MAC is a
                // gratuitous reply (RFC 5227 2.4's ARP Announcement as a
                // reply, as `arping -A` sends it): its target is the sender
                // itself, hardware address included (Linux arp_is_garp
                // needs tha == sha for a reply).
                let Some(sha) = self.mac(Some(sender_mac)) else {
                    return Err(self.fail(ev, "`is-at *` on an inbound reply".into()));
                };
                let dst = self.mac(eth_dst.as_ref()).unwrap_or(id.dut_mac);
                let (tha, tpa) = if dst.is_broadcast() {
                    (sha, *sender_ip)
                } else {
                    (id.dut_mac, id.dut_ip)
                };
                let arp = ArpRepr {
                    operation: ArpOperation::Reply,
                    source_hardware_addr: sha,
                    source_protocol_addr: *sender_ip,
                    target_hardware_addr: tha,
                    target_protocol_addr: tpa,
                };
                let frame = FrameRepr {
                    eth: EthernetRepr {
                        src_addr: sha,
                        dst_addr: dst,
                        ethertype: EtherType::Arp,
                    },
                    payload: FramePayload::Arp(arp),
                };
                Ok(frame.to_vec())
            }
            other => Err(self.unsupported(ev, format!("inbound {}", spec_kind(other)))),
        }
    }

    /// The IPv4 header and first 8 transport bytes of a packet the DUT sent
    /// on the script's connection (`[START:END(LEN)]`, sequence numbers
    /// relative to its ISN) or socket (`[udp (LEN)]`).
    fn quote_dut_packet(&self, e: &IcmpEchoed) -> Vec<u8> {
        let id = self.id;
        let (proto, l4_len, head): (u8, usize, [u8; 8]) = match *e {
            IcmpEchoed::Tcp { seq, len, .. } => {
                let isn = self.isn_of(self.facts.tb_port).unwrap_or(0);
                let mut h = [0u8; 8];
                h[0..2].copy_from_slice(&self.facts.dut_port.to_be_bytes());
                h[2..4].copy_from_slice(&self.facts.tb_port.to_be_bytes());
                h[4..8].copy_from_slice(&seq.wrapping_add(isn).to_be_bytes());
                // A data segment with the timestamps option.
                (6, 32 + len as usize, h)
            }
            IcmpEchoed::Udp { len } => {
                let mut h = [0u8; 8];
                h[0..2].copy_from_slice(&self.facts.dut_port.to_be_bytes());
                h[2..4].copy_from_slice(&self.facts.tb_port.to_be_bytes());
                h[4..6].copy_from_slice(&((len + 8).min(65535) as u16).to_be_bytes());
                (17, 8 + len as usize, h)
            }
        };
        let total = (20 + l4_len).min(65535) as u16;
        let mut q = vec![0x45, 0];
        q.extend_from_slice(&total.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
        q.extend_from_slice(&id.dut_ip.octets());
        q.extend_from_slice(&id.tb_ip.octets());
        let c = ones_sum(&q);
        q[10..12].copy_from_slice(&c.to_be_bytes());
        q.extend_from_slice(&head);
        q
    }

    fn mac(&self, m: Option<&MacSpec>) -> Option<EthernetAddress> {
        match m? {
            MacSpec::Literal(b) => Some(EthernetAddress(*b)),
            MacSpec::Dut => Some(self.id.dut_mac),
            MacSpec::Testbench => Some(self.id.tb_mac),
            MacSpec::Any => None,
        }
    }

    /// The testbench port of a segment's connection (`port N`, else the script's).
    fn tb_port_of(&self, s: &TcpSpec) -> u16 {
        s.port.unwrap_or(self.facts.tb_port)
    }

    /// The DUT's ISN on the connection with testbench port `tb_port`, once seen.
    fn isn_of(&self, tb_port: u16) -> Option<u32> {
        if tb_port == self.facts.tb_port {
            self.facts.dut_isn
        } else {
            self.other_isns.get(&tb_port).copied()
        }
    }

    fn inbound_option(&self, o: &TcpOptionSpec, tb_port: u16) -> TcpOption {
        match o {
            TcpOptionSpec::Nop => TcpOption::NoOperation,
            TcpOptionSpec::Eol => TcpOption::EndOfList,
            TcpOptionSpec::Mss(m) => TcpOption::MaxSegmentSize(*m),
            TcpOptionSpec::WScale(w) => TcpOption::WindowScale(*w),
            TcpOptionSpec::SackOk => TcpOption::SackPermitted,
            TcpOptionSpec::Sack(blocks) => {
                let mut arr = [(0u32, 0u32); stack::wire::TCP_MAX_SACK_BLOCKS];
                let n = blocks.len().min(arr.len());
                for (slot, b) in arr.iter_mut().zip(blocks.iter()) {
                    // SACK blocks name the DUT's sequence space, relative to its ISN.
                    let isn = self.isn_of(tb_port).unwrap_or(0);
                    *slot = (b.0.wrapping_add(isn), b.1.wrapping_add(isn));
                }
                TcpOption::SackRange {
                    count: n as u8,
                    blocks: arr,
                }
            }
            TcpOptionSpec::Timestamp { val, ecr } => {
                // An ecr of 0 means "nothing to echo" and stays 0. Without a
                // mapping (the script never gave the DUT's TS val, e.g. `<...>`)
                // the ecr echoes the DUT's latest TS val, as a real peer would.
                let ecr = match (
                    *ecr,
                    self.ts_offset.get(&tb_port).copied(),
                    self.last_dut_tsval.get(&tb_port).copied(),
                ) {
                    (0, _, _) => 0,
                    (e, Some(off), _) => (i64::from(e) + off) as u32,
                    (_, None, Some(last)) => last,
                    (e, None, None) => e,
                };
                TcpOption::Timestamps {
                    tsval: *val,
                    tsecr: ecr,
                }
            }
        }
    }

    fn call(&mut self, index: usize, ev: &Event, call: &CallEvent) -> Step {
        if self.pending.is_some() {
            return Err(self.unsupported(ev, "a call while another blocking call is pending"));
        }
        let Some(sys) = self.resolve_call(ev, call)? else {
            return Ok(());
        };
        if let Some(why) = self.target.unsupported(&sys) {
            return Err(self.unsupported(ev, why));
        }
        let script_fd = call.args.first().and_then(|a| match a {
            Expr::Int(v) => Some(*v),
            _ => None,
        });
        let blocking = script_fd
            .map(|fd| !self.nonblocking.get(&fd).copied().unwrap_or(false))
            .unwrap_or(true);
        if let SysCall::SoError { .. } = sys {
            // getsockopt(fd, SOL_SOCKET, SO_ERROR, [VALUE], [4]) = 0: the
            // pending error is the out-value, the call itself returns 0.
            let got = self.target.syscall(&sys);
            if let Ok(v) = got {
                let want = match call.args.get(3) {
                    Some(Expr::Array(a)) => match a.first() {
                        Some(Expr::Int(n)) => Some(*n),
                        Some(Expr::Ident(name)) => {
                            crate::kernel::Errno::from_name(name).map(|e| i64::from(e.0))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(want) = want.filter(|_| !self.record) {
                    if want != v {
                        let name = |n: i64| {
                            if n == 0 {
                                "0".to_string()
                            } else {
                                Errno(n as i32).name().to_string()
                            }
                        };
                        return Err(self.fail(
                            ev,
                            format!("SO_ERROR is {}, expected {}", name(v), name(want)),
                        ));
                    }
                }
            }
            let out = got.as_ref().ok().map(|&v| {
                if v == 0 {
                    "[0]".to_string()
                } else {
                    format!("[{}]", Errno(v as i32).name())
                }
            });
            return self.finish_call_out(ev, call, &sys, got.map(|_| 0), out);
        }
        if let SysCall::GetSockOpt { name, .. } = sys {
            // getsockopt(fd, level, name, [VALUE], [4]) = 0: the option's
            // value is the out-value, checked when the script gives one.
            let got = self.target.syscall(&sys);
            if let (Ok(v), Some(Expr::Array(a))) = (&got, call.args.get(3)) {
                if let Some(Expr::Int(want)) = a.first().filter(|_| !self.record) {
                    if want != v {
                        return Err(self.fail(
                            ev,
                            format!("{} is {v}, expected {want}", name.script_name()),
                        ));
                    }
                }
            }
            let out = got.as_ref().ok().map(|v| format!("[{v}]"));
            return self.finish_call_out(ev, call, &sys, got.map(|_| 0), out);
        }
        if let SysCall::Connect { fd, .. } = sys {
            if !self.udp_fds.contains(&script_fd.unwrap_or(-1)) {
                self.sut = Some(fd);
            }
        }
        if let SysCall::Ioctl { req, .. } = sys {
            // ioctl(fd, SIOCINQ, [VALUE]) = 0: the queue length is the
            // out-value, checked when the script gives one.
            let got = self.target.syscall(&sys);
            if let (Ok(v), Some(Expr::Array(a))) = (&got, call.args.get(2)) {
                if let Some(Expr::Int(want)) = a.first() {
                    if want != v {
                        return Err(
                            self.fail(ev, format!("ioctl {req:?} gave {v}, expected {want}"))
                        );
                    }
                }
            }
            let out = got.as_ref().ok().map(|v| format!("[{v}]"));
            return self.finish_call_out(ev, call, &sys, got.map(|_| 0), out);
        }
        if let SysCall::Poll { fd, .. } = sys {
            let timeout = self.int_arg(ev, call, 2)?;
            let got = self.target.syscall(&sys);
            if got == Ok(0) && timeout != 0 {
                // Nothing ready yet: wait for readiness or the timeout, as a
                // blocking call (a negative timeout waits for ever).
                let now = self.target.now();
                self.pending = Some(Pending {
                    event: index,
                    call: sys.clone(),
                    interest: Interest::Readable,
                    connect: false,
                    start: now,
                    timeout_at: (timeout > 0).then(|| now + timeout * 1000),
                    end_base: self.end_base,
                    written: 0,
                });
                let _ = fd;
                return Ok(());
            }
            return self.finish_poll(ev, call, &sys, got);
        }
        let result = self.target.syscall(&sys);
        match (&sys, result) {
            (SysCall::Connect { fd, .. }, Err(e)) if e == Errno::EINPROGRESS && blocking => {
                self.pending = Some(Pending {
                    event: index,
                    call: SysCall::SoError { fd: *fd },
                    interest: Interest::Writable,
                    connect: true,
                    start: self.target.now(),
                    timeout_at: None,
                    end_base: self.end_base,
                    written: 0,
                });
                Ok(())
            }
            (
                SysCall::Accept { fd }
                | SysCall::Read { fd, .. }
                | SysCall::RecvFrom { fd, .. }
                | SysCall::Write { fd, .. },
                Err(e),
            ) if e == Errno::EAGAIN && blocking => {
                let interest = if matches!(sys, SysCall::Write { .. }) {
                    Interest::Writable
                } else {
                    Interest::Readable
                };
                let _ = fd;
                self.pending = Some(Pending {
                    event: index,
                    call: sys.clone(),
                    interest,
                    connect: false,
                    start: self.target.now(),
                    timeout_at: None,
                    end_base: self.end_base,
                    written: 0,
                });
                Ok(())
            }
            // A blocking write returns when all of it is queued (tcp_sendmsg
            // waits for room): the rest is written as room frees up.
            (SysCall::Write { fd, len }, Ok(n)) if blocking && (n as usize) < *len => {
                self.pending = Some(Pending {
                    event: index,
                    call: SysCall::Write {
                        fd: *fd,
                        len: *len - n as usize,
                    },
                    interest: Interest::Writable,
                    connect: false,
                    start: self.target.now(),
                    timeout_at: None,
                    end_base: self.end_base,
                    written: n as usize,
                });
                Ok(())
            }
            (_, r) => self.finish_call(ev, call, &sys, r),
        }
    }

    /// Retries the pending blocking call once.
    fn poll_pending(&mut self) -> Step {
        let Some(p) = &self.pending else {
            return Ok(());
        };
        if let SysCall::Poll { .. } = p.call {
            // A blocking poll: done once something is ready or at its timeout.
            let got = self.target.syscall(&p.call);
            let timed_out = p.timeout_at.is_some_and(|t| self.target.now() >= t);
            if got == Ok(0) && !timed_out {
                return Ok(());
            }
            let p = self.pending.take().expect("checked above");
            let ev = &self.script.events[p.event];
            let EventKind::Call(call) = &ev.kind else {
                return Ok(());
            };
            return self.finish_poll(ev, call, &p.call, got);
        }
        let fd = match p.call {
            SysCall::SoError { fd }
            | SysCall::Accept { fd }
            | SysCall::Read { fd, .. }
            | SysCall::RecvFrom { fd, .. }
            | SysCall::Write { fd, .. } => fd,
            _ => return Ok(()),
        };
        if !self.target.is_ready(fd, p.interest) {
            return Ok(());
        }
        let p = self.pending.take().expect("checked above");
        let result = if p.connect {
            match self.target.syscall(&p.call) {
                Ok(0) => Ok(0),
                Ok(e) => Err(Errno(e as i32)),
                Err(e) => Err(e),
            }
        } else {
            self.target.syscall(&p.call)
        };
        if result == Err(Errno::EAGAIN) {
            // Spurious readiness: keep waiting.
            self.pending = Some(p);
            return Ok(());
        }
        let mut p = p;
        let result = match (&p.call, result) {
            (SysCall::Write { fd, len }, Ok(n)) if (n as usize) < *len => {
                // Part of a blocking write: keep going with the rest.
                p.written += n as usize;
                p.call = SysCall::Write {
                    fd: *fd,
                    len: *len - n as usize,
                };
                self.pending = Some(p);
                return Ok(());
            }
            (SysCall::Write { len, .. }, Ok(n)) if p.written > 0 => {
                let _ = len;
                Ok(n + p.written as i64)
            }
            // An error after part was written: the part is the result.
            (SysCall::Write { .. }, Err(_)) if p.written > 0 => Ok(p.written as i64),
            (_, r) => r,
        };
        let ev = &self.script.events[p.event];
        let EventKind::Call(call) = &ev.kind else {
            return Ok(());
        };
        // `START...END`: the call must return at END.
        if let Some(end) = ev.time.as_ref().and_then(|t| t.blocking_end.as_ref()) {
            let end = match *end {
                TimeSpec::Absolute(us) => Some(p.end_base + us),
                TimeSpec::Relative(us) => Some(p.start + us),
                TimeSpec::Any => None,
            };
            if let Some(end) = end {
                let now = self.target.now();
                let a = self.tol.allowed(end - p.start);
                if (now - end).abs() > a {
                    return Err(self.fail(
                        ev,
                        format!(
                            "timing error: expected blocking call to return at {:.6} sec but it returned at {:.6} sec",
                            secs(end),
                            secs(now)
                        ),
                    ));
                }
            }
        }
        let sys = p.call.clone();
        self.finish_call(ev, call, &sys, result)
    }

    /// A finished poll: the result is the number of ready fds (0 or 1) and
    /// revents, when the script gives it, must match.
    fn finish_poll(
        &mut self,
        ev: &Event,
        call: &CallEvent,
        sys: &SysCall,
        got: Result<i64, Errno>,
    ) -> Step {
        let (_, _, want_revents) = self.pollfd_arg(ev, call)?;
        let names = |bits: i64| -> String {
            let v: Vec<&str> = crate::target::POLL_BITS
                .iter()
                .filter(|(_, b)| bits & i64::from(*b) != 0)
                .map(|(n, _)| *n)
                .collect();
            if v.is_empty() {
                "0".into()
            } else {
                v.join("|")
            }
        };
        if let (Ok(revents), Some(want)) = (&got, want_revents) {
            if *revents != i64::from(want) {
                return Err(self.fail(
                    ev,
                    format!(
                        "poll revents {}, expected {}",
                        names(*revents),
                        names(want.into())
                    ),
                ));
            }
        }
        let out = got
            .as_ref()
            .ok()
            .map(|&r| format!("[revents={}]", names(r)));
        let count = got.map(|r| i64::from(r != 0));
        self.finish_call_out(ev, call, sys, count, out)
    }

    fn finish_call(
        &mut self,
        ev: &Event,
        call: &CallEvent,
        sys: &SysCall,
        result: Result<i64, Errno>,
    ) -> Step {
        self.finish_call_out(ev, call, sys, result, None)
    }

    /// Records a finished call (with the value it wrote out, if any, e.g. the
    /// SO_ERROR of getsockopt) and checks its result against the script.
    fn finish_call_out(
        &mut self,
        ev: &Event,
        call: &CallEvent,
        sys: &SysCall,
        result: Result<i64, Errno>,
        out: Option<String>,
    ) -> Step {
        let now = self.target.now();
        let new_fd = matches!(
            sys,
            SysCall::SocketStream | SysCall::SocketDgram | SysCall::Accept { .. }
        );
        let text = match (&result, call.result.value) {
            // A new fd is shown by its script number: the DUT's own number
            // is its business (packetdrill maps them the same way).
            (Ok(_), Some(want)) if new_fd => format!("{want}"),
            (Ok(v), _) => format!("{v}"),
            (Err(e), _) => format!("-1 {}", e.name()),
        };
        self.trace.push(
            now,
            Some(ev.span.line),
            TraceKind::Call {
                text: call_text(call),
                result: match &out {
                    Some(o) => format!("{text} {o}"),
                    None => text.clone(),
                },
            },
        );
        // Map new fds: the script's number → the DUT's.
        if let (
            SysCall::SocketStream | SysCall::SocketDgram | SysCall::Accept { .. },
            Ok(fd),
            Some(want),
        ) = (sys, &result, call.result.value)
        {
            self.fds.insert(want, *fd as i32);
            if matches!(sys, SysCall::SocketDgram) {
                self.udp_fds.insert(want);
            } else {
                self.sut = Some(*fd as i32);
            }
        }
        if self.record {
            return Ok(());
        }
        let expected = match (call.result.value, &call.result.errno) {
            (None, _) => return Ok(()),
            (Some(v), None) => Ok(v),
            (Some(_), Some(e)) => Err(e.clone()),
        };
        let ok = match (&expected, &result) {
            // Returned fds are compared through the mapping, not by number.
            (Ok(_), Ok(_)) if new_fd => true,
            (Ok(want), Ok(got)) => want == got,
            (Err(want), Err(got)) => want == got.name(),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            let want = match expected {
                Ok(v) => format!("{v}"),
                Err(e) => format!("-1 {e}"),
            };
            Err(self.fail(
                ev,
                format!("{} returned {text}, expected {want}", call.name),
            ))
        }
    }

    /// The (level, name) of a set/getsockopt call as a [`SockOptName`];
    /// an option outside the table is *unsupported*.
    fn sockopt_arg(&self, ev: &Event, call: &CallEvent) -> Result<SockOptName, Verdict> {
        let ident = |i: usize| match call.args.get(i) {
            Some(Expr::Ident(s)) => Some(s.as_str()),
            _ => None,
        };
        match (ident(1), ident(2)) {
            (Some(level), Some(name)) => SockOptName::from_script(level, name),
            _ => None,
        }
        .ok_or_else(|| {
            self.unsupported(
                ev,
                format!(
                    "{} {} {}",
                    call.name,
                    ident(1).unwrap_or("?"),
                    ident(2).unwrap_or("?")
                ),
            )
        })
    }

    fn fd_arg(&self, ev: &Event, call: &CallEvent, i: usize) -> Result<i32, Verdict> {
        match call.args.get(i) {
            Some(Expr::Int(v)) => match self.fds.get(v) {
                Some(fd) => Ok(*fd),
                // An fd the script never opened: pass an invalid one so the
                // DUT answers EBADF itself.
                None => Ok(10_000 + *v as i32),
            },
            _ => Err(self.fail(
                ev,
                format!("argument {} of {} must be an fd", i + 1, call.name),
            )),
        }
    }

    fn int_arg(&self, ev: &Event, call: &CallEvent, i: usize) -> Result<i64, Verdict> {
        // Symbolic option values public scripts pass (linux/in.h).
        let named = |n: &str| match n {
            "IP_PMTUDISC_DONT" => Some(0),
            "IP_PMTUDISC_WANT" => Some(1),
            "IP_PMTUDISC_DO" => Some(2),
            "IP_PMTUDISC_PROBE" => Some(3),
            _ => None,
        };
        match call.args.get(i) {
            Some(Expr::Int(v)) => Ok(*v),
            Some(Expr::Ident(n)) if named(n).is_some() => Ok(named(n).unwrap_or(0)),
            Some(Expr::Array(a)) if a.len() == 1 => match &a[0] {
                Expr::Int(v) => Ok(*v),
                Expr::Ident(n) if named(n).is_some() => Ok(named(n).unwrap_or(0)),
                _ => Err(self.fail(
                    ev,
                    format!("argument {} of {} must be an integer", i + 1, call.name),
                )),
            },
            _ => Err(self.fail(
                ev,
                format!("argument {} of {} must be an integer", i + 1, call.name),
            )),
        }
    }

    fn sockaddr_arg(
        &self,
        ev: &Event,
        call: &CallEvent,
        i: usize,
        default: SocketAddrV4,
    ) -> Result<SocketAddrV4, Verdict> {
        match call.args.get(i) {
            None | Some(Expr::Ellipsis) => Ok(default),
            Some(Expr::Struct(fields)) => {
                let mut addr = default;
                for (name, val) in fields {
                    match (name.as_str(), val) {
                        ("sin_port", Expr::Call(f, a)) if f == "htons" => {
                            if let Some(Expr::Int(p)) = a.first() {
                                addr.set_port(*p as u16);
                            }
                        }
                        ("sin_addr", Expr::Call(f, a)) if f == "inet_addr" => {
                            if let Some(Expr::Str(s)) = a.first() {
                                match s.parse() {
                                    Ok(ip) => addr.set_ip(ip),
                                    Err(_) => {
                                        return Err(self.fail(ev, format!("bad address \"{s}\"")))
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Ok(addr)
            }
            _ => Err(self.unsupported(ev, format!("address argument of {}", call.name))),
        }
    }

    /// The call as the DUT sees it; `None` for calls the runner handles itself.
    /// send/recv flags: only 0 (MSG_DONTWAIT, MSG_MORE, MSG_PEEK, … change
    /// what the call does and are not emulated).
    fn no_msg_flags(&self, ev: &Event, call: &CallEvent, i: usize) -> Result<(), Verdict> {
        match call.args.get(i) {
            None | Some(Expr::Int(0)) | Some(Expr::Ellipsis) => Ok(()),
            Some(other) => Err(self.unsupported(ev, format!("{} flags {other}", call.name))),
        }
    }

    /// The total `iov_len` of a readv/writev iovec array.
    fn iov_len(&self, ev: &Event, call: &CallEvent) -> Result<usize, Verdict> {
        let Some(Expr::Array(iovs)) = call.args.get(1) else {
            return Err(self.fail(ev, format!("{}: expected an iovec array", call.name)));
        };
        self.iovs_len(ev, call, iovs)
    }

    /// The total length of iovecs `{iov_base=…, iov_len=N}` or `{…, N}`.
    fn iovs_len(&self, ev: &Event, call: &CallEvent, iovs: &[Expr]) -> Result<usize, Verdict> {
        let mut total = 0usize;
        for iov in iovs {
            let len = match iov {
                Expr::Struct(fields) => match fields.as_slice() {
                    [(a, _), (b, Expr::Int(l))] if a.is_empty() && b.is_empty() => Some(*l),
                    _ => fields.iter().find_map(|(n, v)| match (n.as_str(), v) {
                        ("iov_len", Expr::Int(l)) => Some(*l),
                        _ => None,
                    }),
                },
                _ => None,
            };
            match len {
                Some(l) if l >= 0 => total = total.saturating_add(l as usize),
                _ => {
                    return Err(self.fail(ev, format!("{}: iovec {iov} needs iov_len=N", call.name)))
                }
            }
        }
        Ok(total)
    }

    /// poll's one pollfd `{fd=F, events=E, revents=R}`: (fd, events,
    /// expected revents). More than one pollfd is unsupported.
    fn pollfd_arg(
        &self,
        ev: &Event,
        call: &CallEvent,
    ) -> Result<(Expr, i16, Option<i16>), Verdict> {
        let fields = match call.args.first() {
            Some(Expr::Array(a)) if a.len() == 1 => match &a[0] {
                Expr::Struct(f) => f,
                _ => return Err(self.fail(ev, "poll: expected [{fd=…, events=…}]".into())),
            },
            Some(Expr::Array(_)) => return Err(self.unsupported(ev, "poll of several fds")),
            _ => return Err(self.fail(ev, "poll: expected [{fd=…, events=…}]".into())),
        };
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let bits = |e: &Expr| -> Result<i16, Verdict> {
            let one = |e: &Expr| -> Result<i16, Verdict> {
                match e {
                    Expr::Int(v) => Ok(*v as i16),
                    Expr::Ident(n) => crate::target::POLL_BITS
                        .iter()
                        .find(|(b, _)| b == n)
                        .map(|(_, v)| *v)
                        .ok_or_else(|| self.unsupported(ev, format!("poll event {n}"))),
                    other => Err(self.fail(ev, format!("poll: bad event {other}"))),
                }
            };
            match e {
                Expr::BitOr(parts) => parts.iter().try_fold(0, |acc, p| Ok(acc | one(p)?)),
                other => one(other),
            }
        };
        let fd = field("fd").cloned().unwrap_or(Expr::Ellipsis);
        let events = match field("events") {
            Some(e) => bits(e)?,
            None => 0,
        };
        let revents = match field("revents") {
            Some(Expr::Ellipsis) | None => None,
            Some(e) => Some(bits(e)?),
        };
        Ok((fd, events, revents))
    }

    fn resolve_call(&mut self, ev: &Event, call: &CallEvent) -> Result<Option<SysCall>, Verdict> {
        let id = self.id;
        let ident = |i: usize| match call.args.get(i) {
            Some(Expr::Ident(s)) => Some(s.as_str()),
            _ => None,
        };
        let udp = matches!(call.args.first(), Some(Expr::Int(v)) if self.udp_fds.contains(v));
        // A UDP socket's peer is the testbench's port 40000, the source of
        // the script's inbound `udp` lines.
        let udp_peer = SocketAddrV4::new(id.tb_ip, TESTBENCH_PORT);
        Ok(Some(match call.name.as_str() {
            "socket" => match ident(1) {
                Some("SOCK_STREAM") => SysCall::SocketStream,
                Some("SOCK_DGRAM") => SysCall::SocketDgram,
                _ => {
                    return Err(
                        self.unsupported(ev, "socket types other than SOCK_STREAM, SOCK_DGRAM")
                    )
                }
            },
            // UDP: `bind(fd, ..., ...)` binds the wildcard address (so that
            // broadcasts are received too) and port 8080.
            "bind" if udp => SysCall::Bind {
                fd: self.fd_arg(ev, call, 0)?,
                addr: self.sockaddr_arg(
                    ev,
                    call,
                    1,
                    SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, SCRIPT_PORT),
                )?,
            },
            "connect" if udp => SysCall::Connect {
                fd: self.fd_arg(ev, call, 0)?,
                addr: self.sockaddr_arg(ev, call, 1, udp_peer)?,
            },
            "sendto" => SysCall::SendTo {
                fd: self.fd_arg(ev, call, 0)?,
                len: self.int_arg(ev, call, 2)?.max(0) as usize,
                to: Some(self.sockaddr_arg(ev, call, 4, udp_peer)?),
            },
            "recvfrom" => SysCall::RecvFrom {
                fd: self.fd_arg(ev, call, 0)?,
                len: self.int_arg(ev, call, 2)?.max(0) as usize,
            },
            "setsockopt" if ident(1) == Some("SOL_SOCKET") && ident(2) == Some("SO_LINGER") => {
                let fd = self.fd_arg(ev, call, 0)?;
                let mut onoff = 0;
                let mut linger = 0;
                if let Some(Expr::Struct(fields)) = call.args.get(3) {
                    for (n, v) in fields {
                        if let Expr::Int(v) = v {
                            match n.as_str() {
                                "l_onoff" => onoff = *v as i32,
                                "l_linger" => linger = *v as i32,
                                _ => {}
                            }
                        }
                    }
                }
                SysCall::SetLinger { fd, onoff, linger }
            }
            "setsockopt" => SysCall::SetSockOpt {
                fd: self.fd_arg(ev, call, 0)?,
                name: self.sockopt_arg(ev, call)?,
                value: self.int_arg(ev, call, 3)? as i32,
            },
            "bind" => SysCall::Bind {
                fd: self.fd_arg(ev, call, 0)?,
                addr: self.sockaddr_arg(ev, call, 1, SocketAddrV4::new(id.dut_ip, SCRIPT_PORT))?,
            },
            "listen" => SysCall::Listen {
                fd: self.fd_arg(ev, call, 0)?,
                backlog: self.int_arg(ev, call, 1)? as i32,
            },
            "accept" => SysCall::Accept {
                fd: self.fd_arg(ev, call, 0)?,
            },
            "connect" => {
                let addr =
                    self.sockaddr_arg(ev, call, 1, SocketAddrV4::new(id.tb_ip, SCRIPT_PORT))?;
                // The DUT picks its own port; the testbench is the one connected to.
                self.facts.tb_port = addr.port();
                self.facts.dut_port_ephemeral = true;
                SysCall::Connect {
                    fd: self.fd_arg(ev, call, 0)?,
                    addr,
                }
            }
            "write" | "send" => {
                if call.name == "send" {
                    self.no_msg_flags(ev, call, 3)?;
                }
                SysCall::Write {
                    fd: self.fd_arg(ev, call, 0)?,
                    len: self.int_arg(ev, call, 2)?.max(0) as usize,
                }
            }
            "read" | "recv" => {
                if call.name == "recv" {
                    self.no_msg_flags(ev, call, 3)?;
                }
                SysCall::Read {
                    fd: self.fd_arg(ev, call, 0)?,
                    len: self.int_arg(ev, call, 2)?.max(0) as usize,
                }
            }
            // readv/writev(fd, [{iov_base=..., iov_len=N}, ...], COUNT): the
            // runner's bytes in one buffer of the total length (the kernel
            // copies iovecs as one stream).
            "writev" => SysCall::Write {
                fd: self.fd_arg(ev, call, 0)?,
                len: self.iov_len(ev, call)?,
            },
            "readv" => SysCall::Read {
                fd: self.fd_arg(ev, call, 0)?,
                len: self.iov_len(ev, call)?,
            },
            // sendmsg/recvmsg(fd, {msg_name(...)=..., msg_iov(N)=[…],
            // msg_flags=0}, FLAGS): as write/read of the iovecs' total.
            "sendmsg" | "recvmsg" => {
                let fields = match call.args.get(1) {
                    Some(Expr::Struct(f)) => f,
                    _ => return Err(self.fail(ev, format!("{}: expected a msghdr", call.name))),
                };
                let mut len = 0;
                for (n, v) in fields {
                    match (n.as_str(), v) {
                        ("msg_iov", Expr::Array(iovs)) => len = self.iovs_len(ev, call, iovs)?,
                        ("msg_name" | "msg_flags", _) | (_, Expr::Ellipsis) => {}
                        (other, _) => {
                            return Err(self.unsupported(ev, format!("{} field {other}", call.name)))
                        }
                    }
                }
                self.no_msg_flags(ev, call, 2)?;
                let fd = self.fd_arg(ev, call, 0)?;
                if call.name == "sendmsg" {
                    SysCall::Write { fd, len }
                } else {
                    SysCall::Read { fd, len }
                }
            }
            "ioctl" => {
                let Some(req) = ident(1).and_then(IoctlReq::from_script) else {
                    return Err(self.unsupported(
                        ev,
                        format!(
                            "ioctl request {} (SIOCINQ, FIONREAD, SIOCOUTQ, TIOCOUTQ, SIOCOUTQNSD are)",
                            call.args.get(1).map_or("?".into(), |a| a.to_string())
                        ),
                    ));
                };
                SysCall::Ioctl {
                    fd: self.fd_arg(ev, call, 0)?,
                    req,
                }
            }
            "poll" => {
                let (fd_expr, events, _) = self.pollfd_arg(ev, call)?;
                let Expr::Int(script_fd) = fd_expr else {
                    return Err(self.fail(ev, "poll: the pollfd needs an fd number".into()));
                };
                let Some(&fd) = self.fds.get(&script_fd) else {
                    return Err(self.fail(ev, format!("poll: fd {script_fd} does not exist")));
                };
                SysCall::Poll { fd, events }
            }
            "shutdown" => {
                let how = match ident(1) {
                    Some("SHUT_RD") => 0,
                    Some("SHUT_WR") => 1,
                    Some("SHUT_RDWR") => 2,
                    _ => self.int_arg(ev, call, 1)?,
                };
                SysCall::Shutdown {
                    fd: self.fd_arg(ev, call, 0)?,
                    how: how as i32,
                }
            }
            "close" => SysCall::Close {
                fd: self.fd_arg(ev, call, 0)?,
            },
            "fcntl" => {
                // Only F_SETFL with or without O_NONBLOCK: the runner keeps the
                // flag and emulates blocking itself; the DUT's sockets are
                // always non-blocking underneath.
                let script_fd = match call.args.first() {
                    Some(Expr::Int(v)) => *v,
                    _ => return Err(self.fail(ev, "fcntl needs an fd".into())),
                };
                if ident(1) == Some("F_GETFL") {
                    // The runner keeps the file status flags: O_RDWR (a
                    // socket's access mode) and O_NONBLOCK as set.
                    let nb = self.nonblocking.get(&script_fd).copied().unwrap_or(false);
                    let v = i64::from(libc::O_RDWR | if nb { libc::O_NONBLOCK } else { 0 });
                    let now = self.target.now();
                    self.trace.push(
                        now,
                        Some(ev.span.line),
                        TraceKind::Call {
                            text: call_text(call),
                            result: format!("{v:#x}"),
                        },
                    );
                    if let Some(want) = call.result.value {
                        if want != v {
                            return Err(
                                self.fail(ev, format!("fcntl returned {v:#x}, expected {want:#x}"))
                            );
                        }
                    }
                    return Ok(None);
                }
                if ident(1) != Some("F_SETFL") {
                    return Err(self.unsupported(ev, "fcntl commands other than F_SETFL, F_GETFL"));
                }
                let nb = match call.args.get(2) {
                    Some(Expr::Ident(s)) => s == "O_NONBLOCK",
                    Some(Expr::BitOr(parts)) => parts
                        .iter()
                        .any(|p| matches!(p, Expr::Ident(s) if s == "O_NONBLOCK")),
                    _ => false,
                };
                self.nonblocking.insert(script_fd, nb);
                let now = self.target.now();
                self.trace.push(
                    now,
                    Some(ev.span.line),
                    TraceKind::Call {
                        text: call_text(call),
                        result: "0".into(),
                    },
                );
                return Ok(None);
            }
            "getsockopt" if ident(2) == Some("SO_ERROR") => SysCall::SoError {
                fd: self.fd_arg(ev, call, 0)?,
            },
            "getsockopt" => SysCall::GetSockOpt {
                fd: self.fd_arg(ev, call, 0)?,
                name: self.sockopt_arg(ev, call)?,
            },
            other => return Err(self.unsupported(ev, format!("system call {other}"))),
        }))
    }
}

/// Sets the ECN bits of an Ethernet/IPv4 frame's header and its checksum.
fn set_ecn(frame: &mut [u8], bits: u8) {
    const IP: usize = 14;
    let Some(ihl) = frame.get(IP).map(|b| usize::from(b & 0x0f) * 4) else {
        return;
    };
    if ihl < 20 || frame.len() < IP + ihl {
        return;
    }
    frame[IP + 1] = (frame[IP + 1] & !3) | (bits & 3);
    frame[IP + 10..IP + 12].copy_from_slice(&[0, 0]);
    let c = ones_sum(&frame[IP..IP + ihl]);
    frame[IP + 10..IP + 12].copy_from_slice(&c.to_be_bytes());
}

/// The TCP header and payload length of a frame, if it is a TCP segment.
fn tcp_of(bytes: &[u8]) -> Option<(TcpRepr, usize)> {
    match FrameRepr::parse(bytes).ok()?.payload {
        FramePayload::Ipv4(_, IpPayload::Tcp(tcp, data)) => Some((tcp, data.len())),
        _ => None,
    }
}

/// A call as the script wrote it, without its expected result.
fn call_text(call: &CallEvent) -> String {
    let args: Vec<String> = call.args.iter().map(|a| a.to_string()).collect();
    format!("{}({})", call.name, args.join(", "))
}

fn check_arp(s: &ArpSpec, arp: &ArpRepr, id: &Identity, errs: &mut Vec<String>) {
    let mac_ok = |spec: &MacSpec, got: EthernetAddress| match spec {
        MacSpec::Any => true,
        MacSpec::Dut => got == id.dut_mac,
        MacSpec::Testbench => got == id.tb_mac,
        MacSpec::Literal(b) => got.0 == *b,
    };
    match s {
        ArpSpec::Reply {
            sender_ip: sender,
            sender_mac: mac,
            ..
        } => {
            if arp.operation != ArpOperation::Reply {
                errs.push(format!(
                    "ARP operation {:?} (expected reply)",
                    arp.operation
                ));
            }
            if arp.source_protocol_addr != *sender {
                errs.push(format!(
                    "{} is-at (expected {sender})",
                    arp.source_protocol_addr
                ));
            }
            if !mac_ok(mac, arp.source_hardware_addr) {
                errs.push(format!("is-at {}", arp.source_hardware_addr));
            }
        }
        ArpSpec::Request {
            target_ip: target,
            sender_ip: sender,
            ..
        } => {
            if arp.operation != ArpOperation::Request {
                errs.push(format!(
                    "ARP operation {:?} (expected request)",
                    arp.operation
                ));
            }
            if arp.target_protocol_addr != *target || arp.source_protocol_addr != *sender {
                errs.push(format!(
                    "who-has {} tell {}",
                    arp.target_protocol_addr, arp.source_protocol_addr
                ));
            }
        }
    }
}

/// Ones' complement sum of 16-bit words (RFC 1071).
fn ones_sum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Applies the IP-level modifiers to a built frame (Ethernet + IPv4 with a
/// 20-byte header): transport checksum, fragmentation, the raw header
/// fields, the header checksum, padding.
fn apply_ip_mods(frame: &mut Vec<u8>, spec: &PacketSpec, mods: &PacketMods) {
    const IP: usize = 14;
    const L4: usize = IP + 20;
    if frame.len() < L4 {
        return;
    }
    let csum_at = match spec {
        PacketSpec::Tcp(_) => 16,
        PacketSpec::Udp(_) => 6,
        PacketSpec::Icmp(_) => 2,
        PacketSpec::Arp(_) => return,
    };
    if let (Some(c), Some(b)) = (mods.csum, frame.get_mut(L4 + csum_at..L4 + csum_at + 2)) {
        match c {
            CsumSpec::Bad => b[1] ^= 1,
            CsumSpec::Zero => b.copy_from_slice(&[0, 0]),
        }
    }
    if let Some(fr) = mods.frag {
        let body = frame.split_off(L4);
        let lo = (fr.offset as usize).min(body.len());
        let hi = (fr.end as usize).clamp(lo, body.len());
        frame.extend_from_slice(&body[lo..hi]);
        let total = (20 + hi - lo) as u16;
        frame[IP + 2..IP + 4].copy_from_slice(&total.to_be_bytes());
        let mut f = (fr.offset / 8) as u16;
        if fr.more {
            f |= 0x2000;
        }
        frame[IP + 6..IP + 8].copy_from_slice(&f.to_be_bytes());
    }
    if let Some(v) = mods.ip_version {
        frame[IP] = (v << 4) | (frame[IP] & 0x0f);
    }
    if let Some(v) = mods.ip_ihl {
        frame[IP] = (frame[IP] & 0xf0) | (v & 0x0f);
    }
    if let Some(v) = mods.ip_len {
        frame[IP + 2..IP + 4].copy_from_slice(&v.to_be_bytes());
    }
    frame[IP + 10..IP + 12].copy_from_slice(&[0, 0]);
    let mut c = ones_sum(&frame[IP..L4]);
    if mods.ip_csum == Some(CsumSpec::Bad) {
        c ^= 1;
    }
    frame[IP + 10..IP + 12].copy_from_slice(&c.to_be_bytes());
    if let Some(n) = mods.pad {
        if frame.len() < usize::from(n) {
            frame.resize(usize::from(n), 0);
        }
    }
}

/// The (type, code) numbers of packetdrill's ICMP error names.
fn icmp_error_numbers(type_name: &str, code: Option<&str>) -> Option<(u8, Option<u8>)> {
    let ty = match type_name {
        "unreachable" => 3,
        "source_quench" => 4,
        "redirect" => 5,
        "time_exceeded" => 11,
        "parameter_problem" => 12,
        _ => return None,
    };
    let code = match (ty, code) {
        (_, None) => None,
        (3, Some("net_unreachable")) => Some(0),
        (3, Some("host_unreachable")) => Some(1),
        (3, Some("protocol_unreachable")) => Some(2),
        (3, Some("port_unreachable")) => Some(3),
        (3, Some("frag_needed")) => Some(4),
        (11, Some("ttl_exceeded")) => Some(0),
        (11, Some("reassembly_time_exceeded")) => Some(1),
        (_, Some(c)) => Some(c.parse().ok()?),
    };
    Some((ty, code))
}

fn check_icmp(
    s: &IcmpSpec,
    icmp: &Icmpv4Repr<'_>,
    id: &Identity,
    dut_port: u16,
    errs: &mut Vec<String>,
) {
    match (s, icmp) {
        (
            IcmpSpec::Echo {
                kind: EchoType::Reply,
                id,
                seq,
                len,
            },
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
        ) => {
            if ident != id || seq_no != seq {
                errs.push(format!(
                    "id {ident} seq {seq_no} (expected id {id} seq {seq})"
                ));
            }
            if data.len() != *len as usize || *data != payload(data.len()).as_slice() {
                errs.push(format!(
                    "payload of {} bytes differs from the request's",
                    data.len()
                ));
            }
        }
        (
            IcmpSpec::Echo {
                kind: EchoType::Request,
                ..
            },
            Icmpv4Repr::EchoRequest { .. },
        ) => {}
        (
            IcmpSpec::Error {
                type_name,
                code,
                mtu,
                echoed,
            },
            got,
        ) => {
            let Some((want_ty, want_code)) = icmp_error_numbers(type_name, code.as_deref()) else {
                errs.push(format!("unknown ICMP error `{type_name} {code:?}`"));
                return;
            };
            let (ty, got_code, got_mtu, quoted) = match got {
                Icmpv4Repr::DstUnreachable {
                    code,
                    next_hop_mtu,
                    data,
                } => (3, *code, *next_hop_mtu, *data),
                Icmpv4Repr::TimeExceeded { code, data } => (11, *code, 0, *data),
                Icmpv4Repr::Other {
                    msg_type,
                    code,
                    data,
                    ..
                } => (*msg_type, *code, 0, *data),
                other => {
                    errs.push(format!("ICMP {other:?} (expected {s})"));
                    return;
                }
            };
            if ty != want_ty || want_code.is_some_and(|c| c != got_code) {
                errs.push(format!("ICMP type {ty} code {got_code} (expected {s})"));
            }
            if let Some(m) = mtu {
                if u32::from(got_mtu) != *m {
                    errs.push(format!("mtu {got_mtu} (expected {m})"));
                }
            }
            if let Some(e) = echoed {
                check_quoted(e, quoted, id, dut_port, errs);
            }
        }
        (want, got) => errs.push(format!("ICMP {got:?} (expected {want:?})")),
    }
}

/// The datagram quoted by an ICMP error (RFC 792: its IP header and at
/// least 64 bits of its data; Linux quotes as much as fits in 576 bytes):
/// one the testbench sent to the DUT.
fn check_quoted(
    e: &IcmpEchoed,
    quoted: &[u8],
    id: &Identity,
    dut_port: u16,
    errs: &mut Vec<String>,
) {
    // Read raw: the quote may be cut short of the datagram's total length.
    if quoted.len() < 20 || quoted[0] >> 4 != 4 {
        errs.push(format!(
            "quoted datagram of {} bytes is no IPv4 header",
            quoted.len()
        ));
        return;
    }
    let hl = usize::from(quoted[0] & 0x0f) * 4;
    let addr =
        |i: usize| std::net::Ipv4Addr::new(quoted[i], quoted[i + 1], quoted[i + 2], quoted[i + 3]);
    let (qsrc, qdst, proto) = (addr(12), addr(16), quoted[9]);
    if qsrc != id.tb_ip || qdst != id.dut_ip {
        errs.push(format!("quoted addresses {qsrc} > {qdst}"));
    }
    let t = quoted.get(hl..).unwrap_or(&[]);
    let port = |i: usize| t.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match e {
        IcmpEchoed::Udp { len } => {
            if proto != 17 {
                errs.push(format!("quoted protocol {proto}"));
            }
            let want_len = *len as usize + 8;
            if port(0) != Some(TESTBENCH_PORT) || port(2) != Some(dut_port) {
                errs.push(format!("quoted ports {:?} > {:?}", port(0), port(2)));
            }
            if port(4) != Some(want_len as u16) {
                errs.push(format!(
                    "quoted UDP length {:?} (expected {want_len})",
                    port(4)
                ));
            }
            // The whole datagram, as far as 576 bytes allow (RFC 1812 4.3.2.3).
            let whole = (hl + want_len).min(576 - 28);
            if quoted.len() != whole {
                errs.push(format!("{} bytes quoted (expected {whole})", quoted.len()));
            }
        }
        IcmpEchoed::Tcp { len, .. } => {
            if proto != 6 {
                errs.push(format!("quoted protocol {proto}"));
            }
            let _ = len;
        }
    }
}

fn spec_kind(s: &PacketSpec) -> &'static str {
    match s {
        PacketSpec::Tcp(_) => "tcp",
        PacketSpec::Udp(_) => "udp",
        PacketSpec::Icmp(_) => "icmp",
        PacketSpec::Arp(_) => "arp",
    }
}

/// The options without the EOL padding a script does not write.
fn strip_trailing_eol(mut opts: &[TcpOption]) -> &[TcpOption] {
    while let Some((TcpOption::EndOfList, rest)) = opts.split_last() {
        opts = rest;
    }
    opts
}

/// packetdrill's flag letters, in its order.
pub fn flag_letters(bits: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if bits & bit != 0 {
            s.push(c);
        }
    }
    if bits & 0x10 != 0 {
        s.push('.');
    }
    s
}

/// One option in script syntax.
pub fn option_text(o: &TcpOption) -> String {
    match o {
        TcpOption::EndOfList => "eol".into(),
        TcpOption::NoOperation => "nop".into(),
        TcpOption::MaxSegmentSize(m) => format!("mss {m}"),
        TcpOption::WindowScale(w) => format!("wscale {w}"),
        TcpOption::SackPermitted => "sackOK".into(),
        TcpOption::SackRange { count, blocks } => {
            let b: Vec<String> = blocks[..usize::from(*count).min(blocks.len())]
                .iter()
                .map(|(l, r)| format!("{l}:{r}"))
                .collect();
            format!("sack {}", b.join(" "))
        }
        TcpOption::Timestamps { tsval, tsecr } => format!("TS val {tsval} ecr {tsecr}"),
        TcpOption::Unknown { kind, len, .. } => format!("opt{kind} len {len}"),
    }
}

/// A list of options in script syntax.
pub fn options_text(opts: &[TcpOption]) -> String {
    opts.iter().map(option_text).collect::<Vec<_>>().join(",")
}

/// A short, un-normalized description of a frame for error messages.
pub fn describe_frame(bytes: &[u8]) -> String {
    match FrameRepr::parse(bytes) {
        Ok(f) => f.to_string(),
        Err(e) => format!("unparseable frame ({} bytes): {e}", bytes.len()),
    }
}

fn secs(us: Micros) -> f64 {
    us as f64 / 1e6
}
