//! The reader against tshark's editcap, and against arbitrary bytes.

use super::*;

// ---------------------------------------------------------------- editcap

/// Converts `src` with `editcap -F <format>`; `None` (loudly) without editcap.
fn editcap(src: &Path, format: &str) -> Option<Vec<u8>> {
    let exe = Path::new("/usr/bin/editcap");
    if !exe.exists() {
        missing("/usr/bin/editcap is not installed (apt-get install tshark; scripts/setup.sh does it)");
        return None;
    }
    let out = std::env::temp_dir().join(format!(
        "mptcp-wire-editcap-{}-{format}-{}",
        std::process::id(),
        src.file_name().unwrap().to_string_lossy()
    ));
    let status = std::process::Command::new(exe).args(["-F", format]).arg(src).arg(&out).status().expect("run editcap");
    assert!(status.success(), "editcap -F {format} failed");
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    Some(bytes)
}

#[test]
fn editcap_conversions_read_the_same() {
    let files = shared_captures();
    for path in files.iter().take(2) {
        let (_, want) = read_ok(&std::fs::read(path).unwrap());
        for (format, expect) in [("pcapng", Format::PcapNg), ("nsecpcap", Format::Pcap)] {
            let Some(bytes) = editcap(path, format) else {
                return;
            };
            let (got_format, got) = read_ok(&bytes);
            assert_eq!(got_format, expect);
            assert_eq!(got.len(), want.len(), "{} as {format}", path.display());
            assert_eq!(got, want, "{} as {format}", path.display());
        }
    }
}

// ---------------------------------------------------------------- no panics

/// Reads `bytes` to the end or the first error; must not panic or loop.
fn read_anything(bytes: &[u8]) {
    if let Ok(mut r) = CaptureReader::new(bytes) {
        // Every block or record consumes at least 12 bytes.
        for _ in 0..=bytes.len() / 12 + 1 {
            match r.next_record() {
                Ok(Some(rec)) => assert!(rec.data.len() <= MAX_CAPLEN as usize),
                Ok(None) | Err(_) => return,
            }
        }
        panic!("reader did not stop");
    }
}

#[test]
fn every_single_byte_mutation_is_survived() {
    let mut samples = Vec::new();
    for be in [false, true] {
        let mut ng = Ng::new(be);
        ng.shb()
            .idb(1, 64, &[(9, &[9]), (14, &[1; 8])])
            .epb(0, 1, 54, &packet(20, 1))
            .block(5, &[0; 8])
            .spb(70, &packet(16, 2))
            .pb(0, 2, &packet(5, 3));
        samples.push(ng.out);
        samples.push(classic(be, 0xa1b2_3c4d, &[(1, 2, &packet(30, 4)), (3, 4, &[])]));
    }
    for sample in samples {
        for i in 0..sample.len() {
            let original = sample[i];
            for v in [0x00, 0xff, 0x7f, 0x80, 0x01, original ^ 0x04, original ^ 0x40] {
                let mut m = sample.clone();
                m[i] = v;
                read_anything(&m);
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_after_a_classic_header(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let mut bytes = classic(false, 0xa1b2_c3d4, &[]);
        bytes.extend_from_slice(&tail);
        read_anything(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_pcapng_header(
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        be in proptest::bool::ANY,
    ) {
        let mut ng = Ng::new(be);
        ng.shb().idb(1, 0, &[]);
        let mut bytes = ng.out;
        bytes.extend_from_slice(&tail);
        read_anything(&bytes);
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        read_anything(&bytes);
    }
}
