//! One-shot timers: a deadline that may be armed, re-armed or stopped.

use crate::time::{Duration, Instant};

/// A one-shot timer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timer {
    deadline: Option<Instant>,
}

impl Timer {
    /// Arm (or re-arm) to fire at `now + after`.
    pub fn set(&mut self, now: Instant, after: Duration) {
        self.deadline = Some(now + after);
    }
    /// Arm only if not already armed.
    pub fn set_if_idle(&mut self, now: Instant, after: Duration) {
        if self.deadline.is_none() {
            self.set(now, after);
        }
    }
    /// Disarm.
    pub fn stop(&mut self) {
        self.deadline = None;
    }
    /// The deadline, if armed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
    /// Whether armed.
    pub fn is_armed(&self) -> bool {
        self.deadline.is_some()
    }
    /// If expired at `now`, disarm and return true.
    pub fn poll_expired(&mut self, now: Instant) -> bool {
        match self.deadline {
            Some(d) if d <= now => {
                self.deadline = None;
                true
            }
            _ => false,
        }
    }
}

/// The earliest of optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
