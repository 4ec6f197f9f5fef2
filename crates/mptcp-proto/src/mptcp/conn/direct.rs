//! Direct delivery (see `tcp/conn/lend.rs`): a subflow's in-order payload
//! goes from the segment through its mapping into the data-level buffer in
//! one copy. Only the plain case is taken here (no DSS checksum, no MP_FAIL
//! in progress, a mapping that covers the bytes, or fallback); anything else
//! is given back to the subflow's buffer and `drain_subflow` handles it as
//! before.

use super::MptcpConn;
use crate::tcp::segment::Segment;

impl MptcpConn {
    /// Whether subflow `i` may lend its in-order payload for the segment
    /// about to be handled.
    pub(super) fn may_lend(&self, i: usize) -> bool {
        let mp = &self.subflows[i].mp;
        !self.checksum && !mp.awaiting_infinite && mp.discard_until.is_none() && mp.reset_reason.is_none()
    }

    /// Places what subflow `i` lent from `seg`; gives back what it cannot.
    pub(super) fn drain_lent(&mut self, i: usize, seg: &Segment<'_>) {
        let Some((offset, len)) = self.subflows[i].tcp.take_lent() else { return };
        let Some(data) = seg.payload.get(offset..offset + len) else { return };
        let mut done = 0;
        while done < len && self.may_lend(i) && !self.subflows[i].mp.gone {
            let rel = self.subflows[i].tcp.read_offset() + 1;
            let piece = &data[done..];
            let (dsn, n) = if self.fallback.is_some() {
                (self.rcv_base.wrapping_add(self.rcv.next()), piece.len())
            } else {
                let Some(m) = self.subflows[i].mp.recv.find(rel) else { break };
                let into = rel - m.rel_ssn;
                let n = m.len.saturating_sub(into).min(piece.len() as u64) as usize;
                (m.dsn.wrapping_add(into), n)
            };
            if n == 0 {
                break;
            }
            self.place_data(dsn, &piece[..n]);
            if self.fallback.is_none() {
                self.subflows[i].mp.recv.consumed_to(rel + n as u64);
            }
            self.subflows[i].tcp.lent_placed(n);
            done += n;
        }
        if done < len && !self.subflows[i].mp.gone {
            self.subflows[i].tcp.restore_lent(&data[done..]);
        }
    }
}
