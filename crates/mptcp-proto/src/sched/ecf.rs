//! ECF, "Earliest Completion First" (Lim, Nahum, Towsley, Gibbens, CoNEXT
//! 2017).
//!
//! The lowest-RTT subflow with room takes the data. When only a slower one
//! has room, ECF compares when the pending bytes would be delivered by
//! waiting for the fastest subflow's window to open with when the slow
//! subflow would deliver them, and waits when the fast one finishes first
//! and the slow one would take longer than two fast RTTs (plus the RTT
//! variation) to get its share through. Once it waits it keeps waiting a
//! little longer (`beta`), so that it does not switch back and forth.
//!
//! In bytes (the paper's Algorithm 1, with `x_f = max(pending, cwnd_f)`,
//! `x_s = max(pending, cwnd_s)` and `delta = max(rttvar_f, rttvar_s)`):
//! wait for `f` when `RTT_f (x_f + cwnd_f) < (1 + beta waiting) cwnd_f
//! (RTT_s + delta)` and `RTT_s x_s >= cwnd_s (2 RTT_f + delta)`; when the
//! first test fails, send on `s` and stop waiting.

use super::{Decision, SchedInput, Scheduler, candidates, eligible, fastest};
use crate::time::Duration;

/// `1 / beta`: the hysteresis while waiting is a quarter more.
const BETA_INV: u128 = 4;

/// ECF: lowest RTT first, waiting for the fastest subflow rather than using
/// a slower one when the fast one would complete first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ecf {
    /// The last decision between the two was to wait.
    waiting: bool,
}

impl Scheduler for Ecf {
    fn name(&self) -> &'static str {
        "ecf"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        let Some(best) = fastest(candidates(input.paths)) else { return Decision::Idle };
        let Some(fast) = fastest(eligible(input.paths)) else { return Decision::Idle };
        // Reinjections hold the data level up: the default rule, no waiting.
        if input.reinjection || best.index == fast.index || fast.srtt == Duration::ZERO || best.srtt <= fast.srtt {
            return Decision::one(best.index);
        }
        let (rtt_f, rtt_s) = (u128::from(fast.srtt.as_micros()), u128::from(best.srtt.as_micros()));
        let delta = u128::from(fast.rttvar.max(best.rttvar).as_micros());
        let (cwnd_f, cwnd_s) = (u128::from(fast.cwnd.max(1)), u128::from(best.cwnd.max(1)));
        let pending = u128::from(input.pending);
        let (x_f, x_s) = (pending.max(cwnd_f), pending.max(cwnd_s));
        let waiting = u128::from(self.waiting);
        // Waiting for the fast subflow's next window delivers first.
        let fast_first = BETA_INV * rtt_f * (x_f + cwnd_f) < (BETA_INV + waiting) * cwnd_f * (rtt_s + delta);
        if !fast_first {
            self.waiting = false;
            return Decision::one(best.index);
        }
        // ... and the slow subflow would not have delivered its share by then.
        if rtt_s * x_s >= cwnd_s * (2 * rtt_f + delta) {
            self.waiting = true;
            let quarter = (fast.srtt.as_micros() / 4).max(1);
            return Decision::Wait { until: input.now + Duration::from_micros(quarter) };
        }
        Decision::one(best.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::PathView;
    use crate::sched::tests::path;
    use crate::time::Instant;

    /// The fast path (10 ms, window 10,000 full) and a slow one with room.
    fn two(slow_rtt_ms: u64, rttvar_ms: u64) -> [PathView; 2] {
        let mut fast = path(0, 10, 10_000, false);
        fast.in_flight = 10_000;
        fast.rttvar = Duration::from_millis(rttvar_ms);
        let slow = path(1, slow_rtt_ms, 10_000, false);
        [fast, slow]
    }

    fn ask(e: &mut Ecf, paths: &[PathView], pending: u64) -> Decision {
        let input = SchedInput { now: Instant::ZERO, paths, pending, reinjection: false, peer_window: u64::MAX };
        e.decide(&input)
    }

    fn waits(d: &Decision) -> bool {
        matches!(d, Decision::Wait { .. })
    }

    fn on(d: &Decision) -> Option<usize> {
        match d {
            Decision::Send { paths, .. } => paths.first().copied(),
            _ => None,
        }
    }

    #[test]
    fn ecf_waits_for_the_fast_path_when_it_completes_first() {
        // 10,000 bytes: the fast path's next window delivers them at about
        // 2 x 10 ms, the 100 ms path takes 100 ms.
        let paths = two(100, 0);
        let mut e = Ecf::default();
        let d = ask(&mut e, &paths, 10_000);
        assert_eq!(d, Decision::Wait { until: Instant::ZERO + Duration::from_micros(2_500) });
        assert!(e.waiting);
    }

    #[test]
    fn ecf_sends_on_the_slow_path_when_there_is_much_to_send() {
        // 10 MB: waiting for the fast path alone would take far longer.
        let paths = two(100, 0);
        let mut e = Ecf { waiting: true };
        assert_eq!(on(&ask(&mut e, &paths, 10_000_000)), Some(1));
        assert!(!e.waiting, "the first test failed: waiting ends");
    }

    #[test]
    fn ecf_sends_on_the_slow_path_when_it_is_not_much_slower() {
        // 18 ms against 10 ms, delta 5 ms: the fast path would still finish
        // first (20 < 23), but the slow one delivers its window within
        // 2 RTT_f + delta (18 < 25): use it.
        let paths = two(18, 5);
        let mut e = Ecf::default();
        assert_eq!(on(&ask(&mut e, &paths, 1_000)), Some(1));
        // Without the variation the fast path would not finish first
        // (20 >= 18): the first test fails.
        let paths = two(18, 0);
        assert_eq!(on(&ask(&mut e, &paths, 1_000)), Some(1));
        // With delta from the slow path's variation alike.
        let mut paths = two(18, 0);
        paths[1].rttvar = Duration::from_millis(5);
        assert_eq!(on(&ask(&mut e, &paths, 1_000)), Some(1));
        assert!(!e.waiting);
    }

    #[test]
    fn ecf_keeps_waiting_with_hysteresis() {
        // 100,000 bytes: 10 ms x 110,000 against 10,000 x 100 ms: waiting
        // does not pay (4.4 >= 4.0) unless already waiting (4.4 < 5.0).
        let paths = two(100, 0);
        let mut fresh = Ecf::default();
        assert_eq!(on(&ask(&mut fresh, &paths, 100_000)), Some(1), "not waiting: the slow path");
        let mut e = Ecf::default();
        assert!(waits(&ask(&mut e, &paths, 10_000)));
        assert!(waits(&ask(&mut e, &paths, 100_000)), "waiting already: go on waiting");
        assert_eq!(on(&ask(&mut e, &paths, 1_000_000)), Some(1), "far too much: the slow path");
        assert_eq!(on(&ask(&mut e, &paths, 100_000)), Some(1), "waiting ended: the slow path again");
    }

    #[test]
    fn ecf_prefers_the_fast_path_with_room_and_never_waits_for_reinjections() {
        let mut paths = two(100, 0);
        let mut e = Ecf::default();
        let input =
            SchedInput { now: Instant::ZERO, paths: &paths, pending: 10_000, reinjection: true, peer_window: u64::MAX };
        assert_eq!(on(&e.decide(&input)), Some(1));
        paths[0].in_flight = 0;
        assert_eq!(on(&ask(&mut e, &paths, 10_000)), Some(0));
        paths[0].in_flight = 10_000;
        paths[1].in_flight = 10_000;
        assert_eq!(ask(&mut e, &paths, 10_000), Decision::Idle);
    }
}
