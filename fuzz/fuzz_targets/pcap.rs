//! Bytes as a capture file: read every record, find the IP packet in each and
//! parse it down to the TCP options. When the whole file reads cleanly, write
//! the records out again with `PcapWriter` and read them back: same bytes,
//! same link type, timestamps cut to microseconds.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use mptcp_wire::ip::IpPacket;
use mptcp_wire::link;
use mptcp_wire::pcap::{CaptureReader, LinkType, MAX_CAPLEN, PcapWriter};
use mptcp_wire::tcp::{TcpPacket, TcpRepr};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data)) else { return };
    let mut kept: Vec<(u64, Vec<u8>, LinkType)> = Vec::new();
    let mut clean = true;
    loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                assert!(rec.data.len() <= MAX_CAPLEN as usize);
                assert!(kept.len() < data.len(), "more records than input bytes: the reader is not advancing");
                frame(rec.link, rec.data);
                kept.push((rec.ts_nanos, rec.data.to_vec(), rec.link));
            }
            Ok(None) => break,
            Err(_) => {
                clean = false;
                break;
            }
        }
    }
    if clean {
        rewrite(&kept);
    }
});

fn frame(link: LinkType, bytes: &[u8]) {
    let Some(ip) = link::ip_packet(link, bytes) else { return };
    // The packet is a part of the frame.
    let start = ip.as_ptr() as usize - bytes.as_ptr() as usize;
    assert!(start + ip.len() <= bytes.len());
    let Ok(ip) = IpPacket::parse(ip) else { return };
    let Ok(tcp) = TcpPacket::new_checked(ip.payload) else { return };
    let _ = TcpRepr::parse(&tcp, None);
    let _ = TcpRepr::parse(&tcp, Some((ip.src, ip.dst)));
}

fn rewrite(records: &[(u64, Vec<u8>, LinkType)]) {
    let Some(&(_, _, link)) = records.first() else { return };
    if records.iter().any(|r| r.2 != link) {
        return;
    }
    let mut w = PcapWriter::new(Vec::new(), link, 0).expect("header into a Vec");
    for (ts, bytes, _) in records {
        if w.write(*ts, bytes).is_err() {
            // A timestamp past 2106: the classic format cannot hold it.
            return;
        }
    }
    let out = w.into_inner();
    let mut r = CaptureReader::new(Cursor::new(&out[..])).expect("our own file opens");
    for (ts, bytes, _) in records {
        let rec = r.next_record().expect("our own file reads").expect("as many records as written");
        assert_eq!(rec.data, &bytes[..]);
        assert_eq!(rec.link, link);
        assert_eq!(rec.orig_len as usize, bytes.len());
        assert_eq!(rec.ts_nanos, ts / 1000 * 1000);
    }
    assert!(r.next_record().expect("clean end").is_none());
}
