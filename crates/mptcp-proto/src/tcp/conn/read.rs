//! The application's side of receiving: reads (copying, or in place),
//! the layer above taking in-order bytes itself, and the window update
//! that reading earns.

use super::{State, TcpConn};

impl TcpConn {
    /// Reads in-order bytes. `Ok(0)` is the end of the stream.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, crate::Error> {
        let max = out.len();
        self.read_with(max, &mut crate::tcp::recv_buf::copy_into(out))
    }

    /// Reads in place: `f` sees up to `max` in-order bytes (in one or two
    /// pieces, the buffer is a ring), which are then consumed; the same
    /// results as [`Self::read`], without a copy into a caller's buffer.
    pub fn read_with(&mut self, max: usize, f: &mut dyn FnMut(&[u8])) -> Result<usize, crate::Error> {
        if max == 0 {
            return Ok(0);
        }
        let (a, b) = self.recv_buf.ready_slices(max);
        let n = a.len() + b.len();
        if n > 0 {
            f(a);
            if !b.is_empty() {
                f(b);
            }
            self.consume(n);
            return Ok(n);
        }
        if self.fin_received {
            return Ok(0);
        }
        match self.state {
            State::Closed => Err(crate::Error::NotConnected),
            _ => Err(crate::Error::WouldBlock),
        }
    }

    /// Up to `max` in-order bytes, in place, for a layer above that moves
    /// them itself (MPTCP, into its data level); then [`Self::consume`].
    pub(crate) fn readable_slices(&self, max: usize) -> (&[u8], &[u8]) {
        self.recv_buf.ready_slices(max)
    }

    /// Drops `n` in-order bytes the layer above took (as `read` would have).
    pub(crate) fn consume(&mut self, n: usize) {
        let before = self.recv_buf.window();
        let n = self.recv_buf.consume(n);
        if n > 0 {
            self.after_read(before, n);
        }
    }

    /// Bytes left the receive buffer: the stream offset moves, and the window
    /// update the freed room deserves is due.
    pub(super) fn after_read(&mut self, before: usize, n: usize) {
        self.after_read_to(before, self.recv_buf.window(), n);
    }

    /// `after_read` with the window now free given (lent bytes still to be
    /// placed count as held).
    pub(super) fn after_read_to(&mut self, before: usize, now_free: usize, n: usize) {
        self.read_offset += n as u64;
        // RFC 1122 §4.2.3.3: tell the peer once the window opened by
        // min(half the buffer, one MSS) or more (here: two MSS).
        let advertised = (self.rcv_adv_edge - self.rcv_nxt) as usize;
        let step = (2 * self.mss as usize).min(self.cfg.recv_buffer / 2);
        if now_free >= advertised + step && before < now_free {
            self.ack_due = true;
        }
    }

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        self.recv_buf.readable()
    }
}
