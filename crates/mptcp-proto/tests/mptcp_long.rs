//! More than 4 GiB through one MPTCP subflow: the subflow's relative
//! sequence numbers (32 bits on the wire) wrap, and the mappings, the
//! DATA_ACKs and the stream must not notice. Packets go straight from one
//! endpoint to the other as 64 KiB offloaded segments (as the TUN driver
//! hands them), so the test takes seconds.

mod common;

use bytes::Bytes;
use common::{DirectReceiver, direct_pair};
use mptcp_proto::{Duration, EndpointConfig, Instant};

const TOTAL: u64 = (4 << 30) + (300 << 20);
const BLOCK: usize = 256 * 1024;

fn pattern_block() -> Vec<u8> {
    (0..(BLOCK + 256) as u64).map(|i| (i.wrapping_mul(7).wrapping_add(1) % 256) as u8).collect()
}

#[test]
fn more_than_4_gib_through_one_subflow() {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    cfg.tcp.gso_max_size = 65_535;
    cfg.tcp.checksum_offload = true;
    let (mut a, mut b, ca) = direct_pair(cfg);
    let mut now = Instant::ZERO;
    let mut far = DirectReceiver::new(BLOCK);
    let block = pattern_block();
    let shared = Bytes::from(block.clone());
    let mut buf = vec![0u8; 65_536];
    let (mut written, mut shut) = (0u64, false);
    let mut eof = false;
    let mut rounds = 0u64;
    while !eof {
        rounds += 1;
        assert!(rounds < 50_000_000, "no progress: wrote {written}, read {}", far.read);
        now += Duration::from_micros(1);
        while written < TOTAL {
            let n = ((TOTAL - written) as usize).min(BLOCK);
            let start = (written % 256) as usize;
            match a.write_bytes(ca, shared.slice(start..start + n)) {
                Ok(0) | Err(_) => break,
                Ok(k) => written += k as u64,
            }
        }
        if written == TOTAL && !shut {
            a.shutdown(ca).unwrap();
            shut = true;
        }
        while let Some(t) = a.poll_transmit_gso(now, &mut buf) {
            b.handle_offloaded(now, &buf[..t.len], true);
        }
        eof = far.round(now, &mut a, &mut b, &block, true);
    }
    assert_eq!(far.read, TOTAL, "the whole stream arrived");
    assert!(far.intact, "the stream arrived intact");
    let s = a.subflow_stats(ca).unwrap();
    assert_eq!(s.len(), 1, "one subflow");
    assert!(s[0].bytes_sent >= TOTAL, "it carried all of it: {}", s[0].bytes_sent);
    // The subflow's own count of acknowledged bytes goes past 2 and 4 GiB too.
    assert_eq!(s[0].tcp.bytes_acked, s[0].bytes_sent, "every byte it sent was acknowledged, and counted");
    let c = a.mptcp_counters(ca).unwrap();
    assert_eq!((c.data_retransmits, c.reinjected_bytes), (0, 0), "no data-level retransmission");
    assert_eq!(a.mptcp_fallback(ca), Some(None), "still MPTCP, no fallback");
}
