//! One listener, 1,000 concurrent MPTCP connections: all accepted without
//! a drop or a cookie (`ListenDrops`, `TCPReqQFullDoCookies` stay 0, the
//! backlog is 1,024), each moving 16 kB each way byte for byte, and the
//! memory of the lot bounded per connection (an idle one gives back its
//! send queue's room); when they are closed, the listener holds nothing.

mod common;
mod hostile;

use common::{Bulk, Pair};
use hostile::{live_bytes, mptcp_cfg, peak_bytes, reset_peak};
use mptcp_proto::{ConnId, Duration, Event};

const CONNS: usize = 1000;

#[test]
fn a_thousand_concurrent_connections_on_one_listener() {
    let mut p = Pair::new(mptcp_cfg(), hostile::link(), 900);
    p.b.listen(80).unwrap();
    let start = live_bytes();
    reset_peak();
    let server = p.server(80);
    let clients: Vec<ConnId> = (0..CONNS).map(|_| p.a.connect(p.now, p.a_addr, server).unwrap()).collect();
    let mut servers: Vec<ConnId> = Vec::new();
    let accept = |p: &mut Pair, servers: &mut Vec<ConnId>| {
        while let Some(e) = p.b_events.pop_front() {
            if let Event::Accepted { id, .. } = e {
                servers.push(id);
            }
        }
        p.a_events.clear();
    };
    let all = p.run_until(Duration::from_secs(30), |p| {
        accept(p, &mut servers);
        servers.len() == CONNS
    });
    assert!(all, "{} of {CONNS} accepted: {:?}", servers.len(), p.b.stats_endpoint());
    assert_eq!(p.b.connection_count(), CONNS);
    let per_conn = (live_bytes() - start) / CONNS as i64;
    // Which client is which server: B's connection's remote port is A's local one.
    let port_of = |ep: &mptcp_proto::Endpoint, id: ConnId, remote: bool| {
        let addr = if remote { ep.remote_addr(id) } else { ep.local_addr(id) };
        addr.unwrap().port()
    };
    let mut pairs: Vec<(ConnId, ConnId)> = Vec::new();
    let by_port: std::collections::HashMap<u16, ConnId> =
        servers.iter().map(|&s| (port_of(&p.b, s, true), s)).collect();
    for &c in &clients {
        pairs.push((c, by_port[&port_of(&p.a, c, false)]));
    }
    let n = 16_000u64;
    let mut bulks: Vec<(Bulk, Bulk)> =
        (0..CONNS).map(|k| (Bulk::new(n, k as u8, k as u8 ^ 0x80), Bulk::new(n, k as u8 ^ 0x80, k as u8))).collect();
    // Pumped when their endpoint said something of them (all, at first):
    // pumping every connection at every step would cost the test minutes.
    let index_a: std::collections::HashMap<ConnId, usize> = pairs.iter().enumerate().map(|(k, p)| (p.0, k)).collect();
    let index_b: std::collections::HashMap<ConnId, usize> = pairs.iter().enumerate().map(|(k, p)| (p.1, k)).collect();
    let mut due: Vec<usize> = (0..CONNS).collect();
    let mut finished = 0;
    let done = p.run_until(Duration::from_secs(120), |p| {
        let id_of = |e: &Event| match *e {
            Event::Readable(id) | Event::Writable(id) | Event::Closed { id, .. } => Some(id),
            _ => None,
        };
        due.extend(p.a_events.drain(..).filter_map(|e| id_of(&e)).filter_map(|id| index_a.get(&id).copied()));
        due.extend(p.b_events.drain(..).filter_map(|e| id_of(&e)).filter_map(|id| index_b.get(&id).copied()));
        due.sort_unstable();
        due.dedup();
        for k in due.drain(..) {
            let (c, s) = pairs[k];
            let (ta, tb) = &mut bulks[k];
            let was = ta.eof && tb.eof;
            ta.pump(&mut p.a, c);
            tb.pump(&mut p.b, s);
            finished += usize::from(!was && ta.eof && tb.eof);
        }
        finished == CONNS
    });
    let short = bulks.iter().filter(|(a, b)| a.read != n || b.read != n).count();
    assert!(done, "{short} transfers short at {:?}", p.now);
    assert!(bulks.iter().all(|(a, b)| !a.corrupt && !b.corrupt && a.read == n && b.read == n), "data differs");
    let stats = p.b.stats_endpoint().clone();
    assert_eq!((stats.listen_drops, stats.req_q_full_do_cookies, stats.req_q_full_drop), (0, 0, 0), "{stats:?}");
    let peak = peak_bytes();
    eprintln!(
        "{CONNS} connections: {} kB each once established (both ends), peak {} MB for all, {} MB after the transfers",
        per_conn >> 10,
        peak >> 20,
        (live_bytes() - start) >> 20
    );
    // Both endpoints' connections, once established: a few tens of kB each
    // (buffers grow only with data).
    assert!(per_conn < 64 << 10, "{per_conn} bytes per connection");
    assert!(peak < (CONNS as i64) * (512 << 10), "peak {peak}");
    // Idle again, each pair keeps its receive buffers' 16 kB of ring each
    // way, not its send queue's 64 kB tail.
    let idle = live_bytes() - start;
    assert!(idle < (CONNS as i64) * (64 << 10), "{idle} bytes held by idle connections");
    // Closed, they leave nothing behind at the listener.
    for &(c, s) in &pairs {
        p.a.close(c);
        p.b.close(s);
    }
    p.run_until(Duration::from_secs(300), |p| {
        p.a_events.clear();
        p.b_events.clear();
        p.b.connection_count() == 0 && p.a.connection_count() == 0
    });
    assert_eq!((p.a.connection_count(), p.b.connection_count()), (0, 0));
}
