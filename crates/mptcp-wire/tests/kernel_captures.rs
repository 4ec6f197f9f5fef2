//! Real bytes: every MPTCP option in ../shared/captures (recorded from the Linux
//! kernel) parses and re-emits identically, and every token, MP_JOIN HMAC and
//! ADD_ADDR HMAC recomputes to the kernel's value. DSS checksums, which need the
//! mappings rebuilt across segments, are checked by mptcp-analyze's tests.

use mptcp_wire::crypto;
use mptcp_wire::ip::IpPacket;
use mptcp_wire::link;
use mptcp_wire::mptcp::{MpJoin, MptcpOption};
use mptcp_wire::pcap::CaptureReader;
use mptcp_wire::tcp::{TcpOption, TcpPacket};
use std::collections::HashMap;
use std::path::PathBuf;

fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures")
}

fn captures() -> Vec<PathBuf> {
    let dir = captures_dir();
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        // The kernel-to-kernel captures are classic pcap, whole frames; the
        // one pcapng capture is of our stack, cut to 200 bytes.
        .filter(|p| std::fs::read(p).is_ok_and(|b| !b.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a])))
        .collect();
    v.sort();
    assert!(v.len() >= 8, "expected the 8 shared captures in {}", dir.display());
    v
}

/// One TCP segment of a capture, owned.
struct Segment {
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    bytes: Vec<u8>,
}

fn segments(path: &PathBuf) -> Vec<Segment> {
    let f = std::fs::File::open(path).unwrap();
    let mut r = CaptureReader::new(std::io::BufReader::new(f)).unwrap();
    let mut out = vec![];
    while let Some(rec) = r.next_record().unwrap() {
        let ip = IpPacket::parse(link::ip_packet(rec.link, rec.data).expect("IP in every frame")).unwrap();
        let tcp = TcpPacket::new_checked(ip.payload).unwrap();
        // The captures were taken on veth with checksum offload on: the field
        // holds either the full checksum or, as CHECKSUM_PARTIAL leaves it, the
        // folded pseudo-header sum alone.
        let partial = mptcp_wire::ip::pseudo_header_checksum(ip.src, ip.dst, 6, ip.payload.len() as u32).sum();
        assert!(tcp.verify_checksum(ip.src, ip.dst) || tcp.checksum() == partial, "TCP checksum in {}", path.display());
        out.push(Segment {
            src: std::net::SocketAddr::new(ip.src, tcp.src_port()),
            dst: std::net::SocketAddr::new(ip.dst, tcp.dst_port()),
            bytes: ip.payload.to_vec(),
        });
    }
    out
}

#[derive(Default, Debug)]
struct Counts {
    options: usize,
    tokens: usize,
    synack_hmacs: usize,
    ack_hmacs: usize,
    add_addr_hmacs: usize,
}

#[test]
fn every_option_reemits_and_every_hmac_and_token_recomputes() {
    let mut total = Counts::default();
    let mut per_subtype = [0usize; 16];
    for path in captures() {
        let segs = segments(&path);
        // Keys by the host that owns them, learnt from MP_CAPABLE.
        let mut key_of: HashMap<std::net::IpAddr, Vec<u64>> = HashMap::new();
        for s in &segs {
            let tcp = TcpPacket::new_checked(&s.bytes[..]).unwrap();
            for o in tcp.options() {
                let o = o.unwrap_or_else(|e| panic!("{}: option does not parse: {e}", path.display()));
                if let TcpOption::Mptcp(MptcpOption::MpCapable(m)) = o {
                    if let Some(k) = m.sender_key {
                        key_of.entry(s.src.ip()).or_default().push(k);
                    }
                    if let Some(k) = m.receiver_key {
                        key_of.entry(s.dst.ip()).or_default().push(k);
                    }
                }
            }
        }
        let all_keys: Vec<u64> = key_of.values().flatten().copied().collect();
        // Joins in progress: (joiner, listener) → (token, joiner nonce, listener nonce).
        let mut joins: HashMap<(std::net::SocketAddr, std::net::SocketAddr), (u32, u32, Option<u32>)> = HashMap::new();
        for s in &segs {
            let tcp = TcpPacket::new_checked(&s.bytes[..]).unwrap();
            // Re-emit the whole option area: identical bytes.
            let opts: Vec<TcpOption> = tcp.options().map(Result::unwrap).collect();
            let mut area = [0u8; 40];
            let n = mptcp_wire::tcp::emit_options(&opts, &mut area).unwrap();
            assert_eq!(&area[..n], tcp.options_raw(), "{}: option area re-emits", path.display());
            let mut at = 0;
            for o in &opts {
                let len = o.len();
                if let TcpOption::Mptcp(m) = o {
                    // Each MPTCP option alone: identical bytes.
                    let mut buf = [0u8; 40];
                    assert_eq!(m.emit(&mut buf), Ok(len));
                    assert_eq!(&buf[..len], &tcp.options_raw()[at..at + len]);
                    total.options += 1;
                    per_subtype[usize::from(m.subtype())] += 1;
                    match m {
                        MptcpOption::MpJoin(MpJoin::Syn { token, nonce, .. }) => {
                            let owner = all_keys.iter().find(|&&k| crypto::token(k) == *token);
                            assert!(owner.is_some(), "{}: MP_JOIN token {token:08x} is no key's", path.display());
                            total.tokens += 1;
                            joins.insert((s.src, s.dst), (*token, *nonce, None));
                        }
                        MptcpOption::MpJoin(MpJoin::SynAck { hmac, nonce, .. }) => {
                            let (token, rj, rl) = joins.get_mut(&(s.dst, s.src)).expect("SYN/ACK after SYN");
                            *rl = Some(*nonce);
                            let kb = *all_keys.iter().find(|&&k| crypto::token(k) == *token).unwrap();
                            let ka = *all_keys.iter().find(|&&k| k != kb).unwrap();
                            assert_eq!(crypto::join_synack_hmac(kb, ka, *nonce, *rj), *hmac, "{}", path.display());
                            total.synack_hmacs += 1;
                        }
                        MptcpOption::MpJoin(MpJoin::Ack { hmac }) => {
                            if let Some(&(token, rj, Some(rl))) = joins.get(&(s.src, s.dst)) {
                                let kb = *all_keys.iter().find(|&&k| crypto::token(k) == token).unwrap();
                                let ka = *all_keys.iter().find(|&&k| k != kb).unwrap();
                                assert_eq!(&crypto::join_ack_hmac(ka, kb, rj, rl), hmac, "{}", path.display());
                                total.ack_hmacs += 1;
                            }
                        }
                        MptcpOption::AddAddr(a) if !a.echo => {
                            let ks = key_of[&s.src.ip()][0];
                            let kr = key_of[&s.dst.ip()][0];
                            let want = crypto::add_addr_hmac(ks, kr, a.addr_id, a.addr, a.port);
                            assert_eq!(a.hmac, Some(want), "{}: ADD_ADDR HMAC", path.display());
                            total.add_addr_hmacs += 1;
                        }
                        _ => {}
                    }
                }
                at += len;
            }
        }
    }
    eprintln!("kernel captures: {total:?}; options by subtype: {per_subtype:?}");
    // The captures README's table of subtypes, summed over the eight files:
    // MP_CAPABLE 35, MP_JOIN 12, DSS 2025, ADD_ADDR 6, REMOVE_ADDR, MP_PRIO,
    // MP_FASTCLOSE and MP_TCPRST 1 each.
    assert_eq!(per_subtype, [35, 12, 2025, 6, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(total.options, 2082);
    assert!(total.tokens >= 4 && total.synack_hmacs >= 4 && total.ack_hmacs >= 4, "{total:?}");
    assert!(total.add_addr_hmacs >= 3, "{total:?}");
}

#[test]
fn keys_give_the_tokens_the_kernel_used() {
    // In join-signal.pcap the client's MP_JOIN SYN carries the server's token:
    // it must be token(server key) from the SYN/ACK's MP_CAPABLE.
    let segs = segments(&captures_dir().join("join-signal.pcap"));
    let mut server_key = None;
    let mut checked = 0;
    for s in &segs {
        let tcp = TcpPacket::new_checked(&s.bytes[..]).unwrap();
        for o in tcp.options() {
            match o.unwrap() {
                TcpOption::Mptcp(MptcpOption::MpCapable(m)) if tcp.flags().syn() && tcp.flags().ack() => {
                    server_key = m.sender_key;
                }
                TcpOption::Mptcp(MptcpOption::MpJoin(MpJoin::Syn { token, .. })) => {
                    assert_eq!(crypto::token(server_key.unwrap()), token);
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(checked > 0);
}
