//! TCP between two in-memory endpoints over an impairing link: transfers
//! verified byte for byte, the handshake and close in all their forms, RSTs,
//! zero windows, and a peer that never answers.

mod common;

use common::{Bulk, LinkConfig, Pair};
use mptcp_proto::{CloseReason, ConnId, Duration, EndpointConfig, Event};

const MB: u64 = 1_000_000;

fn accepted(p: &mut Pair) -> Option<ConnId> {
    p.b_events.iter().find_map(|e| match e {
        Event::Accepted { id, .. } => Some(*id),
        _ => None,
    })
}

fn closed(events: &std::collections::VecDeque<Event>, id: ConnId) -> Option<CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed { id: i, reason } if *i == id => Some(*reason),
        _ => None,
    })
}

/// Opens a connection A→B and returns both ids.
fn open(p: &mut Pair) -> (ConnId, ConnId) {
    p.b.listen(80).unwrap();
    let server = p.server(80);
    let a = p.a.connect(p.now, p.a_addr, server).unwrap();
    assert!(p.run_until(Duration::from_secs(30), |p| accepted(p).is_some()), "handshake");
    let b = accepted(p).unwrap();
    (a, b)
}

/// Moves `n` bytes each way, closes both sides, checks everything.
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
    let mut p = Pair::new(EndpointConfig::default(), lossy(0.0), 1);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(60));
}

#[test]
fn ten_mb_each_way_one_percent_loss_with_reordering() {
    let mut p = Pair::new(EndpointConfig::default(), lossy(0.01), 2);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(300));
}

#[test]
fn ten_mb_each_way_five_percent_loss_with_reordering() {
    let mut p = Pair::new(EndpointConfig::default(), lossy(0.05), 3);
    bulk_both_ways(&mut p, 10 * MB, Duration::from_secs(900));
}
