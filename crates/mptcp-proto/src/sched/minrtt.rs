//! The lowest-RTT scheduler: the subflow with the smallest smoothed RTT that
//! has room in its window; backups only when no other subflow exists.
//!
//! With a small receive window it also guards against head-of-line
//! blocking (NSDI 2012 §4; the reasoning of BLEST, Ferlin et al. 2016): a
//! slower subflow is used only if, while its bytes are on the way, the
//! fastest subflow would not run out of window. Otherwise it waits for the
//! fast one, which the window then never makes idle.

use super::{Decision, SchedInput, Scheduler, candidates};
use crate::time::Duration;

/// Lowest RTT first (the default, as in the Linux kernel and the literature).
#[derive(Debug, Clone, Copy, Default)]
pub struct MinRtt;

impl Scheduler for MinRtt {
    fn name(&self) -> &'static str {
        "minrtt"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        let Some(v) = candidates(input.paths).min_by_key(|v| (v.srtt, v.index)) else {
            return Decision::Idle;
        };
        if input.reinjection || input.peer_window == u64::MAX {
            return Decision::one(v.index);
        }
        // The fastest subflow, with room or not (of the same kind as `v`:
        // a backup is compared with backups).
        let fast = input
            .paths
            .iter()
            .filter(|p| p.backup == v.backup && !p.stale && p.srtt > Duration::ZERO)
            .min_by_key(|p| (p.srtt, p.index));
        if let Some(f) = fast
            && f.index != v.index
            && f.srtt < v.srtt
        {
            // What the fast one sends while the slow one's bytes travel (its
            // window once per its RTT, for the slow one's RTT) must fit in
            // the peer's window beside what the slow one holds.
            let rounds = v.srtt.as_micros() as f64 / f.srtt.as_micros().max(1) as f64;
            let fast_bytes = (f.cwnd as f64 * rounds) as u64;
            let placed = input.pending.min(v.room().max(u64::from(v.mss)));
            if fast_bytes.saturating_add(v.outstanding).saturating_add(placed) > input.peer_window {
                let wait = Duration::from_micros((f.srtt.as_micros() / 4).max(1));
                return Decision::Wait { until: input.now + wait };
            }
        }
        Decision::one(v.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::path;
    use crate::time::Instant;

    fn input(paths: &[crate::path::PathView], peer_window: u64) -> SchedInput<'_> {
        SchedInput { now: Instant::ZERO, paths, pending: 1 << 20, reinjection: false, peer_window }
    }

    #[test]
    fn a_slow_path_that_would_block_the_window_waits_for_the_fast_one() {
        // Fast: 10 ms, full (no room), 20 kB window; slow: 160 ms with room.
        let mut fast = path(0, 10, 20_000, false);
        fast.in_flight = 20_000;
        let slow = path(1, 160, 10_000, false);
        // In 160 ms the fast one sends 16 windows, 320 kB: a 64 kB window
        // would block it, so the slow one is not used.
        match MinRtt.decide(&input(&[fast, slow], 64 * 1024)) {
            Decision::Wait { until } => assert_eq!(until, Instant::ZERO + Duration::from_micros(2_500)),
            d => panic!("{d:?}"),
        }
        // With a 1 MB window there is room for both.
        assert_eq!(MinRtt.decide(&input(&[fast, slow], 1 << 20)), Decision::one(1));
        // A window unknown, or a reinjection: the slow one as before.
        assert_eq!(MinRtt.decide(&input(&[fast, slow], u64::MAX)), Decision::one(1));
        let both = [fast, slow];
        let mut re = input(&both, 64 * 1024);
        re.reinjection = true;
        assert_eq!(MinRtt.decide(&re), Decision::one(1));
        // The fast one with room is taken whatever the window.
        let free = path(0, 10, 20_000, false);
        assert_eq!(MinRtt.decide(&input(&[free, slow], 64 * 1024)), Decision::one(0));
    }
}
