//! TCP segments (RFC 9293) and their options.
//!
//! # Options and EOL
//!
//! [`TcpRepr::parse`] reports every option in wire order. An End of Option
//! List byte (kind 0) is kept as a [`TcpOption::EndOfList`] item and ends the
//! list; the header padding after it must be zeros (RFC 9293 MUST-69) and each
//! padding byte is kept as one more `EndOfList` item, so the header length
//! survives a round trip however much padding a sender used (a non-zero byte
//! after the first EOL is `Malformed` "padding after eol"). Symmetrically,
//! [`TcpOptions::push`] refuses any item but `EndOfList` after an
//! `EndOfList`, and emit pads with zeros to a multiple of 4 bytes.
//!
//! [`TcpOptions`] keeps the options as their wire bytes and decodes items on
//! demand; the accessors ([`TcpOptions::mss`] and the like) walk the bytes
//! by their length fields without decoding the rest.
//!
//! A header whose options end exactly on the header end has no `EndOfList`
//! item. A list whose wire length is not a multiple of 4 is padded with zeros,
//! which parse back as `EndOfList` items: the canonical form of a list has a
//! wire length that is a multiple of 4 (see [`TcpOptions::is_canonical`] and
//! [`TcpOptions::canonicalize`]). So `parse(emit(parse(bytes))) == parse(bytes)`
//! always, and `parse(emit(repr)) == repr` for every canonical repr.

use super::checksum;
use super::{ChecksumMode, Error, Result};
use core::fmt;
use core::net::Ipv4Addr;

/// TCP control flags (the whole 8-bit flags byte: CWR ECE URG ACK PSH RST SYN FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR.
    pub const CWR: TcpFlags = TcpFlags(0x80);
    /// No flags.
    pub const NONE: TcpFlags = TcpFlags(0);

    /// Whether all flags of `other` are set in `self`.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set in `self`.
    pub fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// SYN and FIN each count as one unit of sequence space.
    pub fn sequence_len(self) -> usize {
        usize::from(self.contains(Self::SYN)) + usize::from(self.contains(Self::FIN))
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0
    }
}

impl core::ops::BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl core::ops::Not for TcpFlags {
    type Output = TcpFlags;
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: F S R P . U E W in that order (so SYN-ACK is `S.`,
    /// FIN-ACK `F.`, PSH-ACK `P.`), `none` when no flag is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        const TABLE: [(u8, char); 8] = [
            (0x01, 'F'),
            (0x02, 'S'),
            (0x04, 'R'),
            (0x08, 'P'),
            (0x10, '.'),
            (0x20, 'U'),
            (0x40, 'E'),
            (0x80, 'W'),
        ];
        for (bit, c) in TABLE {
            if self.0 & bit != 0 {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// Maximum number of SACK blocks an option can carry (40-byte option space).
pub const TCP_MAX_SACK_BLOCKS: usize = 4;
/// Maximum number of options in one header (40 bytes of NOPs).
pub const TCP_MAX_OPTIONS: usize = 40;
/// Maximum length of the options of one header.
pub const TCP_MAX_OPTIONS_LEN: usize = 40;

/// TCP option kind numbers.
pub mod option_kind {
    /// End of option list.
    pub const EOL: u8 = 0;
    /// No-operation.
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WSCALE: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks.
    pub const SACK: u8 = 5;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// One TCP option, in wire order. Every kind is representable so that emit
/// reproduces the header byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption {
    /// Kind 0. Everything after it up to the end of the header is padding and
    /// is not represented (emit pads with zeros).
    EndOfList,
    /// Kind 1.
    NoOperation,
    /// Kind 2, length 4.
    MaxSegmentSize(u16),
    /// Kind 3, length 3.
    WindowScale(u8),
    /// Kind 4, length 2.
    SackPermitted,
    /// Kind 5, length 2 + 8n (n in 1..=4): left/right edges.
    SackRange {
        /// Number of meaningful blocks (1..=4).
        count: u8,
        /// `blocks[..count]` are the (left, right) edges; the rest are zero
        /// in parsed options.
        blocks: [(u32, u32); TCP_MAX_SACK_BLOCKS],
    },
    /// Kind 8, length 10.
    Timestamps {
        /// TSval.
        tsval: u32,
        /// TSecr.
        tsecr: u32,
    },
    /// Any other kind: kind, and up to 38 data bytes.
    Unknown {
        /// Option kind (not 0, 1, 2, 3, 4, 5, 8 for a canonical option).
        kind: u8,
        /// The on-wire length byte: kind + length + data, 2..=40.
        len: u8,
        /// `data[..len - 2]` are the option data; the rest are zero in parsed
        /// options (see [`TcpOption::unknown`]).
        data: [u8; 38],
    },
}

impl TcpOption {
    /// An unknown-kind option with the given data (≤ 38 bytes, else
    /// `Error::Malformed` "option length").
    pub fn unknown(kind: u8, data: &[u8]) -> Result<TcpOption> {
        if data.len() > 38 {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "option length",
                value: (data.len() + 2) as u32,
            });
        }
        let mut d = [0u8; 38];
        d[..data.len()].copy_from_slice(data);
        Ok(TcpOption::Unknown {
            kind,
            len: data.len() as u8 + 2,
            data: d,
        })
    }

    /// A SACK option from 1..=4 blocks (else `Error::Malformed`).
    pub fn sack(blocks: &[(u32, u32)]) -> Result<TcpOption> {
        if blocks.is_empty() || blocks.len() > TCP_MAX_SACK_BLOCKS {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "sack blocks",
                value: blocks.len() as u32,
            });
        }
        let mut b = [(0, 0); TCP_MAX_SACK_BLOCKS];
        b[..blocks.len()].copy_from_slice(blocks);
        Ok(TcpOption::SackRange {
            count: blocks.len() as u8,
            blocks: b,
        })
    }

    /// Whether this is `EndOfList` (a variant test: the derived `==` compares
    /// whole options, which showed in the fuzz targets' profiles).
    pub fn is_eol(&self) -> bool {
        matches!(self, TcpOption::EndOfList)
    }

    /// The option kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => option_kind::EOL,
            TcpOption::NoOperation => option_kind::NOP,
            TcpOption::MaxSegmentSize(_) => option_kind::MSS,
            TcpOption::WindowScale(_) => option_kind::WSCALE,
            TcpOption::SackPermitted => option_kind::SACK_PERMITTED,
            TcpOption::SackRange { .. } => option_kind::SACK,
            TcpOption::Timestamps { .. } => option_kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Length on the wire (SACK count clamped to 4, unknown length clamped to
    /// 2..=40).
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::SackRange { count, .. } => {
                2 + 8 * usize::from(*count).min(TCP_MAX_SACK_BLOCKS)
            }
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { len, .. } => usize::from(*len).clamp(2, 40),
        }
    }

    /// The SACK blocks of a `SackRange` (empty for other options).
    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        match self {
            TcpOption::SackRange { count, blocks } => {
                &blocks[..usize::from(*count).min(TCP_MAX_SACK_BLOCKS)]
            }
            _ => &[],
        }
    }

    /// The data of an `Unknown` option (empty for other options).
    pub fn unknown_data(&self) -> &[u8] {
        match self {
            TcpOption::Unknown { data, .. } => &data[..self.wire_len() - 2],
            _ => &[],
        }
    }

    /// Writes the option into `buf` (at least [`wire_len`](Self::wire_len)
    /// bytes) and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let len = self.wire_len();
        let b = &mut buf[..len];
        b[0] = self.kind();
        if len > 1 {
            b[1] = len as u8;
        }
        match *self {
            TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::SackPermitted => {}
            TcpOption::MaxSegmentSize(m) => b[2..4].copy_from_slice(&m.to_be_bytes()),
            TcpOption::WindowScale(s) => b[2] = s,
            TcpOption::SackRange { .. } => {
                for (i, (l, r)) in self.sack_blocks().iter().enumerate() {
                    b[2 + 8 * i..6 + 8 * i].copy_from_slice(&l.to_be_bytes());
                    b[6 + 8 * i..10 + 8 * i].copy_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                b[2..6].copy_from_slice(&tsval.to_be_bytes());
                b[6..10].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Unknown { .. } => b[2..].copy_from_slice(self.unknown_data()),
        }
        len
    }

    /// The length of the option at the start of `buf` (the rest of the
    /// option space), with every check of [`parse`](Self::parse) and its
    /// errors, without building the option (option spaces are validated
    /// this way for every segment).
    pub fn checked_len(buf: &[u8]) -> Result<usize> {
        let Some(&kind) = buf.first() else {
            return Err(Error::Truncated {
                layer: "tcp",
                need: 1,
                have: 0,
            });
        };
        if kind == option_kind::EOL || kind == option_kind::NOP {
            return Ok(1);
        }
        let Some(&len) = buf.get(1) else {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "option end",
                value: 2,
            });
        };
        let bad_len = Error::Malformed {
            layer: "tcp",
            field: "option length",
            value: len.into(),
        };
        let n = usize::from(len);
        if n < 2 {
            return Err(bad_len);
        }
        if n > buf.len() {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "option end",
                value: len.into(),
            });
        }
        let fits_kind = match kind {
            option_kind::MSS => n == 4,
            option_kind::WSCALE => n == 3,
            option_kind::SACK_PERMITTED => n == 2,
            option_kind::SACK => (n - 2) % 8 == 0 && (1..=4).contains(&((n - 2) / 8)),
            option_kind::TIMESTAMPS => n == 10,
            _ => true,
        };
        if n > TCP_MAX_OPTIONS_LEN || !fits_kind {
            return Err(bad_len);
        }
        Ok(n)
    }

    /// Parses one option at the start of `buf` (the rest of the option
    /// space). Returns the option and its length. Errors: those of
    /// [`checked_len`](Self::checked_len).
    pub fn parse(buf: &[u8]) -> Result<(TcpOption, usize)> {
        let n = Self::checked_len(buf)?;
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        // `checked_len` made `buf[..n]` one whole option of a length right
        // for its kind.
        let d = &buf[2.min(n)..n];
        let opt = match buf[0] {
            option_kind::EOL => TcpOption::EndOfList,
            option_kind::NOP => TcpOption::NoOperation,
            option_kind::MSS => TcpOption::MaxSegmentSize(u16::from_be_bytes([d[0], d[1]])),
            option_kind::WSCALE => TcpOption::WindowScale(d[0]),
            option_kind::SACK_PERMITTED => TcpOption::SackPermitted,
            option_kind::SACK => {
                let SackBlocks { count, blocks } = sack_blocks_of(d);
                TcpOption::SackRange { count, blocks }
            }
            option_kind::TIMESTAMPS => TcpOption::Timestamps {
                tsval: be32(&d[..4]),
                tsecr: be32(&d[4..]),
            },
            kind => {
                let mut data = [0u8; 38];
                data[..d.len()].copy_from_slice(d);
                TcpOption::Unknown {
                    kind,
                    len: n as u8,
                    data,
                }
            }
        };
        Ok((opt, n))
    }
}

impl fmt::Display for TcpOption {
    /// tcpdump style: `mss 1460`, `sackOK`, `TS val 1 ecr 0`, `nop`,
    /// `wscale 7`, `eol`, `sack 1 {100:200}`, `unknown-30 0x0102`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOption::EndOfList => write!(f, "eol"),
            TcpOption::NoOperation => write!(f, "nop"),
            TcpOption::MaxSegmentSize(m) => write!(f, "mss {m}"),
            TcpOption::WindowScale(s) => write!(f, "wscale {s}"),
            TcpOption::SackPermitted => write!(f, "sackOK"),
            TcpOption::SackRange { .. } => {
                let b = self.sack_blocks();
                write!(f, "sack {}", b.len())?;
                for (l, r) in b {
                    write!(f, " {{{l}:{r}}}")?;
                }
                Ok(())
            }
            TcpOption::Timestamps { tsval, tsecr } => write!(f, "TS val {tsval} ecr {tsecr}"),
            TcpOption::Unknown { kind, .. } => {
                write!(f, "unknown-{kind}")?;
                let d = self.unknown_data();
                if !d.is_empty() {
                    write!(f, " 0x")?;
                    for b in d {
                        write!(f, "{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The options of one TCP header, in wire order, kept as their wire bytes:
/// 42 bytes rather than a list of 40 option items (1,760 bytes), because a
/// [`TcpRepr`] is built, parsed and copied for every segment.
///
/// `bytes[..len]` always holds what [`TcpOptions::parse`] accepts: valid
/// options, and only zeros (`EndOfList` items) after the first `EndOfList`.
/// `bytes[len..]` are zeros, so the derived equality compares the lists.
/// [`iter`](Self::iter) decodes the items on the fly.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpOptions {
    /// Wire length of the items, before padding.
    len: u8,
    /// Whether an `EndOfList` is among the items (nothing but more
    /// `EndOfList`s may follow it).
    eol: bool,
    bytes: [u8; TCP_MAX_OPTIONS_LEN],
}

impl Default for TcpOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TcpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The SACK blocks of an option, by value (up to 4; derefs to a slice).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SackBlocks {
    count: u8,
    blocks: [(u32, u32); TCP_MAX_SACK_BLOCKS],
}

impl core::ops::Deref for SackBlocks {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.count).min(TCP_MAX_SACK_BLOCKS)]
    }
}

impl fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a> IntoIterator for &'a SackBlocks {
    type Item = &'a (u32, u32);
    type IntoIter = core::slice::Iter<'a, (u32, u32)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for SackBlocks {
    type Item = (u32, u32);
    type IntoIter = core::iter::Take<core::array::IntoIter<(u32, u32), TCP_MAX_SACK_BLOCKS>>;
    fn into_iter(self) -> Self::IntoIter {
        self.blocks.into_iter().take(self.len())
    }
}

impl<const N: usize> PartialEq<&[(u32, u32); N]> for SackBlocks {
    fn eq(&self, other: &&[(u32, u32); N]) -> bool {
        **self == other[..]
    }
}

/// The items of a [`TcpOptions`], decoded from its bytes.
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
}

impl Iterator for TcpOptionsIter<'_> {
    type Item = TcpOption;
    fn next(&mut self) -> Option<TcpOption> {
        // The bytes were validated when they were stored, so this parse
        // cannot fail; stopping on an error keeps it total anyway.
        let (opt, n) = TcpOption::parse(self.rest).ok()?;
        self.rest = &self.rest[n.min(self.rest.len())..];
        Some(opt)
    }
}

impl TcpOptions {
    /// No options.
    pub const fn new() -> TcpOptions {
        TcpOptions {
            len: 0,
            eol: false,
            bytes: [0; TCP_MAX_OPTIONS_LEN],
        }
    }

    /// Options from a list (each validated as by [`push`](Self::push)).
    pub fn from_slice(opts: &[TcpOption]) -> Result<TcpOptions> {
        let mut o = TcpOptions::new();
        for opt in opts {
            o.push(*opt)?;
        }
        Ok(o)
    }

    /// Appends an option. Errors (`Error::Malformed`): the options would
    /// exceed 40 bytes ("options length", value = new length), an option
    /// after `EndOfList` ("option after eol"), a SACK count outside 1..=4 or
    /// an unknown length outside 2..=40 ("option length"), an `Unknown` item
    /// whose bytes would not parse back as one option of that kind ("option
    /// kind": kinds 0 and 1, or a known kind with a length wrong for it).
    pub fn push(&mut self, opt: TcpOption) -> Result<()> {
        match opt {
            TcpOption::SackRange { count, .. } if !(1..=4).contains(&count) => {
                return Err(Error::Malformed {
                    layer: "tcp",
                    field: "option length",
                    value: 2 + 8 * u32::from(count),
                })
            }
            TcpOption::Unknown { len, .. } if !(2..=40).contains(&len) => {
                return Err(Error::Malformed {
                    layer: "tcp",
                    field: "option length",
                    value: len.into(),
                })
            }
            _ => {}
        }
        let mut b = [0u8; TCP_MAX_OPTIONS_LEN];
        let n = opt.emit(&mut b);
        if let TcpOption::Unknown { kind, .. } = opt {
            // An unknown kind is stored as bytes that must read back as
            // itself (kind 2 with length 4 would read back as an MSS). Checked
            // after the EOL and room checks, whose errors come first.
            let start = usize::from(self.len);
            self.append_wellformed(&b[..n], kind, opt.is_eol())?;
            let back = TcpOption::parse(&b[..n]);
            if !matches!(back, Ok((TcpOption::Unknown { .. }, m)) if m == n) {
                self.bytes[start..start + n].fill(0);
                self.len = start as u8;
                return Err(Error::Malformed {
                    layer: "tcp",
                    field: "option kind",
                    value: kind.into(),
                });
            }
            return Ok(());
        }
        self.append_wellformed(&b[..n], opt.kind(), opt.is_eol())
    }

    /// Appends the wire bytes of options known to be well formed, with the
    /// checks of [`push`](Self::push) that can still fail: an `EndOfList`
    /// before them (unless `eol`: these bytes are `EndOfList` padding
    /// themselves), or no room. `first_kind` is the error's value.
    fn append_wellformed(&mut self, b: &[u8], first_kind: u8, eol: bool) -> Result<()> {
        if self.eol && !eol {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "option after eol",
                value: first_kind.into(),
            });
        }
        let start = usize::from(self.len);
        let new_len = start + b.len();
        let Some(dst) = self.bytes.get_mut(start..new_len) else {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "options length",
                value: new_len as u32,
            });
        };
        dst.copy_from_slice(b);
        self.len = new_len as u8;
        self.eol |= eol;
        Ok(())
    }

    /// Appends `nop,nop,TS val ecr`, the layout Linux gives every non-SYN
    /// segment with timestamps (the same as three [`push`](Self::push)es,
    /// without building each item: this runs for every segment sent).
    pub fn push_nops_timestamps(&mut self, tsval: u32, tsecr: u32) -> Result<()> {
        let mut b = [
            option_kind::NOP,
            option_kind::NOP,
            option_kind::TIMESTAMPS,
            10,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        b[4..8].copy_from_slice(&tsval.to_be_bytes());
        b[8..12].copy_from_slice(&tsecr.to_be_bytes());
        self.append_wellformed(&b, option_kind::NOP, false)
    }

    /// Appends `nop,nop,sack` with 1..=4 blocks (else `Malformed` "sack
    /// blocks"), as three [`push`](Self::push)es would.
    pub fn push_nops_sack(&mut self, blocks: &[(u32, u32)]) -> Result<()> {
        if blocks.is_empty() || blocks.len() > TCP_MAX_SACK_BLOCKS {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "sack blocks",
                value: blocks.len() as u32,
            });
        }
        let mut b = [0u8; 4 + 8 * TCP_MAX_SACK_BLOCKS];
        b[..4].copy_from_slice(&[
            option_kind::NOP,
            option_kind::NOP,
            option_kind::SACK,
            2 + 8 * blocks.len() as u8,
        ]);
        for (c, (l, r)) in b[4..].chunks_exact_mut(8).zip(blocks) {
            c[..4].copy_from_slice(&l.to_be_bytes());
            c[4..].copy_from_slice(&r.to_be_bytes());
        }
        self.append_wellformed(&b[..4 + 8 * blocks.len()], option_kind::NOP, false)
    }

    /// Iterates over the options in order (decoded from the bytes).
    pub fn iter(&self) -> TcpOptionsIter<'_> {
        TcpOptionsIter {
            rest: self.as_bytes(),
        }
    }

    /// The options' wire bytes, before padding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(TCP_MAX_OPTIONS_LEN)]
    }

    /// The number of options (each `EndOfList` padding byte counts as one).
    pub fn count(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length of the options on the wire, before padding.
    pub fn wire_len(&self) -> usize {
        usize::from(self.len)
    }

    /// Length on the wire including zero padding to a multiple of 4.
    pub fn padded_len(&self) -> usize {
        (self.wire_len() + 3) & !3
    }

    /// Whether `emit` then `parse` gives these options back: a wire length
    /// that is a multiple of 4 (the zero padding `emit` adds parses back as
    /// `EndOfList` items).
    pub fn is_canonical(&self) -> bool {
        self.wire_len() % 4 == 0
    }

    /// Appends `EndOfList`s up to a multiple of 4 bytes: the form `parse`
    /// returns for the emitted bytes.
    pub fn canonicalize(&mut self) {
        if !self.is_canonical() {
            // The bytes past `len` are already zero.
            self.len = self.padded_len() as u8;
            self.eol = true;
        }
    }

    /// Writes the options and zero padding into `buf` (at least
    /// [`padded_len`](Self::padded_len) bytes); returns the padded length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let end = self.padded_len();
        // `bytes[len..]` are zeros: the padding comes with the copy.
        buf[..end].copy_from_slice(&self.bytes[..end]);
        end
    }

    /// Parses an option space (the bytes between offset 20 and the data
    /// offset). Errors: an option length < 2 or wrong for its kind
    /// (`Malformed` "option length", value = the length byte), an option that
    /// runs past the header (`Malformed` "option end", value = its length
    /// byte, or 2 when the length byte itself is missing), more than 40 bytes
    /// (`Malformed` "options length"), a non-zero byte after an `EndOfList`
    /// (`Malformed` "padding after eol", RFC 9293 MUST-69). The round-trip
    /// guarantee of the module docs assumes a multiple of 4 bytes, as any
    /// data offset gives.
    pub fn parse(buf: &[u8]) -> Result<TcpOptions> {
        if buf.len() > TCP_MAX_OPTIONS_LEN {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "options length",
                value: buf.len() as u32,
            });
        }
        let mut i = 0;
        let mut eol = false;
        while i < buf.len() {
            match buf[i] {
                option_kind::EOL => {
                    // RFC 9293 MUST-69: the rest is zero padding, one
                    // `EndOfList` item a byte.
                    if let Some(&b) = buf[i + 1..].iter().find(|&&b| b != 0) {
                        return Err(Error::Malformed {
                            layer: "tcp",
                            field: "padding after eol",
                            value: b.into(),
                        });
                    }
                    eol = true;
                    break;
                }
                option_kind::NOP => i += 1,
                _ => i += TcpOption::checked_len(&buf[i..])?,
            }
        }
        let mut opts = TcpOptions::new();
        opts.bytes[..buf.len()].copy_from_slice(buf);
        opts.len = buf.len() as u8;
        opts.eol = eol;
        Ok(opts)
    }

    /// The data of each option of `kind` (not EOL or NOP), in order: a
    /// walk over the stored bytes by their length fields, without decoding
    /// the other options (the accessors below run for every segment).
    fn data_of(&self, kind: u8) -> impl Iterator<Item = &[u8]> {
        let b = self.as_bytes();
        let mut i = 0;
        core::iter::from_fn(move || {
            while let Some(&k) = b.get(i) {
                match k {
                    option_kind::EOL => return None,
                    option_kind::NOP => i += 1,
                    _ => {
                        // Stored bytes parsed, so the length is 2..=the
                        // rest; the `get`s keep the walk total anyway.
                        let n = usize::from(*b.get(i + 1)?).max(2);
                        let d = b.get(i + 2..i + n)?;
                        i += n;
                        if k == kind {
                            return Some(d);
                        }
                    }
                }
            }
            None
        })
    }

    /// The MSS option's value, if present.
    pub fn mss(&self) -> Option<u16> {
        let d = self.data_of(option_kind::MSS).next()?;
        Some(u16::from_be_bytes([*d.first()?, *d.get(1)?]))
    }

    /// The window-scale option's shift count, if present.
    pub fn window_scale(&self) -> Option<u8> {
        self.data_of(option_kind::WSCALE).next()?.first().copied()
    }

    /// Whether SACK-permitted is present.
    pub fn sack_permitted(&self) -> bool {
        self.data_of(option_kind::SACK_PERMITTED).next().is_some()
    }

    /// The timestamps option's (TSval, TSecr), if present.
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        let d: &[u8; 8] = self
            .data_of(option_kind::TIMESTAMPS)
            .next()?
            .try_into()
            .ok()?;
        Some((
            u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
            u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
        ))
    }

    /// The blocks of the first SACK option (empty if none).
    pub fn sack_blocks(&self) -> SackBlocks {
        self.data_of(option_kind::SACK)
            .next()
            .map(sack_blocks_of)
            .unwrap_or_default()
    }

    /// The blocks of every SACK option, in order.
    pub fn all_sack_blocks(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.data_of(option_kind::SACK).flat_map(sack_blocks_of)
    }
}

/// The blocks of a SACK option's data (whole 8-byte blocks, at most 4).
fn sack_blocks_of(d: &[u8]) -> SackBlocks {
    let mut s = SackBlocks::default();
    for (i, c) in d.chunks_exact(8).take(TCP_MAX_SACK_BLOCKS).enumerate() {
        s.blocks[i] = (
            u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
        );
        s.count = i as u8 + 1;
    }
    s
}

impl<'a> IntoIterator for &'a TcpOptions {
    type Item = TcpOption;
    type IntoIter = TcpOptionsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for TcpOptions {
    /// Comma separated, tcpdump style: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, o) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{o}")?;
        }
        Ok(())
    }
}

/// A TCP header; the payload is not part of the repr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (as on the wire, even without ACK).
    pub ack_number: u32,
    /// The flags byte.
    pub flags: TcpFlags,
    /// Window field (unscaled).
    pub window_len: u16,
    /// Urgent pointer (as on the wire, even without URG).
    pub urgent_pointer: u16,
    /// Options in wire order.
    pub options: TcpOptions,
    /// Length of the payload.
    pub payload_len: usize,
}

/// Minimum TCP header length.
pub const TCP_HEADER_LEN: usize = 20;

/// IP protocol number of TCP (for the pseudo-header).
const PROTO_TCP: u8 = 6;

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;
}

/// A read/write view of a TCP segment (header and payload; the buffer is the
/// whole IP payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking (accessors may panic).
    pub const fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Wraps a buffer, checking: buffer ≥ 20 (`Truncated`), data offset ≥ 5
    /// (`Malformed` "data offset"), buffer ≥ header length (`Truncated`).
    /// After this succeeds no accessor panics.
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`new_checked`](Self::new_checked).
    pub fn check_len(&self) -> Result<()> {
        let have = self.buffer.as_ref().len();
        if have < TCP_HEADER_LEN {
            return Err(Error::Truncated {
                layer: "tcp",
                need: TCP_HEADER_LEN,
                have,
            });
        }
        let off = self.data_offset();
        if off < 5 {
            return Err(Error::Malformed {
                layer: "tcp",
                field: "data offset",
                value: off.into(),
            });
        }
        let need = self.header_len();
        if have < need {
            return Err(Error::Truncated {
                layer: "tcp",
                need,
                have,
            });
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn be16(&self, r: core::ops::Range<usize>) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[r.start], b[r.start + 1]])
    }

    fn be32(&self, r: core::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[r];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        self.be32(field::SEQ_NUM)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        self.be32(field::ACK_NUM)
    }

    /// Data offset in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFF] >> 4
    }

    /// The 4 reserved bits (byte 12, low nibble; bit 0 is AE/NS).
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFF] & 0x0f
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// Flags byte.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }

    /// Window field.
    pub fn window_len(&self) -> u16 {
        self.be16(field::WIN_SIZE)
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent_pointer(&self) -> u16 {
        self.be16(field::URGENT)
    }

    /// Raw option bytes (20 .. header length).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..self.header_len()]
    }

    /// Length of the segment (header + payload): the whole buffer.
    pub fn segment_len(&self) -> usize {
        self.buffer.as_ref().len()
    }

    /// Whether the checksum over the whole buffer with the pseudo-header
    /// verifies.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        checksum::pseudo_header_checksum(src, dst, PROTO_TCP, self.buffer.as_ref()) == 0
    }

    /// The checksum the segment should carry.
    pub fn compute_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let data = self.buffer.as_ref();
        let mut acc = checksum::pseudo_header_sum(src, dst, PROTO_TCP, data.len() as u32);
        acc = checksum::sum_words(acc, &data[..field::CHECKSUM.start]);
        acc = checksum::sum_words(acc, &data[field::CHECKSUM.end..]);
        checksum::fold(acc)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> TcpPacket<&'a T> {
    /// The payload (header length .. end of buffer).
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn set16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    fn set32(&mut self, r: core::ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        self.set16(field::SRC_PORT, v)
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        self.set16(field::DST_PORT, v)
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        self.set32(field::SEQ_NUM, v)
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        self.set32(field::ACK_NUM, v)
    }

    /// Sets the data offset (words) and clears the reserved bits.
    pub fn set_data_offset(&mut self, words: u8) {
        self.buffer.as_mut()[field::DATA_OFF] = words << 4;
    }

    /// Sets the flags byte.
    pub fn set_flags(&mut self, f: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = f.0;
    }

    /// Sets the window field.
    pub fn set_window_len(&mut self, v: u16) {
        self.set16(field::WIN_SIZE, v)
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set16(field::CHECKSUM, v)
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_pointer(&mut self, v: u16) {
        self.set16(field::URGENT, v)
    }

    /// Raw option bytes, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[field::OPTIONS..h]
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[h..]
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let c = self.compute_checksum(src, dst);
        self.set_checksum(c)
    }
}

impl TcpRepr {
    /// Parses a segment (the buffer is the whole IP payload) sent from `src`
    /// to `dst`, verifying the checksum.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<TcpRepr> {
        Self::parse_with(packet, src, dst, ChecksumMode::Verify)
    }

    /// Parses a segment; `mode` says whether to verify the checksum. Errors:
    /// the length checks of [`TcpPacket::check_len`], bad checksum, and the
    /// option errors of [`TcpOptions::parse`]. The reserved bits are ignored.
    pub fn parse_with<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        mode: ChecksumMode,
    ) -> Result<TcpRepr> {
        packet.check_len()?;
        if mode == ChecksumMode::Verify && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum {
                layer: "tcp",
                got: packet.checksum(),
                want: packet.compute_checksum(src, dst),
            });
        }
        let options = TcpOptions::parse(packet.options())?;
        Ok(TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_pointer: packet.urgent_pointer(),
            options,
            payload_len: packet.segment_len() - packet.header_len(),
        })
    }

    /// Header length: 20 + options padded to a multiple of 4.
    pub fn header_len(&self) -> usize {
        TCP_HEADER_LEN + self.options.padded_len()
    }

    /// Header plus payload length.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Length in sequence space: payload + SYN + FIN.
    pub fn segment_len(&self) -> usize {
        self.payload_len + self.flags.sequence_len()
    }

    /// Writes the header and options (zero padded), copies `payload` after
    /// them and fills the checksum with the pseudo-header of `src`/`dst`; the
    /// checksum covers `buffer_len()` bytes. `payload.len()` should equal
    /// `payload_len`; at most `payload_len` bytes are copied. Does not panic
    /// if the buffer holds at least [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        let hlen = self.header_len();
        let [s0, s1] = self.src_port.to_be_bytes();
        let [d0, d1] = self.dst_port.to_be_bytes();
        let [q0, q1, q2, q3] = self.seq_number.to_be_bytes();
        let [a0, a1, a2, a3] = self.ack_number.to_be_bytes();
        let [w0, w1] = self.window_len.to_be_bytes();
        let [u0, u1] = self.urgent_pointer.to_be_bytes();
        // The fixed header is built whole and copied once (one bounds check
        // rather than one per field: this runs for every segment). Data
        // offset with the reserved bits clear; checksum 0 until computed.
        let offset = ((hlen / 4) as u8) << 4;
        let header = [
            s0,
            s1,
            d0,
            d1,
            q0,
            q1,
            q2,
            q3,
            a0,
            a1,
            a2,
            a3,
            offset,
            self.flags.0,
            w0,
            w1,
            0,
            0,
            u0,
            u1,
        ];
        let buf = packet.buffer.as_mut();
        buf[..TCP_HEADER_LEN].copy_from_slice(&header);
        self.options.emit(&mut buf[field::OPTIONS..hlen]);
        let n = payload.len().min(self.payload_len);
        buf[hlen..hlen + n].copy_from_slice(&payload[..n]);
        let c = checksum::pseudo_header_checksum(src, dst, PROTO_TCP, &buf[..self.buffer_len()]);
        packet.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

    /// A Linux SYN: 4000 → 8080, seq 0x1a2b3c4d, win 64240,
    /// options [mss 1460,sackOK,TS val 2216538 ecr 0,nop,wscale 7].
    fn linux_syn() -> [u8; 40] {
        let mut s = [
            0x0f, 0xa0, 0x1f, 0x90, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
            0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, // fixed header
            0x02, 0x04, 0x05, 0xb4, // mss 1460
            0x04, 0x02, // sackOK
            0x08, 0x0a, 0x00, 0x21, 0xd2, 0x5a, 0x00, 0x00, 0x00, 0x00, // TS
            0x01, // nop
            0x03, 0x03, 0x07, // wscale 7
        ];
        let c = checksum::pseudo_header_checksum(SRC, DST, 6, &s);
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }

    fn with_checksum(mut s: Vec<u8>) -> Vec<u8> {
        s[16] = 0;
        s[17] = 0;
        let c = checksum::pseudo_header_checksum(SRC, DST, 6, &s);
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }

    fn parse(s: &[u8]) -> Result<TcpRepr> {
        TcpRepr::parse(&TcpPacket::new_checked(s)?, SRC, DST)
    }

    #[test]
    fn linux_syn_roundtrip() {
        let s = linux_syn();
        let r = parse(&s).unwrap();
        assert_eq!(r.src_port, 4000);
        assert_eq!(r.dst_port, 8080);
        assert_eq!(r.seq_number, 0x1a2b3c4d);
        assert_eq!(r.flags, TcpFlags::SYN);
        assert_eq!(r.window_len, 64240);
        assert_eq!(r.options.mss(), Some(1460));
        assert!(r.options.sack_permitted());
        assert_eq!(r.options.timestamps(), Some((2216538, 0)));
        assert_eq!(r.options.window_scale(), Some(7));
        assert_eq!(r.options.count(), 5);
        assert_eq!(r.options.wire_len(), 20);
        assert_eq!(
            r.options.to_string(),
            "mss 1460,sackOK,TS val 2216538 ecr 0,nop,wscale 7"
        );
        assert_eq!(r.payload_len, 0);
        let mut buf = [0u8; 40];
        r.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), SRC, DST, &[]);
        assert_eq!(buf, s);
    }

    #[test]
    fn eol_padding_roundtrip() {
        // mss, nop, eol, then 2 padding bytes: parse keeps EOL and one item per
        // padding byte, emit restores the same header length.
        let mut s = linux_syn()[..28].to_vec();
        s[12] = 0x70;
        s[20..28].copy_from_slice(&[2, 4, 5, 0xb4, 1, 0, 0, 0]);
        let s = with_checksum(s);
        let r = parse(&s).unwrap();
        assert_eq!(
            r.options.iter().collect::<Vec<_>>(),
            &[
                TcpOption::MaxSegmentSize(1460),
                TcpOption::NoOperation,
                TcpOption::EndOfList,
                TcpOption::EndOfList,
                TcpOption::EndOfList
            ]
        );
        assert!(r.options.is_canonical());
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), SRC, DST, &[]);
        assert_eq!(buf, s);
        // A long run of padding (a 32-byte header whose options are one EOL,
        // found by fuzzing) keeps its length too.
        let mut long = linux_syn()[..32].to_vec();
        long[12] = 0x80;
        long[20..32].fill(0);
        let long = with_checksum(long);
        let lr = parse(&long).unwrap();
        assert_eq!(
            lr.options.iter().collect::<Vec<_>>(),
            &[TcpOption::EndOfList; 12]
        );
        assert_eq!(lr.header_len(), 32);
        // Non-zero bytes after EOL are not padding (RFC 9293 MUST-69).
        let mut bad = long.clone();
        bad[25] = 7;
        let bad = with_checksum(bad);
        assert!(matches!(
            parse(&bad),
            Err(Error::Malformed {
                field: "padding after eol",
                value: 7,
                ..
            })
        ));
        // Without the EOL items, the padding parses back as them.
        let mut o =
            TcpOptions::from_slice(&[TcpOption::MaxSegmentSize(1460), TcpOption::NoOperation])
                .unwrap();
        assert!(!o.is_canonical());
        assert_eq!(o.padded_len(), 8);
        o.canonicalize();
        assert_eq!(o, r.options);
    }

    #[test]
    fn sack_and_unknown() {
        let opts = TcpOptions::from_slice(&[
            TcpOption::NoOperation,
            TcpOption::NoOperation,
            TcpOption::sack(&[(1000, 2000), (3000, 4000)]).unwrap(),
            TcpOption::unknown(30, &[1, 2]).unwrap(),
        ])
        .unwrap();
        assert_eq!(opts.wire_len(), 24);
        let r = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq_number: 3,
            ack_number: 4,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window_len: 5,
            urgent_pointer: 0,
            options: opts,
            payload_len: 3,
        };
        let mut buf = vec![0u8; r.buffer_len()];
        r.emit(
            &mut TcpPacket::new_unchecked(&mut buf[..]),
            SRC,
            DST,
            b"abc",
        );
        let back = parse(&buf).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.options.sack_blocks(), &[(1000, 2000), (3000, 4000)]);
        assert_eq!(TcpPacket::new_checked(&buf[..]).unwrap().payload(), b"abc");
        assert_eq!(r.flags.to_string(), "P.");
    }

    #[test]
    fn option_errors() {
        let base = linux_syn();
        // Option length 0 and 1.
        for l in [0u8, 1] {
            let mut s = base.to_vec();
            s[21] = l;
            assert_eq!(
                parse(&with_checksum(s)).unwrap_err(),
                Error::Malformed {
                    layer: "tcp",
                    field: "option length",
                    value: l.into()
                }
            );
        }
        // MSS with length 3.
        let mut s = base.to_vec();
        s[21] = 3;
        assert_eq!(
            parse(&with_checksum(s)).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "option length",
                value: 3
            }
        );
        // wscale running past the header: length 4 at offset 37 of 40.
        let mut s = base.to_vec();
        s[38] = 4;
        assert_eq!(
            parse(&with_checksum(s)).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "option end",
                value: 4
            }
        );
        // Length byte missing: last option byte is a kind.
        let mut s = base.to_vec();
        s[36] = 1;
        s[37] = 1;
        s[38] = 1;
        s[39] = 3;
        assert_eq!(
            parse(&with_checksum(s)).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "option end",
                value: 2
            }
        );
        // SACK with 3 data bytes.
        let mut s = base.to_vec();
        s[36..40].copy_from_slice(&[5, 3, 0, 0]);
        assert_eq!(
            parse(&with_checksum(s)).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "option length",
                value: 3
            }
        );
    }

    #[test]
    fn header_errors() {
        let s = linux_syn();
        assert_eq!(
            TcpPacket::new_checked(&s[..19]).unwrap_err(),
            Error::Truncated {
                layer: "tcp",
                need: 20,
                have: 19
            }
        );
        assert_eq!(
            TcpPacket::new_checked(&s[..39]).unwrap_err(),
            Error::Truncated {
                layer: "tcp",
                need: 40,
                have: 39
            }
        );
        let mut b = s;
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "data offset",
                value: 4
            }
        );
        let mut b = s;
        b[4] ^= 1;
        assert!(matches!(
            parse(&b),
            Err(Error::Checksum { layer: "tcp", .. })
        ));
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert!(TcpRepr::parse_with(&p, SRC, DST, ChecksumMode::Ignore).is_ok());
    }

    #[test]
    fn push_limits() {
        let mut o = TcpOptions::new();
        for _ in 0..4 {
            o.push(TcpOption::Timestamps { tsval: 0, tsecr: 0 })
                .unwrap();
        }
        assert_eq!(
            o.push(TcpOption::MaxSegmentSize(1)).unwrap_err(),
            Error::Malformed {
                layer: "tcp",
                field: "options length",
                value: 44
            }
        );
        let mut o = TcpOptions::new();
        o.push(TcpOption::EndOfList).unwrap();
        assert!(o.push(TcpOption::NoOperation).is_err());
        assert!(TcpOption::unknown(99, &[0; 39]).is_err());
        assert!(TcpOption::sack(&[]).is_err());
        // An `Unknown` item is kept as bytes, so one that would read back as
        // another option (a known kind, EOL, NOP) is refused, and leaves
        // the options as they were.
        let mut o = TcpOptions::new();
        o.push(TcpOption::NoOperation).unwrap();
        for (kind, data) in [(2u8, &[5, 0xb4][..]), (8, &[1; 8]), (0, &[]), (1, &[7])] {
            let bad = TcpOption::unknown(kind, data).unwrap();
            assert_eq!(
                o.push(bad),
                Err(Error::Malformed {
                    layer: "tcp",
                    field: "option kind",
                    value: kind.into()
                })
            );
            assert_eq!(o.iter().collect::<Vec<_>>(), [TcpOption::NoOperation]);
            assert_eq!(o.as_bytes(), [1]);
        }
        // A known kind with a length it does not have is refused too (its
        // bytes would not parse).
        assert!(o.push(TcpOption::unknown(2, &[1]).unwrap()).is_err());
        o.push(TcpOption::unknown(30, &[2, 0]).unwrap()).unwrap();
        assert_eq!(o.as_bytes(), [1, 30, 4, 2, 0]);
    }

    #[test]
    fn layout_pushes_equal_item_pushes() {
        let blocks = [(1, 2), (3, 4), (5, 6), (7, 8)];
        for n in 1..=4 {
            let mut fast = TcpOptions::new();
            fast.push_nops_timestamps(9, 10).unwrap();
            let mut slow = TcpOptions::from_slice(&[
                TcpOption::NoOperation,
                TcpOption::NoOperation,
                TcpOption::Timestamps {
                    tsval: 9,
                    tsecr: 10,
                },
            ])
            .unwrap();
            assert_eq!(fast, slow);
            // Three blocks fit after the timestamps, four do not.
            let f = fast.push_nops_sack(&blocks[..n]);
            let s = slow
                .push(TcpOption::NoOperation)
                .and_then(|_| slow.push(TcpOption::NoOperation))
                .and_then(|_| slow.push(TcpOption::sack(&blocks[..n]).unwrap()));
            assert_eq!(f.is_ok(), n <= 3);
            if n <= 3 {
                assert_eq!(s, Ok(()));
                assert_eq!(fast, slow);
            }
            let mut alone = TcpOptions::new();
            alone.push_nops_sack(&blocks[..n]).unwrap();
            assert_eq!(*alone.sack_blocks(), blocks[..n]);
        }
        let mut o = TcpOptions::new();
        assert!(o.push_nops_sack(&[]).is_err());
        o.push(TcpOption::EndOfList).unwrap();
        assert!(o.push_nops_timestamps(1, 2).is_err());
        assert_eq!(o.as_bytes(), [0]);
    }

    #[test]
    fn accessors_read_the_bytes() {
        let o = TcpOptions::from_slice(&[
            TcpOption::NoOperation,
            TcpOption::unknown(30, &[2, 4, 5, 0xb4]).unwrap(),
            TcpOption::MaxSegmentSize(1460),
            TcpOption::sack(&[(1, 2), (3, 4)]).unwrap(),
            TcpOption::sack(&[(5, 6)]).unwrap(),
        ])
        .unwrap();
        // The MSS-looking data inside the unknown option is skipped.
        assert_eq!(o.mss(), Some(1460));
        assert_eq!(o.window_scale(), None);
        assert!(!o.sack_permitted());
        assert_eq!(o.timestamps(), None);
        assert_eq!(o.sack_blocks(), &[(1, 2), (3, 4)]);
        assert_eq!(
            o.all_sack_blocks().collect::<Vec<_>>(),
            [(1, 2), (3, 4), (5, 6)]
        );
        assert_eq!(o.count(), 5);
        // Nothing after an EOL is read, though it holds option-like zeros.
        let mut e = TcpOptions::new();
        e.push(TcpOption::EndOfList).unwrap();
        e.canonicalize();
        assert_eq!(e.mss(), None);
        assert_eq!(e.iter().collect::<Vec<_>>(), [TcpOption::EndOfList; 4]);
    }

    #[test]
    fn flags_display() {
        assert_eq!(TcpFlags::SYN.to_string(), "S");
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "S.");
        assert_eq!((TcpFlags::FIN | TcpFlags::ACK).to_string(), "F.");
        assert_eq!((TcpFlags::RST | TcpFlags::ACK).to_string(), "R.");
        assert_eq!(TcpFlags::ACK.to_string(), ".");
        assert_eq!(
            (TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR).to_string(),
            "SEW"
        );
        assert_eq!(TcpFlags(0).to_string(), "none");
    }
}
