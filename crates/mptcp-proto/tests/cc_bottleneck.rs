//! Congestion control on a rate-limited bottleneck with a drop-tail queue:
//! one flow fills it, two flows share it evenly. Figures are printed for the
//! record (`cargo test --release -- --nocapture`).

mod common;

use common::{Bulk, LinkConfig, Pair};
use mptcp_proto::{ConnId, Duration, EndpointConfig, Event, Instant};

const RATE: u64 = 20_000_000;
const ONE_WAY: Duration = Duration::from_millis(10);

fn bottleneck() -> LinkConfig {
    // One bandwidth-delay product of queue: 20 Mbit/s x 20 ms = 50 kB.
    LinkConfig { delay: ONE_WAY, rate_bps: RATE, queue_bytes: 50_000, ..Default::default() }
}

fn pair(cc: &str, seed: u64) -> Pair {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = false; // plain TCP: the controller under test runs alone
    cfg.tcp.cc = cc.to_owned();
    let back = LinkConfig { delay: ONE_WAY, ..Default::default() };
    let mut p = Pair::with_links(cfg.clone(), cfg, bottleneck(), back, seed);
    p.b.listen(80).unwrap();
    p
}

/// Opens `n` flows A→B; returns (client id, server id) pairs.
fn flows(p: &mut Pair, n: usize) -> Vec<(ConnId, ConnId)> {
    let server = p.server(80);
    let ids: Vec<ConnId> = (0..n).map(|_| p.a.connect(p.now, p.a_addr, server).unwrap()).collect();
    let accepted = |p: &Pair| p.b_events.iter().filter(|e| matches!(e, Event::Accepted { .. })).count();
    assert!(p.run_until(Duration::from_secs(5), |p| accepted(p) == n));
    let mut servers: Vec<(ConnId, std::net::SocketAddr)> = p
        .b_events
        .iter()
        .filter_map(|e| match e {
            Event::Accepted { id, remote, .. } => Some((*id, *remote)),
            _ => None,
        })
        .collect();
    ids.into_iter()
        .map(|a| {
            let local = p.a.local_addr(a).unwrap();
            let i = servers.iter().position(|(_, r)| *r == local).unwrap();
            (a, servers.remove(i).0)
        })
        .collect()
}

/// Runs senders for `secs`, returns bytes each receiver got between `from` and the end.
fn run(p: &mut Pair, ids: &[(ConnId, ConnId)], from: Duration, secs: u64) -> (Vec<u64>, f64) {
    let mut tx: Vec<Bulk> = ids.iter().map(|_| Bulk::new(u64::MAX / 2, 1, 1)).collect();
    let mut rx: Vec<Bulk> = ids.iter().map(|_| Bulk::new(0, 1, 1)).collect();
    let start = p.now;
    let mut at_from: Option<(Vec<u64>, u64, Instant)> = None;
    p.run_until(Duration::from_secs(secs), |p| {
        for (i, &(a, b)) in ids.iter().enumerate() {
            tx[i].pump(&mut p.a, a);
            rx[i].pump(&mut p.b, b);
        }
        if at_from.is_none() && p.now - start >= from {
            at_from = Some((rx.iter().map(|r| r.read).collect(), p.ab.bytes_delivered, p.now));
        }
        p.now - start >= Duration::from_secs(secs)
    });
    if std::env::var_os("CC_DEBUG").is_some() {
        for &(a, _) in ids {
            eprintln!("{:#?}", p.a.stats(a).unwrap());
        }
    }
    let (base, link_base, t0) = at_from.unwrap();
    let got: Vec<u64> = rx.iter().zip(&base).map(|(r, b)| r.read - b).collect();
    assert!(rx.iter().all(|r| !r.corrupt));
    let elapsed = (p.now - t0).as_secs_f64();
    let utilisation = (p.ab.bytes_delivered - link_base) as f64 * 8.0 / (RATE as f64 * elapsed);
    (got, utilisation)
}

fn single_flow_utilisation(cc: &str) -> f64 {
    let mut p = pair(cc, 21);
    let ids = flows(&mut p, 1);
    let (got, util) = run(&mut p, &ids, Duration::from_secs(5), 30);
    let goodput = got[0] as f64 * 8.0 / 25.0;
    eprintln!(
        "{cc}: one flow, 20 Mbit/s 20 ms bottleneck: link utilisation {:.1}%, goodput {:.2} Mbit/s",
        util * 100.0,
        goodput / 1e6
    );
    util
}

#[test]
fn reno_fills_the_bottleneck() {
    let u = single_flow_utilisation("reno");
    assert!(u >= 0.90, "reno utilisation {u:.3}");
}

#[test]
fn cubic_fills_the_bottleneck() {
    let u = single_flow_utilisation("cubic");
    assert!(u >= 0.90, "cubic utilisation {u:.3}");
}

fn two_flows_share(cc: &str) -> f64 {
    let mut p = pair(cc, 22);
    let ids = flows(&mut p, 2);
    let (got, util) = run(&mut p, &ids, Duration::from_secs(20), 60);
    let (x, y) = (got[0] as f64, got[1] as f64);
    let ratio = x.min(y) / x.max(y);
    eprintln!(
        "{cc}: two flows: {:.2} and {:.2} Mbit/s (ratio {:.3}), link utilisation {:.1}%",
        x * 8.0 / 40e6,
        y * 8.0 / 40e6,
        ratio,
        util * 100.0
    );
    ratio
}

#[test]
fn two_reno_flows_converge() {
    let r = two_flows_share("reno");
    assert!(r >= 0.8, "reno flows within 20% of each other: {r:.3}");
}

#[test]
fn two_cubic_flows_converge() {
    let r = two_flows_share("cubic");
    assert!(r >= 0.8, "cubic flows within 20% of each other: {r:.3}");
}
