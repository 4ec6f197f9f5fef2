//! Two endpoints joined by a seeded impairing link, with a virtual clock:
//! the in-memory pair the TCP tests run on.

#![allow(dead_code)]

#[allow(dead_code)]
mod handshake;
#[allow(unused_imports)]
pub use handshake::syn_and_synack;
use mptcp_proto::{ConnId, Duration, Endpoint, EndpointConfig, Event, Instant};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

/// SplitMix64, seeded: the link's randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        p > 0.0 && x < p
    }
}

/// One direction of a link.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Bits per second (0: unlimited).
    pub rate_bps: u64,
    /// Drop-tail queue, bytes (only with a rate).
    pub queue_bytes: usize,
    /// Random loss probability.
    pub loss: f64,
    /// Probability that a packet is held back by `reorder_extra`.
    pub reorder: f64,
    pub reorder_extra: Duration,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(5),
            rate_bps: 0,
            queue_bytes: 0,
            loss: 0.0,
            reorder: 0.0,
            reorder_extra: Duration::ZERO,
            duplicate: 0.0,
        }
    }
}

/// Decides, for each packet, whether the link drops it (tests' scalpel).
pub type Filter = Box<dyn FnMut(&[u8]) -> bool>;

/// A middlebox on the link: turns each packet into any number of packets
/// (rewritten, split, dropped).
pub type Middlebox = Box<dyn FnMut(Vec<u8>) -> Vec<Vec<u8>>>;

/// A coalescer on the link: given the last packet still in flight and a new
/// one, returns their merge if it merges them.
pub type Coalescer = Box<dyn FnMut(&[u8], &[u8]) -> Option<Vec<u8>>>;

/// Extra one-way delay for a packet (per-path delays on one link).
pub type DelayFn = Box<dyn FnMut(&[u8]) -> Duration>;

/// Packets in flight on one direction, by arrival time.
#[derive(Default)]
pub struct Link {
    pub cfg: LinkConfig,
    /// Drops the packets for which it returns true.
    pub filter: Option<Filter>,
    /// Rewrites packets before anything else happens to them.
    pub middlebox: Option<Middlebox>,
    /// Merges a packet into the last one in flight.
    pub coalesce: Option<Coalescer>,
    /// Extra delay per packet.
    pub extra_delay: Option<DelayFn>,
    /// The key of the last packet put in flight.
    last: Option<(Instant, u64)>,
    in_flight: BTreeMap<(Instant, u64), Vec<u8>>,
    seq: u64,
    /// When the transmitter is free again (rate limiting).
    busy_until: Instant,
    pub sent: u64,
    pub dropped: u64,
    pub delivered: u64,
    pub bytes_delivered: u64,
}

impl Link {
    pub fn new(cfg: LinkConfig) -> Self {
        Link { cfg, ..Default::default() }
    }

    pub fn send(&mut self, now: Instant, pkt: Vec<u8>, rng: &mut Rng) {
        let pkts = match self.middlebox.as_mut() {
            Some(m) => m(pkt),
            None => vec![pkt],
        };
        for p in pkts {
            self.enqueue(now, p, rng);
        }
    }

    fn enqueue(&mut self, now: Instant, pkt: Vec<u8>, rng: &mut Rng) {
        self.sent += 1;
        if let (Some(c), Some(key)) = (self.coalesce.as_mut(), self.last)
            && let Some(prev) = self.in_flight.get_mut(&key)
            && let Some(merged) = c(prev, &pkt)
        {
            *prev = merged;
            return;
        }
        if let Some(f) = self.filter.as_mut()
            && f(&pkt)
        {
            self.dropped += 1;
            return;
        }
        if rng.chance(self.cfg.loss) {
            self.dropped += 1;
            return;
        }
        let mut depart = now;
        if self.cfg.rate_bps > 0 {
            let start = self.busy_until.max(now);
            let backlog_bytes = (start - now).as_micros() as u128 * self.cfg.rate_bps as u128 / 8_000_000;
            if backlog_bytes as usize + pkt.len() > self.cfg.queue_bytes.max(pkt.len()) {
                self.dropped += 1;
                return;
            }
            let tx = Duration::from_micros((pkt.len() as u64 * 8 * 1_000_000).div_ceil(self.cfg.rate_bps));
            self.busy_until = start + tx;
            depart = self.busy_until;
        }
        let mut arrive = depart + self.cfg.delay;
        if let Some(d) = self.extra_delay.as_mut() {
            arrive += d(&pkt);
        }
        if rng.chance(self.cfg.reorder) {
            arrive += self.cfg.reorder_extra;
        }
        if rng.chance(self.cfg.duplicate) {
            self.seq += 1;
            self.in_flight.insert((arrive + Duration::from_micros(1), self.seq), pkt.clone());
        }
        self.seq += 1;
        self.in_flight.insert((arrive, self.seq), pkt);
        self.last = Some((arrive, self.seq));
    }

    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|k| k.0)
    }

    pub fn take_due(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut out = vec![];
        while let Some(e) = self.in_flight.first_entry() {
            if e.key().0 > now {
                break;
            }
            let p = e.remove();
            self.delivered += 1;
            self.bytes_delivered += p.len() as u64;
            out.push(p);
        }
        out
    }
}

/// Client (A) and server (B) with a link each way.
pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub a_addr: IpAddr,
    pub b_addr: IpAddr,
    pub ab: Link,
    pub ba: Link,
    pub now: Instant,
    pub rng: Rng,
    pub a_events: VecDeque<Event>,
    pub b_events: VecDeque<Event>,
    /// When set, every packet sent, with whether A sent it; and every
    /// packet delivered (see `delivered`).
    pub log: Option<Vec<(bool, Vec<u8>)>>,
    /// With `log`: the packets delivered, with whether A had sent them.
    pub delivered: Vec<(usize, bool, Vec<u8>)>,
    buf: Vec<u8>,
}

impl Pair {
    pub fn new(cfg: EndpointConfig, link: LinkConfig, seed: u64) -> Self {
        Self::with_links(cfg.clone(), cfg, link.clone(), link, seed)
    }

    pub fn with_links(cfg_a: EndpointConfig, cfg_b: EndpointConfig, ab: LinkConfig, ba: LinkConfig, seed: u64) -> Self {
        let a_addr: IpAddr = "10.0.0.1".parse().unwrap();
        let b_addr: IpAddr = "10.0.0.2".parse().unwrap();
        let mut a = Endpoint::new(cfg_a, seed);
        let mut b = Endpoint::new(cfg_b, seed.wrapping_add(1));
        a.add_address(a_addr);
        b.add_address(b_addr);
        Pair {
            a,
            b,
            a_addr,
            b_addr,
            ab: Link::new(ab),
            ba: Link::new(ba),
            now: Instant::ZERO,
            rng: Rng::new(seed ^ 0xabcdef),
            a_events: VecDeque::new(),
            b_events: VecDeque::new(),
            log: None,
            delivered: Vec::new(),
            // One MTU, as a real driver gives: a segment that does not fit is a bug.
            buf: vec![0u8; 1500],
        }
    }

    pub fn server(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.b_addr, port)
    }

    /// Drains both endpoints' output onto the links and their events into the queues.
    pub fn flush(&mut self) {
        while let Some(n) = self.a.poll_transmit(self.now, &mut self.buf) {
            if let Some(log) = &mut self.log {
                log.push((true, self.buf[..n].to_vec()));
            }
            self.ab.send(self.now, self.buf[..n].to_vec(), &mut self.rng);
        }
        while let Some(n) = self.b.poll_transmit(self.now, &mut self.buf) {
            if let Some(log) = &mut self.log {
                log.push((false, self.buf[..n].to_vec()));
            }
            self.ba.send(self.now, self.buf[..n].to_vec(), &mut self.rng);
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push_back(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push_back(e);
        }
    }

    /// With `log` on: records a delivery, with how many packets had been
    /// sent by then (its place among the sends).
    fn note_delivery(&mut self, from_a: bool, p: &[u8]) {
        if let Some(log) = &self.log {
            self.delivered.push((log.len(), from_a, p.to_vec()));
        }
    }

    /// The next instant anything happens, if anything will.
    pub fn next_time(&self) -> Option<Instant> {
        [self.ab.next_arrival(), self.ba.next_arrival(), self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances to the next event and processes it. False when nothing is left.
    pub fn step(&mut self) -> bool {
        self.flush();
        let Some(t) = self.next_time() else { return false };
        self.now = self.now.max(t);
        for p in self.ab.take_due(self.now) {
            self.note_delivery(true, &p);
            self.b.handle(self.now, &p);
        }
        for p in self.ba.take_due(self.now) {
            self.note_delivery(false, &p);
            self.a.handle(self.now, &p);
        }
        if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
            self.a.handle_timeout(self.now);
        }
        if self.b.poll_timeout().is_some_and(|t| t <= self.now) {
            self.b.handle_timeout(self.now);
        }
        self.flush();
        true
    }

    /// Steps until `done` holds or `limit` of virtual time passes; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        let end = self.now + limit;
        let (mut last, mut same) = (self.now, 0u32);
        loop {
            if done(self) {
                return true;
            }
            if self.now > end || !self.step() {
                return done(self);
            }
            // Time must move: a timer that stays due forever is a bug.
            if self.now == last {
                same += 1;
                assert!(
                    same < 100_000,
                    "stuck at {:?}: links {:?} {:?}, timeouts a {:?} b {:?}",
                    self.now,
                    self.ab.next_arrival(),
                    self.ba.next_arrival(),
                    self.a.poll_timeout(),
                    self.b.poll_timeout()
                );
            } else {
                (last, same) = (self.now, 0);
            }
        }
    }
}

/// The test pattern: byte i of a stream seeded `s`.
/// The TCP flags of an IPv4 packet (tests build IPv4 pairs).
pub fn tcp_flags(pkt: &[u8]) -> u8 {
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    pkt[ihl + 13]
}

/// The TCP payload length of an IPv4 packet.
pub fn tcp_payload_len(pkt: &[u8]) -> usize {
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    let off = usize::from(pkt[ihl + 12] >> 4) * 4;
    pkt.len() - ihl - off
}

pub fn pattern(i: u64, s: u8) -> u8 {
    (i.wrapping_mul(7) as u8).wrapping_add(s)
}

/// One side of a bulk transfer: writes `total` pattern bytes then shuts down,
/// reads and checks everything the peer sends.
#[derive(Debug, Default)]
pub struct Bulk {
    pub total: u64,
    pub written: u64,
    pub read: u64,
    pub eof: bool,
    pub corrupt: bool,
    pub shut: bool,
    pub tx_seed: u8,
    pub rx_seed: u8,
    /// Most bytes one `pump` reads (0: all there are): a slow reader.
    pub read_limit: usize,
}

impl Bulk {
    pub fn new(total: u64, tx_seed: u8, rx_seed: u8) -> Self {
        Bulk { total, tx_seed, rx_seed, ..Default::default() }
    }

    /// Moves data through `ep` for connection `id`; returns whether it did anything.
    pub fn pump(&mut self, ep: &mut Endpoint, id: ConnId) -> bool {
        let mut progressed = false;
        let mut chunk = [0u8; 16_384];
        while self.written < self.total {
            let n = (self.total - self.written).min(chunk.len() as u64) as usize;
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(self.written + i as u64, self.tx_seed);
            }
            match ep.write(id, &chunk[..n]) {
                Ok(0) | Err(_) => break,
                Ok(w) => {
                    self.written += w as u64;
                    progressed = true;
                }
            }
        }
        if self.written == self.total && !self.shut && ep.shutdown(id).is_ok() {
            self.shut = true;
            progressed = true;
        }
        let mut budget = if self.read_limit == 0 { usize::MAX } else { self.read_limit };
        while budget > 0 {
            let want = budget.min(chunk.len());
            match ep.read(id, &mut chunk[..want]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => {
                    for (i, &b) in chunk[..n].iter().enumerate() {
                        if b != pattern(self.read + i as u64, self.rx_seed) {
                            self.corrupt = true;
                        }
                    }
                    self.read += n as u64;
                    budget -= n;
                    progressed = true;
                }
                Err(_) => break,
            }
        }
        progressed
    }
}

/// The id of the first connection B accepted, if any.
pub fn accepted(p: &Pair) -> Option<ConnId> {
    p.b_events.iter().find_map(|e| match e {
        Event::Accepted { id, .. } => Some(*id),
        _ => None,
    })
}

/// Why connection `id` closed, if it did, according to `events`.
pub fn closed(events: &VecDeque<Event>, id: ConnId) -> Option<mptcp_proto::CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed { id: i, reason } if *i == id => Some(*reason),
        _ => None,
    })
}

/// Opens a connection A→B on port 80 (B listens) and returns both ids.
pub fn open(p: &mut Pair) -> (ConnId, ConnId) {
    p.b.listen(80).unwrap();
    let server = p.server(80);
    let a = p.a.connect(p.now, p.a_addr, server).unwrap();
    assert!(p.run_until(Duration::from_secs(30), |p| accepted(p).is_some()), "handshake");
    (a, accepted(p).unwrap())
}

/// Moves `n` bytes each way between A's `a` and B's `b` within `limit`;
/// asserts both streams arrive whole and identical.
pub fn transfer(p: &mut Pair, a: ConnId, b: ConnId, n: u64, limit: Duration) {
    transfer_arming(p, a, b, n, limit, None);
}

/// `transfer`, and once B has read `arm.0` bytes, `arm.1` is set (a
/// middlebox starts its work mid-stream).
pub fn transfer_arming(
    p: &mut Pair,
    a: ConnId,
    b: ConnId,
    n: u64,
    limit: Duration,
    arm: Option<(u64, std::rc::Rc<std::cell::Cell<bool>>)>,
) {
    let mut ta = Bulk::new(n, 1, 2);
    let mut tb = Bulk::new(n, 2, 1);
    let done = p.run_until(limit, |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        if let Some((at, flag)) = &arm
            && tb.read >= *at
        {
            flag.set(true);
        }
        ta.eof && tb.eof
    });
    assert!(
        done,
        "stalled at {:?}: a read {} b read {}\na {:#?}\nb {:#?}\n{:?} {:?}",
        p.now,
        ta.read,
        tb.read,
        p.a.subflow_stats(a),
        p.b.subflow_stats(b),
        p.a.mptcp_counters(a),
        p.b.mptcp_counters(b)
    );
    assert_eq!((ta.read, tb.read), (n, n), "a {:?}\nb {:?}", p.a.stats(a), p.b.stats(b));
    assert!(!ta.corrupt && !tb.corrupt, "data differs");
}

/// IPv4 + TCP packet surgery for middleboxes (tests build IPv4 pairs).
/// Two endpoints joined directly (10.0.0.1 and 10.0.0.2), A connecting to
/// B's port 80 at time zero: (A, B, A's connection).
pub fn direct_pair(cfg: EndpointConfig) -> (Endpoint, Endpoint, ConnId) {
    let a_ip: IpAddr = "10.0.0.1".parse().unwrap();
    let b_ip: IpAddr = "10.0.0.2".parse().unwrap();
    let mut a = Endpoint::new(cfg.clone(), 1);
    let mut b = Endpoint::new(cfg, 2);
    a.add_address(a_ip);
    b.add_address(b_ip);
    b.listen(80).unwrap();
    let ca = a.connect(Instant::ZERO, a_ip, SocketAddr::new(b_ip, 80)).unwrap();
    (a, b, ca)
}

/// The far side of a transfer between two endpoints joined directly (no
/// link): B's listener events, B's reads checked against `block` (the
/// pattern from offset `read % 256`), B's packets handed to A whole, and
/// both endpoints' timers. Returns true at B's end of stream.
pub struct DirectReceiver {
    pub id: Option<ConnId>,
    pub read: u64,
    pub intact: bool,
    sink: Vec<u8>,
    buf: Vec<u8>,
}

impl DirectReceiver {
    pub fn new(sink: usize) -> Self {
        DirectReceiver { id: None, read: 0, intact: true, sink: vec![0; sink], buf: vec![0; 65_536] }
    }

    pub fn round(&mut self, now: Instant, a: &mut Endpoint, b: &mut Endpoint, block: &[u8], offload: bool) -> bool {
        let mut eof = false;
        while let Some(e) = b.poll_event() {
            if let Event::Accepted { id, .. } = e {
                self.id = Some(id);
            }
        }
        if let Some(cb) = self.id {
            loop {
                match b.read(cb, &mut self.sink) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        let start = (self.read % 256) as usize;
                        self.intact &= self.sink[..n] == block[start..start + n];
                        self.read += n as u64;
                    }
                    Err(_) => break,
                }
            }
        }
        while let Some(t) = b.poll_transmit_gso(now, &mut self.buf) {
            a.handle_offloaded(now, &self.buf[..t.len], offload);
        }
        while a.poll_event().is_some() {}
        for ep in [a, b] {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        eof
    }
}

/// MPTCP with the full-mesh path manager (every local address used, every
/// announcement joined) and room for 8 subflows: the tests of the data path
/// and its closes (tests/mptcp_pm.rs covers the kernel-style default).
pub fn fullmesh_cfg() -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    cfg.mptcp.path_manager = "fullmesh".to_owned();
    cfg.mptcp.max_subflows = 8;
    cfg
}

pub mod pkt {
    use mptcp_wire::mptcp::{DssMapping, MptcpOption};
    use mptcp_wire::tcp::{TcpOption, TcpOptionIter};

    /// IP header length, TCP header length (options included).
    pub fn lens(p: &[u8]) -> (usize, usize) {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        (ihl, usize::from(p[ihl + 12] >> 4) * 4)
    }

    pub fn seq(p: &[u8]) -> u32 {
        let (ihl, _) = lens(p);
        u32::from_be_bytes([p[ihl + 4], p[ihl + 5], p[ihl + 6], p[ihl + 7]])
    }

    pub fn payload(p: &[u8]) -> &[u8] {
        let (ihl, th) = lens(p);
        &p[ihl + th..]
    }

    pub fn options(p: &[u8]) -> &[u8] {
        let (ihl, th) = lens(p);
        &p[ihl + 20..ihl + th]
    }

    /// Source address's last two bytes identify the path in the tests (10.0.x.y).
    pub fn src(p: &[u8]) -> [u8; 4] {
        [p[12], p[13], p[14], p[15]]
    }

    pub fn dst(p: &[u8]) -> [u8; 4] {
        [p[16], p[17], p[18], p[19]]
    }

    pub fn flags(p: &[u8]) -> u8 {
        let (ihl, _) = lens(p);
        p[ihl + 13]
    }

    /// Source and destination ports.
    pub fn ports(p: &[u8]) -> (u16, u16) {
        let (ihl, _) = lens(p);
        (u16::from_be_bytes([p[ihl], p[ihl + 1]]), u16::from_be_bytes([p[ihl + 2], p[ihl + 3]]))
    }

    /// The MPTCP options of a packet.
    pub fn mptcp(p: &[u8]) -> Vec<MptcpOption<'_>> {
        TcpOptionIter::new(options(p))
            .flatten()
            .filter_map(|o| match o {
                TcpOption::Mptcp(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// The DSS mapping a packet carries.
    pub fn mapping(p: &[u8]) -> Option<DssMapping> {
        mptcp(p).into_iter().find_map(|o| match o {
            MptcpOption::Dss(d) => d.mapping,
            _ => None,
        })
    }

    /// Same 4-tuple.
    pub fn same_flow(a: &[u8], b: &[u8]) -> bool {
        let (ia, _) = lens(a);
        let (ib, _) = lens(b);
        a[12..20] == b[12..20] && a[ia..ia + 4] == b[ib..ib + 4]
    }

    /// Sets the IP total length and both checksums.
    pub fn fix(p: &mut [u8]) {
        let (ihl, _) = lens(p);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p[10..12].copy_from_slice(&[0, 0]);
        let mut sum = 0u32;
        for w in p[..ihl].chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        let src = std::net::IpAddr::from(src(p));
        let dst = std::net::IpAddr::from(dst(p));
        let (_, tcp) = p.split_at_mut(ihl);
        tcp[16..18].copy_from_slice(&[0, 0]);
        let c = mptcp_wire::tcp::tcp_checksum(src, dst, tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
    }

    /// Splits a data segment in two at `at` payload bytes; both halves keep
    /// the header and options (as a segmenting middlebox does).
    pub fn split(p: &[u8], at: usize) -> (Vec<u8>, Vec<u8>) {
        let (ihl, th) = lens(p);
        let h = ihl + th;
        let mut a = p[..h + at].to_vec();
        let mut b = p[..h].to_vec();
        b.extend_from_slice(&p[h + at..]);
        let s = seq(p).wrapping_add(at as u32);
        b[ihl + 4..ihl + 8].copy_from_slice(&s.to_be_bytes());
        // FIN and PSH belong to the second half only.
        a[ihl + 13] &= !0x09;
        fix(&mut a);
        fix(&mut b);
        (a, b)
    }

    /// `a` followed by `b`'s payload, with `a`'s header and options (as a
    /// coalescing middlebox does), if `b` continues `a` on the same flow.
    pub fn merge(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
        let plain = |p: &[u8]| flags(p) & !0x18 == 0; // ACK and PSH only
        if !same_flow(a, b) || !plain(a) || !plain(b) || payload(a).is_empty() || payload(b).is_empty() {
            return None;
        }
        if seq(a).wrapping_add(payload(a).len() as u32) != seq(b) || a.len() + payload(b).len() > 65_000 {
            return None;
        }
        let mut m = a.to_vec();
        m.extend_from_slice(payload(b));
        let (ihl, _) = lens(&m);
        m[ihl + 13] |= flags(b) & 0x08;
        fix(&mut m);
        Some(m)
    }

    /// Flips one payload byte, then fixes the TCP checksum: only the DSS
    /// checksum can tell.
    pub fn corrupt(p: &mut [u8], at: usize) {
        let (ihl, th) = lens(p);
        p[ihl + th + at] ^= 0x5a;
        fix(p);
    }

    /// Replaces every MPTCP option with NOPs (an option-stripping middlebox).
    pub fn strip_mptcp(p: &mut [u8]) {
        let (ihl, th) = lens(p);
        let mut k = ihl + 20;
        while k < ihl + th {
            match p[k] {
                0 => break,
                1 => k += 1,
                kind => {
                    let len = usize::from(p.get(k + 1).copied().unwrap_or(0)).max(2);
                    if kind == 30 {
                        for b in &mut p[k..(k + len).min(ihl + th)] {
                            *b = 1;
                        }
                    }
                    k += len;
                }
            }
        }
        fix(p);
    }
}
