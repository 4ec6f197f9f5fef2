//! Tests of the capture reader and writer.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::*;

mod tools;

// ---------------------------------------------------------------- helpers

/// Every record of a capture, owned: (ts, orig_len, data, link).
type Owned = (u64, u32, Vec<u8>, LinkType);

/// Reads a whole capture; the error, if any, comes with what was read before.
fn read_all(bytes: &[u8]) -> Result<(Format, Vec<Owned>), (Vec<Owned>, PcapError)> {
    let mut r = CaptureReader::new(bytes).map_err(|e| (Vec::new(), e))?;
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push((rec.ts_nanos, rec.orig_len, rec.data.to_vec(), rec.link)),
            Ok(None) => return Ok((r.format(), out)),
            Err(e) => return Err((out, e)),
        }
    }
}

fn read_ok(bytes: &[u8]) -> (Format, Vec<Owned>) {
    match read_all(bytes) {
        Ok(x) => x,
        Err((recs, e)) => panic!("error after {} records: {e}", recs.len()),
    }
}

/// The shared captures directory: beside the work tree, where CI puts it.
fn captures_dir() -> Option<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures");
    [beside, PathBuf::from("/work/shared/captures")].into_iter().find(|p| p.is_dir())
}

/// A prerequisite is missing: a loud skip, or under CI a failure (CI is
/// meant to have everything, and a test that checked nothing must not pass).
fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!("{what}: THIS TEST DID NOT RUN, and CI is set, so that is a failure");
    }
    eprintln!("!!! SKIPPED: {what}");
}

fn shared_captures() -> Vec<PathBuf> {
    let Some(dir) = captures_dir() else {
        missing("no shared/captures directory found");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read captures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    files
}

/// A writer of pcapng blocks in either byte order.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn new(be: bool) -> Self {
        Ng { be, out: Vec::new() }
    }
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be { v.to_be_bytes() } else { v.to_le_bytes() }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be { v.to_be_bytes() } else { v.to_le_bytes() }
    }
    fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let (t, l) = (self.u32(block_type), self.u32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        self.out.extend_from_slice(&l);
        self
    }
    fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        if opts.is_empty() {
            return v;
        }
        for (code, val) in opts {
            v.extend_from_slice(&self.u16(*code));
            v.extend_from_slice(&self.u16(val.len() as u16));
            v.extend_from_slice(val);
            v.resize(v.len().div_ceil(4) * 4, 0);
        }
        v.extend_from_slice(&[0; 4]);
        v
    }
    fn shb(&mut self) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(0x1a2b_3c4d));
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]); // section length: unknown (-1)
        body.extend(self.options(&[(4, b"mptcp-rs test".as_slice())]));
        self.block(0x0a0d_0d0a, &body)
    }
    fn idb(&mut self, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16(link));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.u32(snaplen));
        body.extend(self.options(opts));
        self.block(1, &body)
    }
    fn epb(&mut self, iface: u32, ticks: u64, orig_len: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(iface));
        body.extend_from_slice(&self.u32((ticks >> 32) as u32));
        body.extend_from_slice(&self.u32(ticks as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        body.extend(self.options(&[(1, b"a comment".as_slice())]));
        self.block(6, &body)
    }
    fn pb(&mut self, iface: u16, ticks: u64, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16(iface));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&self.u32((ticks >> 32) as u32));
        body.extend_from_slice(&self.u32(ticks as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(data);
        self.block(2, &body)
    }
    fn spb(&mut self, orig_len: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(orig_len));
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

fn packet(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
}

/// A reader that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

// ---------------------------------------------------------------- link types

#[test]
fn link_type_numbers() {
    for (n, l) in [
        (0, LinkType::Null),
        (1, LinkType::Ethernet),
        (101, LinkType::Raw),
        (113, LinkType::LinuxSll),
        (276, LinkType::LinuxSll2),
        (228, LinkType::Ipv4),
        (229, LinkType::Ipv6),
        (147, LinkType::Other(147)),
    ] {
        assert_eq!(LinkType::from_u32(n), l);
        assert_eq!(l.to_u32(), n);
    }
    assert_eq!(LinkType::from_u32(12), LinkType::Raw);
    assert_eq!(LinkType::from_u32(14), LinkType::Raw);
}

// ---------------------------------------------------------------- shared captures

#[test]
fn reads_every_shared_capture() {
    for path in shared_captures() {
        let bytes = std::fs::read(&path).unwrap();
        let (format, recs) = read_ok(&bytes);
        let name = path.display();
        // The kernel-to-kernel captures are pcap of Ethernet frames; one
        // capture of our stack is pcapng from `-i any` (Linux cooked).
        let pcapng = bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(format, if pcapng { Format::PcapNg } else { Format::Pcap }, "{name}");
        assert!(!recs.is_empty(), "{name}: no records");
        let mut last = 0;
        for (i, (ts, orig_len, data, link)) in recs.iter().enumerate() {
            if !pcapng {
                assert_eq!(*link, LinkType::Ethernet, "{name} #{i}");
            }
            assert!(*ts >= last, "{name} #{i}: time goes back");
            assert!(*ts > 1_600_000_000_000_000_000, "{name} #{i}: implausible time");
            assert!(*orig_len as usize >= data.len(), "{name} #{i}");
            assert!(crate::link::ip_packet(*link, data).is_some(), "{name} #{i}: no IP packet");
            last = *ts;
        }
        eprintln!("{name}: {} records", recs.len());
    }
}

#[test]
fn reads_through_a_reader_that_trickles() {
    let Some(path) = shared_captures().into_iter().next() else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let (_, whole) = read_ok(&bytes);
    for step in [1, 7, 4096] {
        let mut r = CaptureReader::new(Trickle { data: &bytes, step }).unwrap();
        let mut i = 0;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(rec.data, &whole[i].2[..], "step {step} record {i}");
            assert_eq!(rec.ts_nanos, whole[i].0);
            i += 1;
        }
        assert_eq!(i, whole.len());
    }
}

// ---------------------------------------------------------------- writer

#[test]
fn writer_reader_round_trip_every_link_type() {
    for link in [
        LinkType::Null,
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::Other(147),
    ] {
        let packets: Vec<(u64, Vec<u8>)> = vec![
            (1_700_000_000_123_456_000, packet(60, 1)),
            (1_700_000_000_123_457_000, packet(1514, 2)),
            (1_700_000_001_000_000_000, packet(0, 3)),
            (4_294_967_295_999_999_000, packet(1, 4)),
        ];
        let mut w = PcapWriter::new(Vec::new(), link, 65535).unwrap();
        for (ts, p) in &packets {
            w.write(*ts, p).unwrap();
        }
        w.flush().unwrap();
        let bytes = w.into_inner();
        let (format, recs) = read_ok(&bytes);
        assert_eq!(format, Format::Pcap);
        assert_eq!(recs.len(), packets.len());
        for ((ts, p), (rts, orig, data, rlink)) in packets.iter().zip(&recs) {
            assert_eq!(rts, ts);
            assert_eq!(*orig as usize, p.len());
            assert_eq!(data, p);
            assert_eq!(*rlink, link);
        }
    }
}

#[test]
fn writer_header_bytes_and_snaplen() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 10).unwrap();
    w.write(1_000_000_001_999, &packet(20, 0)).unwrap();
    let bytes = w.into_inner();
    assert_eq!(&bytes[..24], &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0]);
    let (_, recs) = read_ok(&bytes);
    // Time cut to whole microseconds; data cut to the snapshot length.
    assert_eq!(recs[0].0, 1_000_000_001_000);
    assert_eq!(recs[0].1, 20);
    assert_eq!(recs[0].2, packet(10, 0));
}

#[test]
fn writer_rejects_time_past_2106() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Raw, 0).unwrap();
    let e = w.write(4_294_967_296_000_000_000, &[0x45]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(w.into_inner().len(), 24, "nothing written");
}

// ---------------------------------------------------------------- classic variants

/// A classic capture with the given byte order and magic.
fn classic(be: bool, magic: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut out = Vec::new();
    out.extend_from_slice(&u32b(magic));
    out.extend_from_slice(&u16b(2));
    out.extend_from_slice(&u16b(4));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&u32b(262_144));
    out.extend_from_slice(&u32b(113));
    for (secs, frac, data) in records {
        out.extend_from_slice(&u32b(*secs));
        out.extend_from_slice(&u32b(*frac));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(&u32b(data.len() as u32 + 3));
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn classic_both_byte_orders_and_resolutions() {
    let p1 = packet(33, 9);
    let p2 = packet(64, 1);
    for be in [false, true] {
        let recs: [(u32, u32, &[u8]); 2] = [(1_700_000_000, 999_999, &p1), (1_700_000_001, 5, &p2)];
        let micro = classic(be, 0xa1b2_c3d4, &recs);
        let (_, r) = read_ok(&micro);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, 1_700_000_000_999_999_000);
        assert_eq!(r[1].0, 1_700_000_001_000_005_000);
        assert_eq!(r[0].1, 36);
        assert_eq!(r[0].2, p1);
        assert_eq!(r[1].2, p2);
        assert_eq!(r[0].3, LinkType::LinuxSll);

        let nano = classic(be, 0xa1b2_3c4d, &recs);
        let (_, r) = read_ok(&nano);
        assert_eq!(r[0].0, 1_700_000_000_000_999_999);
        assert_eq!(r[1].0, 1_700_000_001_000_000_005);
    }
}

#[test]
fn classic_huge_caplen_is_malformed() {
    let mut bytes = classic(false, 0xa1b2_c3d4, &[(1, 0, &[1, 2, 3])]);
    // Captured length of the record: 256 KiB is fine if present...
    bytes[24 + 8..24 + 12].copy_from_slice(&(MAX_CAPLEN).to_le_bytes());
    assert!(matches!(read_all(&bytes), Err((_, PcapError::Truncated { offset: 24 }))));
    // ...one more is not.
    bytes[24 + 8..24 + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
    assert!(matches!(read_all(&bytes), Err((_, PcapError::Malformed { offset: 24, .. }))));
    bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(read_all(&bytes), Err((_, PcapError::Malformed { offset: 24, .. }))));
}

#[test]
fn classic_bad_version_is_malformed() {
    let mut bytes = classic(false, 0xa1b2_c3d4, &[]);
    bytes[4] = 3;
    assert!(matches!(read_all(&bytes), Err((_, PcapError::Malformed { .. }))));
}

// ---------------------------------------------------------------- pcapng

#[test]
fn pcapng_hand_built_both_byte_orders() {
    let p1 = packet(54, 1);
    let p2 = packet(70, 2);
    let p3 = packet(41, 3);
    let p4 = packet(100, 4);
    for be in [false, true] {
        let ten_secs = if be { 10i64.to_be_bytes() } else { 10i64.to_le_bytes() };
        let mut ng = Ng::new(be);
        ng.shb()
            // Interface 0: Ethernet, nanoseconds, snaplen 64.
            .idb(1, 64, &[(2, b"veth0".as_slice()), (9, &[9])])
            // Interface 1: raw IP, default microseconds, offset +10 s.
            .idb(101, 0, &[(14, ten_secs.as_slice())])
            .epb(0, 1_700_000_000_123_456_789, 54, &p1)
            // A name resolution block and an unknown custom block: skipped.
            .block(4, &[0; 8])
            .block(0x0bad, &[1, 2, 3])
            .spb(70, &p2)
            .epb(1, 1_700_000_000_000_001, 1500, &p3)
            .pb(0, 42, &p4);
        let bytes = ng.out;
        let (format, r) = read_ok(&bytes);
        assert_eq!(format, Format::PcapNg);
        assert_eq!(r.len(), 4, "be = {be}");
        assert_eq!(r[0], (1_700_000_000_123_456_789, 54, p1.clone(), LinkType::Ethernet));
        // The SPB is cut to interface 0's snaplen; it has no time.
        assert_eq!(r[1], (0, 70, p2[..64].to_vec(), LinkType::Ethernet));
        let expect_ts = 10 * 1_000_000_000 + 1_700_000_000_000_001_000;
        assert_eq!(r[2], (expect_ts, 1500, p3.clone(), LinkType::Raw));
        assert_eq!(r[3], (42, 100, p4.clone(), LinkType::Ethernet));
    }
}

#[test]
fn pcapng_tsoffset_is_signed_seconds() {
    let mut ng = Ng::new(false);
    let minus_ten = (-10i64).to_le_bytes();
    ng.shb().idb(1, 0, &[(14, minus_ten.as_slice())]).epb(0, 20_000_000, 60, &packet(60, 0)).epb(
        0,
        1,
        60,
        &packet(60, 0),
    );
    let (_, r) = read_ok(&ng.out);
    assert_eq!(r[0].0, 10_000_000_000);
    // Before the epoch: clamped to 0.
    assert_eq!(r[1].0, 0);
}

#[test]
fn pcapng_binary_resolution() {
    let mut ng = Ng::new(true);
    ng.shb().idb(228, 0, &[(9, &[0x80 | 20])]).epb(0, 3 << 20, 20, &packet(20, 0));
    let (_, r) = read_ok(&ng.out);
    assert_eq!(r[0].0, 3_000_000_000);
    assert_eq!(r[0].3, LinkType::Ipv4);
}

#[test]
fn pcapng_sections_switch_byte_order_and_interfaces() {
    let mut a = Ng::new(false);
    a.shb().idb(1, 0, &[]).epb(0, 5, 10, &packet(10, 1));
    let mut b = Ng::new(true);
    b.shb().idb(229, 0, &[(9, &[9])]).epb(0, 7, 12, &packet(12, 2));
    let mut bytes = a.out;
    bytes.extend_from_slice(&b.out);
    let (_, r) = read_ok(&bytes);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0], (5000, 10, packet(10, 1), LinkType::Ethernet));
    assert_eq!(r[1], (7, 12, packet(12, 2), LinkType::Ipv6));

    // The new section forgets the old interfaces.
    let mut c = Ng::new(true);
    c.shb().epb(0, 7, 12, &packet(12, 2));
    let mut bytes = Ng::new(false).shb().idb(1, 0, &[]).out.clone();
    bytes.extend_from_slice(&c.out);
    assert!(matches!(read_all(&bytes), Err((_, PcapError::Malformed { .. }))));
}

#[test]
fn pcapng_large_unknown_block_is_streamed_past() {
    let big = vec![0x5a; 3 * 1024 * 1024];
    let mut ng = Ng::new(false);
    ng.shb().idb(1, 0, &[]).block(0x4000_0bad, &big).epb(0, 1, 60, &packet(60, 0));
    let (_, r) = read_ok(&ng.out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].2, packet(60, 0));
    // Cut inside it: truncated at its start.
    let cut = &ng.out[..ng.out.len() - 200];
    let block_start = Ng::new(false).shb().out.len() + 20;
    match read_all(cut) {
        Err((recs, PcapError::Truncated { offset })) => {
            assert!(recs.is_empty());
            assert_eq!(offset as usize, block_start);
        }
        other => panic!("{:?}", other.map(|x| x.1.len())),
    }
}

#[test]
fn pcapng_malformed_blocks() {
    let base = {
        let mut ng = Ng::new(false);
        ng.shb().idb(1, 0, &[]);
        ng.out
    };
    let epb = {
        let mut ng = Ng::new(false);
        ng.epb(0, 1, 60, &packet(60, 0));
        ng.out
    };
    let malformed = |bytes: &[u8]| matches!(read_all(bytes), Err((_, PcapError::Malformed { .. })));

    // Trailing length differs.
    let mut b = base.clone();
    let mut e = epb.clone();
    let n = e.len();
    e[n - 4] ^= 4;
    b.extend_from_slice(&e);
    assert!(malformed(&b));
    // Total length not a multiple of 4, or below 12.
    for bad in [13u32, 8, 0] {
        let mut b = base.clone();
        let mut e = epb.clone();
        e[4..8].copy_from_slice(&bad.to_le_bytes());
        b.extend_from_slice(&e);
        assert!(malformed(&b), "{bad}");
    }
    // Captured length beyond the block.
    let mut b = base.clone();
    let mut e = epb.clone();
    e[20..24].copy_from_slice(&1000u32.to_le_bytes());
    b.extend_from_slice(&e);
    assert!(malformed(&b));
    // Captured length above 256 KiB.
    let mut b = base.clone();
    let mut e = epb.clone();
    e[20..24].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
    b.extend_from_slice(&e);
    assert!(malformed(&b));
    // Undeclared interface.
    let mut b = base.clone();
    let mut e = epb.clone();
    e[8..12].copy_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&e);
    assert!(malformed(&b));
    // Packet block longer than 1 MiB.
    let mut b = base.clone();
    let mut e = epb.clone();
    e[4..8].copy_from_slice(&(2u32 << 20).to_le_bytes());
    b.extend_from_slice(&e);
    assert!(malformed(&b));
    // SPB with no interface.
    let mut b = Ng::new(false);
    b.shb().spb(10, &[0; 10]);
    assert!(malformed(&b.out));
    // Interface option overrunning its block.
    let mut b = Ng::new(false);
    b.shb().idb(1, 0, &[(9, &[6])]);
    let n = b.out.len();
    // The option length sits 12 bytes from the end (before the end-of-options
    // and the trailing length).
    b.out[n - 14..n - 12].copy_from_slice(&200u16.to_le_bytes());
    assert!(malformed(&b.out));
    // Unsupported major version.
    let mut b = Ng::new(false);
    b.shb();
    b.out[12] = 2;
    assert!(malformed(&b.out));
}

// ---------------------------------------------------------------- not a capture, truncation

#[test]
fn garbage_is_not_a_capture() {
    let long = packet(4096, 3);
    let inputs: [&[u8]; 8] = [
        b"",
        b"\xd4\xc3\xb2",
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        &[0; 64],
        &long,
        // Right magic, header cut short.
        b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00",
        // pcapng magic without a byte-order magic.
        b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00",
        // pcapng magic, too short for a section header.
        b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a",
    ];
    for input in inputs {
        assert!(matches!(CaptureReader::new(input), Err(PcapError::NotACapture)), "{input:?}");
    }
}

/// Cuts `bytes` at every offset and checks the reader's answer: not a
/// capture inside the file header, else the complete records before the cut
/// and then a clean end (exactly at a record boundary) or `Truncated` at the
/// start of the record that was cut.
fn check_every_cut(bytes: &[u8], header_len: usize) {
    let (_, whole) = read_ok(bytes);
    // Offsets where records end, found by reading prefixes.
    for cut in 0..bytes.len() {
        let prefix = &bytes[..cut];
        match read_all(prefix) {
            Err((_, PcapError::NotACapture)) => assert!(cut < header_len, "cut {cut}"),
            Ok((_, recs)) => {
                assert!(cut >= header_len, "cut {cut}");
                assert!(recs.len() < whole.len() || cut == bytes.len());
                assert_eq!(recs[..], whole[..recs.len()], "cut {cut}");
            }
            Err((recs, PcapError::Truncated { offset })) => {
                assert!(offset as usize <= cut, "cut {cut}");
                assert_eq!(recs[..], whole[..recs.len()], "cut {cut}");
                // Reading just the bytes before that offset ends cleanly
                // with the same records.
                let (_, before) = read_ok(&bytes[..offset as usize]);
                assert_eq!(before.len(), recs.len(), "cut {cut}");
            }
            Err((_, e)) => panic!("cut {cut}: {e}"),
        }
    }
}

#[test]
fn classic_cut_anywhere() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, 0).unwrap();
    for i in 0..5u64 {
        w.write(1_700_000_000_000_000_000 + i * 1000, &packet(20 + i as usize * 7, i as u8)).unwrap();
    }
    check_every_cut(&w.into_inner(), 24);
}

#[test]
fn shared_capture_cut_anywhere_in_its_first_records() {
    let Some(path) = shared_captures().into_iter().next() else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    // The header and the first few records.
    let mut r = CaptureReader::new(&bytes[..]).unwrap();
    for _ in 0..4 {
        r.next_record().unwrap().unwrap();
    }
    let end = r.src.offset() as usize;
    check_every_cut(&bytes[..end], 24);
}

#[test]
fn pcapng_cut_anywhere() {
    for be in [false, true] {
        let mut ng = Ng::new(be);
        ng.shb().idb(1, 64, &[(9, &[9])]).epb(0, 1, 54, &packet(54, 1)).block(5, &[0; 20]).spb(70, &packet(64, 2)).pb(
            0,
            2,
            &packet(5, 3),
        );
        let shb_len = Ng::new(be).shb().out.len();
        check_every_cut(&ng.out, shb_len);
    }
}

#[test]
fn io_errors_are_reported() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let e = CaptureReader::new(Failing).unwrap_err();
    assert!(matches!(e, PcapError::Io(_)));
    assert!(e.to_string().contains("disk on fire"));
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn error_messages() {
    assert_eq!(PcapError::NotACapture.to_string(), "not a pcap or pcapng capture file");
    assert!(PcapError::Truncated { offset: 99 }.to_string().contains("99"));
    let m = PcapError::Malformed { offset: 7, what: "bad thing" }.to_string();
    assert!(m.contains('7') && m.contains("bad thing"));
}
