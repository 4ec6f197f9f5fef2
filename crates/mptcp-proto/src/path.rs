//! One view of a path (a subflow, or a plain TCP connection's one path),
//! shown alike to congestion control, the scheduler and the path manager.

use crate::cc::SubflowId;
use crate::tcp::State;
use crate::time::Duration;

/// What the algorithms may see of one subflow of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathView {
    /// Which subflow, as congestion control names it.
    pub id: SubflowId,
    /// Its index among the connection's subflows (what a scheduler answers with).
    pub index: usize,
    /// Its TCP state.
    pub state: State,
    /// Smoothed RTT (zero before the first sample).
    pub srtt: Duration,
    /// RTT variation (RFC 6298's RTTVAR).
    pub rttvar: Duration,
    /// The smallest RTT seen (zero before the first sample).
    pub min_rtt: Duration,
    /// The latest RTT sample (zero before the first sample).
    pub latest_rtt: Duration,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Bytes in flight (sent, neither acknowledged, SACKed nor deemed lost).
    pub in_flight: u64,
    /// Bytes written to it and not yet cumulatively acknowledged (in flight,
    /// SACKed, lost, and not yet sent).
    pub outstanding: u64,
    /// Bytes written to it and not yet sent.
    pub unsent: u64,
    /// Bytes deemed lost and not yet retransmitted.
    pub lost_unsent: u64,
    /// Sender MSS.
    pub mss: u32,
    /// A backup subflow (by our choice or the peer's).
    pub backup: bool,
    /// Its retransmission timer fired and nothing was acknowledged since: it
    /// may be dead (RFC 8041 §2.2).
    pub stale: bool,
    /// Segments it retransmitted (each one deemed lost first).
    pub lost: u64,
    /// Bytes the peer acknowledged on it.
    pub delivered: u64,
}

impl PathView {
    /// Bytes it could take now without queueing beyond its window: the
    /// window less what is in flight, waits to be sent, or waits to be
    /// sent again. SACKed bytes take no room, so a subflow in loss recovery
    /// keeps being given data as the SACKs come (and proportional rate
    /// reduction lets it out), rather than none until the hole is filled
    /// and then a whole window at once.
    pub fn room(&self) -> u64 {
        self.cwnd.saturating_sub(self.in_flight + self.unsent + self.lost_unsent)
    }
}
