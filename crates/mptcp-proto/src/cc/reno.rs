//! Reno (RFC 5681), the loss-recovery part of NewReno/SACK being the engine's.

use super::{AckInfo, CongestionControl, PerSubflow, SubflowId, SubflowView, initial_window};
use crate::time::Instant;

#[derive(Debug, Clone)]
struct State {
    cwnd: u64,
    ssthresh: u64,
    mss: u64,
    /// Bytes acknowledged in congestion avoidance since cwnd last grew.
    acked_in_ca: u64,
}

/// Reno: slow start, then one MSS per window of acknowledged data; halve on loss.
#[derive(Debug, Clone, Default)]
pub struct Reno {
    subflows: PerSubflow<State>,
}

impl CongestionControl for Reno {
    fn name(&self) -> &'static str {
        "reno"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        let st = State { cwnd: initial_window(mss), ssthresh: u64::MAX, mss: u64::from(mss.max(1)), acked_in_ca: 0 };
        self.subflows.insert(sf, st);
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, _all: &[SubflowView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.mss = u64::from(ack.mss.max(1));
        if ack.in_recovery || ack.app_limited {
            return;
        }
        if s.cwnd < s.ssthresh {
            // RFC 5681 §3.1 with RFC 3465 byte counting (L = 2 SMSS).
            s.cwnd += ack.bytes_acked.min(2 * s.mss);
        } else {
            // RFC 5681 §3.1: about one SMSS per RTT.
            s.acked_in_ca += ack.bytes_acked;
            if s.acked_in_ca >= s.cwnd {
                s.acked_in_ca -= s.cwnd;
                s.cwnd += s.mss;
            }
        }
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[SubflowView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        // RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); the flight
        // is at most the window (the rest was SACKed or lost before).
        s.ssthresh = (in_flight.min(s.cwnd) / 2).max(2 * s.mss);
        s.cwnd = s.ssthresh;
        s.acked_in_ca = 0;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.ssthresh = (in_flight.min(s.cwnd) / 2).max(2 * s.mss);
        // RFC 5681 §3.1: the loss window is one segment.
        s.cwnd = s.mss;
        s.acked_in_ca = 0;
    }

    fn window(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(0, |s| s.cwnd)
    }

    fn ssthresh(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(u64::MAX, |s| s.ssthresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    fn ack(bytes: u64) -> AckInfo {
        AckInfo {
            bytes_acked: bytes,
            rtt: None,
            srtt: Duration::from_millis(10),
            min_rtt: Duration::from_millis(10),
            in_flight: 0,
            app_limited: false,
            in_recovery: false,
            mss: 1000,
        }
    }

    #[test]
    fn slow_start_then_linear_then_halve() {
        let mut r = Reno::default();
        let sf = SubflowId(0);
        r.on_subflow_added(sf, Instant::ZERO, 1000);
        assert_eq!(r.window(sf), 10_000);
        for _ in 0..10 {
            r.on_ack(sf, Instant::ZERO, &ack(1000), &[]);
        }
        assert_eq!(r.window(sf), 20_000);
        r.on_congestion_event(sf, Instant::ZERO, 20_000, &[]);
        assert_eq!((r.window(sf), r.ssthresh(sf)), (10_000, 10_000));
        for _ in 0..10 {
            r.on_ack(sf, Instant::ZERO, &ack(1000), &[]);
        }
        assert_eq!(r.window(sf), 11_000);
        r.on_rto(sf, Instant::ZERO, 11_000);
        assert_eq!((r.window(sf), r.ssthresh(sf)), (1_000, 5_500));
    }
}
