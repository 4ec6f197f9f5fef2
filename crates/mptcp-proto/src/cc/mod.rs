//! Congestion control: a public, object-safe trait designed for Multipath TCP
//! from the start.
//!
//! One controller instance serves one connection and every subflow of it (a
//! plain TCP connection is a connection with one subflow, id 0). Each call
//! names the subflow it is about and shows the controller every subflow
//! (a [`PathView`](crate::path::PathView): window, RTTs, MSS, bytes in
//! flight...), so coupled algorithms (LIA, OLIA,
//! BALIA, wVegas) fit without changing the trait. Uncoupled ones (Reno, CUBIC)
//! keep one independent state per subflow and ignore the others.

mod balia;
mod cubic;
mod lia;
mod olia;
mod reno;
mod wvegas;

pub use balia::Balia;
pub use cubic::Cubic;
pub use lia::Lia;
pub use olia::Olia;
pub use reno::Reno;
pub use wvegas::WVegas;

use crate::path::PathView;
use crate::time::{Duration, Instant};

/// A subflow of a connection, as congestion control names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SubflowId(pub u32);

/// What one ACK did on a subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckInfo {
    /// Bytes newly acknowledged (cumulatively or by SACK).
    pub bytes_acked: u64,
    /// An RTT sample taken from this ACK, if any.
    pub rtt: Option<Duration>,
    /// Smoothed RTT after this ACK.
    pub srtt: Duration,
    /// Smallest RTT seen.
    pub min_rtt: Duration,
    /// Bytes in flight after this ACK.
    pub in_flight: u64,
    /// The sender had less data than the window allowed (the window was not
    /// the limit, so it should not grow on this evidence).
    pub app_limited: bool,
    /// The subflow is in loss recovery (windows do not grow then).
    pub in_recovery: bool,
    /// The sender MSS.
    pub mss: u32,
}

/// What a congestion event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossInfo {
    /// Bytes in flight when the losses were found (before they left it).
    pub in_flight: u64,
    /// Bytes newly deemed lost.
    pub lost_bytes: u64,
    /// When the highest lost segment was sent (what a delay-based or
    /// OLIA-style controller measures its epochs by).
    pub largest_lost_sent_at: Option<Instant>,
    /// The peer echoed a congestion mark (ECN) rather than a segment being
    /// lost (this stack does not negotiate ECN yet: always false).
    pub ecn: bool,
}

impl LossInfo {
    /// A loss found with `in_flight` bytes in flight, nothing else known
    /// (for tests and simple callers).
    pub fn in_flight(in_flight: u64) -> LossInfo {
        LossInfo { in_flight, lost_bytes: 0, largest_lost_sent_at: None, ecn: false }
    }
}

/// A congestion controller for one connection's subflows.
///
/// Object-safe so a user can plug in their own (`Box<dyn CongestionControl>`).
pub trait CongestionControl: Send + core::fmt::Debug {
    /// The stable name (`reno`, `cubic`, `lia`, ...).
    fn name(&self) -> &'static str;
    /// A subflow starts (its handshake completed); `mss` is its sender MSS.
    fn on_subflow_added(&mut self, sf: SubflowId, now: Instant, mss: u32);
    /// A subflow is gone.
    fn on_subflow_removed(&mut self, sf: SubflowId);
    /// An ACK acknowledged data on `sf`. `all` shows every subflow, `sf` included.
    fn on_ack(&mut self, sf: SubflowId, now: Instant, ack: &AckInfo, all: &[PathView]);
    /// Loss was detected on `sf` (once per window of data: the start of a
    /// recovery episode); `loss` says what was found.
    fn on_congestion_event(&mut self, sf: SubflowId, now: Instant, loss: &LossInfo, all: &[PathView]);
    /// The retransmission timer expired on `sf` with `in_flight` bytes in
    /// flight; `all` shows every subflow, `sf` included.
    fn on_rto(&mut self, sf: SubflowId, now: Instant, in_flight: u64, all: &[PathView]);
    /// `bytes` went out on `sf` (new data or a retransmission); `in_flight`
    /// is what is in flight after them. Most controllers need nothing here.
    fn on_sent(&mut self, _sf: SubflowId, _now: Instant, _bytes: u64, _in_flight: u64) {}
    /// The rate at which `sf` should pace its segments, bytes per second
    /// (None: no pacing, the window alone limits).
    fn pacing_rate(&self, _sf: SubflowId) -> Option<u64> {
        None
    }
    /// The controller's own figures for `sf` (name, value), for reports.
    fn metrics(&self, _sf: SubflowId) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// The congestion window of `sf`, bytes.
    fn window(&self, sf: SubflowId) -> u64;
    /// The slow-start threshold of `sf`, bytes (`u64::MAX` before the first loss).
    fn ssthresh(&self, sf: SubflowId) -> u64;
}

/// Builds a controller for each new connection (a user's own, through
/// `MptcpConfig::cc_factory`).
pub trait CongestionControlFactory: Send + Sync + core::fmt::Debug {
    /// The new connection's controller.
    fn build(&self) -> Box<dyn CongestionControl>;
}

/// The names of the controllers this crate builds.
pub const NAMES: &[&str] = &["cubic", "reno", "lia", "olia", "balia", "wvegas"];

/// Builds a controller by its stable name.
pub fn by_name(name: &str) -> Option<Box<dyn CongestionControl>> {
    match name {
        "reno" => Some(Box::new(Reno::default())),
        "cubic" => Some(Box::new(Cubic::default())),
        "lia" => Some(Box::new(Lia::default())),
        "olia" => Some(Box::new(Olia::default())),
        "balia" => Some(Box::new(Balia::default())),
        "wvegas" => Some(Box::new(WVegas::default())),
        _ => None,
    }
}

/// RFC 6928: the initial window, ten segments (capped in bytes as the RFC says).
pub(crate) fn initial_window(mss: u32) -> u64 {
    let mss = u64::from(mss.max(1));
    (10 * mss).min((2 * mss).max(14_600)).max(2 * mss)
}

/// Per-subflow state kept in a small vector indexed by subflow id.
#[derive(Debug, Clone)]
pub(crate) struct PerSubflow<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for PerSubflow<T> {
    fn default() -> Self {
        PerSubflow { slots: Vec::new() }
    }
}

impl<T> PerSubflow<T> {
    pub(crate) fn insert(&mut self, sf: SubflowId, v: T) {
        let i = sf.0 as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some(v);
    }
    pub(crate) fn remove(&mut self, sf: SubflowId) {
        if let Some(s) = self.slots.get_mut(sf.0 as usize) {
            *s = None;
        }
    }
    pub(crate) fn get(&self, sf: SubflowId) -> Option<&T> {
        self.slots.get(sf.0 as usize).and_then(Option::as_ref)
    }
    pub(crate) fn get_mut(&mut self, sf: SubflowId) -> Option<&mut T> {
        self.slots.get_mut(sf.0 as usize).and_then(Option::as_mut)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An ACK of `bytes` on a 10 ms path with a 1,000-byte MSS, nothing
    /// else to say (the controllers' tests).
    pub(crate) fn ack(bytes: u64) -> AckInfo {
        AckInfo {
            bytes_acked: bytes,
            rtt: None,
            srtt: Duration::from_millis(10),
            min_rtt: Duration::from_millis(10),
            in_flight: 0,
            app_limited: false,
            in_recovery: false,
            mss: 1000,
        }
    }

    /// Subflow `id`'s view with this RTT (the coupled controllers' tests).
    pub(crate) fn view(id: u32, rtt_ms: u64) -> PathView {
        crate::sched::tests::path(id as usize, rtt_ms, 0, false)
    }

    #[test]
    fn names_build() {
        for n in NAMES {
            assert_eq!(by_name(n).map(|c| c.name()), Some(*n));
        }
        assert!(by_name("bogus").is_none());
        assert_eq!(NAMES.len(), 6);
        for n in ["olia", "balia", "wvegas"] {
            assert!(NAMES.contains(&n), "{n} registered");
        }
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5_360);
    }
}
