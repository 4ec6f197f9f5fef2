//! Opportunistic retransmission and penalisation (Raiciu et al., NSDI 2012,
//! §4.2; RFC 8041 §2.2): when the peer's data-level window stops new data
//! and the oldest unacknowledged bytes wait on a slower subflow, a faster
//! subflow with room sends them again; if they still block the window a
//! round trip of the fast subflow later, the slow subflow's window is
//! halved (at most once per that round trip), so that a small receive
//! buffer is not held hostage by the slowest path.

use super::*;
use crate::cc::LossInfo;

impl MptcpConn {
    /// Called when new data waits beyond the peer's window. Returns whether
    /// bytes were queued for reinjection.
    pub(super) fn window_blocked(&mut self, now: Instant) -> bool {
        if !self.opportunistic || self.snd_una == self.snd_nxt || !self.reinject.is_empty() {
            return false;
        }
        let una = self.snd_una;
        // The subflow whose copy of the oldest unacknowledged byte is still
        // outstanding on it.
        let Some((slow, end)) = (0..self.subflows.len()).find_map(|i| {
            let s = &self.subflows[i];
            if s.mp.gone {
                return None;
            }
            s.mp.sent.holding(una, s.tcp.una_rel_seq()).map(|end| (i, end))
        }) else {
            return false;
        };
        let carried_elsewhere =
            (0..self.subflows.len()).any(|i| i != slow && self.subflows[i].mp.sent.holding(una, 0).is_some());
        let slow_view = self.path_view(slow);
        // The fastest other subflow that could send now.
        let Some(fast) = (0..self.subflows.len())
            .filter(|&i| i != slow && self.opportunistic_candidate(i))
            .map(|i| self.path_view(i))
            .filter(|v| v.room() > 0 && v.srtt > Duration::ZERO)
            .min_by_key(|v| (v.srtt, v.index))
        else {
            return false;
        };
        // Only a clearly faster subflow: on paths alike the copy would cost
        // as much as it saves.
        if fast.srtt.saturating_mul(2) >= slow_view.srtt {
            return false;
        }
        if !carried_elsewhere && self.opportunistic_dsn != Some(una) {
            // First the bytes go again on the fast subflow.
            let len = end.wrapping_sub(una).min(MAX_MAPPING as u64);
            self.opportunistic_dsn = Some(una);
            self.opportunistic_at = Some(now);
            self.reinject.push_back((una, len));
            self.counters.reinjected_bytes += len;
            self.counters.opportunistic_reinjections += 1;
            return true;
        }
        // Still blocked on the same bytes a round trip of the fast subflow
        // later: the slow one is penalised (its window halved), at most once
        // per that round trip.
        let stuck = self.opportunistic_at.is_some_and(|t| now >= t + fast.srtt);
        if stuck && self.penalised_at.is_none_or(|t| now >= t + fast.srtt) {
            self.penalised_at = Some(now);
            let views = self.views();
            let loss = LossInfo::in_flight(slow_view.cwnd);
            self.cc.on_congestion_event(slow_view.id, now, &loss, &views);
            self.counters.penalisations += 1;
        }
        false
    }

    /// A subflow that may take an opportunistic retransmission: usable, not
    /// stale, not a backup, past its first mapping.
    fn opportunistic_candidate(&self, i: usize) -> bool {
        let s = &self.subflows[i];
        s.mp.ready
            && !s.mp.gone
            && !s.mp.stale
            && !s.mp.first_mapping_pending
            && !s.mp.backup
            && !s.mp.peer_backup
            && matches!(s.tcp.state(), State::Established | State::CloseWait)
    }
}
