//! In fallback, the subflow's FIN is the end of the stream, and the
//! application must hear of it even when the FIN comes alone, after the
//! data was read. Found by `mptcp soak` (seed 19): a client that fell back
//! at the SYN/ACK read the whole download and then waited forever; the
//! server's FIN had come in its own segment, and the subflow's "readable"
//! was dropped on its way up.

mod common;

use common::*;
use mptcp_proto::EndpointConfig;
use mptcp_proto::time::Duration;

#[test]
fn a_fallen_back_client_sees_the_end_of_the_stream_when_the_fin_comes_alone() {
    let mut mp = EndpointConfig::default();
    mp.mptcp.enabled = true;
    let mut tcp = EndpointConfig::default();
    tcp.mptcp.enabled = false;
    let link = LinkConfig { delay: Duration::from_millis(10), ..Default::default() };
    let mut p = Pair::with_links(mp, tcp, link.clone(), link, 5);
    let (a, b) = open(&mut p);
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(mptcp_proto::mptcp::Fallback::SynAckWithoutMpc)));
    let data: Vec<u8> = (0..3000u64).map(|i| pattern(i, 3)).collect();
    assert_eq!(p.b.write(b, &data).unwrap(), data.len());
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    assert!(
        p.run_until(Duration::from_secs(5), |p| {
            while let Ok(n @ 1..) = p.a.read(a, &mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            got.len() == data.len()
        }),
        "A read the data"
    );
    assert_eq!(got, data);
    // Everything read; now the FIN, alone.
    p.a_events.clear();
    p.b.shutdown(b).unwrap();
    assert!(
        p.run_until(Duration::from_secs(5), |p| p
            .a_events
            .iter()
            .any(|e| matches!(e, mptcp_proto::Event::Readable(id) if *id == a))),
        "A heard that the stream ended"
    );
    assert_eq!(p.a.read(a, &mut buf).unwrap(), 0, "the end of the stream");
}

/// A fallen-back client sends more than its send buffer holds: the room
/// that TCP's acknowledgments free must reach the application. Found by
/// `mptcp soak` (seeds 163, 321, 346) and on TUN with a Fast Open client:
/// the sender stopped at exactly 4 MiB.
#[test]
fn a_fallen_back_sender_moves_more_than_its_send_buffer() {
    let mut mp = EndpointConfig::default();
    mp.mptcp.enabled = true;
    let mut tcp = EndpointConfig::default();
    tcp.mptcp.enabled = false;
    let link = LinkConfig {
        delay: Duration::from_millis(5),
        rate_bps: 200_000_000,
        queue_bytes: 2_000_000,
        ..Default::default()
    };
    let mut p = Pair::with_links(mp, tcp, link.clone(), link, 6);
    let (a, b) = open(&mut p);
    assert_eq!(p.a.mptcp_fallback(a), Some(Some(mptcp_proto::mptcp::Fallback::SynAckWithoutMpc)));
    let total = 3 * mptcp_proto::EndpointConfig::default().tcp.send_buffer as u64 + 12_345;
    let mut ta = Bulk::new(total, 7, 0);
    let mut tb = Bulk::new(0, 0, 7);
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        tb.eof
    });
    assert!(done, "B read {} of {total}", tb.read);
    assert_eq!(tb.read, total);
    assert!(!tb.corrupt);
}
