//! TCP sequence numbers: 32-bit, compared modulo 2^32 (RFC 9293 §3.4).

use core::cmp::Ordering;
use core::ops::{Add, AddAssign, Sub};

/// A 32-bit sequence number. Ordering is circular: `a < b` when `b - a`, as a
/// signed 32-bit difference, is positive. It is meaningful only between
/// numbers less than 2^31 apart, which the window rules guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Seq(pub u32);

impl Seq {
    /// The signed distance from `other` to `self`.
    pub fn diff(self, other: Seq) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    /// Whether `self` lies in `[lo, hi)`.
    pub fn in_range(self, lo: Seq, hi: Seq) -> bool {
        lo <= self && self < hi
    }
    /// The later of two.
    pub fn max(self, other: Seq) -> Seq {
        if self >= other { self } else { other }
    }
    /// The earlier of two.
    pub fn min(self, other: Seq) -> Seq {
        if self <= other { self } else { other }
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Seq {
    fn cmp(&self, other: &Self) -> Ordering {
        self.diff(*other).cmp(&0)
    }
}

impl Add<u32> for Seq {
    type Output = Seq;
    fn add(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for Seq {
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub for Seq {
    type Output = u32;
    /// The forward distance from `rhs` to `self` (callers ensure `rhs <= self`).
    fn sub(self, rhs: Seq) -> u32 {
        self.0.wrapping_sub(rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn order_across_the_wrap() {
        let a = Seq(u32::MAX - 10);
        let b = a + 20;
        assert_eq!(b.0, 9);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b - a, 20);
        assert!(Seq(5).in_range(a, b));
        assert_eq!(a.max(b), b);
    }

    proptest! {
        #[test]
        fn add_then_diff(x: u32, n in 0u32..(1 << 31)) {
            let s = Seq(x);
            prop_assert_eq!((s + n) - s, n);
            prop_assert!(s + n >= s);
            prop_assert!(n == 0 || s + n > s);
        }
    }
}
