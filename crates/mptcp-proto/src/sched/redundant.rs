//! Redundant: every segment on every subflow that can take it, for the
//! lowest latency at the cost of capacity (as the Linux out-of-tree
//! `redundant` scheduler: backups only when no other subflow is usable, and
//! reinjections placed by the default rule).

use super::{Decision, SchedInput, Scheduler, candidates};
use crate::mptcp::MAX_SUBFLOWS;
use crate::path::PathView;
use arrayvec::ArrayVec;

/// The same bytes on all subflows with room, the lowest-RTT one first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Redundant;

impl Scheduler for Redundant {
    fn name(&self) -> &'static str {
        "redundant"
    }

    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        if input.reinjection {
            // Bytes a failing subflow held: once, where the default puts them.
            return super::MinRtt.decide(input);
        }
        let mut chosen: ArrayVec<&PathView, MAX_SUBFLOWS> = candidates(input.paths).take(MAX_SUBFLOWS).collect();
        if chosen.is_empty() {
            return Decision::Idle;
        }
        // The first one carries the mapping: the one whose copy arrives first.
        chosen.sort_by_key(|v| (v.srtt, v.index));
        // No path is pushed beyond its window: the smallest room decides,
        // and one segment is always allowed.
        let room = chosen.iter().map(|v| v.room()).min().unwrap_or(0);
        let seg = chosen.iter().map(|v| u64::from(v.mss)).min().unwrap_or(1).max(1);
        let paths = chosen.iter().map(|v| v.index).collect();
        Decision::Send { paths, max_bytes: room.max(seg) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::path;
    use crate::time::Instant;

    fn send(paths: &[PathView], reinjection: bool) -> Decision {
        let input = SchedInput { now: Instant::ZERO, paths, pending: 1 << 20, reinjection, peer_window: u64::MAX };
        Redundant.decide(&input)
    }

    fn targets(d: &Decision) -> (Vec<usize>, u64) {
        match d {
            Decision::Send { paths, max_bytes } => (paths.to_vec(), *max_bytes),
            other => panic!("expected Send, got {other:?}"),
        }
    }

    #[test]
    fn redundant_lists_every_fresh_path_lowest_rtt_first_and_no_backup() {
        let paths = [
            path(0, 40, 30_000, false),
            path(1, 10, 20_000, false),
            path(2, 1, 50_000, true),
            path(3, 25, 40_000, false),
        ];
        let (who, max) = targets(&send(&paths, false));
        assert_eq!(who, [1, 3, 0], "every non-backup path, by RTT; the backup left out");
        assert_eq!(max, 20_000, "no path beyond its room: the smallest room");
    }

    #[test]
    fn redundant_skips_stale_and_full_paths_and_uses_backups_only_alone() {
        let mut stale = path(0, 5, 30_000, false);
        stale.stale = true;
        let full = path(1, 10, 0, false);
        let fresh = path(3, 30, 8_000, false);
        let backup = path(2, 1, 50_000, true);
        let (who, _) = targets(&send(&[stale, full, backup, fresh], false));
        assert_eq!(who, [3], "neither the stale nor the full path, nor the backup");
        assert_eq!(send(&[full, backup], false), Decision::Idle, "a backup waits while a normal path exists");
        let (who, _) = targets(&send(&[backup, path(4, 2, 50_000, true)], false));
        assert_eq!(who, [2, 4], "only backups: all of them");
    }

    #[test]
    fn redundant_allows_one_segment_when_room_is_smaller() {
        let paths = [path(0, 10, 30_000, false), path(1, 40, 300, false)];
        let (who, max) = targets(&send(&paths, false));
        assert_eq!(who, [0, 1]);
        assert_eq!(max, 1000, "one segment (the mss) at least");
    }

    #[test]
    fn redundant_reinjects_once_on_the_lowest_rtt_path() {
        let paths = [path(0, 40, 30_000, false), path(1, 10, 20_000, false)];
        let (who, _) = targets(&send(&paths, true));
        assert_eq!(who, [1]);
    }
}
