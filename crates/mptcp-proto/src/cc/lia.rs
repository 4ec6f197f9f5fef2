//! LIA, the Linked Increases Algorithm (RFC 6356): coupled congestion control,
//! the MPTCP default. Slow start and the decrease are Reno's per subflow; the
//! increase in congestion avoidance is coupled so the connection as a whole
//! takes no more than one TCP flow would on its best path.

use super::reno::RenoWindow;
use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId};
use crate::path::PathView;
use crate::time::Instant;

#[derive(Debug, Clone)]
struct State {
    w: RenoWindow,
    /// Fractional increase carried between ACKs, bytes.
    carry: f64,
}

/// LIA (RFC 6356).
#[derive(Debug, Clone, Default)]
pub struct Lia {
    subflows: PerSubflow<State>,
}

impl Lia {
    /// RFC 6356 §3: alpha = cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2.
    fn alpha(all: &[PathView]) -> Option<(f64, f64)> {
        let mut total = 0.0;
        let mut best = 0.0f64;
        let mut sum = 0.0;
        for v in all {
            let rtt = v.srtt.as_secs_f64();
            if rtt <= 0.0 {
                return None;
            }
            let w = v.cwnd as f64;
            total += w;
            best = best.max(w / (rtt * rtt));
            sum += w / rtt;
        }
        (sum > 0.0).then(|| (total * best / (sum * sum), total))
    }
}

impl CongestionControl for Lia {
    fn name(&self) -> &'static str {
        "lia"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        self.subflows.insert(sf, State { w: RenoWindow::new(mss), carry: 0.0 });
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, all: &[PathView]) {
        let coupled = Self::alpha(all);
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.mss = u64::from(ack.mss.max(1));
        if ack.in_recovery || ack.app_limited || s.w.slow_start(ack.bytes_acked) {
            return;
        }
        let acked = ack.bytes_acked as f64;
        let mss = s.w.mss as f64;
        let own = acked * mss / s.w.cwnd as f64;
        // RFC 6356 §3: increase by min(alpha * bytes_acked * MSS_i / cwnd_total,
        // bytes_acked * MSS_i / cwnd_i); alone it is Reno's increase.
        let inc = match coupled {
            Some((alpha, total)) if total > 0.0 => (alpha * acked * mss / total).min(own),
            _ => own,
        };
        // In whole segments (RFC 6356 §4's cwnd_cnt): a window grown by a few
        // bytes per ACK gives the sender a few bytes of room per ACK, sent as
        // a segment of that size.
        s.w.add_in_segments(&mut s.carry, inc);
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, loss: &LossInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_loss(loss.in_flight);
        s.carry = 0.0;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_rto(in_flight);
        s.carry = 0.0;
    }

    fn window(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(0, |s| s.w.cwnd)
    }

    fn ssthresh(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(u64::MAX, |s| s.w.ssthresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u32, cwnd: u64, rtt_ms: u64) -> PathView {
        let mut v = crate::sched::tests::path(id as usize, rtt_ms, cwnd, false);
        v.in_flight = cwnd;
        v
    }

    #[test]
    fn two_equal_subflows_grow_by_alpha_mss_per_rtt() {
        // RFC 6356 §3: with n equal paths alpha = 1/n, and in one RTT each
        // subflow grows by alpha * cwnd_i * MSS / cwnd_total: the total by
        // alpha * MSS = MSS / n (each subflow also halves only its own, smaller
        // window on a loss, which is how the sum matches one TCP flow).
        let all = [view(0, 20_000, 10), view(1, 20_000, 10)];
        let (alpha, total) = Lia::alpha(&all).unwrap();
        assert!((alpha - 0.5).abs() < 1e-9);
        assert_eq!(total, 40_000.0);
        let mut lia = Lia::default();
        let ack = crate::cc::tests::ack(1000);
        for i in 0..2 {
            lia.on_subflow_added(SubflowId(i), Instant::ZERO, 1000);
            // Slow start from 10 to 40 segments, then a loss halves it to 20.
            for _ in 0..30 {
                lia.on_ack(SubflowId(i), Instant::ZERO, &ack, &all);
            }
            lia.on_congestion_event(SubflowId(i), Instant::ZERO, &LossInfo::in_flight(40_000), &all);
        }
        assert_eq!(lia.window(SubflowId(0)), 20_000);
        // One window of ACKs on each subflow.
        for _ in 0..20 {
            for i in 0..2 {
                lia.on_ack(SubflowId(i), Instant::ZERO, &ack, &all);
            }
        }
        // Still carried (windows move in whole segments), but counted.
        assert_eq!(lia.window(SubflowId(0)) + lia.window(SubflowId(1)), 40_000);
        let carried: f64 = (0..2).map(|i| lia.subflows.get(SubflowId(i)).unwrap().carry).sum();
        assert!((carried - 500.0).abs() < 1e-6, "total grew by half an MSS in one RTT: {carried}");
        // Alone, a subflow grows as Reno would: one MSS per window.
        let mut alone = Lia::default();
        alone.on_subflow_added(SubflowId(0), Instant::ZERO, 1000);
        alone.on_congestion_event(SubflowId(0), Instant::ZERO, &LossInfo::in_flight(10_000), &[]);
        let one = [view(0, 5_000, 10)];
        for _ in 0..5 {
            alone.on_ack(SubflowId(0), Instant::ZERO, &ack, &one);
        }
        // MSS * MSS / cwnd per ACK: one MSS after a window of ACKs, added whole.
        assert_eq!(alone.window(SubflowId(0)), 6_000);
        for _ in 0..5 {
            alone.on_ack(SubflowId(0), Instant::ZERO, &ack, &one);
        }
        assert_eq!(alone.window(SubflowId(0)), 6_000, "5/6 of a segment carried, not added");
    }
}
