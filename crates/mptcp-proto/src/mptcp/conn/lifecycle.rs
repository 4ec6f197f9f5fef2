//! Subflows ending (reset, closed alone, or with the connection), their places
//! taken again by new ones, and what they carried going out again; the close
//! after both DATA_FINs.

use super::*;

impl MptcpConn {
    pub(super) fn push_subflow(&mut self, mut tcp: TcpConn, mp: SubflowMp) -> usize {
        let id = SubflowId(self.next_subflow_id);
        self.next_subflow_id += 1;
        tcp.set_subflow_id(id);
        let sf = Subflow { tcp, id, mp };
        // A gone subflow's place is taken again: joins refused for a bad HMAC,
        // or paths that come and go, would otherwise grow the list forever.
        if let Some((k, ..)) = self.reusable_subflow() {
            self.subflows[k] = sf;
            return k;
        }
        self.subflows.push(sf);
        self.subflows.len() - 1
    }

    /// The place the next subflow takes, if it reuses one, and the 4-tuple
    /// it had: a joined subflow that is gone, its TCP closed (not in
    /// TIME-WAIT). Never the initial subflow's, which the connection keeps
    /// referring to (fallback, the C flag, its ports).
    pub fn reusable_subflow(&self) -> Option<(usize, SocketAddr, SocketAddr)> {
        let mut gone = self.subflows.iter().enumerate().skip(1);
        gone.find(|(_, s)| s.mp.gone && s.tcp.state() == State::Closed).map(|(k, s)| (k, s.tcp.local(), s.tcp.remote()))
    }

    /// Subflow-level events: the handshake, failures and closes.
    pub(super) fn after_events(&mut self, now: Instant) {
        if !self.pending_rm.is_empty() {
            self.send_pending_withdrawals();
        }
        for i in 0..self.subflows.len() {
            while let Some(e) = self.subflows[i].tcp.poll_event() {
                match e {
                    ConnEvent::Connected if i == 0 => self.events.push_back(ConnEvent::Connected),
                    ConnEvent::Closed(reason) => self.subflow_gone(now, i, reason),
                    // In fallback the subflow's FIN is the end of the stream: the
                    // application hears of it even when no data came with it.
                    ConnEvent::Readable if i == 0 && self.fallback.is_some() && self.fallback_eof() => {
                        self.events.push_back(ConnEvent::Readable)
                    }
                    _ => {}
                }
            }
        }
        if !self.closing_subflows && self.fallback.is_none() {
            self.close_single_subflows(now);
        }
        // A subflow let go of bytes the DATA_ACK had passed: room to write.
        let held = self.held_before_una();
        if held < self.held_last {
            self.events.push_back(ConnEvent::Writable);
        }
        self.held_last = held;
        // After both DATA_FINs, a subflow lingering in TIME-WAIT is done as far
        // as the connection goes.
        let closing = self.closing_subflows;
        let done = |s: &Subflow| s.mp.gone || (closing && s.tcp.state() == State::TimeWait);
        if self.subflows.iter().all(done) && !self.subflows.is_empty() && self.closed.is_none() {
            if self.closing_subflows || self.fallback.is_some() || !self.fully_established {
                let reason = if self.closing_subflows {
                    CloseReason::Normal
                } else {
                    self.subflows.first().and_then(|s| s.tcp.close_reason()).unwrap_or(CloseReason::Reset)
                };
                self.finish(reason);
            } else if self.orphan_deadline.is_none() {
                // No subflow left, but one may come (break-before-make): wait.
                self.orphan_deadline = Some(now + CLOSE_TIMEOUT);
            }
        } else if self.subflows.iter().any(|s| !s.mp.gone) {
            self.orphan_deadline = None;
        }
    }

    /// A subflow closed on its own, the connection going on (RFC 8684
    /// §3.3.3: a FIN without DATA_FIN closes that subflow only): the peer's
    /// FIN is answered with ours while another subflow carries the
    /// connection, and one closed both ways is gone for the connection
    /// (its TIME-WAIT goes on in TCP).
    pub(super) fn close_single_subflows(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            if self.subflows[i].mp.gone {
                continue;
            }
            match self.subflows[i].tcp.state() {
                State::CloseWait => {
                    let other = self
                        .subflows
                        .iter()
                        .enumerate()
                        .any(|(k, s)| k != i && s.mp.ready && !s.mp.gone && s.tcp.state() == State::Established);
                    if other {
                        self.subflows[i].tcp.close();
                    }
                }
                State::TimeWait => self.subflow_gone(now, i, CloseReason::Normal),
                _ => {}
            }
        }
    }

    pub(super) fn subflow_gone(&mut self, _now: Instant, i: usize, reason: CloseReason) {
        let sf = &mut self.subflows[i];
        if sf.mp.gone {
            return;
        }
        sf.mp.gone = true;
        self.cc.on_subflow_removed(sf.id);
        if self.closed.is_none() && !self.closing_subflows && self.fallback.is_none() {
            let mut info = self.pm_subflow(i);
            info.error = info.error.or(Some(reason));
            self.pm_events.push_back(PmEvent::SubflowClosed(info));
        }
        // Data mapped on it and not acknowledged at the data level goes out again elsewhere.
        self.reinject_from(i);
    }

    /// Queues for reinjection the data mapped on subflow `i` and not yet
    /// acknowledged at the data level.
    pub(super) fn reinject_from(&mut self, i: usize) {
        let una = self.snd_una;
        let ranges: Vec<(u64, u64)> = self.subflows[i].mp.sent.outstanding().collect();
        for (dsn, len) in ranges {
            let end = dsn.wrapping_add(len);
            if end.wrapping_sub(una) as i64 > 0 {
                let start = if dsn.wrapping_sub(una) as i64 >= 0 { dsn } else { una };
                let n = end.wrapping_sub(start);
                self.counters.reinjected_bytes += n;
                self.reinject.push_back((start, n));
            }
        }
    }

    /// Closes the subflows once both DATA_FINs are through (RFC 8684 §3.3.3).
    ///
    /// The active closer closes them at once. The passive closer (the
    /// peer's DATA_FIN came first) answers the FINs the peer sends and
    /// closes the others itself only after a while (RFC 8041 §3.6): a
    /// subflow it closed first would sit in TIME-WAIT on its side, which an
    /// application that let its peer close first means to avoid.
    pub(super) fn maybe_close_subflows(&mut self, now: Instant) {
        if self.fallback.is_some() {
            return;
        }
        if self.closing_subflows {
            if self.passive_fin_deadline.is_some() {
                self.passive_close_subflows(now);
            }
            return;
        }
        if self.fin_acked && self.peer_fin_consumed {
            self.closing_subflows = true;
            if self.passive_close {
                let rto = self.subflows.iter().map(|s| s.tcp.rto()).max().unwrap_or(Duration::ZERO);
                self.passive_fin_deadline = Some(now + rto.max(Duration::from_millis(200)));
                self.passive_close_subflows(now);
                return;
            }
            for sf in &mut self.subflows {
                if !sf.mp.gone {
                    sf.tcp.close();
                }
            }
        } else if self.fin_dsn.is_some() && !self.fin_acked && self.fin_resend_at.is_none() {
            let srtt = self.subflows.iter().map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
            self.fin_resend_at = Some(now + srtt.saturating_mul(2).max(Duration::from_millis(200)));
        }
    }

    /// The passive closer's side of closing the subflows: those the peer
    /// closed are answered; after the deadline, the rest are closed too.
    pub(super) fn passive_close_subflows(&mut self, now: Instant) {
        let late = self.passive_fin_deadline.is_some_and(|t| t <= now);
        let mut waiting = false;
        for sf in &mut self.subflows {
            if sf.mp.gone {
                continue;
            }
            match sf.tcp.state() {
                State::CloseWait => sf.tcp.close(),
                State::Established if late => sf.tcp.close(),
                State::Established => waiting = true,
                _ => {}
            }
        }
        if !waiting {
            self.passive_fin_deadline = None;
        }
    }
}
