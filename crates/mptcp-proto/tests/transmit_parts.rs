//! `Endpoint::poll_transmit_parts`: the headers in the caller's buffer, the
//! payload as references to the send queue's chunks (what the TUN driver
//! writes with `writev`). A transfer whose every packet is put back together
//! from its two parts arrives intact, for TCP and for MPTCP, and the parts
//! add up to the length the IP header says.

mod common;

use bytes::Bytes;
use common::{DirectReceiver, direct_pair};
use mptcp_proto::{Duration, EndpointConfig, Instant};

const TOTAL: u64 = 20 << 20;
const BLOCK: usize = 100_000;

fn pattern_block() -> Vec<u8> {
    (0..(BLOCK + 256) as u64).map(|i| (i.wrapping_mul(7).wrapping_add(1) % 256) as u8).collect()
}

/// Bytes the IPv4 header says the packet has.
fn ip_total_len(packet: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([packet[2], packet[3]]))
}

struct Outcome {
    read: u64,
    intact: bool,
    by_ref_packets: u64,
    whole_packets: u64,
}

/// `a` sends TOTAL bytes to `b`; `a` emits by parts, copying writes and
/// zero-copy writes alternating, `b` normally.
fn transfer(mptcp: bool, offload: bool) -> Outcome {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = mptcp;
    cfg.tcp.gso_max_size = if offload { 65_535 } else { 0 };
    cfg.tcp.checksum_offload = offload;
    let (mut a, mut b, ca) = direct_pair(cfg);
    let mut now = Instant::ZERO;
    let mut far = DirectReceiver::new(BLOCK);
    let block = pattern_block();
    let shared = Bytes::from(block.clone());
    let mut buf = vec![0u8; 65_536];
    let mut packet = Vec::new();
    let mut payload = Vec::new();
    let (mut written, mut shut, mut eof) = (0u64, false, false);
    let (mut by_ref_packets, mut whole_packets, mut writes) = (0u64, 0u64, 0u64);
    let mut rounds = 0u64;
    while !eof {
        rounds += 1;
        assert!(rounds < 5_000_000, "no progress: wrote {written}, read {}", far.read);
        now += Duration::from_micros(5);
        while written < TOTAL {
            let n = ((TOTAL - written) as usize).min(BLOCK - (writes as usize % 7) * 1000);
            let start = (written % 256) as usize;
            writes += 1;
            let r = if writes % 2 == 0 {
                a.write_bytes(ca, shared.slice(start..start + n))
            } else {
                a.write(ca, &block[start..start + n])
            };
            match r {
                Ok(0) | Err(_) => break,
                Ok(k) => written += k as u64,
            }
        }
        if written == TOTAL && !shut {
            a.shutdown(ca).unwrap();
            shut = true;
        }
        while let Some(t) = a.poll_transmit_parts(now, &mut buf, &mut payload) {
            packet.clear();
            packet.extend_from_slice(&buf[..t.len]);
            for p in &payload {
                packet.extend_from_slice(p);
            }
            assert_eq!(ip_total_len(&packet), packet.len(), "headers and payload add up to the IP length");
            if payload.is_empty() {
                whole_packets += 1;
            } else {
                by_ref_packets += 1;
            }
            b.handle_offloaded(now, &packet, offload);
        }
        eof = far.round(now, &mut a, &mut b, &block, offload);
    }
    Outcome { read: far.read, intact: far.intact, by_ref_packets, whole_packets }
}

#[test]
fn tcp_payload_by_reference_arrives_intact() {
    let o = transfer(false, true);
    assert_eq!(o.read, TOTAL);
    assert!(o.intact, "the stream arrived as sent");
    // 20 MiB in segments of up to 64 KiB: hundreds by reference, and the
    // handshake and the FIN whole.
    assert!(o.by_ref_packets >= 300, "{} packets by reference", o.by_ref_packets);
    assert!(o.whole_packets >= 1);
}

#[test]
fn mptcp_payload_by_reference_arrives_intact() {
    let o = transfer(true, true);
    assert_eq!(o.read, TOTAL);
    assert!(o.intact, "the stream arrived as sent");
    assert!(o.by_ref_packets >= 300, "{} packets by reference", o.by_ref_packets);
}

#[test]
fn without_checksum_offload_every_packet_comes_whole() {
    let o = transfer(true, false);
    assert_eq!(o.read, TOTAL);
    assert!(o.intact);
    assert_eq!(o.by_ref_packets, 0, "the payload must be summed, so it is copied");
    assert!(o.whole_packets > 10_000);
}
