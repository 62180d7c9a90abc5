//! The sending side's loss recovery and congestion window: duplicate ACKs
//! and the SACK scoreboard (RFC 5681 3.2, RFC 6675), fast retransmit and
//! fast recovery with NewReno partial ACKs (RFC 6582) or SACK-based loss
//! marking, Proportional Rate Reduction while recovering (RFC 6937, as
//! Linux tcp_cwnd_reduction), the retransmission timeout's collapse to one
//! segment with go-back-N (RFC 5681 3.1, RFC 6298 5), cwnd validation
//! (RFC 7661, Linux tcp_cwnd_validate) and the restart after idle (RFC 5681
//! 4.1). How much cwnd grows and falls is the [`Controller`]'s business.
//!
//! The pipe (RFC 6675 SetPipe, Linux tcp_packets_in_flight) is counted in
//! bytes: sequence space sent and unacknowledged, less what the peer holds
//! (SACKed; for a peer without SACK one segment per duplicate ACK, as Linux
//! tcp_add_reno_sack and RFC 3042's limited transmit count them), less what
//! is deemed lost and not yet retransmitted.

use super::*;
use crate::tcp::congestion::CongestionControl;

impl Tcb {
    pub(super) fn sack_on(&self) -> bool {
        self.negotiated.is_some_and(|n| n.sack)
    }

    /// The congestion window, bytes.
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    /// The slow-start threshold, bytes (`u32::MAX` until the first loss).
    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// The loss-recovery phase.
    pub fn ca_state(&self) -> CaState {
        self.ca
    }

    /// The SACK scoreboard.
    pub fn scoreboard(&self) -> &Scoreboard {
        &self.sb
    }

    /// Bytes below SND.NXT the peer holds beyond a hole.
    pub(super) fn sacked_bytes(&self) -> u32 {
        let flight = self.snd_nxt - self.snd_una;
        if self.sack_on() {
            self.sb.sacked_below(self.snd_nxt).min(flight)
        } else {
            // Linux tcp_limit_reno_sacked: the duplicate ACKs never account
            // for more than the flight less one hole.
            let mss = self.mss();
            self.dupacks
                .saturating_mul(mss)
                .min(flight.saturating_sub(mss))
        }
    }

    /// Bytes deemed lost and not yet retransmitted (only in fast recovery;
    /// after an RTO, go-back-N keeps SND.NXT at the retransmission point).
    pub(super) fn lost_bytes(&self) -> u32 {
        let CaState::Recovery { high_seq, .. } = self.ca else {
            return 0;
        };
        if self.sack_on() {
            self.sb.lost_unretransmitted(
                self.snd_una,
                self.rack_line(),
                self.profile.dupthresh,
                self.mss(),
            )
        } else if self.sb.high_rxt <= self.snd_una && self.snd_una < high_seq {
            // RFC 6582: the segment at SND.UNA is the one lost (never data
            // sent after recovery began).
            (high_seq.min(self.snd_nxt) - self.snd_una)
                .saturating_sub(self.sacked_bytes())
                .min(self.mss())
        } else {
            0
        }
    }

    /// With [`Profile::rack`], in SACK recovery: everything unSACKed below
    /// this is lost. RFC 8985 6.2 with the reordering window Linux uses in
    /// recovery (tcp_rack_reo_wnd: 0 until reordering is seen): a segment
    /// sent before one that was delivered is lost. Original transmissions
    /// leave in sequence order, so that is everything below the highest
    /// SACKed sequence, and below whatever had been sent before a
    /// retransmission that got through. Otherwise SND.UNA (no effect).
    pub(super) fn rack_line(&self) -> SeqNumber {
        if !self.profile.rack || !matches!(self.ca, CaState::Recovery { .. }) {
            return self.snd_una;
        }
        self.sb
            .high_sacked()
            .unwrap_or(self.snd_una)
            .max(self.rack_lost_below)
            .max(self.snd_una)
    }

    /// Note new data sent at `now` (for [`Tcb::rack_line`]).
    pub(super) fn mark_sent(&mut self, now: Instant) {
        match self.sent_marks.back_mut() {
            Some(m) if m.1 == now => m.0 = self.snd_max,
            _ => {
                if self.sent_marks.len() >= 64 {
                    self.sent_marks.pop_front();
                }
                self.sent_marks.push_back((self.snd_max, now));
            }
        }
    }

    /// A retransmission sent at `t` got through: what was first sent
    /// before `t` and is not SACKed is lost (RACK).
    fn rack_retransmission_delivered(&mut self) {
        let Some((end, t)) = self.rxt_sent else {
            return;
        };
        let delivered = self.snd_una >= end || self.sb.is_sacked(end - 1);
        if !delivered {
            return;
        }
        self.rxt_sent = None;
        if let Some(&(seq, _)) = self.sent_marks.iter().rev().find(|m| m.1 < t) {
            self.rack_lost_below = self.rack_lost_below.max(seq);
        }
    }

    /// RFC 6675 pipe, bytes.
    pub(super) fn pipe(&self) -> u32 {
        (self.snd_nxt - self.snd_una)
            .saturating_sub(self.sacked_bytes())
            .saturating_sub(self.lost_bytes())
    }

    /// What cwnd lets us send now, in whole segments (Linux tcp_cwnd_test
    /// counts packets: a window is never used for a sliver of a segment).
    pub(super) fn cwnd_room(&self) -> u32 {
        self.cwnd_segs()
            .saturating_sub(self.pipe_segs())
            .saturating_mul(self.mss().max(1))
    }

    /// cwnd in packets of one SMSS, at least one (Linux tcp_snd_cwnd).
    pub(super) fn cwnd_segs(&self) -> u32 {
        (self.cwnd / self.mss().max(1)).max(1)
    }

    /// The pipe in packets (Linux tcp_packets_in_flight). With
    /// [`Profile::cwnd_packets`], while nothing is SACKed or deemed lost,
    /// the segments sent below SND.NXT and not acknowledged, whatever their
    /// size; otherwise the pipe's bytes at one SMSS per packet (the same
    /// count when segments are full-sized).
    pub(super) fn pipe_segs(&self) -> u32 {
        if self.profile.cwnd_packets && self.sacked_bytes() == 0 && self.lost_bytes() == 0 {
            self.segs_out()
        } else {
            self.pipe().div_ceil(self.mss().max(1))
        }
    }

    /// Segments of new data (or FIN) sent and not acknowledged that start
    /// below SND.NXT (after a timeout, go-back-N pulls SND.NXT back: what
    /// lies above it is not in flight). A partly acknowledged one counts
    /// whole, as Linux's trimmed skb does.
    pub(super) fn segs_out(&self) -> u32 {
        if self.snd_nxt == self.snd_max {
            // Every end remembered is above SND.UNA (`process_ack` drops
            // the others), and every segment starts below SND.MAX.
            return self.seg_ends.len() as u32;
        }
        let mut start = self.snd_una;
        let mut n = 0;
        for &end in &self.seg_ends {
            if start >= self.snd_nxt {
                break;
            }
            n += 1;
            start = end;
        }
        n
    }

    /// Linux tcp_update_pacing_rate, run where Linux runs it (every ACK
    /// tcp_cong_control sees, and the handshake's end): 200 % of
    /// mss_cache · max(cwnd, packets out) / SRTT while cwnd is under
    /// half of ssthresh (tcp_pacing_ss_ratio), 120 % after
    /// (tcp_pacing_ca_ratio); without an RTT sample, undivided. Read only
    /// by [`tso_segs`](Self::tso_segs).
    pub(super) fn update_pacing_rate(&mut self) {
        self.update_pacing_rate_with(self.mss_cache());
    }

    /// Linux mss_cache: the MSS tcp_sync_mss last set, bounded by half the
    /// peer's largest window (tcp_bound_to_half_wnd) once it has shown one.
    pub(super) fn mss_cache(&self) -> u32 {
        self.bound_to_half_wnd(self.mss())
    }

    /// [`Tcb::update_pacing_rate`] with `mss` as Linux's mss_cache.
    pub(super) fn update_pacing_rate_with(&mut self, mss: u32) {
        if !self.profile.tso_autosize {
            return;
        }
        let mss = mss.max(1);
        let cwnd = u64::from(self.cwnd_segs());
        let ssthresh = u64::from(self.ssthresh / mss);
        let ratio: u64 = if cwnd < ssthresh / 2 { 200 } else { 120 };
        // Linux: mss_cache * ((USEC_PER_SEC / 100) << 3) * ratio * packets
        // / srtt_us, with srtt_us eight times the SRTT in microseconds.
        let mut rate = u64::from(mss)
            .saturating_mul(80_000 * ratio)
            .saturating_mul(cwnd.max(u64::from(self.segs_out())));
        if let Some(srtt) = self.rtt.srtt() {
            let srtt8 = (srtt.total_micros().max(0) as u64).saturating_mul(8);
            rate = rate.checked_div(srtt8).unwrap_or(rate);
        }
        self.pacing_rate = Some(rate);
    }

    /// Segments in a GSO burst at most (Linux tcp_tso_segs →
    /// tcp_tso_autosize, `mss` being tcp_current_mss): the pacing rate's
    /// bytes per 1/1024 s (sk_pacing_shift 10), plus sk_gso_max_size
    /// (65,536 less MAX_TCP_HEADER + 1) shifted right by the min RTT in
    /// units of 512 µs (tcp_tso_rtt_log 9), at most sk_gso_max_size, in
    /// whole segments; at least [`Profile::push_burst`]
    /// (tcp_min_tso_segs). Without [`Profile::tso_autosize`],
    /// `push_burst`.
    pub(super) fn tso_segs(&self, mss: u32) -> u32 {
        const GSO_MAX_SIZE: u64 = 65_536 - 193;
        let min = self.profile.push_burst;
        if !self.profile.tso_autosize {
            return min;
        }
        let mut bytes = self.pacing_rate.unwrap_or(u64::MAX) >> 10;
        if let Some(r) = self.rtt.min_rtt() {
            let r = r.total_micros().max(0) as u64 >> 9;
            if r < 32 {
                bytes = bytes.saturating_add(GSO_MAX_SIZE >> r);
            }
        }
        let segs = bytes.min(GSO_MAX_SIZE) / u64::from(mss.max(1));
        (segs as u32).max(min)
    }

    /// Segments the next burst may hold (Linux tcp_write_xmit cuts an skb
    /// at min(tcp_cwnd_test, tcp_tso_segs) segments): [`tso_segs`](Self::tso_segs),
    /// and with [`Profile::tso_autosize`] no more than half of cwnd
    /// (tcp_cwnd_test: "ensure we have at least 2 GSO packets in flight").
    /// 0: no limit.
    pub(super) fn burst_limit(&self, mss: u32) -> u32 {
        let segs = self.tso_segs(mss);
        if !self.profile.tso_autosize {
            return segs;
        }
        segs.min((self.cwnd_segs() >> 1).max(1))
    }

    /// Linux tcp_tso_should_defer, for the bursts [`Profile::push_burst`]
    /// models: with room for only part of the next burst and more data
    /// queued, Linux waits for the ACK that makes room rather than send a
    /// lone segment (measured: one segment of room after a duplicate ACK
    /// sends nothing; the next duplicate ACK sends two). Not in recovery,
    /// not for a burst that carries the FIN, not when the room is a third
    /// of the window (tcp_tso_win_divisor 3), not when the ACK of the oldest
    /// unacknowledged data is due more than min(1 ms, SRTT/2) from now (see
    /// `ack_not_due_soon`), and only within 1 ms
    /// of the last transmission.
    pub(super) fn tso_defers(&self, now: Instant, avail: usize, usable: usize, mss: usize) -> bool {
        // Linux compares with tcp_tso_segs, not the cwnd-limited burst.
        let burst = self.tso_segs(mss as u32) as usize;
        // Linux decides per GSO burst: never in the middle of one.
        if !self.defer_state_allows() || self.burst_segs != 0 || self.one_segment_skbs(mss) {
            return false;
        }
        let skb = avail.min(burst.saturating_mul(mss));
        if skb <= mss || usable >= skb {
            return false;
        }
        // Decided when the ACK (or write) arrived; nothing re-decides it
        // until the next one.
        if self.tso_hold {
            return true;
        }
        if !self.sent_recently(now) || usable >= self.defer_chunk() as usize {
            return false;
        }
        if !self.ack_not_due_soon(now) {
            return false;
        }
        !(self.fin_queued && avail <= skb)
    }

    /// The conditions of tcp_tso_should_defer that hold for a whole
    /// transmission attempt: GSO bursts, the Open state, no go-back-N
    /// under way, data in flight.
    pub(super) fn defer_state_allows(&self) -> bool {
        self.profile.push_burst >= 2
            && self.ca == CaState::Open
            && self.snd_nxt == self.snd_max
            && self.snd_nxt != self.snd_una
    }

    /// "Avoid bursty behavior by allowing defer only if the last write
    /// was recent (1 ms)."
    pub(super) fn sent_recently(&self, now: Instant) -> bool {
        self.last_data_sent
            .is_some_and(|t| now - t <= crate::time::Duration::from_millis(1))
    }

    /// Room at least this large sends (tcp_tso_win_divisor 3: a third of
    /// min(snd_wnd, cwnd)).
    pub(super) fn defer_chunk(&self) -> u32 {
        self.snd_wnd.min(self.cwnd) / 3
    }

    /// "If next ACK is likely to come too late, ie in more than min(1ms,
    /// half srtt), do not defer" (Linux 6.18, tcp_tso_should_defer since
    /// commit 295ce1eb36ae, "tcp: fix tcp_tso_should_defer() vs large
    /// RTT"): false while the ACK of the oldest unacknowledged data is
    /// expected (its send time plus SRTT) more than min(1 ms, SRTT/2)
    /// from now. The rule before it, "sent less than SRTT/2 ago", deferred
    /// when the ACK was due more than 1 ms later: `oracle fuzz`,
    /// est.write.missing-A of seed 450000, a write 10.05 ms after the
    /// oldest segment with SRTT 11.2 ms, whose ACK was due 1.1 ms later;
    /// Linux sent the segment cwnd allowed, the stack deferred it.
    pub(super) fn ack_not_due_soon(&self, now: Instant) -> bool {
        let head_sent = self
            .sent_marks
            .iter()
            .find(|m| m.0 > self.snd_una)
            .map(|m| m.1);
        match (head_sent, self.rtt.srtt()) {
            (Some(t), Some(srtt)) => {
                let srtt = srtt.total_micros();
                let how_far = (t - now).total_micros() + srtt;
                how_far <= (srtt / 2).min(1000)
            }
            _ => true,
        }
    }

    /// Linux tcp_is_cwnd_limited (RFC 7661): grow cwnd only if the sender
    /// used it, or, in slow start, while it is under twice the flight.
    fn is_cwnd_limited(&self) -> bool {
        self.cwnd_limited || (self.cwnd < self.ssthresh && self.cwnd < 2 * self.max_flight)
    }

    /// Linux tcp_cwnd_validate, after a transmission attempt: remember
    /// whether the window was full, and the largest flight, per window of
    /// data.
    pub(super) fn cwnd_validate(&mut self, limited: bool) {
        // Linux max_packets_out: in packets, compared with cwnd in
        // `is_cwnd_limited` (bytes here: packets at one SMSS each).
        let flight = if self.profile.cwnd_packets {
            self.segs_out().saturating_mul(self.mss().max(1))
        } else {
            self.snd_nxt - self.snd_una
        };
        if self.snd_una >= self.cwnd_usage_seq
            || limited
            || (!self.cwnd_limited && flight > self.max_flight)
        {
            self.cwnd_limited = limited;
            self.max_flight = flight;
            self.cwnd_usage_seq = self.snd_nxt;
        }
    }

    /// RFC 5681 4.1 / Linux tcp_cwnd_restart: new data after an idle
    /// period longer than the RTO starts from at most the initial window,
    /// halving cwnd once per RTO of idleness.
    pub(super) fn restart_after_idle(&mut self, now: Instant) {
        if !self.profile.slow_start_after_idle || self.snd_max != self.snd_una {
            return;
        }
        let Some(last) = self.last_data_sent else {
            return;
        };
        let rto = self.rtt.rto();
        let mut idle = now - last;
        if idle <= rto {
            return;
        }
        let mss = self.mss();
        let restart = self
            .profile
            .initial_cwnd
            .max(1)
            .saturating_mul(mss)
            .min(self.cwnd);
        // tcp_current_ssthresh: remember 3/4 of the window being given up.
        self.ssthresh = self
            .ssthresh
            .max((self.cwnd >> 1).saturating_add(self.cwnd >> 2));
        let mut cwnd = self.cwnd;
        loop {
            idle = idle - rto;
            if idle <= crate::time::Duration::ZERO || cwnd <= restart {
                break;
            }
            cwnd >>= 1;
        }
        self.cwnd = cwnd.max(restart);
        self.last_data_sent = Some(now);
    }

    /// Everything an acceptable ACK does to the sending side besides the
    /// window update: the cumulative ACK, the scoreboard, duplicate ACK
    /// counting, entering and leaving recovery, and cwnd. `dup_candidate`:
    /// the segment could be a duplicate ACK (RFC 5681 2: no data, no SYN or
    /// FIN, unchanged window).
    pub(super) fn on_ack_sender(
        &mut self,
        now: Instant,
        ack: SeqNumber,
        dup_candidate: bool,
        blocks: &[(SeqNumber, SeqNumber)],
    ) {
        let mss = self.mss().max(1);
        let prior_una = self.snd_una;
        let prior_sacked = self.sacked_bytes();
        let prior_lost = self.lost_bytes();
        let advanced = ack > self.snd_una;
        let mut acked = 0;
        self.acked_pkts = 0;
        if advanced {
            acked = self.process_ack(now, ack);
        }
        if self.sack_on() {
            self.sb.on_cumulative_ack(self.snd_una);
            self.sb.on_sack(blocks, ack, self.snd_una, self.snd_max);
        }
        if self.profile.rack && matches!(self.ca, CaState::Recovery { .. }) {
            self.rack_retransmission_delivered();
        }
        // RFC 5681 2 / 3.2: a duplicate ACK acknowledges nothing new while
        // data is outstanding.
        let dupack = !advanced && ack == prior_una && dup_candidate && self.snd_max > prior_una;
        let in_recovery = matches!(self.ca, CaState::Recovery { .. });
        if dupack {
            self.dupacks = self.dupacks.saturating_add(1);
        } else if advanced {
            if in_recovery && !self.sack_on() {
                // Linux tcp_remove_reno_sacks: the ACK filled one hole, the
                // rest of what it covers had been counted as duplicates.
                let segs = acked.div_ceil(mss);
                self.dupacks = self.dupacks.saturating_sub(segs.saturating_sub(1));
            } else {
                self.dupacks = 0;
            }
        }
        // Delivered by this ACK (Linux acked_sacked: packets newly acked
        // plus the change in sacked_out): newly acknowledged bytes, plus
        // newly SACKed ones, less SACKed ones the cumulative ACK now covers;
        // without SACK a duplicate ACK counts one segment.
        let delivered = (i64::from(acked) + i64::from(self.sacked_bytes())
            - i64::from(prior_sacked))
        .max(0) as u32;

        // Leaving recovery: SND.UNA reached the recovery point (RFC 6582
        // 3.2 step 3 full acknowledgment, RFC 6675 5 (A)). Linux
        // tcp_try_undo_recovery holds a connection without SACK in
        // recovery until something *above* it is acknowledged (RFC 6582 4.1).
        match self.ca {
            CaState::Recovery { high_seq, .. }
                if self.snd_una > high_seq || (self.snd_una == high_seq && self.sack_on()) =>
            {
                // Linux tcp_end_cwnd_reduction: cwnd = ssthresh; the same
                // ACK then grows it as any other (tcp_cong_control).
                self.cwnd = self.ssthresh;
                self.ca = CaState::Open;
                self.dupacks = 0;
            }
            CaState::Loss { high_seq } if self.snd_una >= high_seq => {
                self.ca = CaState::Open;
            }
            _ => {}
        }

        let flight = self.snd_max - self.snd_una;
        if self.ca == CaState::Open && flight > 0 {
            let thresh = self.profile.dupthresh.max(1);
            let lost = self.dupacks >= thresh
                || (self.sack_on() && self.sb.is_lost(self.snd_una, thresh, mss));
            if lost {
                self.enter_recovery();
            }
        }
        match self.ca {
            CaState::Recovery { .. } => {
                // Linux rs->losses: this ACK marked more data lost (entering
                // recovery, a partial ACK without SACK marking the new head,
                // RACK's line moving up).
                let newly_lost = self.lost_bytes() > prior_lost;
                self.prr(delivered, advanced, newly_lost);
            }
            _ => {
                if advanced && self.is_cwnd_limited() {
                    let mut w = Window {
                        cwnd: self.cwnd,
                        ssthresh: self.ssthresh,
                    };
                    // Linux tcp_slow_start / tcp_cong_avoid_ai add
                    // packets: a short segment acknowledged counts whole.
                    let grow = if self.profile.cwnd_packets {
                        (i64::from(self.acked_pkts.saturating_mul(mss))
                            + i64::from(self.sacked_bytes())
                            - i64::from(prior_sacked))
                        .max(0) as u32
                    } else {
                        delivered
                    };
                    self.cc.on_ack(&mut w, grow, mss);
                    self.cwnd = w.cwnd;
                }
            }
        }
        // Linux tcp_ack → tcp_cong_control, for an ACK that found packets
        // out (prior_packets; with none, tcp_ack leaves by no_queue). The
        // ACK that ends a passive handshake comes here too, after its RTT
        // sample, as tcp_rcv_state_process's TCP_SYN_RECV case sets the
        // rate after tcp_synack_rtt_meas.
        if self.snd_max > prior_una {
            self.update_pacing_rate();
        }
    }

    /// RFC 5681 3.2 steps 2-3 / RFC 6675 5 step 4: a loss is detected by
    /// duplicate ACKs or SACKs; ssthresh falls, the recovery point is
    /// SND.MAX, and PRR takes over the window.
    fn enter_recovery(&mut self) {
        let mss = self.mss().max(1);
        let w = Window {
            cwnd: self.cwnd,
            ssthresh: self.ssthresh,
        };
        let flight = self.snd_max - self.snd_una;
        self.ssthresh = self.cc.ssthresh_after_loss(&w, flight, mss);
        self.ca = CaState::Recovery {
            high_seq: self.snd_max,
            prior_cwnd: self.cwnd_segs(),
            prr_delivered: 0,
            prr_out: 0,
        };
        self.sb.high_rxt = self.snd_una;
        self.rack_lost_below = self.snd_una;
        self.rxt_sent = None;
        // Karn: the timed segment may be the one retransmitted.
        self.rtt_probe = None;
    }

    /// RFC 6937 PRR, as Linux tcp_cwnd_reduction computes it (in segments):
    /// while the pipe exceeds ssthresh, send in proportion to what is
    /// delivered; below it, slow-start back up to ssthresh (PRR-SSRB).
    fn prr(&mut self, delivered: u32, una_advanced: bool, newly_lost: bool) {
        let CaState::Recovery {
            high_seq,
            prior_cwnd,
            prr_delivered,
            prr_out,
        } = self.ca
        else {
            return;
        };
        if delivered == 0 {
            return;
        }
        let mss = self.mss().max(1);
        let delivered_segs = delivered.div_ceil(mss);
        let prr_delivered = prr_delivered.saturating_add(delivered_segs);
        let pipe = self.pipe().div_ceil(mss);
        let ssthresh = self.ssthresh / mss;
        let mut sndcnt: i64 = if pipe > ssthresh {
            let dividend =
                u64::from(ssthresh) * u64::from(prr_delivered) + u64::from(prior_cwnd) - 1;
            (dividend / u64::from(prior_cwnd.max(1))) as i64 - i64::from(prr_out)
        } else {
            let mut n =
                i64::from(prr_delivered.saturating_sub(prr_out)).max(i64::from(delivered_segs));
            if una_advanced && !newly_lost {
                n += 1;
            }
            n.min(i64::from(ssthresh - pipe))
        };
        // Force the fast retransmission on entering recovery.
        if prr_out == 0 {
            sndcnt = sndcnt.max(1);
        }
        let sndcnt = sndcnt.max(0) as u32;
        self.cwnd = pipe.saturating_add(sndcnt).saturating_mul(mss);
        self.ca = CaState::Recovery {
            high_seq,
            prior_cwnd,
            prr_delivered,
            prr_out,
        };
    }

    /// A segment left during recovery (retransmission or new data).
    pub(super) fn prr_sent(&mut self) {
        if let CaState::Recovery { prr_out, .. } = &mut self.ca {
            *prr_out = prr_out.saturating_add(1);
        }
    }

    /// The next retransmission fast recovery owes: RFC 6675 NextSeg() rule
    /// 1 with SACK, the segment at SND.UNA after a (partial) ACK without it
    /// (RFC 6582 3.2 steps 2 and 5).
    pub(super) fn next_retransmission(&self) -> Option<(SeqNumber, u32)> {
        let CaState::Recovery { high_seq, .. } = self.ca else {
            return None;
        };
        if self.snd_una < self.send_seq {
            return None;
        }
        let mss = self.mss().max(1);
        let (start, end) = if self.sack_on() {
            self.sb
                .next_lost(
                    self.snd_una,
                    self.rack_line(),
                    self.profile.dupthresh.max(1),
                    mss,
                )
                .or_else(|| {
                    // Duplicate ACKs without SACK information (RFC 6675 5
                    // (B)): the segment at SND.UNA.
                    (self.sb.high_rxt <= self.snd_una && self.sb.is_empty())
                        .then(|| (self.snd_una, self.snd_una + mss))
                })?
        } else if self.sb.high_rxt <= self.snd_una {
            (self.snd_una, self.snd_una + mss)
        } else {
            return None;
        };
        // Only what was outstanding when recovery began can be lost.
        let end = end.min(self.snd_max).min(high_seq);
        if end <= start {
            return None;
        }
        Some((start, (end - start).min(mss)))
    }

    /// A retransmission timeout (RFC 5681 3.1 (4), RFC 6298 5.5-5.6, Linux
    /// tcp_enter_loss): ssthresh falls once per loss episode, cwnd to one
    /// segment, and everything unacknowledged and not SACKed is sent again
    /// from SND.UNA.
    pub(super) fn enter_loss(&mut self) {
        let mss = self.mss().max(1);
        // RFC 5681 3.1: a segment retransmitted again by the RTO keeps
        // ssthresh; Linux tcp_enter_loss recomputes it only outside
        // recovery, after a finished episode, or on the first RTO.
        let first = match self.ca {
            CaState::Open => true,
            CaState::Recovery { high_seq, .. } => high_seq <= self.snd_una,
            CaState::Loss { .. } => self.retries == 0,
        };
        if first {
            let w = Window {
                cwnd: self.cwnd,
                ssthresh: self.ssthresh,
            };
            let flight = self.snd_max - self.snd_una;
            self.ssthresh = self.cc.ssthresh_after_loss(&w, flight, mss);
        }
        if self.retries > 0 {
            // A second timeout without progress: the peer may have reneged
            // on what it SACKed (RFC 2018 8: "after a retransmit timeout the
            // data sender SHOULD turn off all of the SACKed bits"; Linux
            // keeps them until tcp_check_sack_reneging sees it). Going back
            // N over the whole flight cannot stall on a reneging peer.
            self.sb.clear();
        }
        self.cwnd = mss;
        self.ca = CaState::Loss {
            high_seq: self.snd_max,
        };
        self.dupacks = 0;
        self.sb.high_rxt = self.snd_una;
    }

    /// ICMP fragmentation needed (RFC 1191; RFC 1122 4.2.3.9: TCP MUST act
    /// on it) quoting one of our segments: the path MTU fell to `mtu`. As
    /// Linux tcp_v4_mtu_reduced: an MTU under 552 counts as 552
    /// (net.ipv4.route.min_pmtu); one not below the current path MTU is
    /// ignored; otherwise the effective MSS follows at once and everything
    /// in flight is sent again in the smaller segments (tcp_simple_retransmit:
    /// the Loss state with ssthresh kept at 3/4 of cwnd and cwnd unchanged in
    /// segments, since no more data is in flight, only in smaller units).
    pub fn path_mtu_reduced(&mut self, mtu: u32) {
        if !self.state.is_synchronized() {
            return;
        }
        let mtu = mtu.max(552);
        let current = self.pmtu.unwrap_or(self.profile.mtu as u32);
        if mtu >= current {
            return;
        }
        let old_mss = self.mss().max(1);
        self.pmtu = Some(mtu);
        let new_mss = self.mss().max(1);
        // Linux counts cwnd and ssthresh in segments: keep the counts.
        let segs = |b: u32| {
            if b == u32::MAX {
                u32::MAX
            } else {
                (b / old_mss).max(1).saturating_mul(new_mss)
            }
        };
        self.cwnd = segs(self.cwnd);
        self.ssthresh = segs(self.ssthresh);
        if self.snd_max == self.snd_una || new_mss >= old_mss {
            return;
        }
        if !matches!(self.ca, CaState::Loss { .. }) {
            // tcp_current_ssthresh: max(ssthresh, 3/4 cwnd).
            self.ssthresh = self
                .ssthresh
                .max((self.cwnd >> 1).saturating_add(self.cwnd >> 2));
            self.ca = CaState::Loss {
                high_seq: self.snd_max,
            };
        }
        self.sb.high_rxt = self.snd_una;
        self.snd_nxt = self.snd_una;
        self.rtt_probe = None;
    }
}
