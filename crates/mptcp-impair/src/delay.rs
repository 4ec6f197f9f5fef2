//! Delay with jitter. Each packet is held `delay + U[0, jitter]`; unless
//! reordering is asked, a packet never leaves before the one handed in before
//! it (the arrival is pushed to the previous one's), which is what netem's
//! jitter does not do by default and what most users expect. Times are in
//! microseconds.

use crate::rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A delay line.
#[derive(Debug)]
pub struct Delay<P> {
    /// Fixed one-way delay, µs.
    pub delay_us: u64,
    /// Uniform jitter added on top, µs.
    pub jitter_us: u64,
    /// Whether jitter may reorder packets.
    pub reorder: bool,
    last: u64,
    seq: u64,
    held: BinaryHeap<Reverse<(u64, u64, Held<P>)>>,
}

/// A packet in the line (compared by nothing: the heap orders by time, then seq).
#[derive(Debug)]
struct Held<P>(P);

impl<P> PartialEq for Held<P> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<P> Eq for Held<P> {}
impl<P> PartialOrd for Held<P> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<P> Ord for Held<P> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<P> Delay<P> {
    /// A line with the given delay and jitter (µs).
    pub fn new(delay_us: u64, jitter_us: u64, reorder: bool) -> Self {
        Delay { delay_us, jitter_us, reorder, last: 0, seq: 0, held: BinaryHeap::new() }
    }

    /// Takes `pkt` at `now_us`; returns when it will leave.
    pub fn push(&mut self, now_us: u64, pkt: P, rng: &mut Rng) -> u64 {
        let mut at = now_us.saturating_add(self.delay_us);
        if self.jitter_us > 0 {
            at = at.saturating_add(rng.below(self.jitter_us + 1));
        }
        if !self.reorder {
            at = at.max(self.last);
            self.last = at;
        }
        self.seq += 1;
        self.held.push(Reverse((at, self.seq, Held(pkt))));
        at
    }

    /// The next packet due by `now_us`, if any.
    pub fn pop(&mut self, now_us: u64) -> Option<P> {
        if self.held.peek().is_some_and(|Reverse((t, _, _))| *t <= now_us) {
            self.held.pop().map(|Reverse((_, _, Held(p)))| p)
        } else {
            None
        }
    }

    /// When the next packet is due.
    pub fn next_due(&self) -> Option<u64> {
        self.held.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands in 0..n every `gap` µs; returns (leave time, id) in leaving order.
    fn run(d: &mut Delay<u64>, n: u64, gap: u64, seed: u64) -> Vec<(u64, u64)> {
        let mut rng = Rng::derive(seed, 0);
        for i in 0..n {
            d.push(i * gap, i, &mut rng);
        }
        let mut out = Vec::new();
        while let Some(t) = d.next_due() {
            while let Some(p) = d.pop(t) {
                out.push((t, p));
            }
        }
        out
    }

    #[test]
    fn fixed_delay_is_exact() {
        let got = run(&mut Delay::new(25_000, 0, false), 100, 1_000, 1);
        assert!(got.iter().all(|&(t, i)| t == i * 1_000 + 25_000));
    }

    #[test]
    fn jitter_keeps_order_unless_asked() {
        let kept = run(&mut Delay::new(10_000, 5_000, false), 2_000, 100, 2);
        assert!(kept.iter().enumerate().all(|(k, &(_, i))| k as u64 == i), "order kept");
        let mean = kept.iter().map(|&(t, i)| (t - i * 100) as f64).sum::<f64>() / 2_000.0;
        assert!(mean >= 12_500.0, "delay at least the mean of the jitter: {mean}");
        let mixed = run(&mut Delay::new(10_000, 5_000, true), 2_000, 100, 2);
        let inversions = mixed.windows(2).filter(|w| w[1].1 < w[0].1).count();
        assert!(inversions > 500, "reordering asked, {inversions} inversions");
        let mean = mixed.iter().map(|&(t, i)| (t - i * 100) as f64).sum::<f64>() / 2_000.0;
        assert!((12_300.0..12_700.0).contains(&mean), "mean delay {mean}");
    }
}
