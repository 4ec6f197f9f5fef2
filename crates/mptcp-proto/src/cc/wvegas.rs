//! wVegas, weighted Vegas (Cao, Xu, Fu, "Delay-based congestion control for
//! multipath TCP", ICNP 2012; draft-xu-mptcp-congestion-control): Vegas per
//! subflow, with each subflow's target backlog a share of the connection's.
//!
//! Once per RTT (an epoch: until what was in flight at its start has been
//! acknowledged), from the epoch's mean RTT and the smallest RTT seen (base):
//!
//! ```text
//!   diff_r  = w_r (rtt_r - base_r) / rtt_r          packets queued
//!   alpha_r = max(2, x_r / sum_k x_k * TOTAL_ALPHA)  its share of the backlog
//!   diff_r < alpha_r: w_r += 1;  diff_r > alpha_r: w_r -= 1
//!   queueing delay rtt_r - base_r >= 2 x its smallest: w_r *= base_r / (2 rtt_r)
//! ```
//!
//! In slow start a backlog above GAMMA packets ends it (the window cut to
//! the target w_r base_r / rtt_r plus one). Losses and timeouts are Reno's.

use super::reno::RenoWindow;
use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId};
use crate::path::PathView;
use crate::time::{Duration, Instant};

/// The connection's total backlog target, packets.
const TOTAL_ALPHA: f64 = 10.0;
/// The least (and initial) backlog target of a subflow, packets.
const MIN_ALPHA: f64 = 2.0;
/// The backlog that ends slow start, packets.
const GAMMA: f64 = 1.0;
/// An epoch with fewer RTT samples than this falls back to Reno.
const MIN_SAMPLES: u32 = 3;

#[derive(Debug, Clone)]
struct State {
    w: RenoWindow,
    /// The smallest RTT seen.
    base_rtt: Option<Duration>,
    /// The current epoch's RTT samples: sum and count.
    sampled: Duration,
    samples: u32,
    /// Bytes acknowledged on the subflow so far.
    acked: u64,
    /// The epoch ends when `acked` reaches this (None: start one).
    epoch_end: Option<u64>,
    /// Figures of the last epoch that had enough samples.
    rtt: Option<Duration>,
    diff: f64,
    alpha: f64,
    /// The smallest queueing delay seen since the last drain.
    queue_delay: Option<Duration>,
    drains: u64,
}

impl State {
    fn new(mss: u32) -> Self {
        State {
            w: RenoWindow::new(mss),
            base_rtt: None,
            sampled: Duration::ZERO,
            samples: 0,
            acked: 0,
            epoch_end: None,
            rtt: None,
            diff: 0.0,
            alpha: MIN_ALPHA,
            queue_delay: None,
            drains: 0,
        }
    }

    fn segs(&self) -> f64 {
        self.w.cwnd as f64 / self.w.mss as f64
    }
}

/// wVegas (ICNP 2012).
#[derive(Debug, Clone, Default)]
pub struct WVegas {
    subflows: PerSubflow<State>,
}

impl WVegas {
    /// x_r / sum_k x_k over the subflows that have an RTT: each one's last
    /// epoch RTT, else its smoothed RTT.
    fn weight(&self, sf: SubflowId, all: &[PathView]) -> Option<f64> {
        let mut sum = 0.0;
        let mut mine = None;
        for v in all {
            let (cwnd, rtt) = match self.subflows.get(v.id) {
                Some(s) => (s.w.cwnd, s.rtt.unwrap_or(v.srtt)),
                None => (v.cwnd, v.srtt),
            };
            if rtt == Duration::ZERO {
                continue;
            }
            let x = cwnd as f64 / rtt.as_secs_f64();
            sum += x;
            if v.id == sf {
                mine = Some(x);
            }
        }
        let x = mine?;
        (sum > 0.0).then_some(x / sum)
    }

    /// The end of an epoch on `sf`: the Vegas decision.
    fn epoch(&mut self, sf: SubflowId, all: &[PathView]) {
        let weight = self.weight(sf, all);
        let Some(s) = self.subflows.get_mut(sf) else { return };
        let samples = std::mem::take(&mut s.samples);
        let sampled = std::mem::replace(&mut s.sampled, Duration::ZERO);
        let mss = s.w.mss;
        let Some(base) = s.base_rtt.filter(|_| samples >= MIN_SAMPLES) else {
            // Too few samples to judge: Reno's one segment per RTT.
            if s.w.cwnd >= s.w.ssthresh {
                s.w.cwnd += mss;
            }
            return;
        };
        let rtt = Duration::from_micros(sampled.as_micros() / u64::from(samples)).max(base);
        s.rtt = Some(rtt);
        let (rtt_s, base_s) = (rtt.as_secs_f64(), base.as_secs_f64());
        let w = s.segs();
        let target = w * base_s / rtt_s;
        s.diff = w * (rtt_s - base_s) / rtt_s;
        if s.w.cwnd < s.w.ssthresh {
            if s.diff > GAMMA {
                // Vegas leaves slow start once a backlog builds.
                let cut = ((target + 1.0) * mss as f64) as u64;
                s.w.cwnd = s.w.cwnd.min(cut).max(2 * mss);
                s.w.ssthresh = s.w.ssthresh.min(s.w.cwnd.saturating_sub(mss)).max(2 * mss);
            }
            return;
        }
        if s.diff >= s.alpha
            && let Some(weight) = weight
        {
            s.alpha = (weight * TOTAL_ALPHA).max(MIN_ALPHA);
        }
        if s.diff > s.alpha {
            s.w.cwnd = s.w.cwnd.saturating_sub(mss).max(2 * mss);
            s.w.ssthresh = s.w.ssthresh.min(s.w.cwnd.saturating_sub(mss)).max(2 * mss);
        } else if s.diff < s.alpha {
            s.w.cwnd += mss;
        }
        // Drain the queue when its delay doubled from the least seen.
        let q = rtt - base;
        let least = *s.queue_delay.get_or_insert(q);
        if q < least {
            s.queue_delay = Some(q);
        } else if least > Duration::ZERO && q >= least.saturating_mul(2) {
            s.w.cwnd = ((s.w.cwnd as f64 * base_s / (2.0 * rtt_s)) as u64).max(2 * mss);
            s.queue_delay = None;
            s.drains += 1;
        }
    }
}

impl CongestionControl for WVegas {
    fn name(&self) -> &'static str {
        "wvegas"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        self.subflows.insert(sf, State::new(mss));
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, _now: Instant, ack: &AckInfo, all: &[PathView]) {
        let ended = {
            let Some(s) = self.subflows.get_mut(sf) else { return };
            s.w.mss = u64::from(ack.mss.max(1));
            s.acked += ack.bytes_acked;
            if let Some(rtt) = ack.rtt {
                s.sampled = s.sampled + rtt;
                s.samples += 1;
                s.base_rtt = Some(s.base_rtt.map_or(rtt, |b| b.min(rtt)));
            }
            if ack.min_rtt > Duration::ZERO {
                s.base_rtt = Some(s.base_rtt.map_or(ack.min_rtt, |b| b.min(ack.min_rtt)));
            }
            if ack.in_recovery || ack.app_limited {
                // Not the window's doing: the epoch restarts after.
                s.epoch_end = None;
                s.samples = 0;
                s.sampled = Duration::ZERO;
                return;
            }
            let end = *s.epoch_end.get_or_insert(s.acked + ack.in_flight);
            // Slow start goes on per ACK, the epoch's check included (which
            // may then cut it): with a window of one or two segments after a
            // timeout every ACK ends an epoch, and growing only between the
            // checks left the window at one segment for good.
            s.w.slow_start(ack.bytes_acked);
            s.acked >= end
        };
        if ended {
            self.epoch(sf, all);
            if let Some(s) = self.subflows.get_mut(sf) {
                s.epoch_end = Some(s.acked + ack.in_flight);
            }
        }
    }

    fn on_congestion_event(&mut self, sf: SubflowId, _now: Instant, loss: &LossInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_loss(loss.in_flight);
        s.epoch_end = None;
    }

    fn on_rto(&mut self, sf: SubflowId, _now: Instant, in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.w.on_rto(in_flight);
        s.epoch_end = None;
    }

    fn metrics(&self, sf: SubflowId) -> Vec<(&'static str, f64)> {
        let Some(s) = self.subflows.get(sf) else { return Vec::new() };
        let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
        vec![
            ("base_rtt_ms", ms(s.base_rtt)),
            ("rtt_ms", ms(s.rtt)),
            ("diff_pkts", s.diff),
            ("alpha_pkts", s.alpha),
            ("queue_delay_ms", ms(s.queue_delay)),
            ("drains", s.drains as f64),
        ]
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
    use crate::cc::tests::view;

    const MSS: u64 = 1000;

    /// A wVegas whose subflows have these windows (bytes), in congestion
    /// avoidance, with a 10 ms base RTT.
    fn wvegas(windows: &[u64]) -> WVegas {
        let mut v = WVegas::default();
        for (i, &cwnd) in windows.iter().enumerate() {
            let sf = SubflowId(i as u32);
            v.on_subflow_added(sf, Instant::ZERO, MSS as u32);
            let s = v.subflows.get_mut(sf).unwrap();
            s.w.cwnd = cwnd;
            s.w.ssthresh = cwnd;
            s.base_rtt = Some(Duration::from_millis(10));
        }
        v
    }

    fn ack(rtt_us: u64, in_flight: u64) -> AckInfo {
        AckInfo {
            bytes_acked: MSS,
            rtt: Some(Duration::from_micros(rtt_us)),
            srtt: Duration::from_micros(rtt_us),
            min_rtt: Duration::from_millis(10),
            in_flight,
            app_limited: false,
            in_recovery: false,
            mss: MSS as u32,
        }
    }

    /// ACKs with RTT samples of `rtt_us` until one epoch ends on `sf`.
    fn epoch(v: &mut WVegas, sf: SubflowId, rtt_us: u64, all: &[PathView]) {
        for _ in 0..10_000 {
            let flight = v.window(sf);
            v.on_ack(sf, Instant::ZERO, &ack(rtt_us, flight), all);
            if v.subflows.get(sf).unwrap().samples == 0 {
                return;
            }
        }
        panic!("no epoch ended");
    }

    fn metric(v: &WVegas, sf: SubflowId, name: &str) -> f64 {
        v.metrics(sf).into_iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn grows_one_segment_per_epoch_while_diff_is_below_alpha() {
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        let mut v = wvegas(&[20_000]);
        for k in 1..=5 {
            // 0.5 ms of queueing: diff = w * 0.5 / 10.5 < 2 packets.
            epoch(&mut v, sf, 10_500, &one);
            assert_eq!(v.window(sf), 20_000 + k * MSS, "epoch {k}");
        }
        let want = 24.0 * 0.5 / 10.5;
        assert!((metric(&v, sf, "diff_pkts") - want).abs() < 1e-9);
        assert_eq!(metric(&v, sf, "base_rtt_ms"), 10.0);
        assert_eq!(metric(&v, sf, "rtt_ms"), 10.5);
    }

    #[test]
    fn shrinks_one_segment_per_epoch_while_diff_is_above_alpha() {
        let sf = SubflowId(0);
        let one = [view(0, 30)];
        let mut v = wvegas(&[20_000]);
        for k in 1..=3 {
            // 20 ms of queueing on 30: diff = w * 2/3 > 10 (alone, alpha is
            // the whole TOTAL_ALPHA); the queueing delay does not grow, so
            // no drain.
            epoch(&mut v, sf, 30_000, &one);
            assert_eq!(v.window(sf), 20_000 - k * MSS, "epoch {k}");
            assert!(v.ssthresh(sf) < v.window(sf));
        }
        assert_eq!(metric(&v, sf, "alpha_pkts"), 10.0);
        assert_eq!(metric(&v, sf, "drains"), 0.0);
    }

    #[test]
    fn alpha_is_the_subflows_share_of_the_total() {
        // Equal subflows: x_r / sum x = 1/n of TOTAL_ALPHA, at least 2.
        for (n, want) in [(1u32, 10.0), (2, 5.0), (4, 2.5), (8, 2.0)] {
            let all: Vec<PathView> = (0..n).map(|i| view(i, 30)).collect();
            let mut v = wvegas(&vec![20_000; n as usize]);
            // A backlog large enough to reach alpha: diff = 20 * 20/30.
            epoch(&mut v, SubflowId(0), 30_000, &all);
            assert!((metric(&v, SubflowId(0), "alpha_pkts") - want).abs() < 1e-9, "n={n}");
        }
        // Unequal rates: twice the window, twice the share.
        let all = [view(0, 30), view(1, 30)];
        let mut v = wvegas(&[40_000, 20_000]);
        epoch(&mut v, SubflowId(0), 30_000, &all);
        assert!((metric(&v, SubflowId(0), "alpha_pkts") - 10.0 * 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn drains_when_the_queueing_delay_doubles() {
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        let mut v = wvegas(&[20_000]);
        // 2 ms of queueing: diff = 20 * 2/12 = 3.3, under alpha = 10: +1.
        epoch(&mut v, sf, 12_000, &one);
        assert_eq!(v.window(sf), 21_000);
        assert_eq!(metric(&v, sf, "queue_delay_ms"), 2.0);
        // 4 ms: diff = 21 * 4/14 = 6, +1, then the delay is twice the least
        // seen: w = 22 * base / (2 rtt) = 22 * 10/28 segments.
        epoch(&mut v, sf, 14_000, &one);
        assert_eq!(v.window(sf), (22_000.0 * 10.0 / 28.0) as u64);
        assert_eq!(metric(&v, sf, "drains"), 1.0);
        // Under twice the least: no drain.
        let mut v = wvegas(&[20_000]);
        epoch(&mut v, sf, 12_000, &one);
        epoch(&mut v, sf, 13_900, &one);
        assert_eq!(v.window(sf), 22_000);
        assert_eq!(metric(&v, sf, "drains"), 0.0);
    }

    #[test]
    fn slow_start_ends_when_a_backlog_builds() {
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        let mut v = WVegas::default();
        v.on_subflow_added(sf, Instant::ZERO, MSS as u32);
        // No queueing: slow start doubles per round.
        epoch(&mut v, sf, 10_000, &one);
        assert!(v.window(sf) >= 19_000 && v.ssthresh(sf) == u64::MAX, "{}", v.window(sf));
        // 5 ms of queueing on 15: diff = w/3 > 1: the window becomes the
        // target w * 10/15 plus one, and slow start ends below it.
        let w = v.window(sf) as f64 / MSS as f64;
        epoch(&mut v, sf, 15_000, &one);
        let grown = v.window(sf);
        assert!(grown < u64::MAX && v.ssthresh(sf) < grown, "{grown} {}", v.ssthresh(sf));
        // The epoch's ACKs grew it by slow start first; the cut is to at most
        // the target of the grown window plus one.
        assert!(grown as f64 <= (2.0 * w * 10.0 / 15.0 + 1.0) * MSS as f64, "{grown}");
        assert!(grown as f64 >= (w * 10.0 / 15.0) * MSS as f64, "{grown}");
    }

    #[test]
    fn without_queueing_alone_it_grows_and_halves_like_reno() {
        let sf = SubflowId(0);
        let one = [view(0, 10)];
        let mut v = wvegas(&[20_000]);
        for _ in 0..10 {
            epoch(&mut v, sf, 10_000, &one);
        }
        assert_eq!(v.window(sf), 30_000, "one segment per RTT");
        v.on_congestion_event(sf, Instant::ZERO, &LossInfo::in_flight(30_000), &one);
        assert_eq!((v.window(sf), v.ssthresh(sf)), (15_000, 15_000));
        v.on_rto(sf, Instant::ZERO, 15_000, &one);
        assert_eq!((v.window(sf), v.ssthresh(sf)), (MSS, 7_500));
    }
}
