//! Packet schedulers: which subflows carry the next data, how much, or
//! whether to wait.
//!
//! A public, object-safe trait, chosen by a stable name or brought by the
//! user through a factory (`MptcpConfig::scheduler_factory`). The connection
//! asks each time it has bytes to place (new data, or a reinjection of data
//! a failing subflow held) and shows every subflow that could carry them;
//! the scheduler answers with a [`Decision`].

mod blest;
mod ecf;
mod minrtt;
mod redundant;
mod roundrobin;

pub use blest::Blest;
pub use ecf::Ecf;
pub use minrtt::MinRtt;
pub use redundant::Redundant;
pub use roundrobin::RoundRobin;

use crate::mptcp::MAX_SUBFLOWS;
use crate::path::PathView;
use crate::time::Instant;
use arrayvec::ArrayVec;

/// What the connection has to place, and where it could go.
#[derive(Debug, Clone, Copy)]
pub struct SchedInput<'a> {
    /// The time.
    pub now: Instant,
    /// The subflows that may carry data now (established, past their
    /// handshake); stale ones included and marked.
    pub paths: &'a [PathView],
    /// Bytes waiting to be placed (within the peer's data-level window for
    /// new data).
    pub pending: u64,
    /// These bytes are a reinjection (sent before on a subflow that failed or
    /// stalled), not new data.
    pub reinjection: bool,
    /// The peer's data-level receive window: from the oldest byte not yet
    /// DATA_ACKed to its right edge (`u64::MAX` while unknown).
    pub peer_window: u64,
}

/// A scheduler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Map up to `max_bytes` (at least one segment is always allowed) on
    /// `paths` (their `PathView::index`): the first carries the mapping,
    /// the others the same bytes again (a redundant scheduler).
    Send {
        /// Where, first the one that counts.
        paths: ArrayVec<usize, MAX_SUBFLOWS>,
        /// The most bytes to place now.
        max_bytes: u64,
    },
    /// Place nothing until `until` (or until something changes: an ACK, a write).
    Wait {
        /// When to ask again at the latest.
        until: Instant,
    },
    /// Place nothing until something changes.
    Idle,
}

impl Decision {
    /// Everything that is pending, on one path.
    pub fn one(index: usize) -> Decision {
        let mut paths = ArrayVec::new();
        paths.push(index);
        Decision::Send { paths, max_bytes: u64::MAX }
    }
}

/// A packet scheduler (one instance per connection).
pub trait Scheduler: Send + core::fmt::Debug {
    /// The stable name (`minrtt`, `roundrobin`, ...).
    fn name(&self) -> &'static str;
    /// Where the pending bytes go.
    fn decide(&mut self, input: &SchedInput<'_>) -> Decision;
}

/// Builds a scheduler for each new connection (a user's own, through
/// `MptcpConfig::scheduler_factory`).
pub trait SchedulerFactory: Send + Sync + core::fmt::Debug {
    /// The new connection's scheduler.
    fn build(&self) -> Box<dyn Scheduler>;
}

/// The names of the schedulers this crate builds.
pub const NAMES: &[&str] = &["minrtt", "roundrobin", "redundant", "blest", "ecf"];

/// Builds a scheduler by its stable name.
pub fn by_name(name: &str) -> Option<Box<dyn Scheduler>> {
    match name {
        "minrtt" | "default" => Some(Box::new(MinRtt)),
        "roundrobin" => Some(Box::new(RoundRobin::default())),
        "redundant" => Some(Box::new(Redundant)),
        "blest" => Some(Box::new(Blest::default())),
        "ecf" => Some(Box::new(Ecf::default())),
        _ => None,
    }
}

/// The paths a scheduler should look at, with room in their window: those
/// not stale (all of them when every one is stale), and of those the
/// non-backup ones, or the backups when there is no other.
pub fn candidates<'a>(paths: &'a [PathView]) -> impl Iterator<Item = &'a PathView> + 'a {
    eligible(paths).filter(|v| v.room() > 0)
}

/// The paths of the class [`candidates`] draws from, with room or not (the
/// fast subflow BLEST and ECF may wait for is one of them).
pub(crate) fn eligible<'a>(paths: &'a [PathView]) -> impl Iterator<Item = &'a PathView> + 'a {
    let any_fresh = paths.iter().any(|v| !v.stale);
    let fresh = move |v: &&PathView| !v.stale || !any_fresh;
    let any_active = paths.iter().filter(fresh).any(|v| !v.backup);
    paths.iter().filter(fresh).filter(move |v| v.backup != any_active)
}

/// The lowest smoothed RTT first (ties by index).
pub(crate) fn fastest<'a>(paths: impl Iterator<Item = &'a PathView>) -> Option<&'a PathView> {
    paths.min_by_key(|v| (v.srtt, v.index))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cc::SubflowId;
    use crate::tcp::State;
    use crate::time::Duration;

    /// A path for the schedulers' tests.
    pub(crate) fn path(index: usize, rtt_ms: u64, room: u64, backup: bool) -> PathView {
        PathView {
            id: SubflowId(index as u32),
            index,
            state: State::Established,
            srtt: Duration::from_millis(rtt_ms),
            rttvar: Duration::ZERO,
            min_rtt: Duration::from_millis(rtt_ms),
            latest_rtt: Duration::from_millis(rtt_ms),
            cwnd: room,
            in_flight: 0,
            outstanding: 0,
            unsent: 0,
            lost_unsent: 0,
            mss: 1000,
            backup,
            stale: false,
            lost: 0,
            delivered: 0,
        }
    }

    pub(crate) fn decide(s: &mut dyn Scheduler, paths: &[PathView]) -> Option<usize> {
        let input =
            SchedInput { now: Instant::ZERO, paths, pending: 1 << 20, reinjection: false, peer_window: u64::MAX };
        match s.decide(&input) {
            Decision::Send { paths, .. } => paths.first().copied(),
            _ => None,
        }
    }

    #[test]
    fn stale_paths_only_when_all_are() {
        let mut stale = path(0, 1, 10_000, false);
        stale.stale = true;
        let fresh = path(1, 50, 10_000, false);
        assert_eq!(decide(&mut MinRtt, &[stale, fresh]), Some(1), "the fresh one, slower as it is");
        assert_eq!(decide(&mut MinRtt, &[stale]), Some(0), "a stale one rather than none");
    }

    #[test]
    fn names_build() {
        for n in NAMES {
            assert_eq!(by_name(n).map(|s| s.name()), Some(*n));
        }
        assert!(by_name("bogus").is_none());
    }
}
