//! The lowest-RTT scheduler: the subflow with the smallest smoothed RTT that
//! has room in its window; backups only when no other subflow exists.

use super::{Decision, SchedInput, Scheduler, candidates};

/// Lowest RTT first (the default, as in the Linux kernel and the literature).
#[derive(Debug, Clone, Copy, Default)]
pub struct MinRtt;

impl Scheduler for MinRtt {
    fn name(&self) -> &'static str {
        "minrtt"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        match candidates(input.paths).min_by_key(|v| (v.srtt, v.index)) {
            Some(v) => Decision::one(v.index),
            None => Decision::Idle,
        }
    }
}
