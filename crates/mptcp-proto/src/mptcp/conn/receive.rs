//! The receive side of the data sequence space (RFC 8684 §3.3): mappings
//! checked against the data they come with, DSS checksums verified over whole
//! mappings (§3.3.1), MP_FAIL and the infinite mapping (§3.7), and the
//! fallback to TCP after data flowed, when it is still allowed.

use super::{Fallback, MptcpConn, SCRATCH_LEN};
use crate::mptcp::mapping::RecvMapping;
use crate::tcp::ConnEvent;
use crate::tcp::recv_buf::RecvBuffer;
use crate::tcp::segment::Segment;
use crate::time::Instant;
use mptcp_wire::crypto::DssChecksum;
use mptcp_wire::mptcp::{Dss, ResetReason};

/// How long an MP_FAIL waits for the peer's infinite mapping before the
/// subflow is reset (the kernel waits TCP_RTO_MAX, 120 s).
pub(super) const MP_FAIL_TIMEOUT: crate::time::Duration = crate::time::Duration::from_secs(120);

impl MptcpConn {
    /// Whether the connection may still fall back to TCP in mid-stream (the
    /// kernel's `allow_infinite_fallback`): no subflow ever joined, no data
    /// sent twice at the data level, no out-of-order data at the data level.
    /// Then the one subflow's bytes are the data stream, in order.
    pub(super) fn infinite_fallback_allowed(&self) -> bool {
        self.counters.joins == 0
            && self.subflows.iter().skip(1).all(|s| s.mp.gone && !s.mp.ready)
            && self.counters.reinjected_bytes == 0
            && !self.rcv.has_ooo()
    }

    /// A relative 32-bit subflow sequence number of subflow `i`, unwrapped
    /// near what has been read.
    fn unwrap_rel(&self, i: usize, ssn: u32) -> u64 {
        let read = self.subflows[i].tcp.read_offset();
        let near = read as i64 + 1 + i64::from(ssn.wrapping_sub((read as u32).wrapping_add(1)) as i32);
        near.max(1) as u64
    }

    pub(super) fn on_dss(&mut self, now: Instant, i: usize, dss: &Dss, seg: &Segment<'_>) {
        if let Some(a) = dss.data_ack {
            let ack = if a.wide { a.value } else { crate::mptcp::expand(a.value as u32, self.snd_una) };
            // RFC 8684 §3.3.5: the window is relative to the DATA_ACK; keep the
            // furthest right edge seen (a plausible one: not behind what we sent).
            let edge = ack.wrapping_add(self.subflows[i].tcp.advertised_window(seg));
            let plausible = ack.wrapping_sub(self.snd_una) <= self.snd_nxt.wrapping_sub(self.snd_una) + 1;
            if plausible && self.snd_wnd_end.is_none_or(|e| (edge.wrapping_sub(e) as i64) > 0) {
                self.snd_wnd_end = Some(edge);
            }
            // RFC 8684 §3.1: the client is fully established at the first DATA_ACK;
            // only then can the peer take joins (it knows our key).
            if !self.fully_established {
                self.fully_established = true;
                self.pm_events.push_back(crate::pm::PmEvent::Established);
            }
            let limit = self.snd_nxt.wrapping_add(u64::from(self.fin_dsn.is_some()));
            let advance = ack.wrapping_sub(self.snd_una);
            if advance > 0 && advance <= limit.wrapping_sub(self.snd_una) {
                self.snd_drop(advance);
                self.data_rtx_backoff = 0;
                self.data_rtx_at = (self.snd_una != self.snd_nxt).then(|| now + self.data_rto());
                if self.fin_dsn.is_some_and(|f| ack == f.wrapping_add(1)) {
                    self.fin_acked = true;
                }
                self.events.push_back(ConnEvent::Writable);
            } else if advance > 0 && (advance as i64) > 0 {
                self.counters.data_ack_beyond_sent += 1;
            }
        }
        let Some(m) = dss.mapping else { return };
        self.ack_wide |= m.dsn_wide;
        let dsn = if m.dsn_wide { m.dsn } else { crate::mptcp::expand(m.dsn as u32, self.data_ack()) };
        if m.len == 0 && !dss.data_fin {
            // RFC 8684 §3.7: the infinite mapping: from this subflow byte on, no more mappings.
            let rel = self.unwrap_rel(i, m.ssn);
            self.on_infinite_mapping(now, i, rel);
            return;
        }
        if dss.data_fin {
            // RFC 8684 §3.3.3: the DATA_FIN takes the mapping's last data sequence number.
            let fin = dsn.wrapping_add(u64::from(m.len)).wrapping_sub(1);
            // Only one the buffer could reach: one behind what was received,
            // or beyond the window, would leave the stream without an end
            // (the first DATA_FIN taken is kept).
            if self.peer_fin.is_none() {
                if fin.wrapping_sub(self.data_ack()) <= self.rcv.span() {
                    self.peer_fin = Some(fin);
                } else {
                    self.counters.data_fin_out_of_window += 1;
                }
            }
        }
        if m.len == 0 || (m.ssn == 0 && dss.data_fin) {
            return;
        }
        let len = u64::from(m.len) - u64::from(dss.data_fin);
        if len == 0 {
            return;
        }
        if self.checksum && m.checksum.is_none() {
            // RFC 8684 §3.3.1: checksums were negotiated; a mapping without one is an error.
            self.counters.fallback_failed += 1;
            self.reset_subflow(now, i, ResetReason::MptcpError);
            return;
        }
        let rel = self.unwrap_rel(i, m.ssn);
        let map = RecvMapping { rel_ssn: rel, dsn, len, checksum: m.checksum, data_fin: dss.data_fin };
        // A mapping covers (at least the start of) the segment it comes with;
        // one for data further on is not taken (as the kernel does).
        if !seg.payload.is_empty() {
            let start = self.unwrap_rel(i, seg.seq.0.wrapping_sub(self.subflows[i].tcp.irs().0));
            let end = start + seg.payload.len() as u64;
            if end > self.subflows[i].tcp.read_offset() + 1 && (start < rel || start - rel >= len) {
                self.counters.dss_not_matching += 1;
                self.untrusted(now, i, Fallback::BadMapping, ResetReason::MptcpError);
                return;
            }
        }
        self.add_recv_mapping(now, i, map);
    }

    /// Records a mapping received on subflow `i`; one contradicting a held
    /// mapping makes the subflow's data untrusted.
    pub(super) fn add_recv_mapping(&mut self, now: Instant, i: usize, m: RecvMapping) {
        if self.subflows[i].mp.recv.add(m).is_err() {
            self.counters.dss_not_matching += 1;
            self.untrusted(now, i, Fallback::BadMapping, ResetReason::MptcpError);
        }
    }

    /// Subflow `i`'s data cannot be placed by its mappings: fall back to TCP
    /// while that is allowed, else reset the subflow with `reason`
    /// (RFC 8684 §3.7; the kernel's `DssFallback` / `FallbackFailed`).
    pub(super) fn untrusted(&mut self, now: Instant, i: usize, why: Fallback, reason: ResetReason) {
        if self.fallback.is_some() {
            return;
        }
        if i == 0 && self.infinite_fallback_allowed() {
            // The peer learns of it from our infinite mapping, unless it sent one.
            self.enter_fallback(why, why != Fallback::InfiniteMapping);
        } else {
            self.counters.fallback_failed += 1;
            self.reset_subflow(now, i, reason);
        }
    }

    /// Falls back to TCP after data flowed. Received: a mapping being verified
    /// is delivered, and from then on the subflow's bytes follow in order.
    /// Sent: what is on the subflow is TCP's to deliver; with `announce`, an
    /// infinite mapping tells the peer where the unmapped stream starts.
    pub(super) fn enter_fallback(&mut self, why: Fallback, announce: bool) {
        if self.fallback.is_some() {
            return;
        }
        tracing::debug!(?why, "mptcp fallback after data");
        for k in 0..self.subflows.len() {
            let mp = &mut self.subflows[k].mp;
            mp.mp_fail_due = None;
            mp.awaiting_infinite = false;
            mp.mp_fail_deadline = None;
            if let Some((m, bytes)) = mp.csum_stage.take() {
                self.place_data(m.dsn, &bytes);
            }
        }
        self.fallback = Some(why);
        self.counters.dss_fallback += 1;
        self.snd_drop(self.snd_nxt.wrapping_sub(self.snd_una));
        self.snd_nxt = self.snd_una;
        self.reinject.clear();
        if announce && let Some(sf) = self.subflows.first_mut() {
            sf.mp.infinite_map = Some((sf.tcp.write_rel_seq(), self.snd_nxt));
            sf.mp.ack_due = true;
            self.counters.infinite_map_tx += 1;
        }
        self.events.push_back(ConnEvent::Writable);
    }

    /// MP_FAIL arrived on subflow `i` (RFC 8684 §3.7). Returns true when the
    /// subflow was reset (the segment needs no more processing).
    pub(super) fn on_mp_fail(&mut self, now: Instant, i: usize, dsn: u64, rst: bool) -> bool {
        self.counters.mp_fail_rx += 1;
        if rst {
            // The peer reset the subflow over a checksum failure: the data
            // from the failed mapping on goes out again on other subflows.
            self.reinject_from_dsn(dsn);
            return false;
        }
        if self.fallback.is_some() {
            return false;
        }
        let sent = dsn.wrapping_sub(self.snd_una) as i64 >= 0 && self.snd_nxt.wrapping_sub(dsn) as i64 > 0;
        if i == 0 && sent && self.infinite_fallback_allowed() {
            // Everything before `dsn` arrived. Send again from there, unmapped,
            // behind the infinite mapping.
            self.snd_drop(dsn.wrapping_sub(self.snd_una));
            self.snd_nxt = self.snd_una;
            self.enter_fallback(Fallback::MpFail, true);
            return false;
        }
        self.reinject_from_dsn(dsn);
        self.counters.fallback_failed += 1;
        self.reset_subflow(now, i, ResetReason::Middlebox);
        true
    }

    /// Queues for sending again the data from `dsn` (or the oldest unacknowledged) on.
    fn reinject_from_dsn(&mut self, dsn: u64) {
        let start = if dsn.wrapping_sub(self.snd_una) as i64 >= 0 { dsn } else { self.snd_una };
        let n = self.snd_nxt.wrapping_sub(start);
        if n > 0 && (n as i64) > 0 && self.fallback.is_none() {
            self.reinject.push_back((start, n));
            self.counters.reinjected_bytes += n;
        }
    }

    /// The peer never answered our MP_FAIL with an infinite mapping: the
    /// subflow is reset (MP_TCPRST ResetReason::Middlebox), as the kernel does.
    pub(super) fn mp_fail_timeouts(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            let mp = &mut self.subflows[i].mp;
            if mp.gone || !mp.awaiting_infinite || mp.mp_fail_deadline.is_none_or(|t| t > now) {
                continue;
            }
            mp.awaiting_infinite = false;
            mp.mp_fail_deadline = None;
            self.counters.fallback_failed += 1;
            self.reset_subflow(now, i, ResetReason::Middlebox);
        }
    }

    /// An infinite mapping starting at subflow byte `rel` arrived on subflow `i`.
    fn on_infinite_mapping(&mut self, now: Instant, i: usize, rel: u64) {
        if self.fallback.is_some() {
            return;
        }
        self.counters.infinite_map_rx += 1;
        let mp = &mut self.subflows[i].mp;
        if mp.awaiting_infinite {
            // The answer to our MP_FAIL: what came before it is sent again after it.
            mp.awaiting_infinite = false;
            mp.mp_fail_deadline = None;
            mp.mp_fail_due = None;
            mp.discard_until = Some(rel);
            self.enter_fallback(Fallback::MpFail, false);
        } else {
            self.untrusted(now, i, Fallback::InfiniteMapping, ResetReason::MptcpError);
        }
    }

    /// A mapping of subflow `i` failed its checksum (RFC 8684 §3.7): MP_FAIL
    /// on ACKs when the connection may fall back, else RST with MP_FAIL.
    fn on_csum_failure(&mut self, now: Instant, i: usize, m: &RecvMapping) {
        self.counters.data_csum_err += 1;
        self.counters.mp_fail_tx += 1;
        self.counters.mp_fail_dropped_bytes += m.len;
        self.subflows[i].mp.mp_fail_due = Some(m.dsn);
        if i == 0 && self.infinite_fallback_allowed() {
            let mp = &mut self.subflows[i].mp;
            mp.awaiting_infinite = true;
            mp.mp_fail_deadline = Some(now + MP_FAIL_TIMEOUT);
            mp.ack_due = true;
        } else {
            self.counters.fallback_failed += 1;
            self.reset_subflow(now, i, ResetReason::Middlebox);
        }
    }

    /// Moves up to `max` in-order bytes of subflow `i` straight into the data
    /// level at `dsn` (one copy, no staging); returns how many.
    fn move_subflow_bytes(&mut self, i: usize, dsn: u64, max: usize) -> usize {
        let (a, b) = self.subflows[i].tcp.readable_slices(max);
        let n = a.len() + b.len();
        if n == 0 {
            return 0;
        }
        let (base, rcv, counters) = (self.rcv_base, &mut self.rcv, &mut self.counters);
        let r1 = place(rcv, base, counters, dsn, a);
        let r2 = if b.is_empty() { 0 } else { place(rcv, base, counters, dsn.wrapping_add(a.len() as u64), b) };
        self.subflows[i].tcp.consume(n);
        if r1 + r2 > 0 {
            self.events.push_back(ConnEvent::Readable);
        }
        n
    }

    /// Offers data-level bytes at `dsn` to the receive buffer, counting what
    /// falls outside it; returns how many became readable in order.
    pub(super) fn place_data(&mut self, dsn: u64, data: &[u8]) -> usize {
        let n = place(&mut self.rcv, self.rcv_base, &mut self.counters, dsn, data);
        if n > 0 {
            self.events.push_back(ConnEvent::Readable);
        }
        n
    }

    /// Reads up to `max` in-order bytes of subflow `i` into the scratch buffer.
    fn read_subflow(&mut self, i: usize, max: usize) -> usize {
        // Made on first use: a half-open connection (a SYN flood's) holds none.
        if self.scratch.is_empty() {
            self.scratch = vec![0u8; SCRATCH_LEN];
        }
        let room = max.min(self.scratch.len());
        self.subflows[i].tcp.read(&mut self.scratch[..room]).unwrap_or_default()
    }

    /// Moves a subflow's in-order bytes to the data level through its
    /// mappings; `mapped`: the segment just received carried a mapping.
    pub(super) fn drain_subflow(&mut self, now: Instant, i: usize, mapped: bool) {
        loop {
            let mp = &self.subflows[i].mp;
            if mp.reset_reason.is_some() || self.subflows[i].tcp.readable() == 0 {
                break;
            }
            let rel = self.subflows[i].tcp.read_offset() + 1;
            // After our MP_FAIL, bytes before the infinite mapping are dropped:
            // the peer sends them again after it.
            let discard = if mp.awaiting_infinite {
                Some(usize::MAX)
            } else {
                mp.discard_until.filter(|&s| s > rel).map(|s| (s - rel).min(usize::MAX as u64) as usize)
            };
            if let Some(max) = discard {
                let n = self.read_subflow(i, max);
                if n == 0 {
                    break;
                }
                self.counters.mp_fail_dropped_bytes += n as u64;
                let mp = &mut self.subflows[i].mp;
                mp.recv.consumed_to(rel + n as u64);
                // Every ACK of dropped bytes repeats MP_FAIL until it is answered.
                mp.ack_due |= mp.awaiting_infinite;
                continue;
            }
            if self.fallback.is_some() {
                // Regular TCP: the subflow's bytes are the stream's next ones.
                let next = self.rcv_base.wrapping_add(self.rcv.next());
                if self.move_subflow_bytes(i, next, usize::MAX) == 0 {
                    break;
                }
                continue;
            }
            let Some(m) = self.subflows[i].mp.recv.find(rel) else {
                // RFC 8684 §3.7: data no mapping covers.
                let (why, reason) = if mapped {
                    (Fallback::BadMapping, ResetReason::MptcpError)
                } else {
                    (Fallback::DataWithoutDss, ResetReason::Middlebox)
                };
                if mapped {
                    self.counters.dss_not_matching += 1;
                }
                self.counters.unmapped_bytes += self.subflows[i].tcp.readable() as u64;
                self.untrusted(now, i, why, reason);
                if self.fallback.is_some() {
                    continue;
                }
                break;
            };
            let into = rel - m.rel_ssn;
            let left = m.len.saturating_sub(into).min(usize::MAX as u64) as usize;
            if !(self.checksum && m.checksum.is_some()) {
                let n = self.move_subflow_bytes(i, m.dsn.wrapping_add(into), left);
                if n == 0 {
                    break;
                }
                self.subflows[i].mp.recv.consumed_to(rel + n as u64);
                continue;
            }
            // RFC 8684 §3.3.1: the checksum covers the whole mapping; its bytes
            // wait until they are all here.
            let n = self.read_subflow(i, left);
            if n == 0 {
                break;
            }
            let mp = &mut self.subflows[i].mp;
            mp.recv.consumed_to(rel + n as u64);
            let stage = mp.csum_stage.get_or_insert_with(|| (m, Vec::new()));
            if stage.0 != m || stage.1.len() as u64 != into {
                // Not seen from its start: it cannot be verified.
                mp.csum_stage = None;
                self.on_csum_failure(now, i, &m);
                continue;
            }
            stage.1.extend_from_slice(&self.scratch[..n]);
            if (stage.1.len() as u64) < m.len {
                continue;
            }
            let Some((m, bytes)) = mp.csum_stage.take() else { break };
            let wire_len = (m.len + u64::from(m.data_fin)) as u16;
            let mut sum = DssChecksum::new(m.dsn, m.rel_ssn as u32, wire_len);
            sum.add(&bytes);
            if m.checksum.is_some_and(|c| sum.verify(c)) {
                self.place_data(m.dsn, &bytes);
            } else {
                self.on_csum_failure(now, i, &m);
            }
        }
        if let Some(fin) = self.peer_fin
            && !self.peer_fin_consumed
            && self.rcv_base.wrapping_add(self.rcv.next()) == fin
        {
            self.peer_fin_consumed = true;
            self.passive_close = self.fin_dsn.is_none();
            self.events.push_back(ConnEvent::Readable);
            for sf in &mut self.subflows {
                sf.mp.ack_due = true;
            }
        }
        // The subflows' windows are the data level's (RFC 8684 §3.3.5).
        let cap = self.rcv.window() as u64;
        for sf in &mut self.subflows {
            sf.tcp.set_window_cap(Some(cap));
        }
    }
}

/// Offers `data`, at data sequence number `dsn`, to `rcv` (whose offset 0 is
/// `base`), and counts in `c` what fell outside its window: bytes behind the
/// next expected one are skipped, a segment all behind it is `DuplicateData`
/// (DSNs compared by their signed distance, so that a forged mapping 2^63
/// away is behind or beyond, never an overflow); bytes beyond the window are
/// `NoDSSInWindow`. Returns the bytes made readable.
fn place(rcv: &mut RecvBuffer, base: u64, c: &mut super::MptcpCounters, dsn: u64, data: &[u8]) -> usize {
    let next = base.wrapping_add(rcv.next());
    let behind = next.wrapping_sub(dsn);
    let (at, data) = if (behind as i64) > 0 {
        (rcv.next(), data.get(behind.min(data.len() as u64) as usize..).unwrap_or(&[]))
    } else {
        (dsn.wrapping_sub(base), data)
    };
    if data.is_empty() {
        c.duplicate_data += 1;
        return 0;
    }
    let r = rcv.insert(at, data);
    if r.beyond_window {
        c.no_dss_in_window += 1;
    }
    if r.in_slack {
        c.rcv_past_edge += 1;
    }
    if r.over_range_limit {
        c.ofo_drop += 1;
    }
    r.in_order
}
