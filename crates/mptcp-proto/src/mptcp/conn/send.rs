//! The sending side of the data level: placing the queue's bytes on
//! subflows as DSS mappings, as the scheduler decides, reinjections first.

use super::MptcpConn;
use crate::Error;
use crate::mptcp::MAX_SUBFLOWS;
use crate::mptcp::mapping::{MAX_MAPPING, SentMapping};
use crate::path::PathView;
use crate::sched::{Decision, SchedInput};
use crate::tcp::State;
use crate::time::Instant;
use arrayvec::ArrayVec;
use mptcp_wire::crypto;

/// The bytes of one mapping: references to the queue's chunks.
type Pieces = ArrayVec<bytes::Bytes, 16>;

impl MptcpConn {
    /// Queues application bytes; returns how many fit.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        if self.fin_queued {
            return Err(Error::InvalidState("the sending side is shut down"));
        }
        let n = data.len().min(self.send_buffer_free());
        self.write_short |= n < data.len();
        Ok(self.snd_buf.write(&data[..n]))
    }

    /// Queues `data` without copying it, if it fits whole; returns how many
    /// bytes were taken (all or none).
    pub fn write_bytes(&mut self, data: bytes::Bytes) -> Result<usize, Error> {
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        if self.fin_queued {
            return Err(Error::InvalidState("the sending side is shut down"));
        }
        let n = data.len();
        if n > self.send_buffer_free() || !self.snd_buf.write_bytes(data) {
            self.write_short = true;
            return Ok(0);
        }
        Ok(n)
    }

    /// Room in the send buffer: its size less what it holds, counting the
    /// bytes acknowledged at the data level that a subflow still holds (sent
    /// there and not yet acknowledged on it: a subflow that timed out and
    /// whose bytes went out again elsewhere), so the memory behind the send
    /// buffer stays within its size.
    pub fn send_buffer_free(&self) -> usize {
        self.snd_cap.saturating_sub(self.snd_buf.len() + self.held_before_una())
    }

    /// Bytes before the DATA_ACK that a subflow still holds: from the data
    /// sequence number of its oldest unacknowledged byte, at most its queue.
    pub(super) fn held_before_una(&self) -> usize {
        self.subflows
            .iter()
            .filter(|s| !s.mp.gone)
            .filter_map(|s| {
                let una = s.tcp.una_rel_seq();
                let dsn = s.mp.sent.covering(una).map(|m| m.dsn.wrapping_add(una - m.rel_ssn))?;
                let behind = self.snd_una.wrapping_sub(dsn) as i64;
                // What it references, at most: its own queue (so a dead
                // subflow that is never acknowledged costs its queue, not
                // ever more of the buffer as the connection moves on).
                (behind > 0).then(|| (behind as usize).min(s.tcp.send_queued()))
            })
            .max()
            .unwrap_or(0)
    }

    /// Places data on subflows: reinjections first, then new data (within
    /// the peer's data-level window).
    pub(super) fn schedule(&mut self, now: Instant) {
        if self.fallback.is_some() {
            self.schedule_fallback();
            return;
        }
        self.sched_wake = None;
        self.place_join_reserve();
        loop {
            self.trim_reinjections();
            let (dsn, avail, reinjection) = match self.reinject.front() {
                Some(&(d, l)) => (d, l, true),
                None => {
                    let mut avail = (self.snd_una.wrapping_add(self.snd_buf.len() as u64)).wrapping_sub(self.snd_nxt);
                    if let Some(end) = self.snd_wnd_end {
                        let room = end.wrapping_sub(self.snd_nxt);
                        avail = if (room as i64) > 0 { avail.min(room) } else { 0 };
                        if (room as i64) > 0 {
                            self.window_probe_backoff = 0;
                        }
                    }
                    (self.snd_nxt, avail, false)
                }
            };
            if avail == 0 {
                // New data waits beyond the peer's window: the oldest bytes
                // may go again on a faster subflow.
                let queued = self.snd_una.wrapping_add(self.snd_buf.len() as u64) != self.snd_nxt;
                if !reinjection && queued && self.window_blocked(now) {
                    continue;
                }
                self.arm_window_probe(now);
                break;
            }
            if !reinjection && self.reserve_for_join(avail) {
                continue;
            }
            let paths = self.sched_paths(reinjection);
            let peer_window =
                self.snd_wnd_end.map_or(u64::MAX, |e| (e.wrapping_sub(self.snd_una) as i64).max(0) as u64);
            let input = SchedInput { now, paths: &paths, pending: avail, reinjection, peer_window };
            let (targets, max_bytes) = match self.sched.decide(&input) {
                Decision::Send { paths: targets, max_bytes } if max_bytes > 0 => (targets, max_bytes),
                Decision::Wait { until } => {
                    self.sched_wake = Some(until);
                    break;
                }
                _ => break,
            };
            // Only a path that was offered carries data.
            let Some(first) = targets.first().and_then(|&i| paths.iter().find(|v| v.index == i)) else { break };
            let off = dsn.wrapping_sub(self.snd_una);
            let n = self.mapping_len(first, avail.min(max_bytes));
            if n == 0 {
                break;
            }
            if off + n as u64 > self.snd_buf.len() as u64 {
                // Already acknowledged at the data level: nothing to reinject.
                self.reinject.pop_front();
                continue;
            }
            let pieces = self.pieces(off, n);
            let w = self.place(first.index, dsn, &pieces);
            if w == 0 {
                break;
            }
            // A redundant scheduler's other paths carry the same bytes again.
            for &j in &targets[1..] {
                if j != first.index && paths.iter().any(|v| v.index == j) {
                    let same = self.pieces(off, w);
                    self.place(j, dsn, &same);
                }
            }
            if reinjection {
                let front = self.reinject.front_mut().expect("reinjection in progress");
                front.0 = front.0.wrapping_add(w as u64);
                front.1 -= w as u64;
                if front.1 == 0 {
                    self.reinject.pop_front();
                }
            } else {
                self.snd_nxt = self.snd_nxt.wrapping_add(w as u64);
                if self.data_rtx_at.is_none() {
                    self.data_rtx_at = Some(now + self.data_rto());
                }
            }
        }
        // The DATA_FIN once every byte is placed (RFC 8684 §3.3.3).
        let all_placed = self.snd_nxt == self.snd_una.wrapping_add(self.snd_buf.len() as u64)
            && self.reinject.is_empty()
            && self.join_reserve.is_none();
        if self.fin_queued && all_placed && self.fin_dsn.is_none() && self.remote_key.is_some() {
            self.fin_dsn = Some(self.snd_nxt);
            if let Some(sf) = self.subflows.iter_mut().find(|s| s.mp.ready && !s.mp.gone) {
                sf.mp.ack_due = true;
            }
        }
    }

    /// Regular TCP after a fallback: the stream goes straight to the one subflow.
    fn schedule_fallback(&mut self) {
        let sf = &mut self.subflows[0];
        loop {
            let start = self.snd_buf.start();
            let piece = self.snd_buf.slice(start, sf.tcp.send_buffer_free());
            let len = piece.len();
            if len == 0 || !sf.tcp.write_bytes(piece) {
                break;
            }
            // In fallback the data is acknowledged by TCP: nothing to keep.
            self.snd_buf.advance_to(start + len as u64);
            self.snd_una = self.snd_una.wrapping_add(len as u64);
            self.snd_nxt = self.snd_una;
            // The room this made is the application's: wake a writer that
            // found the buffer full (nothing else will: no DATA_ACK comes).
            if std::mem::take(&mut self.write_short) {
                self.events.push_back(crate::tcp::ConnEvent::Writable);
            }
        }
        if self.fin_queued && self.snd_buf.is_empty() {
            let _ = self.subflows[0].tcp.shutdown();
        }
    }

    /// Reinjection ranges shrink as the DATA_ACK moves on (they were queued earlier).
    fn trim_reinjections(&mut self) {
        while let Some(front) = self.reinject.front_mut() {
            let end = front.0.wrapping_add(front.1);
            if end.wrapping_sub(self.snd_una) as i64 <= 0 {
                self.reinject.pop_front();
            } else {
                if (front.0.wrapping_sub(self.snd_una) as i64) < 0 {
                    *front = (self.snd_una, end.wrapping_sub(self.snd_una));
                }
                break;
            }
        }
    }

    /// A join waiting for its first mapping (see
    /// `SubflowMp::first_mapping_pending`), while another subflow works.
    fn waiting_join(&self) -> Option<usize> {
        if !self.fresh_other() {
            return None;
        }
        let backup = |i: usize| self.subflows[i].mp.backup || self.subflows[i].mp.peer_backup;
        (0..self.subflows.len()).find(|&i| self.usable(i) && self.subflows[i].mp.first_mapping_pending && !backup(i))
    }

    /// A usable subflow, not stale, that has carried its first mapping.
    fn fresh_other(&self) -> bool {
        (0..self.subflows.len())
            .any(|i| self.usable(i) && !self.subflows[i].mp.first_mapping_pending && !self.subflows[i].mp.stale)
    }

    fn usable(&self, i: usize) -> bool {
        let s = &self.subflows[i];
        s.mp.ready && !s.mp.gone && matches!(s.tcp.state(), State::Established | State::CloseWait)
    }

    /// A join's first mapping must start where the peer's DATA_ACK already
    /// is. With bytes outstanding, the next new bytes are set aside for it
    /// (the other subflows go on past them) and it sends them once the
    /// DATA_ACK reaches them; the peer holds what comes after in its
    /// out-of-order queue for that round trip. Returns whether bytes were
    /// set aside.
    fn reserve_for_join(&mut self, avail: u64) -> bool {
        if self.join_reserve.is_some() || self.snd_una == self.snd_nxt {
            return false;
        }
        let Some(j) = self.waiting_join() else { return false };
        let path = self.path_view(j);
        let n = self.mapping_len(&path, avail) as u64;
        if n == 0 {
            return false;
        }
        self.join_reserve = Some((j, self.snd_nxt, n));
        self.snd_nxt = self.snd_nxt.wrapping_add(n);
        true
    }

    /// Sends the bytes set aside for a join once the DATA_ACK has reached
    /// them; hands them back to the other subflows if the join failed.
    fn place_join_reserve(&mut self) {
        let Some((j, dsn, len)) = self.join_reserve else { return };
        if !self.usable(j) || self.subflows[j].mp.stale {
            self.join_reserve = None;
            self.reinject.push_front((dsn, len));
            return;
        }
        let off = dsn.wrapping_sub(self.snd_una) as i64;
        if off > 0 {
            return;
        }
        self.join_reserve = None;
        if off < 0 {
            // Acknowledged already (sent again by the data-level timer, say).
            return;
        }
        let pieces = self.pieces(0, len as usize);
        let w = self.place(j, dsn, &pieces) as u64;
        if w < len {
            self.reinject.push_front((dsn.wrapping_add(w), len - w));
        }
    }

    /// The paths the scheduler may choose from.
    ///
    /// A join's first mapping waits until every byte before it is
    /// DATA_ACKed: it is offered alone when nothing is outstanding, and
    /// otherwise not at all (bytes are set aside for it meanwhile, see
    /// `reserve_for_join`). Reinjections (older bytes) keep to the other
    /// subflows while one of them is not stale.
    fn sched_paths(&self, reinjection: bool) -> ArrayVec<PathView, MAX_SUBFLOWS> {
        let n = self.subflows.len();
        let pending = |i: usize| self.subflows[i].mp.first_mapping_pending;
        let backup = |i: usize| self.subflows[i].mp.backup || self.subflows[i].mp.peer_backup;
        let fresh_other = self.fresh_other();
        let drained = self.snd_una == self.snd_nxt && self.join_reserve.is_none();
        let join_first = drained && !reinjection && self.waiting_join().is_some();
        let offered = |i: usize| match (pending(i), reinjection) {
            (true, true) => !fresh_other,
            (true, false) => !fresh_other || (join_first && !backup(i)),
            (false, true) => true,
            (false, false) => !join_first,
        };
        (0..n).filter(|&i| self.usable(i) && offered(i)).take(MAX_SUBFLOWS).map(|i| self.path_view(i)).collect()
    }

    /// How many bytes the next mapping on `path` takes, at most `want`.
    fn mapping_len(&self, path: &PathView, want: u64) -> usize {
        let sf = &self.subflows[path.index];
        // Mappings of whole segments: a mapping's odd tail would be a
        // segment of its own (1,448 bytes of room make a 1,420-byte segment
        // and a 28-byte one), half the packets carrying almost nothing.
        // Within the window, or one segment when the window has less room
        // (the subflow sends it as the window opens).
        // The segment's payload room now: the MSS less the DSS and the SACK
        // blocks it carries (as Linux sizes its mappings by mss_now); a
        // mapping cut for the bare MSS would be sent as a segment and a
        // sliver while SACK blocks ride on the data (RFC 8041 §3.8).
        let seg = sf.tcp.payload_room(crate::mptcp::subflow::DSS_ROOM).min(u64::from(path.mss)).max(1);
        let mut n = want.min(path.room().max(seg)).min(MAX_MAPPING as u64).min(sf.tcp.send_buffer_free() as u64);
        if n > seg {
            n -= n % seg;
        }
        n as usize
    }

    /// References to up to `n` queued bytes from offset `off` past `snd_una`.
    fn pieces(&mut self, off: u64, n: usize) -> Pieces {
        let pos = self.snd_buf.start() + off;
        let mut pieces = Pieces::new();
        let mut w = 0usize;
        while w < n && !pieces.is_full() {
            let piece = self.snd_buf.slice(pos + w as u64, n - w);
            if piece.is_empty() {
                break;
            }
            w += piece.len();
            pieces.push(piece);
        }
        pieces
    }

    /// Writes `pieces` to subflow `i` as one mapping from `dsn`; returns the
    /// bytes it took.
    fn place(&mut self, i: usize, dsn: u64, pieces: &Pieces) -> usize {
        let checksum_on = self.checksum;
        let sf = &mut self.subflows[i];
        let rel_ssn = sf.tcp.write_rel_seq();
        // The mapping covers what the subflow took, and nothing else: a
        // mapping beyond its bytes would map the next ones to the wrong DSN.
        // (All of it fits, the length being within its free room, unless the
        // subflow takes no more data at all.)
        let mut taken = 0;
        for p in pieces {
            if !sf.tcp.write_bytes(p.clone()) {
                break;
            }
            taken += 1;
        }
        let w: usize = pieces[..taken].iter().map(bytes::Bytes::len).sum();
        if w == 0 {
            return 0;
        }
        let checksum = checksum_on.then(|| {
            let mut c = crypto::DssChecksum::new(dsn, rel_ssn as u32, w as u16);
            for p in &pieces[..taken] {
                c.add(p);
            }
            c.finish()
        });
        sf.mp.sent.push(SentMapping { rel_ssn, dsn, len: w as u16, checksum });
        sf.mp.first_mapping_pending = false;
        w
    }
}
