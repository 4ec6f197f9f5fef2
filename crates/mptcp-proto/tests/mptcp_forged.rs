//! Segments forged by someone who saw a subflow's packets but not where its
//! window is: outside the receive window they are only acknowledged, and
//! their MPTCP options (or the lack of them) change nothing. Found by the
//! `endpoints` fuzz target: an out-of-window ACK without MP_CAPABLE, reaching
//! the server before the real third ACK, made it fall back to TCP while the
//! client stayed MPTCP; the client's data-level retransmission then reached
//! the server's application a second time, as if it were new bytes.

mod common;

use common::*;
use mptcp_proto::EndpointConfig;
use mptcp_proto::time::Duration;

/// A handshake where `forge` makes a copy of A's third ACK that reaches B
/// first (without MPTCP options, no payload); then 1 MiB each way.
fn handshake_with_forged_third_ack(seed: u64, forge: impl Fn(&mut Vec<u8>, usize)) {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        rate_bps: 100_000_000,
        queue_bytes: 1_000_000,
        ..Default::default()
    };
    let mut p = Pair::new(cfg, link, seed);
    p.b.listen(80).unwrap();
    let a = p.a.connect(p.now, p.a_addr, p.server(80)).unwrap();
    let far = p.now + Duration::from_secs(1);
    // The SYN to B, its SYN/ACK to A.
    syn_and_synack(&mut p, far);
    let third = p.ab.take_due(far);
    assert!(!third.is_empty(), "A sent its third ACK");
    let mut forged = third[0].clone();
    let (ihl, th) = pkt::lens(&forged);
    forged.truncate(ihl + th);
    forge(&mut forged, ihl);
    pkt::strip_mptcp(&mut forged);
    p.b.handle(p.now, &forged);
    for pkt in third {
        p.b.handle(p.now, &pkt);
    }
    assert!(p.run_until(Duration::from_secs(5), |p| accepted(p).is_some()), "B accepted");
    let b = accepted(&p).unwrap();
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "B is still MPTCP");
    transfer(&mut p, a, b, 1 << 20, Duration::from_secs(60));
    assert_eq!(p.a.mptcp_fallback(a), Some(None));
}

#[test]
fn an_out_of_window_ack_without_mp_capable_does_not_make_the_server_fall_back() {
    // 3000 bytes behind the window.
    handshake_with_forged_third_ack(80, |p, ihl| {
        let seq = pkt::seq(p).wrapping_sub(3000);
        p[ihl + 4..ihl + 8].copy_from_slice(&seq.to_be_bytes());
    });
}

#[test]
fn an_ack_of_nothing_sent_does_not_make_the_server_fall_back() {
    // In the window, but acknowledging what B never sent: in SYN-RECEIVED
    // that gets a RST of its own (RFC 9293 §3.10.7.4), nothing more.
    handshake_with_forged_third_ack(81, |p, ihl| {
        p[ihl + 8..ihl + 12].copy_from_slice(&16u32.to_be_bytes());
    });
}
