use crate::iface::Host;
use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// One end of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first endpoint.
    A,
    /// The second endpoint.
    B,
}

impl End {
    fn idx(self) -> usize {
        match self {
            End::A => 0,
            End::B => 1,
        }
    }
}

/// Impairments of a [`Link`]. Probabilities are in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkConfig {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by an extra `delay` (reordering).
    pub reorder: f64,
    /// One-way delay.
    pub delay: Duration,
}

/// A point-to-point in-memory link with virtual time.
#[derive(Debug, Clone)]
pub struct Link {
    cfg: LinkConfig,
    rng: Rng,
    /// Frames in flight towards each end: (delivery time, order, bytes).
    queues: [Vec<(Instant, u64, Vec<u8>)>; 2],
    counter: u64,
}

impl Default for Link {
    fn default() -> Link {
        Link::new(LinkConfig::default(), 0)
    }
}

impl Link {
    /// A link with the given impairments; `seed` drives them.
    pub fn new(cfg: LinkConfig, seed: u64) -> Link {
        Link {
            cfg,
            rng: Rng::new(seed),
            queues: [Vec::new(), Vec::new()],
            counter: 0,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// Put a frame on the wire from `from` at `now`.
    pub fn send(&mut self, now: Instant, from: End, frame: Vec<u8>) {
        if self.chance(self.cfg.loss) {
            return;
        }
        let to = 1 - from.idx();
        let mut at = now + self.cfg.delay;
        if self.chance(self.cfg.reorder) {
            at += self.cfg.delay.max(Duration::from_micros(1));
        }
        if self.chance(self.cfg.duplicate) {
            self.counter += 1;
            self.queues[to].push((at, self.counter, frame.clone()));
        }
        self.counter += 1;
        self.queues[to].push((at, self.counter, frame));
    }

    /// The next frame deliverable to `at` by `now`, in delivery order.
    pub fn recv(&mut self, now: Instant, at: End) -> Option<Vec<u8>> {
        let q = &mut self.queues[at.idx()];
        let best = q
            .iter()
            .enumerate()
            .filter(|(_, (t, _, _))| *t <= now)
            .min_by_key(|(_, (t, n, _))| (*t, *n))
            .map(|(i, _)| i)?;
        Some(q.remove(best).2)
    }

    /// The earliest pending delivery time.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queues.iter().flatten().map(|(t, _, _)| *t).min()
    }

    /// Move frames between two hosts at `now` until nothing more can move
    /// (everything each host transmits, and every frame due). Returns the
    /// frames put on the wire, as (sender, bytes), in order.
    pub fn exchange(&mut self, now: Instant, a: &mut Host, b: &mut Host) -> Vec<(End, Vec<u8>)> {
        let mut log = Vec::new();
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(f) = a.transmit(now) {
                log.push((End::A, f.clone()));
                self.send(now, End::A, f);
                moved = true;
            }
            while let Some(f) = b.transmit(now) {
                log.push((End::B, f.clone()));
                self.send(now, End::B, f);
                moved = true;
            }
            while let Some(f) = self.recv(now, End::A) {
                a.receive(now, &f);
                moved = true;
            }
            while let Some(f) = self.recv(now, End::B) {
                b.receive(now, &f);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_lossy() {
        let mut l = Link::default();
        l.send(Instant::ZERO, End::A, vec![1]);
        assert_eq!(l.recv(Instant::ZERO, End::A), None);
        assert_eq!(l.recv(Instant::ZERO, End::B), Some(vec![1]));
        let mut lossy = Link::new(
            LinkConfig {
                loss: 1.0,
                ..LinkConfig::default()
            },
            1,
        );
        lossy.send(Instant::ZERO, End::A, vec![1]);
        assert_eq!(lossy.next_delivery(), None);
        let mut slow = Link::new(
            LinkConfig {
                delay: Duration::from_millis(5),
                duplicate: 1.0,
                ..LinkConfig::default()
            },
            1,
        );
        slow.send(Instant::ZERO, End::B, vec![2]);
        assert_eq!(slow.recv(Instant::ZERO, End::A), None);
        assert_eq!(slow.next_delivery(), Some(Instant::from_millis(5)));
        assert_eq!(slow.recv(Instant::from_millis(5), End::A), Some(vec![2]));
        assert_eq!(slow.recv(Instant::from_millis(5), End::A), Some(vec![2]));
    }
}
