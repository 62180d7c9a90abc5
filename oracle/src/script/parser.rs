//! A scannerless recursive-descent parser for the script language.
//!
//! The parser walks the source character by character (never slicing inside
//! a character), uses checked arithmetic for every number and caps
//! expression nesting at [`MAX_DEPTH`], so it cannot panic on any input.
//!
//! Events are line-oriented: an event starts at the beginning of a line and
//! ends at the end of that line (trailing comments allowed). Only system-call
//! argument lists (inside `(...)`, `[...]`, `{...}`), shell commands, python
//! blocks and block comments may span lines.

use std::net::Ipv4Addr;

use super::ast::*;
use super::error::ParseError;

/// Maximum nesting of `[...]`, `{...}` and `f(...)` in system call arguments.
pub const MAX_DEPTH: usize = 32;

type PResult<T> = Result<T, ParseError>;

#[derive(Debug, Clone, Copy)]
struct Pos {
    byte: usize,
    line: usize,
    col: usize,
}

#[derive(Clone, Copy)]
pub(super) struct Parser<'a> {
    path: &'a str,
    src: &'a str,
    pos: Pos,
    /// Byte offset just past the last non-blank, non-comment character
    /// consumed (used to cut an event's source text).
    sig_end: usize,
}

const TIME_EXAMPLES: &str = "time (e.g. `0`, `0.100`, `+0.1`, `*`)";
/// Link- and IP-level modifiers after a TCP, UDP or ICMP packet.
const MOD_KEYWORDS: [&str; 12] = [
    "to",
    "src",
    "dst",
    "ttl",
    "ip_id",
    "ip_version",
    "ip_ihl",
    "ip_len",
    "ip_csum",
    "csum",
    "frag",
    "pad",
];
const MOD_LIST: &str = "`to MAC`, `src IP`, `dst IP`, `ttl N`, `ip_id N`, `ip_version N`, \
                        `ip_ihl N`, `ip_len N`, `ip_csum bad`, `csum bad|0`, \
                        `frag OFFSET:END [mf]`, `pad N`";
const FLAG_LIST: &str = "TCP flag (one of `S F R P . E W U`)";
const PACKET_TYPES: &str = "packet type (TCP flags, `udp`, `icmp` or `arp`)";
const TCP_OPTIONS: &str =
    "TCP option (`nop`, `eol`, `mss N`, `wscale N`, `sackOK`, `sack A:B ...`, `TS val N ecr N`)";
const ICMP_ERROR_TYPES: [&str; 5] = [
    "unreachable",
    "source_quench",
    "redirect",
    "time_exceeded",
    "parameter_problem",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn flag_bit(c: char) -> Option<u8> {
    FLAG_LETTERS
        .iter()
        .find(|(l, _)| *l == c)
        .map(|(_, bit)| *bit)
}

impl<'a> Parser<'a> {
    pub(super) fn new(path: &'a str, src: &'a str) -> Self {
        Parser {
            path,
            src,
            pos: Pos {
                byte: 0,
                line: 1,
                col: 1,
            },
            sig_end: 0,
        }
    }

    // ---------------------------------------------------------------- cursor

    fn rest(&self) -> &'a str {
        self.src.get(self.pos.byte..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos.byte += c.len_utf8();
        if !c.is_whitespace() {
            self.sig_end = self.pos.byte;
        }
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    /// Advances over `n` bytes (which must end on a char boundary, as all
    /// callers get `n` from `str::find` on `rest()`).
    fn advance_bytes(&mut self, n: usize) {
        let target = self.pos.byte.saturating_add(n);
        while self.pos.byte < target && self.bump().is_some() {}
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.advance_bytes(s.len());
            true
        } else {
            false
        }
    }

    fn span_of(p: Pos) -> Span {
        Span {
            line: p.line,
            col: p.col,
        }
    }

    fn slice(&self, from: Pos) -> &'a str {
        self.src.get(from.byte..self.pos.byte).unwrap_or("")
    }

    /// Takes the run of characters satisfying `f`.
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.bump();
        }
        self.slice(start)
    }

    /// The identifier at the cursor, without consuming it.
    fn peek_ident(&self) -> &'a str {
        let mut p = *self;
        if p.peek().is_some_and(is_ident_start) {
            p.take_while(is_ident_char)
        } else {
            ""
        }
    }

    /// Consumes keyword `kw` if the identifier at the cursor is exactly it.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.peek_ident() == kw {
            self.advance_bytes(kw.len());
            true
        } else {
            false
        }
    }

    fn at_eol(&self) -> bool {
        matches!(self.peek(), None | Some('\n'))
    }

    // ---------------------------------------------------------------- errors

    fn describe(&self) -> String {
        match self.peek() {
            None => "end of input".into(),
            Some('\n') | Some('\r') => "end of line".into(),
            Some(c) if is_ident_char(c) => {
                let mut p = *self;
                let w: String = p.take_while(is_ident_char).chars().take(40).collect();
                format!("`{w}`")
            }
            Some(_) if self.starts_with("...") => "`...`".into(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn syntax_at(
        &self,
        at: Pos,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ParseError {
        ParseError::Syntax {
            path: self.path.to_string(),
            line: at.line,
            col: at.col,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// "expected `what`" at the next non-blank character of the line.
    fn expected(&self, what: impl Into<String>) -> ParseError {
        let mut p = *self;
        while matches!(p.peek(), Some(' ' | '\t')) {
            p.bump();
        }
        p.syntax_at(p.pos, what, p.describe())
    }

    fn unsupported_at(&self, at: Pos, construct: impl Into<String>) -> ParseError {
        ParseError::Unsupported {
            path: self.path.to_string(),
            line: at.line,
            col: at.col,
            construct: construct.into(),
        }
    }

    fn expect(&mut self, c: char, what: &str) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> PResult<()> {
        self.skip_inline()?;
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.expected(format!("`{kw}`")))
        }
    }

    // ------------------------------------------------------------ whitespace

    fn block_comment(&mut self) -> PResult<()> {
        let at = self.pos;
        self.advance_bytes(2);
        match self.rest().find("*/") {
            Some(i) => {
                self.advance_bytes(i + 2);
                Ok(())
            }
            None => Err(self.syntax_at(at, "`*/` closing this comment", "end of input")),
        }
    }

    /// Skips blanks and comments, staying on the current line (a block
    /// comment may span lines).
    fn skip_inline(&mut self) -> PResult<()> {
        let sig_end = self.sig_end;
        let r = self.skip_inline_inner();
        self.sig_end = sig_end;
        r
    }

    fn skip_inline_inner(&mut self) -> PResult<()> {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\u{feff}') => {
                    self.bump();
                }
                Some('/') if self.starts_with("/*") => self.block_comment()?,
                Some('/') if self.starts_with("//") => {
                    self.take_while(|c| c != '\n');
                }
                _ => return Ok(()),
            }
        }
    }

    /// Skips blanks, newlines and comments.
    fn skip_all(&mut self) -> PResult<()> {
        loop {
            self.skip_inline()?;
            if !self.eat('\n') {
                return Ok(());
            }
        }
    }

    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_inline()?;
        if self.at_eol() {
            Ok(())
        } else {
            Err(self.expected("end of line"))
        }
    }

    // --------------------------------------------------------------- numbers

    /// An unsigned decimal or `0x` hex number no larger than `max`.
    fn parse_uint(&mut self, what: &str, max: u64) -> PResult<u64> {
        let at = self.pos;
        let hex = self.starts_with("0x") || self.starts_with("0X");
        let (radix, digits) = if hex {
            self.advance_bytes(2);
            (16, self.take_while(|c| c.is_ascii_hexdigit()))
        } else {
            (10, self.take_while(|c| c.is_ascii_digit()))
        };
        if digits.is_empty() {
            return Err(if hex {
                self.expected("hex digits after `0x`")
            } else {
                let mut p = *self;
                p.pos = at;
                p.expected(what)
            });
        }
        let mut v: u64 = 0;
        let mut ok = true;
        for c in digits.chars() {
            let d = c.to_digit(radix).map(u64::from);
            match (d, v.checked_mul(u64::from(radix))) {
                (Some(d), Some(m)) => match m.checked_add(d) {
                    Some(n) => v = n,
                    None => ok = false,
                },
                _ => ok = false,
            }
            if !ok {
                break;
            }
        }
        if !ok || v > max {
            return Err(self.syntax_at(
                at,
                format!("{what} in range 0..={max}"),
                format!("`{}`", self.slice(at)),
            ));
        }
        Ok(v)
    }

    fn parse_u32(&mut self, what: &str) -> PResult<u32> {
        self.skip_inline()?;
        // The range check makes the conversion lossless.
        self.parse_uint(what, u64::from(u32::MAX))
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    }

    fn parse_u16(&mut self, what: &str) -> PResult<u16> {
        self.skip_inline()?;
        self.parse_uint(what, u64::from(u16::MAX))
            .map(|v| u16::try_from(v).unwrap_or(u16::MAX))
    }

    fn parse_u8(&mut self, what: &str) -> PResult<u8> {
        self.skip_inline()?;
        self.parse_uint(what, u64::from(u8::MAX))
            .map(|v| u8::try_from(v).unwrap_or(u8::MAX))
    }

    /// A signed 64-bit integer: `[-]digits` or `[-]0xhex`.
    fn parse_int(&mut self, what: &str) -> PResult<i64> {
        let at = self.pos;
        let neg = self.eat('-');
        let mag = self.parse_uint(what, u64::MAX)?;
        let v = if neg {
            -i128::from(mag)
        } else {
            i128::from(mag)
        };
        i64::try_from(v).map_err(|_| {
            self.syntax_at(
                at,
                format!("{what} in range {}..={}", i64::MIN, i64::MAX),
                format!("`{}`", self.slice(at)),
            )
        })
    }

    // ----------------------------------------------------------------- times

    /// `[+]SECONDS[.FRACTION]` or `*`.
    fn parse_time_spec(&mut self) -> PResult<TimeSpec> {
        if self.eat('*') {
            return Ok(TimeSpec::Any);
        }
        let relative = self.eat('+');
        let at = self.pos;
        let int_part = self.take_while(|c| c.is_ascii_digit());
        let mut frac_part = "";
        if self.peek() == Some('.') && self.peek2().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            frac_part = self.take_while(|c| c.is_ascii_digit());
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(self.expected(TIME_EXAMPLES));
        }
        // A time must be followed by a separator, not more of a word.
        if let Some(c) = self.peek() {
            if is_ident_char(c) || (c == '.' && !self.starts_with("...")) {
                return Err(self.syntax_at(self.pos, TIME_EXAMPLES, self.describe()));
            }
        }
        let too_big = || {
            self.syntax_at(
                at,
                "time of at most 9223372036854 seconds",
                format!("`{}`", self.slice(at)),
            )
        };
        let mut secs: i64 = 0;
        for c in int_part.chars() {
            let d = i64::from(c.to_digit(10).unwrap_or(0));
            secs = secs
                .checked_mul(10)
                .and_then(|s| s.checked_add(d))
                .ok_or_else(too_big)?;
        }
        let mut micros: i64 = 0;
        for (i, c) in frac_part.chars().enumerate() {
            let d = i64::from(c.to_digit(10).unwrap_or(0));
            if i < 6 {
                micros = micros * 10 + d;
            } else if d != 0 {
                return Err(self.syntax_at(
                    at,
                    "time with at most microsecond precision (6 decimals)",
                    format!("`{}`", self.slice(at)),
                ));
            }
        }
        for _ in frac_part.len().min(6)..6 {
            micros *= 10;
        }
        let total = secs
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(micros))
            .ok_or_else(too_big)?;
        Ok(if relative {
            TimeSpec::Relative(total)
        } else {
            TimeSpec::Absolute(total)
        })
    }

    fn parse_event_time(&mut self) -> PResult<EventTime> {
        let start = self.parse_time_spec()?;
        let mut t = EventTime {
            start,
            range_end: None,
            blocking_end: None,
        };
        self.skip_inline()?;
        if self.eat('~') {
            self.skip_inline()?;
            t.range_end = Some(self.parse_time_spec()?);
            self.skip_inline()?;
        }
        if self.eat_str("...") {
            self.skip_inline()?;
            t.blocking_end = Some(self.parse_time_spec()?);
        }
        Ok(t)
    }

    // ---------------------------------------------------------------- script

    pub(super) fn parse_script(mut self) -> PResult<Script> {
        let mut options = Vec::new();
        let mut events = Vec::new();
        loop {
            self.skip_all()?;
            if self.peek().is_none() {
                break;
            }
            if self.starts_with("--") {
                if !events.is_empty() {
                    return Err(
                        self.expected("event (option lines must come before the first event)")
                    );
                }
                loop {
                    options.push(self.parse_option()?);
                    self.skip_inline()?;
                    if !self.starts_with("--") {
                        break;
                    }
                }
                self.end_of_line()?;
                continue;
            }
            events.push(self.parse_event()?);
        }
        Ok(Script {
            path: self.path.to_string(),
            options,
            events,
        })
    }

    fn parse_option(&mut self) -> PResult<ScriptOption> {
        let at = self.pos;
        self.advance_bytes(2);
        let name = self.take_while(|c| is_ident_char(c) || c == '-');
        if name.is_empty() {
            return Err(self.expected("option name after `--`"));
        }
        let value = if self.eat('=') {
            Some(
                self.take_while(|c| !c.is_whitespace() && c != '\u{feff}')
                    .to_string(),
            )
        } else {
            None
        };
        Ok(ScriptOption {
            span: Self::span_of(at),
            name: name.to_string(),
            value,
        })
    }

    fn parse_event(&mut self) -> PResult<Event> {
        let start = self.pos;
        let time = if self.peek() == Some('`') || self.starts_with("%{") {
            None
        } else {
            Some(self.parse_event_time()?)
        };
        self.skip_inline()?;
        let kind = match self.peek() {
            Some('<') => EventKind::Packet(self.parse_packet(Direction::Inbound)?),
            Some('>') => EventKind::Packet(self.parse_packet(Direction::Outbound)?),
            Some('`') => EventKind::Shell(self.parse_shell()?),
            Some('%') if self.starts_with("%{") => EventKind::Python(self.parse_python()?),
            Some(c) if is_ident_start(c) => EventKind::Call(self.parse_call()?),
            _ => {
                return Err(self.expected(
                    "event (`<` or `>` packet, system call, `` `command` `` or `%{ python }%`)",
                ))
            }
        };
        let text = self
            .src
            .get(start.byte..self.sig_end.max(start.byte))
            .unwrap_or("")
            .trim()
            .to_string();
        self.end_of_line()?;
        Ok(Event {
            span: Self::span_of(start),
            time,
            kind,
            text,
        })
    }

    fn parse_shell(&mut self) -> PResult<String> {
        let at = self.pos;
        self.bump();
        match self.rest().find('`') {
            Some(i) => {
                let s = self.rest().get(..i).unwrap_or("").to_string();
                self.advance_bytes(i + 1);
                Ok(s)
            }
            None => Err(self.syntax_at(
                at,
                "closing backtick for this shell command",
                "end of input",
            )),
        }
    }

    fn parse_python(&mut self) -> PResult<String> {
        let at = self.pos;
        self.advance_bytes(2);
        match self.rest().find("}%") {
            Some(i) => {
                let s = self.rest().get(..i).unwrap_or("").to_string();
                self.advance_bytes(i + 2);
                Ok(s)
            }
            None => Err(self.syntax_at(at, "`}%` closing this python block", "end of input")),
        }
    }

    // --------------------------------------------------------------- packets

    fn parse_packet(&mut self, direction: Direction) -> PResult<PacketEvent> {
        self.bump();
        let mut ecn = None;
        let mut echoed = None;
        loop {
            self.skip_inline()?;
            match self.peek() {
                Some('[') => {
                    let at = self.pos;
                    let mut p = *self;
                    p.bump();
                    p.skip_inline()?;
                    let word = p.peek_ident();
                    let e = match word {
                        "ect0" => Some(Ecn::Ect0),
                        "ect1" => Some(Ecn::Ect1),
                        "ce" => Some(Ecn::Ce),
                        "noecn" => Some(Ecn::NotEct),
                        "ect01" => Some(Ecn::Ect01),
                        _ => None,
                    };
                    if let Some(e) = e {
                        if ecn.is_some() {
                            return Err(self.syntax_at(at, "a single ECN prefix", "a second one"));
                        }
                        ecn = Some(e);
                        *self = p;
                        self.advance_bytes(word.len());
                        self.skip_inline()?;
                        self.expect(']', "`]`")?;
                    } else if word == "udp" || p.peek().is_some_and(|c| c.is_ascii_digit()) {
                        if echoed.is_some() {
                            return Err(self.syntax_at(
                                at,
                                "a single quoted header",
                                "a second one",
                            ));
                        }
                        echoed = Some(self.parse_echoed()?);
                    } else {
                        return Err(self.unsupported_at(
                            at,
                            "IP-level prefix `[...]` (only `[ect0]`, `[ect1]`, `[ce]`, `[noecn]`, `[ect01]` are supported)",
                        ));
                    }
                }
                Some('(') => {
                    return Err(self.unsupported_at(
                        self.pos,
                        "IP-level prefix `(...)` such as `(tos 0x..)` or `(flowlabel ..)`",
                    ))
                }
                _ => break,
            }
        }
        let at = self.pos;
        // packetdrill writes a segment with no flags at all as `-`.
        if self.peek() == Some('-') && echoed.is_none() {
            self.bump();
            let packet = PacketSpec::Tcp(self.parse_tcp(0)?);
            let mods = self.parse_mods()?;
            return Ok(PacketEvent {
                direction,
                ecn,
                packet,
                mods,
            });
        }
        let word = self.take_while(|c| is_ident_char(c) || c == '.');
        if word.is_empty() {
            return Err(self.expected(PACKET_TYPES));
        }
        if echoed.is_some() && word != "icmp" {
            return Err(self.syntax_at(
                at,
                "`icmp` after a quoted `[...]` header",
                format!("`{word}`"),
            ));
        }
        let packet = match word {
            "udp" => PacketSpec::Udp(self.parse_udp()?),
            "icmp" => PacketSpec::Icmp(self.parse_icmp(echoed)?),
            "arp" => {
                if ecn.is_some() {
                    return Err(self.unsupported_at(at, "ECN prefix on an ARP packet"));
                }
                PacketSpec::Arp(self.parse_arp()?)
            }
            "sctp" | "udplite" | "gre" | "mpls" | "ipv4" | "ipv6" | "icmpv6" | "tcp" => {
                return Err(self.unsupported_at(at, format!("`{word}` packets")))
            }
            _ => {
                let mut flags = 0u8;
                let mut p = *self;
                p.pos = at;
                for (i, c) in word.chars().enumerate() {
                    match flag_bit(c) {
                        Some(bit) => flags |= bit,
                        None if i == 0 => {
                            return Err(p.syntax_at(at, PACKET_TYPES, format!("`{word}`")))
                        }
                        None => return Err(p.syntax_at(p.pos, FLAG_LIST, format!("`{c}`"))),
                    }
                    p.bump();
                }
                PacketSpec::Tcp(self.parse_tcp(flags)?)
            }
        };
        let mods = if matches!(packet, PacketSpec::Arp(_)) {
            PacketMods::default()
        } else {
            self.parse_mods()?
        };
        Ok(PacketEvent {
            direction,
            ecn,
            packet,
            mods,
        })
    }

    /// The link- and IP-level modifiers after a TCP, UDP or ICMP packet,
    /// up to the end of the line.
    fn parse_mods(&mut self) -> PResult<PacketMods> {
        let mut m = PacketMods::default();
        loop {
            self.skip_inline()?;
            if self.at_eol() {
                return Ok(m);
            }
            let at = self.pos;
            let word = self.peek_ident();
            if !MOD_KEYWORDS.contains(&word) {
                return Err(self.expected(format!("{} or end of line", MOD_LIST)));
            }
            self.advance_bytes(word.len());
            let dup = |p: &Self| p.syntax_at(at, format!("a single `{word}`"), "a second one");
            let csum = |p: &mut Self| -> PResult<CsumSpec> {
                p.skip_inline()?;
                if p.eat_keyword("bad") {
                    Ok(CsumSpec::Bad)
                } else if p.eat('0') {
                    Ok(CsumSpec::Zero)
                } else {
                    Err(p.expected("`bad` or `0`"))
                }
            };
            macro_rules! set {
                ($field:ident, $value:expr) => {{
                    if m.$field.is_some() {
                        return Err(dup(self));
                    }
                    m.$field = Some($value);
                }};
            }
            match word {
                "to" => set!(eth_dst, self.parse_mac()?),
                "src" => set!(src, self.parse_ipv4()?),
                "dst" => set!(dst, self.parse_ipv4()?),
                "ttl" => set!(ttl, self.parse_u8("TTL")?),
                "ip_id" => set!(ip_id, self.parse_u16("IPv4 identification")?),
                "ip_version" => set!(ip_version, self.parse_u8("IP version (0..15)")?),
                "ip_ihl" => set!(
                    ip_ihl,
                    self.parse_u8("IPv4 header length in words (0..15)")?
                ),
                "ip_len" => set!(ip_len, self.parse_u16("IPv4 total length")?),
                "ip_csum" => set!(ip_csum, csum(self)?),
                "csum" => set!(csum, csum(self)?),
                "pad" => set!(pad, self.parse_u16("frame length to pad to")?),
                "frag" => {
                    self.skip_inline()?;
                    let off_at = self.pos;
                    let offset = self.parse_u32("fragment offset in `frag OFFSET:END`")?;
                    self.expect(':', "`:` in `frag OFFSET:END`")?;
                    let end = self.parse_u32("fragment end in `frag OFFSET:END`")?;
                    if offset % 8 != 0 || end < offset || offset / 8 > 0x1fff {
                        return Err(self.syntax_at(
                            off_at,
                            "a fragment offset that is a multiple of 8 below 65536, and END >= OFFSET",
                            format!("`{offset}:{end}`"),
                        ));
                    }
                    self.skip_inline()?;
                    let more = self.eat_keyword("mf");
                    set!(frag, FragSpec { offset, end, more })
                }
                _ => unreachable!("checked against MOD_KEYWORDS"),
            }
            if matches!(m.ip_version, Some(v) if v > 15) || matches!(m.ip_ihl, Some(v) if v > 15) {
                return Err(self.syntax_at(at, "a 4-bit value (0..15)", "a larger one"));
            }
        }
    }

    /// `START:END(LEN)`, checking `END - START == LEN` (mod 2^32).
    fn parse_seq_range(&mut self) -> PResult<(u32, u32, u32)> {
        let start = self.parse_u32("sequence number `START:END(LEN)`")?;
        self.expect(':', "`:` in `START:END(LEN)`")?;
        let end = self.parse_uint(
            "end sequence number in `START:END(LEN)`",
            u64::from(u32::MAX),
        )?;
        let end = u32::try_from(end).unwrap_or(u32::MAX);
        self.expect('(', "`(LEN)` after `START:END`")?;
        let len_at = self.pos;
        let len = self.parse_uint("payload length in `START:END(LEN)`", u64::from(u32::MAX))?;
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        let diff = end.wrapping_sub(start);
        if diff != len {
            return Err(self.syntax_at(
                len_at,
                format!("payload length {diff} (END - START)"),
                format!("`{len}`"),
            ));
        }
        self.expect(')', "`)`")?;
        Ok((start, end, len))
    }

    fn parse_tcp(&mut self, flags: u8) -> PResult<TcpSpec> {
        self.skip_inline()?;
        let (seq, end_seq, len) = self.parse_seq_range()?;
        let mut t = TcpSpec {
            flags,
            seq,
            end_seq,
            len,
            ack: None,
            win: None,
            urg: None,
            options: None,
            port: None,
        };
        loop {
            self.skip_inline()?;
            if self.at_eol() {
                break;
            }
            let at = self.pos;
            let dup = |p: &Self, what: &str| {
                p.syntax_at(at, format!("a single `{what}`"), "a second one")
            };
            if self.peek() == Some('<') {
                if t.options.is_some() {
                    return Err(dup(self, "<options>"));
                }
                t.options = Some(self.parse_tcp_options()?);
            } else if self.eat_keyword("ack") {
                if t.ack.is_some() {
                    return Err(dup(self, "ack"));
                }
                t.ack = Some(self.parse_u32("acknowledgment number")?);
            } else if self.eat_keyword("win") {
                if t.win.is_some() {
                    return Err(dup(self, "win"));
                }
                t.win = Some(self.parse_u32("window")?);
            } else if self.eat_keyword("urg") {
                if t.urg.is_some() {
                    return Err(dup(self, "urg"));
                }
                t.urg = Some(self.parse_u32("urgent pointer")?);
            } else if self.eat_keyword("port") {
                if t.port.is_some() {
                    return Err(dup(self, "port"));
                }
                t.port = Some(self.parse_u16("testbench port")?);
            } else if MOD_KEYWORDS.contains(&self.peek_ident()) {
                break;
            } else {
                return Err(self
                    .expected("`ack N`, `win N`, `urg N`, `port N`, `<options>` or end of line"));
            }
        }
        Ok(t)
    }

    fn parse_tcp_options(&mut self) -> PResult<TcpOptionsSpec> {
        self.bump();
        self.skip_inline()?;
        if self.eat_str("...") {
            self.skip_inline()?;
            self.expect('>', "`>` after `<...`")?;
            return Ok(TcpOptionsSpec::Any);
        }
        let mut list = Vec::new();
        if self.eat('>') {
            return Ok(TcpOptionsSpec::List(list));
        }
        loop {
            self.skip_inline()?;
            let at = self.pos;
            let word = self.peek_ident();
            self.advance_bytes(word.len());
            let opt = match word {
                "nop" => TcpOptionSpec::Nop,
                "eol" => TcpOptionSpec::Eol,
                "mss" => TcpOptionSpec::Mss(self.parse_u16("MSS")?),
                "wscale" => TcpOptionSpec::WScale(self.parse_u8("window scale")?),
                "sackOK" => TcpOptionSpec::SackOk,
                "sack" => {
                    let mut blocks = Vec::new();
                    loop {
                        self.skip_inline()?;
                        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                            break;
                        }
                        if blocks.len() == 4 {
                            return Err(self.syntax_at(
                                self.pos,
                                "at most 4 SACK blocks",
                                "a fifth",
                            ));
                        }
                        let a = self.parse_u32("SACK block start")?;
                        self.expect(':', "`:` in SACK block `START:END`")?;
                        let b = self.parse_u32("SACK block end")?;
                        blocks.push((a, b));
                    }
                    if blocks.is_empty() {
                        return Err(self.expected("SACK block `START:END`"));
                    }
                    TcpOptionSpec::Sack(blocks)
                }
                "TS" => {
                    self.expect_keyword("val")?;
                    let val = self.parse_u32("TS value")?;
                    self.expect_keyword("ecr")?;
                    let ecr = self.parse_u32("TS echo reply")?;
                    TcpOptionSpec::Timestamp { val, ecr }
                }
                "FO" => return Err(self.unsupported_at(at, "TCP option `FO` (TCP Fast Open)")),
                "exp" => {
                    return Err(self.unsupported_at(at, "TCP option `exp` (experimental option)"))
                }
                "md5" => return Err(self.unsupported_at(at, "TCP option `md5`")),
                "mpcapable" | "mpjoin" | "dss" | "add_address" | "remove_address" | "mp_prio"
                | "mp_fail" | "mp_fastclose" => {
                    return Err(self.unsupported_at(at, format!("MPTCP option `{word}`")))
                }
                "" => return Err(self.expected(TCP_OPTIONS)),
                _ => return Err(self.syntax_at(at, TCP_OPTIONS, format!("`{word}`"))),
            };
            list.push(opt);
            self.skip_inline()?;
            if self.eat(',') {
                continue;
            }
            if self.eat('>') {
                break;
            }
            return Err(self.expected("`,` or `>` in TCP option list"));
        }
        Ok(TcpOptionsSpec::List(list))
    }

    /// `(LEN)` with optional blanks before it.
    fn parse_paren_len(&mut self) -> PResult<u32> {
        self.skip_inline()?;
        self.expect('(', "`(LEN)` payload length")?;
        let len = self.parse_u32("payload length")?;
        self.skip_inline()?;
        self.expect(')', "`)`")?;
        Ok(len)
    }

    fn parse_udp(&mut self) -> PResult<UdpSpec> {
        Ok(UdpSpec {
            len: self.parse_paren_len()?,
        })
    }

    /// `[START:END(LEN)]` or `[udp (LEN)]`, cursor on `[`.
    fn parse_echoed(&mut self) -> PResult<IcmpEchoed> {
        let at = self.pos;
        self.bump();
        self.skip_inline()?;
        let e = if self.eat_keyword("udp") {
            IcmpEchoed::Udp {
                len: self.parse_paren_len()?,
            }
        } else if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            let (seq, end_seq, len) = self.parse_seq_range()?;
            IcmpEchoed::Tcp { seq, end_seq, len }
        } else {
            return Err(self.unsupported_at(
                at,
                "quoted header other than `[START:END(LEN)]` or `[udp (LEN)]`",
            ));
        };
        self.skip_inline()?;
        self.expect(']', "`]` closing the quoted header")?;
        Ok(e)
    }

    fn parse_icmp(&mut self, mut echoed: Option<IcmpEchoed>) -> PResult<IcmpSpec> {
        self.skip_inline()?;
        let at = self.pos;
        let ty = self.peek_ident();
        match ty {
            "echo_request" | "echo_reply" => {
                self.advance_bytes(ty.len());
                if echoed.is_some() {
                    return Err(self.syntax_at(
                        at,
                        "ICMP error type after a quoted header",
                        format!("`{ty}`"),
                    ));
                }
                let kind = if ty == "echo_request" {
                    EchoType::Request
                } else {
                    EchoType::Reply
                };
                self.expect_keyword("id")?;
                let id = self.parse_u16("echo identifier")?;
                self.expect_keyword("seq")?;
                let seq = self.parse_u16("echo sequence number")?;
                let len = self.parse_paren_len()?;
                Ok(IcmpSpec::Echo { kind, id, seq, len })
            }
            _ if ICMP_ERROR_TYPES.contains(&ty) => {
                self.advance_bytes(ty.len());
                self.skip_inline()?;
                let mut code = None;
                let c = self.peek_ident();
                if !c.is_empty() && c != "mtu" {
                    self.advance_bytes(c.len());
                    code = Some(c.to_string());
                }
                self.skip_inline()?;
                let mut mtu = None;
                if self.eat_keyword("mtu") {
                    mtu = Some(self.parse_u32("MTU")?);
                }
                self.skip_inline()?;
                if self.peek() == Some('[') {
                    if echoed.is_some() {
                        return Err(self.syntax_at(
                            self.pos,
                            "a single quoted header",
                            "a second one",
                        ));
                    }
                    echoed = Some(self.parse_echoed()?);
                }
                Ok(IcmpSpec::Error {
                    type_name: ty.to_string(),
                    code,
                    mtu,
                    echoed,
                })
            }
            "" => Err(self.expected("ICMP type (e.g. `echo_request`, `unreachable`)")),
            _ => Err(self.unsupported_at(at, format!("ICMP type `{ty}`"))),
        }
    }

    fn parse_ipv4(&mut self) -> PResult<Ipv4Addr> {
        self.skip_inline()?;
        let at = self.pos;
        let text = self.take_while(|c| c.is_ascii_digit() || c == '.');
        if text.is_empty() {
            return Err(self.expected("IPv4 address"));
        }
        text.parse()
            .map_err(|_| self.syntax_at(at, "IPv4 address", format!("`{text}`")))
    }

    fn parse_mac(&mut self) -> PResult<MacSpec> {
        const WHAT: &str = "MAC address (`02:00:00:00:00:01`, `dut_mac`, `tb_mac` or `*`)";
        self.skip_inline()?;
        if self.eat('*') {
            return Ok(MacSpec::Any);
        }
        let at = self.pos;
        let text = self.take_while(|c| is_ident_char(c) || c == ':');
        match text {
            "" => return Err(self.expected(WHAT)),
            "dut_mac" => return Ok(MacSpec::Dut),
            "tb_mac" => return Ok(MacSpec::Testbench),
            _ => {}
        }
        let mut mac = [0u8; 6];
        let mut n = 0;
        for part in text.split(':') {
            let ok = n < 6
                && (1..=2).contains(&part.len())
                && part.chars().all(|c| c.is_ascii_hexdigit());
            let byte = if ok {
                u8::from_str_radix(part, 16).ok()
            } else {
                None
            };
            match byte {
                Some(b) => {
                    if let Some(slot) = mac.get_mut(n) {
                        *slot = b;
                    }
                    n += 1;
                }
                None => return Err(self.syntax_at(at, WHAT, format!("`{text}`"))),
            }
        }
        if n != 6 {
            return Err(self.syntax_at(at, WHAT, format!("`{text}`")));
        }
        Ok(MacSpec::Literal(mac))
    }

    fn parse_arp(&mut self) -> PResult<ArpSpec> {
        self.skip_inline()?;
        let at = self.pos;
        let op = self.take_while(|c| is_ident_char(c) || c == '-');
        match op {
            "who-has" => {
                let target_ip = self.parse_ipv4()?;
                self.expect_keyword("tell")?;
                let sender_ip = self.parse_ipv4()?;
                let mut sender_mac = None;
                let mut eth_dst = None;
                loop {
                    self.skip_inline()?;
                    let kw_at = self.pos;
                    if self.eat_keyword("from") {
                        if sender_mac.is_some() {
                            return Err(self.syntax_at(kw_at, "a single `from`", "a second one"));
                        }
                        sender_mac = Some(self.parse_mac()?);
                    } else if self.eat_keyword("to") {
                        if eth_dst.is_some() {
                            return Err(self.syntax_at(kw_at, "a single `to`", "a second one"));
                        }
                        eth_dst = Some(self.parse_mac()?);
                    } else if self.at_eol() {
                        break;
                    } else {
                        return Err(self.expected("`from MAC`, `to MAC` or end of line"));
                    }
                }
                Ok(ArpSpec::Request {
                    target_ip,
                    sender_ip,
                    sender_mac,
                    eth_dst,
                })
            }
            "reply" => {
                let sender_ip = self.parse_ipv4()?;
                self.skip_inline()?;
                if !self.eat_str("is-at") {
                    return Err(self.expected("`is-at`"));
                }
                let sender_mac = self.parse_mac()?;
                self.skip_inline()?;
                let mut eth_dst = None;
                if self.eat_keyword("to") {
                    eth_dst = Some(self.parse_mac()?);
                }
                Ok(ArpSpec::Reply {
                    sender_ip,
                    sender_mac,
                    eth_dst,
                })
            }
            "" => Err(self.expected("`who-has` or `reply`")),
            _ => Err(self.syntax_at(at, "`who-has` or `reply`", format!("`{op}`"))),
        }
    }

    // ---------------------------------------------------------- system calls

    fn parse_call(&mut self) -> PResult<CallEvent> {
        let name = self.take_while(is_ident_char).to_string();
        self.skip_inline()?;
        self.expect('(', "`(` starting the system call arguments")?;
        let args = self.parse_expr_list(')', 1)?;
        self.skip_inline()?;
        self.expect('=', "`=` and the expected result")?;
        self.skip_inline()?;
        let value = if self.eat_str("...") {
            None
        } else if matches!(self.peek(), Some('-' | '0'..='9')) {
            Some(self.parse_int("result")?)
        } else {
            return Err(self.expected("result (an integer or `...`)"));
        };
        self.skip_inline()?;
        let mut errno = None;
        if self.peek().is_some_and(is_ident_start) {
            errno = Some(self.take_while(is_ident_char).to_string());
            self.skip_inline()?;
        }
        let mut note = None;
        if self.peek() == Some('(') {
            let at = self.pos;
            self.bump();
            let start = self.pos;
            let mut depth = 1usize;
            loop {
                match self.peek() {
                    None | Some('\n') => {
                        return Err(self.syntax_at(at, "`)` closing this note", self.describe()))
                    }
                    Some('(') => depth += 1,
                    Some(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                self.bump();
            }
            note = Some(self.slice(start).to_string());
            self.bump();
        }
        Ok(CallEvent {
            name,
            args,
            result: CallResult { value, errno, note },
        })
    }

    /// Comma-separated expressions up to `close` (the opener is consumed).
    fn parse_expr_list(&mut self, close: char, depth: usize) -> PResult<Vec<Expr>> {
        let mut v = Vec::new();
        self.skip_all()?;
        if self.eat(close) {
            return Ok(v);
        }
        loop {
            v.push(self.parse_expr(depth)?);
            self.skip_all()?;
            if self.eat(',') {
                self.skip_all()?;
                continue;
            }
            if self.eat(close) {
                return Ok(v);
            }
            return Err(self.expected(format!("`,` or `{close}`")));
        }
    }

    fn parse_expr(&mut self, depth: usize) -> PResult<Expr> {
        let first = self.parse_primary(depth)?;
        self.skip_all()?;
        if self.peek() != Some('|') {
            return Ok(first);
        }
        let mut parts = vec![first];
        while self.eat('|') {
            self.skip_all()?;
            parts.push(self.parse_primary(depth)?);
            self.skip_all()?;
        }
        Ok(Expr::BitOr(parts))
    }

    fn parse_primary(&mut self, depth: usize) -> PResult<Expr> {
        if depth > MAX_DEPTH {
            return Err(self.syntax_at(
                self.pos,
                format!("expressions nested at most {MAX_DEPTH} deep"),
                "deeper nesting",
            ));
        }
        match self.peek() {
            Some('.') if self.starts_with("...") => {
                self.advance_bytes(3);
                Ok(Expr::Ellipsis)
            }
            Some('-' | '0'..='9') => Ok(Expr::Int(self.parse_int("integer")?)),
            Some('"') => Ok(Expr::Str(self.parse_string()?)),
            Some('[') => {
                self.bump();
                Ok(Expr::Array(self.parse_expr_list(']', depth + 1)?))
            }
            Some('{') => {
                self.bump();
                self.parse_struct(depth + 1)
            }
            Some(c) if is_ident_start(c) => {
                let name = self.take_while(is_ident_char).to_string();
                if self.eat('(') {
                    Ok(Expr::Call(name, self.parse_expr_list(')', depth + 1)?))
                } else {
                    Ok(Expr::Ident(name))
                }
            }
            _ => Err(self.expected(
                "argument (`...`, integer, NAME, \"string\", `[...]`, `{field=...}` or `f(...)`)",
            )),
        }
    }

    fn parse_struct(&mut self, depth: usize) -> PResult<Expr> {
        let mut fields = Vec::new();
        self.skip_all()?;
        if self.eat('}') {
            return Ok(Expr::Struct(fields));
        }
        loop {
            self.skip_all()?;
            let name = self.peek_ident();
            // A positional member (`{..., 100}`, an iovec as public scripts
            // write it) has no name: anything but `NAME =` / `NAME(…) =`.
            let mut look = *self;
            look.advance_bytes(name.len());
            let _ = look.skip_all();
            if name.is_empty() || !matches!(look.peek(), Some('=' | '(')) {
                let e = self.parse_expr(depth)?;
                fields.push((String::new(), e));
            } else {
                self.advance_bytes(name.len());
                self.skip_all()?;
                // packetdrill's `msg_iov(1)=[…]`: the count is the array's
                // length, so it is checked against it and not kept.
                let count = if self.eat('(') {
                    self.skip_all()?;
                    let at = self.pos;
                    let c = if self.eat_str("...") {
                        None
                    } else {
                        match self.parse_expr(depth)? {
                            Expr::Int(n) => Some((n, at)),
                            _ => {
                                return Err(self.syntax_at(
                                    at,
                                    "a count or `...`",
                                    "something else",
                                ))
                            }
                        }
                    };
                    self.skip_all()?;
                    self.expect(')', "`)` after the field count")?;
                    self.skip_all()?;
                    c
                } else {
                    None
                };
                self.expect('=', "`=` after the struct field name")?;
                self.skip_all()?;
                let vat = self.pos;
                let e = self.parse_expr(depth)?;
                if let (Some((n, at)), Expr::Array(items)) = (count, &e) {
                    if n != items.len() as i64 {
                        let _ = vat;
                        return Err(self.syntax_at(
                            at,
                            format!("a count equal to the array's length ({})", items.len()),
                            format!("{n}"),
                        ));
                    }
                }
                fields.push((name.to_string(), e));
            }
            self.skip_all()?;
            if self.eat(',') {
                continue;
            }
            if self.eat('}') {
                return Ok(Expr::Struct(fields));
            }
            return Err(self.expected("`,` or `}`"));
        }
    }

    fn parse_string(&mut self) -> PResult<String> {
        let at = self.pos;
        self.bump();
        let mut s = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(self.syntax_at(at, "`\"` closing this string", self.describe()))
                }
                Some('"') => {
                    self.bump();
                    return Ok(s);
                }
                Some('\\') => {
                    self.bump();
                    match self.peek() {
                        None | Some('\n') => {
                            return Err(self.syntax_at(
                                at,
                                "`\"` closing this string",
                                self.describe(),
                            ))
                        }
                        Some(c) => {
                            self.bump();
                            match c {
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                'r' => s.push('\r'),
                                '0' => s.push('\0'),
                                '\\' | '"' => s.push(c),
                                other => {
                                    s.push('\\');
                                    s.push(other);
                                }
                            }
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    s.push(c);
                }
            }
        }
    }
}
