//! Hostile MPTCP signalling on a connection carrying a transfer, from an
//! attacker who saw the handshake and the path (it knows the token and the
//! sequence numbers, not what HMACs need beyond that, or it would be the
//! peer): joins whose third ACK has a bad HMAC (`MPJoinAckHMacFailure`,
//! and each refused join's place is taken again: the subflow list stays
//! bounded), joins beyond the subflow limit (`MPJoinRejected`), ADD_ADDRs
//! with a bad HMAC (`AddAddrDrop`, never joined), floods of REMOVE_ADDR for
//! ids we do not know (`RmAddrDrop`) and of MP_PRIO (`MPPrioRx`), and
//! MP_FASTCLOSE with a key that is not ours (`mp_fastclose_bad_key`).
//! Each test checks the counter, the memory against the same transfer
//! without the attack, and the transfer byte for byte.

mod common;
mod hostile;

use common::{Pair, open, pkt};
use hostile::{Forge, assert_memory, b_output_except, mptcp_pair, reset_peak, segment, spy, transfer_under};
use mptcp_proto::Duration;
use mptcp_wire::mptcp::{AddAddr, MpFastclose, MpJoin, MpPrio, MptcpOption, RemoveAddr};
use mptcp_wire::tcp::{Flags, TcpOption};
use std::net::SocketAddr;

const MB: u64 = 1_000_000;

/// What an attack may add to the peak of live bytes of the same transfer
/// without it.
const SLACK: i64 = 256 << 10;

/// B's token, as an observer of the handshake computes it from B's key.
fn b_token(p: &mut Pair) -> u32 {
    let log = p.log.take().expect("logged handshake");
    let (_, b_key) = hostile::keys_seen(&log).expect("keys in the third ACK");
    mptcp_wire::crypto::token(b_key)
}

/// An attacker's MP_JOIN SYN to B's port 80 from 10.0.0.1:`port`.
fn join_syn(port: u16, token: u32, isn: u32) -> Vec<u8> {
    let src: SocketAddr = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
    let dst: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let join = MpJoin::Syn { backup: false, addr_id: 7, token, nonce: isn ^ 0x5555 };
    let opts = [TcpOption::MaxSegmentSize(1460), TcpOption::Mptcp(MptcpOption::MpJoin(join))];
    segment(src, dst, isn, 0, Flags::SYN, &opts)
}

/// Opens a logged pair and B's token.
fn opened(seed: u64) -> (Pair, mptcp_proto::ConnId, mptcp_proto::ConnId, u32) {
    let mut p = mptcp_pair(seed);
    p.log = Some(Vec::new());
    let (a, b) = open(&mut p);
    let token = b_token(&mut p);
    p.log = None;
    (p, a, b, token)
}

#[test]
fn joins_with_a_bad_hmac_in_the_third_ack_are_reset_and_leave_nothing_behind() {
    let (mut p, a, b, token) = opened(600);
    reset_peak();
    let mut tried = 0u32;
    let attacker = |port: u16| (40_000..41_000).contains(&port);
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        if read < 100_000 || tried >= 500 {
            return;
        }
        let port = 40_000 + tried as u16;
        let isn = 1_000 + tried * 7;
        p.b.handle(p.now, &join_syn(port, token, isn));
        let synack = b_output_except(p, attacker);
        let Some(sa) = synack.iter().find(|s| pkt::flags(s) & 0x12 == 0x12) else {
            panic!("no SYN/ACK to join {tried}: {:?}", p.b.stats_endpoint());
        };
        let src: SocketAddr = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
        let third = MpJoin::Ack { hmac: [tried as u8; 20] };
        let opts = [TcpOption::Mptcp(MptcpOption::MpJoin(third))];
        let ack = segment(src, "10.0.0.2:80".parse().unwrap(), isn + 1, pkt::seq(sa) + 1, Flags::ACK, &opts);
        p.b.handle(p.now, &ack);
        let rst = b_output_except(p, attacker);
        assert!(rst.iter().any(|r| pkt::flags(r) & 0x04 != 0), "join {tried} reset");
        tried += 1;
    });
    assert_eq!(tried, 500);
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!(cb.join_hmac_failures, 500, "{cb:?}");
    assert_eq!(cb.joins, 0);
    // Every refused join took the place of the one before it.
    let places = p.b.subflow_stats(b).unwrap().len();
    assert!(places <= 2, "{places} subflow records after 500 refused joins");
    eprintln!("bad-HMAC joins: MPJoinAckHMacFailure {}, subflow records {places}", cb.join_hmac_failures);
    assert_memory("bad-HMAC joins", 600, 2 * MB, SLACK);
}

#[test]
fn joins_beyond_the_subflow_limit_are_rejected() {
    let (mut p, a, b, token) = opened(601);
    reset_peak();
    let mut tried = 0u32;
    let mut synacks = 0;
    let attacker = |port: u16| (40_000..41_000).contains(&port);
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        if read < 100_000 || tried >= 300 {
            return;
        }
        p.b.handle(p.now, &join_syn(40_000 + tried as u16, token, 5_000 + tried));
        let answers = b_output_except(p, attacker);
        synacks += answers.iter().filter(|s| pkt::flags(s) & 0x12 == 0x12).count();
        tried += 1;
    });
    // max_subflows is 3: the initial subflow and two half-open joins.
    assert_eq!(synacks, 2, "two joins half-open, the rest refused");
    let stats = p.b.stats_endpoint();
    assert_eq!(stats.join_rejected, 298, "{stats:?}");
    assert!(p.b.subflow_stats(b).unwrap().len() <= 3);
    eprintln!("joins beyond the limit: MPJoinRejected {}", stats.join_rejected);
    assert_memory("joins beyond the limit", 601, 2 * MB, SLACK);
}

/// Forges `n` pure ACKs carrying `opt(k)` on the initial subflow, B→A
/// (`to_a`) or A→B, `per_step` at a time once B has read 100 kB.
fn flood(
    p: &mut Pair,
    sight: &std::rc::Rc<std::cell::RefCell<hostile::Sight>>,
    read: u64,
    sent: &mut u32,
    n: u32,
    to_a: bool,
    opt: &dyn Fn(u32) -> Vec<TcpOption<'static>>,
) {
    if read < 100_000 || *sent >= n {
        return;
    }
    let t = if to_a { sight.borrow().ba.clone() } else { sight.borrow().ab.clone() };
    let Some(t) = t else { return };
    for _ in 0..20 {
        let mut f = Forge::like(&t);
        f.options = opt(*sent);
        let packet = f.build(&t);
        if to_a {
            p.a.handle(p.now, &packet);
        } else {
            p.b.handle(p.now, &packet);
        }
        *sent += 1;
    }
}

#[test]
fn add_addr_with_bad_hmacs_are_dropped_and_never_joined() {
    // A runs the full-mesh path manager: it would join anything announced.
    let mut p = Pair::new(common::fullmesh_cfg(), hostile::link(), 602);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood(p, &sight, read, &mut sent, 2000, true, &|k| {
            let addr = std::net::IpAddr::from([10, 0, (k % 200) as u8 + 1, 2]);
            let hmac = Some(u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            vec![TcpOption::Mptcp(MptcpOption::AddAddr(AddAddr {
                echo: false,
                addr_id: k as u8,
                addr,
                port: None,
                hmac,
            }))]
        });
    });
    let ca = p.a.mptcp_counters(a).unwrap();
    assert_eq!(ca.add_addr_drop, 2000, "{ca:?}");
    assert_eq!(ca.add_addr, 0);
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 1, "no join to an unverified address");
    eprintln!("bad-HMAC ADD_ADDR: AddAddrDrop {}", ca.add_addr_drop);
    hostile::assert_memory_with(common::fullmesh_cfg(), "bad-HMAC ADD_ADDR", 602, 2 * MB, SLACK);
}

#[test]
fn a_flood_of_remove_addr_for_unknown_ids_removes_nothing() {
    let (mut p, a, b, _) = opened(603);
    let sight = spy(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood(p, &sight, read, &mut sent, 5000, true, &|k| {
            // Eight ids a time, never 0 (the initial subflow's address,
            // which a REMOVE_ADDR may withdraw: RFC 8684 §3.4.2).
            const IDS: [[u8; 8]; 4] = [
                [1, 2, 3, 4, 5, 6, 7, 8],
                [9, 10, 11, 12, 13, 14, 15, 16],
                [100, 101, 102, 103, 104, 105, 106, 107],
                [255, 254, 253, 252, 251, 250, 249, 248],
            ];
            vec![TcpOption::Mptcp(MptcpOption::RemoveAddr(RemoveAddr { ids: &IDS[k as usize % 4] }))]
        });
    });
    let ca = p.a.mptcp_counters(a).unwrap();
    assert_eq!((ca.rm_addr, ca.rm_addr_drop), (5000, 5000), "{ca:?}");
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 1);
    eprintln!("REMOVE_ADDR flood: RmAddr {}, RmAddrDrop {}", ca.rm_addr, ca.rm_addr_drop);
    assert_memory("REMOVE_ADDR flood", 603, 2 * MB, SLACK);
}

#[test]
fn a_flood_of_mp_prio_is_counted_and_queues_nothing() {
    let (mut p, a, b, _) = opened(604);
    let sight = spy(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood(p, &sight, read, &mut sent, 5000, false, &|_| {
            vec![TcpOption::Mptcp(MptcpOption::MpPrio(MpPrio { backup: true, addr_id: None }))]
        });
    });
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!(cb.mp_prio_rx, 5000, "{cb:?}");
    assert!(p.b.subflow_stats(b).unwrap()[0].backup, "the one subflow is a backup (and still carries the data)");
    eprintln!("MP_PRIO flood: MPPrioRx {}", cb.mp_prio_rx);
    assert_memory("MP_PRIO flood", 604, 2 * MB, SLACK);
}

#[test]
fn mp_fastclose_with_a_wrong_key_is_ignored() {
    let (mut p, a, b, _) = opened(605);
    let sight = spy(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood(p, &sight, read, &mut sent, 1000, false, &|k| {
            let receiver_key = u64::from(k).wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
            vec![TcpOption::Mptcp(MptcpOption::MpFastclose(MpFastclose { receiver_key }))]
        });
    });
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!((cb.mp_fastclose_bad_key, cb.mp_fastclose_rx), (1000, 0), "{cb:?}");
    eprintln!("MP_FASTCLOSE, wrong key: ignored {}", cb.mp_fastclose_bad_key);
    assert_memory("MP_FASTCLOSE wrong key", 605, 2 * MB, SLACK);
}
