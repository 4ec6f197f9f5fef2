//! How many packets per second `mptcp analyze` reads from a large capture.
//!
//! Builds a capture of about 2 million packets in memory from the shared
//! kernel captures (each copy of a connection moved to its own client port, so
//! every copy is a distinct connection with verified joins and complete data),
//! then analyzes it several times and prints the best rate.
//!
//! Run: `cargo bench -p mptcp-analyze --bench analyze_rate`

use mptcp_analyze::{Options, analyze};
use mptcp_wire::ip::IpPacket;
use mptcp_wire::pcap::{CaptureReader, LinkType, PcapWriter};
use mptcp_wire::tcp::tcp_checksum;
use std::time::Instant;

const TARGET_PACKETS: usize = 2_000_000;

/// Frames of a shared capture as (timestamp, Ethernet frame).
fn frames(name: &str) -> Vec<(u64, Vec<u8>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures").join(name);
    let mut r = CaptureReader::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    let mut v = vec![];
    while let Some(rec) = r.next_record().unwrap() {
        v.push((rec.ts_nanos, rec.data.to_vec()));
    }
    v
}

/// Moves the client's ports by `shift` (and fixes the TCP checksum), so copies
/// of a connection do not collide.
fn shift_ports(frame: &mut [u8], shift: u16, server_port: u16) {
    let eth = 14;
    let Ok(ip) = IpPacket::parse(&frame[eth..]) else { return };
    let (src, dst) = (ip.src, ip.dst);
    let ihl = frame.len() - eth - ip.payload.len();
    let tcp = &mut frame[eth + ihl..];
    for off in [0usize, 2] {
        let p = u16::from_be_bytes([tcp[off], tcp[off + 1]]);
        if p != server_port {
            tcp[off..off + 2].copy_from_slice(&p.wrapping_add(shift).to_be_bytes());
        }
    }
    tcp[16..18].copy_from_slice(&[0, 0]);
    let c = tcp_checksum(src, dst, tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
}

fn main() {
    let base = frames("join-signal.pcap");
    let mut buf = Vec::with_capacity(TARGET_PACKETS * 800);
    let mut w = PcapWriter::new(&mut buf, LinkType::Ethernet, 65535).unwrap();
    let mut n = 0usize;
    let mut copy = 0u16;
    let span = base.last().unwrap().0 - base[0].0 + 1_000_000;
    while n < TARGET_PACKETS {
        for (ts, f) in &base {
            let mut f = f.clone();
            shift_ports(&mut f, copy.wrapping_mul(7), 8080);
            w.write(ts + u64::from(copy) * span, &f).unwrap();
            n += 1;
        }
        copy += 1;
    }
    let _ = w.into_inner();
    let mb = buf.len() as f64 / 1e6;
    println!("capture: {n} packets, {copy} connections, {mb:.0} MB");
    // To time the CLI on the same capture: MPTCP_BENCH_PCAP=/tmp/big.pcap.
    if let Some(path) = std::env::var_os("MPTCP_BENCH_PCAP") {
        std::fs::write(&path, &buf).unwrap();
        println!("wrote {}", std::path::Path::new(&path).display());
    }
    let mut best = f64::MAX;
    for run in 0..5 {
        let t = Instant::now();
        let out = analyze(&buf[..], Options::default(), |_| {}).unwrap();
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let complete = out.report.connections.iter().filter(|c| c.complete).count();
        assert_eq!(complete, usize::from(copy), "every copy is a complete connection");
        println!("run {run}: {:.3} s, {:.2} Mpps, {:.0} MB/s", secs, n as f64 / secs / 1e6, mb / secs);
    }
    println!("analyze rate (best of 5): {:.2} million packets/s", n as f64 / best / 1e6);
}
