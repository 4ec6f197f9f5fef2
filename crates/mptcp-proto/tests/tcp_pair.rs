//! TCP between two in-memory endpoints over an impairing link: transfers
//! verified byte for byte, the handshake and close in all their forms, RSTs,
//! zero windows, and a peer that never answers.

mod common;

use common::{Bulk, LinkConfig, Pair, accepted, closed, open};
use mptcp_proto::{CloseReason, ConnId, Duration, EndpointConfig, Event};

const MB: u64 = 1_000_000;

/// Moves `n` bytes each way, closes both sides, checks everything.
/// Plain TCP: these tests are about one TCP connection, so MPTCP (on by
/// default) is turned off.
fn tcp() -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = false;
    cfg
}

fn bulk_both_ways(p: &mut Pair, n: u64, limit: Duration) -> (ConnId, ConnId) {
    let (a, b) = open(p);
    let mut ta = Bulk::new(n, 1, 2);
    let mut tb = Bulk::new(n, 2, 1);
    let done = p.run_until(limit, |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        ta.eof && tb.eof && ta.shut && tb.shut
    });
    let (sa, sb) = (p.a.stats(a).unwrap(), p.b.stats(b).unwrap());
    assert!(done, "transfer stalled at t={:?}: a read {} b read {}\na {sa:#?}\nb {sb:#?}", p.now, ta.read, tb.read);
    assert_eq!((ta.read, tb.read), (n, n));
    assert!(!ta.corrupt && !tb.corrupt, "data differs");
    p.a.close(a);
    p.b.close(b);
    let both_closed =
        p.run_until(Duration::from_secs(200), |p| closed(&p.a_events, a).is_some() && closed(&p.b_events, b).is_some());
    assert!(both_closed, "close: a {:?} b {:?}", p.a.state(a), p.b.state(b));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Normal));
    assert_eq!(closed(&p.b_events, b), Some(CloseReason::Normal));
    assert_eq!(p.a.connection_count() + p.b.connection_count(), 0, "both forgot the connection");
    (a, b)
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        rate_bps: 200_000_000,
        queue_bytes: 2_000_000,
        loss,
        reorder: loss,
        reorder_extra: Duration::from_millis(3),
        duplicate: loss / 2.0,
    }
}

#[test]
fn ten_mb_each_way_clean() {
    let mut p = Pair::new(tcp(), lossy(0.0), 1);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(60));
}

#[test]
fn ten_mb_each_way_one_percent_loss_with_reordering() {
    let mut p = Pair::new(tcp(), lossy(0.01), 2);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(300));
}

#[test]
fn ten_mb_each_way_five_percent_loss_with_reordering() {
    let mut p = Pair::new(tcp(), lossy(0.05), 3);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(900));
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

fn quick() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(5), ..Default::default() }
}

#[test]
fn sequence_numbers_across_the_2_32_wrap() {
    // Both ISNs 100 kB below 2^32: the 1 MB each way crosses the wrap.
    let cfg = EndpointConfig { fixed_isn: Some(u32::MAX - 100_000), ..tcp() };
    let mut p = Pair::new(cfg, lossy(0.01), 4);
    bulk_both_ways(&mut p, MB, Duration::from_secs(120));
}

#[test]
fn simultaneous_open_then_simultaneous_close() {
    let mut p = Pair::new(tcp(), quick(), 5);
    let (la, lb) = (std::net::SocketAddr::new(p.a_addr, 5000), std::net::SocketAddr::new(p.b_addr, 6000));
    let a = p.a.connect_from(p.now, la, lb).unwrap();
    let b = p.b.connect_from(p.now, lb, la).unwrap();
    let connected = |ev: &std::collections::VecDeque<Event>, id| ev.contains(&Event::Connected(id));
    assert!(p.run_until(Duration::from_secs(10), |p| connected(&p.a_events, a) && connected(&p.b_events, b)));
    let mut ta = Bulk::new(100_000, 1, 2);
    let mut tb = Bulk::new(100_000, 2, 1);
    assert!(p.run_until(Duration::from_secs(10), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        ta.read == 100_000 && tb.read == 100_000
    }));
    // Both FINs cross in flight: CLOSING on both sides, then TIME-WAIT.
    p.a.close(a);
    p.b.close(b);
    p.flush();
    p.run_until(Duration::from_millis(50), |p| p.a.state(a) == Some(mptcp_proto::State::TimeWait));
    assert_eq!(p.a.state(a), Some(mptcp_proto::State::TimeWait));
    assert_eq!(p.b.state(b), Some(mptcp_proto::State::TimeWait));
    assert!(p.run_until(Duration::from_secs(200), |p| p.a.connection_count() + p.b.connection_count() == 0));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Normal));
}

#[test]
fn syn_and_fin_are_retransmitted() {
    let mut p = Pair::new(tcp(), quick(), 6);
    // Lose the first SYN and the first FIN A sends.
    let (mut syns, mut fins) = (0, 0);
    p.ab.filter = Some(Box::new(move |pkt| {
        let f = common::tcp_flags(pkt);
        if f & SYN != 0 {
            syns += 1;
            return syns == 1;
        }
        if f & FIN != 0 {
            fins += 1;
            return fins == 1;
        }
        false
    }));
    let t0 = p.now;
    let (a, b) = open(&mut p);
    assert!(p.now - t0 >= Duration::from_secs(1), "the SYN came again after the initial RTO");
    p.a.shutdown(a).unwrap();
    let mut buf = [0u8; 16];
    assert!(p.run_until(Duration::from_secs(10), |p| p.b.read(b, &mut buf) == Ok(0)), "FIN arrived");
    assert!(p.a.stats(a).unwrap().retransmits >= 1);
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let mut p = Pair::new(tcp(), quick(), 7);
    let a = p.a.connect(p.now, p.a_addr, p.server(81)).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| closed(&p.a_events, a).is_some()));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Refused));
    assert_eq!(p.b.stats_endpoint().out_rsts, 1);
}

/// Brings a connection to a state on A's side, then B aborts; A must see a reset.
fn reset_in(state: mptcp_proto::State) {
    let mut p = Pair::new(tcp(), quick(), 8);
    let (a, b) = open(&mut p);
    match state {
        mptcp_proto::State::Established => {}
        mptcp_proto::State::FinWait2 => {
            p.a.shutdown(a).unwrap();
        }
        mptcp_proto::State::CloseWait => {
            p.b.shutdown(b).unwrap();
        }
        _ => unreachable!("not exercised here"),
    }
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.state(a) == Some(state)), "{state:?}");
    p.b.abort(b);
    assert!(p.run_until(Duration::from_secs(5), |p| closed(&p.a_events, a).is_some()));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Reset), "{state:?}");
    assert_eq!(closed(&p.b_events, b), Some(CloseReason::Aborted));
    // Reading after the reset: the end of the stream if the peer's FIN came
    // first (CLOSE-WAIT), an error otherwise.
    let mut buf = [0u8; 8];
    let want = if state == mptcp_proto::State::CloseWait { Ok(0) } else { Err(mptcp_proto::Error::NotConnected) };
    assert_eq!(p.a.read(a, &mut buf), want, "{state:?}");
}

#[test]
fn rst_in_every_synchronized_state() {
    reset_in(mptcp_proto::State::Established);
    reset_in(mptcp_proto::State::FinWait2);
    reset_in(mptcp_proto::State::CloseWait);
}

#[test]
fn rst_during_the_handshake_and_in_time_wait() {
    // SYN-RECEIVED: the client's third ACK is lost and the client gives up with a RST.
    let mut p = Pair::new(tcp(), quick(), 9);
    p.b.listen(80).unwrap();
    p.ab.filter = Some(Box::new(|pkt| common::tcp_flags(pkt) == ACK));
    let server = p.server(80);
    let a = p.a.connect(p.now, p.a_addr, server).unwrap();
    assert!(p.run_until(Duration::from_secs(2), |p| p.a_events.contains(&Event::Connected(a))));
    assert_eq!(p.b.connection_count(), 1, "B is in SYN-RECEIVED");
    p.ab.filter = None;
    p.a.abort(a);
    assert!(p.run_until(Duration::from_secs(2), |p| p.b.connection_count() == 0), "B dropped it");
    assert!(accepted(&p).is_none(), "never announced");

    // TIME-WAIT ignores a RST (RFC 1337), even one with the exact sequence number.
    let mut p = Pair::new(tcp(), quick(), 10);
    let (a, b) = open(&mut p);
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<Vec<u8>>::new()));
    let log = seen.clone();
    p.ba.filter = Some(Box::new(move |pkt| {
        log.borrow_mut().push(pkt.to_vec());
        false
    }));
    p.a.close(a);
    assert!(p.run_until(Duration::from_secs(2), |p| p.b.state(b) == Some(mptcp_proto::State::CloseWait)));
    p.b.close(b);
    assert!(p.run_until(Duration::from_secs(2), |p| p.a.state(a) == Some(mptcp_proto::State::TimeWait)));
    let mut rst = seen.borrow().iter().rev().find(|pk| common::tcp_flags(pk) & FIN != 0).unwrap().clone();
    let ihl = usize::from(rst[0] & 0x0f) * 4;
    let seq = u32::from_be_bytes([rst[ihl + 4], rst[ihl + 5], rst[ihl + 6], rst[ihl + 7]]);
    rst[ihl + 4..ihl + 8].copy_from_slice(&seq.wrapping_add(1).to_be_bytes());
    rst[ihl + 13] = RST;
    fix_checksums(&mut rst);
    p.a.handle(p.now, &rst);
    assert_eq!(p.a.state(a), Some(mptcp_proto::State::TimeWait));
}

#[test]
fn zero_window_then_recovery() {
    let mut cfg = tcp();
    cfg.tcp.recv_buffer = 32 * 1024;
    let mut p = Pair::new(cfg, quick(), 12);
    let (a, b) = open(&mut p);
    let mut tx = Bulk::new(500_000, 1, 2);
    // B does not read for 3 seconds: A fills the window, then probes.
    p.run_until(Duration::from_secs(3), |p| {
        tx.pump(&mut p.a, a);
        false
    });
    let stalled = p.a.stats(a).unwrap();
    assert_eq!(stalled.snd_wnd, 0, "the window closed");
    assert!(stalled.bytes_acked <= 32 * 1024);
    let mut rx = Bulk::new(0, 2, 1);
    assert!(p.run_until(Duration::from_secs(60), |p| {
        tx.pump(&mut p.a, a);
        rx.pump(&mut p.b, b);
        rx.eof
    }));
    assert_eq!(rx.read, 500_000);
    assert!(!rx.corrupt);
    assert!(closed(&p.a_events, a).is_none() && closed(&p.b_events, b).is_none(), "no reset");
}

#[test]
fn a_peer_that_never_acks_times_out_with_bounded_memory() {
    let mut cfg = tcp();
    cfg.tcp.max_retransmissions = 6;
    cfg.tcp.send_buffer = 256 * 1024;
    let mut p = Pair::new(cfg, quick(), 13);
    let (a, _b) = open(&mut p);
    // From now on B's packets vanish.
    p.ba.filter = Some(Box::new(|_| true));
    let mut tx = Bulk::new(10 * MB, 1, 2);
    assert!(p.run_until(Duration::from_secs(600), |p| {
        tx.pump(&mut p.a, a);
        closed(&p.a_events, a).is_some()
    }));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::TimedOut));
    assert!(tx.written <= 256 * 1024, "writes stopped at the send buffer: {}", tx.written);
    assert_eq!(p.a.write(a, b"more"), Err(mptcp_proto::Error::NotConnected));
}

#[test]
fn blind_rst_and_syn_get_challenge_acks() {
    let mut p = Pair::new(tcp(), quick(), 14);
    let (a, b) = open(&mut p);
    // B's next segment is rewritten into a RST whose sequence number is in the
    // window but not exact (RFC 5961 §3): A must not reset.
    p.ba.filter = None;
    let mut sent_one = false;
    let mut tb = Bulk::new(10_000, 2, 1);
    tb.pump(&mut p.b, b);
    p.flush();
    let pkts = p.ba.take_due(p.now + Duration::from_secs(1));
    assert!(!pkts.is_empty());
    for mut pkt in pkts {
        if !sent_one && common::tcp_payload_len(&pkt) > 0 {
            sent_one = true;
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            let seq = u32::from_be_bytes([pkt[ihl + 4], pkt[ihl + 5], pkt[ihl + 6], pkt[ihl + 7]]);
            pkt[ihl + 4..ihl + 8].copy_from_slice(&(seq + 100).to_be_bytes());
            pkt[ihl + 13] = RST | ACK;
            let len = pkt.len();
            pkt.truncate(ihl + 20);
            pkt[ihl + 12] = 5 << 4;
            pkt[2..4].copy_from_slice(&((ihl + 20) as u16).to_be_bytes());
            let _ = len;
            fix_checksums(&mut pkt);
            p.a.handle(p.now, &pkt);
        }
    }
    p.flush();
    assert!(p.a.stats(a).unwrap().challenge_acks >= 1);
    assert!(closed(&p.a_events, a).is_none(), "the blind RST did not reset A");
    // The data still gets through (the real segments are retransmitted).
    let mut ta = Bulk::new(0, 1, 2);
    assert!(p.run_until(Duration::from_secs(10), |p| {
        tb.pump(&mut p.b, b);
        ta.pump(&mut p.a, a);
        ta.eof
    }));
    assert_eq!(ta.read, 10_000);
}

/// Recomputes the IPv4 header and TCP checksums of a doctored packet.
fn fix_checksums(pkt: &mut [u8]) {
    use mptcp_wire::checksum::checksum;
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    pkt[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&pkt[..ihl]);
    pkt[10..12].copy_from_slice(&c.to_be_bytes());
    let src = std::net::IpAddr::from([pkt[12], pkt[13], pkt[14], pkt[15]]);
    let dst = std::net::IpAddr::from([pkt[16], pkt[17], pkt[18], pkt[19]]);
    let (_, tcp) = pkt.split_at_mut(ihl);
    tcp[16..18].copy_from_slice(&[0, 0]);
    let c = mptcp_wire::tcp::tcp_checksum(src, dst, tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
}

/// Parks A in `state` by holding back B's pure ACKs, then B aborts: A must see a reset.
fn reset_while_acks_are_held(state: mptcp_proto::State) {
    let mut p = Pair::new(tcp(), quick(), 15);
    let (a, b) = open(&mut p);
    // From here on, B's segments without payload, FIN or RST are lost (its ACKs).
    p.ba.filter = Some(Box::new(|pkt| {
        let f = common::tcp_flags(pkt);
        common::tcp_payload_len(pkt) == 0 && f & (FIN | RST) == 0
    }));
    match state {
        // Our FIN is not acknowledged.
        mptcp_proto::State::FinWait1 => p.a.shutdown(a).unwrap(),
        // Both FINs cross, neither acknowledged.
        mptcp_proto::State::Closing => {
            p.a.shutdown(a).unwrap();
            p.b.shutdown(b).unwrap();
        }
        // The peer closed first; our FIN is not acknowledged.
        mptcp_proto::State::LastAck => {
            p.b.shutdown(b).unwrap();
            assert!(p.run_until(Duration::from_secs(2), |p| p.a.state(a) == Some(mptcp_proto::State::CloseWait)));
            p.a.shutdown(a).unwrap();
        }
        _ => unreachable!("not exercised here"),
    }
    assert!(p.run_until(Duration::from_millis(300), |p| p.a.state(a) == Some(state)), "{state:?}: {:?}", p.a.state(a));
    p.b.abort(b);
    assert!(p.run_until(Duration::from_secs(5), |p| closed(&p.a_events, a).is_some()), "{state:?}");
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Reset), "{state:?}");
}

#[test]
fn rst_in_the_closing_states() {
    reset_while_acks_are_held(mptcp_proto::State::FinWait1);
    reset_while_acks_are_held(mptcp_proto::State::Closing);
    reset_while_acks_are_held(mptcp_proto::State::LastAck);
}

#[test]
fn keepalive_probes_an_idle_peer_and_gives_up_on_a_dead_one() {
    let mut cfg = tcp();
    cfg.tcp.keepalive =
        Some(mptcp_proto::tcp::KeepAlive { idle: Duration::from_secs(10), interval: Duration::from_secs(2), count: 3 });
    let mut p = Pair::new(cfg, quick(), 16);
    let (a, _b) = open(&mut p);
    // An idle but live peer answers the probes: the connection stays.
    assert!(!p.run_until(Duration::from_secs(60), |p| closed(&p.a_events, a).is_some()));
    let probes_answered = p.a.stats(a).unwrap().segments_received;
    assert!(probes_answered >= 4, "keepalives were answered: {probes_answered}");
    // A dead peer: after 10 s idle and 3 probes 2 s apart, A gives up.
    p.ba.filter = Some(Box::new(|_| true));
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(60), |p| closed(&p.a_events, a).is_some()));
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::TimedOut));
    let waited = p.now - t0;
    assert!(waited <= Duration::from_secs(20), "gave up after {waited:?}");
}

#[test]
fn nagle_holds_small_segments_while_data_is_unacknowledged() {
    let count_small = |nagle: bool| {
        let mut cfg = tcp();
        cfg.tcp.nagle = nagle;
        let mut p = Pair::new(cfg, LinkConfig { delay: Duration::from_millis(20), ..Default::default() }, 17);
        let (a, b) = open(&mut p);
        let small = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let s = small.clone();
        p.ab.filter = Some(Box::new(move |pkt| {
            if common::tcp_payload_len(pkt) > 0 {
                s.set(s.get() + 1);
            }
            false
        }));
        // 100 writes of 10 bytes, each followed by draining the stack's output,
        // all at one instant: only Nagle's rule holds them back.
        let mut rx = Bulk::new(0, 0, 0);
        for _ in 0..100 {
            p.a.write(a, &[0u8; 10]).unwrap();
            p.flush();
        }
        p.run_until(Duration::from_secs(2), |p| {
            rx.pump(&mut p.b, b);
            rx.read == 1000
        });
        assert_eq!(rx.read, 1000);
        small.get()
    };
    let (with, without) = (count_small(true), count_small(false));
    assert_eq!(without, 100, "TCP_NODELAY behaviour: every write is a segment");
    assert_eq!(with, 2, "Nagle: the first write, then the other 99 in one segment after its ACK");
}

#[test]
fn data_written_before_the_handshake_rides_the_third_ack() {
    let mut p = Pair::new(tcp(), quick(), 18);
    p.b.listen(80).unwrap();
    let server = p.server(80);
    let a = p.a.connect(p.now, p.a_addr, server).unwrap();
    // Queued in SYN-SENT: it leaves with (or right after) the ACK that completes the handshake.
    assert_eq!(p.a.write(a, &[7u8; 5000]), Ok(5000));
    let mut rx = Bulk::new(0, 0, 0);
    assert!(p.run_until(Duration::from_secs(2), |p| {
        if let Some(b) = accepted(p) {
            rx.read += {
                let mut buf = [0u8; 8192];
                p.b.read(b, &mut buf).unwrap_or(0) as u64
            };
        }
        rx.read == 5000
    }));
    let s = p.a.stats(a).unwrap();
    assert_eq!((s.retransmits, s.recoveries), (0, 0), "accepted at once, not recovered: {s:?}");
}

/// A transmit buffer too small for one packet gets nothing and loses
/// nothing: the bytes go out whole on the next call with a proper buffer,
/// with no retransmission (the segment used to be counted as sent before it
/// was written, and was then recovered by loss detection).
#[test]
fn a_short_transmit_buffer_loses_nothing() {
    let mut p = Pair::new(tcp(), quick(), 95);
    let (a, b) = open(&mut p);
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(p.a.write(a, &data).unwrap(), data.len());
    let mut short = [0u8; 200];
    assert_eq!(p.a.poll_transmit(p.now, &mut short), None);
    let mut got = Vec::new();
    let done = p.run_until(Duration::from_secs(10), |p| {
        let mut buf = [0u8; 65536];
        while let Ok(n) = p.b.read(b, &mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got.len() == data.len()
    });
    assert!(done, "{} of {} bytes arrived", got.len(), data.len());
    assert_eq!(got, data);
    let s = p.a.stats(a).unwrap();
    assert_eq!((s.retransmits, s.timeouts), (0, 0), "{s:#?}");
}
