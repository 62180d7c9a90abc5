//! The send buffer as Linux accounts for it ([`Profile::send_memory`]).
//!
//! Linux bounds what a write may queue by memory, not bytes: `sk_sndbuf`
//! against `sk_wmem_queued`, the truesize of every skb in the write and
//! retransmission queues (tcp_sendmsg_locked: a new skb only while
//! sk_stream_memory_free). So the bytes a write takes depend on how its
//! data is cut into skbs, and a write of small segments takes less: with
//! 100-byte segments 5100 bytes, with 500-byte segments 18,000, with a
//! 1460-byte MSS and a large window 46,720 (all measured on Linux 6.18,
//! non-blocking writes of 200,000 bytes into a shut or full window).
//!
//! What is modelled, each rule Linux's:
//! - **sk_sndbuf.** tcp_wmem[1] (16384) until the connection is established;
//!   then tcp_init_buffer_space → tcp_sndbuf_expand: two congestion windows
//!   of at least ten segments (TCP_INIT_CWND; reordering + 1) of
//!   `roundup_pow_of_two(mss + 512) + 256` bytes each, where mss is the
//!   larger of the peer's MSS clamp and mss_cache (measured: a peer MSS up
//!   to 512 gives 25,600, 513 to 1536 gives 46,080, 9000 gives 332,800),
//!   at most tcp_wmem[2]. A writer that found the buffer full (SOCK_NOSPACE)
//!   has it expanded again, with the cwnd of the moment, by the next ACK
//!   that leaves room in cwnd before new data fills it (tcp_check_space →
//!   tcp_new_space, tcp_should_expand_sndbuf; measured: the ACK of a
//!   whole first flight takes the buffer to 92,160 for a cwnd of 20).
//!   SO_SNDBUF sets and locks it.
//! - **skbs.** A write first tops up the last skb if nothing of it has
//!   been sent, then allocates skbs of size_goal bytes (tcp_xmit_size_goal:
//!   the whole segments of the current MSS that fit in half the peer's
//!   largest window, or all of it up to 536 bytes, at most 64 KiB) while
//!   the memory allows. Sending part of an skb splits it (tso_fragment,
//!   tcp_fragment: a new skb for the rest); the segments of one burst (see
//!   `Profile::push_burst`) leave one skb together. An ACK frees the skbs
//!   it covers and trims a partly acknowledged skb of several segments
//!   (tcp_tso_acked); an skb of one segment stays whole until covered.
//! - **charge.** Each skb costs its data plus 832 bytes (SKB_TRUESIZE of a
//!   small-head skb: 256-byte head, 256-byte sk_buff, 320-byte
//!   skb_shared_info; the 512 in the sndbuf formula is MAX_TCP_HEADER, 192,
//!   plus the shared info, measured from where the MSS steps above).
//!   [`SndMem::wmem_queued`] sums these charges, and a write allocates
//!   a new skb while the sum is below sk_sndbuf (sk_stream_memory_free).
//! - **growing the send head.** Each tcp_write_xmit lets the send head
//!   it comes to take from the skb after it what it lacks of the burst
//!   cwnd allows (tcp_grow_skb: min(tcp_cwnd_test, tcp_tso_segs)
//!   segments), before it tests the window; an skb emptied so is freed
//!   with its overhead. Modelled at a write's pushes (`push`) and final
//!   tcp_push (`write`), at the first segment of each burst of new data
//!   the stack sends (`sent`), and at the skb where the stack's sending
//!   after a segment stops (`Tcb::grow_send_head`). A
//!   write into a window too small to send grows the head by one skb per
//!   forced push: with bursts of two (a pacing rate set with a small
//!   mss_cache), one skb is freed, which earlier sessions measured as a
//!   one-skb slack (32 segment sizes from 48 to 500 bytes, two sndbufs);
//!   after a zero-window handshake the pacing rate was set with the
//!   unbounded MSS, bursts are half of cwnd and four skbs are freed.
//!   Measured on 6.18: 48 writes into windows of 4 to 400 bytes (peer MSS
//!   200 to 1460, after a handshake window of 0 or 4000 bytes) and 60
//!   writes of 20,000 bytes that send while they go on (peer MSS 48 to
//!   1460, windows 96 to 4000, with and without a zero-window
//!   handshake): the model gives Linux's answer in all 108 (the model
//!   before it, a fitted one-skb slack that a split took away, in 74).
//!   The skb taken from may be the last, the one the write fills, and
//!   the write's final tcp_push grows the head too (`oracle fuzz`
//!   est.write.result of seed 170270: an unsent 460-byte rest merged
//!   into the head, so the next write did not top it up).
//! - **deferral.** A write's forced pushes defer a burst as
//!   tcp_tso_should_defer does (`Defer`), and close() pushes without
//!   Nagle, a partial segment to the window's edge included
//!   (`Tcb::send_mem_close_push`).
//!
//! A retransmitted segment that ends inside an skb splits it too
//! (__tcp_retransmit_skb → tcp_fragment, which charges the new skb; from
//! the source, not checked against a measurement).
//! Not modelled: skbs merged by a retransmission
//! (tcp_retrans_try_collapse), the FIN's skb, memory
//! pressure.
//! poll()'s POLLOUT follows sk_stream_is_writeable (free space at least
//! half the memory queued).

use super::*;

/// SKB_TRUESIZE of an skb from tcp_stream_alloc_skb without its data.
pub const SKB_OVERHEAD: u32 = 832;
/// MAX_TCP_HEADER + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), as
/// tcp_sndbuf_expand adds them to the MSS (measured: the sndbuf steps from
/// 25,600 to 46,080 between a peer MSS of 512 and 513).
const SNDBUF_HEAD: u32 = 512;
/// SKB_DATA_ALIGN(sizeof(struct sk_buff)).
const SK_BUFF: u32 = 256;
/// TCP_INIT_CWND, the fewest segments tcp_sndbuf_expand provides for.
const INIT_CWND: u32 = 10;
/// Linux SOCK_MIN_SNDBUF.
pub const MIN_SNDBUF: u32 = 4608;
/// sk_gso_max_size of the veth: the largest skb size_goal allows.
const GSO_MAX_SIZE: u32 = 65536;
/// Bound on the skbs remembered (a connection has at most sk_sndbuf /
/// SKB_OVERHEAD of them, about 5000 at 4 MiB; splits add at most one per
/// segment sent). Past it the last two are counted as one.
const MAX_SKBS: usize = 8192;
/// Bound on the PSH marks remembered (older ones are forgotten: their
/// segments lose a PSH).
const MAX_MARKS: usize = 128;

/// Appends `v` to a queue of at most `MAX_MARKS`, forgetting the oldest.
fn bounded_push(q: &mut VecDeque<SeqNumber>, v: SeqNumber) {
    if q.len() >= MAX_MARKS {
        q.pop_front();
    }
    q.push_back(v);
}

/// What a write needs to know of the connection (see [`SndMem::write`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct WriteCx {
    /// The first byte never sent (SND.MAX).
    pub unsent: SeqNumber,
    /// tcp_xmit_size_goal.
    pub size_goal: u32,
    /// The current MSS of a segment of data.
    pub seg: u32,
    /// Segments of a burst (`Tcb::burst_limit`; 0: no limit).
    pub burst: u32,
    /// Segments cwnd allows now.
    pub segs: u32,
    /// Bytes the peer's window allows now.
    pub window: u32,
    /// Half the peer's largest window (forced_push).
    pub half_window: u32,
    /// Whether a forced push may defer a burst (tcp_tso_should_defer),
    /// and how; `None`: it never does in this write.
    pub defer: Option<Defer>,
}

/// What tcp_tso_should_defer needs to know in a write (see
/// `Tcb::tso_defers`, its model for the stack's own sends).
#[derive(Debug, Clone, Copy)]
pub(super) struct Defer {
    /// A third of min(snd_wnd, cwnd) (tcp_tso_win_divisor 3): room at
    /// least this large sends.
    pub chunk: u32,
    /// tcp_tso_segs segments: room for a whole burst sends.
    pub burst: u32,
    /// The last transmission was within 1 ms ("avoid bursty behavior by
    /// allowing defer only if the last write was recent"); a burst the
    /// write itself sends makes it so.
    pub recent: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SndMem {
    /// sk_sndbuf, bytes of memory.
    pub(super) sndbuf: u32,
    /// SO_SNDBUF set it (SOCK_SNDBUF_LOCK): never expanded.
    pub(super) locked: bool,
    /// Where the first skb starts: SND.UNA, or before it while a
    /// partly acknowledged one-segment skb keeps its memory.
    head: SeqNumber,
    /// The ends of the skbs from `head` to the end of the data written,
    /// in order.
    ends: VecDeque<SeqNumber>,
    /// The split the last segment of a burst still open left behind: the
    /// next segment of the same burst moves it instead of adding one.
    burst_split: Option<SeqNumber>,
    /// tp->pushed_seq: where the last push mark (PSH) was set.
    pushed: SeqNumber,
    /// Ends of one-segment skbs a write marked with PSH (forced_push) and
    /// pushed out whole and alone while it went on, oldest first, at most
    /// `MAX_MARKS`: Linux's segment carries that PSH. An skb that leaves
    /// later is merged with the next first if cwnd allows two segments
    /// (tcp_grow_skb), which moves the PSH (tso_fragment), so only these
    /// are known to keep it.
    alone: VecDeque<SeqNumber>,
    /// PSH marks of forced pushes (tcp_mark_push) not yet acknowledged,
    /// oldest first, at most `MAX_MARKS`: tso_fragment keeps the mark on
    /// the rest of a marked skb, so a one-segment burst that ends at one
    /// carries PSH.
    marks: VecDeque<SeqNumber>,
    /// Ends of the bursts the write's own pushes sent, not yet
    /// acknowledged, oldest first, at most `MAX_MARKS`: each burst of
    /// Linux's stays within its skb as tcp_grow_skb left it, so a burst
    /// can end before its size where an skb ends; the stack's segments
    /// end their bursts there too.
    push_ends: VecDeque<SeqNumber>,
    /// SOCK_NOSPACE: a write found no room.
    pub(super) nospace: bool,
    /// An ACK was processed: check the space before what it lets out
    /// leaves (measured: after an ACK of a whole cwnd Linux sizes the
    /// buffer for the grown cwnd, which the flight then fills).
    pub(super) check_due: bool,
    /// A segment was processed: Linux's tcp_data_snd_check runs
    /// tcp_write_xmit, whose loop grows the skb it stops at even when the
    /// window then lets nothing out (`Tcb::grow_send_head`, from `poll`).
    pub(super) grow_due: bool,
}

impl SndMem {
    /// A model with sk_sndbuf `sndbuf`, not locked, its first skb to start
    /// at `head`.
    pub(super) fn new(sndbuf: u32, head: SeqNumber) -> SndMem {
        SndMem {
            sndbuf,
            locked: false,
            head,
            ends: VecDeque::new(),
            burst_split: None,
            pushed: head,
            alone: VecDeque::new(),
            marks: VecDeque::new(),
            push_ends: VecDeque::new(),
            nospace: false,
            check_due: false,
            grow_due: false,
        }
    }

    /// sk_wmem_queued: the skbs' data and overheads.
    pub(super) fn wmem_queued(&self, write_seq: SeqNumber) -> u32 {
        (self.ends.len() as u32)
            .saturating_mul(SKB_OVERHEAD)
            .saturating_add(write_seq - self.head)
    }

    /// sk_stream_is_writeable: free space at least half the memory queued.
    pub(super) fn writeable(&self, write_seq: SeqNumber) -> bool {
        let w = self.wmem_queued(write_seq);
        w < self.sndbuf && self.sndbuf - w >= w / 2
    }

    fn start_of(&self, i: usize) -> SeqNumber {
        if i == 0 {
            self.head
        } else {
            self.ends[i - 1]
        }
    }

    /// tcp_sendmsg_locked: queue up to `len` bytes at `write_seq`; returns
    /// the bytes taken. As Linux, each skb filled to size_goal is pushed at
    /// once if the write has gone past half the peer's largest window since
    /// the last push mark (forced_push: everything cwnd and the window
    /// allow) or if it is the first unsent skb (tcp_push_one: one burst),
    /// and what leaves splits the skb, which changes both the memory and
    /// what the next skb takes; the stack's own segments follow the write
    /// (`sent` then finds these splits where its bursts end).
    pub(super) fn write(&mut self, write_seq: SeqNumber, len: usize, cx: &mut WriteCx) -> usize {
        let size_goal = cx.size_goal.max(1);
        let mut left = len.min(u32::MAX as usize / 2) as u32;
        let mut seq = write_seq;
        if self.ends.is_empty() {
            self.head = write_seq;
        }
        while left > 0 {
            let n = self.ends.len();
            let tail_room = match self.ends.back() {
                Some(&last) if self.start_of(n - 1) >= cx.unsent => {
                    size_goal.saturating_sub(last - self.start_of(n - 1))
                }
                _ => 0,
            };
            if tail_room > 0 {
                // The last skb takes more while nothing of it has left.
                let add = tail_room.min(left);
                seq = seq + add;
                left -= add;
                if let Some(e) = self.ends.back_mut() {
                    *e = seq;
                }
            } else {
                // sk_stream_memory_free, before each new skb.
                if self.wmem_queued(seq) >= self.sndbuf {
                    self.nospace = true;
                    break;
                }
                let take = size_goal.min(left);
                seq = seq + take;
                left -= take;
                if self.ends.len() >= MAX_SKBS {
                    self.ends.pop_back();
                }
                self.ends.push_back(seq);
            }
            let last = self.ends.len() - 1;
            let start = self.start_of(last);
            if seq - start < size_goal || left == 0 {
                continue;
            }
            if seq > self.pushed + cx.half_window {
                // forced_push: tcp_mark_push, __tcp_push_pending_frames.
                self.pushed = seq;
                bounded_push(&mut self.marks, seq);
                self.push(cx, seq, true);
            } else if start == cx.unsent {
                // tcp_push_one.
                self.push(cx, seq, false);
            }
        }
        if seq != write_seq {
            // tcp_push marks the last skb, and its tcp_write_xmit grows
            // the send head (what then leaves is the stack's to send).
            self.pushed = seq;
            let i = self.ends.partition_point(|&e| e <= cx.unsent);
            if i < self.ends.len() && cx.segs > 0 {
                self.grow_head(i, cx);
            }
        }
        (seq - write_seq) as usize
    }

    /// tcp_write_xmit from the first unsent skb, up to `written`: bursts
    /// of `cx.burst` segments within cwnd and the window (each segment
    /// must fit whole, tcp_snd_wnd_test), a burst that ends inside an skb
    /// splitting it (tso_fragment); one burst only unless `all`.
    fn push(&mut self, cx: &mut WriteCx, written: SeqNumber, all: bool) {
        let seg = cx.seg.max(1);
        while cx.unsent < written {
            let i = self.ends.partition_point(|&e| e <= cx.unsent);
            if i >= self.ends.len() || cx.segs == 0 {
                return;
            }
            self.grow_head(i, cx);
            let skb_end = self.ends[i];
            if all && self.defers(cx, skb_end - cx.unsent) {
                return;
            }
            let mut n = 0u32;
            let mut segs = 0u32;
            while cx.unsent + n < skb_end && cx.segs > 0 && (cx.burst == 0 || segs < cx.burst) {
                let mut l = seg.min(skb_end - (cx.unsent + n));
                if l > cx.window {
                    // tcp_snd_wnd_test: the first segment must fit whole;
                    // after it, tcp_mss_split_point cuts the burst at the
                    // window's edge, a last partial segment included as
                    // TCP_NAGLE_PUSH lets it (measured on 6.18: MSS 524,
                    // window 2,920, a 20,000-byte write: 524 and then 299
                    // bytes to the edge from the skb tcp_push_one sent).
                    if n == 0 || cx.window == 0 {
                        break;
                    }
                    l = cx.window;
                }
                n += l;
                cx.window -= l;
                cx.segs -= 1;
                segs += 1;
            }
            if n == 0 {
                return;
            }
            let e = cx.unsent + n;
            if e < skb_end && self.ends.len() < MAX_SKBS {
                self.ends.insert(i, e);
            }
            cx.unsent = e;
            if let Some(d) = cx.defer.as_mut() {
                d.recent = true;
            }
            bounded_push(&mut self.push_ends, e);
            // A one-segment burst gets PSH only from its skb's mark
            // (__tcp_transmit_skb sets it on GSO packets alone).
            if segs == 1 && self.marks.contains(&e) {
                bounded_push(&mut self.alone, e);
            }
            if !all {
                return;
            }
        }
    }

    /// tcp_tso_should_defer for a send head of `len` bytes whose first
    /// segment fits the window (tcp_snd_wnd_test comes first): a burst of
    /// several segments for which neither the window nor cwnd has room
    /// whole, nor a whole tcp_tso_segs burst, nor a third of them, waits
    /// for the next ACK if the last transmission was recent. `oracle
    /// fuzz` est.write.extra-A of seed 320000: Linux's forced push sent
    /// one burst and deferred the next, the stack's model sent both.
    fn defers(&self, cx: &WriteCx, len: u32) -> bool {
        let Some(d) = cx.defer else {
            return false;
        };
        let seg = cx.seg.max(1);
        let room = cx.window.min(cx.segs.saturating_mul(seg));
        d.recent
            && len > seg
            && cx.window >= seg.min(len)
            && room < len
            && room < d.burst
            && room < d.chunk
    }

    /// tcp_write_xmit → tcp_grow_skb, before the window test: the send
    /// head, skb `i`, takes from the skb after it what it lacks of the
    /// burst cwnd allows (min(tcp_cwnd_test, tcp_tso_segs) segments); an
    /// skb emptied so is freed.
    fn grow_head(&mut self, i: usize, cx: &WriteCx) {
        let quota = match cx.burst {
            0 => cx.segs,
            b => b.min(cx.segs),
        };
        self.grow(i, quota.saturating_mul(cx.seg.max(1)));
    }

    /// tcp_grow_skb: skb `i` takes up to `want` bytes in all from the
    /// skb after it.
    fn grow(&mut self, i: usize, want: u32) {
        if i + 1 >= self.ends.len() {
            return;
        }
        let end = self.ends[i];
        let len = end - self.start_of(i);
        if want <= len {
            return;
        }
        let next_end = self.ends[i + 1];
        let take = (want - len).min(next_end - end);
        if end + take == next_end {
            self.ends.remove(i);
        } else {
            self.ends[i] = end + take;
        }
    }

    /// Data `seq..end` left in a segment, new or retransmitted. `continues`
    /// says the segment goes on the burst of the segment before it;
    /// `closes` that it ends its burst. A segment that ends inside an skb
    /// splits it there (tso_fragment; tcp_fragment for a retransmission),
    /// unless the burst goes on: the next segment of the burst moves that
    /// split.
    ///
    /// `grow`, for the first segment of a burst of new data, is what its
    /// skb may grow to first (tcp_write_xmit's tcp_grow_skb, as in
    /// `push`): the bytes of the burst cwnd allows.
    pub(super) fn sent(
        &mut self,
        seq: SeqNumber,
        end: SeqNumber,
        continues: bool,
        closes: bool,
        grow: u32,
    ) {
        self.grow_at(seq, grow);
        if continues && self.burst_split == Some(seq) {
            let i = self.ends.partition_point(|&e| e < seq);
            if i + 1 < self.ends.len() && self.ends[i] == seq {
                self.ends.remove(i);
            }
        }
        self.burst_split = None;
        let i = self.ends.partition_point(|&e| e <= end);
        if i < self.ends.len() && self.start_of(i) < end {
            if self.ends.len() >= MAX_SKBS {
                return;
            }
            self.ends.insert(i, end);
            if !closes {
                self.burst_split = Some(end);
            }
        }
    }

    /// tcp_grow_skb on the skb that starts at `seq`, if one does.
    fn grow_at(&mut self, seq: SeqNumber, want: u32) {
        if want == 0 {
            return;
        }
        let i = self.ends.partition_point(|&e| e <= seq);
        if i < self.ends.len() && self.start_of(i) == seq {
            self.grow(i, want);
        }
    }

    /// An ACK moved SND.UNA to `una` (tcp_clean_rtx_queue): the skbs it
    /// covers are freed; a partly covered one of several segments of
    /// `mss` is trimmed to `una` (tcp_tso_acked).
    pub(super) fn acked(&mut self, una: SeqNumber, mss: u32) {
        while let Some(&e) = self.ends.front() {
            if e > una {
                break;
            }
            self.ends.pop_front();
            self.head = e;
        }
        if self.ends.is_empty() {
            self.head = una;
        } else if let Some(&e) = self.ends.front() {
            if self.head < una && e - self.head > mss {
                self.head = una;
            }
        }
        if self.burst_split.is_some_and(|s| s <= una) {
            self.burst_split = None;
        }
        for q in [&mut self.alone, &mut self.marks, &mut self.push_ends] {
            while q.front().is_some_and(|&m| m <= una) {
                q.pop_front();
            }
        }
    }

    /// Whether the segment ending at `end` is a one-segment skb a write
    /// pushed with PSH while it went on (see `alone`).
    pub(super) fn pushed_alone(&self, end: SeqNumber) -> bool {
        self.alone.iter().any(|&m| m == end)
    }

    /// Whether a burst the write's own pushes sent ends at `end` (see
    /// `push_ends`).
    pub(super) fn push_burst_ends(&self, end: SeqNumber) -> bool {
        self.push_ends.iter().any(|&m| m == end)
    }

    /// Model consistency, for the fuzz targets' invariants: the skbs are
    /// in order, the last ends where the data written ends, and the first
    /// starts no later than `una`.
    pub(crate) fn check(&self, una: SeqNumber, write_seq: SeqNumber) -> Result<(), String> {
        if self.head > una {
            return Err(format!(
                "first skb starts at {:?} after SND.UNA {:?}",
                self.head, una
            ));
        }
        let mut prev = self.head;
        for &e in &self.ends {
            if e <= prev {
                return Err(format!("skb ends {:?} not after {:?}", e, prev));
            }
            prev = e;
        }
        if !self.ends.is_empty() && prev != write_seq {
            return Err(format!(
                "skbs end at {:?}, the data at {:?}",
                prev, write_seq
            ));
        }
        if self.ends.is_empty() && write_seq != una {
            return Err(format!("no skb for {} bytes queued", write_seq - una));
        }
        Ok(())
    }
}

impl Tcb {
    /// The MSS tcp_sndbuf_expand sizes skbs by: the larger of the peer's
    /// MSS as clamped by TCP_MAXSEG (rx_opt.mss_clamp) and mss_cache.
    fn sndbuf_mss(&self) -> u32 {
        let clamp = self
            .negotiated
            .map_or(u32::from(crate::tcp::options::DEFAULT_MSS), |n| {
                u32::from(self.mss_clamp(&n))
            });
        clamp.max(self.mss())
    }

    /// Linux tcp_sndbuf_expand.
    fn sndbuf_expand(&mut self) {
        let per_mss = (self.sndbuf_mss() + SNDBUF_HEAD).next_power_of_two() + SK_BUFF;
        let cwnd = self.cwnd / self.mss().max(1);
        let segs = cwnd
            .max(INIT_CWND)
            .max(self.profile.dupthresh.saturating_add(1));
        let sndmem = 2u32.saturating_mul(segs).saturating_mul(per_mss);
        let max = u32::try_from(self.profile.send_buffer_max).unwrap_or(u32::MAX);
        if let Some(m) = self.snd_mem.as_mut() {
            if !m.locked && m.sndbuf < sndmem {
                m.sndbuf = sndmem.min(max);
            }
        }
    }

    /// Linux tcp_init_buffer_space, on entering ESTABLISHED: the receive
    /// half (`init_rcv_space`), then the send buffer; and the receive MSS
    /// guessed at the same point (`init_rcv_mss`).
    pub(super) fn init_buffer_space(&mut self) {
        self.init_rcv_mss();
        self.init_rcv_space();
        self.sndbuf_expand();
        let una = self.snd_una;
        if let Some(m) = self.snd_mem.as_mut() {
            if m.ends.is_empty() {
                m.head = una;
            }
        }
    }

    /// SO_SNDBUF: the size and the lock (`sndbuf` already doubled and
    /// bounded by the socket layer, as sock_setsockopt does).
    pub fn set_sndbuf(&mut self, sndbuf: u32) {
        if let Some(m) = self.snd_mem.as_mut() {
            m.sndbuf = sndbuf.max(MIN_SNDBUF);
            m.locked = true;
        }
    }

    /// sk_sndbuf, if the send memory is modelled.
    pub fn sndbuf(&self) -> Option<u32> {
        self.snd_mem.as_ref().map(|m| m.sndbuf)
    }

    /// sk_wmem_queued as modelled (see `SndMem::wmem_queued`).
    pub fn wmem_queued(&self) -> Option<u32> {
        let ws = self.fin_seq();
        self.snd_mem.as_ref().map(|m| m.wmem_queued(ws))
    }

    /// The send memory model's consistency (for the fuzz targets).
    pub fn check_send_mem(&self) -> Result<(), String> {
        match &self.snd_mem {
            Some(m) if self.state.is_synchronized() => {
                let data_end = self.fin_seq();
                m.check(self.snd_una.min(data_end), data_end)
            }
            _ => Ok(()),
        }
    }

    /// tcp_xmit_size_goal: the bytes tcp_sendmsg puts in one skb.
    fn size_goal(&self) -> u32 {
        let mss = self.data_mss().max(1);
        let goal = self.bound_to_half_wnd(GSO_MAX_SIZE);
        (goal / mss * mss).max(mss)
    }

    /// The connection as a write's pushes see it (tcp_sendmsg, tcp_push).
    fn write_cx(&self, defer: Option<Defer>) -> WriteCx {
        let seg = self.data_mss();
        WriteCx {
            unsent: self.snd_max.max(self.snd_una),
            size_goal: self.size_goal(),
            seg,
            burst: self.burst_limit(seg),
            segs: self.cwnd_room() / self.mss().max(1),
            window: self.snd_wnd.saturating_sub(self.snd_max - self.snd_una),
            half_window: self.max_window / 2,
            defer,
        }
    }

    /// How much of a `len`-byte write the memory takes (all of it without
    /// the model).
    ///
    /// `now`, when the caller knows it, lets the write's forced pushes
    /// defer bursts as Linux's tcp_tso_should_defer does (`Defer`).
    pub(super) fn send_mem_admit(&mut self, len: usize, now: Option<Instant>) -> usize {
        if self.snd_mem.is_none() {
            return len;
        }
        let ws = self.fin_seq();
        let defer = now.and_then(|now| self.write_defer(now, self.data_mss()));
        let mut cx = self.write_cx(defer);
        let n = match self.snd_mem.as_mut() {
            Some(m) => m.write(ws, len, &mut cx),
            None => len,
        };
        self.write_pushed = (cx.unsent > self.snd_max).then_some(cx.unsent);
        // Cut short by the buffer with all it took pushed from inside the
        // loop (tcp_push_one of a full skb, as data was left to copy):
        // tcp_push then marks PSH on a tail skb already sent, so the wire
        // never shows it (`oracle fuzz`, est.write.flags of seed 550000:
        // SO_SNDBUF 2048, a 1460-byte write took 1448 and sent them
        // without PSH).
        let end = ws + n as u32;
        self.push_missed = (n > 0 && n < len && cx.unsent == end).then_some(end);
        n
    }

    /// tcp_send_fin's __tcp_push_pending_frames with TCP_NAGLE_OFF: what
    /// it sends leaves as the model cuts it (`write_pushed`), a last
    /// partial segment up to the window's edge included
    /// (tcp_mss_split_point without Nagle); no burst deferred. `oracle
    /// fuzz` est.close.missing-PA of seed 320429: on close() Linux sent
    /// 524 bytes and the 299 to the window's edge of a two-segment skb.
    pub(super) fn send_mem_close_push(&mut self) {
        if self.snd_mem.is_none() || self.snd_nxt != self.snd_max {
            return;
        }
        let ws = self.fin_seq();
        let mut cx = self.write_cx(None);
        if let Some(m) = self.snd_mem.as_mut() {
            m.push(&mut cx, ws, true);
        }
        if cx.unsent > self.snd_max {
            self.write_pushed = Some(cx.unsent);
        }
    }

    /// Whether a write's forced pushes may defer (the conditions of
    /// `Tcb::tso_defers` that hold for the whole write): GSO bursts, the
    /// Open state, data in flight whose ACK is due within min(1 ms,
    /// SRTT/2) (`Tcb::ack_not_due_soon`); with nothing in flight, the
    /// write's first burst becomes the oldest, sent now, and nothing
    /// defers.
    fn write_defer(&self, now: Instant, seg: u32) -> Option<Defer> {
        if !self.defer_state_allows() || !self.ack_not_due_soon(now) {
            return None;
        }
        Some(Defer {
            chunk: self.defer_chunk(),
            burst: self.tso_segs(seg).saturating_mul(seg),
            recent: self.sent_recently(now),
        })
    }

    /// Linux tcp_data_snd_check after a segment: tcp_write_xmit grows
    /// each send head it comes to (tcp_grow_skb) to the burst cwnd allows
    /// before its window test, so also the one where it stops because
    /// the window (or Nagle) lets nothing more out; with no cwnd quota it
    /// stops before. Called once the stack has sent what it may.
    pub(super) fn grow_send_head(&mut self) {
        let due = self
            .snd_mem
            .as_mut()
            .is_some_and(|m| std::mem::take(&mut m.grow_due));
        if !due || self.write_pushed.is_some() {
            return;
        }
        let want = self.grow_quota(self.data_mss());
        let at = self.snd_max.max(self.snd_una);
        if let Some(m) = self.snd_mem.as_mut() {
            m.grow_at(at, want);
        }
    }

    /// The bytes tcp_grow_skb lets a send head of `seg`-byte segments
    /// grow to: the burst cwnd allows, min(tcp_cwnd_test, tcp_tso_segs)
    /// segments (`WriteCx`'s `burst` and `segs` inside a write).
    pub(super) fn grow_quota(&self, seg: u32) -> u32 {
        let segs = self.cwnd_room() / self.mss().max(1);
        let quota = match self.burst_limit(seg) {
            0 => segs,
            b => b.min(segs),
        };
        quota.saturating_mul(seg)
    }

    /// tcp_check_space after an ACK, before its transmissions: a writer
    /// waiting for room has the buffer expanded if cwnd has room
    /// (tcp_should_expand_sndbuf), and stops waiting once the space is
    /// writeable (sk_stream_write_space).
    pub(super) fn check_send_space(&mut self) {
        let Some(m) = self.snd_mem.as_mut() else {
            return;
        };
        if !std::mem::take(&mut m.check_due) || !m.nospace {
            return;
        }
        if self.cwnd_room() > 0 {
            self.sndbuf_expand();
        }
        let ws = self.fin_seq();
        if let Some(m) = self.snd_mem.as_mut() {
            if m.writeable(ws) {
                m.nospace = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: SeqNumber = SeqNumber(1000);

    /// A write context at the start of the data: bursts of two, a cwnd
    /// of ten segments, `window` bytes of the peer's window open.
    fn cx(size_goal: u32, seg: u32, window: u32, half_window: u32) -> WriteCx {
        WriteCx {
            unsent: ISS,
            size_goal,
            seg,
            burst: 2,
            segs: 10,
            window,
            half_window,
            defer: None,
        }
    }

    /// A write context with nothing sendable: a shut window and cwnd
    /// full (tcp_write_xmit stops before tcp_grow_skb), no forced push.
    fn shut(goal: u32) -> WriteCx {
        let mut c = cx(goal, goal, 0, 1 << 20);
        c.segs = 0;
        c
    }

    fn skbs(m: &SndMem) -> Vec<u32> {
        let mut v = Vec::new();
        let mut prev = m.head;
        for &e in &m.ends {
            v.push(e - prev);
            prev = e;
        }
        v
    }

    #[test]
    fn a_write_stops_where_the_skbs_charges_reach_the_buffer() {
        // 100-byte skbs (the peer's largest window is 100 bytes) cost 932
        // each. Every skb, once full, is past half the window: a forced
        // push, whose tcp_write_xmit grows the unsendable send head by
        // tcp_grow_skb to a burst of two segments, freeing one skb, once.
        // Before the 51st skb the memory reads 49 * 832 + 5000 = 45768 <
        // 46080, before a 52nd 50 * 832 + 5100 = 46700 (Linux: 5100 bytes,
        // tcp/send-buffer-small-segments).
        let mut m = SndMem::new(46080, ISS);
        assert_eq!(m.write(ISS, 200_000, &mut cx(100, 100, 0, 50)), 5100);
        assert!(m.nospace);
        assert_eq!(skbs(&m)[..2], [200, 100]);
        assert_eq!(m.wmem_queued(ISS + 5100), 50 * SKB_OVERHEAD + 5100);
        // Full: a further write takes nothing (EAGAIN).
        assert_eq!(m.write(ISS + 5100, 10, &mut cx(100, 100, 0, 50)), 0);
        assert_eq!(m.check(ISS, ISS + 5100), Ok(()));
        // Without forced pushes (a large window, shut now) nothing grows:
        // 50 skbs, 49 * 932 < 46080 <= 50 * 932.
        let mut m = SndMem::new(46080, ISS);
        assert_eq!(m.write(ISS, 200_000, &mut shut(100)), 5000);
    }

    #[test]
    fn the_send_head_grows_to_the_burst_cwnd_allows() {
        // A zero-window handshake, then a 4-byte window: 48-byte skbs
        // (tcp_bound_to_half_wnd's floor), a forced push after each, bursts
        // of five segments (half of cwnd 10; tso_segs from a pacing rate
        // with mss_cache 1460 allows more). The head takes one skb per
        // push until it holds five segments: four skbs freed, and the
        // write takes 57 skbs' worth, 2736 bytes (Linux 6.18, oracle fuzz
        // est.write.result of seed 310000; tcp/send-buffer-zero-window-
        // handshake).
        let mut m = SndMem::new(46080, ISS);
        let mut c = cx(48, 48, 0, 2);
        c.burst = 5;
        assert_eq!(m.write(ISS, 20_000, &mut c), 2736);
        assert_eq!(skbs(&m)[..2], [240, 48]);
        assert_eq!(m.ends.len(), 53);
        // The last skb, the one the write fills, gives too.
        let mut m = SndMem::new(46080, ISS);
        m.write(ISS, 96, &mut c);
        assert_eq!(skbs(&m), [96]);
        // So does the write's final tcp_push: a write that ends in a
        // short skb leaves it merged into the head (oracle fuzz
        // est.write.result of seed 170270: an unsent 460-byte rest went
        // into the 500-byte head, and the next write started a new skb
        // rather than top it up).
        let mut m = SndMem::new(46080, ISS);
        let mut c = cx(500, 500, 0, 1 << 20);
        m.write(ISS, 960, &mut c);
        assert_eq!(skbs(&m), [960]);
        // The next write starts a new skb, and its own final push lets
        // the head take up to the two segments of a burst.
        assert_eq!(m.write(ISS + 960, 100, &mut c), 100);
        assert_eq!(skbs(&m), [1000, 60]);
    }

    #[test]
    fn a_burst_grows_its_skb_and_the_loop_the_one_it_stops_at() {
        // Four 500-byte skbs, shut window, no growth during the write.
        let mut m = SndMem::new(46080, ISS);
        m.write(ISS, 2000, &mut shut(500));
        assert_eq!(skbs(&m), [500, 500, 500, 500]);
        // A burst of one segment that may grow to two: its skb takes the
        // next one whole (tcp_grow_skb), then the segment splits it
        // (tso_fragment): the count of skbs is unchanged.
        m.sent(ISS, ISS + 500, false, true, 1000);
        assert_eq!(skbs(&m), [500, 500, 500, 500]);
        assert_eq!(m.wmem_queued(ISS + 2000), 4 * SKB_OVERHEAD + 2000);
        // Where the loop stops, the skb there grows too, before the
        // window test (`Tcb::grow_send_head`): one skb fewer.
        m.grow_at(ISS + 500, 1000);
        assert_eq!(skbs(&m), [500, 1000, 500]);
        assert_eq!(m.wmem_queued(ISS + 2000), 3 * SKB_OVERHEAD + 2000);
        // Not from the middle of an skb.
        m.grow_at(ISS + 700, 1000);
        assert_eq!(skbs(&m), [500, 1000, 500]);
        assert_eq!(m.check(ISS, ISS + 2000), Ok(()));
    }

    #[test]
    fn a_short_last_skb_is_topped_up_before_a_new_one() {
        let mut m = SndMem::new(46080, ISS);
        assert_eq!(m.write(ISS, 150, &mut shut(100)), 150);
        assert_eq!(skbs(&m), [100, 50]);
        assert_eq!(m.write(ISS + 150, 120, &mut shut(100)), 120);
        assert_eq!(skbs(&m), [100, 100, 70]);
        // Sending part of it splits it: the unsent rest is the last skb
        // and takes more (as Linux's tso_fragment leaves it in the write
        // queue); once all of it has left, a new skb starts.
        m.sent(ISS + 200, ISS + 250, false, true, 0);
        let mut c = shut(100);
        c.unsent = ISS + 250;
        assert_eq!(m.write(ISS + 270, 10, &mut c), 10);
        assert_eq!(skbs(&m), [100, 100, 50, 30]);
        m.sent(ISS + 250, ISS + 280, false, true, 0);
        c.unsent = ISS + 280;
        assert_eq!(m.write(ISS + 280, 10, &mut c), 10);
        assert_eq!(skbs(&m), [100, 100, 50, 30, 10]);
    }

    #[test]
    fn a_full_first_skb_leaves_in_bursts_that_split_it() {
        // 32120-byte skbs (22 segments of 1460), a cwnd of ten segments,
        // bursts of two: the first skb is pushed when full and leaves
        // five 2920-byte skbs behind; the rest of it takes 14600 more and
        // no new skb fits in 46080 (Linux: 46720).
        let mut m = SndMem::new(46080, ISS);
        let mut c = cx(32120, 1460, 64240, 32120);
        assert_eq!(m.write(ISS, 200_000, &mut c), 46720);
        assert_eq!(skbs(&m), [2920, 2920, 2920, 2920, 2920, 32120]);
        assert_eq!(c.unsent, ISS + 14600);
        // The stack's own segments then find the splits: the first of a
        // burst splits, the second moves that split onto the one there.
        m.sent(ISS, ISS + 1460, false, false, 0);
        assert_eq!(skbs(&m).len(), 7);
        m.sent(ISS + 1460, ISS + 2920, true, true, 0);
        assert_eq!(skbs(&m), [2920, 2920, 2920, 2920, 2920, 32120]);
    }

    #[test]
    fn a_pushed_burst_is_cut_at_the_windows_edge_after_a_whole_segment() {
        // 524-byte segments in 1048-byte skbs, 823 bytes of window: the
        // first skb, full, leaves by tcp_push_one as 524 and the 299 to
        // the window's edge (tcp_mss_split_point with TCP_NAGLE_PUSH;
        // Linux, tcp/write-push-one-window-edge); nothing more fits. The
        // rest of the skb (tso_fragment's new skb) is the write queue's
        // tail, which the write then tops up to size_goal.
        let mut m = SndMem::new(25600, ISS);
        let mut c = cx(1048, 524, 823, 1460);
        m.write(ISS, 20_000, &mut c);
        assert_eq!(c.unsent, ISS + 823);
        assert_eq!(skbs(&m)[..3], [823, 1048, 1048]);
        // A first segment that does not fit whole does not leave.
        let mut m = SndMem::new(25600, ISS);
        let mut c = cx(1048, 524, 523, 1460);
        m.write(ISS, 20_000, &mut c);
        assert_eq!(c.unsent, ISS);
    }

    #[test]
    fn bursts_end_where_the_pushed_skbs_do() {
        // 88-byte segments in 440-byte skbs, a 1000-byte window, bursts
        // of two (Linux 6.18, tcp/write-skb-bursts-small-window: a
        // 3000-byte write). The first skb leaves by tcp_push_one as one
        // burst; its rest is topped up to 440 (177..617), past half the
        // window: a forced push marks it and sends it as 177..353,
        // 353..529 and 529..617 alone, which keeps the mark's PSH; the
        // next skb (617..1057) leaves by tcp_push_one as 617..793, its
        // rest topped up and marked (793..1233) with room in cwnd for one
        // segment, 793..881.
        let mut m = SndMem::new(25600, ISS);
        let mut c = cx(440, 88, 1000, 500);
        m.write(ISS, 3000, &mut c);
        assert_eq!(c.unsent, ISS + 880);
        let ends: Vec<u32> = m.push_ends.iter().map(|&e| e - ISS).collect();
        assert_eq!(ends, [176, 352, 528, 616, 792, 880]);
        assert!(m.pushed_alone(ISS + 616));
        assert!(!m.pushed_alone(ISS + 880), "not at a mark");
        m.acked(ISS + 616, 88);
        assert!(!m.push_burst_ends(ISS + 616) && m.push_burst_ends(ISS + 792));
    }

    #[test]
    fn a_forced_push_that_leaves_alone_keeps_its_psh() {
        // A 502-byte window: one-segment skbs of 502, each past half the
        // window. The first leaves at once, alone, with its PSH; the
        // second finds the window full and leaves later (when Linux may
        // merge it with the third), so only the first is recorded
        // (Linux: `P. 1:503`, `. 503:1005`, tcp/forced-push-lone-skb).
        let mut m = SndMem::new(46080, ISS);
        assert_eq!(m.write(ISS, 1460, &mut cx(502, 502, 502, 251)), 1460);
        assert!(m.pushed_alone(ISS + 502));
        assert!(!m.pushed_alone(ISS + 1004));
        assert!(!m.pushed_alone(ISS + 1460));
        m.acked(ISS + 502, 502);
        assert!(!m.pushed_alone(ISS + 502), "forgotten once acknowledged");
    }

    #[test]
    fn an_ack_frees_whole_skbs_and_trims_only_multi_segment_ones() {
        let mut m = SndMem::new(46080, ISS);
        m.write(ISS, 3000, &mut shut(1000));
        // Half of a one-segment skb acknowledged: it keeps its memory.
        m.acked(ISS + 500, 1000);
        assert_eq!(m.wmem_queued(ISS + 3000), 3 * SKB_OVERHEAD + 3000);
        // Half of a two-segment skb (mss 500): trimmed to SND.UNA.
        m.acked(ISS + 1250, 500);
        assert_eq!(m.wmem_queued(ISS + 3000), 2 * SKB_OVERHEAD + 1750);
        assert_eq!(m.check(ISS + 1250, ISS + 3000), Ok(()));
        m.acked(ISS + 3000, 500);
        assert_eq!(m.wmem_queued(ISS + 3000), 0);
        assert_eq!(m.check(ISS + 3000, ISS + 3000), Ok(()));
    }

    #[test]
    fn the_consistency_check_finds_a_broken_model() {
        let mut m = SndMem::new(46080, ISS);
        m.write(ISS, 300, &mut shut(100));
        assert!(m.check(ISS, ISS + 299).is_err(), "data end mismatch");
        assert!(
            m.check(ISS - 1, ISS + 300).is_err(),
            "first skb after SND.UNA"
        );
        m.ends.swap(0, 1);
        assert!(m.check(ISS, ISS + 300).is_err(), "out of order");
    }
}
