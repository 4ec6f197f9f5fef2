//! BALIA, the Balanced Linked Adaptation algorithm (Peng, Walid, Hwang, Low,
//! "Multipath TCP: Analysis, Design, and Implementation", IEEE/ACM ToN
//! 24(1), 2016; draft-walid-mptcp-congestion-control). With x_k = w_k / rtt_k
//! (windows in packets) and alpha_r = max_k x_k / x_r:
//!
//! ```text
//!   each ACK on r:  w_r += x_r / (rtt_r (sum_k x_k)^2) * (1 + alpha_r)/2 * (4 + alpha_r)/5
//!   each loss on r: w_r -= w_r / 2 * min(alpha_r, 1.5)
//! ```
//!
//! Alone (alpha = 1) both are Reno's. Slow start is Reno's per subflow.

use super::reno::RenoWindow;
use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId};
use crate::path::PathView;
use crate::time::{Duration, Instant};

/// The decrease factor's cap on alpha.
const ALPHA_DECREASE_CAP: f64 = 1.5;

#[derive(Debug, Clone)]
struct State {
    w: RenoWindow,
    /// Fractional increase carried between ACKs, bytes.
    carry: f64,
    /// In fast recovery: its window in the totals is ssthresh.
    recovering: bool,
}

impl State {
    /// The window counted in the rates: ssthresh in recovery, never an
    /// inflated window (this stack's window is already ssthresh then).
    fn counted_window(&self) -> u64 {
        if self.recovering { self.w.cwnd.min(self.w.ssthresh) } else { self.w.cwnd }
    }
}

/// BALIA (ToN 2016).
#[derive(Debug, Clone, Default)]
pub struct Balia {
    subflows: PerSubflow<State>,
}

/// The figures both formulas need for path r.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rates {
    /// x_r, packets per second.
    x_r: f64,
    /// rtt_r, seconds.
    rtt_r: f64,
    /// sum_k x_k.
    sum: f64,
    /// alpha_r = max_k x_k / x_r.
    alpha: f64,
}

impl Balia {
    /// The rates over the usable paths (an RTT measured), windows counted in
    /// units of `mss`; None when r is not among them or has no window.
    fn rates(&self, all: &[PathView], r: SubflowId, mss: u64) -> Option<Rates> {
        let mut sum = 0.0;
        let mut max = 0.0f64;
        let mut mine = None;
        for v in all.iter().filter(|v| v.srtt > Duration::ZERO) {
            let cwnd = self.subflows.get(v.id).map_or(v.cwnd, State::counted_window);
            let rtt = v.srtt.as_secs_f64();
            let x = cwnd as f64 / mss as f64 / rtt;
            sum += x;
            max = max.max(x);
            if v.id == r {
                mine = Some((x, rtt));
            }
        }
        let (x_r, rtt_r) = mine?;
        (x_r > 0.0).then(|| Rates { x_r, rtt_r, sum, alpha: max / x_r })
    }

    /// The increase of w_r in packets per packet acknowledged.
    fn increase(r: &Rates) -> f64 {
        r.x_r / (r.rtt_r * r.sum * r.sum) * (1.0 + r.alpha) / 2.0 * (4.0 + r.alpha) / 5.0
    }

    /// The window after a loss, from the window `w` (bytes) it applies to.
    fn decreased(w: u64, alpha: f64) -> u64 {
        let cut = (w as f64 / 2.0 * alpha.min(ALPHA_DECREASE_CAP)) as u64;
        w.saturating_sub(cut)
    }
}

impl CongestionControl for Balia {
    fn name(&self) -> &'static str {
        "balia"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        self.subflows.insert(sf, State { w: RenoWindow::new(mss), carry: 0.0, recovering: false });
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, all: &[PathView]) {
        let mss = u64::from(ack.mss.max(1));
        {
            let Some(s) = self.subflows.get_mut(sf) else { return };
            s.w.mss = mss;
            s.recovering = ack.in_recovery;
            if ack.in_recovery || ack.app_limited || s.w.slow_start(ack.bytes_acked) {
                return;
            }
        }
        let rates = self.rates(all, sf, mss);
        let Some(s) = self.subflows.get_mut(sf) else { return };
        // Without an RTT for r: Reno's one segment per window.
        let per_seg = rates.as_ref().map_or(mss as f64 / s.w.cwnd.max(1) as f64, Self::increase);
        s.w.add_in_segments(&mut s.carry, ack.bytes_acked as f64 * per_seg);
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, loss: &LossInfo, all: &[PathView]) {
        let mss = self.subflows.get(sf).map_or(1, |s| s.w.mss);
        let alpha = self.rates(all, sf, mss).map_or(1.0, |r| r.alpha);
        let Some(s) = self.subflows.get_mut(sf) else { return };
        // The window the cut applies to is what was in flight, as Reno's
        // (RFC 5681 (4)), at most the window.
        let w = loss.in_flight.min(s.w.cwnd);
        s.w.ssthresh = Self::decreased(w, alpha).max(2 * s.w.mss);
        s.w.cwnd = s.w.ssthresh;
        s.carry = 0.0;
        s.recovering = true;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_rto(in_flight);
        s.carry = 0.0;
        s.recovering = false;
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
    use crate::cc::tests::{ack, view};

    const MSS: u64 = 1000;

    /// A BALIA in congestion avoidance with these windows (bytes).
    fn balia(windows: &[u64]) -> Balia {
        let mut b = Balia::default();
        for (i, &cwnd) in windows.iter().enumerate() {
            let sf = SubflowId(i as u32);
            b.on_subflow_added(sf, Instant::ZERO, MSS as u32);
            let s = b.subflows.get_mut(sf).unwrap();
            s.w.cwnd = cwnd;
            s.w.ssthresh = cwnd;
        }
        b
    }

    fn grown(b: &mut Balia, sf: SubflowId, all: &[PathView]) -> f64 {
        let before = b.window(sf) as f64 + b.subflows.get(sf).unwrap().carry;
        b.on_ack(sf, Instant::ZERO, &ack(MSS), all);
        b.window(sf) as f64 + b.subflows.get(sf).unwrap().carry - before
    }

    #[test]
    fn increase_is_the_papers_formula() {
        // Path 0: 10 segments at 10 ms (x = 1000/s); path 1: 30 segments at
        // 60 ms (x = 500/s): alpha_0 = 1, alpha_1 = 2.
        let all = [view(0, 10), view(1, 60)];
        let mut b = balia(&[10_000, 30_000]);
        let r1 = b.rates(&all, SubflowId(1), MSS).unwrap();
        assert!((r1.alpha - 2.0).abs() < 1e-9, "alpha = max x / x_r = {}", r1.alpha);
        let sum: f64 = 1000.0 + 500.0;
        let want0 = 1000.0 / (0.010 * sum * sum) * (1.0 + 1.0) / 2.0 * (4.0 + 1.0) / 5.0;
        let want1 = 500.0 / (0.060 * sum * sum) * (1.0 + 2.0) / 2.0 * (4.0 + 2.0) / 5.0;
        let g0 = grown(&mut b, SubflowId(0), &all);
        let g1 = grown(&mut b, SubflowId(1), &all);
        assert!((g0 - want0 * MSS as f64).abs() < 1e-6, "{g0} vs {}", want0 * MSS as f64);
        assert!((g1 - want1 * MSS as f64).abs() < 1e-6, "{g1} vs {}", want1 * MSS as f64);
    }

    #[test]
    fn decrease_is_the_papers_formula() {
        let all = [view(0, 10), view(1, 60), view(2, 10)];
        // x = 1000, 500 and 250 per second: alpha = 1, 2 and 4.
        for (sf, alpha) in [(0u32, 1.0f64), (1, 2.0), (2, 4.0)] {
            let mut b = balia(&[10_000, 30_000, 2_500]);
            let w = b.window(SubflowId(sf));
            assert!((b.rates(&all, SubflowId(sf), MSS).unwrap().alpha - alpha).abs() < 1e-9);
            b.on_congestion_event(SubflowId(sf), Instant::ZERO, &LossInfo::in_flight(w), &all);
            let want = (w as f64 - w as f64 / 2.0 * alpha.min(1.5)) as u64;
            assert_eq!(b.window(SubflowId(sf)), want.max(2 * MSS), "subflow {sf}");
            assert_eq!(b.ssthresh(SubflowId(sf)), want.max(2 * MSS));
        }
        // alpha 1 halves; alpha 2 is capped at 1.5: w/4 left.
        assert_eq!(Balia::decreased(30_000, 2.0), 7_500);
        assert_eq!(Balia::decreased(30_000, 1.0), 15_000);
        assert_eq!(Balia::decreased(30_000, 1.2), 12_000);
    }

    #[test]
    fn alone_it_is_reno() {
        // alpha = 1: x/(rtt x^2) = 1/w per ACK, and a loss halves.
        let one = [view(0, 10)];
        let mut b = balia(&[20_000]);
        let sf = SubflowId(0);
        for _ in 0..20 {
            b.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
        }
        assert_eq!(b.window(sf), 21_000, "one segment per window of ACKs");
        b.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(21_000), &one);
        assert_eq!((b.window(sf), b.ssthresh(sf)), (10_500, 10_500));
        // The sawtooth over loss cycles stays between W/2 and W.
        let mut b = balia(&[10_000]);
        for _ in 0..20 {
            while b.window(sf) < 40_000 {
                let w = b.window(sf) / MSS;
                for _ in 0..w {
                    b.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
                }
            }
            b.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(40_000), &one);
            assert_eq!(b.window(sf), 20_000);
        }
    }

    #[test]
    fn equal_paths_together_grow_like_one_tcp() {
        // n equal paths: alpha = 1, x/(rtt (n x)^2) = 1/(n^2 w) per ACK; a window
        // of ACKs on each grows the total by 1/n of a segment (and a loss
        // halves one path's w = W/n), LIA's shared-bottleneck share.
        for n in [2u32, 4, 8] {
            let all: Vec<PathView> = (0..n).map(|i| view(i, 10)).collect();
            let mut b = balia(&vec![20_000; n as usize]);
            for _ in 0..20 {
                for i in 0..n {
                    b.on_ack(SubflowId(i), Instant::ZERO, &ack(MSS), &all);
                }
            }
            let carried: f64 = (0..n).map(|i| b.subflows.get(SubflowId(i)).unwrap().carry).sum();
            let total: u64 = (0..n).map(|i| b.window(SubflowId(i))).sum();
            let grown = (total - u64::from(n) * 20_000) as f64 + carried;
            assert!((grown - MSS as f64 / f64::from(n)).abs() < 1.0, "n={n}: {grown}");
        }
    }
}
