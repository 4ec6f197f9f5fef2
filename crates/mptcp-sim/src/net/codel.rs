//! CoDel (RFC 8289): drop at dequeue when packets have waited longer than
//! `target` for at least `interval`, at a rate that grows with the square
//! root of the drop count.

use mptcp_proto::{Duration, Instant};
use std::collections::VecDeque;

/// CoDel's state for one queue.
#[derive(Debug, Clone)]
pub struct Codel {
    target: Duration,
    interval: Duration,
    first_above: Option<Instant>,
    drop_next: Instant,
    count: u32,
    last_count: u32,
    dropping: bool,
}

impl Default for Codel {
    /// RFC 8289 §4.2-4.3: target 5 ms, interval 100 ms.
    fn default() -> Self {
        Codel {
            target: Duration::from_millis(5),
            interval: Duration::from_millis(100),
            first_above: None,
            drop_next: Instant::ZERO,
            count: 0,
            last_count: 0,
            dropping: false,
        }
    }
}

type Queue = VecDeque<(Instant, Vec<u8>)>;

impl Codel {
    /// RFC 8289 §5.5 control law: the next drop `interval / sqrt(count)` after `t`.
    fn control_law(&self, t: Instant) -> Instant {
        let us = self.interval.as_micros() as f64 / f64::from(self.count.max(1)).sqrt();
        t + Duration::from_micros(us as u64)
    }

    /// Pops the head, and says whether its sojourn time allows a drop.
    fn pop(&mut self, now: Instant, q: &mut Queue, bytes: &mut usize, mtu: usize) -> (Option<Vec<u8>>, bool) {
        let Some((enq, p)) = q.pop_front() else {
            self.first_above = None;
            return (None, false);
        };
        *bytes -= p.len();
        let sojourn = now - enq;
        // RFC 8289 §5.5: below target, or less than a packet queued: fine.
        if sojourn < self.target || *bytes <= mtu {
            self.first_above = None;
            return (Some(p), false);
        }
        match self.first_above {
            None => {
                self.first_above = Some(now + self.interval);
                (Some(p), false)
            }
            Some(t) => (Some(p), now >= t),
        }
    }

    /// Dequeues the next packet to send; returns it and how many it dropped.
    pub fn dequeue(&mut self, now: Instant, q: &mut Queue, bytes: &mut usize, mtu: usize) -> (Option<Vec<u8>>, u64) {
        let mut dropped = 0;
        let (mut p, mut ok) = self.pop(now, q, bytes, mtu);
        if p.is_none() {
            self.dropping = false;
            return (None, 0);
        }
        if self.dropping {
            if !ok {
                self.dropping = false;
            }
            while self.dropping && now >= self.drop_next {
                dropped += 1;
                self.count += 1;
                (p, ok) = self.pop(now, q, bytes, mtu);
                if p.is_none() || !ok {
                    self.dropping = false;
                } else {
                    self.drop_next = self.control_law(self.drop_next);
                }
            }
        } else if ok {
            dropped += 1;
            (p, _) = self.pop(now, q, bytes, mtu);
            self.dropping = true;
            // RFC 8289 §5.6: resume near the previous drop rate if the last
            // dropping state ended recently.
            let delta = self.count.saturating_sub(self.last_count);
            self.count = if delta > 1 && now - self.drop_next < self.interval.saturating_mul(16) { delta } else { 1 };
            self.drop_next = self.control_law(now);
            self.last_count = self.count;
        }
        (p, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_a_standing_queue() {
        let mut c = Codel::default();
        let mut q: Queue = VecDeque::new();
        let mut bytes = 0;
        // A packet that waited 1 ms: never dropped.
        q.push_back((Instant::ZERO, vec![0; 1500]));
        q.push_back((Instant::ZERO, vec![0; 1500]));
        bytes += 3000;
        let (p, d) = c.dequeue(Instant::from_micros(1000), &mut q, &mut bytes, 1500);
        assert!(p.is_some() && d == 0);
        // A standing 20 ms queue for over 100 ms: drops start.
        let mut total = 0;
        let mut now = Instant::from_micros(10_000);
        for i in 0..400u64 {
            while q.len() < 20 {
                q.push_back((Instant::from_micros(now.as_micros() - 20_000), vec![0; 1500]));
                bytes += 1500;
            }
            now = Instant::from_micros(10_000 + i * 1000);
            total += c.dequeue(now, &mut q, &mut bytes, 1500).1;
        }
        assert!(total >= 3, "{total}");
        assert_eq!(bytes, q.len() * 1500);
    }
}
