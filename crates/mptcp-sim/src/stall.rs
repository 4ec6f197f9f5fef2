//! Stalls: spans in which a flow moves next to nothing. The longest gap
//! between two bytes misses a stall that a trickle interrupts (a data-level
//! retransmission every couple of seconds, say), so a stall here is judged
//! on the goodput series: the longest run of samples, after the warm-up and
//! before the flow completed, whose goodput stays under a tenth of the
//! flow's usual rate (the 90th percentile of its samples in that window:
//! the mean of a stalled flow is the stall's own low figure).

use crate::results::{FlowResult, Results};

/// Goodput under this fraction of the flow's usual rate is stalled.
pub const STALL_FRACTION: f64 = 0.1;
/// Shorter runs are not reported (loss recovery, a slow start).
pub const MIN_STALL_S: f64 = 1.0;

/// A stall: when it began and how long it lasted, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    /// Start, seconds into the run.
    pub from_s: f64,
    /// Length, seconds.
    pub length_s: f64,
}

/// The longest stall of a series sampled at `t_s` (each sample the goodput
/// of the interval that ends at it), counting samples in `(from, to]`
/// only; `None` when none lasts `MIN_STALL_S`.
pub fn longest(t_s: &[f64], goodput: &[f64], from: f64, to: f64) -> Option<Stall> {
    let mut window: Vec<f64> =
        t_s.iter().zip(goodput).filter(|(t, _)| **t > from && **t <= to).map(|(_, g)| *g).collect();
    if window.is_empty() {
        return None;
    }
    window.sort_by(f64::total_cmp);
    let usual = window[(window.len() * 9 / 10).min(window.len() - 1)];
    if usual <= 0.0 {
        return None;
    }
    let low = usual * STALL_FRACTION;
    let mut best: Option<Stall> = None;
    let mut start: Option<f64> = None;
    let mut prev_t = from;
    for (&t, &g) in t_s.iter().zip(goodput) {
        if t <= from || t > to {
            prev_t = t;
            continue;
        }
        if g < low {
            // The interval ending at t was stalled: it began at the previous sample.
            start.get_or_insert(prev_t.max(from));
            if let Some(s) = start
                && best.is_none_or(|b| t - s > b.length_s)
            {
                best = Some(Stall { from_s: s, length_s: t - s });
            }
        } else {
            start = None;
        }
        prev_t = t;
    }
    best.filter(|b| b.length_s >= MIN_STALL_S)
}

/// The longest stall of flow `i` of a run (None without a series).
pub fn of_flow(r: &Results, i: usize, f: &FlowResult) -> Option<Stall> {
    let s = r.series.flows.get(i)?;
    let end = f.completion_s.map_or(r.duration_s, |c| c.min(r.duration_s));
    longest(&r.series.t_s, &s.goodput_bps, r.warmup_s, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trickle_does_not_hide_a_stall() {
        // 10 samples a second; 20 Mbit/s, then from 2.0 s to 6.0 s nothing
        // but one sample of 1.5 Mbit/s at 4.0 s (under a tenth of 20).
        let t: Vec<f64> = (0..=100).map(|i| i as f64 / 10.0).collect();
        let g: Vec<f64> = t
            .iter()
            .map(|&t| if t > 2.0 && t <= 6.0 { if (t - 4.0).abs() < 0.01 { 1.5e6 } else { 0.0 } } else { 20e6 })
            .collect();
        let s = longest(&t, &g, 0.0, 10.0).expect("a stall");
        assert!((s.from_s - 2.0).abs() < 1e-9 && (s.length_s - 4.0).abs() < 1e-9, "{s:?}");
        // Before the warm-up's end or after the flow completed, nothing counts.
        assert_eq!(longest(&t, &g, 6.0, 10.0), None);
        let cut = longest(&t, &g, 0.0, 3.5).expect("a shorter one");
        assert!((cut.length_s - 1.5).abs() < 1e-9, "{cut:?}");
    }

    #[test]
    fn short_dips_and_steady_flows_are_not_stalls() {
        let t: Vec<f64> = (0..=100).map(|i| i as f64 / 10.0).collect();
        let dip: Vec<f64> = t.iter().map(|&t| if t > 5.0 && t <= 5.5 { 0.0 } else { 10e6 }).collect();
        assert_eq!(longest(&t, &dip, 0.0, 10.0), None);
        let steady = vec![10e6; t.len()];
        assert_eq!(longest(&t, &steady, 0.0, 10.0), None);
        let idle = vec![0.0; t.len()];
        assert_eq!(longest(&t, &idle, 0.0, 10.0), None, "no rate to fall from");
    }
}
