//! A segment on a subflow: the MP_CAPABLE and MP_JOIN handshakes, then
//! the options and data it carries.

use super::*;
use mptcp_wire::mptcp::ResetReason;

impl MptcpConn {
    pub(super) fn learn_remote_key(&mut self, key: u64) {
        if self.remote_key.is_none() {
            self.remote_key = Some(key);
            self.rcv_base = crypto::idsn(key).wrapping_add(1);
        }
    }

    pub(super) fn fall_back(&mut self, why: Fallback) {
        if self.fallback.is_none() {
            tracing::debug!(?why, "mptcp fallback");
            self.fallback = Some(why);
            self.rcv_base = 0;
        }
    }

    /// Processes a segment that arrived on subflow `i`.
    pub fn on_segment(&mut self, now: Instant, i: usize, seg: &Segment<'_>) {
        // Outside the subflow's window, or acknowledging what was never sent, a
        // segment is only acknowledged (or reset), and its options are not
        // looked at (Linux reads them after tcp_validate_incoming and the
        // ACK check): a forged ACK must not make the connection fall back,
        // nor carry a signal.
        // In SYN-SENT only a SYN/ACK counts: a bare ACK there (forged, or
        // from an old connection) gets TCP's answer, and its MPTCP options,
        // a DATA_ACK say, must not make us fully established before we even
        // have the peer's key.
        let syn_sent_non_syn = self.subflows[i].tcp.state() == State::SynSent && !seg.flags.syn();
        // Nor does a segment without ACK (nor SYN, nor RST): TCP drops it
        // (RFC 9293 §3.10.7.4, fifth check), so its DATA_ACK must not count.
        let f = seg.flags;
        let no_ack = !f.ack() && !f.syn() && !f.rst();
        // A SYN on a synchronized subflow gets a challenge ACK (RFC 5961
        // §4.2), and nothing it carries is taken.
        let late_syn = f.syn() && self.subflows[i].tcp.is_synchronized();
        if syn_sent_non_syn || no_ack || late_syn || !self.subflows[i].tcp.accepts(seg) {
            self.subflow_input(now, i, seg);
            self.after_events(now);
            return;
        }
        let opts = if self.fallback.is_some() { SegOptions::default() } else { SegOptions::parse(seg.options_raw) };
        if seg.flags.rst() && opts.rst_reason.is_some() {
            self.subflows[i].mp.peer_reset_reason = opts.rst_reason;
        }
        // RFC 8684 §3.5: MP_FASTCLOSE with our key ends the whole connection.
        if opts.fastclose.is_some_and(|k| k != self.local_key) {
            self.counters.mp_fastclose_bad_key += 1;
        }
        if opts.fastclose == Some(self.local_key) {
            self.counters.mp_fastclose_rx += 1;
            for sf in &mut self.subflows {
                if !sf.mp.gone {
                    sf.tcp.abort();
                    sf.mp.gone = true;
                }
            }
            self.finish(CloseReason::Reset);
            return;
        }
        if let Some(dsn) = opts.fail
            && self.on_mp_fail(now, i, dsn, seg.flags.rst())
        {
            self.after_events(now);
            return;
        }
        let was_synchronized = self.subflows[i].tcp.is_synchronized();
        let role = self.subflows[i].mp.role;
        if f.syn() && f.ack() && !was_synchronized {
            match role {
                SubflowRole::InitialActive => match opts.mpc {
                    Some(m) if m.flags_acceptable() && m.sender_key.is_some() => {
                        self.learn_remote_key(m.sender_key.unwrap_or_default());
                        self.checksum |= m.checksum_required();
                        self.peer_deny_join_initial = m.deny_join_id0();
                    }
                    // RFC 8684 §3.1: no MP_CAPABLE in the SYN/ACK: regular TCP.
                    _ => self.fall_back(Fallback::SynAckWithoutMpc),
                },
                SubflowRole::JoinActive => {
                    let ok = match (opts.join, self.remote_key) {
                        (Some(MpJoin::SynAck { backup, addr_id, hmac, nonce }), Some(rk)) => {
                            let sf = &mut self.subflows[i].mp;
                            sf.peer_backup = backup;
                            sf.remote_id = Some(addr_id);
                            sf.join.remote_nonce = Some(nonce);
                            // RFC 8684 §3.2: the listener proves it knows both keys.
                            crypto::join_synack_hmac(rk, self.local_key, nonce, sf.join.local_nonce) == hmac
                        }
                        _ => false,
                    };
                    if !ok {
                        self.counters.join_hmac_failures += 1;
                        self.reset_subflow(now, i, ResetReason::MptcpError);
                        return;
                    }
                    let rto = self.subflows[i].tcp.rto();
                    let sf = &mut self.subflows[i].mp;
                    sf.third_ack_due = true;
                    sf.ack_due = true;
                    // RFC 8684 §3.2: the third ACK is sent again until the fourth ACK.
                    sf.third_ack_resend_at = Some(now + rto);
                }
                _ => {}
            }
        }
        if !f.syn() && f.ack() && !f.rst() {
            match role {
                SubflowRole::InitialPassive if !self.fully_established && self.fallback.is_none() => match opts.mpc {
                    Some(m) if m.sender_key.is_some() && m.receiver_key == Some(self.local_key) => {
                        self.learn_remote_key(m.sender_key.unwrap_or_default());
                        self.peer_deny_join_initial = m.deny_join_id0();
                        if !self.fully_established {
                            self.fully_established = true;
                            self.pm_events.push_back(PmEvent::Established);
                        }
                    }
                    _ if self.remote_key.is_some() => {}
                    _ => self.fall_back(Fallback::AckWithoutMpc),
                },
                SubflowRole::InitialPassive => {}
                SubflowRole::JoinPassive if !self.subflows[i].mp.ready => {
                    let ok = match (opts.join, self.remote_key, self.subflows[i].mp.join.remote_nonce) {
                        (Some(MpJoin::Ack { hmac }), Some(rk), Some(rn)) => {
                            let ln = self.subflows[i].mp.join.local_nonce;
                            crypto::join_ack_hmac(rk, self.local_key, rn, ln) == hmac
                        }
                        _ => false,
                    };
                    if !ok {
                        self.counters.join_hmac_failures += 1;
                        self.reset_subflow(now, i, ResetReason::Prohibited);
                        return;
                    }
                    let sf = &mut self.subflows[i].mp;
                    sf.ready = true;
                    // The fourth ACK: tell the joiner it may send data.
                    sf.ack_due = true;
                    self.counters.joins += 1;
                    self.pm_events.push_back(PmEvent::SubflowEstablished(self.pm_subflow(i)));
                }
                SubflowRole::JoinPassive if matches!(opts.join, Some(MpJoin::Ack { .. })) => {
                    // The third ACK again: our fourth ACK was lost, send another.
                    self.subflows[i].mp.ack_due = true;
                }
                SubflowRole::JoinActive if self.subflows[i].mp.third_ack_due => {
                    // The fourth ACK arrived: the subflow may carry data.
                    let sf = &mut self.subflows[i].mp;
                    sf.third_ack_due = false;
                    sf.third_ack_resend_at = None;
                    sf.ready = true;
                    sf.first_mapping_pending = true;
                    self.counters.joins += 1;
                    self.pm_events.push_back(PmEvent::SubflowEstablished(self.pm_subflow(i)));
                }
                _ => {}
            }
        }
        self.subflow_input(now, i, seg);
        // RFC 8684 §3.7: our first data acknowledged without any MPTCP option
        // (the server fell back, say, having missed our MP_CAPABLEs): from
        // here the subflow's bytes are the stream, and nothing may go on it
        // again at the data level.
        if role == SubflowRole::InitialActive
            && !self.fully_established
            && self.fallback.is_none()
            && !opts.any
            && f.ack()
            && !f.syn()
            && !f.rst()
            && self.subflows[i].tcp.una_rel_seq() > 1
        {
            self.untrusted(now, i, Fallback::DataAckedWithoutDss, ResetReason::Middlebox);
        }
        // RFC 8684 §3.1: data with MP_CAPABLE (the client's first data, sent
        // until the connection is fully established) maps from IDSN + 1 at
        // subflow sequence 1, for the data-level length it carries.
        if self.fallback.is_none()
            && role == SubflowRole::InitialPassive
            && let Some(MpCapable { data_len: Some(len), sender_key: Some(k), checksum, .. }) = opts.mpc
            && Some(k) == self.remote_key
        {
            let dsn = crypto::idsn(k).wrapping_add(1);
            let m = RecvMapping { rel_ssn: 1, dsn, len: u64::from(len), checksum, data_fin: false };
            self.add_recv_mapping(now, i, m);
        }
        let mut mapped = opts.mpc.is_some_and(|m| m.data_len.is_some());
        if self.fallback.is_none()
            && let Some(dss) = opts.dss
        {
            mapped |= dss.mapping.is_some();
            self.on_dss(now, i, &dss, seg);
        }
        if matches!(role, SubflowRole::InitialActive | SubflowRole::InitialPassive)
            && self.subflows[i].tcp.is_synchronized()
        {
            self.subflows[i].mp.ready = true;
        }
        if self.fallback.is_none() && (!opts.add_addr.is_empty() || !opts.remove.is_empty() || opts.prio.is_some()) {
            let good_before = self.counters.add_addr;
            self.on_signals(now, i, &opts);
            // RFC 8684 §3.1: a non-echo ADD_ADDR also makes the client fully
            // established; one whose HMAC failed proves nothing (a forged one
            // did, and the fuzz target found the stream read twice after).
            if self.counters.add_addr > good_before
                && opts.add_addr.iter().any(|a| !a.echo)
                && !self.fully_established
                && self.remote_key.is_some()
            {
                self.fully_established = true;
                self.pm_events.push_back(PmEvent::Established);
            }
        }
        // Always: lent bytes not taken now would be lost.
        self.drain_lent(i, seg);
        if !self.subflows[i].mp.gone {
            self.drain_subflow(now, i, mapped);
        }
        self.after_events(now);
    }

    /// Subflow `i`'s TCP takes the segment.
    fn subflow_input(&mut self, now: Instant, i: usize, seg: &Segment<'_>) {
        let lend = self.may_lend(i);
        self.subflows[i].tcp.set_lend(lend);
        let facts = self.facts();
        // Coupled congestion control sees the other subflows (RFC 6356).
        let others = self.views_except(self.subflows[i].id);
        let sf = &mut self.subflows[i];
        let mut hook = Hook { mp: &mut sf.mp, conn: facts };
        let mut ctx = CcCtx { cc: &mut *self.cc, others: &others, hook: Some(&mut hook) };
        let una = sf.tcp.una_rel_seq();
        sf.tcp.on_segment(now, seg, &mut ctx);
        if sf.tcp.una_rel_seq() > una {
            sf.mp.stale = false;
        }
    }

    /// The joiner sends its third ACK again, with backoff, until the fourth
    /// ACK comes (RFC 8684 §3.2); after `THIRD_ACK_TRIES` it gives up.
    pub(super) fn resend_third_acks(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            let sf = &mut self.subflows[i];
            if sf.mp.gone || !sf.mp.third_ack_due || sf.mp.third_ack_resend_at.is_none_or(|t| t > now) {
                continue;
            }
            if sf.mp.third_ack_tries >= THIRD_ACK_TRIES {
                sf.mp.third_ack_resend_at = None;
                self.reset_subflow(now, i, ResetReason::Unspecified);
                continue;
            }
            sf.mp.third_ack_tries += 1;
            sf.mp.ack_due = true;
            let backoff = sf.tcp.rto().saturating_mul(1 << sf.mp.third_ack_tries);
            sf.mp.third_ack_resend_at = Some(now + backoff.min(Duration::from_secs(60)));
        }
    }

    pub(super) fn reset_subflow(&mut self, _now: Instant, i: usize, reason: ResetReason) {
        let sf = &mut self.subflows[i];
        sf.mp.reset_reason = Some(reason.code());
        sf.tcp.abort();
    }
}
