//! The syntax tree produced by [`parse`](super::parse).
//!
//! Every type here is plain data. The `Display` impls print the pieces back
//! in script syntax (normalised: flags in canonical order, times in seconds
//! with trailing zeros trimmed, integers in decimal), which is what reports
//! use, e.g. `expected: > S. 0:0(0) ack 1 <mss 1460,sackOK,nop,wscale 7>`.

use std::fmt;
use std::net::Ipv4Addr;

/// A whole parsed script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The path given to the parser (used in error messages and reports).
    pub path: String,
    /// `--name[=value]` option lines from the top of the script, in order.
    pub options: Vec<ScriptOption>,
    /// The events, in source order.
    pub events: Vec<Event>,
}

/// A source position, both 1-based; `col` counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One `--name` or `--name=value` option line (packetdrill command-line
/// options written in the script). The runner interprets known names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOption {
    /// Where the `--` starts.
    pub span: Span,
    /// The name without the leading `--`, e.g. `tolerance_usecs`.
    pub name: String,
    /// The text after `=`, if any (never includes whitespace).
    pub value: Option<String>,
}

impl fmt::Display for ScriptOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "--{}={}", self.name, v),
            None => write!(f, "--{}", self.name),
        }
    }
}

/// One event: a packet, a system call, a shell command or a python block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Where the event (its time, or its first token if it has no time) starts.
    pub span: Span,
    /// The event's time. `None` only for shell commands and python blocks
    /// written without a time; those run when reached, like `+0`.
    pub time: Option<EventTime>,
    /// What happens.
    pub kind: EventKind,
    /// The event's source text, trimmed (without trailing comments).
    pub text: String,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.time {
            write!(f, "{t} ")?;
        }
        write!(f, "{}", self.kind)
    }
}

/// One point in time, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeSpec {
    /// `0.100`: microseconds since the start of the script.
    Absolute(i64),
    /// `+0.100`: microseconds since the previous event.
    Relative(i64),
    /// `*`: any time.
    Any,
}

fn fmt_usecs(f: &mut fmt::Formatter<'_>, usecs: i64) -> fmt::Result {
    let secs = usecs / 1_000_000;
    let frac = (usecs % 1_000_000).unsigned_abs();
    if frac == 0 {
        write!(f, "{secs}")
    } else {
        let s = format!("{frac:06}");
        write!(f, "{secs}.{}", s.trim_end_matches('0'))
    }
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimeSpec::Absolute(us) => fmt_usecs(f, us),
            TimeSpec::Relative(us) => {
                f.write_str("+")?;
                fmt_usecs(f, us)
            }
            TimeSpec::Any => f.write_str("*"),
        }
    }
}

/// An event's time: `START`, `START~END` (a window) or `START...END` (a
/// blocking system call that starts at START and returns at END).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventTime {
    /// The (earliest) time.
    pub start: TimeSpec,
    /// `a~b`: the latest time of the window.
    pub range_end: Option<TimeSpec>,
    /// `a...b`: when a blocking call returns.
    pub blocking_end: Option<TimeSpec>,
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start)?;
        if let Some(e) = self.range_end {
            write!(f, "~{e}")?;
        }
        if let Some(e) = self.blocking_end {
            write!(f, "...{e}")?;
        }
        Ok(())
    }
}

/// What an event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `<` or `>` packet.
    Packet(PacketEvent),
    /// `name(args) = result`.
    Call(CallEvent),
    /// `` `command` ``: the text between the backticks.
    Shell(String),
    /// `%{ ... }%`: the raw text between `%{` and `}%` (not run; the runner
    /// reports it as unsupported).
    Python(String),
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Packet(p) => write!(f, "{p}"),
            EventKind::Call(c) => write!(f, "{c}"),
            EventKind::Shell(s) => write!(f, "`{s}`"),
            EventKind::Python(s) => write!(f, "%{{{s}}}%"),
        }
    }
}

/// Which way a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `<`: injected by the testbench into the device under test.
    Inbound,
    /// `>`: expected from the device under test.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "<",
            Direction::Outbound => ">",
        })
    }
}

/// The IP ECN field, written `[ect0]`, `[ect1]`, `[ce]`, `[noecn]` or
/// `[ect01]` before the packet body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecn {
    /// `[noecn]`: Not-ECT (00).
    NotEct,
    /// `[ect0]`: ECT(0) (10).
    Ect0,
    /// `[ect1]`: ECT(1) (01).
    Ect1,
    /// `[ce]`: Congestion Experienced (11).
    Ce,
    /// `[ect01]`: either ECT(0) or ECT(1) (meaningful for outbound packets).
    Ect01,
}

impl fmt::Display for Ecn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ecn::NotEct => "[noecn]",
            Ecn::Ect0 => "[ect0]",
            Ecn::Ect1 => "[ect1]",
            Ecn::Ce => "[ce]",
            Ecn::Ect01 => "[ect01]",
        })
    }
}

/// A packet event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketEvent {
    /// `<` or `>`.
    pub direction: Direction,
    /// The `[ect0]`-style IP prefix, if given (`None`: not specified).
    pub ecn: Option<Ecn>,
    /// The packet itself.
    pub packet: PacketSpec,
    /// Link- and IP-level modifiers written after a TCP, UDP or ICMP packet
    /// (ours): `to MAC`, `src IP`, `dst IP`, `ttl N`, `ip_id N`, … see
    /// [`PacketMods`].
    pub mods: PacketMods,
}

impl fmt::Display for PacketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.direction)?;
        if let Some(e) = self.ecn {
            write!(f, "{e} ")?;
        }
        write!(f, "{}{}", self.packet, self.mods)
    }
}

/// A checksum modifier: `bad` (the correct value with its low bit flipped)
/// or `0` (the field zeroed: "no checksum" for UDP, RFC 768).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsumSpec {
    /// `bad`.
    Bad,
    /// `0`.
    Zero,
}

impl fmt::Display for CsumSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsumSpec::Bad => "bad",
            CsumSpec::Zero => "0",
        })
    }
}

/// `frag OFFSET:END [mf]`: the packet is sent as the IPv4 fragment holding
/// bytes `OFFSET..END` of its IP payload (the whole transport message the
/// line describes); `mf` sets More Fragments. OFFSET must be a multiple of 8
/// (RFC 791: the offset is counted in 8-octet units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragSpec {
    /// First payload byte of the fragment.
    pub offset: u32,
    /// One past its last byte.
    pub end: u32,
    /// More Fragments.
    pub more: bool,
}

/// Link- and IP-level modifiers of a TCP, UDP or ICMP line (ours; packetdrill
/// has no syntax for them). Inbound, each changes the frame the testbench
/// builds; outbound, `to`, `src` and `dst` say what the DUT's frame must
/// carry (default: the testbench's MAC and address, the DUT's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PacketMods {
    /// `to MAC`: the Ethernet destination (default: the DUT's MAC inbound).
    pub eth_dst: Option<MacSpec>,
    /// `src IP`: the IPv4 source.
    pub src: Option<Ipv4Addr>,
    /// `dst IP`: the IPv4 destination.
    pub dst: Option<Ipv4Addr>,
    /// `ttl N`.
    pub ttl: Option<u8>,
    /// `ip_id N`: the IPv4 identification (fragments of one datagram share it).
    pub ip_id: Option<u16>,
    /// `ip_version N`: the version nibble as sent (checksum recomputed).
    pub ip_version: Option<u8>,
    /// `ip_ihl N`: the header length nibble as sent (checksum recomputed).
    pub ip_ihl: Option<u8>,
    /// `ip_len N`: the total length field as sent (checksum recomputed).
    pub ip_len: Option<u16>,
    /// `ip_csum bad`: a wrong IPv4 header checksum.
    pub ip_csum: Option<CsumSpec>,
    /// `csum bad` / `csum 0`: the transport checksum wrong or zero.
    pub csum: Option<CsumSpec>,
    /// `frag OFFSET:END [mf]`.
    pub frag: Option<FragSpec>,
    /// `pad N`: zero bytes appended so the frame is at least N bytes long
    /// (RFC 894 padding to the 60-byte minimum).
    pub pad: Option<u16>,
}

impl PacketMods {
    /// Whether no modifier is given.
    pub fn is_empty(&self) -> bool {
        *self == PacketMods::default()
    }
}

impl fmt::Display for PacketMods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = self.eth_dst {
            write!(f, " to {m}")?;
        }
        if let Some(a) = self.src {
            write!(f, " src {a}")?;
        }
        if let Some(a) = self.dst {
            write!(f, " dst {a}")?;
        }
        if let Some(v) = self.ttl {
            write!(f, " ttl {v}")?;
        }
        if let Some(v) = self.ip_id {
            write!(f, " ip_id {v}")?;
        }
        if let Some(v) = self.ip_version {
            write!(f, " ip_version {v}")?;
        }
        if let Some(v) = self.ip_ihl {
            write!(f, " ip_ihl {v}")?;
        }
        if let Some(v) = self.ip_len {
            write!(f, " ip_len {v}")?;
        }
        if let Some(v) = self.ip_csum {
            write!(f, " ip_csum {v}")?;
        }
        if let Some(v) = self.csum {
            write!(f, " csum {v}")?;
        }
        if let Some(fr) = self.frag {
            write!(f, " frag {}:{}", fr.offset, fr.end)?;
            if fr.more {
                f.write_str(" mf")?;
            }
        }
        if let Some(v) = self.pad {
            write!(f, " pad {v}")?;
        }
        Ok(())
    }
}

/// The protocol-specific part of a packet event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketSpec {
    /// `S. 0:0(0) ack 1 win 65535 <mss 1460>`.
    Tcp(TcpSpec),
    /// `udp (LEN)`.
    Udp(UdpSpec),
    /// `icmp ...`.
    Icmp(IcmpSpec),
    /// `arp ...`.
    Arp(ArpSpec),
}

impl fmt::Display for PacketSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketSpec::Tcp(t) => write!(f, "{t}"),
            PacketSpec::Udp(u) => write!(f, "{u}"),
            PacketSpec::Icmp(i) => write!(f, "{i}"),
            PacketSpec::Arp(a) => write!(f, "{a}"),
        }
    }
}

/// TCP header flag bits as on the wire.
pub mod tcp_flags {
    /// `F`
    pub const FIN: u8 = 0x01;
    /// `S`
    pub const SYN: u8 = 0x02;
    /// `R`
    pub const RST: u8 = 0x04;
    /// `P`
    pub const PSH: u8 = 0x08;
    /// `.`
    pub const ACK: u8 = 0x10;
    /// `U`
    pub const URG: u8 = 0x20;
    /// `E`
    pub const ECE: u8 = 0x40;
    /// `W`
    pub const CWR: u8 = 0x80;
}

/// Script letter for each flag bit, in the order they are printed.
pub(crate) const FLAG_LETTERS: [(char, u8); 8] = [
    ('S', tcp_flags::SYN),
    ('F', tcp_flags::FIN),
    ('R', tcp_flags::RST),
    ('P', tcp_flags::PSH),
    ('.', tcp_flags::ACK),
    ('E', tcp_flags::ECE),
    ('W', tcp_flags::CWR),
    ('U', tcp_flags::URG),
];

/// A TCP segment. `seq`/`end_seq`/`ack` are as written (packetdrill
/// scripts use relative sequence numbers; the runner maps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSpec {
    /// Wire bits, see [`tcp_flags`].
    pub flags: u8,
    /// `START` of `START:END(LEN)`.
    pub seq: u32,
    /// `END` of `START:END(LEN)`.
    pub end_seq: u32,
    /// `LEN` of `START:END(LEN)`; always `end_seq.wrapping_sub(seq)`.
    pub len: u32,
    /// `ack N`, if given.
    pub ack: Option<u32>,
    /// `win N`, if given (an omitted window on an outbound packet is not
    /// checked).
    pub win: Option<u32>,
    /// `urg N`, if given.
    pub urg: Option<u32>,
    /// The `<...>` option list, if given (`None`: no option list written).
    pub options: Option<TcpOptionsSpec>,
    /// `port N` (ours, for scripts with several connections): the
    /// testbench's port of this segment's connection; without it, the
    /// script's one (40000, or 8080 when the DUT connects).
    pub port: Option<u16>,
}

impl fmt::Display for TcpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.flags == 0 {
            f.write_str("-")?;
        }
        for (c, bit) in FLAG_LETTERS {
            if self.flags & bit != 0 {
                write!(f, "{c}")?;
            }
        }
        write!(f, " {}:{}({})", self.seq, self.end_seq, self.len)?;
        if let Some(a) = self.ack {
            write!(f, " ack {a}")?;
        }
        if let Some(w) = self.win {
            write!(f, " win {w}")?;
        }
        if let Some(u) = self.urg {
            write!(f, " urg {u}")?;
        }
        if let Some(p) = self.port {
            write!(f, " port {p}")?;
        }
        if let Some(o) = &self.options {
            write!(f, " {o}")?;
        }
        Ok(())
    }
}

/// A TCP option list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptionsSpec {
    /// `<...>`: any options (not checked).
    Any,
    /// An explicit list, in order.
    List(Vec<TcpOptionSpec>),
}

impl TcpOptionsSpec {
    /// The `mss N` of the list, if any.
    pub fn mss(&self) -> Option<u16> {
        match self {
            TcpOptionsSpec::Any => None,
            TcpOptionsSpec::List(l) => l.iter().find_map(|o| match o {
                TcpOptionSpec::Mss(m) => Some(*m),
                _ => None,
            }),
        }
    }
}

impl fmt::Display for TcpOptionsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOptionsSpec::Any => f.write_str("<...>"),
            TcpOptionsSpec::List(l) => {
                f.write_str("<")?;
                for (i, o) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{o}")?;
                }
                f.write_str(">")
            }
        }
    }
}

/// One TCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptionSpec {
    /// `nop`
    Nop,
    /// `eol`
    Eol,
    /// `mss N`
    Mss(u16),
    /// `wscale N`
    WScale(u8),
    /// `sackOK`
    SackOk,
    /// `sack A:B C:D ...` (1 to 4 blocks).
    Sack(Vec<(u32, u32)>),
    /// `TS val N ecr N`
    Timestamp {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
}

impl fmt::Display for TcpOptionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOptionSpec::Nop => f.write_str("nop"),
            TcpOptionSpec::Eol => f.write_str("eol"),
            TcpOptionSpec::Mss(m) => write!(f, "mss {m}"),
            TcpOptionSpec::WScale(w) => write!(f, "wscale {w}"),
            TcpOptionSpec::SackOk => f.write_str("sackOK"),
            TcpOptionSpec::Sack(blocks) => {
                f.write_str("sack")?;
                for (a, b) in blocks {
                    write!(f, " {a}:{b}")?;
                }
                Ok(())
            }
            TcpOptionSpec::Timestamp { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
        }
    }
}

/// A UDP datagram: `udp (LEN)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpSpec {
    /// Payload length in bytes.
    pub len: u32,
}

impl fmt::Display for UdpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "udp ({})", self.len)
    }
}

/// Echo request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EchoType {
    /// `echo_request` (type 8).
    Request,
    /// `echo_reply` (type 0).
    Reply,
}

/// An ICMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcmpSpec {
    /// Our extension: `icmp echo_request id N seq N (LEN)` /
    /// `icmp echo_reply id N seq N (LEN)`. The payload is a fixed pattern
    /// chosen by the runner.
    Echo {
        /// Request or reply.
        kind: EchoType,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Payload length in bytes.
        len: u32,
    },
    /// packetdrill's form: `icmp TYPE [CODE] [mtu N] [ECHOED]`, e.g.
    /// `icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`. The echoed
    /// part may also be written before `icmp` as packetdrill does:
    /// `[1:1461(1460)] icmp unreachable frag_needed mtu 1200`.
    Error {
        /// Type name, e.g. `unreachable`, `time_exceeded` (not validated).
        type_name: String,
        /// Code name, e.g. `frag_needed`, `port_unreachable` (not validated).
        code: Option<String>,
        /// `mtu N`.
        mtu: Option<u32>,
        /// The quoted transport header, if given.
        echoed: Option<IcmpEchoed>,
    },
}

impl fmt::Display for IcmpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpSpec::Echo { kind, id, seq, len } => {
                let k = match kind {
                    EchoType::Request => "echo_request",
                    EchoType::Reply => "echo_reply",
                };
                write!(f, "icmp {k} id {id} seq {seq} ({len})")
            }
            IcmpSpec::Error {
                type_name,
                code,
                mtu,
                echoed,
            } => {
                write!(f, "icmp {type_name}")?;
                if let Some(c) = code {
                    write!(f, " {c}")?;
                }
                if let Some(m) = mtu {
                    write!(f, " mtu {m}")?;
                }
                if let Some(e) = echoed {
                    write!(f, " {e}")?;
                }
                Ok(())
            }
        }
    }
}

/// The transport header quoted inside an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpEchoed {
    /// `[START:END(LEN)]`: a TCP segment of the connection.
    Tcp {
        /// START.
        seq: u32,
        /// END.
        end_seq: u32,
        /// LEN.
        len: u32,
    },
    /// `[udp (LEN)]`.
    Udp {
        /// LEN.
        len: u32,
    },
}

impl fmt::Display for IcmpEchoed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpEchoed::Tcp { seq, end_seq, len } => write!(f, "[{seq}:{end_seq}({len})]"),
            IcmpEchoed::Udp { len } => write!(f, "[udp ({len})]"),
        }
    }
}

/// An Ethernet/ARP hardware address in a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacSpec {
    /// `02:00:00:00:00:02`.
    Literal([u8; 6]),
    /// `dut_mac`: the device under test's MAC.
    Dut,
    /// `tb_mac`: the testbench's MAC.
    Testbench,
    /// `*`: any (outbound only makes sense).
    Any,
}

impl fmt::Display for MacSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MacSpec::Literal(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            MacSpec::Dut => f.write_str("dut_mac"),
            MacSpec::Testbench => f.write_str("tb_mac"),
            MacSpec::Any => f.write_str("*"),
        }
    }
}

/// An ARP packet (our extension, in tcpdump's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArpSpec {
    /// `arp who-has TARGET tell SENDER [from MAC] [to MAC]`.
    Request {
        /// The address being asked about.
        target_ip: Ipv4Addr,
        /// The asker's address.
        sender_ip: Ipv4Addr,
        /// `from MAC`: the sender hardware address (default: the sending
        /// side's own MAC).
        sender_mac: Option<MacSpec>,
        /// `to MAC`: the Ethernet destination (default: broadcast).
        eth_dst: Option<MacSpec>,
    },
    /// `arp reply SENDER is-at MAC [to MAC]`.
    Reply {
        /// The address being resolved (the replier's).
        sender_ip: Ipv4Addr,
        /// Its hardware address.
        sender_mac: MacSpec,
        /// `to MAC`: the Ethernet destination (default: the asker).
        eth_dst: Option<MacSpec>,
    },
}

impl fmt::Display for ArpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpSpec::Request {
                target_ip,
                sender_ip,
                sender_mac,
                eth_dst,
            } => {
                write!(f, "arp who-has {target_ip} tell {sender_ip}")?;
                if let Some(m) = sender_mac {
                    write!(f, " from {m}")?;
                }
                if let Some(m) = eth_dst {
                    write!(f, " to {m}")?;
                }
                Ok(())
            }
            ArpSpec::Reply {
                sender_ip,
                sender_mac,
                eth_dst,
            } => {
                write!(f, "arp reply {sender_ip} is-at {sender_mac}")?;
                if let Some(m) = eth_dst {
                    write!(f, " to {m}")?;
                }
                Ok(())
            }
        }
    }
}

/// A system call event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// The call's name, e.g. `accept`.
    pub name: String,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The expected result.
    pub result: CallResult,
}

impl fmt::Display for CallEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        fmt_list(f, &self.args)?;
        write!(f, ") = {}", self.result)
    }
}

/// `= VALUE [ERRNO [(note)]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    /// The return value; `None` for `...` (any).
    pub value: Option<i64>,
    /// The expected errno name, e.g. `ECONNREFUSED`.
    pub errno: Option<String>,
    /// The parenthesised free text after the errno, without the parentheses.
    pub note: Option<String>,
}

impl fmt::Display for CallResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "{v}")?,
            None => f.write_str("...")?,
        }
        if let Some(e) = &self.errno {
            write!(f, " {e}")?;
        }
        if let Some(n) = &self.note {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

/// A system call argument expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything / don't care.
    Ellipsis,
    /// An integer (decimal, `0x` hex, optionally negative).
    Int(i64),
    /// A symbolic constant, e.g. `SOCK_STREAM`.
    Ident(String),
    /// A `"string"` (escapes `\\ \" \n \t \r \0` decoded).
    Str(String),
    /// `A|B|C` (two or more operands).
    BitOr(Vec<Expr>),
    /// `[a, b, ...]`.
    Array(Vec<Expr>),
    /// `{name=expr, ...}`; a positional member (`{..., 100}`) has an empty
    /// name, and a counted one (`msg_iov(1)=[…]`) keeps its name only (the
    /// parser checks the count against the array).
    Struct(Vec<(String, Expr)>),
    /// `name(args)`, e.g. `htons(8080)`, `inet_addr("1.2.3.4")`.
    Call(String, Vec<Expr>),
}

fn fmt_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ellipsis => f.write_str("..."),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Ident(s) => f.write_str(s),
            Expr::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        '\r' => f.write_str("\\r")?,
                        '\0' => f.write_str("\\0")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Expr::BitOr(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Expr::Array(v) => {
                f.write_str("[")?;
                fmt_list(f, v)?;
                f.write_str("]")
            }
            Expr::Struct(fields) => {
                f.write_str("{")?;
                for (i, (n, e)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if n.is_empty() {
                        write!(f, "{e}")?;
                    } else {
                        write!(f, "{n}={e}")?;
                    }
                }
                f.write_str("}")
            }
            Expr::Call(n, args) => {
                write!(f, "{n}(")?;
                fmt_list(f, args)?;
                f.write_str(")")
            }
        }
    }
}
