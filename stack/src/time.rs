//! The stack's own notion of time. The core never reads a clock: every entry
//! point takes an [`Instant`] given by the caller (virtual time in tests, wall
//! time mapped by a device driver in production).

use core::ops::{Add, AddAssign, Sub};

/// A point in time, in microseconds since an arbitrary epoch chosen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    micros: i64,
}

impl Instant {
    /// The epoch.
    pub const ZERO: Instant = Instant { micros: 0 };

    /// An instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: i64) -> Instant {
        Instant { micros }
    }
    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: i64) -> Instant {
        Instant {
            micros: millis.saturating_mul(1000),
        }
    }
    /// An instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Instant {
        Instant {
            micros: secs.saturating_mul(1_000_000),
        }
    }
    /// Microseconds since the epoch.
    pub const fn total_micros(self) -> i64 {
        self.micros
    }
    /// Milliseconds since the epoch (rounded towards negative infinity).
    pub const fn total_millis(self) -> i64 {
        self.micros.div_euclid(1000)
    }
}

/// A span of time in microseconds (never negative when produced by the stack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    micros: i64,
}

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration { micros: 0 };
    /// `micros` microseconds.
    pub const fn from_micros(micros: i64) -> Duration {
        Duration { micros }
    }
    /// `millis` milliseconds.
    pub const fn from_millis(millis: i64) -> Duration {
        Duration {
            micros: millis.saturating_mul(1000),
        }
    }
    /// `secs` seconds.
    pub const fn from_secs(secs: i64) -> Duration {
        Duration {
            micros: secs.saturating_mul(1_000_000),
        }
    }
    /// Length in microseconds.
    pub const fn total_micros(self) -> i64 {
        self.micros
    }
    /// Length in milliseconds (truncated).
    pub const fn total_millis(self) -> i64 {
        self.micros / 1000
    }
    /// `self * k`, saturating.
    pub const fn saturating_mul(self, k: i64) -> Duration {
        Duration {
            micros: self.micros.saturating_mul(k),
        }
    }
    /// The smaller of two durations.
    pub fn min(self, other: Duration) -> Duration {
        if self <= other {
            self
        } else {
            other
        }
    }
    /// The larger of two durations.
    pub fn max(self, other: Duration) -> Duration {
        if self >= other {
            self
        } else {
            other
        }
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant {
            micros: self.micros.saturating_add(d.micros),
        }
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant {
            micros: self.micros.saturating_sub(d.micros),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, o: Instant) -> Duration {
        Duration {
            micros: self.micros.saturating_sub(o.micros),
        }
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, o: Duration) -> Duration {
        Duration {
            micros: self.micros.saturating_add(o.micros),
        }
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, o: Duration) -> Duration {
        Duration {
            micros: self.micros.saturating_sub(o.micros),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_micros(i64::MAX) + Duration::from_secs(1);
        assert_eq!(t.total_micros(), i64::MAX);
        assert_eq!(
            Instant::from_millis(1500) - Instant::from_secs(1),
            Duration::from_millis(500)
        );
        assert_eq!(Instant::from_micros(-1).total_millis(), -1);
    }
}
