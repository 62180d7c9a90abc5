//! Parser for the scenario script language: packetdrill's language
//! (<https://github.com/google/packetdrill>), a subset plus a few extensions.
//!
//! [`parse`] / [`parse_file`] turn a script into a [`Script`]: its option
//! lines and a list of [`Event`]s. Parsing never panics; every failure is a
//! [`ParseError`] pointing at `path:line:col`, either
//! [`ParseError::Syntax`] (malformed) or [`ParseError::Unsupported`] (valid
//! packetdrill this harness does not implement).
//!
//! # Grammar
//!
//! Comments are `// to end of line` and `/* ... */`; blank lines are ignored.
//! Each event sits on its own line; only system-call argument lists, shell
//! commands, python blocks and block comments may span lines.
//!
//! ```text
//! --tolerance_usecs=10000          option lines (before the first event):
//! --ip_version=ipv4                --name or --name=value, kept as given
//!
//! TIME    0  0.100  1.5            absolute seconds (up to 6 decimals)
//!         +0  +.1  +0.100          relative to the previous event
//!         *                        any time
//!         0.1~0.2  +0~+0.1         a window
//!         0.100...0.200            a blocking call: starts ... returns
//!
//! TIME < PACKET                    inbound (testbench -> DUT)
//! TIME > PACKET                    outbound (DUT -> testbench)
//!   PACKET := [ECN] TCP | udp (LEN) | ICMP | ARP
//!   ECN    := [ect0] | [ect1] | [ce] | [noecn] | [ect01]
//!   TCP    := FLAGS START:END(LEN) [ack N] [win N] [urg N] [<OPTIONS>]
//!             FLAGS: letters S F R P . E W U (. = ACK, E = ECE, W = CWR),
//!             or `-` for none
//!             END - START must equal LEN (mod 2^32)
//!   OPTIONS:= ... | OPT,OPT,...    `<...>` means any options
//!   OPT    := nop | eol | mss N | wscale N | sackOK | sack A:B [C:D ...] (1-4)
//!             | TS val N ecr N
//!   ICMP   := icmp echo_request id N seq N (LEN)       (extension)
//!           | icmp echo_reply id N seq N (LEN)         (extension)
//!           | icmp TYPE [CODE] [mtu N] [QUOTED]        (packetdrill)
//!           | QUOTED icmp TYPE [CODE] [mtu N]          (packetdrill)
//!             TYPE: unreachable source_quench redirect time_exceeded
//!                   parameter_problem; CODE: any name (e.g. frag_needed)
//!   QUOTED := [START:END(LEN)] | [udp (LEN)]
//!   ARP    := arp who-has IP tell IP [from MAC] [to MAC] (extension)
//!           | arp reply IP is-at MAC [to MAC]           (extension)
//!             MAC: 02:00:00:00:00:02 | dut_mac | tb_mac | *
//!             from: sender hardware address (default: the sender's MAC)
//!             to: Ethernet destination (default: broadcast / the asker)
//!
//! TIME name(ARG, ...) = RESULT [ERRNO [(free text)]]
//!   RESULT := integer | ...
//!   ARG    := ... | 123 | -1 | 0x1f | NAME | A|B|C | "string"
//!           | [ARG, ...] | {field=ARG, ...} | name(ARG, ...)
//!             (nesting limited to 32 levels; a struct member may be
//!             positional, `{..., 100}`, or counted, `msg_iov(1)=[…]`, the
//!             count checked against the array)
//!
//! [TIME] `shell command`           run by the runner (see crate::sysctl)
//! [TIME] %{ python }%              captured raw; run by crate::python
//! ```
//!
//! The ICMP echo form is our extension in packetdrill's spirit: the payload
//! of `LEN` bytes is a fixed pattern chosen by the runner. The ARP forms are
//! our extension using tcpdump's words.
//!
//! Unsupported (reported as [`ParseError::Unsupported`]): IP-level prefixes
//! other than the ECN ones (`(tos 0x..)`, `[...]` encapsulations), TCP
//! options `FO`, `exp`, `md5` and MPTCP options, `sctp`/`udplite`/`gre`/
//! `mpls`/`ipv6`/`icmpv6` packets, ICMP types other than those listed, and
//! quoted ICMP headers other than the two forms above.

mod ast;
mod error;
mod parser;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use ast::*;
pub use error::ParseError;
pub use parser::MAX_DEPTH;

/// Parses `source`; `path` is used only in error messages and
/// [`Script::path`].
pub fn parse(path: &str, source: &str) -> Result<Script, ParseError> {
    parser::Parser::new(path, source).parse_script()
}

/// Reads and parses the script at `path` (a read failure, including
/// non-UTF-8 content, is a [`ParseError::Io`]).
pub fn parse_file(path: &Path) -> Result<Script, ParseError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| ParseError::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    parse(&name, &source)
}
