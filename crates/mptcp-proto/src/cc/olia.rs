//! OLIA, the Opportunistic Linked-Increases Algorithm (Khalili, Gast,
//! Popovic, Upadhyay, Le Boudec, "MPTCP is not Pareto-optimal", CoNEXT 2012;
//! draft-khalili-mptcp-congestion-control). Slow start and the halving on loss
//! are Reno's per subflow; in congestion avoidance each ACK on path r grows
//! its window (in packets) by
//!
//! ```text
//!   (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2  +  alpha_r / w_r
//! ```
//!
//! The first term is optimal resource pooling; alpha_r moves window from the
//! paths with the largest windows (M) to the paths that look best by the
//! bytes they carry between losses (B): with l_r = max(bytes between the
//! last two losses, bytes since the last loss), B = argmax l_r / rtt_r^2, and
//! n the number of usable paths, alpha_r = 1 / (n |B\M|) on B\M,
//! -1 / (n |M|) on M when B\M is not empty, and 0 otherwise.

use super::reno::RenoWindow;
use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId};
use crate::path::PathView;
use crate::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct State {
    w: RenoWindow,
    /// Fractional change carried between ACKs, bytes (may be negative).
    carry: f64,
    /// Bytes acknowledged between the last two losses (l1).
    between_losses: u64,
    /// Bytes acknowledged since the last loss (l2).
    since_loss: u64,
    /// In fast recovery: its window in the totals is ssthresh.
    recovering: bool,
}

impl State {
    /// The window counted in the totals: ssthresh in recovery, not an
    /// inflated window (the reference implementations' rule; this stack's
    /// window is already ssthresh then, PRR doing the rest).
    fn counted_window(&self) -> u64 {
        if self.recovering { self.w.cwnd.min(self.w.ssthresh) } else { self.w.cwnd }
    }

    fn ell(&self) -> u64 {
        self.between_losses.max(self.since_loss)
    }
}

/// OLIA (CoNEXT 2012).
#[derive(Debug, Clone, Default)]
pub struct Olia {
    subflows: PerSubflow<State>,
}

/// One usable path as OLIA weighs it.
#[derive(Debug, Clone, Copy)]
struct Path {
    id: SubflowId,
    /// Window in segments of the subflow being acknowledged (fractional).
    w: f64,
    /// Window in whole segments (what "the largest window" compares).
    segs: u64,
    /// Smoothed RTT, seconds.
    rtt: f64,
    /// l_r, bytes.
    ell: f64,
}

impl Olia {
    /// The usable paths (an RTT measured), windows in units of `mss`.
    fn paths(&self, all: &[PathView], mss: u64) -> Vec<Path> {
        all.iter()
            .filter(|v| v.srtt > Duration::ZERO)
            .map(|v| {
                let (cwnd, ell) = match self.subflows.get(v.id) {
                    Some(s) => (s.counted_window(), s.ell()),
                    None => (v.cwnd, 0),
                };
                Path {
                    id: v.id,
                    w: cwnd as f64 / mss as f64,
                    segs: cwnd / u64::from(v.mss.max(1)),
                    rtt: v.srtt.as_secs_f64(),
                    ell: ell as f64,
                }
            })
            .collect()
    }

    /// alpha_r from the best paths B and the largest-window paths M.
    fn alpha(paths: &[Path], r: SubflowId) -> f64 {
        let n = paths.len() as f64;
        let quality = |p: &Path| p.ell / (p.rtt * p.rtt);
        let best_q = paths.iter().map(quality).fold(0.0f64, f64::max);
        let max_segs = paths.iter().map(|p| p.segs).max().unwrap_or(0);
        // Equal within rounding counts as equal (the kernel compares integers).
        let in_b = |p: &Path| (quality(p) - best_q).abs() <= 1e-9 * best_q.max(f64::MIN_POSITIVE);
        let in_m = |p: &Path| p.segs == max_segs;
        let b_not_m = paths.iter().filter(|p| in_b(p) && !in_m(p)).count() as f64;
        if b_not_m == 0.0 {
            return 0.0;
        }
        let m = paths.iter().filter(|p| in_m(p)).count() as f64;
        match paths.iter().find(|p| p.id == r) {
            Some(p) if in_b(p) && !in_m(p) => 1.0 / (n * b_not_m),
            Some(p) if in_m(p) => -1.0 / (n * m),
            _ => 0.0,
        }
    }

    /// The change of w_r, in segments per segment acknowledged (None: r is
    /// not among the usable paths).
    fn increase(paths: &[Path], r: SubflowId) -> Option<f64> {
        let me = paths.iter().find(|p| p.id == r)?;
        if me.w <= 0.0 {
            return None;
        }
        let sum: f64 = paths.iter().map(|p| p.w / p.rtt).sum();
        let pooling = (me.w / (me.rtt * me.rtt)) / (sum * sum);
        Some(pooling + Self::alpha(paths, r) / me.w)
    }
}

impl CongestionControl for Olia {
    fn name(&self) -> &'static str {
        "olia"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        self.subflows.insert(
            sf,
            State { w: RenoWindow::new(mss), carry: 0.0, between_losses: 0, since_loss: 0, recovering: false },
        );
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, all: &[PathView]) {
        let mss = u64::from(ack.mss.max(1));
        {
            let Some(s) = self.subflows.get_mut(sf) else { return };
            s.w.mss = mss;
            s.since_loss += ack.bytes_acked;
            s.recovering = ack.in_recovery;
            if ack.in_recovery || ack.app_limited || s.w.slow_start(ack.bytes_acked) {
                return;
            }
        }
        let paths = self.paths(all, mss);
        let Some(s) = self.subflows.get_mut(sf) else { return };
        let acked = ack.bytes_acked as f64;
        // Alone (or before r has an RTT) OLIA is Reno: one segment per window.
        let per_seg = Self::increase(&paths, sf).unwrap_or(mss as f64 / s.w.cwnd.max(1) as f64);
        // A segment acknowledged changes w_r by per_seg segments: bytes_acked
        // bytes by bytes_acked * per_seg bytes.
        s.w.add_in_segments(&mut s.carry, acked * per_seg);
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, loss: &LossInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        // A loss closes an inter-loss interval: l1 becomes what l2 counted.
        if s.since_loss > 0 {
            s.between_losses = s.since_loss;
            s.since_loss = 0;
        }
        s.w.on_loss(loss.in_flight);
        s.carry = 0.0;
        s.recovering = true;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        // As the kernel's OLIA: a timeout does not close an interval.
        s.w.on_rto(in_flight);
        s.carry = 0.0;
        s.recovering = false;
    }

    fn metrics(&self, sf: SubflowId) -> Vec<(&'static str, f64)> {
        let Some(s) = self.subflows.get(sf) else { return Vec::new() };
        vec![("l1_bytes", s.between_losses as f64), ("l2_bytes", s.since_loss as f64)]
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

    /// An OLIA in congestion avoidance with these windows (bytes) and l_r.
    fn olia(setup: &[(u64, u64)]) -> Olia {
        let mut o = Olia::default();
        for (i, &(cwnd, ell)) in setup.iter().enumerate() {
            let sf = SubflowId(i as u32);
            o.on_subflow_added(sf, Instant::ZERO, MSS as u32);
            let s = o.subflows.get_mut(sf).unwrap();
            s.w.cwnd = cwnd;
            s.w.ssthresh = cwnd;
            s.since_loss = ell;
        }
        o
    }

    /// What one ACK of `bytes` on `sf` grows the window by, in bytes (the
    /// carry included), from a zero carry.
    fn grown(o: &mut Olia, sf: SubflowId, bytes: u64, all: &[PathView]) -> f64 {
        let before = o.window(sf) as f64 + o.subflows.get(sf).unwrap().carry;
        o.subflows.get_mut(sf).unwrap().since_loss -= bytes; // keep l_r as set
        o.on_ack(sf, Instant::ZERO, &ack(bytes), all);
        o.window(sf) as f64 + o.subflows.get(sf).unwrap().carry - before
    }

    #[test]
    fn increment_is_the_papers_formula() {
        // Path 0: 20 segments at 10 ms, the best by l/rtt^2 but not the
        // largest window; path 1: 40 segments at 30 ms, the largest.
        let all = [view(0, 10), view(1, 30)];
        let (w0, w1, r0, r1) = (20.0, 40.0, 0.010, 0.030);
        let sum: f64 = w0 / r0 + w1 / r1;
        // B = {0}, M = {1}, |R_u| = 2: alpha_0 = +1/2, alpha_1 = -1/2.
        let want0 = (w0 / (r0 * r0)) / (sum * sum) + 0.5 / w0;
        let want1 = (w1 / (r1 * r1)) / (sum * sum) - 0.5 / w1;
        let mut o = olia(&[(20_000, 500_000), (40_000, 100_000)]);
        let g0 = grown(&mut o, SubflowId(0), MSS, &all);
        let g1 = grown(&mut o, SubflowId(1), MSS, &all);
        // One segment acknowledged: the change in segments times MSS bytes.
        assert!((g0 - want0 * MSS as f64).abs() < 1e-6, "{g0} vs {}", want0 * MSS as f64);
        assert!((g1 - want1 * MSS as f64).abs() < 1e-6, "{g1} vs {}", want1 * MSS as f64);
        assert!(g1 < 0.0, "the largest window gives way to the best path");
    }

    #[test]
    fn alpha_follows_the_best_and_max_window_sets() {
        let p = |id: u32, segs: u64, rtt: f64, ell: f64| Path { id: SubflowId(id), w: segs as f64, segs, rtt, ell };
        // Three paths, equal RTT: 0 and 1 best (same l), 2 the largest window.
        let paths = [p(0, 10, 0.01, 9e5), p(1, 10, 0.01, 9e5), p(2, 30, 0.01, 1e5)];
        assert!((Olia::alpha(&paths, SubflowId(0)) - 1.0 / 6.0).abs() < 1e-12, "1/(|R_u| |B\\M|) = 1/(3*2)");
        assert!((Olia::alpha(&paths, SubflowId(1)) - 1.0 / 6.0).abs() < 1e-12);
        assert!((Olia::alpha(&paths, SubflowId(2)) + 1.0 / 3.0).abs() < 1e-12, "-1/(|R_u| |M|) = -1/3");
        // The best path has the largest window: B\M is empty, alpha is 0.
        let paths = [p(0, 30, 0.01, 9e5), p(1, 10, 0.01, 1e5)];
        assert_eq!(Olia::alpha(&paths, SubflowId(0)), 0.0);
        assert_eq!(Olia::alpha(&paths, SubflowId(1)), 0.0);
        // A longer RTT makes the path worse: l/rtt^2.
        let paths = [p(0, 10, 0.02, 2e5), p(1, 30, 0.01, 1e5)];
        assert_eq!(Olia::alpha(&paths, SubflowId(0)), 0.0, "2e5/4e-4 < 1e5/1e-4: path 1 is best and largest");
        // The sum of alphas is zero when B\M is not empty (window moves, not grows).
        let paths = [p(0, 10, 0.01, 9e5), p(1, 30, 0.01, 1e5), p(2, 30, 0.01, 1e5), p(3, 5, 0.01, 1e5)];
        let total: f64 = (0..4).map(|i| Olia::alpha(&paths, SubflowId(i))).sum();
        assert!(total.abs() < 1e-12, "{total}");
        assert!((Olia::alpha(&paths, SubflowId(3))).abs() < 1e-12, "neither best nor largest: 0");
    }

    #[test]
    fn l1_and_l2_are_the_bytes_between_and_since_losses() {
        let mut o = olia(&[(10_000, 0)]);
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        for _ in 0..7 {
            o.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
        }
        o.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(10_000), &one);
        for _ in 0..3 {
            o.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
        }
        let s = o.subflows.get(sf).unwrap();
        assert_eq!((s.between_losses, s.since_loss, s.ell()), (7_000, 3_000, 7_000));
        assert_eq!(o.metrics(sf), vec![("l1_bytes", 7_000.0), ("l2_bytes", 3_000.0)]);
    }

    #[test]
    fn alone_it_is_reno() {
        // One path: (w/rtt^2)/(w/rtt)^2 = 1/w and alpha = 0, so one segment
        // per window of ACKs, in whole segments; a loss halves.
        let mut o = olia(&[(20_000, 0)]);
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        for _ in 0..20 {
            o.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
        }
        // 20 ACKs of 1/20 .. 1/20 of a segment: one segment, less rounding.
        let w = o.window(sf);
        assert!(w == 20_000 || w == 21_000, "{w}");
        for _ in 0..21 {
            o.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
        }
        assert_eq!(o.window(sf), 21_000, "about one segment per RTT");
        o.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(21_000), &one);
        assert_eq!((o.window(sf), o.ssthresh(sf)), (10_500, 10_500));
        // Equilibrium over many loss cycles: the Reno sawtooth between W/2 and W.
        let mut o = olia(&[(10_000, 0)]);
        for _ in 0..20 {
            while o.window(sf) < 40_000 {
                let w = o.window(sf) / MSS;
                for _ in 0..w {
                    o.on_ack(sf, Instant::ZERO, &ack(MSS), &one);
                }
            }
            o.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(40_000), &one);
            assert_eq!(o.window(sf), 20_000);
        }
    }

    #[test]
    fn equal_paths_grow_the_total_by_one_segment_per_rtt_like_tcp() {
        // n equal paths, no losses yet (B = all, so B\M = the smaller ones, here
        // none): each ACK grows w_r by (w/rtt^2)/(n w/rtt)^2 = 1/(n^2 w): one
        // window of ACKs on every path grows the total by 1/n of a segment.
        for n in [2u32, 4] {
            let all: Vec<PathView> = (0..n).map(|i| view(i, 10)).collect();
            let mut o = olia(&vec![(20_000, 0); n as usize]);
            for _ in 0..20 {
                for i in 0..n {
                    o.on_ack(SubflowId(i), Instant::ZERO, &ack(MSS), &all);
                }
            }
            let carried: f64 = (0..n).map(|i| o.subflows.get(SubflowId(i)).unwrap().carry).sum();
            let total: u64 = (0..n).map(|i| o.window(SubflowId(i))).sum();
            let grown = (total - u64::from(n) * 20_000) as f64 + carried;
            assert!((grown - MSS as f64 / f64::from(n)).abs() < 5.0, "n={n}: {grown}");
        }
    }
}
