//! Timers: retransmission (RFC 6298), tail loss probe and RACK reordering
//! (RFC 8985), delayed ACK, zero-window persist, keepalive, TIME-WAIT.

use super::{CcCtx, CloseReason, State, TcpConn};
use crate::time::Instant;

impl TcpConn {
    /// When `on_timeout` should next be called.
    pub fn next_timeout(&self) -> Option<Instant> {
        [
            self.rto_deadline,
            self.tlp_deadline,
            self.rack_deadline,
            self.delack_deadline,
            self.persist_deadline,
            self.keepalive_deadline,
            self.time_wait_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether a segment is due now (so the owner should poll for output).
    pub fn wants_transmit(&self) -> bool {
        self.ack_due
            || self.syn_due
            || self.rst_due
            || self.rst_reply.is_some()
            || self.tlp_due
            || self.probe_due
            || self.keepalive_due
            || self.board.lost_count() > 0
            || (self.fin_queued && self.fin_seq.is_none())
            || (self.send_buf.end() > self.snd_nxt && self.fin_seq.is_none())
    }

    /// Runs the timers that are due at `now`.
    pub fn on_timeout(&mut self, now: Instant, cc: &mut CcCtx<'_>) {
        if self.time_wait_deadline.is_some_and(|t| t <= now) {
            self.time_wait_deadline = None;
            self.enter_closed(CloseReason::Normal);
            return;
        }
        if self.delack_deadline.is_some_and(|t| t <= now) {
            self.delack_deadline = None;
            self.ack_due = true;
        }
        if self.rack_deadline.is_some_and(|t| t <= now) {
            self.rack_deadline = None;
            let (marked, timer) = self.board.detect_losses(now, self.reo_wnd());
            self.rack_deadline = timer;
            if self.loss_reduces(now, marked) {
                self.enter_recovery(now, marked.bytes, cc);
            }
        }
        if self.tlp_deadline.is_some_and(|t| t <= now) {
            self.tlp_deadline = None;
            if !self.board.is_empty() && self.recovery_point.is_none() {
                self.tlp_due = true;
            }
        }
        if self.persist_deadline.is_some_and(|t| t <= now) {
            self.persist_deadline = None;
            self.persist_backoff += 1;
            self.probe_due = true;
        }
        if self.keepalive_deadline.is_some_and(|t| t <= now) {
            self.keepalive_deadline = None;
            self.on_keepalive(now);
        }
        if self.rto_deadline.is_some_and(|t| t <= now) {
            self.rto_deadline = None;
            self.on_rto(now, cc);
        }
    }

    fn on_rto(&mut self, now: Instant, cc: &mut CcCtx<'_>) {
        match self.state {
            State::SynSent | State::SynReceived => {
                if self.syn_xmits > self.cfg.syn_retries {
                    self.enter_closed(CloseReason::TimedOut);
                } else {
                    self.rtt.back_off();
                    self.syn_due = true;
                }
            }
            State::Closed | State::TimeWait => {}
            _ => {
                if self.board.is_empty() {
                    return;
                }
                self.rto_count += 1;
                self.stats.timeouts += 1;
                if self.rto_count > self.cfg.max_retransmissions {
                    self.enter_closed(CloseReason::TimedOut);
                    return;
                }
                // FlightSize as RFC 6675 counts it: SACKed bytes have left the network.
                let flight = self.board.pipe();
                self.board.mark_all_lost();
                let all = self.all_views(cc);
                cc.cc.on_rto(self.sf, now, flight, &all);
                self.rtt.back_off();
                // RFC 6675 §5.1: no further reduction for this window of data.
                self.recovery_point = Some(self.snd_nxt);
                self.rto_recovery = true;
                self.prr = None;
                self.last_reduction = Some(now);
                self.tlp_deadline = None;
                self.tlp_due = false;
                self.rack_deadline = None;
            }
        }
    }

    fn on_keepalive(&mut self, now: Instant) {
        let Some(ka) = self.cfg.keepalive else { return };
        if !matches!(self.state, State::Established | State::CloseWait) || !self.board.is_empty() {
            self.arm_keepalive(now);
            return;
        }
        if self.keepalive_probes >= ka.count {
            self.enter_closed(CloseReason::TimedOut);
            return;
        }
        self.keepalive_probes += 1;
        self.keepalive_due = true;
        self.keepalive_deadline = Some(now + ka.interval);
    }

    /// Sends a window probe now (for the MPTCP data level's persist timer):
    /// a segment with SEG.SEQ = SND.NXT - 1, which the peer answers with an
    /// ACK carrying its window (`TCPWinProbe`).
    pub fn probe_window(&mut self) {
        if matches!(self.state, State::Established | State::CloseWait) {
            self.keepalive_due = true;
            self.stats.win_probes += 1;
        }
    }

    /// Restarts the keepalive idle timer.
    pub(super) fn arm_keepalive(&mut self, now: Instant) {
        if let Some(ka) = self.cfg.keepalive {
            self.keepalive_deadline = Some(now + ka.idle);
        }
    }

    /// RFC 6298 §5.3: restart the timer while data is outstanding.
    pub(super) fn rearm_rto(&mut self, now: Instant) {
        self.rto_deadline = if self.board.is_empty() { None } else { Some(now + self.rtt.rto()) };
    }
}
