//! The receive buffer: in-order bytes waiting for the application, plus a
//! bounded set of out-of-order segments (RFC 9293 3.10.7.4 seventh step:
//! segments beyond RCV.NXT but in the window are held for later).

use super::seq::SeqNumber;
use std::collections::VecDeque;

/// In-order data and out-of-order reassembly, both bounded.
#[derive(Debug, Clone)]
pub struct RecvBuffer {
    ready: VecDeque<u8>,
    /// Out-of-order segments, sorted by sequence number, non-overlapping starts.
    ooo: Vec<(SeqNumber, Vec<u8>)>,
    capacity: usize,
    max_ooo: usize,
}

impl RecvBuffer {
    /// A buffer storing at most `capacity` bytes and `max_ooo` out-of-order segments.
    pub fn new(capacity: usize, max_ooo: usize) -> RecvBuffer {
        RecvBuffer {
            ready: VecDeque::new(),
            ooo: Vec::new(),
            capacity,
            max_ooo,
        }
    }

    /// Bytes readable by the application.
    pub fn readable(&self) -> usize {
        self.ready.len()
    }

    /// Room for in-order data.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.ready.len())
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of out-of-order segments held.
    pub fn ooo_segments(&self) -> usize {
        self.ooo.len()
    }

    /// Copy readable bytes into `buf`, removing them.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.ready.len());
        for (d, s) in buf.iter_mut().zip(self.ready.drain(..n)) {
            *d = s;
        }
        n
    }

    /// Accept `data` starting at `seq`, where `rcv_nxt` is the next expected
    /// byte. The caller has trimmed the data to the receive window, so
    /// `seq >= rcv_nxt`. Returns how far RCV.NXT advances.
    pub fn insert(&mut self, rcv_nxt: SeqNumber, seq: SeqNumber, data: &[u8]) -> u32 {
        if data.is_empty() {
            return 0;
        }
        if seq != rcv_nxt {
            if seq > rcv_nxt && self.ooo.len() < self.max_ooo {
                match self.ooo.binary_search_by(|(s, _)| s.cmp(&seq)) {
                    Ok(i) => {
                        if self.ooo[i].1.len() < data.len() {
                            self.ooo[i].1 = data.to_vec();
                        }
                    }
                    Err(i) => self.ooo.insert(i, (seq, data.to_vec())),
                }
            }
            return 0;
        }
        let take = data.len().min(self.free());
        self.ready.extend(&data[..take]);
        let mut next = rcv_nxt + take as u32;
        // Pull in out-of-order segments that are now contiguous.
        while let Some((s, _)) = self.ooo.first() {
            let s = *s;
            if s > next {
                break;
            }
            let (s, seg) = self.ooo.remove(0);
            let skip = (next - s) as usize;
            if skip < seg.len() {
                let rest = &seg[skip..];
                let take = rest.len().min(self.free());
                self.ready.extend(&rest[..take]);
                next = next + take as u32;
            }
        }
        next - rcv_nxt
    }

    /// The out-of-order data as merged `[left, right)` ranges (RFC 2018 SACK
    /// blocks), ordered by `recent`, the starts of the latest out-of-order
    /// arrivals, most recent first: each range in the order of the first
    /// of them it holds, then the ranges none falls in, in sequence order.
    /// `fins`, the sequence numbers of FINs held out of order (ascending),
    /// are merged in as ranges `[fin, fin + 1)` (see `Tcb::sack_blocks`).
    pub fn sack_blocks(
        &self,
        recent: impl IntoIterator<Item = SeqNumber>,
        fins: impl IntoIterator<Item = SeqNumber>,
    ) -> Vec<(SeqNumber, SeqNumber)> {
        let mut blocks: Vec<(SeqNumber, SeqNumber)> = Vec::new();
        for (s, e) in self.ooo_and_fin_ranges(fins) {
            match blocks.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => blocks.push((s, e)),
            }
        }
        let mut placed = 0;
        for r in recent {
            if let Some(i) = blocks[placed..]
                .iter()
                .position(|(l, h)| r.in_range(*l, *h))
            {
                let b = blocks.remove(placed + i);
                blocks.insert(placed, b);
                placed += 1;
            }
        }
        blocks
    }

    /// How many blocks [`sack_blocks`](Self::sack_blocks) returns, without
    /// building them (the segment size depends on it: `Tcb::data_mss`,
    /// called for every segment sent).
    pub fn sack_block_count(&self, fins: impl IntoIterator<Item = SeqNumber>) -> usize {
        let mut n = 0;
        let mut end: Option<SeqNumber> = None;
        for (s, e) in self.ooo_and_fin_ranges(fins) {
            match end {
                Some(last) if s <= last => end = Some(last.max(e)),
                _ => {
                    n += 1;
                    end = Some(e);
                }
            }
        }
        n
    }

    /// The out-of-order segments' ranges and the FINs held out of order
    /// (`fins`, ascending) as ranges `[fin, fin + 1)`, in sequence order
    /// (a FIN before a range only when it starts strictly before it), not
    /// merged; without allocating.
    pub fn ooo_and_fin_ranges<'a>(
        &'a self,
        fins: impl IntoIterator<Item = SeqNumber> + 'a,
    ) -> impl Iterator<Item = (SeqNumber, SeqNumber)> + 'a {
        let mut fins = fins.into_iter().map(|f| (f, f + 1)).peekable();
        let mut ranges = self.ooo_ranges().peekable();
        core::iter::from_fn(move || match (fins.peek(), ranges.peek()) {
            (Some(f), Some(r)) if f.0 < r.0 => fins.next(),
            (_, Some(_)) => ranges.next(),
            _ => fins.next(),
        })
    }

    /// The out-of-order segments as held, `[start, end)`, by start.
    pub fn ooo_ranges(&self) -> impl Iterator<Item = (SeqNumber, SeqNumber)> + '_ {
        self.ooo.iter().map(|(s, d)| (*s, *s + d.len() as u32))
    }

    /// Drop up to `n` readable bytes without copying them (the urgent byte
    /// Linux takes out of the stream); returns how many were dropped.
    pub fn skip(&mut self, n: usize) -> usize {
        let n = n.min(self.ready.len());
        self.ready.drain(..n);
        n
    }

    /// Drop out-of-order data (e.g. on reset).
    pub fn clear_ooo(&mut self) {
        self.ooo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_fin_joins_the_blocks() {
        let n = SeqNumber(1000);
        let mut b = RecvBuffer::new(100, 4);
        // A FIN alone: one block of one sequence number.
        assert_eq!(b.sack_blocks(None, Some(n + 20)), [(n + 20, n + 21)]);
        b.insert(n, n + 10, b"0123456789");
        b.insert(n, n + 21, b"x");
        // Ending the data, and bridging to the next block: one block.
        assert_eq!(b.sack_blocks(None, Some(n + 20)), [(n + 10, n + 22)]);
        // Before all, apart: its own block, first in sequence order.
        assert_eq!(
            b.sack_blocks(None, Some(n + 5)),
            [(n + 5, n + 6), (n + 10, n + 20), (n + 21, n + 22)]
        );
        // After all, the most recent first.
        assert_eq!(
            b.sack_blocks(Some(n + 30), Some(n + 30)),
            [(n + 30, n + 31), (n + 10, n + 20), (n + 21, n + 22)]
        );
    }

    #[test]
    fn blocks_follow_the_recent_arrivals_then_sequence_order() {
        let n = SeqNumber(1000);
        let mut b = RecvBuffer::new(100, 4);
        b.insert(n, n + 10, b"a");
        b.insert(n, n + 30, b"b");
        b.insert(n, n + 20, b"c");
        b.insert(n, n + 40, b"d");
        let (a, bb, c, d) = (
            (n + 10, n + 11),
            (n + 30, n + 31),
            (n + 20, n + 21),
            (n + 40, n + 41),
        );
        // Each block in the order of the first recent arrival it holds; an
        // arrival in a block already placed and one in no block are
        // skipped; the blocks no arrival falls in follow in sequence order.
        assert_eq!(
            b.sack_blocks([n + 20, n + 30, n + 20, n + 50], None),
            [c, bb, a, d]
        );
        assert_eq!(b.sack_blocks([n + 40, n + 10], None), [d, a, c, bb]);
    }

    #[test]
    fn several_out_of_order_fins_join_the_blocks() {
        let n = SeqNumber(1000);
        let mut b = RecvBuffer::new(100, 4);
        b.insert(n, n + 2, b"x");
        // A FIN after data [2, 3) and another one octet on: one block, as
        // Linux's adjacent out-of-order skbs (finin.seg-FPA.opts).
        assert_eq!(b.sack_blocks(None, [n + 3, n + 4]), [(n + 2, n + 5)]);
        // Apart, each its own block, in sequence order.
        assert_eq!(
            b.sack_blocks(None, [n + 1, n + 9]),
            [(n + 1, n + 3), (n + 9, n + 10)]
        );
    }

    #[test]
    fn sack_block_count_is_the_number_of_blocks() {
        let n = SeqNumber(1000);
        // A fixed pseudo-random walk of out-of-order inserts, each state
        // checked against several sets of held FINs.
        let mut x = 12345u32;
        let mut step = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) % 64
        };
        let mut b = RecvBuffer::new(1000, 16);
        for _ in 0..200 {
            let at = step() + 1;
            let len = (step() % 7 + 1) as usize;
            b.insert(n, n + at, &[b'x'; 8][..len]);
            for fins in [vec![], vec![n + step()], vec![n + 3, n + 4, n + step() + 4]] {
                let mut fins = fins;
                fins.sort();
                fins.dedup();
                let want = b.sack_blocks(None, fins.iter().copied()).len();
                assert_eq!(b.sack_block_count(fins.iter().copied()), want, "{fins:?}");
            }
        }
    }

    #[test]
    fn reassembles() {
        let mut b = RecvBuffer::new(100, 4);
        let n = SeqNumber(1000);
        assert_eq!(b.insert(n, n + 3, b"def"), 0);
        assert_eq!(b.insert(n, n + 1, b"bcd"), 0);
        assert_eq!(b.insert(n, n, b"a"), 6);
        let mut out = [0u8; 10];
        assert_eq!(b.read(&mut out), 6);
        assert_eq!(&out[..6], b"abcdef");
    }

    #[test]
    fn bounded_ooo() {
        let mut b = RecvBuffer::new(100, 2);
        let n = SeqNumber(0);
        b.insert(n, n + 10, b"x");
        b.insert(n, n + 20, b"y");
        b.insert(n, n + 30, b"z");
        assert_eq!(b.ooo_segments(), 2);
        let mut small = RecvBuffer::new(3, 2);
        assert_eq!(small.insert(n, n, b"abcdef"), 3);
    }
}
