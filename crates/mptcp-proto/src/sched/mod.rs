//! Packet schedulers: which subflow carries the next data.
//!
//! A public, object-safe trait, chosen by a stable name. The connection asks
//! the scheduler each time it has data to place and shows it every subflow.

mod minrtt;
mod roundrobin;

pub use minrtt::MinRtt;
pub use roundrobin::RoundRobin;

use crate::time::Duration;

/// What a scheduler sees of a subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedView {
    /// Index among the connection's subflows.
    pub index: usize,
    /// Smoothed RTT (zero before the first sample).
    pub srtt: Duration,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Bytes written to it and not yet acknowledged (in flight plus queued).
    pub queued: u64,
    /// Sender MSS.
    pub mss: u32,
    /// A backup subflow (used only when no other can send).
    pub backup: bool,
}

impl SchedView {
    /// Bytes it could take now without queueing beyond its window.
    pub fn room(&self) -> u64 {
        self.cwnd.saturating_sub(self.queued)
    }
}

/// A packet scheduler.
pub trait Scheduler: Send + core::fmt::Debug {
    /// The stable name (`minrtt`, `roundrobin`, ...).
    fn name(&self) -> &'static str;
    /// Picks the subflow for the next chunk of data among `usable` (subflows
    /// that may carry data now), or None to wait.
    fn pick(&mut self, usable: &[SchedView]) -> Option<usize>;
}

/// The names of the schedulers this crate builds.
pub const NAMES: &[&str] = &["minrtt", "roundrobin"];

/// Builds a scheduler by its stable name.
pub fn by_name(name: &str) -> Option<Box<dyn Scheduler>> {
    match name {
        "minrtt" | "default" => Some(Box::new(MinRtt)),
        "roundrobin" => Some(Box::new(RoundRobin::default())),
        _ => None,
    }
}

/// The candidates a scheduler should look at: non-backup subflows with room,
/// or, only if no non-backup subflow exists at all, the backups with room.
pub(crate) fn candidates(usable: &[SchedView]) -> impl Iterator<Item = &SchedView> {
    let any_active = usable.iter().any(|v| !v.backup);
    usable.iter().filter(move |v| v.backup != any_active && v.room() > 0)
}
