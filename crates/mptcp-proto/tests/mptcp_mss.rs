//! RFC 8041 §3.8: subflows whose MSS differ (1428 and 1420 bytes, as
//! behind tunnels of different overheads) must not cost throughput: a data
//! level that cut its segments for one MSS would split every segment of the
//! larger size in two on the smaller path. Each subflow here maps whole
//! segments of its own size.

mod common;

use common::{LinkConfig, Pair, open, pkt, transfer};
use mptcp_proto::Duration;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const SECOND: [u8; 4] = [10, 0, 1, 1];

fn link(delay_ms: u64) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(delay_ms),
        rate_bps: 40_000_000,
        queue_bytes: 200_000,
        ..Default::default()
    }
}

/// Sets the MSS option of a SYN (kind 2) to `mss`, if it has one.
fn clamp_mss(packet: &mut [u8], mss: u16) {
    let (ihl, th) = pkt::lens(packet);
    let mut i = ihl + 20;
    while i < ihl + th {
        match packet[i] {
            0 => break,
            1 => i += 1,
            2 => {
                packet[i + 2..i + 4].copy_from_slice(&mss.to_be_bytes());
                break;
            }
            _ => i += usize::from(packet[i + 1]).max(2),
        }
    }
    pkt::fix(packet);
}

/// Per path (A's source address): data segments and payload bytes.
type PerPath = HashMap<[u8; 4], (u64, u64)>;

struct Outcome {
    per_path: PerPath,
    seconds: f64,
}

/// B's SYN/ACKs announce `mss.0` on the first path and `mss.1` on the
/// second; A then sends 8 MB each way over both (`seed` ms one way).
fn run(mss: (u16, u16), seed: u64) -> Outcome {
    let mut p = Pair::new(common::fullmesh_cfg(), link(seed), seed);
    p.ba.middlebox = Some(Box::new(move |mut packet| {
        if pkt::flags(&packet) & 0x02 != 0 {
            let second = pkt::dst(&packet) == SECOND;
            clamp_mss(&mut packet, if second { mss.1 } else { mss.0 });
        }
        vec![packet]
    }));
    let counts: Rc<RefCell<PerPath>> = Rc::default();
    let c = counts.clone();
    p.ab.middlebox = Some(Box::new(move |packet| {
        let n = pkt::payload(&packet).len() as u64;
        if n > 0 {
            let mut map = c.borrow_mut();
            let e = map.entry(pkt::src(&packet)).or_default();
            e.0 += 1;
            e.1 += n;
            if std::env::var("MSS_DEBUG").is_ok() {
                eprintln!("size {:?} {n} {}", pkt::src(&packet), pkt::options(&packet).len());
            }
        }
        vec![packet]
    }));
    let (a, b) = open(&mut p);
    p.a.add_address(SECOND.into());
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).is_some_and(|c| c.joins == 1)));
    let start = p.now;
    transfer(&mut p, a, b, 8_000_000, Duration::from_secs(60));
    let seconds = (p.now - start).as_secs_f64();
    if std::env::var("MSS_DEBUG").is_ok() {
        for s in p.a.subflow_stats(a).unwrap() {
            eprintln!(
                "A sf {} sent {} srtt {} cwnd {} retx {} mss {} rec {} to {} tlp {}",
                s.local,
                s.bytes_sent,
                s.srtt_us,
                s.cwnd,
                s.retransmitted_bytes,
                s.tcp.mss,
                s.tcp.recoveries,
                s.tcp.timeouts,
                s.tcp.tail_loss_probes
            );
        }
        for s in p.b.subflow_stats(b).unwrap() {
            eprintln!(
                "B sf {} recv {} dropped {} mss {}",
                s.remote, s.bytes_received, s.tcp.dropped_segments, s.tcp.mss
            );
        }
    }
    let per_path = counts.borrow().clone();
    Outcome { per_path, seconds }
}

#[test]
fn unequal_mss_costs_no_throughput() {
    let (mut t_equal, mut t_unequal) = (0.0, 0.0);
    let (mut pkts_equal, mut pkts_unequal) = (0.0, 0.0);
    for seed in [3, 4, 5, 6, 7, 8] {
        let equal = run((1428, 1428), seed);
        let unequal = run((1428, 1420), seed);
        let show = |o: &Outcome| {
            let mut v: Vec<_> = o.per_path.iter().map(|(k, (s, b))| (*k, *s, *b)).collect();
            v.sort_by_key(|x| x.0);
            format!("{:.2} s, per path (segments, bytes): {v:?}", o.seconds)
        };
        eprintln!("seed {seed}: equal MSS {}; unequal MSS {}", show(&equal), show(&unequal));
        // Segments on each path are whole segments of that path's MSS (less
        // the timestamps and the DSS, 40 bytes; less SACK blocks at times).
        for (path, mss) in [([10, 0, 0, 1], 1428u64), (SECOND, 1420)] {
            let (segs, bytes) = unequal.per_path[&path];
            assert!(segs > 300, "path {path:?} carried data: {segs} segments");
            let avg = bytes as f64 / segs as f64;
            assert!(avg >= (mss - 40) as f64 * 0.97, "path {path:?}: {avg:.0} bytes a segment for MSS {mss}");
            assert!(avg <= (mss - 40) as f64, "path {path:?}: {avg:.0} bytes a segment, over its MSS {mss}");
        }
        let per_byte = |o: &Outcome| {
            let (s, b) = o.per_path.values().fold((0, 0), |(s, b), (s2, b2)| (s + s2, b + b2));
            s as f64 / b as f64
        };
        pkts_equal += per_byte(&equal);
        pkts_unequal += per_byte(&unequal);
        t_equal += equal.seconds;
        t_unequal += unequal.seconds;
    }
    // No collapse: as many packets per byte, and over six delays about the
    // same time (one seed alone swings with where a slow-start loss burst
    // falls, which the coupled controller then keeps the hit subflow small for).
    assert!(pkts_unequal <= pkts_equal * 1.02, "packets per byte: {pkts_unequal:.6} against {pkts_equal:.6}");
    assert!(
        t_unequal <= t_equal * 1.15,
        "six transfers took {t_unequal:.2} s with unequal MSS, {t_equal:.2} s with equal"
    );
}
