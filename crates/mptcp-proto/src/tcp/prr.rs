//! Proportional Rate Reduction (RFC 6937, updated by RFC 9937): how much a
//! sender in fast recovery may send on each ACK, so that the flight comes
//! down to the reduced window smoothly (in step with what is delivered)
//! rather than in a silence and then a burst, and rebuilds towards it by
//! slow start when losses took it lower (the SSRB bound).

/// One recovery episode's accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prr {
    /// Bytes in flight when the episode began (RecoverFS).
    recover_fs: u64,
    /// Bytes delivered (acknowledged or SACKed) since (prr_delivered).
    delivered: u64,
    /// Bytes sent since (prr_out).
    out: u64,
    /// What may be sent now (sndcnt, less what went out since it was set).
    quota: u64,
}

impl Prr {
    /// An episode starting with `in_flight` bytes in flight.
    pub fn new(in_flight: u64) -> Prr {
        Prr { recover_fs: in_flight.max(1), delivered: 0, out: 0, quota: 0 }
    }

    /// An ACK delivered `delivered` bytes; `pipe` is in flight after it,
    /// `ssthresh` the window the episode aims at. Sets what may be sent.
    pub fn on_ack(&mut self, delivered: u64, pipe: u64, ssthresh: u64, mss: u64) {
        self.delivered += delivered;
        let sndcnt = if pipe > ssthresh {
            // Proportional: send in the ratio of the target to the starting flight.
            (self.delivered * ssthresh).div_ceil(self.recover_fs).saturating_sub(self.out)
        } else {
            // Slow-start reduction bound: rebuild towards the target, by at
            // most what was delivered plus one segment.
            let limit = self.delivered.saturating_sub(self.out).max(delivered) + mss;
            ssthresh.saturating_sub(pipe).min(limit)
        };
        self.quota = sndcnt;
    }

    /// Bytes that may be sent now.
    pub fn quota(&self) -> u64 {
        self.quota
    }

    /// `bytes` went out.
    pub fn sent(&mut self, bytes: u64) {
        self.out += bytes;
        self.quota = self.quota.saturating_sub(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u64 = 1000;

    #[test]
    fn proportional_while_the_flight_is_above_the_target() {
        // 20 segments in flight, one lost, target 10 (Reno halving): each
        // delivered segment lets half a segment out (RFC 6937 §5's example).
        let mut p = Prr::new(20 * MSS);
        let mut pipe = 19 * MSS;
        let mut sent = 0;
        for _ in 0..10 {
            pipe -= MSS;
            p.on_ack(MSS, pipe, 10 * MSS, MSS);
            let q = p.quota();
            p.sent(q);
            pipe += q;
            sent += q;
        }
        assert_eq!(sent, 5 * MSS, "ten delivered, five sent");
    }

    #[test]
    fn slow_start_back_when_losses_took_the_flight_below_the_target() {
        // Heavy loss: 4 segments left in flight, target 10.
        let mut p = Prr::new(20 * MSS);
        p.on_ack(MSS, 3 * MSS, 10 * MSS, MSS);
        assert_eq!(p.quota(), 2 * MSS, "what was delivered plus one segment");
        p.sent(2 * MSS);
        p.on_ack(MSS, 4 * MSS, 10 * MSS, MSS);
        assert_eq!(p.quota(), 2 * MSS);
        // Never beyond the target.
        p.on_ack(20 * MSS, 9 * MSS, 10 * MSS, MSS);
        assert_eq!(p.quota(), MSS);
    }
}
