//! How fast the core moves bulk data in memory, on one core: two endpoints
//! hand each other packets directly (no link model, no copies but the
//! stack's own), on a virtual clock that advances 1 µs per exchange. TCP and
//! MPTCP over two subflows, each with MSS-sized segments and with 64 KiB
//! segmentation offload (how the TUN driver runs it). The sender writes with
//! `write_bytes` (no copy in), the receiver reads into its own buffer.
//!
//! Run: `cargo bench -p mptcp-proto --bench core_bulk`. Criterion prints the
//! throughput of each case (GiB/s of payload moved per second of wall time;
//! times 8.59 for Gbit/s), and a line in Gbit/s per case at the end.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mptcp_proto::pm::EndpointFlags;
use mptcp_proto::{ConnId, Duration, Endpoint, EndpointConfig, Event, Instant};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant as Wall;

struct Case {
    name: &'static str,
    mptcp: bool,
    gso: bool,
}

fn config(case: &Case) -> EndpointConfig {
    let mut cfg = EndpointConfig { mtu: 1500, ..Default::default() };
    cfg.mptcp.enabled = case.mptcp;
    if case.gso {
        cfg.tcp.gso_max_size = 65_535;
        cfg.tcp.checksum_offload = true;
    }
    cfg
}

/// Moves `total` bytes from a to b; returns Gbit/s of wall time and packets.
fn run(case: &Case, total: u64) -> (f64, u64, usize) {
    let cfg = config(case);
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let (a1, a2, b1) = (ip("10.0.0.1"), ip("10.0.1.1"), ip("10.0.0.2"));
    let mut a = Endpoint::new(cfg.clone(), 1);
    let mut b = Endpoint::new(cfg, 2);
    a.add_address(a1);
    if case.mptcp {
        a.add_endpoint(a2, EndpointFlags::parse("subflow").unwrap(), None);
    }
    b.add_address(b1);
    b.listen(80).unwrap();
    let mut now = Instant::ZERO;
    let ca = a.connect(now, a1, SocketAddr::new(b1, 80)).unwrap();
    let mut cb: Option<ConnId> = None;
    let mut buf = vec![0u8; 65_536];
    let block = Bytes::from(vec![0x5au8; 256 * 1024]);
    let mut sink = vec![0u8; 256 * 1024];
    let (mut written, mut read, mut packets) = (0u64, 0u64, 0u64);
    let csum = case.gso;
    let wall = Wall::now();
    while read < total {
        now += Duration::from_micros(1);
        while written < total {
            let n = ((total - written) as usize).min(block.len());
            match a.write_bytes(ca, block.slice(..n)) {
                Ok(0) | Err(_) => break,
                Ok(k) => written += k as u64,
            }
        }
        while let Some(t) = a.poll_transmit_gso(now, &mut buf) {
            b.handle_offloaded(now, &buf[..t.len], csum);
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
        while let Some(t) = b.poll_transmit_gso(now, &mut buf) {
            a.handle_offloaded(now, &buf[..t.len], csum);
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
    let subflows = a.subflow_stats(ca).map_or(1, |s| s.iter().filter(|s| s.bytes_sent > 0).count());
    (total as f64 * 8.0 / secs / 1e9, packets, subflows)
}

const CASES: [Case; 4] = [
    Case { name: "tcp-mss", mptcp: false, gso: false },
    Case { name: "tcp-gso64k", mptcp: false, gso: true },
    Case { name: "mptcp2-mss", mptcp: true, gso: false },
    Case { name: "mptcp2-gso64k", mptcp: true, gso: true },
];

/// Bytes per measured transfer.
const TOTAL: u64 = 512 << 20;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("core_bulk");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(TOTAL));
    for case in &CASES {
        g.bench_function(case.name, |b| b.iter(|| run(case, TOTAL)));
    }
    g.finish();
    for case in &CASES {
        let (gbps, packets, subflows) = run(case, 4 * TOTAL);
        println!(
            "core in memory, one core, {:<14} {gbps:>7.2} Gbit/s ({packets} packets, {subflows} subflow(s) carried data)",
            case.name
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
