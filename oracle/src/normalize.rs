//! Normalization: what legitimately differs between two DUTs, mapped away in
//! ONE place, so that what stays can be compared field by field.
//!
//! Each rule below names the field, what it becomes, and why comparing it raw
//! would be wrong. Anything not listed is compared exactly.

use std::collections::HashMap;

use stack::wire::{
    ArpOperation, FramePayload, FrameRepr, Icmpv4Repr, IpPayload, TcpFlags, TcpOption,
};

use crate::run::{flag_letters, option_text, RunFacts};
use crate::target::{Identity, Micros};
use crate::trace::{Dir, Trace, TraceKind};

/// One normalization rule, as the report lists it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The field.
    pub field: &'static str,
    /// What the harness does to it.
    pub treatment: &'static str,
    /// Why (the RFC clause or Linux fact).
    pub reason: &'static str,
}

/// Every relaxation of the comparison. Strict everywhere else.
pub const RULES: &[Rule] = &[
    Rule {
        field: "tcp.seq (DUT → testbench), tcp.ack (testbench → DUT), SACK blocks",
        treatment: "relative to the DUT's initial sequence number of that connection (from its SYN, \
                    or from a SYN-ACK the script writes `S. 0:0(0)` that opens a new incarnation of the \
                    same ports, e.g. after TIME-WAIT); literal for segments of a connection the DUT \
                    never opened (a RST for a closed port)",
        reason: "RFC 9293 3.4.1 / RFC 6528: the ISN is chosen at random",
    },
    Rule {
        field: "tcp TS val (DUT → testbench), TS ecr (testbench → DUT)",
        treatment: "relative to the DUT's first TS val on that connection, in ms; compared as a clock \
                    started by the event that carried that first TS val: the two DUTs' values may differ \
                    by the difference of the times elapsed since then, within the absolute timing \
                    tolerance + 2 ms (two ms-clock readings); a TS ecr from the testbench (the \
                    testbench's own mapping) only for its presence; left out of real-time snapshots",
        reason: "RFC 7323 5.4: the TS clock's base is arbitrary (Linux adds a random per-connection offset)",
    },
    Rule {
        field: "ipv4.ident",
        treatment: "not compared",
        reason: "RFC 6864 4.1: the ID of an atomic datagram (DF set, not fragmented) has no meaning; \
                 Linux draws it at random per socket",
    },
    Rule {
        field: "tcp.src_port of a connection the DUT opened",
        treatment: "shown as `eph`",
        reason: "RFC 6056: the ephemeral port is the DUT's choice",
    },
    Rule {
        field: "time",
        treatment: "the interval since the previous event of the same trace is compared, within the \
                    timing tolerance (packetdrill's: max(4 ms, 12.5% of the interval)); left out of \
                    real-time snapshots",
        reason: "real-time DUTs have scheduling jitter",
    },
];

/// One normalized trace entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormEvent {
    /// Time since the script started.
    pub at: Micros,
    /// The script line, if any.
    pub line: Option<usize>,
    /// `<` / `>` for frames, `=` for calls.
    pub dir: char,
    /// The fields compared exactly, in print order.
    pub fields: Vec<(&'static str, String)>,
    /// TS val (DUT → testbench) or ecr (testbench → DUT), relative, in ms:
    /// compared with the timing tolerance.
    pub ts_rel: Option<i64>,
    /// For a DUT → testbench TS val: the time of the event that carried the
    /// connection's first TS val (its `ts_rel` zero), so that a TS value is
    /// compared as the time elapsed since then.
    pub ts_zero: Option<Micros>,
}

impl NormEvent {
    /// The event as one line; `exact` adds the time and the relative TS values
    /// (deterministic only in simulation).
    pub fn render(&self, exact: bool) -> String {
        let line = match self.line {
            Some(l) => format!("L{l:<3}"),
            None => "L?  ".to_string(),
        };
        let mut s = line;
        if exact {
            s.push_str(&format!(" {:>10.6}", self.at as f64 / 1e6));
        }
        s.push(' ');
        s.push(self.dir);
        for (k, v) in &self.fields {
            if v.is_empty() {
                continue;
            }
            s.push(' ');
            if k.starts_with('_') {
                s.push_str(v);
            } else {
                s.push_str(k);
                s.push(' ');
                s.push_str(v);
            }
        }
        if let Some(ts) = self.ts_rel {
            if exact {
                s.push_str(&format!(" [ts {ts:+}ms]"));
            }
        }
        s
    }
}

/// A connection's first TS val from the DUT and when it was sent.
type TsBase = (u32, Micros);

/// Per-connection bases, learnt from the trace itself: the DUT's ISN from its
/// SYN or SYN-ACK, and its first TS val. A segment of a connection whose SYN
/// the DUT never sent (a RST for a closed port) keeps its literal numbers.
/// A SYN-ACK the runner found to begin a new incarnation with an ISN of its
/// own ([`RunFacts::new_isns`], e.g. after TIME-WAIT) is the ISN base from
/// that frame on. The TS base stays the first one: the TS offset is drawn
/// per 4-tuple (Linux 6.18), so a new incarnation of the same ports keeps it.
#[derive(Debug, Default)]
pub(crate) struct Bases {
    /// (DUT port, testbench port) → the connection's bases.
    conns: HashMap<(u16, u16), ConnBases>,
}

#[derive(Debug, Default)]
struct ConnBases {
    isn: Option<u32>,
    ts: Option<TsBase>,
    /// Later incarnations: (index of the event from which it applies, ISN).
    later: Vec<(usize, u32)>,
}

impl Bases {
    pub(crate) fn learn(trace: &Trace, facts: &RunFacts) -> Bases {
        let mut b = Bases::default();
        for (i, e) in trace.events.iter().enumerate() {
            let TraceKind::Frame {
                dir: Dir::Out,
                bytes,
            } = &e.kind
            else {
                continue;
            };
            let Ok(f) = FrameRepr::parse(bytes) else {
                continue;
            };
            if let FramePayload::Ipv4(_, IpPayload::Tcp(tcp, _)) = f.payload {
                let entry = b.conns.entry((tcp.src_port, tcp.dst_port)).or_default();
                if tcp.flags.contains(TcpFlags::SYN) {
                    if entry.isn.is_none() {
                        entry.isn = Some(tcp.seq_number);
                    } else if facts.new_isns.contains(&i) {
                        entry.later.push((i, tcp.seq_number));
                    }
                }
                if let (None, Some((val, _))) = (entry.ts, tcp.options.timestamps()) {
                    // In real time since the start: the TS clock does not
                    // follow the script clock's shifts.
                    entry.ts = Some((val, e.at + e.shift));
                }
            }
        }
        b
    }

    /// The (ISN, TS base) in force for the port pair at event `index`.
    pub(crate) fn get(
        &self,
        dut_port: u16,
        tb_port: u16,
        index: usize,
    ) -> (Option<u32>, Option<TsBase>) {
        let Some(c) = self.conns.get(&(dut_port, tb_port)) else {
            return (None, None);
        };
        let isn = c
            .later
            .iter()
            .rev()
            .find(|(from, _)| *from <= index)
            .map(|(_, isn)| *isn)
            .or(c.isn);
        (isn, c.ts)
    }
}

/// Normalizes a whole trace.
pub fn normalize(trace: &Trace, facts: &RunFacts) -> Vec<NormEvent> {
    let bases = Bases::learn(trace, facts);
    trace
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| match &e.kind {
            TraceKind::Frame { dir, bytes } => {
                let (fields, ts_rel, ts_zero) = frame_fields(*dir, bytes, facts, &bases, i);
                // `at - ts_zero` is then the real time since the zero event.
                let ts_zero = ts_zero.map(|z| z - e.shift);
                NormEvent {
                    at: e.at,
                    line: e.line,
                    dir: dir.arrow(),
                    fields,
                    ts_rel,
                    ts_zero,
                }
            }
            TraceKind::Call { text, result } => NormEvent {
                at: e.at,
                line: e.line,
                dir: '=',
                fields: vec![("_call", text.clone()), ("_result", format!("= {result}"))],
                ts_rel: None,
                ts_zero: None,
            },
        })
        .collect()
}

/// The compared fields of one frame (packetdrill-like syntax) and its relative
/// TS value.
fn frame_fields(
    dir: Dir,
    bytes: &[u8],
    facts: &RunFacts,
    bases: &Bases,
    index: usize,
) -> (Vec<(&'static str, String)>, Option<i64>, Option<Micros>) {
    let id = Identity::STANDARD;
    let frame = match FrameRepr::parse(bytes) {
        Ok(f) => f,
        Err(e) => {
            return (
                vec![
                    ("_unparsed", format!("unparseable frame: {e}")),
                    ("_len", format!("({} bytes)", bytes.len())),
                ],
                None,
                None,
            )
        }
    };
    let mut f: Vec<(&'static str, String)> = Vec::new();
    // Ethernet: only shown when not the usual pair of ends.
    let (usual_src, usual_dst) = match dir {
        Dir::In => (id.tb_mac, id.dut_mac),
        Dir::Out => (id.dut_mac, id.tb_mac),
    };
    let mut ts_rel = None;
    let mut ts_zero = None;
    match &frame.payload {
        FramePayload::Arp(arp) => {
            f.push(("_proto", "arp".into()));
            match arp.operation {
                ArpOperation::Request => f.push((
                    "_what",
                    format!(
                        "who-has {} tell {}",
                        arp.target_protocol_addr, arp.source_protocol_addr
                    ),
                )),
                ArpOperation::Reply => f.push((
                    "_what",
                    format!(
                        "reply {} is-at {}",
                        arp.source_protocol_addr, arp.source_hardware_addr
                    ),
                )),
                ArpOperation::Unknown(op) => f.push(("_what", format!("op {op}"))),
            }
            f.push((
                "eth",
                format!("{} > {}", frame.eth.src_addr, frame.eth.dst_addr),
            ));
        }
        FramePayload::Ipv4(ip, payload) => {
            let usual_ips = match dir {
                Dir::In => (id.tb_ip, id.dut_ip),
                Dir::Out => (id.dut_ip, id.tb_ip),
            };
            match payload {
                IpPayload::Tcp(tcp, data) => {
                    let (dut_port, tb_port) = match dir {
                        Dir::Out => (tcp.src_port, tcp.dst_port),
                        Dir::In => (tcp.dst_port, tcp.src_port),
                    };
                    let (isn, ts_base) = bases.get(dut_port, tb_port, index);
                    let isn = isn.unwrap_or(0);
                    // A RST with seq 0 answers a segment without ACK that
                    // matched no connection, or no longer does (RFC 9293
                    // 3.10.7.1): its 0 is literal, as the runner reads it,
                    // not relative to the connection's ISN.
                    let literal_rst = tcp.flags.contains(TcpFlags::RST) && tcp.seq_number == 0;
                    let (seq, ack) = match dir {
                        Dir::Out if literal_rst => (0, tcp.ack_number),
                        Dir::Out => (tcp.seq_number.wrapping_sub(isn), tcp.ack_number),
                        Dir::In => (tcp.seq_number, tcp.ack_number.wrapping_sub(isn)),
                    };
                    let mut s = format!(
                        "{} {}:{}({})",
                        flag_letters(tcp.flags.0),
                        seq,
                        seq.wrapping_add(data.len() as u32),
                        data.len()
                    );
                    if tcp.flags.0 & 0x10 != 0 {
                        s.push_str(&format!(" ack {ack}"));
                    }
                    s.push_str(&format!(" win {}", tcp.window_len));
                    f.push(("_tcp", s));
                    let base = ts_base.map(|b| b.0).unwrap_or(0);
                    let mut opts = Vec::new();
                    for o in &tcp.options {
                        let o = &o;
                        opts.push(match (dir, o) {
                            (Dir::Out, TcpOption::Timestamps { tsval, tsecr }) => {
                                ts_rel = Some(i64::from(tsval.wrapping_sub(base) as i32));
                                ts_zero = ts_base.map(|b| b.1);
                                format!("TS val ~ ecr {tsecr}")
                            }
                            (Dir::In, TcpOption::Timestamps { tsval, tsecr }) if *tsecr != 0 => {
                                ts_rel = Some(i64::from(tsecr.wrapping_sub(base) as i32));
                                format!("TS val {tsval} ecr ~")
                            }
                            (_, TcpOption::SackRange { count, blocks }) => {
                                let b: Vec<String> = blocks
                                    [..usize::from(*count).min(blocks.len())]
                                    .iter()
                                    .map(|(l, r)| {
                                        let (l, r) = match dir {
                                            Dir::In => (l.wrapping_sub(isn), r.wrapping_sub(isn)),
                                            Dir::Out => (*l, *r),
                                        };
                                        format!("{l}:{r}")
                                    })
                                    .collect();
                                format!("sack {}", b.join(" "))
                            }
                            _ => option_text(o),
                        });
                    }
                    if !opts.is_empty() {
                        f.push(("_opts", format!("<{}>", opts.join(","))));
                    }
                    let dut_port = if facts.dut_port_ephemeral && dut_port == facts.dut_port {
                        "eph".to_string()
                    } else {
                        dut_port.to_string()
                    };
                    f.push(("ports", format!("tb {tb_port} dut {dut_port}")));
                    if tcp.urgent_pointer != 0 {
                        f.push(("urg", tcp.urgent_pointer.to_string()));
                    }
                }
                IpPayload::Icmp(icmp) => {
                    f.push(("_proto", "icmp".into()));
                    f.push(("_what", icmp_text(icmp)));
                }
                IpPayload::Udp(udp, data) => {
                    f.push(("_proto", "udp".into()));
                    f.push((
                        "_what",
                        format!("{} > {} ({})", udp.src_port, udp.dst_port, data.len()),
                    ));
                }
                IpPayload::Fragment(d) => {
                    f.push(("_proto", "fragment".into()));
                    f.push(("_what", format!("({})", d.len())));
                }
                IpPayload::Unknown(d) => {
                    f.push(("_proto", format!("{:?}", ip.protocol)));
                    f.push(("_what", format!("({})", d.len())));
                }
            }
            let mut ipf = format!("ttl {}", ip.ttl);
            if ip.dont_frag {
                ipf.push_str(" DF");
            }
            if ip.more_frags || ip.frag_offset != 0 {
                ipf.push_str(&format!(
                    " frag {}{}",
                    ip.frag_offset,
                    if ip.more_frags { "+" } else { "" }
                ));
            }
            if ip.tos != 0 {
                ipf.push_str(&format!(" tos {:#04x}", ip.tos));
            }
            if ip.options.len != 0 {
                ipf.push_str(&format!(" ipopts {}", ip.options.len));
            }
            if (ip.src_addr, ip.dst_addr) != usual_ips {
                ipf.push_str(&format!(" {} > {}", ip.src_addr, ip.dst_addr));
            }
            f.push(("ip", format!("[{ipf}]")));
            if (frame.eth.src_addr, frame.eth.dst_addr) != (usual_src, usual_dst) {
                f.push((
                    "eth",
                    format!("{} > {}", frame.eth.src_addr, frame.eth.dst_addr),
                ));
            }
        }
        FramePayload::Unknown(d) => {
            f.push(("_proto", format!("ethertype {:?}", frame.eth.ethertype)));
            f.push(("_what", format!("({})", d.len())));
            f.push((
                "eth",
                format!("{} > {}", frame.eth.src_addr, frame.eth.dst_addr),
            ));
        }
    }
    f.push(("_framelen", format!("len {}", bytes.len())));
    (f, ts_rel, ts_zero)
}

fn icmp_text(icmp: &Icmpv4Repr<'_>) -> String {
    match icmp {
        Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } => format!("echo_request id {ident} seq {seq_no} ({})", data.len()),
        Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        } => format!("echo_reply id {ident} seq {seq_no} ({})", data.len()),
        Icmpv4Repr::DstUnreachable {
            code,
            next_hop_mtu,
            data,
        } => format!(
            "unreachable code {code} mtu {next_hop_mtu} [{} quoted]",
            data.len()
        ),
        Icmpv4Repr::TimeExceeded { code, data } => {
            format!("time_exceeded code {code} [{} quoted]", data.len())
        }
        Icmpv4Repr::Other {
            msg_type,
            code,
            data,
            ..
        } => format!("type {msg_type} code {code} ({})", data.len()),
    }
}
