//! The Error TLVs' rate limit (RFC 8803 §4.2.7: error messages SHOULD be
//! rate-limited): a token bucket, refilled at `rate` per second up to
//! `rate` tokens. Past it a refused client is reset without an Error TLV.

use std::sync::Mutex;
use std::time::Instant;

/// A token bucket shared by every session.
#[derive(Debug)]
pub struct RateLimit {
    rate: f64,
    state: Mutex<(Instant, f64)>,
}

impl RateLimit {
    /// `rate` replies per second, as many at once; 0 means no limit.
    pub fn new(rate: u32) -> RateLimit {
        RateLimit::starting_at(rate, Instant::now())
    }

    fn starting_at(rate: u32, now: Instant) -> RateLimit {
        RateLimit { rate: f64::from(rate), state: Mutex::new((now, f64::from(rate))) }
    }

    /// Takes a token at `now`, if there is one.
    pub fn allow_at(&self, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(st.0).as_secs_f64();
        st.0 = st.0.max(now);
        st.1 = (st.1 + elapsed * self.rate).min(self.rate);
        if st.1 >= 1.0 {
            st.1 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Takes a token now, if there is one.
    pub fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate() {
        let t0 = Instant::now();
        let r = RateLimit::starting_at(10, t0);
        assert_eq!((0..20).filter(|_| r.allow_at(t0)).count(), 10, "a burst of `rate`");
        assert!(!r.allow_at(t0 + Duration::from_millis(50)), "half a token is not one");
        assert!(r.allow_at(t0 + Duration::from_millis(100)));
        // A long pause refills to the burst, no more.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..20).filter(|_| r.allow_at(later)).count(), 10);
    }

    #[test]
    fn zero_is_no_limit() {
        let r = RateLimit::new(0);
        assert!((0..10_000).all(|_| r.allow()));
    }
}
