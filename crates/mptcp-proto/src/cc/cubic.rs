//! CUBIC (RFC 9438) with HyStart++ slow start (RFC 9406).

use super::{AckInfo, CongestionControl, LossInfo, PerSubflow, SubflowId, initial_window};
use crate::path::PathView;
use crate::time::{Duration, Instant};

/// RFC 9438 §4.1: C = 0.4 (segments / s^3).
const C: f64 = 0.4;
/// RFC 9438 §4.6: beta_cubic = 0.7.
const BETA: f64 = 0.7;
/// RFC 9438 §4.3: alpha_cubic = 3 (1 - beta) / (1 + beta).
const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);

/// RFC 9406 §4.3 constants.
const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const N_RTT_SAMPLE: u32 = 8;
const CSS_GROWTH_DIVISOR: u64 = 4;
const CSS_ROUNDS: u32 = 5;

#[derive(Debug, Clone)]
struct HyStart {
    /// Bytes acked since the round began; a round ends after one window.
    round_acked: u64,
    round_len: u64,
    last_round_min_rtt: Option<Duration>,
    current_round_min_rtt: Option<Duration>,
    samples: u32,
    /// In conservative slow start: the RTT baseline and rounds done.
    css: Option<(Duration, u32)>,
}

#[derive(Debug, Clone)]
struct State {
    cwnd: u64,
    ssthresh: u64,
    mss: u64,
    /// W_max in segments, and K in seconds, of the current epoch.
    w_max: f64,
    k: f64,
    /// The start of the current congestion-avoidance epoch.
    epoch: Option<Instant>,
    /// RFC 9438 §4.3: the Reno-friendly estimate, segments.
    w_est: f64,
    /// Fractional growth carried between ACKs, bytes.
    carry: f64,
    hystart: HyStart,
}

impl State {
    fn new(mss: u32) -> Self {
        let cwnd = initial_window(mss);
        State {
            cwnd,
            ssthresh: u64::MAX,
            mss: u64::from(mss.max(1)),
            w_max: 0.0,
            k: 0.0,
            epoch: None,
            w_est: 0.0,
            carry: 0.0,
            hystart: HyStart {
                round_acked: 0,
                round_len: cwnd,
                last_round_min_rtt: None,
                current_round_min_rtt: None,
                samples: 0,
                css: None,
            },
        }
    }

    fn segs(&self) -> f64 {
        self.cwnd as f64 / self.mss as f64
    }

    /// HyStart++ on one ACK in slow start; returns the growth divisor.
    fn hystart(&mut self, ack: &AckInfo) -> u64 {
        let h = &mut self.hystart;
        if let Some(rtt) = ack.rtt {
            h.current_round_min_rtt = Some(h.current_round_min_rtt.map_or(rtt, |m| m.min(rtt)));
            h.samples += 1;
        }
        let mut divisor = 1;
        match h.css {
            None => {
                if let (Some(last), Some(cur)) = (h.last_round_min_rtt, h.current_round_min_rtt)
                    && h.samples >= N_RTT_SAMPLE
                {
                    // RFC 9406 §4.2: eta = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms).
                    let eta = Duration::from_micros(last.as_micros() / 8).clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                    if cur >= last + eta {
                        h.css = Some((cur, 0));
                    }
                }
            }
            Some((baseline, _)) => {
                divisor = CSS_GROWTH_DIVISOR;
                if let Some(cur) = h.current_round_min_rtt
                    && h.samples >= N_RTT_SAMPLE
                    && cur < baseline
                {
                    // The RTT increase was spurious: back to slow start.
                    h.css = None;
                    divisor = 1;
                }
            }
        }
        h.round_acked += ack.bytes_acked;
        if h.round_acked >= h.round_len {
            h.round_acked = 0;
            h.round_len = self.cwnd;
            h.last_round_min_rtt = h.current_round_min_rtt.take().or(h.last_round_min_rtt);
            h.samples = 0;
            if let Some((b, rounds)) = h.css {
                if rounds + 1 >= CSS_ROUNDS {
                    // RFC 9406 §4.2: leave for congestion avoidance.
                    h.css = None;
                    self.ssthresh = self.cwnd;
                } else {
                    h.css = Some((b, rounds + 1));
                }
            }
        }
        divisor
    }

    fn enter_recovery(&mut self, now: Instant) {
        let w = self.segs();
        // RFC 9438 §4.7 fast convergence.
        self.w_max = if w < self.w_max { w * (1.0 + BETA) / 2.0 } else { w };
        let reduced = ((self.cwnd as f64) * BETA) as u64;
        self.ssthresh = reduced.max(2 * self.mss);
        self.cwnd = self.ssthresh;
        self.k = ((self.w_max - self.segs()).max(0.0) / C).cbrt();
        self.epoch = Some(now);
        self.w_est = self.segs();
        self.carry = 0.0;
        self.hystart.css = None;
    }
}

/// CUBIC: window growth as a cubic function of the time since the last loss,
/// with a Reno-friendly floor; HyStart++ slow start. The default for plain TCP,
/// as on Linux.
#[derive(Debug, Clone, Default)]
pub struct Cubic {
    subflows: PerSubflow<State>,
}

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    fn on_subflow_added(&mut self, sf: SubflowId, _now: Instant, mss: u32) {
        self.subflows.insert(sf, State::new(mss));
    }

    fn on_subflow_removed(&mut self, sf: SubflowId) {
        self.subflows.remove(sf);
    }

    fn on_ack(&mut self, sf: SubflowId, now: Instant, ack: &AckInfo, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.mss = u64::from(ack.mss.max(1));
        if ack.in_recovery || ack.app_limited {
            return;
        }
        if s.cwnd < s.ssthresh {
            let divisor = s.hystart(ack);
            s.cwnd += ack.bytes_acked.min(2 * s.mss) / divisor;
            return;
        }
        let epoch = *s.epoch.get_or_insert_with(|| {
            // An epoch that starts without a loss (after slow start) has K = 0.
            s.w_max = s.cwnd as f64 / s.mss as f64;
            s.k = 0.0;
            s.w_est = s.w_max;
            now
        });
        let rtt = ack.srtt.as_secs_f64();
        let t = (now - epoch).as_secs_f64();
        let w = s.segs();
        // RFC 9438 §4.2: the target is W_cubic one RTT ahead, within [cwnd, 1.5 cwnd].
        let target = (C * (t + rtt - s.k).powi(3) + s.w_max).clamp(w, 1.5 * w);
        // RFC 9438 §4.3: the Reno-friendly estimate grows by alpha per window acked.
        let acked_segs = ack.bytes_acked as f64 / s.mss as f64;
        s.w_est += ALPHA * acked_segs / w;
        let grow_segs =
            if s.w_est > target { (s.w_est - w).max(0.0) * acked_segs / w } else { (target - w) / w * acked_segs };
        s.carry += grow_segs * s.mss as f64;
        if s.carry >= 1.0 {
            let whole = s.carry.floor();
            s.cwnd += whole as u64;
            s.carry -= whole;
        }
    }

    fn on_congestion_event(&mut self, sf: SubflowId, now: Instant, _loss: &LossInfo, _all: &[PathView]) {
        if let Some(s) = self.subflows.get_mut(sf) {
            s.enter_recovery(now);
        }
    }

    fn on_rto(&mut self, sf: SubflowId, now: Instant, _in_flight: u64, _all: &[PathView]) {
        let Some(s) = self.subflows.get_mut(sf) else { return };
        s.enter_recovery(now);
        // RFC 9438 §4.8: after a timeout, restart from one segment in slow start.
        s.cwnd = s.mss;
        s.epoch = None;
    }

    fn window(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(0, |s| s.cwnd)
    }

    fn ssthresh(&self, sf: SubflowId) -> u64 {
        self.subflows.get(sf).map_or(u64::MAX, |s| s.ssthresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(bytes: u64, rtt_ms: u64) -> AckInfo {
        AckInfo {
            bytes_acked: bytes,
            rtt: Some(Duration::from_millis(rtt_ms)),
            srtt: Duration::from_millis(rtt_ms),
            min_rtt: Duration::from_millis(rtt_ms),
            in_flight: 0,
            app_limited: false,
            in_recovery: false,
            mss: 1000,
        }
    }

    #[test]
    fn reduces_by_beta_and_regrows_to_w_max_in_about_k() {
        let mut c = Cubic::default();
        let sf = SubflowId(0);
        c.on_subflow_added(sf, Instant::ZERO, 1000);
        // Leave slow start at 100 segments.
        let mut now = Instant::ZERO;
        while c.window(sf) < 100_000 {
            c.on_ack(sf, now, &ack(1000, 20), &[]);
        }
        c.on_congestion_event(sf, now, &LossInfo::in_flight(100_000), &[]);
        let after = c.window(sf);
        assert!((69_000..=71_000).contains(&after), "{after}");
        // K = cbrt(100 * 0.3 / 0.4) ≈ 4.2 s; feed one window of ACKs per 20 ms RTT.
        for _ in 0..250 {
            now += Duration::from_millis(20);
            let w = c.window(sf) / 1000;
            for _ in 0..w {
                c.on_ack(sf, now, &ack(1000, 20), &[]);
            }
        }
        let at_5s = c.window(sf);
        assert!(at_5s > 98_000, "back near W_max after K: {at_5s}");
    }

    #[test]
    fn hystart_leaves_slow_start_when_rtt_grows() {
        let mut c = Cubic::default();
        let sf = SubflowId(0);
        c.on_subflow_added(sf, Instant::ZERO, 1000);
        // Rounds at 20 ms, then the RTT climbs by 10 ms per round.
        let mut rtt = 20;
        for round in 0..12 {
            let w = c.window(sf) / 1000;
            for _ in 0..w {
                c.on_ack(sf, Instant::ZERO, &ack(1000, rtt), &[]);
            }
            if round >= 3 {
                rtt += 10;
            }
        }
        assert!(c.ssthresh(sf) < u64::MAX, "HyStart++ set ssthresh");
        assert!(c.window(sf) < 1_000_000, "growth slowed: {}", c.window(sf));
    }
}
