//! Helpers shared by the integration tests: where the real captures are, a
//! walk over their TCP segments, and the rule for a missing prerequisite.

#![allow(dead_code)]

use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use mptcp_wire::ip::{IpPacket, PROTO_TCP};
use mptcp_wire::link;
use mptcp_wire::pcap::CaptureReader;

/// The directory of the real captures: `$MPTCP_CAPTURES` if set, else
/// `shared/captures` beside the repository (where CI puts it).
pub fn captures_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MPTCP_CAPTURES") {
        return Some(PathBuf::from(d));
    }
    // crates/mptcp-wire → repository root → its parent.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let d = repo.join("../shared/captures");
    d.is_dir().then_some(d)
}

/// The `*.pcap` files of the captures directory, sorted by name.
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        // Kernel-to-kernel captures only: classic pcap of whole frames. The
        // one pcapng capture is of our stack, cut to 200 bytes a packet.
        .filter(|p| std::fs::read(p).is_ok_and(|b| !b.starts_with(&PCAPNG_MAGIC)))
        .collect();
    v.sort();
    v
}

/// The first four bytes of a pcapng file (its section header block type).
pub const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// A prerequisite of a test is missing. Outside CI the test is skipped with a
/// message no one can miss; under CI (`CI` set to anything but `false`/`0`)
/// it fails, since CI is meant to have everything.
pub fn missing_prerequisite(what: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let msg = format!("{what}: THIS TEST DID NOT RUN");
    if ci {
        panic!("{msg} (and CI is set, so that is a failure)");
    }
    eprintln!();
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED: {msg}");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!();
}

/// One unfragmented TCP segment of a capture.
#[derive(Debug, Clone)]
pub struct TcpFrame {
    /// The frame number, counted from 1 as Wireshark does.
    pub number: usize,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The TCP segment: header, options and payload.
    pub segment: Vec<u8>,
}

/// What one capture holds, frame by frame.
#[derive(Debug, Default)]
pub struct Walk {
    /// Every record read.
    pub frames: usize,
    /// Frame numbers of records that are not IP, or whose IP header does not
    /// parse, or that are not unfragmented TCP.
    pub other: Vec<usize>,
    /// The TCP segments.
    pub tcp: Vec<TcpFrame>,
}

/// Reads a whole capture with `mptcp_wire::pcap`, strips the link layer with
/// `mptcp_wire::link` and the IP header with `mptcp_wire::ip`. A capture that
/// does not read to a clean end is a panic.
pub fn walk_capture(path: &Path) -> Walk {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = CaptureReader::new(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut walk = Walk::default();
    while let Some(rec) = r.next_record().unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        walk.frames += 1;
        let number = walk.frames;
        let tcp = link::ip_packet(rec.link, rec.data)
            .and_then(|b| IpPacket::parse(b).ok())
            .filter(|ip| ip.protocol == PROTO_TCP && !ip.fragment)
            .map(|ip| TcpFrame { number, src: ip.src, dst: ip.dst, segment: ip.payload.to_vec() });
        match tcp {
            Some(t) => walk.tcp.push(t),
            None => walk.other.push(number),
        }
    }
    walk
}
