//! RFC 8041 §3.6: an application that waits for its peer to close first
//! (to leave the TIME-WAIT states with the peer) must not end up with
//! subflows in TIME-WAIT anyway. After the active closer's DATA_FIN, the
//! passive closer answers with its own DATA_FIN and leaves the subflow FINs
//! to the peer: on every subflow, the first FIN is the active closer's.

mod common;

use common::{LinkConfig, Pair, closed, open, pkt};
use mptcp_proto::{CloseReason, Duration};
use std::collections::HashMap;

/// Reordering holds some packets back (a FIN on one path arriving after
/// the DATA_ACK on the other, as two paths of different delays do).
fn link(delay_ms: u64) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(delay_ms),
        rate_bps: 50_000_000,
        queue_bytes: 1_000_000,
        reorder: 0.3,
        reorder_extra: Duration::from_millis(5),
        ..Default::default()
    }
}

/// A closes first, B when it has read A's end of data; returns, per subflow
/// (by A's and B's ports), whether B sent a FIN before A's reached it.
fn close_order(seed: u64, delay_ms: u64) -> HashMap<(u16, u16), bool> {
    let mut p = Pair::new(common::fullmesh_cfg(), link(delay_ms), seed);
    let (a, b) = open(&mut p);
    let second: std::net::IpAddr = "10.0.1.1".parse().unwrap();
    p.a.add_address(second);
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).is_some_and(|c| c.joins == 1)));
    p.log = Some(Vec::new());
    // A sends 300 kB and closes; B reads to A's end of data, then closes.
    let data = vec![7u8; 300_000];
    let mut written = 0;
    let mut sink = [0u8; 4096];
    let mut read = 0;
    let mut a_closed = false;
    let done = p.run_until(Duration::from_secs(30), |p| {
        while written < data.len() {
            match p.a.write(a, &data[written..]) {
                Ok(n) if n > 0 => written += n,
                _ => break,
            }
        }
        if written == data.len() && !a_closed {
            p.a.close(a);
            a_closed = true;
        }
        loop {
            match p.b.read(b, &mut sink) {
                Ok(0) => return true,
                Ok(n) => read += n,
                Err(_) => return false,
            }
        }
    });
    assert!(done && read == data.len(), "B read {read} of {} and A's end", data.len());
    p.b.close(b);
    assert!(
        p.run_until(Duration::from_secs(30), |p| closed(&p.a_events, a).is_some() && closed(&p.b_events, b).is_some())
    );
    assert_eq!(closed(&p.a_events, a), Some(CloseReason::Normal));
    assert_eq!(closed(&p.b_events, b), Some(CloseReason::Normal));
    // Per subflow: whether B sent a FIN before one of A's had reached it
    // (then B closed it first, and it ends in TIME-WAIT on B's side).
    let log = p.log.take().unwrap();
    let mut b_first = HashMap::new();
    for (i, (from_a, packet)) in log.iter().enumerate() {
        if std::env::var("CLOSE_DEBUG").is_ok() && pkt::flags(packet) & 0x05 != 0 {
            eprintln!("{i} {} {:02x} {:?}", if *from_a { "A>" } else { "<B" }, pkt::flags(packet), pkt::ports(packet));
        }
        if *from_a || pkt::flags(packet) & 0x01 == 0 {
            continue;
        }
        let (bp, ap) = pkt::ports(packet);
        let a_fin_arrived = p
            .delivered
            .iter()
            .any(|(at, fa, d)| *at <= i && *fa && pkt::flags(d) & 0x01 != 0 && pkt::ports(d) == (ap, bp));
        b_first.entry((ap, bp)).or_insert(!a_fin_arrived);
    }
    b_first
}

#[test]
fn the_passive_closer_sends_no_first_fin() {
    for (seed, delay) in (1..=12).map(|s| (s, [10, 1, 25, 5, 0, 3][s as usize % 6])) {
        if std::env::var("CLOSE_DEBUG").is_ok() {
            eprintln!("== seed {seed}");
        }
        let order = close_order(seed, delay);
        assert_eq!(order.len(), 2, "B answered both subflows' FINs (seed {seed}): {order:?}");
        assert!(!order.values().any(|&b| b), "B closed a subflow first (seed {seed}, delay {delay} ms): {order:?}");
    }
}
