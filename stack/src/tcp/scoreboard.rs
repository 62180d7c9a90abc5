//! The sender's SACK scoreboard (RFC 6675 2, 4): which sequence ranges above
//! SND.UNA the peer has selectively acknowledged, and the retransmission
//! pointer HighRxt.
//!
//! The scoreboard holds at most [`MAX_RANGES`] disjoint ranges whatever the
//! peer sends: a block outside SND.UNA..SND.MAX is ignored, overlapping
//! blocks merge, and when a new range would exceed the bound the highest one
//! is forgotten. Forgetting SACK information is always safe (RFC 2018 8: the
//! sender must be ready to retransmit SACKed data; RFC 6675 5.1 on
//! reneging), it costs at most a needless retransmission.

use super::seq::SeqNumber;

/// Bound on the ranges kept. A peer can report at most 4 blocks per ACK,
/// but blocks accumulate across ACKs; Linux keeps per-skb flags (bounded by
/// its send queue). 32 disjoint holes is more than a sane path produces in
/// one window.
pub const MAX_RANGES: usize = 32;

/// What one SACK option did to the scoreboard.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SackUpdate {
    /// Bytes newly marked SACKed.
    pub newly_sacked: u32,
    /// The first block reported a duplicate (RFC 2883 4: below the
    /// cumulative ACK, or inside the second block).
    pub dsack: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Scoreboard {
    /// Disjoint, sorted, non-adjacent ranges `[start, end)` above SND.UNA.
    ranges: Vec<(SeqNumber, SeqNumber)>,
    /// RFC 6675 HighRxt: the highest sequence number retransmitted in the
    /// current recovery (exclusive end).
    pub high_rxt: SeqNumber,
    /// D-SACKs seen (RFC 2883), for statistics and future undo logic.
    pub dsacks: u64,
}

impl Scoreboard {
    /// Forget everything (RFC 6675 5.1: after an RTO the scoreboard may be
    /// kept; callers clear it on reneging).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// The ranges, lowest first.
    pub fn ranges(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Total SACKed bytes.
    pub fn sacked_bytes(&self) -> u32 {
        self.ranges.iter().map(|&(l, r)| r - l).sum()
    }

    /// The highest SACKed sequence number (exclusive end), if any.
    pub fn high_sacked(&self) -> Option<SeqNumber> {
        self.ranges.last().map(|r| r.1)
    }

    /// Whether `seq` is SACKed.
    pub fn is_sacked(&self, seq: SeqNumber) -> bool {
        self.ranges.iter().any(|&(l, r)| seq.in_range(l, r))
    }

    /// The end of the SACKed range containing `seq`, if any.
    pub fn sacked_until(&self, seq: SeqNumber) -> Option<SeqNumber> {
        self.ranges
            .iter()
            .find(|&&(l, r)| seq.in_range(l, r))
            .map(|r| r.1)
    }

    /// The start of the first SACKed range above `seq`, if any.
    pub fn next_sacked_start(&self, seq: SeqNumber) -> Option<SeqNumber> {
        self.ranges.iter().map(|r| r.0).find(|&l| l > seq)
    }

    /// SACKed bytes below `limit`.
    pub fn sacked_below(&self, limit: SeqNumber) -> u32 {
        self.ranges
            .iter()
            .take_while(|r| r.0 < limit)
            .map(|&(l, r)| r.min(limit) - l)
            .sum()
    }

    /// A cumulative ACK: drop what it covers.
    pub fn on_cumulative_ack(&mut self, una: SeqNumber) {
        self.ranges.retain_mut(|(l, r)| {
            if *r <= una {
                return false;
            }
            if *l < una {
                *l = una;
            }
            true
        });
        if self.high_rxt < una {
            self.high_rxt = una;
        }
    }

    /// Apply the SACK blocks of one ACK (RFC 2018 3, RFC 6675 4 "update the
    /// scoreboard"). `una` is SND.UNA after the cumulative ACK of the same
    /// segment, `max` SND.MAX. Blocks that are empty, inverted, or outside
    /// `una..=max` are ignored; a block that straddles SND.UNA is clipped.
    pub fn on_sack(
        &mut self,
        blocks: &[(SeqNumber, SeqNumber)],
        ack: SeqNumber,
        una: SeqNumber,
        max: SeqNumber,
    ) -> SackUpdate {
        let mut up = SackUpdate::default();
        for (i, &(l, r)) in blocks.iter().enumerate() {
            if r <= l {
                continue;
            }
            // RFC 2883 4: the first block is a D-SACK if it lies below the
            // cumulative ACK or within the second block. Linux
            // tcp_check_dsack takes one that merely starts below the ACK
            // for a D-SACK too, and tcp_is_sackblock_valid then ignores it
            // unless it lies wholly below SND.UNA: none of it is SACKed
            // (`oracle fuzz`, closed-finin.seg-FA.rexmit-seq of seed
            // 450000: ack 1585 with block 1560:1929; Linux retransmitted
            // from 1585, the stack from 1929).
            if i == 0 {
                let below = l < ack;
                let inside = blocks.get(1).is_some_and(|&(l2, r2)| l2 <= l && r <= r2);
                if below || inside {
                    up.dsack = true;
                    self.dsacks = self.dsacks.saturating_add(1);
                    continue;
                }
            }
            // RFC 2018 / RFC 5961 spirit: ignore what was never sent.
            if r > max || r <= una {
                continue;
            }
            let l = l.max(una);
            up.newly_sacked = up.newly_sacked.saturating_add(self.insert(l, r));
        }
        up
    }

    /// Insert `[l, r)`, merging; returns the bytes newly covered.
    fn insert(&mut self, mut l: SeqNumber, mut r: SeqNumber) -> u32 {
        let before = self.sacked_bytes();
        // Merge every range that overlaps or touches [l, r).
        let mut i = 0;
        while i < self.ranges.len() {
            let (a, b) = self.ranges[i];
            if b >= l && a <= r {
                l = l.min(a);
                r = r.max(b);
                self.ranges.remove(i);
            } else {
                i += 1;
            }
        }
        let pos = self.ranges.iter().position(|&(a, _)| a > l);
        match pos {
            Some(p) => self.ranges.insert(p, (l, r)),
            None => self.ranges.push((l, r)),
        }
        if self.ranges.len() > MAX_RANGES {
            // Forget the highest range: its data will be retransmitted if
            // it has to be, which is safe.
            self.ranges.pop();
        }
        self.sacked_bytes().saturating_sub(before)
    }

    /// RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above
    /// `seq`, or more than (DupThresh − 1) · SMSS SACKed bytes above it.
    pub fn is_lost(&self, seq: SeqNumber, dupthresh: u32, mss: u32) -> bool {
        let mut ranges = 0u32;
        let mut bytes = 0u32;
        for &(l, r) in self.ranges.iter().rev() {
            if r <= seq {
                break;
            }
            ranges += 1;
            bytes = bytes.saturating_add(r - l.max(seq));
        }
        ranges >= dupthresh || bytes > dupthresh.saturating_sub(1).saturating_mul(mss)
    }

    /// The holes (unSACKed ranges) in `[from, max(high_sacked, line))`,
    /// lowest first.
    pub fn holes(
        &self,
        from: SeqNumber,
        line: SeqNumber,
    ) -> impl Iterator<Item = (SeqNumber, SeqNumber)> + '_ {
        let mut cur = from;
        let tail_end = self.high_sacked().map_or(line, |h| h.max(line));
        self.ranges
            .iter()
            .map(|&(l, r)| (l, r))
            .chain(core::iter::once((tail_end, tail_end)))
            .filter_map(move |(l, r)| {
                let hole = (cur < l).then_some((cur, l));
                if r > cur {
                    cur = r;
                }
                hole
            })
    }

    /// Whether the hole starting at `seq` is lost: below `line` (RACK's
    /// verdict, see [`Tcb`](super::Tcb)), or by [`Scoreboard::is_lost`].
    fn hole_lost(&self, seq: SeqNumber, line: SeqNumber, dupthresh: u32, mss: u32) -> bool {
        seq < line || self.is_lost(seq, dupthresh, mss)
    }

    /// Bytes at or above max(SND.UNA, HighRxt) that are neither SACKed nor
    /// retransmitted and are lost: RFC 6675's lost-but-not-retransmitted
    /// part of the pipe. `line`: everything unSACKed below it is lost too.
    pub fn lost_unretransmitted(
        &self,
        una: SeqNumber,
        line: SeqNumber,
        dupthresh: u32,
        mss: u32,
    ) -> u32 {
        let from = una.max(self.high_rxt);
        self.holes(from, line)
            .map(|(l, r)| {
                if self.is_lost(l, dupthresh, mss) {
                    r - l
                } else if l < line {
                    r.min(line) - l
                } else {
                    0
                }
            })
            .sum()
    }

    /// RFC 6675 NextSeg() rule 1: the first lost, unSACKed, not yet
    /// retransmitted range at or above HighRxt, at most `mss` long.
    pub fn next_lost(
        &self,
        una: SeqNumber,
        line: SeqNumber,
        dupthresh: u32,
        mss: u32,
    ) -> Option<(SeqNumber, SeqNumber)> {
        let from = una.max(self.high_rxt);
        self.holes(from, line)
            .find(|&(l, _)| self.hole_lost(l, line, dupthresh, mss))
            .map(|(l, r)| (l, r.min(l + mss)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    #[test]
    fn merges_and_counts() {
        let mut sb = Scoreboard::default();
        let up = sb.on_sack(&[(s(200), s(300))], s(100), s(100), s(1000));
        assert_eq!(up.newly_sacked, 100);
        let up = sb.on_sack(
            &[(s(250), s(400)), (s(500), s(600))],
            s(100),
            s(100),
            s(1000),
        );
        assert_eq!(up.newly_sacked, 200);
        assert_eq!(sb.ranges(), &[(s(200), s(400)), (s(500), s(600))]);
        assert_eq!(sb.sacked_bytes(), 300);
        // Adjacent ranges merge.
        sb.on_sack(&[(s(400), s(500))], s(100), s(100), s(1000));
        assert_eq!(sb.ranges(), &[(s(200), s(600))]);
    }

    #[test]
    fn lying_blocks_are_ignored() {
        let mut sb = Scoreboard::default();
        // Beyond SND.MAX, inverted, empty, wholly below SND.UNA.
        for b in [
            (s(900), s(1100)),
            (s(300), s(200)),
            (s(300), s(300)),
            (s(10), s(50)),
        ] {
            let up = sb.on_sack(&[(s(0), s(0)), b], s(100), s(100), s(1000));
            assert_eq!(up.newly_sacked, 0, "{b:?}");
        }
        assert!(sb.is_empty());
        // Straddling SND.UNA: clipped.
        sb.on_sack(&[(s(50), s(150))], s(40), s(100), s(1000));
        assert_eq!(sb.ranges(), &[(s(100), s(150))]);
    }

    #[test]
    fn dsack_recognized() {
        let mut sb = Scoreboard::default();
        // Below the cumulative ACK.
        let up = sb.on_sack(&[(s(50), s(100))], s(100), s(100), s(1000));
        assert!(up.dsack);
        assert_eq!(up.newly_sacked, 0);
        // Inside the second block.
        let up = sb.on_sack(
            &[(s(300), s(400)), (s(200), s(500))],
            s(100),
            s(100),
            s(1000),
        );
        assert!(up.dsack);
        assert_eq!(sb.ranges(), &[(s(200), s(500))]);
        assert_eq!(sb.dsacks, 2);
    }

    #[test]
    fn bounded_whatever_the_peer_sends() {
        let mut sb = Scoreboard::default();
        for i in 0..1000u32 {
            let l = 1000 + i * 20;
            sb.on_sack(&[(s(l), s(l + 10))], s(0), s(0), s(100_000));
            assert!(sb.ranges().len() <= MAX_RANGES);
        }
        // The lowest ranges are kept.
        assert_eq!(sb.ranges()[0], (s(1000), s(1010)));
    }

    #[test]
    fn cumulative_ack_trims() {
        let mut sb = Scoreboard::default();
        sb.on_sack(
            &[(s(200), s(300)), (s(400), s(500))],
            s(100),
            s(100),
            s(1000),
        );
        sb.on_cumulative_ack(s(250));
        assert_eq!(sb.ranges(), &[(s(250), s(300)), (s(400), s(500))]);
        sb.on_cumulative_ack(s(450));
        assert_eq!(sb.ranges(), &[(s(450), s(500))]);
        sb.on_cumulative_ack(s(600));
        assert!(sb.is_empty());
    }

    #[test]
    fn is_lost_by_dupthresh() {
        let mut sb = Scoreboard::default();
        let mss = 100;
        // Hole 100..200, then two SACKed segments: not lost yet.
        sb.on_sack(&[(s(200), s(400))], s(100), s(100), s(1000));
        assert!(!sb.is_lost(s(100), 3, mss));
        assert_eq!(sb.next_lost(s(100), s(100), 3, mss), None);
        // Unless a line (RACK) says everything below it is lost.
        assert_eq!(sb.next_lost(s(100), s(150), 3, mss), Some((s(100), s(200))));
        // Third SACKed segment: lost.
        sb.on_sack(&[(s(200), s(500))], s(100), s(100), s(1000));
        assert!(sb.is_lost(s(100), 3, mss));
        assert_eq!(sb.next_lost(s(100), s(100), 3, mss), Some((s(100), s(200))));
        assert_eq!(sb.lost_unretransmitted(s(100), s(100), 3, mss), 100);
        sb.high_rxt = s(200);
        assert_eq!(sb.next_lost(s(100), s(100), 3, mss), None);
        assert_eq!(sb.lost_unretransmitted(s(100), s(100), 3, mss), 0);
        // A line above the SACKed data: the tail beyond is a hole too.
        assert_eq!(sb.next_lost(s(100), s(700), 3, mss), Some((s(500), s(600))));
        assert_eq!(sb.lost_unretransmitted(s(100), s(700), 3, mss), 200);
    }

    #[test]
    fn holes_and_wrap() {
        let mut sb = Scoreboard::default();
        let base = u32::MAX - 150;
        sb.on_sack(
            &[(s(base.wrapping_add(100)), s(base.wrapping_add(200)))],
            s(base),
            s(base),
            s(base.wrapping_add(1000)),
        );
        let holes: Vec<_> = sb.holes(s(base), s(base)).collect();
        assert_eq!(holes, vec![(s(base), s(base.wrapping_add(100)))]);
    }
}
