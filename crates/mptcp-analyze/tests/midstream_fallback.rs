//! A middlebox that starts stripping MPTCP options in mid-connection: the
//! data after the last mapping arrives without DSS, the connection falls
//! back (RFC 8684 §3.7), and the analyzer goes on rebuilding the stream from
//! the subflow's bytes in order.

use mptcp_analyze::{Options, analyze};
use mptcp_wire::pcap::{CaptureReader, LinkType, PcapWriter};

/// Ethernet + IPv4 + TCP: overwrites every DSS option (kind 30, subtype 2)
/// with NOPs. Returns whether the packet carried one.
fn strip_dss(frame: &mut [u8]) -> bool {
    if frame.len() < 14 + 20 + 20 || frame[12..14] != [0x08, 0x00] {
        return false;
    }
    let ip = 14;
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let tcp = ip + ihl;
    let doff = usize::from(frame[tcp + 12] >> 4) * 4;
    let (mut at, end) = (tcp + 20, (tcp + doff).min(frame.len()));
    let mut stripped = false;
    while at + 1 < end {
        match frame[at] {
            0 => break,
            1 => at += 1,
            kind => {
                let len = usize::from(frame[at + 1]).max(2);
                if kind == 30 && at + 2 < end && frame[at + 2] >> 4 == 2 {
                    frame[at..(at + len).min(end)].fill(1);
                    stripped = true;
                }
                at += len;
            }
        }
    }
    stripped
}

fn to_server(frame: &[u8]) -> bool {
    let ip = 14;
    let tcp = ip + usize::from(frame[ip] & 0x0f) * 4;
    u16::from_be_bytes([frame[tcp + 2], frame[tcp + 3]]) == 8080
}

fn payload_len(frame: &[u8]) -> usize {
    let ip = 14;
    let total = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let doff = usize::from(frame[ip + ihl + 12] >> 4) * 4;
    total.saturating_sub(ihl + doff)
}

#[test]
fn data_without_dss_after_mapped_data_falls_back_and_the_stream_stays_whole() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures/mpc-basic.pcap");
    let mut r = CaptureReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut w = PcapWriter::new(&mut out, LinkType::Ethernet, 65_535).unwrap();
    // From the 20th data segment on, every DSS from the client is stripped
    // (the client's subflow carries each data byte once, so its bytes in order
    // are the data stream, as after a real fallback).
    let (mut data_segments, mut stripped) = (0, 0);
    while let Some(rec) = r.next_record().unwrap() {
        let mut frame = rec.data.to_vec();
        if frame.len() > 54 && payload_len(&frame) > 0 {
            data_segments += 1;
        }
        if data_segments >= 20 && to_server(&frame) && strip_dss(&mut frame) {
            stripped += 1;
        }
        w.write(rec.ts_nanos, &frame).unwrap();
    }
    let _ = w.into_inner();
    assert!(stripped > 20, "DSS options stripped: {stripped}");
    let report = analyze(&out[..], Options::default(), |_| {}).unwrap().report;
    let c = &report.connections[0];
    assert_eq!(c.fallback.as_deref(), Some("data-without-dss"));
    assert_eq!((c.data_to_server, c.data_to_client), (150_000, 150_000));
    assert!(c.complete, "both streams whole through the fallback");
}
