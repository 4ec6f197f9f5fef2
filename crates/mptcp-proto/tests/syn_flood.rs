//! SYN floods: a bounded half-open queue, SYN cookies beyond it (MP_CAPABLE
//! v1 included: the server's key is derived from the cookie and echoed in
//! the third ACK), refused forged or stale cookies, and bounded MP_JOIN
//! backlogs. All in memory, on the pair of `common`.

mod common;

use common::{Bulk, LinkConfig, Pair, accepted, open, transfer};
use mptcp_proto::{ConnId, Duration, Endpoint, EndpointConfig, Instant};
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::mptcp::{MpCapable, MptcpOption};
use mptcp_wire::tcp::{Flags, TcpOption, TcpPacket, emit_options, tcp_checksum};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const MB: u64 = 1_000_000;

fn cfg(mptcp: bool, syn_backlog: usize) -> EndpointConfig {
    let mut cfg = EndpointConfig { syn_backlog, ..Default::default() };
    cfg.mptcp.enabled = mptcp;
    cfg
}

fn link() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(5), rate_bps: 100_000_000, queue_bytes: 1_000_000, ..Default::default() }
}

/// A TCP segment from `src` to `dst`.
fn segment(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: Flags, opts: &[TcpOption<'_>]) -> Vec<u8> {
    let mut raw = [0u8; 40];
    let n = emit_options(opts, &mut raw).unwrap();
    segment_raw(src, dst, seq, ack, flags, &raw[..n])
}

/// A TCP segment with an option area of any bytes (zero-padded to 4).
fn segment_raw(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: Flags, opts: &[u8]) -> Vec<u8> {
    let len = 20 + opts.len().min(40).div_ceil(4) * 4;
    let mut tcp = vec![0u8; len];
    tcp[20..20 + opts.len().min(40)].copy_from_slice(&opts[..opts.len().min(40)]);
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = ((len / 4) as u8) << 4;
    tcp[13] = flags.0;
    tcp[14..16].copy_from_slice(&65_535u16.to_be_bytes());
    let c = tcp_checksum(src.ip(), dst.ip(), &tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut pkt = vec![0u8; if src.is_ipv4() { 20 } else { 40 }];
    emit_ip_header(src.ip(), dst.ip(), PROTO_TCP, 64, len, &mut pkt).unwrap();
    pkt.extend_from_slice(&tcp);
    pkt
}

/// A SYN as Linux sends it, with MP_CAPABLE (v1) or without.
fn syn(src: SocketAddr, dst: SocketAddr, isn: u32, mpc: bool) -> Vec<u8> {
    let mut opts = vec![
        TcpOption::MaxSegmentSize(1460),
        TcpOption::SackPermitted,
        TcpOption::Timestamps { tsval: 77, tsecr: 0 },
        TcpOption::NoOperation,
        TcpOption::WindowScale(7),
    ];
    if mpc {
        opts.push(TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable::syn(MpCapable::FLAG_H))));
    }
    segment(src, dst, isn, 0, Flags::SYN, &opts)
}

/// The third ACK of a handshake whose SYN/ACK had ISN `iss` (and, for
/// MPTCP, both keys).
fn third_ack(src: SocketAddr, dst: SocketAddr, isn: u32, iss: u32, keys: Option<(u64, u64)>) -> Vec<u8> {
    let mut opts = vec![TcpOption::NoOperation, TcpOption::NoOperation, TcpOption::Timestamps { tsval: 78, tsecr: 1 }];
    if let Some((ours, theirs)) = keys {
        opts.push(TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
            sender_key: Some(ours),
            receiver_key: Some(theirs),
            ..MpCapable::syn(MpCapable::FLAG_H)
        })));
    }
    segment(src, dst, isn.wrapping_add(1), iss.wrapping_add(1), Flags::ACK, &opts)
}

/// A spoofed source: random address in 100.64/10 and a random port.
fn spoofed(rng: &mut common::Rng) -> SocketAddr {
    let r = rng.next_u64();
    let ip = Ipv4Addr::from(0x6440_0000 | (r as u32 & 0x003f_ffff));
    SocketAddr::new(IpAddr::V4(ip), 1024 + ((r >> 32) as u16 % 60_000))
}

/// Everything `ep` sends now.
fn drain(ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let mut out = Vec::new();
    while let Some(n) = ep.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

/// Seq, ack, flags and the MP_CAPABLE sender key of a packet.
fn fields(pkt: &[u8]) -> (u32, u32, Flags, Option<u64>) {
    let ip = IpPacket::parse(pkt).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload).unwrap();
    let key = tcp.options().flatten().find_map(|o| match o {
        TcpOption::Mptcp(MptcpOption::MpCapable(m)) => m.sender_key,
        _ => None,
    });
    (tcp.seq(), tcp.ack(), tcp.flags(), key)
}

/// Delivers what is due on the links and runs due timers at `p.now`.
fn settle(p: &mut Pair) {
    for pkt in p.ab.take_due(p.now) {
        p.b.handle(p.now, &pkt);
    }
    for pkt in p.ba.take_due(p.now) {
        p.a.handle(p.now, &pkt);
    }
    if p.a.poll_timeout().is_some_and(|t| t <= p.now) {
        p.a.handle_timeout(p.now);
    }
    if p.b.poll_timeout().is_some_and(|t| t <= p.now) {
        p.b.handle_timeout(p.now);
    }
    p.flush();
}

#[test]
fn a_client_gets_through_a_flood_of_50000_spoofed_syns() {
    const FLOOD: usize = 50_000;
    const BACKLOG: usize = 128;
    let started = std::time::Instant::now();
    let mut p = Pair::with_links(cfg(true, 0), cfg(true, BACKLOG), link(), link(), 41);
    p.b.listen(80).unwrap();
    let server = p.server(80);
    let mut rng = common::Rng::new(99);
    let (mut sent, mut peak, mut peak_conns) = (0usize, 0usize, 0usize);
    let mut syn_wall = std::time::Duration::ZERO;
    let mut next_burst = p.now;
    let (mut client, mut ids): (Option<ConnId>, Option<(ConnId, ConnId)>) = (None, None);
    let (mut up, mut down) = (Bulk::new(MB, 1, 2), Bulk::new(MB, 2, 1));
    let done = |up: &Bulk, down: &Bulk| up.eof && down.eof && up.read == MB && down.read == MB;
    while p.now < Instant::from_micros(120_000_000) && !(sent == FLOOD && done(&up, &down)) {
        // 50 SYNs a millisecond: the flood lasts a second of virtual time.
        if sent < FLOOD && p.now >= next_burst {
            for _ in 0..50.min(FLOOD - sent) {
                let pkt = syn(spoofed(&mut rng), server, rng.next_u64() as u32, true);
                let t0 = std::time::Instant::now();
                p.b.handle(p.now, &pkt);
                syn_wall += t0.elapsed();
                sent += 1;
                peak = peak.max(p.b.half_open_count());
            }
            next_burst = p.now + Duration::from_millis(1);
        }
        if client.is_none() && sent >= 10_000 {
            client = Some(p.a.connect(p.now, p.a_addr, server).unwrap());
        }
        if let (Some(a), None) = (client, ids) {
            ids = accepted(&p).map(|b| (a, b));
        }
        if let Some((a, b)) = ids {
            up.pump(&mut p.a, a);
            down.pump(&mut p.b, b);
        }
        p.flush();
        peak = peak.max(p.b.half_open_count());
        peak_conns = peak_conns.max(p.b.connection_count());
        let wake = if sent < FLOOD { Some(next_burst) } else { None };
        let Some(t) = p.next_time().into_iter().chain(wake).min() else { break };
        p.now = p.now.max(t);
        settle(&mut p);
    }
    let st = p.b.stats_endpoint().clone();
    eprintln!(
        "flood {sent} SYNs: half-open peak {peak}, connections peak {peak_conns}, cookies sent {}, \
         recv {}, failed {}, {:.1} s virtual, {:.2} s wall ({:.2} us a SYN in `handle`)",
        st.syncookies_sent,
        st.syncookies_recv,
        st.syncookies_failed,
        p.now.as_micros() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        syn_wall.as_secs_f64() * 1e6 / sent as f64
    );
    assert_eq!(sent, FLOOD);
    assert!(done(&up, &down), "1 MB each way: up {} down {}", up.read, down.read);
    assert!(!up.corrupt && !down.corrupt, "intact");
    let (_, b) = ids.unwrap();
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "MPTCP, no fallback");
    assert!(peak <= BACKLOG, "half-open peak {peak}");
    assert!(peak_conns <= BACKLOG + 1, "connections peak {peak_conns}");
    assert_eq!(st.syncookies_recv, 1, "the client came through a cookie");
    assert!(st.syncookies_sent as usize + BACKLOG >= FLOOD, "cookies sent: {}", st.syncookies_sent);
    assert_eq!(st.listen_drops, 0, "every SYN was answered");
    assert_eq!(st.req_q_full_do_cookies, st.syncookies_sent);
    // The spoofed half-open connections time out (their SYN/ACKs unanswered):
    // nothing is left of the flood.
    let drained = p.run_until(Duration::from_secs(300), |p| p.b.half_open_count() == 0);
    assert!(drained, "half-open left: {}", p.b.half_open_count());
    assert_eq!(p.b.connection_count(), 1, "only the client's connection is left");
}

/// Full-mesh MPTCP with room for joins, every handshake through a cookie.
fn cookie_mptcp_cfg() -> EndpointConfig {
    let mut c = cfg(true, 0);
    c.mptcp.path_manager = "fullmesh".to_owned();
    c.mptcp.max_subflows = 8;
    c
}

#[test]
fn a_cookie_connection_is_mptcp_both_ways_and_takes_a_join() {
    let mut p = Pair::new(cookie_mptcp_cfg(), link(), 42);
    let (a, b) = open(&mut p);
    let st = p.b.stats_endpoint();
    assert_eq!((st.syncookies_sent, st.syncookies_recv, st.syncookies_failed), (1, 1, 0));
    assert_eq!(p.b.half_open_count(), 0);
    assert_eq!(p.a.mptcp_fallback(a), Some(None), "MPTCP, no fallback");
    assert_eq!(p.b.mptcp_fallback(b), Some(None));
    // The join's HMACs are over both keys: it completes only if both sides
    // hold the same two.
    let second: IpAddr = "10.0.1.1".parse().unwrap();
    p.a.add_address(second);
    let joined = p.run_until(Duration::from_secs(5), |p| p.b.mptcp_counters(b).is_some_and(|c| c.joins == 1));
    assert!(joined, "join: {:?}", p.b.subflow_stats(b));
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let stats = p.b.subflow_stats(b).unwrap();
    assert_eq!(stats.len(), 2, "{stats:#?}");
    assert!(stats.iter().all(|s| s.bytes_sent > 0), "both subflows carried data: {stats:#?}");
}

#[test]
fn a_plain_tcp_cookie_connection_keeps_what_the_syn_offered() {
    let mut p = Pair::new(cfg(false, 0), link(), 43);
    let (a, b) = open(&mut p);
    assert_eq!(p.b.stats_endpoint().syncookies_recv, 1);
    assert_eq!(p.b.mptcp_fallback(b), None, "plain TCP");
    // The handshake's RTT from the TSecr of the ACK (two 5 ms hops).
    let srtt = p.b.stats(b).unwrap().srtt_us;
    assert!((10_000..=11_000).contains(&srtt), "srtt {srtt} us");
    // MSS 1460 from the table, less the timestamps the ACK showed agreed.
    assert_eq!(p.b.stats(b).unwrap().mss, 1448);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let sb = p.b.stats(b).unwrap();
    // Window scaling kept: the advertised window went past 64 KiB.
    assert!(p.a.stats(a).unwrap().snd_wnd > 65_535, "scaled window: {}", p.a.stats(a).unwrap().snd_wnd);
    assert!(sb.bytes_received == MB && sb.bytes_sent == MB, "{sb:?}");
}

/// A server (syn_backlog 0) that sent a cookie for one SYN from `src`:
/// the SYN/ACK's ISN and MPTCP key.
fn cookie_server(mptcp: bool, src: SocketAddr, isn: u32) -> (Endpoint, SocketAddr, u32, Option<u64>) {
    let mut ep = Endpoint::new(cfg(mptcp, 0), 5);
    let addr: IpAddr = "10.0.0.2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let server = SocketAddr::new(addr, 80);
    ep.handle(Instant::from_micros(1_000_000), &syn(src, server, isn, mptcp));
    let out = drain(&mut ep, Instant::from_micros(1_000_000));
    assert_eq!(out.len(), 1);
    let (iss, ack, flags, key) = fields(&out[0]);
    assert_eq!((ack, flags), (isn.wrapping_add(1), Flags::SYN | Flags::ACK));
    assert_eq!(ep.connection_count(), 0, "a cookie keeps nothing");
    (ep, server, iss, key)
}

#[test]
fn forged_wrongly_keyed_and_stale_cookie_acks_are_refused_and_counted() {
    let src: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let (mut ep, server, iss, key) = cookie_server(true, src, 1000);
    let key = key.expect("MP_CAPABLE in the cookie SYN/ACK");
    let t = Instant::from_micros(2_000_000);
    let rsts = |ep: &Endpoint| ep.stats_endpoint().out_rsts;
    // A cookie off by one, another peer ISN, another source port.
    let other: SocketAddr = "10.0.0.1:40001".parse().unwrap();
    for (s, isn, cookie) in [(src, 1000, iss.wrapping_add(1)), (src, 1001, iss), (other, 1000, iss)] {
        ep.handle(t, &third_ack(s, server, isn, cookie, Some((9, key))));
    }
    // The right cookie with a key that is not ours.
    ep.handle(t, &third_ack(src, server, 1000, iss, Some((9, key ^ 1))));
    assert_eq!(drain(&mut ep, t).iter().filter(|p| fields(p).2.rst()).count(), 4, "each answered with RST");
    assert_eq!(ep.stats_endpoint().syncookies_failed, 4);
    assert_eq!(ep.connection_count(), 0);
    // Stale: 200 s later (cookies still in use: another SYN was cookied at 190 s).
    let late = Instant::from_micros(190_000_000);
    ep.handle(late, &syn("10.0.0.3:1".parse().unwrap(), server, 5, true));
    drain(&mut ep, late);
    let later = Instant::from_micros(200_000_000);
    ep.handle(later, &third_ack(src, server, 1000, iss, Some((9, key))));
    assert_eq!(ep.stats_endpoint().syncookies_failed, 5);
    assert_eq!(ep.connection_count(), 0);
    // The good one, in time: a connection, MPTCP with the key of the SYN/ACK.
    let (mut ep, server, iss, key) = cookie_server(true, src, 1000);
    let before = rsts(&ep);
    ep.handle(t, &third_ack(src, server, 1000, iss, Some((9, key.unwrap()))));
    assert_eq!(ep.stats_endpoint().syncookies_recv, 1);
    assert_eq!(ep.connection_count(), 1);
    assert_eq!(rsts(&ep), before);
    let id = std::iter::from_fn(|| ep.poll_event())
        .find_map(|e| match e {
            mptcp_proto::Event::Accepted { id, .. } => Some(id),
            _ => None,
        })
        .expect("accepted");
    assert_eq!(ep.mptcp_fallback(id), Some(None));
}

#[test]
fn without_cookies_in_use_an_ack_to_a_listener_is_reset_as_before() {
    let mut ep = Endpoint::new(cfg(true, 128), 5);
    let addr: IpAddr = "10.0.0.2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let t = Instant::from_micros(1_000_000);
    ep.handle(t, &third_ack("10.0.0.1:40000".parse().unwrap(), SocketAddr::new(addr, 80), 1, 2, None));
    assert_eq!(ep.stats_endpoint().out_rsts, 0);
    assert_eq!(drain(&mut ep, t).len(), 1);
    let st = ep.stats_endpoint();
    assert_eq!((st.out_rsts, st.syncookies_failed, st.syncookies_sent), (1, 0, 0));
}

#[test]
fn with_cookies_off_syns_beyond_the_backlog_are_dropped_and_counted() {
    let mut c = cfg(true, 2);
    c.syn_cookies = false;
    let mut ep = Endpoint::new(c, 5);
    let addr: IpAddr = "10.0.0.2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let mut rng = common::Rng::new(3);
    let t = Instant::from_micros(1_000_000);
    for _ in 0..10 {
        ep.handle(t, &syn(spoofed(&mut rng), SocketAddr::new(addr, 80), 7, true));
    }
    assert_eq!(drain(&mut ep, t).len(), 2, "two SYN/ACKs");
    let st = ep.stats_endpoint();
    assert_eq!((st.req_q_full_drop, st.listen_drops, st.syncookies_sent), (8, 8, 0));
    assert_eq!((ep.half_open_count(), ep.connection_count()), (2, 2));
}

/// The options of a packet's TCP header, with what differs by design
/// between a connection's SYN/ACK and a cookie's (TSval, key) zeroed.
fn shape(pkt: &[u8]) -> (u16, Vec<String>) {
    let ip = IpPacket::parse(pkt).unwrap();
    let tcp = TcpPacket::new_checked(ip.payload).unwrap();
    let opts = tcp
        .options()
        .flatten()
        .map(|o| match o {
            TcpOption::Timestamps { tsecr, .. } => format!("ts ecr {tsecr}"),
            TcpOption::Mptcp(MptcpOption::MpCapable(m)) => format!("mpc v{} {:#x} {}", m.version, m.flags, m.len()),
            o => format!("{o:?}"),
        })
        .collect();
    (tcp.window(), opts)
}

#[test]
fn a_cookie_synack_is_shaped_as_the_connections_synack() {
    let src: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    for mptcp in [false, true] {
        let mut normal = Endpoint::new(cfg(mptcp, 1024), 5);
        let addr: IpAddr = "10.0.0.2".parse().unwrap();
        normal.add_address(addr);
        normal.listen(80).unwrap();
        let t = Instant::from_micros(1_000_000);
        normal.handle(t, &syn(src, SocketAddr::new(addr, 80), 1000, mptcp));
        let ours = drain(&mut normal, t);
        let (cookied, _, _, _) = cookie_server(mptcp, src, 1000);
        let mut cookied = cookied;
        cookied.handle(t, &syn(src, SocketAddr::new(addr, 80), 1000, mptcp));
        let theirs = drain(&mut cookied, t);
        assert_eq!(shape(&ours[0]), shape(&theirs[0]), "mptcp {mptcp}");
        assert_eq!(ours[0].len(), theirs[0].len());
    }
}

#[test]
fn random_acks_never_make_connections() {
    let src: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let (mut ep, server, iss, key) = cookie_server(true, src, 1000);
    let mut rng = common::Rng::new(11);
    let t = Instant::from_micros(2_000_000);
    let mut n = 0u64;
    for i in 0..20_000u32 {
        let r = rng.next_u64();
        // Some from the very source that has a cookie, the rest anywhere.
        let s = if i % 4 == 0 { src } else { spoofed(&mut rng) };
        let (seq, ack) = (r as u32, (r >> 32) as u32);
        let keys = match i % 3 {
            0 => None,
            1 => Some((rng.next_u64(), rng.next_u64())),
            _ => Some((rng.next_u64(), key.unwrap_or(0))),
        };
        if s == src && seq == 1000 && ack == iss {
            continue;
        }
        ep.handle(t, &third_ack(s, server, seq, ack, keys));
        n += 1;
        if i % 256 == 0 {
            drain(&mut ep, t);
        }
    }
    drain(&mut ep, t);
    let st = ep.stats_endpoint();
    assert_eq!(ep.connection_count(), 0);
    assert_eq!(st.syncookies_recv, 0);
    assert_eq!(st.syncookies_failed, n, "each one checked and refused");
}

#[test]
fn joins_beyond_the_join_backlog_are_refused_and_counted() {
    let mut c = cookie_mptcp_cfg();
    c.syn_backlog = 128;
    c.join_backlog = 1;
    let mut p = Pair::new(c, link(), 44);
    let (a, b) = open(&mut p);
    // Two addresses at once: two join SYNs arrive together; one is half-open.
    p.a.add_address("10.0.1.1".parse().unwrap());
    p.a.add_address("10.0.2.1".parse().unwrap());
    let joined = |p: &mut Pair| p.b.mptcp_counters(b).is_some_and(|c| c.joins >= 1);
    p.run_until(Duration::from_secs(5), |p| p.b.stats_endpoint().join_syn_backlog_drop >= 1 && joined(p));
    assert!(p.b.stats_endpoint().join_syn_backlog_drop >= 1, "{:?} {:?}", p.b.stats_endpoint(), p.a.subflow_stats(a));
    assert!(p.b.mptcp_counters(b).unwrap().joins >= 1, "the first join went through");
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 128,
        rng_seed: proptest::test_runner::RngSeed::Fixed(8684),
        ..Default::default()
    })]
    /// Any ACK (any source port, sequence and acknowledgment numbers, keys
    /// or none, even our own key) while cookies are in use: checked,
    /// refused, never a connection, never a panic.
    #[test]
    fn no_random_ack_makes_a_connection(
        port in 1u16..,
        seq: u32,
        ack: u32,
        mpc in 0u8..3,
        their_key: u64,
        flags in proptest::sample::select(vec![Flags::ACK, Flags::ACK | Flags::PSH, Flags::ACK | Flags::FIN]),
    ) {
        let src = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
        let (mut ep, server, iss, key) = cookie_server(true, src, 1000);
        proptest::prop_assume!(!(seq == 1000 && ack == iss));
        let keys = match mpc {
            0 => None,
            1 => Some((their_key, their_key.rotate_left(7))),
            _ => Some((their_key, key.unwrap_or(0))),
        };
        let mut pkt = third_ack(src, server, seq, ack, keys);
        // The flags byte (IPv4 header of 20, TCP flags at 13), checksum redone.
        pkt[33] = flags.0;
        pkt[36..38].copy_from_slice(&[0, 0]);
        let c = tcp_checksum(src.ip(), server.ip(), &pkt[20..]);
        pkt[36..38].copy_from_slice(&c.to_be_bytes());
        ep.handle(Instant::from_micros(2_000_000), &pkt);
        drain(&mut ep, Instant::from_micros(2_000_000));
        proptest::prop_assert_eq!(ep.connection_count(), 0);
        proptest::prop_assert_eq!(ep.stats_endpoint().syncookies_recv, 0);
        proptest::prop_assert_eq!(ep.stats_endpoint().syncookies_failed, 1);
    }
}

#[test]
fn a_lost_third_ack_is_made_good_by_the_first_data_with_mp_capable() {
    let mut p = Pair::new(cookie_mptcp_cfg(), link(), 45);
    // A's first pure ACK (the third ACK) is lost.
    let mut dropped = false;
    p.ab.filter = Some(Box::new(move |pkt: &[u8]| {
        let lost = !dropped && common::tcp_flags(pkt) == Flags::ACK.0 && common::tcp_payload_len(pkt) == 0;
        dropped |= lost;
        lost
    }));
    p.b.listen(80).unwrap();
    let a = p.a.connect(p.now, p.a_addr, p.server(80)).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.state(a) == Some(mptcp_proto::State::Established)));
    assert_eq!(p.b.connection_count(), 0, "nothing on B yet");
    assert_eq!(p.a.write(a, b"first bytes").unwrap(), 11);
    assert!(p.run_until(Duration::from_secs(5), |p| accepted(p).is_some()), "accepted from the data");
    let b = accepted(&p).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.b.readable(b) == 11));
    let mut buf = [0u8; 32];
    assert_eq!(p.b.read(b, &mut buf).unwrap(), 11);
    assert_eq!(&buf[..11], b"first bytes");
    assert_eq!(p.b.mptcp_fallback(b), Some(None), "MPTCP: the data's MP_CAPABLE had both keys");
    assert_eq!(p.b.stats_endpoint().syncookies_recv, 1);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
}

#[test]
fn ipv6_cookies_work_and_keep_the_ipv6_default_mss() {
    let mut ep = Endpoint::new(cfg(false, 0), 5);
    let addr: IpAddr = "fd00::2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let (server, src): (SocketAddr, SocketAddr) = (SocketAddr::new(addr, 80), "[fd00::1]:40000".parse().unwrap());
    let t = Instant::from_micros(1_000_000);
    // No MSS option: 1220 for IPv6 (RFC 9293 §3.7.1).
    ep.handle(t, &segment(src, server, 500, 0, Flags::SYN, &[TcpOption::SackPermitted]));
    let out = drain(&mut ep, t);
    let (iss, ack, flags, _) = fields(&out[0]);
    assert_eq!((ack, flags, ep.connection_count()), (501, Flags::SYN | Flags::ACK, 0));
    ep.handle(t, &segment(src, server, 501, iss.wrapping_add(1), Flags::ACK, &[]));
    assert_eq!(ep.connection_count(), 1);
    let id = std::iter::from_fn(|| ep.poll_event())
        .find_map(|e| match e {
            mptcp_proto::Event::Accepted { id, .. } => Some(id),
            _ => None,
        })
        .expect("accepted");
    assert_eq!(ep.stats(id).unwrap().mss, 1220);
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(4987),
        ..Default::default()
    })]
    /// A SYN with any option bytes (malformed ones too) beyond the limit:
    /// one SYN/ACK at most, no connection, no panic; and ACKing that cookie
    /// makes one connection at most.
    #[test]
    fn any_syn_options_get_at_most_one_cookie(opts in proptest::collection::vec(proptest::num::u8::ANY, 0..40), mptcp: bool) {
        let mut ep = Endpoint::new(cfg(mptcp, 0), 5);
        let addr: IpAddr = "10.0.0.2".parse().unwrap();
        ep.add_address(addr);
        ep.listen(80).unwrap();
        let (server, src): (SocketAddr, SocketAddr) = (SocketAddr::new(addr, 80), "10.0.0.1:40000".parse().unwrap());
        let t = Instant::from_micros(1_000_000);
        ep.handle(t, &segment_raw(src, server, 7, 0, Flags::SYN, &opts));
        let out = drain(&mut ep, t);
        proptest::prop_assert!(out.len() <= 1);
        proptest::prop_assert_eq!(ep.connection_count(), 0);
        // (An MP_JOIN among the bytes is answered with a RST instead.)
        if let Some(synack) = out.first().filter(|p| !fields(p).2.rst()) {
            let (iss, _, flags, key) = fields(synack);
            proptest::prop_assert_eq!(flags, Flags::SYN | Flags::ACK);
            ep.handle(t, &third_ack(src, server, 7, iss, key.map(|k| (9, k))));
            drain(&mut ep, t);
            proptest::prop_assert_eq!(ep.connection_count(), 1);
            proptest::prop_assert_eq!(ep.stats_endpoint().syncookies_recv, 1);
        }
    }
}
