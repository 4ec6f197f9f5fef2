//! One direction of a point-to-point link: a queue (drop-tail in packets or
//! bytes, optionally CoDel), a transmitter that serialises at the link's rate,
//! random and bursty loss, and propagation with a delay and an order-keeping
//! jitter.
//!
//! Time inside the transmitter is kept in nanoseconds so that serialisation
//! times that are not whole microseconds (an ACK at 1 Gbit/s takes 416 ns) add
//! up exactly; events fire at the microsecond at or after the exact time.

use super::codel::Codel;
use crate::rng::Rng;
use crate::scenario::model::{Limit, LinkParams};
use crate::scenario::schema::Aqm;
use mptcp_proto::{Duration, Instant};
use serde::Serialize;
use std::collections::VecDeque;

/// A packet: the bytes of one IP datagram.
pub type Packet = Vec<u8>;

/// What a link direction did, in packets unless named `_bytes`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LinkCounters {
    /// Packets handed to the link (after its middleboxes).
    pub sent: u64,
    /// Their bytes.
    pub sent_bytes: u64,
    /// Packets that reached the far end.
    pub delivered: u64,
    /// Their bytes.
    pub delivered_bytes: u64,
    /// Bytes serialised by the transmitter (the link was busy with them).
    pub tx_bytes: u64,
    /// Dropped because the queue was full.
    pub drop_queue: u64,
    /// Dropped by CoDel.
    pub drop_aqm: u64,
    /// Lost (random or bursty loss).
    pub drop_loss: u64,
    /// Dropped because the link was (or went) down.
    pub drop_down: u64,
    /// Dropped for being larger than the MTU.
    pub drop_mtu: u64,
    /// Held back by `reorder` (later packets overtook them).
    pub reordered: u64,
    /// Delivered twice by `duplicate`.
    pub duplicated: u64,
    /// Most packets waiting in the queue at once.
    pub max_queue: usize,
}

impl LinkCounters {
    /// Every drop.
    pub fn dropped(&self) -> u64 {
        self.drop_queue + self.drop_aqm + self.drop_loss + self.drop_down + self.drop_mtu
    }
}

fn ceil_us(ns: u64) -> Instant {
    Instant::from_micros(ns.div_ceil(1000))
}

/// One direction of a link.
#[derive(Debug)]
pub struct LinkDir {
    /// Current properties.
    pub params: LinkParams,
    /// Up or down.
    pub up: bool,
    queue: VecDeque<(Instant, Packet)>,
    queue_bytes: usize,
    /// The packet being serialised and when it is done (ns).
    tx: Option<(u64, Packet)>,
    /// When the transmitter is next free (ns).
    free_ns: u64,
    /// Packets propagating, by arrival time (jitter never reorders; only
    /// `reorder` does).
    wire: VecDeque<(Instant, Packet)>,
    last_arrival: Instant,
    codel: Option<Codel>,
    gilbert_bad: bool,
    rng: Rng,
    /// Counters.
    pub counters: LinkCounters,
    /// Capacity offered so far while up, bits (for utilisation).
    capacity_bits: f64,
    capacity_since: Instant,
    /// The wake-up the event queue holds for this direction.
    pub scheduled: Option<Instant>,
}

impl LinkDir {
    /// A direction with `params`, its randomness from `rng`.
    pub fn new(params: LinkParams, rng: Rng) -> Self {
        let codel = (params.aqm == Aqm::Codel).then(Codel::default);
        LinkDir {
            params,
            up: true,
            queue: VecDeque::new(),
            queue_bytes: 0,
            tx: None,
            free_ns: 0,
            wire: VecDeque::new(),
            last_arrival: Instant::ZERO,
            codel,
            gilbert_bad: false,
            rng,
            counters: LinkCounters::default(),
            capacity_bits: 0.0,
            capacity_since: Instant::ZERO,
            scheduled: None,
        }
    }

    /// Packets queued, being sent, or propagating.
    pub fn in_flight(&self) -> u64 {
        (self.queue.len() + usize::from(self.tx.is_some()) + self.wire.len()) as u64
    }

    /// Packets waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Capacity offered from the start to `now`, bits (while up, at the rates in force).
    pub fn capacity_bits(&self, now: Instant) -> f64 {
        let extra = if self.up { self.params.rate_bps as f64 * (now - self.capacity_since).as_secs_f64() } else { 0.0 };
        self.capacity_bits + extra
    }

    fn account_capacity(&mut self, now: Instant) {
        self.capacity_bits = self.capacity_bits(now);
        self.capacity_since = now;
    }

    fn tx_ns(&self, len: usize) -> u64 {
        (len as u64 * 8 * 1_000_000_000).div_ceil(self.params.rate_bps)
    }

    /// Hands a packet to the link at `now`.
    pub fn enqueue(&mut self, now: Instant, pkt: Packet) {
        self.counters.sent += 1;
        self.counters.sent_bytes += pkt.len() as u64;
        if !self.up {
            self.counters.drop_down += 1;
            return;
        }
        if pkt.len() > self.params.mtu {
            self.counters.drop_mtu += 1;
            return;
        }
        if self.params.rate_bps == 0 {
            // No transmitter: straight onto the wire.
            self.counters.tx_bytes += pkt.len() as u64;
            self.propagate(now.as_micros() * 1000, pkt);
            return;
        }
        if self.tx.is_none() && self.queue.is_empty() {
            let start = self.free_ns.max(now.as_micros() * 1000);
            self.start_tx(start, pkt);
            return;
        }
        let full = match self.params.limit {
            Limit::Packets(n) => self.queue.len() >= n,
            Limit::Bytes(b) => self.queue_bytes + pkt.len() > b,
        };
        if full {
            self.counters.drop_queue += 1;
            return;
        }
        self.queue_bytes += pkt.len();
        self.queue.push_back((now, pkt));
        self.counters.max_queue = self.counters.max_queue.max(self.queue.len());
    }

    fn start_tx(&mut self, start_ns: u64, pkt: Packet) {
        let done = start_ns + self.tx_ns(pkt.len());
        self.free_ns = done;
        self.tx = Some((done, pkt));
    }

    fn dequeue(&mut self, now: Instant) -> Option<Packet> {
        match self.codel.as_mut() {
            None => {
                let (_, p) = self.queue.pop_front()?;
                self.queue_bytes -= p.len();
                Some(p)
            }
            Some(codel) => {
                let mtu = self.params.mtu;
                let (p, dropped) = codel.dequeue(now, &mut self.queue, &mut self.queue_bytes, mtu);
                self.counters.drop_aqm += dropped;
                p
            }
        }
    }

    fn lost(&mut self) -> bool {
        if let Some(g) = self.params.gilbert {
            if self.gilbert_bad {
                if self.rng.chance(g.r) {
                    self.gilbert_bad = false;
                }
            } else if self.rng.chance(g.p) {
                self.gilbert_bad = true;
            }
            let p = if self.gilbert_bad { g.loss_bad } else { g.loss_good };
            if self.rng.chance(p) {
                return true;
            }
        }
        self.rng.chance(self.params.loss)
    }

    /// A serialised packet leaves the transmitter at `done_ns`.
    fn propagate(&mut self, done_ns: u64, pkt: Packet) {
        if self.lost() {
            self.counters.drop_loss += 1;
            return;
        }
        let mut delay = self.params.delay.as_micros() * 1000;
        if self.params.jitter > Duration::ZERO {
            delay += self.rng.below(self.params.jitter.as_micros() * 1000 + 1);
        }
        // Randomness is drawn only for what is configured, so a scenario
        // without reordering or duplication sees the same sequence as before.
        let held = self.params.reorder > 0.0 && self.rng.chance(self.params.reorder);
        let twice = self.params.duplicate > 0.0 && self.rng.chance(self.params.duplicate);
        let arrival = if held {
            self.counters.reordered += 1;
            ceil_us(done_ns + delay + self.params.reorder_delay.as_micros() * 1000)
        } else {
            let a = ceil_us(done_ns + delay).max(self.last_arrival);
            self.last_arrival = a;
            a
        };
        if twice {
            self.counters.duplicated += 1;
            self.arrive(arrival, pkt.clone());
        }
        self.arrive(arrival, pkt);
    }

    /// Puts a packet on the wire in order of arrival (after any that
    /// arrive at the same time).
    fn arrive(&mut self, at: Instant, pkt: Packet) {
        let i = self.wire.partition_point(|(t, _)| *t <= at);
        self.wire.insert(i, (at, pkt));
    }

    /// Runs the direction up to `now`: finishes transmissions, starts the next
    /// ones, and moves the packets that arrive by `now` into `out`.
    pub fn advance(&mut self, now: Instant, out: &mut Vec<Packet>) {
        let now_ns = now.as_micros() * 1000;
        while let Some((done, _)) = &self.tx {
            let done = *done;
            if done > now_ns {
                break;
            }
            let Some((_, pkt)) = self.tx.take() else { break };
            self.counters.tx_bytes += pkt.len() as u64;
            self.propagate(done, pkt);
            if let Some(next) = self.dequeue(ceil_us(done)) {
                self.start_tx(done, next);
            }
        }
        while self.wire.front().is_some_and(|(t, _)| *t <= now) {
            let Some((_, pkt)) = self.wire.pop_front() else { break };
            self.counters.delivered += 1;
            self.counters.delivered_bytes += pkt.len() as u64;
            out.push(pkt);
        }
    }

    /// When `advance` next has something to do.
    pub fn next_wake(&self) -> Option<Instant> {
        let tx = self.tx.as_ref().map(|(done, _)| ceil_us(*done));
        let wire = self.wire.front().map(|(t, _)| *t);
        match (tx, wire) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the link down: what is queued, being sent or propagating is lost.
    pub fn set_down(&mut self, now: Instant) {
        if !self.up {
            return;
        }
        self.account_capacity(now);
        self.up = false;
        let lost = self.queue.len() + usize::from(self.tx.is_some()) + self.wire.len();
        self.counters.drop_down += lost as u64;
        self.queue.clear();
        self.queue_bytes = 0;
        self.tx = None;
        self.wire.clear();
        self.free_ns = now.as_micros() * 1000;
    }

    /// Brings the link back up.
    pub fn set_up(&mut self, now: Instant) {
        if !self.up {
            self.capacity_since = now;
            self.up = true;
        }
    }

    /// Changes the rate (from the next packet on).
    pub fn set_rate(&mut self, now: Instant, rate_bps: u64) {
        self.account_capacity(now);
        self.params.rate_bps = rate_bps;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(rate: u64, delay_us: u64, limit: Limit) -> LinkParams {
        LinkParams {
            rate_bps: rate,
            delay: Duration::from_micros(delay_us),
            jitter: Duration::ZERO,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            duplicate: 0.0,
            loss: 0.0,
            gilbert: None,
            limit,
            aqm: Aqm::Droptail,
            mtu: 1500,
        }
    }

    fn run_until(l: &mut LinkDir, until: Instant) -> Vec<(Instant, usize)> {
        let mut got = Vec::new();
        while let Some(t) = l.next_wake().filter(|&t| t <= until) {
            let mut out = Vec::new();
            l.advance(t, &mut out);
            got.extend(out.into_iter().map(|p| (t, p.len())));
        }
        got
    }

    #[test]
    fn serialises_then_propagates() {
        // 1000 bytes at 8 Mbit/s: 1 ms each; 10 ms delay.
        let mut l = LinkDir::new(params(8_000_000, 10_000, Limit::Packets(10)), Rng::derive(1, 0));
        for _ in 0..3 {
            l.enqueue(Instant::ZERO, vec![0; 1000]);
        }
        let got = run_until(&mut l, Instant::from_micros(1_000_000));
        let times: Vec<u64> = got.iter().map(|g| g.0.as_micros()).collect();
        assert_eq!(times, vec![11_000, 12_000, 13_000]);
        assert_eq!(l.counters.delivered, 3);
        assert_eq!(l.counters.tx_bytes, 3000);
    }

    #[test]
    fn sub_microsecond_serialisation_adds_up() {
        // 52-byte packets at 1 Gbit/s: 416 ns each; 1000 of them take 416 µs.
        let mut l = LinkDir::new(params(1_000_000_000, 0, Limit::Packets(2000)), Rng::derive(1, 0));
        for _ in 0..1000 {
            l.enqueue(Instant::ZERO, vec![0; 52]);
        }
        let got = run_until(&mut l, Instant::from_micros(10_000));
        assert_eq!(got.len(), 1000);
        assert_eq!(got.last().unwrap().0.as_micros(), 416);
    }

    #[test]
    fn drop_tail_in_packets_and_bytes() {
        let mut l = LinkDir::new(params(1_000_000, 0, Limit::Packets(2)), Rng::derive(1, 0));
        for _ in 0..5 {
            l.enqueue(Instant::ZERO, vec![0; 100]);
        }
        // One on the transmitter, two queued, two dropped.
        assert_eq!(l.counters.drop_queue, 2);
        assert_eq!(l.in_flight(), 3);
        let mut l = LinkDir::new(params(1_000_000, 0, Limit::Bytes(250)), Rng::derive(1, 0));
        for _ in 0..5 {
            l.enqueue(Instant::ZERO, vec![0; 100]);
        }
        assert_eq!(l.counters.drop_queue, 2);
        let mut big = LinkDir::new(params(1_000_000, 0, Limit::Packets(2)), Rng::derive(1, 0));
        big.enqueue(Instant::ZERO, vec![0; 1501]);
        assert_eq!(big.counters.drop_mtu, 1);
    }

    #[test]
    fn down_loses_everything_in_flight() {
        let mut l = LinkDir::new(params(8_000_000, 10_000, Limit::Packets(10)), Rng::derive(1, 0));
        for _ in 0..4 {
            l.enqueue(Instant::ZERO, vec![0; 1000]);
        }
        let _ = run_until(&mut l, Instant::from_micros(2_500));
        l.set_down(Instant::from_micros(2_500));
        assert_eq!(l.counters.drop_down, 4);
        assert_eq!(l.in_flight(), 0);
        l.enqueue(Instant::from_micros(3_000), vec![0; 1000]);
        assert_eq!(l.counters.drop_down, 5);
        l.set_up(Instant::from_micros(4_000));
        l.enqueue(Instant::from_micros(4_000), vec![0; 1000]);
        let got = run_until(&mut l, Instant::from_micros(100_000));
        assert_eq!(got, vec![(Instant::from_micros(15_000), 1000)]);
        let c = &l.counters;
        assert_eq!(c.sent, c.delivered + c.dropped() + l.in_flight());
    }

    #[test]
    fn jitter_never_reorders() {
        let mut p = params(100_000_000, 5_000, Limit::Packets(1000));
        p.jitter = Duration::from_millis(3);
        let mut l = LinkDir::new(p, Rng::derive(9, 0));
        for i in 0..500u64 {
            l.enqueue(Instant::from_micros(i * 20), vec![(i % 251) as u8; 200]);
        }
        let mut got = Vec::new();
        while let Some(t) = l.next_wake() {
            let mut out = Vec::new();
            l.advance(t, &mut out);
            got.extend(out.into_iter().map(|p| (t, p[0])));
        }
        assert_eq!(got.len(), 500);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(got.iter().enumerate().all(|(i, g)| g.1 == (i % 251) as u8), "FIFO order");
        // The jitter did spread the arrivals.
        let spacing: std::collections::BTreeSet<u64> =
            got.windows(2).map(|w| w[1].0.as_micros() - w[0].0.as_micros()).collect();
        assert!(spacing.len() > 5);
    }

    #[test]
    fn reordered_packets_are_overtaken_and_duplicates_arrive_twice() {
        let mut p = params(100_000_000, 5_000, Limit::Packets(1000));
        p.reorder = 0.05;
        p.reorder_delay = Duration::from_millis(2);
        p.duplicate = 0.02;
        let mut l = LinkDir::new(p, Rng::derive(4, 0));
        for i in 0..1000u64 {
            l.enqueue(Instant::from_micros(i * 20), (i as u32).to_be_bytes().to_vec());
        }
        let mut got = Vec::new();
        while let Some(t) = l.next_wake() {
            let mut out = Vec::new();
            l.advance(t, &mut out);
            got.extend(out.into_iter().map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]])));
        }
        let c = &l.counters;
        assert!(c.reordered > 20 && c.duplicated > 5, "{c:?}");
        assert_eq!(got.len() as u64, 1000 + c.duplicated);
        let mut seen = std::collections::BTreeMap::<u32, u32>::new();
        for g in &got {
            *seen.entry(*g).or_default() += 1;
        }
        assert_eq!(seen.len(), 1000, "every packet arrived");
        assert_eq!(seen.values().filter(|&&n| n == 2).count() as u64, c.duplicated);
        // Held packets arrive after later ones.
        let mut highest = 0;
        let mut late = 0;
        for &g in &got {
            late += usize::from(g < highest);
            highest = highest.max(g);
        }
        assert!(late as u64 >= c.reordered, "later packets overtook the held ones: {late}");
    }

    #[test]
    fn gilbert_losses_come_in_bursts() {
        let mut p = params(0, 0, Limit::Packets(10));
        p.gilbert = Some(crate::scenario::model::Gilbert { p: 0.01, r: 0.25, loss_bad: 1.0, loss_good: 0.0 });
        let mut l = LinkDir::new(p, Rng::derive(3, 0));
        let mut pattern = Vec::new();
        for i in 0..100_000u64 {
            let before = l.counters.drop_loss;
            l.enqueue(Instant::from_micros(i), vec![0; 100]);
            pattern.push(l.counters.drop_loss > before);
        }
        let losses = pattern.iter().filter(|&&x| x).count() as f64;
        // Stationary bad-state share p/(p+r) ≈ 3.8%; mean burst 1/r = 4.
        assert!((2_500.0..5_500.0).contains(&losses), "{losses}");
        let bursts = pattern.windows(2).filter(|w| w[1] && !w[0]).count() as f64;
        assert!(losses / bursts > 2.5, "mean burst {}", losses / bursts);
    }
}
