//! The data level between two of our endpoints: the sender keeps within the
//! peer's data-level window (RFC 8684 §3.3.5), and data the peer acknowledged
//! on its subflow but never at the data level is sent again.

mod common;

use common::*;
use mptcp_proto::EndpointConfig;
use mptcp_proto::time::Duration;

const MB: u64 = 1 << 20;

fn cfg() -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    cfg
}

fn link() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(5), rate_bps: 200_000_000, queue_bytes: 2_000_000, ..Default::default() }
}

/// Where the DSS option starts in an IPv4 packet, if it carries one.
fn dss_option(pkt: &[u8]) -> Option<usize> {
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    let doff = usize::from(pkt[ihl + 12] >> 4) * 4;
    let mut at = ihl + 20;
    while at + 1 < ihl + doff {
        match pkt[at] {
            0 => return None,
            1 => at += 1,
            kind => {
                if kind == 30 && pkt[at + 2] >> 4 == 2 {
                    return Some(at);
                }
                at += usize::from(pkt[at + 1]).max(2);
            }
        }
    }
    None
}

/// Where the DSS mapping's data sequence number sits in an IPv4 packet, if
/// the packet carries a DSS option with a 64-bit one.
fn dss_dsn_offset(pkt: &[u8]) -> Option<usize> {
    let at = dss_option(pkt)?;
    let flags = pkt[at + 3];
    let (ack, wide_ack, map, wide_dsn) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 8 != 0);
    if !(map && wide_dsn) {
        return None;
    }
    let ack_len = if ack { if wide_ack { 8 } else { 4 } } else { 0 };
    Some(at + 4 + ack_len)
}

/// Where the DSS option's DATA_ACK sits in an IPv4 packet, and whether it is
/// 64 bits wide, if the packet carries one.
fn dss_ack_offset(pkt: &[u8]) -> Option<(usize, bool)> {
    let at = dss_option(pkt)?;
    let flags = pkt[at + 3];
    (flags & 1 != 0).then_some((at + 4, flags & 2 != 0))
}

#[test]
fn data_lost_at_the_data_level_is_sent_again() {
    let mut p = Pair::new(cfg(), link(), 81);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(4 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    // Every segment of one whole mapping gets its data sequence number moved
    // far away in flight (consistently, so B sees a well-formed mapping): B
    // takes the bytes at the TCP level but they never land in the stream.
    let mut seen = std::collections::HashSet::new();
    let mut target = None;
    let mut rewritten = 0;
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        // The data sent again (under the same data sequence number) passes.
        let resent = p.a.mptcp_counters(a).is_some_and(|c| c.data_retransmits > 0);
        for mut pkt in p.ab.take_due(p.now + Duration::from_secs(1)) {
            if tcp_payload_len(&pkt) > 0
                && let Some(off) = dss_dsn_offset(&pkt)
            {
                let dsn = u64::from_be_bytes(pkt[off..off + 8].try_into().unwrap());
                if target.is_none() && tb.read > MB && !seen.contains(&dsn) {
                    target = Some(dsn);
                }
                seen.insert(dsn);
                if target == Some(dsn) && !resent {
                    pkt[off..off + 8].copy_from_slice(&dsn.wrapping_add(1 << 40).to_be_bytes());
                    common::pkt::fix(&mut pkt);
                    rewritten += 1;
                }
            }
            p.b.handle(p.now, &pkt);
        }
        ta.eof && tb.eof
    });
    assert!(rewritten > 0, "no new mapping seen");
    assert!(done, "stalled: B read {} of {}", tb.read, 4 * MB);
    assert!(!tb.corrupt, "data differs");
    let c = p.a.mptcp_counters(a).unwrap();
    assert!(c.data_retransmits >= 1, "{c:?}");
    assert_eq!(p.a.mptcp_fallback(a), Some(None), "still MPTCP");
}

#[test]
fn the_sender_keeps_within_the_data_level_window() {
    // B's receive buffer is small: with two subflows, each with its own TCP
    // window, A could put more in flight than B can hold at the data level;
    // what B cannot hold it drops, and only a data-level retransmission
    // would bring it back. Within the window nothing is dropped.
    let mut cfg_b = cfg();
    cfg_b.tcp.recv_buffer = 64 * 1024;
    let mut p = Pair::with_links(cfg(), cfg_b, link(), link(), 82);
    p.a.add_endpoint("10.0.1.1".parse().unwrap(), mptcp_proto::pm::EndpointFlags::parse("subflow").unwrap(), None);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(2 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let done = p.run_until(Duration::from_secs(120), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        ta.eof && tb.eof
    });
    assert!(done, "stalled: B read {}", tb.read);
    assert!(!tb.corrupt);
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 2, "two subflows in use");
    assert_eq!(p.a.mptcp_counters(a).unwrap().data_retransmits, 0, "nothing was dropped, nothing resent");
}

#[test]
fn a_slow_reader_is_never_promised_more_than_it_can_hold() {
    // Each subflow advertises the data level's free space, relative to the
    // DATA_ACK it carries (RFC 8684 §3.3.5). Were a subflow to keep its own
    // right edge instead (TCP's "never shrink"), the data-level edge would
    // move past what the buffer holds once the other subflow's data filled
    // it, and a slow reader's data would be dropped after its subflow
    // acknowledged it (the kernel counts that as NoDSSInWindow).
    let mut cfg_b = cfg();
    cfg_b.tcp.recv_buffer = 256 * 1024;
    let mut p = Pair::with_links(cfg(), cfg_b, link(), link(), 83);
    p.a.add_endpoint("10.0.1.1".parse().unwrap(), mptcp_proto::pm::EndpointFlags::parse("subflow").unwrap(), None);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    tb.read_limit = 4 * 1024;
    // B reads 4 KiB a millisecond (32 Mbit/s, a sixth of the links): its
    // buffer fills, and the window is all that holds A back. Time moves to
    // the next read when nothing else is due.
    let mut next_read = p.now;
    let deadline = p.now + Duration::from_secs(120);
    while !(ta.eof && tb.eof) && p.now < deadline {
        ta.pump(&mut p.a, a);
        if p.now >= next_read {
            tb.pump(&mut p.b, b);
            next_read = p.now + Duration::from_millis(1);
        }
        if p.next_time().is_none_or(|t| t > next_read) {
            p.now = next_read;
            p.flush();
        } else {
            p.step();
        }
    }
    let done = ta.eof && tb.eof;
    assert!(done, "stalled: B read {}", tb.read);
    assert!(!tb.corrupt);
    assert_eq!(tb.read, MB);
    let used = p.a.subflow_stats(a).unwrap().iter().filter(|s| s.bytes_sent > 0).count();
    assert_eq!(used, 2, "both subflows carried data");
    assert_eq!(p.b.mptcp_counters(b).unwrap().no_dss_in_window, 0, "data fell beyond the data-level window");
    assert_eq!(p.a.mptcp_counters(a).unwrap().data_retransmits, 0, "nothing was dropped, nothing resent");
}

#[test]
fn data_level_retransmissions_on_two_lossy_subflows_keep_the_stream_whole() {
    // Several whole mappings lost at the data level (their DSN moved far away
    // in flight), on two subflows over lossy, reordering links, both ways:
    // whatever is sent again, and wherever, the streams arrive identical.
    for seed in 90..130 {
        let lossy = LinkConfig { loss: 0.01, reorder: 0.02, reorder_extra: Duration::from_millis(3), ..link() };
        let mut p = Pair::new(cfg(), lossy, seed);
        p.a.add_endpoint("10.0.1.1".parse().unwrap(), mptcp_proto::pm::EndpointFlags::parse("subflow").unwrap(), None);
        let (a, b) = open(&mut p);
        let mut ta = Bulk::new(3 * MB, 1, 2);
        let mut tb = Bulk::new(3 * MB, 2, 1);
        let mut rng = Rng::new(seed);
        let mut seen = std::collections::HashSet::new();
        let mut doomed = std::collections::HashSet::new();
        let done = p.run_until(Duration::from_secs(120), |p| {
            ta.pump(&mut p.a, a);
            tb.pump(&mut p.b, b);
            let resent = p.a.mptcp_counters(a).map_or(0, |c| c.data_retransmits);
            for mut pkt in p.ab.take_due(p.now + Duration::from_secs(1)) {
                if tcp_payload_len(&pkt) > 0
                    && let Some(off) = dss_dsn_offset(&pkt)
                {
                    let dsn = u64::from_be_bytes(pkt[off..off + 8].try_into().unwrap());
                    // A mapping seen for the first time is doomed one time in 10,
                    // until A has resent at the data level a few times.
                    if seen.insert(dsn) && resent < 8 && rng.chance(0.1) {
                        doomed.insert(dsn);
                    }
                    if doomed.contains(&dsn) && resent < 8 {
                        pkt[off..off + 8].copy_from_slice(&dsn.wrapping_add(1 << 40).to_be_bytes());
                        common::pkt::fix(&mut pkt);
                    }
                }
                p.b.handle(p.now, &pkt);
            }
            ta.eof && tb.eof
        });
        assert!(done, "seed {seed}: stalled: A read {} B read {}", ta.read, tb.read);
        assert!(!ta.corrupt && !tb.corrupt, "seed {seed}: data differs");
        assert!(!doomed.is_empty(), "seed {seed}: nothing was lost at the data level");
        let c = p.a.mptcp_counters(a).unwrap();
        assert!(c.data_retransmits >= 1, "seed {seed}: {c:?}");
    }
}

#[test]
fn a_lagging_data_ack_resends_only_the_right_bytes() {
    // CI once saw the kernel receive wrong bytes from us after a data-level
    // retransmission (two subflows, DSS checksums, both directions). Here B
    // gets everything, but for 1.5 s every DATA_ACK it sends is held at one
    // value while its subflow ACKs move on: A's data-level timer fires and
    // A sends data again that B already has. B must end with the exact stream.
    let mut c = cfg();
    c.mptcp.checksum = true;
    let mut p = Pair::with_links(c.clone(), c, link(), link(), 84);
    p.a.add_endpoint("10.0.1.1".parse().unwrap(), mptcp_proto::pm::EndpointFlags::parse("subflow").unwrap(), None);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(8 * MB, 1, 2);
    let mut tb = Bulk::new(8 * MB, 2, 1);
    let mut frozen: Option<(u64, mptcp_proto::time::Instant)> = None;
    let mut held = 0;
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        for mut pkt in p.ba.take_due(p.now + Duration::from_secs(1)) {
            if let Some((off, wide)) = dss_ack_offset(&pkt) {
                let value = if wide {
                    u64::from_be_bytes(pkt[off..off + 8].try_into().unwrap())
                } else {
                    u64::from(u32::from_be_bytes(pkt[off..off + 4].try_into().unwrap()))
                };
                if frozen.is_none() && tb.read > 2 * MB {
                    frozen = Some((value, p.now));
                }
                if let Some((v, since)) = frozen
                    && p.now < since + Duration::from_millis(1500)
                {
                    if wide {
                        pkt[off..off + 8].copy_from_slice(&v.to_be_bytes());
                    } else {
                        pkt[off..off + 4].copy_from_slice(&(v as u32).to_be_bytes());
                    }
                    common::pkt::fix(&mut pkt);
                    held += 1;
                }
            }
            p.a.handle(p.now, &pkt);
        }
        ta.eof && tb.eof
    });
    assert!(held > 0, "no DATA_ACK was held back");
    assert!(done, "stalled: B read {} of {}, A read {}", tb.read, 8 * MB, ta.read);
    assert!(!tb.corrupt, "B's stream differs from what A wrote");
    assert!(!ta.corrupt, "A's stream differs from what B wrote");
    let counters = p.a.mptcp_counters(a).unwrap();
    assert!(counters.data_retransmits >= 1, "the data-level timer never fired: {counters:?}");
    assert!(counters.reinjected_bytes > 0, "{counters:?}");
}
