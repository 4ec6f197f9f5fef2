//! Round-robin: each subflow with room in turn.

use super::{Decision, SchedInput, Scheduler, candidates};

/// Round-robin over the subflows with room.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobin {
    last: Option<usize>,
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        let mut c = candidates(input.paths).map(|v| v.index).peekable();
        let Some(&first) = c.peek() else { return Decision::Idle };
        let next = match self.last {
            Some(l) => c.find(|&i| i > l).unwrap_or(first),
            None => first,
        };
        self.last = Some(next);
        Decision::one(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::MinRtt;
    use crate::sched::tests::{decide, path as v};

    #[test]
    fn minrtt_prefers_fast_and_keeps_backup_aside() {
        let subflows = [v(0, 50, 10_000, false), v(1, 10, 10_000, false), v(2, 1, 10_000, true)];
        assert_eq!(decide(&mut MinRtt, &subflows), Some(1));
        let full = [v(0, 50, 10_000, false), v(1, 10, 0, false), v(2, 1, 10_000, true)];
        assert_eq!(decide(&mut MinRtt, &full), Some(0));
        let only_backup = [v(2, 1, 10_000, true)];
        assert_eq!(decide(&mut MinRtt, &only_backup), Some(2));
        let waiting = [v(1, 10, 0, false), v(2, 1, 10_000, true)];
        assert_eq!(decide(&mut MinRtt, &waiting), None, "backup stays idle while a normal subflow exists");
    }

    #[test]
    fn roundrobin_cycles() {
        let subflows = [v(0, 50, 10_000, false), v(1, 10, 10_000, false)];
        let mut rr = RoundRobin::default();
        let picks: Vec<_> = (0..4).map(|_| decide(&mut rr, &subflows).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
    }
}
