//! Reno (RFC 5681), the loss-recovery part of NewReno/SACK being the engine's.

use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId, initial_window};
use crate::path::PathView;
use crate::time::Instant;

/// A Reno-style window: slow start, and the halving on loss and collapse on
/// timeout. Reno and LIA share it and differ in congestion avoidance only.
#[derive(Debug, Clone)]
pub(crate) struct RenoWindow {
    pub(crate) cwnd: u64,
    pub(crate) ssthresh: u64,
    pub(crate) mss: u64,
}

impl RenoWindow {
    pub(crate) fn new(mss: u32) -> Self {
        RenoWindow { cwnd: initial_window(mss), ssthresh: u64::MAX, mss: u64::from(mss.max(1)) }
    }

    /// Slow start on an ACK (RFC 5681 §3.1 with RFC 3465 byte counting,
    /// L = 2 SMSS). Returns false when past it (congestion avoidance applies).
    pub(crate) fn slow_start(&mut self, acked: u64) -> bool {
        if self.cwnd >= self.ssthresh {
            return false;
        }
        self.cwnd += acked.min(2 * self.mss);
        true
    }

    /// RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); the flight is
    /// at most the window (the rest was SACKed or lost before).
    pub(crate) fn on_loss(&mut self, in_flight: u64) {
        self.ssthresh = (in_flight.min(self.cwnd) / 2).max(2 * self.mss);
        self.cwnd = self.ssthresh;
    }

    /// Applies `inc` bytes of congestion-avoidance change (negative: a
    /// decrease, as OLIA's can be) through `carry`, in whole segments as a
    /// packet-counting stack does (RFC 6356 §4's `cwnd_cnt`): the window stays
    /// a whole number of segments between losses, so the sender is not handed
    /// a few bytes of room after each ACK (a segment of that size). Never
    /// below two segments.
    pub(crate) fn add_in_segments(&mut self, carry: &mut f64, inc: f64) {
        *carry += inc;
        let mss = self.mss as f64;
        if *carry >= mss {
            let segs = (*carry / mss).floor();
            self.cwnd += segs as u64 * self.mss;
            *carry -= segs * mss;
        } else if *carry <= -mss {
            let segs = (-*carry / mss).floor();
            self.cwnd = self.cwnd.saturating_sub(segs as u64 * self.mss).max(2 * self.mss);
            *carry += segs * mss;
        }
    }

    /// RFC 5681 §3.1: after a timeout the loss window is one segment.
    pub(crate) fn on_rto(&mut self, in_flight: u64) {
        self.on_loss(in_flight);
        self.cwnd = self.mss;
    }
}

#[derive(Debug, Clone)]
struct State {
    w: RenoWindow,
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
        self.subflows.insert(sf, State { w: RenoWindow::new(mss), acked_in_ca: 0 });
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.mss = u64::from(ack.mss.max(1));
        if ack.in_recovery || ack.app_limited || s.w.slow_start(ack.bytes_acked) {
            return;
        }
        // RFC 5681 §3.1: about one SMSS per RTT.
        s.acked_in_ca += ack.bytes_acked;
        if s.acked_in_ca >= s.w.cwnd {
            s.acked_in_ca -= s.w.cwnd;
            s.w.cwnd += s.w.mss;
        }
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, loss: &LossInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_loss(loss.in_flight);
        s.acked_in_ca = 0;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_rto(in_flight);
        s.acked_in_ca = 0;
    }

    fn window(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(0, |s| s.w.cwnd)
    }

    fn ssthresh(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(u64::MAX, |s| s.w.ssthresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::tests::ack;

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
        r.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(20_000), &[]);
        assert_eq!((r.window(sf), r.ssthresh(sf)), (10_000, 10_000));
        for _ in 0..10 {
            r.on_ack(sf, Instant::ZERO, &ack(1000), &[]);
        }
        assert_eq!(r.window(sf), 11_000);
        r.on_rto(sf, Instant::ZERO, 11_000, &[]);
        assert_eq!((r.window(sf), r.ssthresh(sf)), (1_000, 5_500));
    }
}
