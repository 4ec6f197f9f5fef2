//! Direct delivery to the layer above: a subflow's in-order payload, when
//! nothing is waiting before it, is not copied into the subflow's receive
//! buffer; MPTCP takes it straight from the segment into the data level (one
//! copy instead of two). TCP accounts for the bytes as received at once, and
//! as read when the layer above says it placed them.
//!
//! Discipline: after `on_segment`, the layer above calls `take_lent`, places
//! the bytes `segment.payload[offset..offset + len]` in order, reports each
//! piece with `lent_placed`, and gives back what it could not place with
//! `restore_lent` (it becomes ordinary readable data). A segment handled
//! without `take_lent` loses its lent bytes, so every caller that sets `lend`
//! must call it.

use super::TcpConn;
use crate::tcp::recv_buf::Inserted;

impl TcpConn {
    /// Lets the layer above take in-order payload from segments directly.
    pub(crate) fn set_lend(&mut self, on: bool) {
        self.lend = on;
    }

    /// In `on_data`: takes `len` in-order bytes at stream offset `at`
    /// (starting `offset` bytes into the payload) as lent, when the buffer
    /// holds nothing before or after them.
    pub(super) fn try_lend(&mut self, at: u64, offset: usize, len: usize) -> Option<Inserted> {
        let b = &self.recv_buf;
        if !self.lend || len == 0 || at != b.next() || b.readable() != 0 || b.has_ooo() || len > b.window() {
            return None;
        }
        self.recv_buf.skip(len);
        self.lent = Some((offset, len));
        Some(Inserted { in_order: len, ..Inserted::default() })
    }

    /// What the last segment lent (payload offset, length), once.
    pub(crate) fn take_lent(&mut self) -> Option<(usize, usize)> {
        let lent = self.lent.take();
        self.lent_pending = lent.map_or(0, |l| l.1);
        lent
    }

    /// `n` lent bytes were placed: they count as read, as if they had been
    /// stored and read (the same window update falls due).
    pub(crate) fn lent_placed(&mut self, n: usize) {
        let n = n.min(self.lent_pending);
        let free = self.recv_buf.window();
        let before = free.saturating_sub(self.lent_pending);
        self.lent_pending -= n;
        self.after_read_to(before, free.saturating_sub(self.lent_pending), n);
    }

    /// The lent bytes not placed go back into the buffer as readable data.
    pub(crate) fn restore_lent(&mut self, rest: &[u8]) {
        self.lent_pending = 0;
        self.recv_buf.unskip(rest);
    }
}
