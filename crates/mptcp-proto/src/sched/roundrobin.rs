//! Round-robin: each subflow with room in turn.

use super::{SchedView, Scheduler, candidates};

/// Round-robin over the subflows with room.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobin {
    last: Option<usize>,
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn pick(&mut self, usable: &[SchedView]) -> Option<usize> {
        let c: Vec<usize> = candidates(usable).map(|v| v.index).collect();
        let next = match self.last {
            Some(l) => c.iter().copied().find(|&i| i > l).or_else(|| c.first().copied()),
            None => c.first().copied(),
        }?;
        self.last = Some(next);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::MinRtt;
    use crate::time::Duration;

    fn v(index: usize, rtt_ms: u64, room: u64, backup: bool) -> SchedView {
        SchedView { index, srtt: Duration::from_millis(rtt_ms), cwnd: room, queued: 0, mss: 1000, backup }
    }

    #[test]
    fn minrtt_prefers_fast_and_keeps_backup_aside() {
        let subflows = [v(0, 50, 10_000, false), v(1, 10, 10_000, false), v(2, 1, 10_000, true)];
        assert_eq!(MinRtt.pick(&subflows), Some(1));
        let full = [v(0, 50, 10_000, false), v(1, 10, 0, false), v(2, 1, 10_000, true)];
        assert_eq!(MinRtt.pick(&full), Some(0));
        let only_backup = [v(2, 1, 10_000, true)];
        assert_eq!(MinRtt.pick(&only_backup), Some(2));
        let waiting = [v(1, 10, 0, false), v(2, 1, 10_000, true)];
        assert_eq!(MinRtt.pick(&waiting), None, "backup stays idle while a normal subflow exists");
    }

    #[test]
    fn roundrobin_cycles() {
        let subflows = [v(0, 50, 10_000, false), v(1, 10, 10_000, false)];
        let mut rr = RoundRobin::default();
        let picks: Vec<_> = (0..4).map(|_| rr.pick(&subflows).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
    }
}
