//! Blind injection (RFC 5961) into a subflow carrying a transfer: RSTs and
//! SYNs in the window get a challenge ACK (`TCPChallengeACK`, at most
//! `challenge_ack_limit` a second) and change nothing; out of the window
//! they are dropped; data whose ACK acknowledges what was never sent, or is
//! too old, is challenged and not taken; data the subflow takes but whose
//! mapping lies far outside the data-level window is dropped there
//! (`NoDSSInWindow`) and the real bytes come again at the data level.
//! Each test checks the counter, the memory, and the transfer byte for byte.

mod common;
mod hostile;

use common::{Pair, open, pkt};
use hostile::{Forge, ack_of, assert_memory, mptcp_pair, reset_peak, spy, transfer_under};
use mptcp_proto::Duration;
use mptcp_wire::mptcp::{Dss, DssMapping, MptcpOption};
use mptcp_wire::tcp::{Flags, TcpOption};

const MB: u64 = 1_000_000;

/// What an attack may add to the peak of live bytes of the same transfer
/// without it: thousands of forged segments, if any were kept, would be
/// megabytes.
const SLACK: i64 = 256 << 10;

/// Injects `forged(template, k)` into B, `per_step` at every step once B
/// has read 100 kB, until `total` are in.
fn inject_into_b(
    p: &mut Pair,
    seed_template: &std::rc::Rc<std::cell::RefCell<hostile::Sight>>,
    read: u64,
    sent: &mut u32,
    total: u32,
    forged: &dyn Fn(&[u8], u32) -> Vec<u8>,
) {
    if read < 100_000 || *sent >= total {
        return;
    }
    let Some(t) = seed_template.borrow().ab.clone() else { return };
    for _ in 0..10 {
        let f = forged(&t, *sent);
        p.b.handle(p.now, &f);
        *sent += 1;
    }
}

fn challenge_acks(p: &Pair, b: mptcp_proto::ConnId) -> u64 {
    p.b.subflow_stats(b).unwrap()[0].tcp.challenge_acks
}

#[test]
fn blind_rsts_in_the_window_are_challenged_out_of_it_dropped() {
    let mut p = mptcp_pair(500);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    let start = p.now;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        inject_into_b(p, &sight, read, &mut sent, 4000, &|t, k| {
            let mut f = Forge::like(t);
            // Half in the window (a few kB ahead, never the exact next
            // sequence number), half 1 GB away.
            f.seq = if k % 2 == 0 { pkt::seq(t).wrapping_add(1 + 997 * (k % 40)) } else { pkt::seq(t) ^ 0x4000_0000 };
            f.flags = Flags::RST;
            f.build(t)
        });
    });
    assert_eq!(sent, 4000);
    let secs = (p.now - start).as_micros().div_ceil(1_000_000);
    let sf = &p.b.subflow_stats(b).unwrap()[0].tcp;
    assert!(sf.challenge_acks >= 1, "{sf:?}");
    assert!(sf.challenge_acks <= 100 * secs, "rate limited: {} in {secs} s", sf.challenge_acks);
    assert!(sf.dropped_segments >= 2000, "the out-of-window ones: {sf:?}");
    assert_eq!(p.b.subflow_stats(b).unwrap().len(), 1);
    eprintln!("blind RSTs: TCPChallengeACK {}, dropped {}", sf.challenge_acks, sf.dropped_segments);
    assert_memory("blind RSTs", 500, 2 * MB, SLACK);
}

#[test]
fn blind_syns_on_a_synchronized_subflow_are_challenged_within_the_limit() {
    let mut p = mptcp_pair(501);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    let mut burst_checked = false;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        if read >= 100_000 && !burst_checked {
            // 1000 SYNs at one instant: at most 100 challenge ACKs.
            burst_checked = true;
            let before = challenge_acks(p, b);
            let t = sight.borrow().ab.clone().unwrap();
            for k in 0..1000u32 {
                let mut f = Forge::like(&t);
                f.seq = pkt::seq(&t).wrapping_add(k * 13);
                f.flags = Flags::SYN;
                f.options = vec![TcpOption::MaxSegmentSize(1460)];
                p.b.handle(p.now, &f.build(&t));
                sent += 1;
            }
            let now_acks = challenge_acks(p, b) - before;
            assert!((1..=100).contains(&now_acks), "{now_acks} challenge ACKs for a burst of 1000 SYNs");
        }
    });
    assert_eq!(sent, 1000);
    assert_eq!(p.b.subflow_stats(b).unwrap().len(), 1, "no new subflow");
    eprintln!("blind SYNs: TCPChallengeACK {}", challenge_acks(&p, b));
    assert_memory("blind SYNs", 501, 2 * MB, SLACK);
}

#[test]
fn blind_data_with_an_unacceptable_ack_is_challenged_and_not_taken() {
    let mut p = mptcp_pair(502);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        inject_into_b(p, &sight, read, &mut sent, 3000, &|t, k| {
            let mut f = Forge::like(t);
            // Right at the next sequence number, but acknowledging 1 MB
            // that B never sent, or 1 GB behind; or the right ACK, 1 GB
            // away in sequence. Garbage payload, under a DSS mapping that
            // would put it where the stream goes next.
            let next = pkt::seq(t).wrapping_add(pkt::payload(t).len() as u32);
            match k % 3 {
                0 => f.ack = ack_of(t).wrapping_add(1_000_000),
                1 => f.ack = ack_of(t).wrapping_sub(0x4000_0000),
                _ => f.seq = next.wrapping_add(0x4000_0000),
            }
            if k % 3 != 2 {
                f.seq = next;
            }
            f.payload = vec![0xee; 500];
            if let Some(m) = pkt::mapping(t) {
                f.options = vec![TcpOption::Mptcp(MptcpOption::Dss(Dss {
                    data_ack: None,
                    mapping: Some(DssMapping { len: 500, ..m }),
                    data_fin: false,
                }))];
            }
            f.build(t)
        });
    });
    assert_eq!(sent, 3000);
    let sf = &p.b.subflow_stats(b).unwrap()[0].tcp;
    assert!(sf.challenge_acks >= 1, "{sf:?}");
    assert!(sf.dropped_segments >= 1000, "{sf:?}");
    eprintln!("blind data: TCPChallengeACK {}, dropped {}", sf.challenge_acks, sf.dropped_segments);
    assert_memory("blind data", 502, 2 * MB, SLACK);
}

/// A copy of data segment `p` whose DSS mapping is `m`: the rest of the
/// DSS (its DATA_ACK) as it was; timestamps kept, SACK blocks dropped.
fn with_mapping(p: &[u8], m: DssMapping) -> Vec<u8> {
    let dss = pkt::mptcp(p).into_iter().find_map(|o| match o {
        MptcpOption::Dss(d) => Some(d),
        _ => None,
    });
    let mut f = Forge::like(p);
    f.flags = Flags(pkt::flags(p));
    f.payload = pkt::payload(p).to_vec();
    f.options = vec![TcpOption::Mptcp(MptcpOption::Dss(Dss {
        data_ack: dss.and_then(|d| d.data_ack),
        mapping: Some(m),
        data_fin: dss.is_some_and(|d| d.data_fin),
    }))];
    f.build(p)
}

/// Whether the mapping lies in the data-level window or not, and the
/// transfer must be whole: the subflow acknowledged the bytes, the data
/// level dropped them, and A sent them again at the data level.
#[test]
fn data_mapped_far_outside_the_data_window_is_dropped_at_the_data_level() {
    let mut p = mptcp_pair(503);
    let rewritten = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(u64, u32)>::new()));
    let r = rewritten.clone();
    let mut data_segments = 0u32;
    // A middlebox moves the mappings of the 200th and 400th data segments
    // (and of their subflow-level retransmissions) 2^40 ahead and 2^40
    // back in the data sequence space.
    p.ab.middlebox = Some(Box::new(move |packet| {
        let Some(m) = pkt::mapping(&packet).filter(|_| !pkt::payload(&packet).is_empty()) else {
            return vec![packet];
        };
        data_segments += 1;
        let mut r = r.borrow_mut();
        if (data_segments == 200 || data_segments == 400) && !r.contains(&(m.dsn, m.ssn)) {
            r.push((m.dsn, m.ssn));
        }
        let Some(k) = r.iter().position(|&x| x == (m.dsn, m.ssn)) else { return vec![packet] };
        let dsn = if k == 0 { m.dsn.wrapping_add(1 << 40) } else { m.dsn.wrapping_sub(1 << 40) };
        vec![with_mapping(&packet, DssMapping { dsn, dsn_wide: true, ..m })]
    }));
    let (a, b) = open(&mut p);
    reset_peak();
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |_, _| {});
    assert_eq!(rewritten.borrow().len(), 2);
    let (ca, cb) = (p.a.mptcp_counters(a).unwrap(), p.b.mptcp_counters(b).unwrap());
    assert!(cb.no_dss_in_window >= 1, "{cb:?}");
    assert!(cb.duplicate_data >= 1, "{cb:?}");
    assert!(ca.data_retransmits >= 1, "{ca:?}");
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "still MPTCP");
    eprintln!(
        "far DSNs: NoDSSInWindow {}, DuplicateData {}, A's MPTCPRetrans {}",
        cb.no_dss_in_window, cb.duplicate_data, ca.data_retransmits
    );
    // The hole each dropped mapping leaves holds what follows it at the data
    // level until A sends it again: bounded by the receive buffer (6 MiB),
    // not by the attack.
    assert_memory("far DSNs", 503, 2 * MB, 6 << 20);
}
