//! Helpers shared by the simulator's integration tests.

#![allow(dead_code)]

use mptcp_sim::{Results, Sim};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Builds a scenario from TOML text with `seed`.
pub fn sim(text: &str, seed: u64) -> Sim {
    let model = mptcp_sim::load_str(text, "test.toml", "test", &[], Some(seed)).unwrap_or_else(|e| panic!("{e}"));
    Sim::new(model).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario from TOML text.
pub fn run(text: &str, seed: u64) -> (Sim, Results) {
    let mut s = sim(text, seed);
    s.run(&mut |_, _| {});
    let r = s.results();
    (s, r)
}

/// Runs a built-in scenario, with overrides.
pub fn run_builtin(name: &str, overrides: &[&str], seed: u64) -> (Sim, Results) {
    let o: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    let model = mptcp_sim::load(name, &o, Some(seed)).unwrap_or_else(|e| panic!("{e}"));
    let mut s = Sim::new(model).unwrap_or_else(|e| panic!("{e}"));
    s.run(&mut |_, _| {});
    let r = s.results();
    (s, r)
}

/// An in-memory capture the test can read after the run.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Starts capturing host `name` of `sim`.
    pub fn attach(sim: &mut Sim, name: &str) -> Capture {
        let h = sim.model().hosts.iter().position(|h| h.name == name).expect("host");
        let c = Capture::default();
        sim.capture(h, Box::new(c.clone())).unwrap();
        c
    }

    /// The pcap file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }

    /// Every packet (raw IP), in order.
    pub fn packets(&self) -> Vec<Vec<u8>> {
        let bytes = self.bytes();
        let mut r = mptcp_wire::pcap::CaptureReader::new(&bytes[..]).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec.data.to_vec());
        }
        out
    }
}

/// A parsed TCP segment of a captured packet.
pub struct Seg {
    pub src: std::net::SocketAddr,
    pub dst: std::net::SocketAddr,
    pub seq: u32,
    pub flags: u8,
    pub option_kinds: Vec<u8>,
    pub payload_len: usize,
}

/// Parses an IP/TCP packet (and checks its TCP checksum).
pub fn seg(pkt: &[u8]) -> Seg {
    use mptcp_wire::tcp::{TcpOption, TcpPacket};
    let ip = mptcp_wire::ip::IpPacket::parse(pkt).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload).unwrap();
    assert!(tcp.verify_checksum(ip.src, ip.dst), "bad TCP checksum");
    let option_kinds = tcp
        .options()
        .filter_map(Result::ok)
        .map(|o| match o {
            TcpOption::EndOfList => 0,
            TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 2,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 4,
            TcpOption::Sack(_) => 5,
            TcpOption::Timestamps { .. } => 8,
            TcpOption::Mptcp(_) => 30,
            TcpOption::Unknown { kind, .. } => kind,
        })
        .collect();
    Seg {
        src: std::net::SocketAddr::new(ip.src, tcp.src_port()),
        dst: std::net::SocketAddr::new(ip.dst, tcp.dst_port()),
        seq: tcp.seq(),
        flags: tcp.flags().0,
        option_kinds,
        payload_len: tcp.payload().len(),
    }
}

/// Every link direction keeps its books: sent = delivered + dropped + in
/// flight; every middlebox: in + created = out + dropped + merged + held; and
/// the whole network's ledger balances.
pub fn assert_accounted(r: &Results) {
    for l in &r.links {
        let c = &l.counters;
        assert_eq!(c.sent, c.delivered + c.dropped() + l.in_flight, "link {} {}", l.name, l.direction);
    }
    for b in &r.middleboxes {
        let c = &b.counters;
        assert_eq!(c.packets_in + c.created, c.packets_out + c.dropped + c.merged + c.held, "{} on {}", b.kind, b.link);
    }
    assert!(r.ledger.balanced, "{:?}", r.ledger);
}
