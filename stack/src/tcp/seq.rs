//! TCP sequence numbers: 32-bit values compared modulo 2^32
//! (RFC 9293 3.4: "it is essential to remember that the actual sequence
//! number space is finite ... all arithmetic dealing with sequence numbers
//! must be performed modulo 2**32").

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Sub};

/// A TCP sequence number. Ordering is the RFC 1982-style serial comparison:
/// `a < b` iff `(b - a) mod 2^32` is in `1..2^31`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The raw value.
    pub const fn get(self) -> u32 {
        self.0
    }
    /// Signed distance `self - other` (meaningful when within 2^31).
    pub const fn diff(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    /// `self + n` modulo 2^32.
    pub const fn add_usize(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
    /// Whether `lo <= self < hi` in sequence space.
    pub fn in_range(self, lo: SeqNumber, hi: SeqNumber) -> bool {
        lo <= self && self < hi
    }
    /// The larger of the two in sequence space.
    pub fn max(self, o: SeqNumber) -> SeqNumber {
        if self >= o {
            self
        } else {
            o
        }
    }
    /// The smaller of the two in sequence space.
    pub fn min(self, o: SeqNumber) -> SeqNumber {
        if self <= o {
            self
        } else {
            o
        }
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SeqNumber {
    /// Not a total order over all of u32 (no order is); consistent for any
    /// two numbers less than 2^31 apart, which is all TCP ever compares.
    fn cmp(&self, other: &SeqNumber) -> Ordering {
        self.diff(*other).cmp(&0)
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n))
    }
}

impl Sub for SeqNumber {
    type Output = u32;
    /// Distance `self - other` modulo 2^32 (callers ensure `other <= self`).
    fn sub(self, other: SeqNumber) -> u32 {
        self.0.wrapping_sub(other.0)
    }
}

impl fmt::Debug for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps() {
        let a = SeqNumber(u32::MAX - 1);
        let b = a + 5;
        assert_eq!(b.0, 3);
        assert!(a < b);
        assert_eq!(b - a, 5);
        assert!(b.in_range(a, b + 1));
    }

    proptest! {
        #[test]
        fn order_is_antisymmetric(a: u32, d in 1u32..0x8000_0000) {
            let x = SeqNumber(a);
            let y = x + d;
            prop_assert!(x < y);
            prop_assert!(y > x);
            prop_assert_eq!(y - x, d);
            prop_assert_eq!(y.diff(x), d as i32);
        }

        #[test]
        fn add_sub_roundtrip(a: u32, d: u32) {
            let x = SeqNumber(a);
            prop_assert_eq!((x + d) - d, x);
            prop_assert_eq!((x + d) - x, d);
        }

        #[test]
        fn in_range_matches_offsets(a: u32, off in 0u32..1000, len in 0u32..1000) {
            let lo = SeqNumber(a);
            prop_assert_eq!((lo + off).in_range(lo, lo + len), off < len);
        }
    }
}
