//! The connection's timers: the subflows', ADD_ADDR and third-ACK
//! resends, the data-level retransmission, the close.

use super::*;

impl MptcpConn {
    /// When the connection-level timer is due.
    pub fn next_timeout(&self) -> Option<Instant> {
        let sub = self.subflows.iter().filter_map(|s| s.tcp.next_timeout()).min();
        let add = self.announced.iter().filter(|a| !a.echoed).filter_map(|a| a.resend_at).min();
        let third = self.subflows.iter().filter(|s| !s.mp.gone).filter_map(|s| s.mp.third_ack_resend_at).min();
        let fail = self.subflows.iter().filter(|s| !s.mp.gone).filter_map(|s| s.mp.mp_fail_deadline).min();
        let close = [self.fin_resend_at, self.orphan_deadline, self.passive_fin_deadline];
        let probe = self.window_probe_at;
        [sub, add, third, self.data_rtx_at, fail, self.sched_wake, probe].into_iter().chain(close).flatten().min()
    }

    /// The data-level retransmission timeout: a few of the slowest subflow's
    /// RTT, 200 ms at least, doubled per unanswered retransmission.
    pub(super) fn data_rto(&self) -> Duration {
        let srtt = self.subflows.iter().filter(|s| !s.mp.gone).map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
        let base = srtt.saturating_mul(4).max(Duration::from_millis(200));
        base.saturating_mul(1 << self.data_rtx_backoff.min(8)).min(Duration::from_secs(60))
    }

    /// The data-level retransmission timer fired: when every subflow has had
    /// all it carried acknowledged and still the DATA_ACK lags, the peer
    /// dropped that data at the data level (beyond its window, say): send the
    /// oldest unacknowledged data again.
    pub(super) fn on_data_rtx_timeout(&mut self, now: Instant) {
        self.data_rtx_at = None;
        if self.fallback.is_some() || self.snd_una == self.snd_nxt {
            return;
        }
        if self.join_reserve.is_some_and(|(_, dsn, _)| dsn == self.snd_una) {
            // The oldest bytes are a join's first mapping, about to go out there.
            self.data_rtx_at = Some(now + self.data_rto());
            return;
        }
        let idle = self
            .subflows
            .iter()
            .filter(|s| s.mp.ready && !s.mp.gone)
            .all(|s| s.tcp.una_rel_seq() == s.tcp.write_rel_seq());
        if idle && self.reinject.is_empty() {
            let len = self.snd_nxt.wrapping_sub(self.snd_una).min(MAX_MAPPING as u64);
            self.reinject.push_back((self.snd_una, len));
            self.counters.data_retransmits += 1;
            self.counters.reinjected_bytes += len;
            self.data_rtx_backoff += 1;
        }
        self.data_rtx_at = Some(now + self.data_rto());
    }

    /// Whether the peer's data-level window is closed while data waits and
    /// nothing is outstanding: no ACK will come by itself then, and a lost
    /// window update would stall the connection for good. Each subflow's
    /// window is the data level's, but a subflow holds only what the window
    /// let out, so TCP's persist timer never runs: this is the data level's.
    fn data_window_closed(&self) -> bool {
        let queued = self.snd_una.wrapping_add(self.snd_buf.len() as u64) != self.snd_nxt;
        let closed = self.snd_wnd_end.is_some_and(|e| (e.wrapping_sub(self.snd_nxt) as i64) <= 0);
        self.fallback.is_none() && queued && closed && self.snd_una == self.snd_nxt && self.reinject.is_empty()
    }

    /// Arms the data-level persist timer if the window is closed (RFC 9293
    /// §3.8.6.1 at the data level): the data-level RTO, doubled per probe
    /// unanswered by an open window, at most 60 s.
    pub(super) fn arm_window_probe(&mut self, now: Instant) {
        if self.window_probe_at.is_none() && self.data_window_closed() {
            let wait = self.data_rto().saturating_mul(1 << self.window_probe_backoff.min(10));
            self.window_probe_at = Some(now + wait.min(Duration::from_secs(60)));
        }
    }

    /// The persist timer fired with the window still closed: a subflow sends
    /// a probe the peer must answer (an old sequence number, as a
    /// keepalive, `TCPWinProbe`), whose ACK carries the window as it is.
    fn on_window_probe(&mut self, now: Instant) {
        self.window_probe_at = None;
        if !self.data_window_closed() {
            self.window_probe_backoff = 0;
            return;
        }
        if let Some(i) = self.signal_subflow(None) {
            self.subflows[i].tcp.probe_window();
        }
        self.window_probe_backoff += 1;
        self.arm_window_probe(now);
    }

    /// Runs the timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        let facts = self.facts();
        let mut stale = Vec::new();
        for i in 0..self.subflows.len() {
            if self.subflows[i].tcp.next_timeout().is_none_or(|t| t > now) {
                continue;
            }
            let others = self.views_except(self.subflows[i].id);
            let sf = &mut self.subflows[i];
            let before = sf.tcp.stats(&*self.cc).timeouts;
            let mut hook = Hook { mp: &mut sf.mp, conn: facts };
            let mut ctx = CcCtx { cc: &mut *self.cc, others: &others, hook: Some(&mut hook) };
            sf.tcp.on_timeout(now, &mut ctx);
            if sf.tcp.stats(&*self.cc).timeouts > before && sf.mp.ready && !sf.mp.gone && !sf.mp.stale {
                sf.mp.stale = true;
                stale.push(i);
            }
        }
        // A subflow whose RTO fired may be dead (its path gone, RFC 8041
        // §2.2): while another works, its data goes out there as well.
        if self.subflows.iter().any(|s| s.mp.ready && !s.mp.gone && !s.mp.stale) {
            for i in stale {
                self.reinject_from(i);
            }
        }
        if self.announced.iter().any(|a| !a.echoed && a.resend_at.is_some_and(|t| t <= now)) {
            self.send_announcements(now);
        }
        if self.sched_wake.is_some_and(|t| t <= now) {
            // The scheduler's wait is over: it decides again on the next poll.
            self.sched_wake = None;
        }
        if self.data_rtx_at.is_some_and(|t| t <= now) {
            self.on_data_rtx_timeout(now);
        }
        if self.window_probe_at.is_some_and(|t| t <= now) {
            self.on_window_probe(now);
        }
        self.resend_third_acks(now);
        self.mp_fail_timeouts(now);
        if self.orphan_deadline.is_some_and(|t| t <= now) {
            self.orphan_deadline = None;
            let reason = self.subflows.first().and_then(|s| s.tcp.close_reason()).unwrap_or(CloseReason::Reset);
            self.finish(reason);
        }
        if self.passive_fin_deadline.is_some_and(|t| t <= now) {
            self.passive_close_subflows(now);
        }
        if self.fin_resend_at.is_some_and(|t| t <= now) {
            self.fin_resend_at = None;
            if !self.fin_acked {
                for sf in self.subflows.iter_mut().filter(|s| s.mp.ready && !s.mp.gone) {
                    sf.mp.ack_due = true;
                }
            }
        }
        self.after_events(now);
    }
}
