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
//! read the whole segment, or when a FIN purges the out-of-order queue.
//!
//! With [`Profile::grow_window`] (Linux) a socket without SO_RCVBUF uses
//! the same model, unlocked, as Linux's default socket: a buffer of
//! tcp_rmem[1] (`Profile::recv_buffer`). Either way, on entering
//! ESTABLISHED window_clamp is set one advmss below the buffer's full
//! space (tcp_init_buffer_space), and with `grow_window` the scaling
//! ratio is measured from each segment larger than rcv_mss
//! (tcp_measure_rcv_mss: payload against truesize, which also moves
//! window_clamp) and rcv_ssthresh grown by tcp_grow_window, which also
//! grants a quick ACK. SO_RCVBUF's lock (SOCK_RCVBUF_LOCK) stops neither:
//! it only keeps auto-tuning from resizing the buffer (measured on 6.18,
//! SO_RCVBUF 65536: window 68056 after one 1448-byte segment, above the
//! 65160 offered; `oracle fuzz`, est.seg-FA-oow.opts of seed 470000).
//! Not modelled: skbs merged in the queues (tcp_try_coalesce,
//! tcp_ofo_queue), auto-tuning on reads (tcp_rcv_space_adjust), memory
//! pressure. Without `grow_window` the stack keeps its simpler
//! byte-count window (`Tcb::window_field`), and a socket with SO_RCVBUF
//! the ratio of 1/2 and its initial rcv_ssthresh.

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
    /// Linux tp->rcv_ssthresh: the initial window, grown by
    /// [`Tcb::grow_window`].
    ssthresh: u32,
    /// Linux tp->scaling_ratio, of 256: the share of memory offered as
    /// window (`tcp_win_from_space`); 128 until a full segment shows
    /// its payload against its truesize.
    ratio: u32,
    /// Linux tp->window_clamp.
    clamp: u32,
    /// SO_RCVBUF set it (Linux SOCK_RCVBUF_LOCK): the default buffer
    /// does not replace it.
    locked: bool,
}

impl RcvMem {
    /// Linux tcp_win_from_space.
    fn win_from_space(&self, space: u32) -> u32 {
        ((u64::from(space) * u64::from(self.ratio)) >> 8) as u32
    }
}

/// Linux tcp_rmem[2], the most auto-tuning gives a socket (6 MiB).
const RMEM_MAX: u32 = 6 << 20;

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
            ratio: 128,
            clamp: rcvbuf / 2,
            locked: true,
        });
    }

    /// With [`Profile::grow_window`], a socket without SO_RCVBUF gets the
    /// memory model too, unlocked: Linux's default buffer (tcp_rmem[1],
    /// `Profile::recv_buffer`), window_clamp = tcp_full_space at the
    /// initial ratio of 1/2, rcv_ssthresh = the initial window. Called
    /// whenever the initial window is set.
    pub(super) fn default_rcv_mem(&mut self) {
        if !self.profile.grow_window || self.rcv_mem.as_ref().is_some_and(|m| m.locked) {
            return;
        }
        let rcvbuf = u32::try_from(self.profile.recv_buffer).unwrap_or(u32::MAX);
        // window_clamp: the buffer's full space at the initial ratio of
        // 1/2 until `init_rcv_space` reserves a segment of it.
        self.rcv_mem = Some(RcvMem {
            rcvbuf,
            mem: 0,
            chunks: VecDeque::new(),
            ssthresh: self.rcv_wnd_cap,
            ratio: 128,
            clamp: rcvbuf / 2,
            locked: false,
        });
    }

    /// Linux tcp_init_buffer_space's receive half, on entering ESTABLISHED:
    /// window_clamp = tcp_full_space (the buffer at the current ratio), then
    /// "force reservation of one segment" when that clamp exceeds two
    /// advmss: one advmss below the full space, advmss being the MSS
    /// offered less the timestamp option when in use (65536 - 1448 =
    /// 64088), and rcv_ssthresh no higher.
    pub(super) fn init_rcv_space(&mut self) {
        let adv_mss = self.adv_mss();
        let Some(m) = self.rcv_mem.as_mut() else {
            return;
        };
        let full = m.win_from_space(m.rcvbuf);
        let mut clamp = m.clamp.min(full);
        if clamp > 2 * adv_mss && clamp + adv_mss > full {
            clamp = (2 * adv_mss).max(full - adv_mss);
        }
        m.clamp = clamp;
        m.ssthresh = m.ssthresh.min(clamp);
    }

    /// SO_RCVBUF as getsockopt reports it, if set.
    pub fn rcvbuf(&self) -> Option<u32> {
        self.rcv_mem.as_ref().filter(|m| m.locked).map(|m| m.rcvbuf)
    }

    /// Linux tp->window_clamp (0 without the memory model).
    pub(super) fn window_clamp(&self) -> u32 {
        self.rcv_mem.as_ref().map_or(0, |m| m.clamp)
    }

    /// Linux tcp_measure_rcv_mss, the scaling-ratio part: a segment larger
    /// than rcv_mss sets the ratio from its payload and truesize, and window_clamp from the buffer at
    /// that ratio. Call before rcv_mss is updated.
    pub(super) fn measure_scaling_ratio(&mut self, len: usize) {
        let rcv_mss = self.rcv_mss;
        let rcv_wnd = self.rcv_wnd;
        if !self.profile.grow_window {
            return;
        }
        let Some(m) = self.rcv_mem.as_mut() else {
            return;
        };
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        if len32 <= rcv_mss {
            return;
        }
        let ratio = ((u64::from(len32) << 8) / u64::from(truesize(len))).clamp(1, 255) as u32;
        if ratio == m.ratio {
            return;
        }
        m.ratio = ratio;
        // tcp_set_window_clamp: a smaller clamp pulls rcv_ssthresh down to
        // it; a larger one lifts it to the window last offered.
        let clamp = m.win_from_space(m.rcvbuf).max(MIN_RCVBUF / 2);
        if clamp < m.clamp {
            m.ssthresh = m.ssthresh.min(clamp);
        } else if clamp > m.clamp {
            m.ssthresh = m.ssthresh.max(rcv_wnd.min(clamp));
        }
        m.clamp = clamp;
    }

    /// Linux tcp_grow_window for a segment of `len` bytes (in-order data
    /// after its memory is charged, out-of-order data before). Returns
    /// whether it grew, which grants a quick ACK (`icsk_ack.quick |= 1`).
    pub(super) fn grow_window(&mut self, len: usize) -> bool {
        let adv_mss = self.adv_mss();
        let rcv_mss = self.rcv_mss;
        if !self.profile.grow_window {
            return false;
        }
        let Some(m) = self.rcv_mem.as_mut() else {
            return false;
        };
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        let space = m.win_from_space(m.rcvbuf.saturating_sub(m.mem));
        let room = i64::from(m.clamp.min(space)) - i64::from(m.ssthresh);
        if room <= 0 {
            return false;
        }
        let ts_win = m.win_from_space(truesize(len));
        // Check #2: the skb's overhead would still fit the buffer.
        let mut incr = if ts_win <= len32 {
            2 * adv_mss
        } else {
            // __tcp_grow_window.
            let mut t = ts_win >> 1;
            let mut window = m.win_from_space(RMEM_MAX) >> 1;
            let mut incr = 0;
            while m.ssthresh <= window && window > 0 {
                if t <= len32 {
                    incr = 2 * rcv_mss;
                    break;
                }
                t >>= 1;
                window >>= 1;
            }
            incr
        };
        if incr == 0 {
            return false;
        }
        incr = incr.max(2 * len32);
        m.ssthresh = m
            .ssthresh
            .saturating_add(u32::try_from(room).unwrap_or(u32::MAX).min(incr));
        true
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

    /// The out-of-order queue was purged (Linux tcp_fin →
    /// skb_rbtree_purge): the memory of segments beyond `rcv_nxt` is free.
    pub(super) fn rcv_mem_drop_above(&mut self, rcv_nxt: SeqNumber) {
        if let Some(m) = self.rcv_mem.as_mut() {
            let mut freed = 0u32;
            m.chunks.retain(|&(end, c)| {
                let keep = end <= rcv_nxt;
                if !keep {
                    freed = freed.saturating_add(c);
                }
                keep
            });
            m.mem = m.mem.saturating_sub(freed);
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
        let allowed = m.win_from_space(m.rcvbuf);
        let full = allowed.min(m.clamp);
        let mss = self.rcv_mss.min(full).max(1);
        let mut free = m.win_from_space(m.rcvbuf.saturating_sub(m.mem));
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
        } else if mss == full && free > window + full / 2 {
            // The receive MSS as large as the whole window: the free space
            // itself once it passes the window by half the full space
            // (measured on 6.18, SO_RCVBUF 1024: a 1000-byte segment, read,
            // gives window 999, the buffer at ratio 1000/2304; `oracle
            // fuzz`, est.read.missing-A of seed 560000).
            Some(free)
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
