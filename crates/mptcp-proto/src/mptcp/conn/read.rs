//! The application's reads at the data level (copying, or in place) and
//! the window update they earn; in fallback, the end of the stream.

use super::*;

impl MptcpConn {
    /// Reads in-order data-level bytes; `Ok(0)` is the end of the stream.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let max = out.len();
        self.read_with(max, &mut crate::tcp::recv_buf::copy_into(out))
    }

    /// Reads in place: `f` sees up to `max` in-order data-level bytes (one
    /// or two pieces), which are then consumed; otherwise as [`Self::read`].
    pub fn read_with(&mut self, max: usize, f: &mut dyn FnMut(&[u8])) -> Result<usize, Error> {
        let (a, b) = self.rcv.ready_slices(max);
        let n = a.len() + b.len();
        if n > 0 {
            f(a);
            if !b.is_empty() {
                f(b);
            }
            self.rcv.consume(n);
            let cap = self.rcv.window() as u64;
            for sf in &mut self.subflows {
                sf.tcp.set_window_cap(Some(cap));
            }
            // The window opened: tell the peer once it opened by enough
            // (RFC 1122 §4.2.3.3's rule, at the data level), on any subflow.
            self.rcv_freed += n as u64;
            let step = (self.rcv_capacity as u64 / 4).min(128 * 1024);
            if self.rcv_freed >= step && self.fallback.is_none() {
                self.rcv_freed = 0;
                if let Some(sf) = self.subflows.iter_mut().find(|s| s.mp.ready && !s.mp.gone) {
                    sf.mp.ack_due = true;
                }
            }
            return Ok(n);
        }
        if self.peer_fin_consumed || (self.fallback.is_some() && self.fallback_eof()) {
            return Ok(0);
        }
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        Err(Error::WouldBlock)
    }

    /// In fallback, the stream ends with the subflow's: everything read and
    /// the peer's FIN in.
    pub(super) fn fallback_eof(&self) -> bool {
        let sf = &self.subflows[0];
        sf.tcp.readable() == 0
            && matches!(
                sf.tcp.state(),
                State::CloseWait | State::LastAck | State::TimeWait | State::Closed | State::Closing
            )
    }

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        self.rcv.readable()
    }
}
