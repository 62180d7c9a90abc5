//! TCP option negotiation (RFC 9293 3.7.1 MSS, RFC 7323 window scale and
//! timestamps, RFC 2018 SACK-permitted) and the Linux option layouts.

use crate::config::Profile;
use crate::wire::{TcpOption, TcpOptions};

/// What we offer in our SYN / SYN-ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Our MSS (MTU − 40).
    pub mss: u16,
    /// Window scale shift, if offered.
    pub window_scale: Option<u8>,
    /// SACK-permitted offered.
    pub sack: bool,
    /// Timestamps offered.
    pub timestamps: bool,
}

impl Offer {
    /// The offer a profile makes.
    pub fn from_profile(p: &Profile) -> Offer {
        Offer {
            mss: p.mss(),
            window_scale: p.window_scaling.then_some(p.window_scale.min(14)),
            sack: p.sack,
            timestamps: p.timestamps,
        }
    }
}

/// The result of negotiation, fixed once both SYNs are seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's MSS (536 if it sent none: RFC 9293 3.7.1, MUST-15).
    pub peer_mss: u16,
    /// The peer's SYN carried a (nonzero) MSS option.
    pub peer_mss_option: bool,
    /// Our advertised MSS.
    pub our_mss: u16,
    /// Shift applied to the peer's window fields (RFC 7323 2.3).
    pub snd_wscale: u8,
    /// Shift applied to our window fields.
    pub rcv_wscale: u8,
    /// SACK permitted in both directions.
    pub sack: bool,
    /// Timestamps in use (RFC 7323 3.2: only if both SYNs carried them).
    pub timestamps: bool,
    /// Window scaling in use (both SYNs carried the option).
    pub window_scaling: bool,
}

/// RFC 9293 3.7.1 MUST-15: if no MSS option is received, assume 536.
pub const DEFAULT_MSS: u16 = 536;

/// The timestamps option with its two NOPs (`nop,nop,TS`), as every
/// segment carries it once negotiated (Linux TCPOLEN_TSTAMP_ALIGNED).
pub const TIMESTAMPS_ALIGNED_LEN: u16 = 12;

impl Negotiated {
    /// Combine our offer with the options of the peer's SYN.
    pub fn new(offer: &Offer, peer: &TcpOptions) -> Negotiated {
        // RFC 7323 2.2: window scaling is in effect only if both sides sent it;
        // a shift above 14 is treated as 14 (RFC 7323 2.3).
        let window_scaling = offer.window_scale.is_some() && peer.window_scale().is_some();
        let (snd_wscale, rcv_wscale) = match (offer.window_scale, peer.window_scale()) {
            (Some(ours), Some(theirs)) => (theirs.min(14), ours),
            _ => (0, 0),
        };
        Negotiated {
            peer_mss: peer.mss().filter(|m| *m > 0).unwrap_or(DEFAULT_MSS),
            peer_mss_option: peer.mss().is_some_and(|m| m > 0),
            our_mss: offer.mss,
            snd_wscale,
            rcv_wscale,
            sack: offer.sack && peer.sack_permitted(),
            timestamps: offer.timestamps && peer.timestamps().is_some(),
            window_scaling,
        }
    }

    /// Bytes of options on every non-SYN segment (12 with timestamps).
    pub fn option_overhead(&self) -> u16 {
        if self.timestamps {
            TIMESTAMPS_ALIGNED_LEN
        } else {
            0
        }
    }

    /// Our receive MSS as Linux uses it for window rounding (advmss − options).
    pub fn recv_mss(&self) -> u16 {
        self.our_mss.saturating_sub(self.option_overhead()).max(1)
    }
}

fn push(o: &mut TcpOptions, opt: TcpOption) {
    // The layouts below are at most 20 bytes, so push cannot fail.
    let _ = o.push(opt);
}

/// SYN / SYN-ACK options in Linux's order (tcp_options_write):
/// `mss, [sackOK, TS | nop,nop,TS], [nop,nop,sackOK if no TS], [nop,wscale]`.
/// Measured on Linux 6.18 (window scale as the profile sets it): `<mss 1460,sackOK,TS val X ecr Y,nop,wscale 7>`,
/// `<mss 1460,nop,nop,sackOK,nop,wscale 7>`, `<mss 1460,nop,nop,TS,nop,wscale 7>`.
pub fn syn_options(mss: u16, sack: bool, ts: Option<(u32, u32)>, wscale: Option<u8>) -> TcpOptions {
    let mut o = TcpOptions::new();
    push(&mut o, TcpOption::MaxSegmentSize(mss));
    match ts {
        Some((tsval, tsecr)) => {
            if sack {
                push(&mut o, TcpOption::SackPermitted);
            } else {
                push(&mut o, TcpOption::NoOperation);
                push(&mut o, TcpOption::NoOperation);
            }
            push(&mut o, TcpOption::Timestamps { tsval, tsecr });
        }
        None => {
            if sack {
                push(&mut o, TcpOption::NoOperation);
                push(&mut o, TcpOption::NoOperation);
                push(&mut o, TcpOption::SackPermitted);
            }
        }
    }
    if let Some(ws) = wscale {
        push(&mut o, TcpOption::NoOperation);
        push(&mut o, TcpOption::WindowScale(ws));
    }
    o
}

/// Options of a non-SYN segment: `<nop,nop,TS val ecr>` when timestamps are
/// in use, then `<nop,nop,sack ...>` (Linux tcp_options_write order; at most
/// 3 blocks with timestamps, 4 without).
pub fn segment_options(ts: Option<(u32, u32)>, sack: &[(u32, u32)]) -> TcpOptions {
    // 12 + 28 bytes at most, so neither push can fail.
    let mut o = TcpOptions::new();
    if let Some((tsval, tsecr)) = ts {
        let _ = o.push_nops_timestamps(tsval, tsecr);
    }
    let max = if ts.is_some() { 3 } else { 4 };
    let n = sack.len().min(max);
    if n > 0 {
        let _ = o.push_nops_sack(&sack[..n]);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_layouts() {
        let all = syn_options(1460, true, Some((1, 2)), Some(10));
        assert_eq!(
            all.iter().collect::<Vec<_>>(),
            &[
                TcpOption::MaxSegmentSize(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 1, tsecr: 2 },
                TcpOption::NoOperation,
                TcpOption::WindowScale(10)
            ]
        );
        let nots = syn_options(1460, true, None, Some(7));
        assert_eq!(nots.wire_len(), 12);
        assert_eq!(
            syn_options(1460, false, None, None)
                .iter()
                .collect::<Vec<_>>(),
            &[TcpOption::MaxSegmentSize(1460)]
        );
    }

    #[test]
    fn negotiation() {
        let offer = Offer::from_profile(&Profile::linux());
        let n = Negotiated::new(&offer, &TcpOptions::new());
        assert_eq!((n.peer_mss, n.peer_mss_option), (536, false));
        assert_eq!(
            (n.snd_wscale, n.rcv_wscale, n.sack, n.timestamps),
            (0, 0, false, false)
        );
        let peer = syn_options(1400, true, Some((5, 0)), Some(20));
        let n = Negotiated::new(&offer, &peer);
        assert_eq!(
            (n.snd_wscale, n.rcv_wscale, n.sack, n.timestamps),
            (14, 7, true, true)
        );
        assert_eq!((n.peer_mss, n.peer_mss_option), (1400, true));
    }
}
