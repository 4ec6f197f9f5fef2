//! What congestion control and the scheduler see of the connection's
//! subflows.

use super::*;

impl MptcpConn {
    /// The views of every live subflow but `me`.
    ///
    /// Idle backup subflows take no part in the coupling while a regular
    /// one exists: they carry nothing then, and counting their initial
    /// windows in the total cut a lossy regular subflow's increase to a
    /// fraction (found by `mptcp soak`, seed 2411: one regular subflow at
    /// 3 segments beside three idle backups, 0.3 Mbit/s where Reno alone
    /// makes 0.9).
    pub(super) fn views_except(&self, me: SubflowId) -> arrayvec::ArrayVec<PathView, MAX_SUBFLOWS> {
        let all = self.views();
        let regular = all.iter().any(|v| !v.backup);
        all.into_iter().filter(|v| v.id != me && !(regular && v.backup)).collect()
    }

    pub(super) fn views(&self) -> arrayvec::ArrayVec<PathView, MAX_SUBFLOWS> {
        self.subflows
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.mp.gone && s.tcp.is_synchronized())
            .take(MAX_SUBFLOWS)
            .map(|(i, _)| self.path_view(i))
            .collect()
    }

    /// What the algorithms see of subflow `i`.
    pub(super) fn path_view(&self, i: usize) -> PathView {
        let s = &self.subflows[i];
        let mut v = s.tcp.view(&*self.cc);
        v.index = i;
        v.backup = s.mp.backup || s.mp.peer_backup;
        v.stale = s.mp.stale;
        v
    }
}
