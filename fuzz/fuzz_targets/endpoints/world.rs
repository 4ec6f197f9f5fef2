//! The world of the `endpoints` target: two endpoints (A connects from
//! 10.0.0.1, with a `subflow` endpoint 10.0.1.1 for a join; B listens on
//! 10.0.0.2:80), a queue of packets each way, virtual time, and what each
//! side wrote and read. Actions are decoded from the fuzz input.

use crate::craft::Craft;
use mptcp_proto::pm::EndpointFlags;
use mptcp_proto::{ConnId, Duration, Endpoint, EndpointConfig, Event, Instant};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Packets held at most per direction (more are lost, as at a full queue).
const QUEUE: usize = 256;
/// Timer rounds at most per time step (a timer due forever would loop).
const TIMER_ROUNDS: usize = 64;
/// The most one write or read moves.
const CHUNK: usize = 16 << 10;

/// The fuzz input, read a byte at a time; past its end every byte is 0.
pub struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, at: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(std::array::from_fn(|_| self.byte()))
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(std::array::from_fn(|_| self.byte()))
    }

    /// The next action, until the input ends. The low nibble of its first
    /// byte is the kind; bit 4 is the side (0: A, 1: B) or the direction
    /// (0: A to B, 1: B to A).
    pub fn action(&mut self) -> Option<Action> {
        if self.at >= self.data.len() {
            return None;
        }
        let op = self.byte();
        let s = usize::from(op >> 4 & 1);
        Some(match op & 0x0f {
            1 => Action::Drop(s),
            2 => Action::Duplicate(s),
            3 => Action::Reorder(s),
            4 => Action::Corrupt { dir: s, at: self.u16(), xor: self.byte().max(1), fix: op & 0x20 != 0 },
            5 => Action::Advance(Duration::from_micros(u64::from(self.u16()).pow(2) / 4)),
            6 => Action::Write { side: s, len: usize::from(self.u16()) % CHUNK + 1 },
            7 => Action::Read { side: s, len: usize::from(self.u16()) % CHUNK + 1 },
            8 => Action::Shutdown(s),
            9 => Action::Close(s),
            10 => Action::Abort(s),
            11 => Action::Inject { dir: s, craft: Craft::decode(self) },
            // The rest (0, 12..=15): deliver, the commonest thing on a network.
            _ => Action::Deliver(s),
        })
    }
}

/// One step.
#[derive(Debug)]
pub enum Action {
    Deliver(usize),
    Drop(usize),
    Duplicate(usize),
    Reorder(usize),
    /// XOR a byte of the next packet (fix: then redo its checksums) and deliver it.
    Corrupt {
        dir: usize,
        at: u16,
        xor: u8,
        fix: bool,
    },
    Advance(Duration),
    Write {
        side: usize,
        len: usize,
    },
    Read {
        side: usize,
        len: usize,
    },
    Shutdown(usize),
    Close(usize),
    Abort(usize),
    /// A crafted segment shaped after the last packet of direction `dir`.
    Inject {
        dir: usize,
        craft: Craft,
    },
}

/// Byte `i` of what side `s` writes: differs from block to block of 8, so a
/// byte delivered at the wrong offset shows.
fn pattern(s: usize, i: u64) -> u8 {
    let x = (i / 8 + ((s as u64) << 60)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> ((i % 8) * 8)) as u8
}

pub struct World {
    ep: [Endpoint; 2],
    conn: [Option<ConnId>; 2],
    /// queue[0]: A to B; queue[1]: B to A.
    queue: [VecDeque<Vec<u8>>; 2],
    /// The last packet seen each way (the template of crafted ones).
    last: [Option<Vec<u8>>; 2],
    now: Instant,
    written: [u64; 2],
    read: [u64; 2],
    /// Whether what is read must still be what was written (see the target's doc).
    intact: bool,
    buf: Vec<u8>,
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

impl World {
    pub fn new() -> Self {
        let mut cfg = EndpointConfig::default();
        cfg.mptcp.enabled = true;
        cfg.mptcp.max_subflows = 3;
        let mut a = Endpoint::new(cfg.clone(), 1);
        let mut b = Endpoint::new(cfg, 2);
        a.add_address(ip([10, 0, 0, 1]));
        if let Ok(f) = EndpointFlags::parse("subflow") {
            a.add_endpoint(ip([10, 0, 1, 1]), f, None);
        }
        b.add_address(ip([10, 0, 0, 2]));
        let _ = b.listen(80);
        let now = Instant::from_micros(1_000_000);
        let conn = a.connect(now, ip([10, 0, 0, 1]), SocketAddr::new(ip([10, 0, 0, 2]), 80)).ok();
        let mut w = World {
            ep: [a, b],
            conn: [conn, None],
            queue: [VecDeque::new(), VecDeque::new()],
            last: [None, None],
            now,
            written: [0; 2],
            read: [0; 2],
            intact: true,
            buf: vec![0u8; 1500],
        };
        w.flush();
        w
    }

    /// Each endpoint's output onto its queue; B's accepted connection noted.
    fn flush(&mut self) {
        for s in 0..2 {
            while let Some(n) = self.ep[s].poll_transmit(self.now, &mut self.buf) {
                let pkt = self.buf[..n].to_vec();
                self.last[s] = Some(pkt.clone());
                if self.queue[s].len() < QUEUE {
                    self.queue[s].push_back(pkt);
                }
            }
            while let Some(e) = self.ep[s].poll_event() {
                if let Event::Accepted { id, .. } = e
                    && s == 1
                    && self.conn[1].is_none()
                {
                    self.conn[1] = Some(id);
                }
            }
        }
    }

    fn deliver(&mut self, dir: usize, pkt: &[u8]) {
        self.ep[1 - dir].handle(self.now, pkt);
        self.flush();
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Deliver(d) => {
                if let Some(p) = self.queue[d].pop_front() {
                    self.deliver(d, &p);
                }
            }
            Action::Drop(d) => {
                self.queue[d].pop_front();
            }
            Action::Duplicate(d) => {
                if let Some(p) = self.queue[d].front().cloned() {
                    self.deliver(d, &p);
                }
            }
            Action::Reorder(d) => {
                if self.queue[d].len() >= 2 {
                    self.queue[d].swap(0, 1);
                }
            }
            Action::Corrupt { dir, at, xor, fix } => self.corrupt(dir, at, xor, fix),
            Action::Advance(d) => self.advance(d),
            Action::Write { side, len } => self.write(side, len),
            Action::Read { side, len } => self.read(side, len),
            Action::Shutdown(s) => {
                if let Some(id) = self.conn[s] {
                    let _ = self.ep[s].shutdown(id);
                    self.flush();
                }
            }
            Action::Close(s) => self.end(s, false),
            Action::Abort(s) => self.end(s, true),
            Action::Inject { dir, craft } => {
                let Some(pkt) = self.last[dir].as_deref().and_then(|t| craft.build(t)) else { return };
                if craft.may_forge_data() {
                    self.intact = false;
                }
                self.deliver(dir, &pkt);
            }
        }
    }

    /// The application closes (or aborts) side `s`'s connection.
    fn end(&mut self, s: usize, abort: bool) {
        let Some(id) = self.conn[s].take() else { return };
        if abort {
            self.ep[s].abort(id);
        } else {
            self.ep[s].close(id);
        }
        self.flush();
    }

    fn corrupt(&mut self, dir: usize, at: u16, xor: u8, fix: bool) {
        let Some(mut p) = self.queue[dir].pop_front() else { return };
        let i = usize::from(at) % p.len().max(1);
        if let Some(b) = p.get_mut(i) {
            *b ^= xor;
        }
        if fix && fix_checksums(&mut p) {
            // A corruption the checksums no longer catch: TCP delivers it.
            self.intact = false;
        }
        self.deliver(dir, &p);
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        for _ in 0..TIMER_ROUNDS {
            let mut fired = false;
            for s in 0..2 {
                if self.ep[s].poll_timeout().is_some_and(|t| t <= self.now) {
                    self.ep[s].handle_timeout(self.now);
                    fired = true;
                }
            }
            self.flush();
            if !fired {
                break;
            }
        }
    }

    fn write(&mut self, side: usize, len: usize) {
        let Some(id) = self.conn[side] else { return };
        let start = self.written[side];
        let data: Vec<u8> = (0..len as u64).map(|i| pattern(side, start + i)).collect();
        if let Ok(n) = self.ep[side].write(id, &data) {
            assert!(n <= len, "write took {n} of {len} bytes");
            self.written[side] += n as u64;
        }
        self.flush();
    }

    fn read(&mut self, side: usize, len: usize) {
        let Some(id) = self.conn[side] else { return };
        let mut data = vec![0u8; len];
        if let Ok(n) = self.ep[side].read(id, &mut data) {
            assert!(n <= len, "read returned {n} for a {len}-byte buffer");
            if self.intact {
                let at = self.read[side];
                for (i, &b) in data[..n].iter().enumerate() {
                    let want = pattern(1 - side, at + i as u64);
                    assert_eq!(b, want, "side {side} read byte {} wrong", at + i as u64);
                }
            }
            self.read[side] += n as u64;
        }
        self.flush();
    }

    /// Everything queued is delivered, time passes, both sides read.
    pub fn settle(&mut self) {
        for _ in 0..32 {
            for d in 0..2 {
                for _ in 0..QUEUE {
                    let Some(p) = self.queue[d].pop_front() else { break };
                    self.deliver(d, &p);
                }
            }
            self.advance(Duration::from_millis(250));
            self.read(0, CHUNK);
            self.read(1, CHUNK);
        }
    }

    /// The invariants that hold after every step.
    pub fn check(&self) {
        if self.intact {
            for s in 0..2 {
                assert!(
                    self.read[s] <= self.written[1 - s],
                    "side {s} read {} bytes, the other wrote {}",
                    self.read[s],
                    self.written[1 - s]
                );
            }
        }
        assert!(self.queue.iter().all(|q| q.len() <= QUEUE));
    }
}

/// Redoes the IPv4 header and TCP checksums of `p` if it still looks like an
/// IPv4 TCP packet; returns whether it did.
fn fix_checksums(p: &mut [u8]) -> bool {
    let Some(&v) = p.first() else { return false };
    let ihl = usize::from(v & 0x0f) * 4;
    if v >> 4 != 4 || ihl < 20 || p.len() < ihl + 20 || p[9] != mptcp_wire::ip::PROTO_TCP {
        return false;
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]])).clamp(ihl + 20, p.len());
    p[10..12].fill(0);
    let c = checksum(&p[..ihl]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let src = ip([p[12], p[13], p[14], p[15]]);
    let dst = ip([p[16], p[17], p[18], p[19]]);
    p[ihl + 16..ihl + 18].fill(0);
    let c = mptcp_wire::tcp::tcp_checksum(src, dst, &p[ihl..total]);
    p[ihl + 16..ihl + 18].copy_from_slice(&c.to_be_bytes());
    true
}

/// The Internet checksum (RFC 1071) of `b`.
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Steps at most per input: enough for a handshake, data and a close.
pub const MAX_STEPS: usize = 512;

/// One input, whole: its actions with the checks after every step, then
/// everything delivered, time passing, and the checks once more. Panics on
/// a violation (the fuzz target and `fuzz_replay` both run this).
pub fn run_input(data: &[u8]) {
    let mut w = World::new();
    let mut input = Input::new(data);
    let mut steps = 0;
    while let Some(action) = input.action() {
        w.apply(action);
        w.check();
        steps += 1;
        if steps == MAX_STEPS {
            break;
        }
    }
    w.settle();
    w.check();
}
