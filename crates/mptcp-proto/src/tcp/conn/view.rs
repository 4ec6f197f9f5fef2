//! What congestion control and the scheduler see of a connection's path.

use super::{CcCtx, TcpConn};
use crate::cc::CongestionControl;
use crate::path::PathView;

impl TcpConn {
    /// What the algorithms see of this connection's path (index 0, not a
    /// backup, not stale: the MPTCP layer above sets those).
    pub fn view(&self, cc: &dyn CongestionControl) -> PathView {
        let unsent = if self.send_buf.end() > self.snd_nxt { u64::from(self.send_buf.end() - self.snd_nxt) } else { 0 };
        PathView {
            id: self.sf,
            index: 0,
            state: self.state,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            min_rtt: self.rtt.min_rtt(),
            latest_rtt: self.rtt.latest(),
            cwnd: cc.window(self.sf),
            in_flight: self.board.pipe(),
            outstanding: self.send_buf.len() as u64,
            unsent,
            lost_unsent: self.board.lost_bytes(),
            mss: self.mss,
            backup: false,
            stale: false,
            lost: self.stats.retransmits,
            delivered: self.stats.bytes_acked,
        }
    }

    /// Every path of the owner for congestion control: the others it lent,
    /// and this one.
    pub(super) fn all_views(&self, cc: &CcCtx<'_>) -> arrayvec::ArrayVec<PathView, { crate::mptcp::MAX_SUBFLOWS }> {
        let mut all: arrayvec::ArrayVec<_, { crate::mptcp::MAX_SUBFLOWS }> =
            cc.others.iter().copied().take(crate::mptcp::MAX_SUBFLOWS - 1).collect();
        all.push(self.view(&*cc.cc));
        all
    }
}
