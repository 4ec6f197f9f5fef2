//! Segment arrival (RFC 9293 §3.10.7), with PAWS (RFC 7323), RFC 5961's
//! defences and SACK/RACK loss detection.

use super::{CcCtx, CloseReason, ConnEvent, State, TcpConn};
use crate::cc::AckInfo;
use crate::tcp::segment::Segment;
use crate::tcp::seq::Seq;
use crate::time::{Duration, Instant};

impl TcpConn {
    /// Processes one segment addressed to this connection.
    pub fn on_segment(&mut self, now: Instant, seg: &Segment<'_>, cc: &mut CcCtx<'_>) {
        self.stats.segments_received += 1;
        self.lent = None;
        match self.state {
            State::Closed => {}
            State::SynSent => self.on_segment_syn_sent(now, seg, cc),
            _ => self.on_segment_synchronized(now, seg, cc),
        }
    }

    fn on_segment_syn_sent(&mut self, now: Instant, seg: &Segment<'_>, cc: &mut CcCtx<'_>) {
        let f = seg.flags;
        // RFC 9293 §3.10.7.3: an ACK must acknowledge our SYN, not more.
        let ack_ok = f.ack() && seg.ack > self.iss && seg.ack <= self.snd_nxt;
        if f.ack() && !ack_ok {
            if !f.rst() {
                self.rst_reply = Some(seg.ack);
            }
            return;
        }
        if f.rst() {
            if ack_ok {
                self.enter_closed(CloseReason::Refused);
            }
            return;
        }
        if !f.syn() {
            return;
        }
        self.take_syn(seg, now);
        if ack_ok {
            self.snd_una = seg.ack;
            if self.syn_xmits == 1
                && let Some(t) = self.syn_sent_at
            {
                self.rtt.sample(now - t);
            }
            self.established(now, cc);
            self.ack_due = true;
        } else {
            // RFC 9293 §3.5: simultaneous open; answer with SYN/ACK.
            self.set_state(State::SynReceived);
            self.syn_due = true;
        }
    }

    /// RFC 5961 §3-§5: answer a suspicious segment with an ACK, within a rate limit.
    fn challenge_ack(&mut self, now: Instant) {
        let (start, count) = self.challenge_window;
        if now - start >= Duration::from_secs(1) {
            self.challenge_window = (now, 1);
        } else if count >= self.cfg.challenge_ack_limit {
            return;
        } else {
            self.challenge_window.1 += 1;
        }
        self.stats.challenge_acks += 1;
        self.ack_due = true;
    }

    /// Whether `seg` passes RFC 9293 §3.10.7.4's tests of its sequence number
    /// (in the window) and of its acknowledgment (in SYN-RECEIVED, of our
    /// SYN; later, of nothing not yet sent, nor older than RFC 5961 §5.2
    /// allows); true where they do not apply: SYN-SENT, CLOSED, TIME-WAIT,
    /// and for RSTs and SYNs, which TCP checks its own way. A segment that
    /// fails is only acknowledged or reset: nothing it carries is looked at.
    pub fn accepts(&self, seg: &Segment<'_>) -> bool {
        let f = seg.flags;
        if matches!(self.state, State::SynSent | State::Closed | State::TimeWait) || f.rst() || f.syn() {
            return true;
        }
        if !self.window_accepts(seg) {
            return false;
        }
        if !f.ack() {
            return true;
        }
        if self.state == State::SynReceived {
            return seg.ack > self.snd_una && seg.ack <= self.snd_nxt;
        }
        seg.ack <= self.snd_nxt && (seg.ack >= self.snd_una || self.snd_una - seg.ack <= self.max_snd_wnd as u32)
    }

    fn window_accepts(&self, seg: &Segment<'_>) -> bool {
        let wnd = self.rcv_adv_edge - self.rcv_nxt;
        let len = seg.seq_len();
        let in_window = |s: Seq| s.in_range(self.rcv_nxt, self.rcv_nxt + wnd);
        match (len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            (0, _) => in_window(seg.seq),
            (_, 0) => false,
            (_, _) => in_window(seg.seq) || in_window(seg.seq + (len - 1)),
        }
    }

    fn on_segment_synchronized(&mut self, now: Instant, seg: &Segment<'_>, cc: &mut CcCtx<'_>) {
        let f = seg.flags;
        // RFC 7323 §5.3: PAWS. A segment older than TS.Recent is a duplicate.
        if let (Some(ts), Some((tsval, _))) = (self.ts, seg.timestamps)
            && !f.rst()
            && (tsval.wrapping_sub(ts.recent) as i32) < 0
            && self.state != State::SynReceived
        {
            self.stats.dropped_segments += 1;
            self.ack_due = true;
            return;
        }
        if self.state == State::TimeWait {
            self.on_segment_time_wait(now, seg);
            return;
        }
        // RFC 9293 §3.10.7.4 first: is the segment in the window?
        let acceptable = self.window_accepts(seg);
        // A retransmitted SYN in SYN-RECEIVED: our SYN/ACK was lost.
        if self.state == State::SynReceived && f.syn() && !f.ack() && seg.seq == self.irs {
            self.syn_due = true;
            return;
        }
        if !acceptable {
            self.stats.dropped_segments += 1;
            if !f.rst() {
                // Zero-window probes and old duplicates get an ACK.
                self.ack_due = true;
            }
            return;
        }
        if f.rst() {
            // RFC 5961 §3.2: only an exact match resets; anything else in the window is challenged.
            if seg.seq == self.rcv_nxt {
                let reason = if self.state == State::SynReceived { CloseReason::Refused } else { CloseReason::Reset };
                self.enter_closed(reason);
            } else {
                self.challenge_ack(now);
            }
            return;
        }
        if f.syn() {
            // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
            self.challenge_ack(now);
            return;
        }
        if !f.ack() {
            return;
        }
        self.last_received = now;
        self.keepalive_probes = 0;
        self.arm_keepalive(now);
        // RFC 7323 §4.3: TS.Recent follows the segment that covers the left window edge.
        if let (Some(ts), Some((tsval, _))) = (self.ts.as_mut(), seg.timestamps)
            && seg.seq <= self.rcv_nxt
        {
            ts.recent = tsval;
        }
        if self.state == State::SynReceived {
            if seg.ack > self.snd_una && seg.ack <= self.snd_nxt {
                self.snd_una = seg.ack;
                if self.syn_xmits == 1
                    && let Some(t) = self.syn_sent_at
                {
                    self.rtt.sample(now - t);
                }
                self.snd_wnd = u64::from(seg.window) << self.snd_shift;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.established(now, cc);
            } else {
                self.rst_reply = Some(seg.ack);
                return;
            }
        }
        if !self.on_ack(now, seg, cc) {
            return;
        }
        self.on_data(now, seg);
        if f.fin() {
            self.on_fin(now, seg);
        }
    }

    fn on_segment_time_wait(&mut self, now: Instant, seg: &Segment<'_>) {
        if seg.flags.rst() {
            // RFC 1337: ignore RSTs in TIME-WAIT (no assassination).
            return;
        }
        if seg.flags.fin() || seg.flags.syn() {
            // A retransmitted FIN: acknowledge it and restart the 2 MSL timer.
            self.ack_due = true;
            self.time_wait_deadline = Some(now + self.cfg.time_wait);
        }
    }

    /// The ACK field and the peer's window. Returns false when the segment is to be dropped.
    fn on_ack(&mut self, now: Instant, seg: &Segment<'_>, cc: &mut CcCtx<'_>) -> bool {
        if seg.ack > self.snd_nxt {
            // RFC 5961 §5.2: acknowledges what was never sent.
            self.challenge_ack(now);
            return false;
        }
        if seg.ack < self.snd_una && self.snd_una - seg.ack > self.max_snd_wnd as u32 {
            // RFC 5961 §5.2: too old to be real.
            self.challenge_ack(now);
            return false;
        }
        // RFC 9293 §3.10.7.4: update the send window from the newest segment.
        if self.snd_wl1 < seg.seq || (self.snd_wl1 == seg.seq && self.snd_wl2 <= seg.ack) {
            let before = self.snd_wnd;
            self.snd_wnd = u64::from(seg.window) << self.snd_shift;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            if self.snd_wnd > 0 && before == 0 {
                self.persist_deadline = None;
                self.persist_backoff = 0;
            }
        }
        let sack: arrayvec::ArrayVec<(Seq, Seq), 4> = if self.sack_ok { seg.sack.clone() } else { Default::default() };
        if seg.ack < self.snd_una {
            return true; // old, but its data may still be new
        }
        let out = self.board.on_ack(now, seg.ack, &sack);
        let advanced = seg.ack > self.snd_una;
        if advanced {
            // Data bytes acknowledged, from the send buffer's 64-bit positions
            // (sequence-number comparisons against the ISN stop making sense
            // 2 GiB into a connection).
            let before = self.send_buf.start_position();
            self.snd_una = seg.ack;
            self.send_buf.ack_to(seg.ack.min(self.send_buf.end()));
            self.stats.bytes_acked += self.send_buf.start_position() - before;
            self.rto_count = 0;
            // New data acknowledged: the path works again, so the RTO backoff
            // ends here, even when the ACK covers a retransmission (Karn's rule
            // forbids the sample, not the reset; Linux does the same).
            self.rtt.reset_backoff();
            if self.write_blocked && self.send_buf.free() > 0 {
                self.write_blocked = false;
                self.events.push_back(ConnEvent::Writable);
            }
        }
        if let Some(rtt) = out.rtt {
            self.rtt.sample(rtt);
        }
        // RFC 8985: losses are the segments sent before one now known delivered.
        let (marked, timer) = self.board.detect_losses(now, self.reo_wnd());
        self.rack_deadline = timer;
        if let Some(rp) = self.recovery_point
            && self.snd_una >= rp
        {
            self.recovery_point = None;
            self.rto_recovery = false;
            self.prr = None;
        }
        // A new episode on the first loss, and again when a retransmission is
        // lost: the window was still too large (RFC 6675 §5, as Linux reacts).
        if self.loss_reduces(now, marked) {
            self.enter_recovery(now, marked.bytes, cc);
        }
        if out.newly_acked > 0 {
            let info = AckInfo {
                bytes_acked: out.newly_acked,
                rtt: out.rtt,
                srtt: self.rtt.srtt(),
                min_rtt: self.rtt.min_rtt(),
                in_flight: self.board.pipe(),
                app_limited: !self.cwnd_limited,
                // After an RTO the window slow-starts (RFC 5681 §3.1); only fast recovery freezes it.
                in_recovery: self.recovery_point.is_some() && !self.rto_recovery,
                mss: self.mss,
            };
            let all = self.all_views(cc);
            cc.cc.on_ack(self.sf, now, &info, &all);
            // RFC 6937: what fast recovery may send on this ACK.
            if let Some(prr) = &mut self.prr {
                let target = cc.cc.window(self.sf).max(u64::from(self.mss));
                prr.on_ack(out.newly_acked, self.board.pipe(), target, u64::from(self.mss));
            }
            // New data acknowledged: a new RTO, and no tail probe pending.
            self.tlp_deadline = None;
            self.rearm_rto(now);
        }
        if out.fin_acked {
            match self.state {
                State::FinWait1 => self.set_state(State::FinWait2),
                State::Closing => self.enter_time_wait(now),
                State::LastAck => self.enter_closed(CloseReason::Normal),
                _ => {}
            }
        }
        true
    }

    /// Starts a loss-recovery episode: congestion control reduces once. The
    /// flight size it is given is what was in the network before the losses
    /// just found (RFC 6675's pipe: SACKed bytes are not in flight).
    pub(super) fn enter_recovery(&mut self, now: Instant, just_lost: u64, cc: &mut CcCtx<'_>) {
        self.recovery_point = Some(self.snd_nxt);
        self.rto_recovery = false;
        self.last_reduction = Some(now);
        self.stats.recoveries += 1;
        let all = self.all_views(cc);
        let loss = crate::cc::LossInfo {
            in_flight: self.board.pipe() + just_lost,
            lost_bytes: just_lost,
            largest_lost_sent_at: self.board.largest_lost_sent_at(),
            ecn: false,
        };
        cc.cc.on_congestion_event(self.sf, now, &loss, &all);
        self.prr = Some(crate::tcp::prr::Prr::new(loss.in_flight));
    }

    /// Payload: into the receive buffer, and decide when to acknowledge.
    fn on_data(&mut self, now: Instant, seg: &Segment<'_>) {
        if seg.payload.is_empty() {
            return;
        }
        match self.state {
            State::Established | State::FinWait1 | State::FinWait2 => {}
            _ => return, // data after the peer's FIN is ignored
        }
        if self.app_closed {
            // Nobody will read it: reset (RFC 9293 §3.10.7.4, as Linux does).
            self.rst_due = true;
            self.enter_closed(CloseReason::Aborted);
            return;
        }
        let offset = |s: Seq| self.recv_buf.next() as i64 + i64::from(s.diff(self.rcv_nxt));
        let at = offset(seg.seq);
        let (at, data) = if at < 0 {
            let skip = (-at) as usize;
            (0u64, seg.payload.get(skip..).unwrap_or(&[]))
        } else {
            (at as u64, seg.payload)
        };
        let had_ooo = self.recv_buf.has_ooo();
        let r = match self.try_lend(at, seg.payload.len() - data.len(), data.len()) {
            Some(r) => r,
            None => self.recv_buf.insert(at, data),
        };
        self.stats.ofo_queue += u64::from(r.out_of_order);
        self.stats.ofo_drop += u64::from(r.over_range_limit);
        self.stats.duplicate_segments += u64::from(r.in_order == 0 && !r.out_of_order && !r.over_range_limit);
        if r.in_order > 0 {
            self.rcv_nxt += r.in_order as u32;
            self.stats.bytes_received += r.in_order as u64;
            self.events.push_back(ConnEvent::Readable);
        }
        // RFC 5681 §4.2: out of order, filling a hole or a duplicate: ACK at once.
        if r.out_of_order || r.dropped || had_ooo || r.in_order == 0 {
            self.ack_due = true;
        } else {
            // A super-segment (GRO) counts as the wire segments it was made of.
            self.unacked_segments += (data.len() as u32).div_ceil(self.mss.max(1));
            if self.unacked_segments >= 2 || self.cfg.delayed_ack == Duration::ZERO {
                self.ack_due = true;
            } else if self.delack_deadline.is_none() {
                self.delack_deadline = Some(now + self.cfg.delayed_ack);
            }
        }
    }

    fn on_fin(&mut self, now: Instant, seg: &Segment<'_>) {
        // Only a FIN right after all the data counts; an early one comes again.
        if seg.seq + seg.payload.len() as u32 != self.rcv_nxt || self.fin_received {
            if self.fin_received {
                self.ack_due = true;
            }
            return;
        }
        self.fin_received = true;
        self.rcv_nxt += 1;
        self.ack_due = true;
        self.events.push_back(ConnEvent::Readable);
        match self.state {
            State::SynReceived | State::Established => self.set_state(State::CloseWait),
            State::FinWait1 => {
                if self.fin_seq.is_some_and(|f| self.snd_una > f) {
                    self.enter_time_wait(now);
                } else {
                    self.set_state(State::Closing);
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.set_state(State::TimeWait);
        self.rto_deadline = None;
        self.tlp_deadline = None;
        self.persist_deadline = None;
        self.keepalive_deadline = None;
        self.time_wait_deadline = Some(now + self.cfg.time_wait);
    }
}
