//! MPTCP through middleboxes and against hostile input: segment splitting and
//! coalescing, payload rewriting caught by the DSS checksum (MP_FAIL, the
//! infinite mapping, fallback), stripped options, reordering across
//! subflows, and refused joins (RFC 8684 §3.2, §3.3, §3.6, §3.7).

mod common;

use common::{Bulk, LinkConfig, Pair, open, pkt, transfer, transfer_arming};
use mptcp_proto::mptcp::Fallback;
use mptcp_proto::{ConnId, Duration, EndpointConfig};
use mptcp_wire::mptcp::{MpJoin, MptcpOption};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

const MB: u64 = 1_000_000;
const SECOND: [u8; 4] = [10, 0, 1, 1];

fn cfg(checksum: bool) -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    cfg.mptcp.checksum = checksum;
    // Joins come from A's path manager as addresses appear (the full mesh
    // uses every address; the default kernel-style one only flagged ones).
    cfg.mptcp.path_manager = "fullmesh".to_owned();
    cfg.mptcp.max_subflows = 8;
    cfg
}

fn link() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(10), rate_bps: 100_000_000, queue_bytes: 1_000_000, ..Default::default() }
}

fn join_second(p: &mut Pair, a: ConnId) {
    p.a.add_address(SECOND.into());
    let joined = p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).is_some_and(|c| c.joins == 1));
    assert!(joined, "join: {:?}", p.a.subflow_stats(a));
}

/// Whether a packet is an A→B data segment on the second path.
fn on_second_path(p: &[u8]) -> bool {
    pkt::src(p) == SECOND && !pkt::payload(p).is_empty()
}

#[test]
fn split_segments_with_checksums_on_two_subflows() {
    let mut p = Pair::new(cfg(true), link(), 101);
    let splits = Rc::new(Cell::new(0u32));
    let s = splits.clone();
    // Every data segment A sends is cut in two, options copied to both.
    p.ab.middlebox = Some(Box::new(move |packet| {
        let len = pkt::payload(&packet).len();
        if len < 2 {
            return vec![packet];
        }
        s.set(s.get() + 1);
        let (x, y) = pkt::split(&packet, len / 3);
        vec![x, y]
    }));
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    transfer(&mut p, a, b, 2 * MB, Duration::from_secs(60));
    assert!(splits.get() > 1000, "the middlebox split segments");
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!((cb.data_csum_err, cb.unmapped_bytes, cb.dss_not_matching), (0, 0, 0), "{cb:?}");
    assert_eq!(p.b.mptcp_fallback(b), Some(None));
    let stats = p.a.subflow_stats(a).unwrap();
    assert!(stats.iter().all(|s| s.bytes_sent > 100_000), "both subflows carried data: {stats:#?}");
}

#[test]
fn coalesced_segments_with_checksums_on_two_subflows() {
    let mut p = Pair::new(cfg(true), link(), 102);
    let merged = Rc::new(Cell::new(0u32));
    let m = merged.clone();
    // Back-to-back MSS segments of one mapping are merged, the first one's
    // options kept (the second's DATA_ACK is lost), as LRO does.
    p.ab.coalesce = Some(Box::new(move |prev, next| {
        if pkt::payload(prev).len() > 3 * 1400
            || pkt::mapping(prev).is_none()
            || pkt::mapping(prev) != pkt::mapping(next)
        {
            return None;
        }
        let out = pkt::merge(prev, next)?;
        m.set(m.get() + 1);
        Some(out)
    }));
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    transfer(&mut p, a, b, 3 * MB, Duration::from_secs(60));
    assert!(merged.get() > 50, "the middlebox merged segments: {}", merged.get());
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!((cb.data_csum_err, cb.unmapped_bytes, cb.dss_not_matching), (0, 0, 0), "{cb:?}");
    assert_eq!(p.b.mptcp_fallback(b), Some(None));
    assert_eq!(p.a.mptcp_fallback(a), Some(None));
}

#[test]
fn a_coalescer_across_mappings_on_the_only_subflow_makes_it_fall_back() {
    let mut p = Pair::new(cfg(false), link(), 103);
    let merged = Rc::new(Cell::new(0u32));
    let armed = Rc::new(Cell::new(false));
    let (m, on) = (merged.clone(), armed.clone());
    // Merges regardless of the mappings: the second segment's mapping is lost.
    p.ab.coalesce = Some(Box::new(move |prev, next| {
        if !on.get() || pkt::payload(prev).len() > 1500 || pkt::mapping(prev) == pkt::mapping(next) {
            return None;
        }
        let out = pkt::merge(prev, next)?;
        m.set(m.get() + 1);
        Some(out)
    }));
    let (a, b) = open(&mut p);
    transfer_arming(&mut p, a, b, 2 * MB, Duration::from_secs(60), Some((200_000, armed.clone())));
    assert!(merged.get() >= 1);
    // B found data its mappings do not cover: it fell back, and told A with
    // an infinite mapping; no byte lost or doubled (checked by `transfer`).
    assert_eq!(p.b.mptcp_fallback(b), Some(Some(Fallback::BadMapping)));
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(Fallback::InfiniteMapping)));
    let (ca, cb) = (p.a.mptcp_counters(a).unwrap(), p.b.mptcp_counters(b).unwrap());
    assert_eq!((cb.infinite_map_tx, ca.infinite_map_rx), (1, 1), "{ca:?} {cb:?}");
    assert!(cb.dss_not_matching >= 1);
}

#[test]
fn stripped_options_make_the_only_subflow_fall_back() {
    let mut p = Pair::new(cfg(false), link(), 104);
    let armed = Rc::new(Cell::new(false));
    let on = armed.clone();
    p.ab.middlebox = Some(Box::new(move |mut packet| {
        if on.get() && !pkt::payload(&packet).is_empty() {
            pkt::strip_mptcp(&mut packet);
        }
        vec![packet]
    }));
    let (a, b) = open(&mut p);
    transfer_arming(&mut p, a, b, MB, Duration::from_secs(60), Some((100_000, armed.clone())));
    assert_eq!(p.b.mptcp_fallback(b), Some(Some(Fallback::DataWithoutDss)));
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(Fallback::InfiniteMapping)));
    assert_eq!(p.b.mptcp_counters(b).unwrap().dss_fallback, 1);
}

#[test]
fn stripped_options_on_a_joined_subflow_reset_it_and_the_data_goes_elsewhere() {
    let mut p = Pair::new(cfg(false), link(), 105);
    let armed = Rc::new(Cell::new(false));
    let on = armed.clone();
    p.ab.middlebox = Some(Box::new(move |mut packet| {
        if on.get() && on_second_path(&packet) {
            pkt::strip_mptcp(&mut packet);
        }
        vec![packet]
    }));
    let (recorder, rsts) = rst_recorder();
    p.ba.middlebox = Some(recorder);
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    armed.set(true);
    transfer(&mut p, a, b, 2 * MB, Duration::from_secs(60));
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "no fallback with two subflows");
    let cb = p.b.mptcp_counters(b).unwrap();
    assert!(cb.fallback_failed >= 1, "{cb:?}");
    // RFC 8684 §3.6: the RST says "middlebox interference".
    let rsts = rsts.borrow();
    assert!(rsts.iter().any(|r| rst_reason(r, 6)), "{rsts:?}");
}

/// A middlebox that passes everything and keeps a copy of every RST.
fn rst_recorder() -> (common::Middlebox, Rc<RefCell<Vec<Vec<u8>>>>) {
    let rsts = Rc::new(RefCell::new(Vec::new()));
    let r = rsts.clone();
    let mb: common::Middlebox = Box::new(move |packet| {
        if pkt::flags(&packet) & 0x04 != 0 {
            r.borrow_mut().push(packet.clone());
        }
        vec![packet]
    });
    (mb, rsts)
}

/// Whether an RST carries MP_TCPRST with `reason`.
fn rst_reason(rst: &[u8], reason: u8) -> bool {
    pkt::options(rst).windows(4).any(|w| w == [30, 4, 0x80, reason])
}

/// Corrupts one A→B data segment (of the path `path` if given) once `after`
/// data segments went by.
fn corrupter(path: Option<[u8; 4]>, after: u32) -> (common::Middlebox, Rc<Cell<u32>>) {
    let done = Rc::new(Cell::new(0u32));
    let d = done.clone();
    let mut seen = 0u32;
    let mb: common::Middlebox = Box::new(move |mut packet| {
        if !pkt::payload(&packet).is_empty() && path.is_none_or(|a| pkt::src(&packet) == a) {
            seen += 1;
            if seen == after && d.get() == 0 {
                let at = pkt::payload(&packet).len() / 2;
                pkt::corrupt(&mut packet, at);
                d.set(1);
            }
        }
        vec![packet]
    });
    (mb, done)
}

#[test]
fn a_rewritten_payload_on_one_of_two_subflows_resets_it_with_mp_fail() {
    let mut p = Pair::new(cfg(true), link(), 106);
    let (mb, done) = corrupter(Some(SECOND), 200);
    p.ab.middlebox = Some(mb);
    let (recorder, rsts) = rst_recorder();
    p.ba.middlebox = Some(recorder);
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    transfer(&mut p, a, b, 3 * MB, Duration::from_secs(60));
    assert_eq!(done.get(), 1, "a payload was rewritten");
    let (ca, cb) = (p.a.mptcp_counters(a).unwrap(), p.b.mptcp_counters(b).unwrap());
    assert!(cb.data_csum_err >= 1 && cb.mp_fail_tx >= 1, "{cb:?}");
    assert!(ca.mp_fail_rx >= 1 && ca.reinjected_bytes > 0, "{ca:?}");
    assert_eq!((cb.infinite_map_rx, ca.infinite_map_tx), (0, 0));
    assert_eq!(p.a.mptcp_fallback(a), Some(None));
    assert_eq!(p.b.mptcp_fallback(b), Some(None));
    // The RST carries MP_FAIL and MP_TCPRST "middlebox interference".
    let rsts = rsts.borrow();
    let rst = rsts.iter().find(|r| pkt::dst(r) == SECOND).expect("B reset the second subflow");
    let opts = pkt::mptcp(rst);
    assert!(opts.iter().any(|o| matches!(o, MptcpOption::MpFail(_))), "{opts:?}");
    assert!(opts.iter().any(|o| matches!(o, MptcpOption::MpTcpRst(r) if r.reason == 6)), "{opts:?}");
    // B reset the subflow (its record's place went to the join that
    // replaced it, so the counter tells).
    assert!(cb.fallback_failed >= 1, "{cb:?}");
}

#[test]
fn a_rewritten_payload_on_the_only_subflow_falls_back_with_the_infinite_mapping() {
    let mut p = Pair::new(cfg(true), link(), 107);
    let (mb, done) = corrupter(None, 300);
    p.ab.middlebox = Some(mb);
    let infinite = Rc::new(Cell::new(0u32));
    let (inf, _keep) = (infinite.clone(), ());
    p.ab.filter = Some(Box::new(move |packet| {
        if pkt::mptcp(packet).iter().any(|o| matches!(o, MptcpOption::Dss(d) if d.mapping.is_some_and(|m| m.len == 0)))
        {
            inf.set(inf.get() + 1);
        }
        false
    }));
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, 3 * MB, Duration::from_secs(60));
    assert_eq!(done.get(), 1, "a payload was rewritten");
    let (ca, cb) = (p.a.mptcp_counters(a).unwrap(), p.b.mptcp_counters(b).unwrap());
    assert_eq!((cb.data_csum_err, cb.mp_fail_tx, cb.infinite_map_rx), (1, 1, 1), "{cb:?}");
    assert!(ca.mp_fail_rx >= 1, "{ca:?}");
    assert_eq!(ca.infinite_map_tx, 1, "{ca:?}");
    assert!(infinite.get() >= 1, "the infinite mapping went on the wire");
    assert!(cb.mp_fail_dropped_bytes > 0, "the failed mapping was not delivered");
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(Fallback::MpFail)));
    assert_eq!(p.b.mptcp_fallback(b), Some(Some(Fallback::MpFail)));
    assert_eq!(p.b.mptcp_counters(b).unwrap().dss_fallback, 1);
}

#[test]
fn an_unanswered_mp_fail_resets_the_subflow_after_the_timeout() {
    let mut p = Pair::new(cfg(true), link(), 110);
    let (mb, done) = corrupter(None, 300);
    p.ab.middlebox = Some(mb);
    // B's MP_FAIL never reaches A (B's ACKs that carry it are lost); B's RST is
    // kept to look at.
    let rsts = Rc::new(RefCell::new(Vec::new()));
    let r = rsts.clone();
    p.ba.middlebox = Some(Box::new(move |packet| {
        let fail = pkt::mptcp(&packet).iter().any(|o| matches!(o, MptcpOption::MpFail(_)));
        if pkt::flags(&packet) & 0x04 != 0 {
            r.borrow_mut().push(packet.clone());
            return vec![packet];
        }
        if fail { vec![] } else { vec![packet] }
    }));
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(3 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let (mut failed_at, mut reset_at) = (None, None);
    let over = p.run_until(Duration::from_secs(300), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        let c = p.b.mptcp_counters(b).unwrap_or_default();
        if failed_at.is_none() && c.mp_fail_tx > 0 {
            failed_at = Some(p.now);
        }
        if reset_at.is_none() && c.fallback_failed > 0 {
            reset_at = Some(p.now);
        }
        ta.eof && tb.eof
    });
    assert_eq!(done.get(), 1, "a payload was rewritten");
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!((cb.data_csum_err, cb.mp_fail_tx, cb.infinite_map_rx), (1, 1, 0), "{cb:?}");
    let waited = reset_at.expect("the subflow was reset") - failed_at.expect("MP_FAIL sent");
    assert!(waited >= Duration::from_secs(119), "reset {waited:?} after the MP_FAIL, before the timeout");
    let emiddlebox = rsts.borrow().iter().any(|r| rst_reason(r, 6));
    assert!(emiddlebox, "RST with MP_TCPRST EMIDDLEBOX");
    // A's path manager opens a new subflow; the data goes on there, whole.
    assert!(over, "B read {} of {}", tb.read, 3 * MB);
    assert!(!tb.corrupt, "data differs");
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "still MPTCP, on the new subflow");
}

#[test]
fn reordering_across_subflows_keeps_the_stream_identical() {
    let mut p = Pair::new(cfg(true), link(), 108);
    // The second path is 60 ms slower each way.
    let slow = |packet: &[u8]| {
        if pkt::src(packet) == SECOND || pkt::dst(packet) == SECOND {
            Duration::from_millis(60)
        } else {
            Duration::ZERO
        }
    };
    p.ab.extra_delay = Some(Box::new(slow));
    p.ba.extra_delay = Some(Box::new(slow));
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    transfer(&mut p, a, b, 4 * MB, Duration::from_secs(60));
    let stats = p.a.subflow_stats(a).unwrap();
    assert!(stats.iter().all(|s| s.bytes_sent > 50_000), "both subflows carried data: {stats:#?}");
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!((cb.data_csum_err, cb.unmapped_bytes), (0, 0), "{cb:?}");
}

#[test]
fn the_third_ack_is_sent_again_when_lost() {
    let mut p = Pair::new(cfg(false), link(), 109);
    let third_acks = Rc::new(Cell::new(0u32));
    let t = third_acks.clone();
    // The first third ACK (MP_JOIN with the 20-byte HMAC) is lost.
    p.ab.filter = Some(Box::new(move |packet| {
        let third = pkt::mptcp(packet).iter().any(|o| matches!(o, MptcpOption::MpJoin(MpJoin::Ack { .. })));
        if third {
            t.set(t.get() + 1);
        }
        third && t.get() == 1
    }));
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    assert!(third_acks.get() >= 2, "sent again");
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 1);
    transfer(&mut p, a, b, MB, Duration::from_secs(30));
    assert!(p.a.subflow_stats(a).unwrap()[1].bytes_sent > 0);
}

#[test]
fn a_join_with_a_bad_hmac_is_reset_as_prohibited() {
    let mut p = Pair::new(cfg(false), link(), 110);
    // The third ACK's HMAC is damaged on the way.
    p.ab.middlebox = Some(Box::new(|mut packet| {
        if let Some(at) = packet.windows(3).position(|w| w == [30, 24, 0x10]) {
            packet[at + 10] ^= 0xff;
            pkt::fix(&mut packet);
        }
        vec![packet]
    }));
    let (recorder, rsts) = rst_recorder();
    p.ba.middlebox = Some(recorder);
    let (a, b) = open(&mut p);
    p.a.add_address(SECOND.into());
    p.run_until(Duration::from_secs(3), |_| false);
    // (The path manager may try again: every try fails the same way.)
    assert!(p.b.mptcp_counters(b).unwrap().join_hmac_failures >= 1);
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 0);
    let prohibited = rsts.borrow().iter().any(|r| rst_reason(r, 3));
    assert!(prohibited, "RST with MP_TCPRST EPROHIBIT");
    transfer(&mut p, a, b, 200_000, Duration::from_secs(30));
}

/// A's first MP_JOIN SYN, taken off the link, and the pair.
fn a_join_syn(seed: u64, cfg_b: EndpointConfig) -> (Pair, Vec<u8>) {
    let mut p = Pair::with_links(cfg(false), cfg_b, link(), link(), seed);
    let (a, _b) = open(&mut p);
    // Fully established (the first DATA_ACK) before joins.
    p.a.write(a, b"hello").unwrap();
    p.run_until(Duration::from_millis(200), |_| false);
    p.ab.filter = Some(Box::new(|packet| pkt::src(packet) == SECOND));
    p.a.add_address(SECOND.into());
    let mut buf = vec![0u8; 2048];
    let syn = loop {
        let n = p.a.poll_transmit(p.now, &mut buf).expect("a join SYN");
        if pkt::mptcp(&buf[..n]).iter().any(|o| matches!(o, MptcpOption::MpJoin(MpJoin::Syn { .. }))) {
            break buf[..n].to_vec();
        }
    };
    (p, syn)
}

/// What B answers to `syn`: the MP_TCPRST reason of its RST.
fn answer(p: &mut Pair, syn: &[u8]) -> Option<u8> {
    p.b.handle(p.now, syn);
    let mut out = vec![0u8; 2048];
    let n = p.b.poll_transmit(p.now, &mut out)?;
    assert_ne!(pkt::flags(&out[..n]) & 0x04, 0, "a RST");
    pkt::mptcp(&out[..n]).iter().find_map(|o| match o {
        MptcpOption::MpTcpRst(r) => Some(r.reason),
        _ => None,
    })
}

#[test]
fn a_join_to_an_unknown_token_gets_rst_with_reason_mptcp_error() {
    let (mut p, mut syn) = a_join_syn(111, cfg(false));
    let at = syn.windows(3).position(|w| w == [30, 12, 0x10]).expect("MP_JOIN");
    syn[at + 4] ^= 0xff;
    pkt::fix(&mut syn);
    assert_eq!(answer(&mut p, &syn), Some(1));
    assert_eq!(p.b.stats_endpoint().join_no_token, 1);
}

#[test]
fn a_join_to_a_port_neither_listening_nor_announced_is_refused() {
    let (mut p, mut syn) = a_join_syn(112, cfg(false));
    let (ihl, _) = pkt::lens(&syn);
    syn[ihl + 2..ihl + 4].copy_from_slice(&81u16.to_be_bytes());
    pkt::fix(&mut syn);
    assert_eq!(answer(&mut p, &syn), Some(3));
    assert_eq!(p.b.stats_endpoint().join_port_mismatch, 1);
}

#[test]
fn the_c_flag_refuses_joins_to_the_initial_address() {
    let mut cfg_b = cfg(false);
    cfg_b.mptcp.deny_join_initial = true;
    let (mut p, syn) = a_join_syn(113, cfg_b);
    let a = ConnId(0);
    assert_eq!(p.a.mptcp_peer_denies_join_initial(a), Some(true));
    assert_eq!(answer(&mut p, &syn), Some(3), "EPROHIBIT");
    assert_eq!(p.b.stats_endpoint().join_rejected, 1);
}

#[test]
fn without_the_c_flag_the_same_join_is_taken() {
    let (mut p, syn) = a_join_syn(114, cfg(false));
    assert_eq!(p.a.mptcp_peer_denies_join_initial(ConnId(0)), Some(false));
    p.b.handle(p.now, &syn);
    let mut out = vec![0u8; 2048];
    let n = p.b.poll_transmit(p.now, &mut out).expect("SYN/ACK");
    assert_eq!(pkt::flags(&out[..n]) & 0x12, 0x12, "SYN/ACK");
    assert_eq!(p.b.stats_endpoint().join_rejected, 0);
}

#[test]
fn malformed_mptcp_options_are_ignored() {
    let mut p = Pair::new(cfg(true), link(), 115);
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    // Every fifth A→B segment's MPTCP options get a bad length or subtype.
    p.ab.middlebox = Some(Box::new(move |mut packet| {
        c.set(c.get() + 1);
        let (ihl, th) = pkt::lens(&packet);
        if c.get() > 20 && c.get().is_multiple_of(5) {
            let opts = ihl + 20..ihl + th;
            if let Some(at) = packet[opts.clone()].iter().position(|&b| b == 30) {
                let k = opts.start + at;
                match c.get() % 3 {
                    0 => packet[k + 1] = packet[k + 1].wrapping_add(1),
                    1 => packet[k + 2] = 0xe0 | (packet[k + 2] & 0x0f),
                    _ => packet[k + 1] = 2,
                }
                pkt::fix(&mut packet);
            }
        }
        vec![packet]
    }));
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(500_000, 1, 2);
    let mut tb = Bulk::new(500_000, 2, 1);
    p.run_until(Duration::from_secs(30), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        ta.eof && tb.eof
    });
    assert!(count.get() > 100);
    // Whatever B made of it, no byte it handed the application is wrong.
    assert!(!tb.corrupt && !ta.corrupt);
    assert!(tb.read > 0);
}
