//! The receive window of a socket whose buffer the application sized with
//! SO_RCVBUF, as Linux computes it: Linux locks `sk_rcvbuf` at twice the
//! value asked and offers, out of the memory the queued segments leave,
//! the share its scaling ratio allows (`tcp_space`, 1/2 before data
//! arrives), rounded down to whole segments, never shrinking the right
//! edge, zero below one segment (`__tcp_select_window`,
//! `tcp_select_window`); it acknowledges two full segments at once only if
//! the window would not shrink (`__tcp_ack_snd_check`) and sends a window
//! update on a read only when the window at least doubles
//! (`tcp_cleanup_rbuf`). RFC 9293 3.8.6.2.2 (receiver SWS avoidance,
//! MUST-39) is the rule all of this implements.
//!
//! Memory is counted per queued segment as Linux's skb truesize on a veth
//! (measured on 6.18 with SO_RCVBUF 4096: 500-byte segments cost 1536
//! bytes, full 1448-byte ones 2304) and freed when the application has
//! read the whole segment. Without SO_RCVBUF the stack keeps its simpler
//! byte-count window (`Tcb::window_field`); Linux's receive-buffer
//! auto-tuning and tcp_grow_window are not modelled.

use super::*;

/// Linux SOCK_MIN_RCVBUF.
pub const MIN_RCVBUF: u32 = 2304;

#[derive(Debug, Clone)]
pub(super) struct RcvMem {
    /// sk_rcvbuf, bytes of memory.
    rcvbuf: u32,
    /// Memory charged by segments not yet fully read.
    mem: u32,
    /// (end sequence number, charge) of each queued segment, oldest first;
    /// bounded by the receive window (a segment is charged only when
    /// accepted, and at most one per 1 byte of window... in practice by
    /// `MAX_CHUNKS`).
    chunks: VecDeque<(SeqNumber, u32)>,
    /// Linux tp->rcv_ssthresh: the initial window (tcp_grow_window not
    /// modelled).
    ssthresh: u32,
}

/// Bound on the charged segments remembered; past it the oldest charge is
/// kept as a lump (the window only errs towards smaller).
const MAX_CHUNKS: usize = 256;

fn truesize(len: usize) -> u32 {
    if len <= 512 {
        1536
    } else {
        2304
    }
}

impl Tcb {
    /// SO_RCVBUF: `rcvbuf` is Linux's doubled value. Before the SYN or
    /// SYN-ACK has left, it also sets the window offered and the window
    /// scale (Linux tcp_select_initial_window with window_clamp =
    /// rcvbuf / 2: a 4096-byte SO_RCVBUF gives 2896 and scale 0).
    pub fn set_rcvbuf(&mut self, rcvbuf: u32) {
        let rcvbuf = rcvbuf.max(MIN_RCVBUF);
        let clamp = rcvbuf / 2;
        let handshake = matches!(self.state, TcpState::SynSent | TcpState::SynReceived)
            && self.snd_nxt == self.iss;
        if handshake {
            let mss = self
                .negotiated
                .map(|n| u32::from(n.recv_mss()))
                .unwrap_or(u32::from(self.profile.mss()))
                .max(1);
            let wnd = if clamp > mss {
                clamp / mss * mss
            } else {
                clamp
            };
            self.rcv_wnd_cap = wnd;
            self.rcv_wnd = wnd;
            self.rcv_adv = self.rcv_nxt + wnd;
            // Linux: rcv_wscale from min(max(tcp_rmem[2], rmem_max), window_clamp).
            let ws = (31 - clamp.max(1).leading_zeros())
                .saturating_sub(15)
                .min(14) as u8;
            if self.offer.window_scale.is_some() {
                self.offer.window_scale = Some(ws);
            }
            if let Some(n) = self.negotiated.as_mut() {
                if n.window_scaling {
                    n.rcv_wscale = ws;
                }
            }
        }
        self.rcv_mem = Some(RcvMem {
            rcvbuf,
            mem: 0,
            chunks: VecDeque::new(),
            ssthresh: self.rcv_wnd_cap,
        });
    }

    /// SO_RCVBUF as getsockopt reports it, if set.
    pub fn rcvbuf(&self) -> Option<u32> {
        self.rcv_mem.as_ref().map(|m| m.rcvbuf)
    }

    /// Charge a segment of `len` bytes accepted up to `end`.
    pub(super) fn rcv_mem_charge(&mut self, end: SeqNumber, len: usize) {
        if let Some(m) = self.rcv_mem.as_mut() {
            if len == 0 {
                return;
            }
            let c = truesize(len);
            m.mem = m.mem.saturating_add(c);
            if m.chunks.len() >= MAX_CHUNKS {
                if let Some(last) = m.chunks.back_mut() {
                    last.0 = last.0.max(end);
                    last.1 = last.1.saturating_add(c);
                }
            } else {
                m.chunks.push_back((end, c));
            }
        }
    }

    /// The application has read up to `copied`: free whole segments.
    pub(super) fn rcv_mem_release(&mut self, copied: SeqNumber) {
        if let Some(m) = self.rcv_mem.as_mut() {
            while m.chunks.front().is_some_and(|c| c.0 <= copied) {
                if let Some((_, c)) = m.chunks.pop_front() {
                    m.mem = m.mem.saturating_sub(c);
                }
            }
        }
    }

    /// Linux __tcp_select_window for the SO_RCVBUF model (None without it).
    pub(super) fn rcvbuf_select_window(&self) -> Option<u32> {
        let m = self.rcv_mem.as_ref()?;
        let ws = self.negotiated.map(|n| n.rcv_wscale).unwrap_or(0);
        let allowed = m.rcvbuf / 2;
        let full = allowed.min(m.rcvbuf / 2);
        let mss = self.rcv_mss.min(full).max(1);
        let mut free = m.rcvbuf.saturating_sub(m.mem) / 2;
        if free < full / 2 {
            free = free >> ws << ws;
            if free < allowed / 16 || free < mss {
                return Some(0);
            }
        }
        free = free.min(m.ssthresh);
        if ws > 0 {
            let g = 1u32 << ws;
            return Some(free.saturating_add(g - 1) & !(g - 1));
        }
        let window = self.rcv_wnd;
        if window.saturating_add(mss) <= free || window > free {
            Some(free / mss * mss)
        } else {
            Some(window)
        }
    }

    /// The window the peer sees now (Linux tcp_receive_window).
    pub(super) fn receive_window_now(&self) -> u32 {
        if self.rcv_adv > self.rcv_nxt {
            self.rcv_adv - self.rcv_nxt
        } else {
            0
        }
    }
}
