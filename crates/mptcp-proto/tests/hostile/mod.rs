//! What the `hostile_*` tests share: a spy on the link that keeps the last
//! segment of each direction of a flow (what an attacker on the side of the
//! path sees), a forger that builds segments on such a flow with chosen
//! sequence numbers, flags and options, and a per-thread allocation counter
//! (each test runs its endpoints on its own thread) for the memory bounds.

#![allow(dead_code)]

use crate::common::{Pair, pkt};
use mptcp_wire::tcp::{Flags, TcpOption, TcpOptionIter, emit_options};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
    static START: Cell<i64> = const { Cell::new(0) };
}

fn live_add(n: i64) {
    let _ = LIVE.try_with(|c| {
        let v = c.get() + n;
        c.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counts are thread-local Cells with const initializers (they never allocate).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        live_add(layout.size() as i64);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live_add(-(layout.size() as i64));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        live_add(new_size as i64 - layout.size() as i64);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes this thread allocated and has not freed.
pub fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

/// Starts a new peak measurement from what is live now.
pub fn reset_peak() {
    let v = live_bytes();
    PEAK.with(|p| p.set(v));
    START.with(|p| p.set(v));
}

/// The most bytes live on this thread since `reset_peak`, beyond what was
/// live then.
pub fn peak_bytes() -> i64 {
    PEAK.with(Cell::get) - START.with(Cell::get)
}

/// The last segment seen in each direction of the path from 10.0.0.1
/// (A's initial subflow) to 10.0.0.2, and every MPTCP key seen.
#[derive(Default)]
pub struct Sight {
    /// The last A→B segment of the initial subflow.
    pub ab: Option<Vec<u8>>,
    /// The last B→A segment of the initial subflow.
    pub ba: Option<Vec<u8>>,
}

/// Puts a spy on both links of `p`: it keeps the last segment of each
/// direction of the initial subflow (10.0.0.1 ↔ 10.0.0.2, port 80).
pub fn spy(p: &mut Pair) -> Rc<RefCell<Sight>> {
    let sight = Rc::new(RefCell::new(Sight::default()));
    let (s1, s2) = (sight.clone(), sight.clone());
    p.ab.middlebox = Some(Box::new(move |packet| {
        if pkt::src(&packet) == [10, 0, 0, 1] && pkt::ports(&packet).1 == 80 {
            s1.borrow_mut().ab = Some(packet.clone());
        }
        vec![packet]
    }));
    p.ba.middlebox = Some(Box::new(move |packet| {
        if pkt::dst(&packet) == [10, 0, 0, 1] && pkt::ports(&packet).0 == 80 {
            s2.borrow_mut().ba = Some(packet.clone());
        }
        vec![packet]
    }));
    sight
}

/// A segment built on the 4-tuple of `template`: its addresses and ports,
/// its timestamps (so PAWS takes it), the rest as given.
pub struct Forge<'a> {
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub window: u16,
    pub options: Vec<TcpOption<'a>>,
    pub payload: Vec<u8>,
}

impl Forge<'_> {
    /// Seq, ack and window of `template`, flag ACK, no options or payload.
    pub fn like(template: &[u8]) -> Self {
        let (ihl, _) = pkt::lens(template);
        let ack = u32::from_be_bytes([template[ihl + 8], template[ihl + 9], template[ihl + 10], template[ihl + 11]]);
        let window = u16::from_be_bytes([template[ihl + 14], template[ihl + 15]]);
        Forge { seq: pkt::seq(template), ack, flags: Flags::ACK, window, options: vec![], payload: vec![] }
    }

    /// The packet, on `template`'s 4-tuple.
    pub fn build(&self, template: &[u8]) -> Vec<u8> {
        let (ihl, _) = pkt::lens(template);
        let ts = TcpOptionIter::new(pkt::options(template)).flatten().find_map(|o| match o {
            TcpOption::Timestamps { tsval, tsecr } => Some(TcpOption::Timestamps { tsval, tsecr }),
            _ => None,
        });
        let mut opts: Vec<TcpOption<'_>> = Vec::new();
        if let Some(t) = ts {
            opts.extend([TcpOption::NoOperation, TcpOption::NoOperation, t]);
        }
        opts.extend(self.options.iter().cloned());
        let mut raw = [0u8; 40];
        let n = emit_options(&opts, &mut raw).expect("forged options fit");
        let olen = n.div_ceil(4) * 4;
        let mut p = template[..ihl + 20].to_vec();
        p.extend_from_slice(&raw[..olen]);
        p.extend_from_slice(&self.payload);
        p[ihl + 4..ihl + 8].copy_from_slice(&self.seq.to_be_bytes());
        p[ihl + 8..ihl + 12].copy_from_slice(&self.ack.to_be_bytes());
        p[ihl + 12] = (((20 + olen) / 4) as u8) << 4;
        p[ihl + 13] = self.flags.0;
        p[ihl + 14..ihl + 16].copy_from_slice(&self.window.to_be_bytes());
        p[ihl + 18..ihl + 20].copy_from_slice(&[0, 0]);
        pkt::fix(&mut p);
        p
    }
}

/// The ACK field of a packet.
pub fn ack_of(p: &[u8]) -> u32 {
    let (ihl, _) = pkt::lens(p);
    u32::from_be_bytes([p[ihl + 8], p[ihl + 9], p[ihl + 10], p[ihl + 11]])
}

/// The MPTCP keys of the connection, read off A's third ACK as an observer
/// of the handshake would (A's, B's).
pub fn keys_seen(packets: &[(bool, Vec<u8>)]) -> Option<(u64, u64)> {
    use mptcp_wire::mptcp::MptcpOption;
    packets.iter().filter(|(from_a, _)| *from_a).find_map(|(_, p)| {
        pkt::mptcp(p).into_iter().find_map(|o| match o {
            MptcpOption::MpCapable(m) => Some((m.sender_key?, m.receiver_key?)),
            _ => None,
        })
    })
}

/// Moves `n` bytes each way between A's `a` and B's `b` within `limit`,
/// calling `attack` at every step (with B's bytes read so far); asserts
/// both streams arrived whole and identical.
pub fn transfer_under(
    p: &mut Pair,
    a: mptcp_proto::ConnId,
    b: mptcp_proto::ConnId,
    n: u64,
    limit: mptcp_proto::Duration,
    mut attack: impl FnMut(&mut Pair, u64),
) {
    let mut ta = crate::common::Bulk::new(n, 1, 2);
    let mut tb = crate::common::Bulk::new(n, 2, 1);
    let done = p.run_until(limit, |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        attack(p, tb.read);
        ta.eof && tb.eof
    });
    assert!(done, "stalled at {:?}: a read {} b read {}", p.now, ta.read, tb.read);
    assert_eq!((ta.read, tb.read), (n, n));
    assert!(!ta.corrupt && !tb.corrupt, "data differs");
}

/// MPTCP on, the kernel-style path manager, a 100 Mb/s link of 5 ms.
pub fn mptcp_pair(seed: u64) -> Pair {
    Pair::new(mptcp_cfg(), link(), seed)
}

/// MPTCP on, everything else as by default.
pub fn mptcp_cfg() -> mptcp_proto::EndpointConfig {
    let mut cfg = mptcp_proto::EndpointConfig::default();
    cfg.mptcp.enabled = true;
    cfg
}

pub fn link() -> crate::common::LinkConfig {
    crate::common::LinkConfig {
        delay: mptcp_proto::Duration::from_millis(5),
        rate_bps: 100_000_000,
        queue_bytes: 1_000_000,
        ..Default::default()
    }
}

/// The peak of live bytes of the same transfer (`cfg` both sides, `seed`,
/// `n` bytes each way, the spy on) without an attack: what an attacked run
/// is held to.
pub fn baseline_peak(cfg: mptcp_proto::EndpointConfig, seed: u64, n: u64) -> i64 {
    let mut p = Pair::new(cfg, link(), seed);
    let _sight = spy(&mut p);
    let (a, b) = crate::common::open(&mut p);
    reset_peak();
    transfer_under(&mut p, a, b, n, mptcp_proto::Duration::from_secs(60), |_, _| {});
    peak_bytes()
}

/// Asserts that the attacked run's peak (`cfg` both sides) stays within
/// `slack` bytes of the same run without the attack, and reports both.
pub fn assert_memory_with(cfg: mptcp_proto::EndpointConfig, what: &str, seed: u64, n: u64, slack: i64) {
    let attacked = peak_bytes();
    let base = baseline_peak(cfg, seed, n);
    eprintln!("{what}: peak {} kB, {} kB without the attack", attacked >> 10, base >> 10);
    assert!(attacked <= base + slack, "{what}: {attacked} bytes at the peak, {base} without the attack");
}

/// `assert_memory_with` for `mptcp_pair`'s configuration.
pub fn assert_memory(what: &str, seed: u64, n: u64, slack: i64) {
    assert_memory_with(mptcp_cfg(), what, seed, n, slack);
}

/// A TCP segment from `src` to `dst` built from nothing (a join an
/// attacker opens from its own port).
pub fn segment(
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    opts: &[TcpOption<'_>],
) -> Vec<u8> {
    let mut raw = [0u8; 40];
    let n = emit_options(opts, &mut raw).expect("options fit");
    let len = 20 + n.div_ceil(4) * 4;
    let mut tcp = vec![0u8; len];
    tcp[20..20 + n].copy_from_slice(&raw[..n]);
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = ((len / 4) as u8) << 4;
    tcp[13] = flags.0;
    tcp[14..16].copy_from_slice(&65_535u16.to_be_bytes());
    let mut p = vec![0u8; 20];
    mptcp_wire::ip::emit_ip_header(src.ip(), dst.ip(), mptcp_wire::ip::PROTO_TCP, 64, len, &mut p).expect("IPv4");
    p.extend_from_slice(&tcp);
    pkt::fix(&mut p);
    p
}

/// Runs B's output now: packets to `port` on A's address are handed back
/// (an attacker's), the rest go on the link to A.
pub fn b_output_except(p: &mut Pair, port: impl Fn(u16) -> bool) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let mut mine = Vec::new();
    while let Some(n) = p.b.poll_transmit(p.now, &mut buf) {
        let pk = buf[..n].to_vec();
        if port(pkt::ports(&pk).1) {
            mine.push(pk);
        } else {
            p.ba.send(p.now, pk, &mut p.rng);
        }
    }
    mine
}
