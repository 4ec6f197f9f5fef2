//! Data the client writes before its handshake completes, when the segments
//! that carry MP_CAPABLE are lost and a later one with a DSS only reaches
//! the server first. Found by the `endpoints` fuzz target.

mod common;

use common::*;
use mptcp_proto::EndpointConfig;
use mptcp_proto::time::Duration;

/// Not forged, only reordered: the client's data goes out before the
/// handshake completes, MP_CAPABLE on its first mapping and a DSS on the
/// next; the first segments are lost, so the server's half-open connection
/// sees data with a DSS only and falls back (as Linux's does). Its ACK has
/// no DSS, and the client falls back at it (RFC 8684 §3.7). Before the fix
/// the client stayed MPTCP: with no DATA_ACK ever coming, its data-level
/// retransmissions put the stream on the subflow again and again, at new
/// subflow sequence numbers, and B read 21,475 bytes of A's 4,295. A
/// fallback that kept the data level's unacknowledged bytes would send them
/// a second time too: what is on the subflow is TCP's to deliver.
#[test]
fn the_client_falls_back_when_the_server_acknowledges_its_data_without_a_dss() {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        rate_bps: 100_000_000,
        queue_bytes: 1_000_000,
        ..Default::default()
    };
    let mut p = Pair::new(cfg, link, 82);
    p.b.listen(80).unwrap();
    let a = p.a.connect(p.now, p.a_addr, p.server(80)).unwrap();
    let data: Vec<u8> = (0..4295u64).map(|i| pattern(i, 1)).collect();
    assert_eq!(p.a.write(a, &data).unwrap(), data.len());
    let far = p.now + Duration::from_secs(1);
    syn_and_synack(&mut p, far);
    let sent = p.ab.take_due(far);
    assert!(sent.len() >= 3, "A sent its data: {} segments", sent.len());
    // Only the last one arrives: a DSS mapping, no MP_CAPABLE.
    p.b.handle(p.now, sent.last().unwrap());
    let mut tb = Bulk::new(0, 2, 1);
    let done = p.run_until(Duration::from_secs(30), |p| {
        if let Some(b) = accepted(p) {
            tb.pump(&mut p.b, b);
        }
        tb.read >= data.len() as u64
    });
    assert!(done, "B read {} of {}", tb.read, data.len());
    assert!(!tb.corrupt, "B read the stream as A wrote it");
    let b = accepted(&p).unwrap();
    assert_eq!(p.b.mptcp_fallback(b), Some(Some(mptcp_proto::mptcp::Fallback::AckWithoutMpc)));
    // The client followed at the server's plain ACK of its data.
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(mptcp_proto::mptcp::Fallback::DataAckedWithoutDss)));
    // Nothing more than what A wrote arrives.
    p.run_until(Duration::from_secs(5), |_| false);
    tb.pump(&mut p.b, b);
    assert_eq!(tb.read, data.len() as u64, "B read more than A wrote");
}
