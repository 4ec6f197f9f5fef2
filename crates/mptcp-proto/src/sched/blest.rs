//! BLEST, "BLocking ESTimation-based MPTCP scheduler" (Ferlin, Alay,
//! Mehani, Boreli, IFIP Networking 2016).
//!
//! The lowest-RTT subflow with room takes the data, as with `minrtt`. When
//! only a slower one has room, BLEST estimates how long the bytes would
//! linger on it and how much the fastest subflow could send meanwhile; if
//! that would not fit in the peer's data-level window beside the slow
//! subflow's bytes (which hold the window's left edge back until they
//! arrive), the fast subflow would be blocked at the window (head-of-line
//! blocking at the receiver), so the data waits for the fast subflow
//! instead.
//!
//! The estimate is scaled by `lambda`, which starts at 1.2 and adapts within
//! [1.0, 1.3], at most once per RTT of the fast subflow: up 0.04 when data
//! had to be sent again (a reinjection was asked for) since the last
//! update, down 0.01 otherwise.

use super::{Decision, SchedInput, Scheduler, candidates, eligible, fastest};
use crate::path::PathView;
use crate::time::{Duration, Instant};
use arrayvec::ArrayVec;

/// `lambda`, per mille: initial, smallest, largest, and its steps.
const LAMBDA_INIT: u64 = 1200;
const LAMBDA_MIN: u64 = 1000;
const LAMBDA_MAX: u64 = 1300;
const LAMBDA_GOOD: u64 = 10;
const LAMBDA_BAD: u64 = 40;

/// BLEST: lowest RTT first, a slower subflow only when using it would not
/// block the fastest one at the peer's window.
#[derive(Debug, Clone, Copy)]
pub struct Blest {
    /// The scaling of the fast subflow's estimate, per mille.
    lambda: u64,
    /// When `lambda` was last updated (the first decision starts the clock).
    updated: Option<Instant>,
    /// A reinjection was asked for since the last update.
    resent: bool,
}

impl Default for Blest {
    fn default() -> Self {
        Blest { lambda: LAMBDA_INIT, updated: None, resent: false }
    }
}

impl Blest {
    /// The current `lambda` (1.0 to 1.3).
    pub fn lambda(&self) -> f64 {
        self.lambda as f64 / 1000.0
    }

    /// At most once per RTT of the fast subflow: up after a reinjection,
    /// down otherwise.
    fn adapt(&mut self, now: Instant, fast_rtt: Duration) {
        let Some(last) = self.updated else {
            self.updated = Some(now);
            return;
        };
        if fast_rtt == Duration::ZERO || now - last < fast_rtt {
            return;
        }
        let next = if self.resent { self.lambda + LAMBDA_BAD } else { self.lambda.saturating_sub(LAMBDA_GOOD) };
        self.lambda = next.clamp(LAMBDA_MIN, LAMBDA_MAX);
        self.resent = false;
        self.updated = Some(now);
    }

    /// How long bytes placed now on `slow` would take to be acknowledged:
    /// from its smallest RTT (an empty window) to its smoothed RTT (a full
    /// one, queues built up), in proportion to how full its window would be
    /// with one more segment.
    fn linger(slow: &PathView) -> Duration {
        let srtt = slow.srtt.as_micros();
        let base = if slow.min_rtt == Duration::ZERO { srtt } else { slow.min_rtt.as_micros().min(srtt) };
        let used = slow.cwnd.saturating_sub(slow.room()).saturating_add(u64::from(slow.mss));
        if slow.cwnd == 0 || used >= slow.cwnd {
            return slow.srtt;
        }
        let extra = (u128::from(srtt - base) * u128::from(used) / u128::from(slow.cwnd)) as u64;
        Duration::from_micros(base + extra)
    }

    /// Bytes `fast` could send during `t`: over `n = t / RTT_f + 1` of its
    /// RTTs, a window growing by one segment per RTT (congestion
    /// avoidance), `(cwnd + (n - 1) / 2 segments) * n`, times `lambda`.
    ///
    /// The view carries no slow-start threshold, so growth in slow start is
    /// not told apart; `lambda` absorbs the difference.
    fn fast_bytes(&self, fast: &PathView, t: Duration) -> u64 {
        let rtt = fast.srtt.as_micros().max(1);
        let n = u128::from(t.as_micros() / rtt + 1);
        let mss = u128::from(fast.mss);
        let twice = n * (2 * u128::from(fast.cwnd) + (n - 1) * mss);
        let bytes = twice * u128::from(self.lambda) / 2000;
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

impl Scheduler for Blest {
    fn name(&self) -> &'static str {
        "blest"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        if input.reinjection {
            self.resent = true;
        }
        let Some(fast) = fastest(eligible(input.paths)) else { return Decision::Idle };
        self.adapt(input.now, fast.srtt);
        let Some(best) = fastest(candidates(input.paths)) else { return Decision::Idle };
        // Reinjections take no new room in the window: the default rule.
        if input.reinjection || best.index == fast.index || fast.srtt == Duration::ZERO || best.srtt <= fast.srtt {
            return Decision::one(best.index);
        }
        // The slow subflow's bytes hold the peer's window's left edge back
        // while they linger; the fast one has the rest of the window, and
        // must not run out of it (the window unknown: no limit).
        let free = input.peer_window.saturating_sub(best.outstanding);
        let need = self.fast_bytes(fast, Self::linger(best));
        let allowed = free.saturating_sub(need);
        if allowed < u64::from(best.mss).max(1) {
            let quarter = (fast.srtt.as_micros() / 4).max(1);
            return Decision::Wait { until: input.now + Duration::from_micros(quarter) };
        }
        // As many segments on the slow subflow as keep the fast one clear
        // of the window (the rule applied to each segment in turn).
        let mut paths = ArrayVec::new();
        paths.push(best.index);
        Decision::Send { paths, max_bytes: allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::path;

    const MS: u64 = 1000;

    /// A fast path (10 ms) with a full window of 20,000 bytes in flight and
    /// a slow one (100 ms) with an empty window of 20,000.
    fn two() -> [PathView; 2] {
        let mut fast = path(0, 10, 20_000, false);
        fast.in_flight = 20_000;
        fast.outstanding = 20_000;
        let slow = path(1, 100, 20_000, false);
        [fast, slow]
    }

    fn ask(s: &mut Blest, now_ms: u64, paths: &[PathView], peer_window: u64, reinjection: bool) -> Decision {
        let now = Instant::ZERO + Duration::from_millis(now_ms);
        s.decide(&SchedInput { now, paths, pending: 1 << 20, reinjection, peer_window })
    }

    fn sent(d: &Decision) -> Option<(usize, u64)> {
        match d {
            Decision::Send { paths, max_bytes } => Some((paths[0], *max_bytes)),
            _ => None,
        }
    }

    #[test]
    fn blest_estimates_the_fast_paths_bytes_over_the_slow_ones_linger() {
        let [fast, slow] = two();
        let b = Blest::default();
        // Empty slow window: its smallest RTT, 100 ms (its srtt here too).
        assert_eq!(Blest::linger(&slow), Duration::from_millis(100));
        // n = 100/10 + 1 = 11 RTTs: (20,000 + 10/2 * 1,000) * 11 * 1.2.
        assert_eq!(b.fast_bytes(&fast, Blest::linger(&slow)), 330_000);
        // Queues on the slow path: between min_rtt and srtt by its fill.
        let mut queued = path(1, 100, 20_000, false);
        queued.min_rtt = Duration::from_millis(60);
        queued.in_flight = 9_000;
        assert_eq!(Blest::linger(&queued), Duration::from_millis(60 + 40 * 10 / 20));
        queued.in_flight = 19_500;
        assert_eq!(Blest::linger(&queued), Duration::from_millis(100), "a full window: srtt");
    }

    #[test]
    fn blest_waits_for_the_fast_path_when_the_window_would_block_it() {
        let paths = two();
        let mut b = Blest::default();
        // A 50,000-byte window: far below the 330,000 the fast path could
        // send while the slow one's bytes linger.
        let d = ask(&mut b, 0, &paths, 50_000, false);
        assert_eq!(d, Decision::Wait { until: Instant::ZERO + Duration::from_micros(10 * MS / 4) });
    }

    #[test]
    fn blest_sends_on_the_slow_path_when_the_window_is_large() {
        let paths = two();
        let mut b = Blest::default();
        let (who, max) = sent(&ask(&mut b, 0, &paths, 10_000_000, false)).expect("sends");
        assert_eq!(who, 1, "the slow path, the fast one being full");
        assert!(max >= 20_000, "at least the slow path's room: {max}");
        let (who, _) = sent(&ask(&mut b, 0, &paths, u64::MAX, false)).expect("no window known: sends");
        assert_eq!(who, 1);
        // In between: only what keeps the fast path clear of the window's
        // end: 355,000 less 330,000.
        let (who, max) = sent(&ask(&mut b, 0, &paths, 355_000, false)).expect("sends some");
        assert_eq!((who, max), (1, 25_000));
        // The same window, with 24,500 of it held by the slow path's
        // earlier bytes: no room left beside them for the fast path.
        let mut p = paths;
        p[1].outstanding = 24_500;
        assert!(matches!(ask(&mut b, 0, &p, 355_000, false), Decision::Wait { .. }));
    }

    #[test]
    fn blest_takes_the_fast_path_whenever_it_has_room() {
        let mut paths = two();
        paths[0].in_flight = 10_000;
        let mut b = Blest::default();
        assert_eq!(sent(&ask(&mut b, 0, &paths, 0, false)).map(|s| s.0), Some(0));
        let none = [paths[0], paths[1]].map(|mut v| {
            v.in_flight = v.cwnd;
            v
        });
        assert_eq!(ask(&mut b, 0, &none, u64::MAX, false), Decision::Idle);
    }

    #[test]
    fn blest_lambda_adapts_once_per_fast_rtt_within_bounds() {
        let paths = two();
        let mut b = Blest::default();
        assert_eq!(b.lambda, 1200);
        ask(&mut b, 0, &paths, u64::MAX, false);
        ask(&mut b, 4, &paths, u64::MAX, true);
        assert_eq!(b.lambda, 1200, "not before one fast RTT (10 ms)");
        ask(&mut b, 10, &paths, u64::MAX, false);
        assert_eq!(b.lambda, 1240, "a reinjection since the last update: up");
        ask(&mut b, 15, &paths, u64::MAX, false);
        assert_eq!(b.lambda, 1240, "at most once per RTT");
        ask(&mut b, 20, &paths, u64::MAX, false);
        assert_eq!(b.lambda, 1230, "none: down");
        for t in 0..10 {
            ask(&mut b, 30 + 10 * t, &paths, u64::MAX, true);
        }
        assert_eq!(b.lambda, 1300, "capped at 1.3");
        for t in 0..50 {
            ask(&mut b, 200 + 10 * t, &paths, u64::MAX, false);
        }
        assert_eq!(b.lambda, 1000, "floored at 1.0");
        assert!((b.lambda() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn blest_lambda_changes_the_decision() {
        let paths = two();
        // fast_bytes: 275,000 at lambda 1.0, 357,500 at 1.3; the window
        // leaves 300,000 beside the slow path.
        let mut low = Blest { lambda: LAMBDA_MIN, ..Blest::default() };
        let mut high = Blest { lambda: LAMBDA_MAX, ..Blest::default() };
        assert_eq!(sent(&ask(&mut low, 0, &paths, 300_000, false)), Some((1, 25_000)));
        assert!(matches!(ask(&mut high, 0, &paths, 300_000, false), Decision::Wait { .. }));
    }

    #[test]
    fn blest_reinjections_go_to_the_lowest_rtt_path_with_room() {
        let paths = two();
        let mut b = Blest::default();
        assert_eq!(sent(&ask(&mut b, 0, &paths, 0, true)).map(|s| s.0), Some(1), "no waiting for a reinjection");
    }
}
