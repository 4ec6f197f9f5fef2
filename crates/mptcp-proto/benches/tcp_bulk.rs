//! How fast the TCP core moves bulk data in memory, on one core: two
//! endpoints hand each other packets directly (no link model, no copies but
//! the stack's own), with a virtual clock that advances 1 µs per exchange.
//!
//! Run: `cargo bench -p mptcp-proto --bench tcp_bulk`

use mptcp_proto::{Duration, Endpoint, EndpointConfig, Event, Instant};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant as Wall;

fn run(total: u64, mtu: usize) -> (f64, u64) {
    let cfg = EndpointConfig { mtu, ..Default::default() };
    let (a_ip, b_ip): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let mut a = Endpoint::new(cfg.clone(), 1);
    let mut b = Endpoint::new(cfg, 2);
    a.add_address(a_ip);
    b.add_address(b_ip);
    b.listen(80).unwrap();
    let mut now = Instant::ZERO;
    let ca = a.connect(now, a_ip, SocketAddr::new(b_ip, 80)).unwrap();
    let mut cb = None;
    let mut buf = vec![0u8; 65_536];
    let chunk = vec![0x5au8; 256 * 1024];
    let mut sink = vec![0u8; 256 * 1024];
    let (mut written, mut read) = (0u64, 0u64);
    let wall = Wall::now();
    let mut packets = 0u64;
    while read < total {
        now += Duration::from_micros(1);
        if written < total {
            let n = ((total - written) as usize).min(chunk.len());
            written += a.write(ca, &chunk[..n]).unwrap_or(0) as u64;
        }
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            b.handle(now, &buf[..n]);
            packets += 1;
        }
        while let Some(e) = b.poll_event() {
            if let Event::Accepted { id, .. } = e {
                cb = Some(id);
            }
        }
        if let Some(cb) = cb {
            while let Ok(n) = b.read(cb, &mut sink) {
                if n == 0 {
                    break;
                }
                read += n as u64;
            }
        }
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            a.handle(now, &buf[..n]);
            packets += 1;
        }
        while a.poll_event().is_some() {}
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now);
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now);
        }
    }
    let secs = wall.elapsed().as_secs_f64();
    (total as f64 * 8.0 / secs / 1e9, packets)
}

fn main() {
    for (mtu, total) in [(1500, 2_000_000_000u64), (9000, 4_000_000_000)] {
        let mut best = 0.0f64;
        let mut pkts = 0;
        for _ in 0..3 {
            let (gbps, p) = run(total, mtu);
            best = best.max(gbps);
            pkts = p;
        }
        println!("tcp core, in memory, one core, MTU {mtu}: {best:.2} Gbit/s ({pkts} packets per run, best of 3)");
    }
}
