//! Segment generation: retransmissions, new data, probes and ACKs, within the
//! peer's window and the congestion window.

use super::{CcCtx, State, TcpConn};
use crate::tcp::hook::OutSegment;
use crate::tcp::sent::SentSeg;
use crate::tcp::seq::Seq;
use crate::time::{Duration, Instant};
use arrayvec::ArrayVec;
use mptcp_wire::tcp::{
    Flags, HEADER_LEN, MAX_OPTIONS_LEN, SackBlocks, TcpOption, emit_options, tcp_checksum, tcp_checksum_partial,
};

/// RFC 8985 §7.2: the worst-case delayed-ACK time added to a lone probe's timeout.
/// Pieces a segment's payload may be written from by reference (the
/// driver's `writev` takes them with the headers); more are copied.
pub const MAX_TX_PIECES: usize = 32;
const WC_DEL_ACK: Duration = Duration::from_millis(200);

/// What one segment is to carry.
struct Out {
    seq: Seq,
    flags: Flags,
    /// Payload: bytes from the send buffer starting at `seq`.
    len: usize,
    /// The payload of one wire segment, as planned (`len` when it is one).
    seg: usize,
}

impl TcpConn {
    /// Writes the next segment (TCP header, options, payload, checksum) into
    /// `buf`; returns its length, or None when nothing is due. Call again until None.
    pub fn poll_transmit(&mut self, now: Instant, cc: &mut CcCtx<'_>, buf: &mut [u8]) -> Option<usize> {
        if let Some(seq) = self.rst_reply.take() {
            return self.emit(now, buf, Out { seq, flags: Flags::RST, len: 0, seg: 0 }, cc);
        }
        if self.rst_due {
            self.rst_due = false;
            return self.emit(now, buf, Out { seq: self.snd_nxt, flags: Flags::RST | Flags::ACK, len: 0, seg: 0 }, cc);
        }
        if cc.hook.as_ref().is_some_and(|h| h.wants_ack()) && self.is_synchronized() {
            self.ack_due = true;
        }
        match self.state {
            State::Closed => None,
            State::SynSent | State::SynReceived => self.poll_syn(now, buf, cc),
            State::TimeWait => self.poll_ack(now, buf, cc),
            _ => match self.poll_data(now, cc, buf) {
                Some(n) => Some(n),
                None => self.poll_ack(now, buf, cc),
            },
        }
    }

    fn poll_syn(&mut self, now: Instant, buf: &mut [u8], cc: &mut CcCtx<'_>) -> Option<usize> {
        if !self.syn_due {
            return self.poll_ack(now, buf, cc);
        }
        self.syn_due = false;
        self.syn_xmits += 1;
        self.syn_sent_at.get_or_insert(now);
        self.snd_nxt = self.iss + 1;
        self.rto_deadline = Some(now + self.rtt.rto());
        let flags = if self.state == State::SynSent { Flags::SYN } else { Flags::SYN | Flags::ACK };
        self.emit(now, buf, Out { seq: self.iss, flags, len: 0, seg: 0 }, cc)
    }

    fn poll_ack(&mut self, now: Instant, buf: &mut [u8], cc: &mut CcCtx<'_>) -> Option<usize> {
        if self.keepalive_due {
            self.keepalive_due = false;
            // RFC 1122 §4.2.3.6: a probe with SEG.SEQ = SND.NXT - 1 and no data.
            return self.emit(now, buf, Out { seq: self.snd_una + u32::MAX, flags: Flags::ACK, len: 0, seg: 0 }, cc);
        }
        if !self.ack_due {
            return None;
        }
        self.emit(now, buf, Out { seq: self.snd_nxt, flags: Flags::ACK, len: 0, seg: 0 }, cc)
    }

    fn poll_data(&mut self, now: Instant, cc: &mut CcCtx<'_>, buf: &mut [u8]) -> Option<usize> {
        let cwnd = self.cwnd(cc);
        let pipe = self.board.pipe();
        let reserved = cc.hook.as_ref().map_or(0, |h| h.reserved_option_len());
        let mss = self.payload_room(reserved);
        let burst = self.burst(mss, buf.len());
        // 1. Retransmit what was deemed lost, within the window (RFC 6675 §5).
        // In fast recovery PRR sets what may go out; otherwise the window.
        let prr = self.prr.map(|p| p.quota());
        let may_resend = match prr {
            Some(q) => q > 0,
            None => pipe + mss <= cwnd,
        };
        if let Some((start, end, _syn, fin)) = self.board.first_lost()
            && (may_resend || pipe == 0)
        {
            let len = (end - start) as usize - usize::from(fin);
            let flags = Flags::ACK | if fin { Flags::FIN } else { Flags(0) };
            // State moves only once the segment is written.
            let n = self.emit(now, buf, Out { seq: start, flags, len, seg: len }, cc)?;
            self.board.retransmitted(start, now);
            self.stats.retransmits += 1;
            self.stats.retransmitted_bytes += len as u64;
            if self.rto_deadline.is_none() {
                self.rearm_rto(now);
            }
            if let Some(p) = &mut self.prr {
                p.sent(len as u64);
            }
            cc.cc.on_sent(self.sf, now, len as u64, self.board.pipe());
            return Some(n);
        }
        let sending = self.fin_seq.is_none() && matches!(self.state, State::Established | State::CloseWait);
        let data_open = sending;
        let unsent = if data_open && self.send_buf.end() > self.snd_nxt {
            (self.send_buf.end() - self.snd_nxt) as u64
        } else {
            0
        };
        let wnd_room = {
            let edge = self.snd_una + self.snd_wnd.min(u64::from(u32::MAX / 2)) as u32;
            if edge > self.snd_nxt { u64::from(edge - self.snd_nxt) } else { 0 }
        };
        // 2. A tail loss probe: new data if the window allows, else the last segment again.
        if self.tlp_due {
            self.tlp_due = false;
            self.stats.tail_loss_probes += 1;
            if unsent > 0 && wnd_room > 0 {
                let len = unsent.min(mss).min(wnd_room) as usize;
                return self.send_new(now, buf, len, mss as usize, false, cc);
            }
            if let Some((start, end, _syn, fin)) = self.board.last_unsacked() {
                let len = (end - start) as usize - usize::from(fin);
                let flags = Flags::ACK | if fin { Flags::FIN } else { Flags(0) };
                let n = self.emit(now, buf, Out { seq: start, flags, len, seg: len }, cc)?;
                self.board.retransmitted(start, now);
                self.stats.retransmits += 1;
                self.stats.retransmitted_bytes += len as u64;
                self.rearm_rto(now);
                cc.cc.on_sent(self.sf, now, len as u64, self.board.pipe());
                return Some(n);
            }
        }
        // 3. New data.
        let cwnd_room = prr.unwrap_or_else(|| cwnd.saturating_sub(pipe));
        let mut len = unsent.min(burst).min(wnd_room).min(cwnd_room);
        // The window is the limit when it is full to within a segment, whoever
        // fills it (an MPTCP scheduler gives a subflow just its window's worth).
        self.cwnd_limited = cwnd_room < mss;
        if len < mss && unsent > len && pipe > 0 {
            // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1): more
            // is queued than the windows let out and an ACK is coming, so
            // wait for room for a whole segment rather than send a sliver
            // (a window grown by a few bytes, a PRR quota).
            len = 0;
        } else if self.cfg.nagle && len < mss && !self.board.is_empty() && !self.fin_queued {
            // RFC 896: hold a small segment while data is unacknowledged.
            len = 0;
        }
        let fin_now = self.fin_queued && self.fin_seq.is_none() && len == unsent && sending;
        if len > 0 || fin_now {
            return self.send_new(now, buf, len as usize, mss as usize, fin_now, cc);
        }
        // 4. A zero-window probe: one byte past the window (RFC 9293 §3.8.6.1).
        if unsent > 0 && wnd_room == 0 && self.board.is_empty() {
            if self.probe_due {
                self.probe_due = false;
                self.stats.win_probes += 1;
                return self.send_new(now, buf, 1, 1, false, cc);
            }
            if self.persist_deadline.is_none() {
                let backoff = 1u64 << self.persist_backoff.min(6);
                self.persist_deadline = Some(now + self.rtt.rto().saturating_mul(backoff).min(self.cfg.max_rto));
            }
        }
        None
    }

    /// Payload of the largest segment to build now: one MSS, or with
    /// segmentation offload as many whole MSS as the driver takes at once
    /// and `buf_len` holds.
    fn burst(&self, mss: u64, buf_len: usize) -> u64 {
        if self.cfg.gso_max_size == 0 {
            return mss;
        }
        let room = self.cfg.gso_max_size.min(buf_len).saturating_sub(HEADER_LEN + MAX_OPTIONS_LEN) as u64;
        (room / mss).max(1) * mss
    }

    /// Sends `len` new bytes from SND.NXT, with a FIN if `fin`, in wire
    /// segments of `seg` bytes (one, without segmentation offload). The
    /// scoreboard keeps one record per wire segment, so SACK and loss
    /// detection work per segment whatever the device cut.
    fn send_new(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        len: usize,
        seg: usize,
        fin: bool,
        cc: &mut CcCtx<'_>,
    ) -> Option<usize> {
        let start = self.snd_nxt;
        // The layer above may need the segment to stop at a boundary of its own.
        let len = match cc.hook.as_ref() {
            Some(h) if len > 0 => len.min(h.max_payload(self.rel_seq_of(start)).max(1)),
            _ => len,
        };
        let seg = seg.clamp(1, len.max(1));
        let fin = fin && self.send_buf.end() == start + len as u32;
        let end = start + len as u32 + u32::from(fin);
        let push = self.send_buf.end() == start + len as u32;
        let mut flags = Flags::ACK;
        if push && len > 0 {
            flags = flags | Flags::PSH;
        }
        if fin {
            flags = flags | Flags::FIN;
        }
        // Written first: a segment that cannot be written (the buffer too
        // small, say) leaves the connection as it was, not with bytes
        // counted as sent that never left.
        let n = self.emit(now, buf, Out { seq: start, flags, len, seg }, cc)?;
        let mut s = start;
        loop {
            let data_end = (s + seg as u32).min(start + len as u32);
            let last = data_end == start + len as u32;
            let e = if last { end } else { data_end };
            self.board.push(SentSeg {
                start: s,
                end: e,
                sent_at: now,
                xmits: 1,
                sacked: false,
                lost: false,
                syn: false,
                fin: last && fin,
            });
            if last {
                break;
            }
            s = data_end;
        }
        self.snd_nxt = end;
        self.stats.bytes_sent += len as u64;
        if let Some(p) = &mut self.prr {
            p.sent(len as u64);
        }
        if len > 0 {
            cc.cc.on_sent(self.sf, now, len as u64, self.board.pipe());
        }
        if fin {
            self.fin_seq = Some(start + len as u32);
            match self.state {
                State::Established | State::SynReceived => self.set_state(State::FinWait1),
                State::CloseWait => self.set_state(State::LastAck),
                _ => {}
            }
        }
        if self.rto_deadline.is_none() {
            self.rearm_rto(now);
        }
        self.arm_tlp(now);
        Some(n)
    }

    /// RFC 8985 §7.2: probe timeout after new data, when not in recovery.
    fn arm_tlp(&mut self, now: Instant) {
        if self.recovery_point.is_some() || !self.rtt.has_sample() {
            return;
        }
        let mut pto = self.rtt.srtt().saturating_mul(2);
        if self.board.len() == 1 {
            pto = pto + WC_DEL_ACK;
        }
        let pto = pto.min(self.rtt.rto()).max(Duration::from_micros(1_000));
        self.tlp_deadline = Some(now + pto);
    }

    /// The window to advertise: free receive space, never moving the right
    /// edge left (RFC 9293 §3.8.6.2.2), scaled.
    fn advertise(&mut self, syn: bool) -> u16 {
        let free = self.recv_buf.window() as u64;
        if syn {
            // Unscaled in a SYN (RFC 7323 §2.2); it opens the window all the same.
            let field = free.min(65_535);
            self.rcv_adv_edge = self.rcv_adv_edge.max(self.rcv_nxt + field as u32);
            return field as u16;
        }
        if let Some(cap) = self.window_cap {
            // RFC 8684 §3.3.5: a subflow advertises the data level's window,
            // relative to the DATA_ACK riding with it. The data level keeps
            // that right edge from moving left (its free space only grows as
            // its next byte advances); keeping the subflow's own edge instead
            // would promise room the other subflows' data has taken.
            let field = (free.min(cap) >> self.rcv_shift).min(65_535);
            let edge = self.rcv_nxt + (field << self.rcv_shift) as u32;
            self.rcv_adv_edge = self.rcv_adv_edge.max(edge);
            return field as u16;
        }
        let kept = u64::from(self.rcv_adv_edge.max(self.rcv_nxt) - self.rcv_nxt);
        let wnd = free.max(kept);
        let field = (wnd >> self.rcv_shift).min(65_535);
        let edge = self.rcv_nxt + (field << self.rcv_shift) as u32;
        self.rcv_adv_edge = self.rcv_adv_edge.max(edge);
        field as u16
    }

    /// Writes one segment.
    fn emit(&mut self, now: Instant, buf: &mut [u8], out: Out, cc: &mut CcCtx<'_>) -> Option<usize> {
        let syn = out.flags.syn();
        let info = OutSegment {
            rel_seq: if syn { 0 } else { self.rel_seq_of(out.seq) },
            len: out.len,
            flags: out.flags,
            retransmission: out.seq < self.snd_nxt && out.len > 0 && !syn,
        };
        let mut opts: ArrayVec<TcpOption<'_>, 12> = ArrayVec::new();
        let ts_now = self.ts_now(now);
        if syn {
            let offer_all = self.state == State::SynSent;
            opts.push(TcpOption::MaxSegmentSize(self.our_mss));
            if self.cfg.sack && (offer_all || self.sack_ok) {
                opts.push(TcpOption::SackPermitted);
            }
            if self.cfg.timestamps && (offer_all || self.ts.is_some()) {
                let recent = self.ts.map_or(0, |t| t.recent);
                opts.push(TcpOption::Timestamps { tsval: ts_now, tsecr: recent });
            }
            if self.cfg.window_scaling && (offer_all || self.ws_ok) {
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::WindowScale(self.rcv_shift));
            }
            if let Some(h) = cc.hook.as_deref_mut() {
                let used: usize = opts.iter().map(TcpOption::len).sum();
                for m in h.options(&info, MAX_OPTIONS_LEN - used) {
                    let _ = opts.try_push(TcpOption::Mptcp(m));
                }
            }
        } else if !out.flags.rst() || self.ts.is_some() {
            if let Some(ts) = self.ts {
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::NoOperation);
                opts.push(TcpOption::Timestamps { tsval: ts_now, tsecr: ts.recent });
            }
            if let Some(h) = cc.hook.as_deref_mut() {
                let used: usize = opts.iter().map(TcpOption::len).sum();
                let mut mp_len = 0;
                for m in h.options(&info, MAX_OPTIONS_LEN - used) {
                    mp_len += m.len();
                    let _ = opts.try_push(TcpOption::Mptcp(m));
                }
                // Keep 4-byte alignment for what follows, as Linux pads its options.
                for _ in 0..(4 - mp_len % 4) % 4 {
                    let _ = opts.try_push(TcpOption::NoOperation);
                }
            }
            if self.sack_ok && self.recv_buf.has_ooo() && !out.flags.rst() {
                let max = if self.ts.is_some() { 3 } else { 4 };
                let base = self.recv_buf.next();
                // Only as many blocks as fit beside this segment's payload.
                let used: usize = opts.iter().map(TcpOption::len).sum();
                let room = self
                    .max_segment
                    .saturating_sub(HEADER_LEN + out.seg.min(out.len) + used + 4)
                    .min(MAX_OPTIONS_LEN.saturating_sub(used + 4));
                let max = max.min(room / 8);
                let blocks: SackBlocks = self
                    .recv_buf
                    .sack_ranges(max)
                    .into_iter()
                    .map(|(s, e)| ((self.rcv_nxt + (s - base) as u32).0, (self.rcv_nxt + (e - base) as u32).0))
                    .collect();
                if !blocks.is_empty() {
                    opts.push(TcpOption::NoOperation);
                    opts.push(TcpOption::NoOperation);
                    opts.push(TcpOption::Sack(blocks));
                }
            }
        }
        let window = if out.flags.rst() && !out.flags.ack() { 0 } else { self.advertise(syn) };
        let opt_len = emit_options(&opts, buf.get_mut(HEADER_LEN..)?).ok()?;
        // The options borrow the hook; it is told below whether the segment went out.
        drop(opts);
        let hlen = HEADER_LEN + opt_len;
        let total = hlen + out.len;
        self.tx_refs.clear();
        // By reference: the device completes the checksum, so the payload
        // need not be read here at all.
        let by_ref = self.tx_by_ref
            && self.cfg.checksum_offload
            && out.len > 0
            && self.send_buf.refs(out.seq, out.len, MAX_TX_PIECES, &mut self.tx_refs);
        let seg = buf.get_mut(..if by_ref { hlen } else { total })?;
        if out.len > 0 && !by_ref {
            let copied = self.send_buf.copy_from(out.seq, &mut seg[hlen..]);
            if copied != out.len {
                return None;
            }
        }
        let ack = if out.flags.ack() { self.rcv_nxt.0 } else { 0 };
        seg[0..2].copy_from_slice(&self.local.port().to_be_bytes());
        seg[2..4].copy_from_slice(&self.remote.port().to_be_bytes());
        seg[4..8].copy_from_slice(&out.seq.0.to_be_bytes());
        seg[8..12].copy_from_slice(&ack.to_be_bytes());
        seg[12] = ((hlen / 4) as u8) << 4;
        seg[13] = out.flags.0;
        seg[14..16].copy_from_slice(&window.to_be_bytes());
        seg[16..20].copy_from_slice(&[0, 0, 0, 0]);
        let c = if self.cfg.checksum_offload {
            tcp_checksum_partial(self.local.ip(), self.remote.ip(), total)
        } else {
            tcp_checksum(self.local.ip(), self.remote.ip(), seg)
        };
        seg[16..18].copy_from_slice(&c.to_be_bytes());
        // More than one wire segment: the device cuts it, each piece with
        // this header, at most the peer's MSS (less these options) and the
        // path's MTU each.
        self.last_gso = 0;
        if self.cfg.gso_max_size > 0 && out.len > 0 {
            let ts = if self.ts.is_some() { 12 } else { 0 };
            let per =
                (self.mss as usize + ts).saturating_sub(opt_len).min(self.max_segment.saturating_sub(hlen)).max(1);
            if out.len > per {
                self.last_gso = per.min(usize::from(u16::MAX)) as u16;
            }
        }
        if out.flags.ack() {
            self.ack_due = false;
            self.unacked_segments = 0;
            self.delack_deadline = None;
        }
        self.stats.segments_sent += 1;
        if let Some(h) = cc.hook.as_deref_mut() {
            h.on_emitted(&info);
        }
        Some(total)
    }
}
