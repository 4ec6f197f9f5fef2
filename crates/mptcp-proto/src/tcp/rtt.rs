//! The RTT estimator and retransmission timeout of RFC 6298.

use crate::time::Duration;

/// Smoothed RTT, variation and RTO, with exponential backoff.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min_rtt: Option<Duration>,
    latest: Duration,
    rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
    backoff: u32,
}

impl RttEstimator {
    /// Before any sample: RTO = `initial`.
    pub fn new(initial: Duration, min_rto: Duration, max_rto: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            min_rtt: None,
            latest: Duration::ZERO,
            rto: initial,
            min_rto,
            max_rto,
            backoff: 0,
        }
    }

    /// Takes a sample (RFC 6298 §2.2, §2.3) and clears the backoff (§5.7 with
    /// Karn's rule: callers only sample segments sent once).
    pub fn sample(&mut self, rtt: Duration) {
        let rtt = rtt.max(Duration::from_micros(1));
        self.latest = rtt;
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = Duration::from_micros(rtt.as_micros() / 2);
            }
            Some(srtt) => {
                // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'.
                let delta = srtt.as_micros().abs_diff(rtt.as_micros());
                self.rttvar = Duration::from_micros((3 * self.rttvar.as_micros() + delta) / 4);
                self.srtt = Some(Duration::from_micros((7 * srtt.as_micros() + rtt.as_micros()) / 8));
            }
        }
        let srtt = self.srtt.unwrap_or(rtt);
        // RTO <- SRTT + max(G, K * RTTVAR), G = 1 ms here.
        let var = (4 * self.rttvar.as_micros()).max(1_000);
        self.rto = Duration::from_micros(srtt.as_micros() + var).clamp(self.min_rto, self.max_rto);
        self.backoff = 0;
    }

    /// The RTO with the current backoff applied.
    pub fn rto(&self) -> Duration {
        self.rto.saturating_mul(1u64 << self.backoff.min(16)).min(self.max_rto)
    }

    /// Doubles the RTO (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        if self.rto() < self.max_rto {
            self.backoff += 1;
        }
    }

    /// Ends the backoff without a sample.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Smoothed RTT (zero before the first sample).
    pub fn srtt(&self) -> Duration {
        self.srtt.unwrap_or(Duration::ZERO)
    }
    /// Whether a sample has been taken.
    pub fn has_sample(&self) -> bool {
        self.srtt.is_some()
    }
    /// RTT variation.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
    /// Smallest RTT seen (zero before the first sample).
    pub fn min_rtt(&self) -> Duration {
        self.min_rtt.unwrap_or(Duration::ZERO)
    }
    /// The latest sample.
    pub fn latest(&self) -> Duration {
        self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_first_and_later_samples_and_backoff() {
        let mut r = RttEstimator::new(Duration::from_secs(1), Duration::from_millis(200), Duration::from_secs(60));
        assert_eq!(r.rto(), Duration::from_secs(1));
        r.sample(Duration::from_millis(100));
        // SRTT 100 ms, RTTVAR 50 ms: RTO 300 ms.
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.sample(Duration::from_millis(100));
        assert_eq!(r.srtt(), Duration::from_millis(100));
        assert_eq!(r.rttvar(), Duration::from_micros(37_500));
        r.back_off();
        r.back_off();
        assert_eq!(r.rto(), Duration::from_millis(1000));
        // SRTT 87.625 ms, RTTVAR 52.875 ms: RTO 299.125 ms, backoff cleared.
        r.sample(Duration::from_millis(1));
        assert_eq!(r.rto(), Duration::from_micros(299_125));
        for _ in 0..20 {
            r.sample(Duration::from_millis(1));
        }
        assert_eq!(r.rto(), Duration::from_millis(200), "clamped to min_rto");
        for _ in 0..40 {
            r.back_off();
        }
        assert_eq!(r.rto(), Duration::from_secs(60));
    }
}
