//! The default, kernel-style path manager between two of our endpoints:
//! endpoint flags (`subflow`, `signal`, `backup`, `fullmesh`), the limits on
//! subflows and on announced addresses, announcing with a port, the server
//! side joining the client's announcement, and a failed subflow re-opened.

mod common;

use common::*;
use mptcp_proto::pm::EndpointFlags;
use mptcp_proto::time::Duration;
use mptcp_proto::{ConnId, EndpointConfig};
use std::net::IpAddr;

const MB: u64 = 1 << 20;

fn cfg(subflows: usize, add_addr_accepted: usize) -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    assert_eq!(cfg.mptcp.path_manager, "kernel", "the kernel-style manager is the default");
    cfg.mptcp.max_subflows = subflows + 1;
    cfg.mptcp.add_addr_accepted = add_addr_accepted;
    cfg
}

fn link() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(5), rate_bps: 100_000_000, queue_bytes: 1_000_000, ..Default::default() }
}

fn flags(s: &str) -> EndpointFlags {
    EndpointFlags::parse(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn remotes(p: &Pair, a: ConnId) -> Vec<String> {
    p.a.subflow_stats(a).unwrap().iter().map(|s| format!("{}->{}", s.local, s.remote)).collect()
}

#[test]
fn a_subflow_endpoint_opens_one_join_and_an_unflagged_address_none() {
    let mut p = Pair::new(cfg(2, 0), link(), 61);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow"), None);
    p.a.add_address(ip("10.0.2.1"));
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2, "{:?}", remotes(&p, a));
    assert!(s[1].local.starts_with("10.0.1.1:") && s[1].remote == "10.0.0.2:80", "{:?}", remotes(&p, a));
    assert!(s[1].bytes_sent > 0, "the join carried data");
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 1);
}

#[test]
fn the_subflow_limit_caps_the_joins() {
    let mut p = Pair::new(cfg(1, 0), link(), 62);
    for a in ["10.0.1.1", "10.0.2.1", "10.0.3.1"] {
        p.a.add_endpoint(ip(a), flags("subflow"), None);
    }
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 2, "one additional subflow: {:?}", remotes(&p, a));

    let mut p = Pair::new(cfg(0, 0), link(), 63);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 1, "limit 0: no join");
}

#[test]
fn an_announcement_is_echoed_but_joined_only_within_add_addr_accepted() {
    // The kernel's default limits: the ADD_ADDR is echoed, nothing is opened.
    let mut p = Pair::with_links(cfg(2, 0), cfg(2, 0), link(), link(), 64);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    assert_eq!(p.a.mptcp_counters(a).unwrap().add_addr, 1);
    assert_eq!(p.b.mptcp_counters(b).unwrap().echo_add, 1);
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 1);

    // add_addr_accepted 1: joined, from the initial subflow's address.
    let mut p = Pair::with_links(cfg(2, 1), cfg(2, 0), link(), link(), 65);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2, "{:?}", remotes(&p, a));
    assert_eq!(s[1].remote, "10.0.1.2:80");
    assert!(s[1].local.starts_with("10.0.0.1:"));
}

#[test]
fn an_announcement_with_a_port_is_joined_on_that_port() {
    let mut p = Pair::with_links(cfg(2, 1), cfg(2, 0), link(), link(), 66);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal"), Some(8080));
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2, "{:?}", remotes(&p, a));
    assert_eq!(s[1].remote, "10.0.1.2:8080");
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 1);
}

#[test]
fn fullmesh_endpoints_make_a_two_by_two_mesh() {
    let mut p = Pair::with_links(cfg(8, 8), cfg(8, 8), link(), link(), 67);
    p.a.add_endpoint(p.a_addr, flags("subflow,fullmesh"), None);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow,fullmesh"), None);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, 2 * MB, Duration::from_secs(60));
    let mut r = remotes(&p, a);
    r.iter_mut().for_each(|s| *s = s.split("->").map(|h| h.split(':').next().unwrap()).collect::<Vec<_>>().join(">"));
    r.sort();
    assert_eq!(r, ["10.0.0.1>10.0.0.2", "10.0.0.1>10.0.1.2", "10.0.1.1>10.0.0.2", "10.0.1.1>10.0.1.2"]);
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 3);
}

#[test]
fn a_backup_endpoint_joins_as_backup_and_carries_no_data_while_the_other_works() {
    let mut p = Pair::new(cfg(2, 0), link(), 68);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow,backup"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, 2 * MB, Duration::from_secs(60));
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2);
    assert!(s[1].backup, "{s:#?}");
    assert!(p.b.subflow_stats(b).unwrap()[1].backup, "B saw the B bit");
    assert!(s[1].bytes_sent < 64 * 1024, "backup carried {} bytes", s[1].bytes_sent);
}

#[test]
fn the_server_joins_the_clients_announcement() {
    let mut p = Pair::with_links(cfg(2, 0), cfg(2, 1), link(), link(), 69);
    p.a.add_endpoint(ip("10.0.1.1"), flags("signal"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    let s = p.b.subflow_stats(b).unwrap();
    assert_eq!(s.len(), 2, "{s:#?}");
    assert!(s[1].remote.starts_with("10.0.1.1:"), "{s:#?}");
    assert_eq!(p.a.mptcp_counters(a).unwrap().joins, 1, "A accepted the server's join");
}

#[test]
fn a_reset_subflow_is_opened_again_while_its_addresses_remain() {
    let mut p = Pair::new(cfg(2, 0), link(), 70);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow"), None);
    let (a, b) = open(&mut p);
    // Long enough that the join, opened again behind a full queue (a
    // round trip of about 100 ms), still has data to carry.
    let mut ta = Bulk::new(8 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let mut forged = false;
    let mut first_join = String::new();
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        if !forged && tb.read > MB && p.a.mptcp_counters(a).is_some_and(|c| c.joins == 1) {
            first_join = p.a.subflow_stats(a).unwrap()[1].local.clone();
            // A pure ACK from B on the join, turned into a RST (its sequence
            // number is exactly what A expects), kills that subflow at A.
            for mut pkt in p.ba.take_due(p.now + Duration::from_secs(1)) {
                let src = IpAddr::from([pkt[12], pkt[13], pkt[14], pkt[15]]);
                if !forged && src == ip("10.0.0.2") && tcp_payload_len(&pkt) == 0 && is_to(&pkt, "10.0.1.1") {
                    pkt[20 + 13] = 0x04;
                    common::pkt::fix(&mut pkt);
                    forged = true;
                }
                p.a.handle(p.now, &pkt);
            }
        }
        ta.eof && tb.eof
    });
    assert!(done && forged, "forged {forged}, b read {}", tb.read);
    assert!(!tb.corrupt);
    // The new join took the place of the one reset (another port).
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2, "the join was opened again: {:?}", remotes(&p, a));
    assert_ne!(s[1].local, first_join);
    assert!(s[1].local.starts_with("10.0.1.1:") && s[1].bytes_sent > 0, "{s:#?}");
    assert_eq!(p.a.mptcp_counters(a).unwrap().joins, 2);
}

fn is_to(pkt: &[u8], dst: &str) -> bool {
    IpAddr::from([pkt[16], pkt[17], pkt[18], pkt[19]]) == ip(dst)
}

#[test]
fn the_peers_c_flag_steers_joins_to_its_announced_address() {
    // B sets C: no subflow to its initial address; its announced one is joined.
    let mut cfg_b = cfg(2, 0);
    cfg_b.mptcp.deny_join_initial = true;
    let mut p = Pair::with_links(cfg(2, 1), cfg_b, link(), link(), 71);
    p.a.add_endpoint(ip("10.0.1.1"), flags("subflow"), None);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal"), None);
    let (a, b) = open(&mut p);
    transfer(&mut p, a, b, MB, Duration::from_secs(60));
    assert_eq!(p.a.mptcp_peer_denies_join_initial(a), Some(true));
    let r = remotes(&p, a);
    assert!(r.iter().skip(1).all(|s| !s.ends_with("->10.0.0.2:80")), "a join to B's initial address: {r:?}");
    assert!(r.iter().any(|s| s.ends_with("->10.0.1.2:80")), "B's announced address joined: {r:?}");
    assert_eq!(p.b.stats_endpoint().join_rejected, 0, "nothing had to be refused");
}

#[test]
fn a_join_to_our_backup_endpoint_is_a_backup_and_mp_prio_switches_it() {
    let mut p = Pair::with_links(cfg(2, 1), cfg(2, 0), link(), link(), 72);
    p.b.add_endpoint(ip("10.0.1.2"), flags("signal,backup"), None);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(4 * MB, 1, 2);
    let mut tb = Bulk::new(4 * MB, 2, 1);
    let mut backup_seen = (false, false);
    let mut at_switch = 0;
    let mut switched = false;
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        let (sa, sb) = (p.a.subflow_stats(a).unwrap(), p.b.subflow_stats(b).unwrap());
        if !switched && sa.len() == 2 && sb.len() == 2 && tb.read > MB {
            backup_seen = (sa[1].backup, sb[1].backup);
            at_switch = sa[1].bytes_received;
            // B's endpoint stops being a backup: MP_PRIO tells A.
            p.b.set_address_backup(ip("10.0.1.2"), false);
            switched = true;
        }
        ta.eof && tb.eof
    });
    assert!(done && switched, "a read {} b read {}: {:?}", ta.read, tb.read, remotes(&p, a));
    assert!(!ta.corrupt && !tb.corrupt);
    assert_eq!(backup_seen, (true, true), "B's SYN/ACK carried the B bit");
    assert_eq!(p.b.mptcp_counters(b).unwrap().mp_prio_tx, 1);
    assert_eq!(p.a.mptcp_counters(a).unwrap().mp_prio_rx, 1);
    let s = p.a.subflow_stats(a).unwrap();
    assert!(!s[1].backup, "no longer a backup on A: {s:#?}");
    assert!(s[1].bytes_received > at_switch, "B sends on it once it is regular: {s:#?}");
}

#[test]
fn a_subflow_of_the_other_family_joins_and_carries_data() {
    // An IPv6 join on a connection opened over IPv4 (a peer can announce an
    // address of either family): its segments carry an IPv6 header, written
    // behind room of its own size, not the initial subflow's.
    let mut p = Pair::new(cfg(2, 0), link(), 65);
    p.a.add_address(ip("fd00::1"));
    p.b.add_address(ip("fd00::2"));
    let (a, b) = open(&mut p);
    let v6_server: std::net::SocketAddr = "[fd00::2]:80".parse().unwrap();
    // Fully established once the first DATA_ACK came back.
    let mut ta = Bulk::new(8 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let mut joined = false;
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        if !joined && tb.read > 0 {
            joined = true;
            let refused = p.a.add_subflow(p.now, a, ip("10.0.0.1"), v6_server, 6, false);
            assert!(refused.is_err(), "an IPv4 address to an IPv6 one is no subflow");
            p.a.add_subflow(p.now, a, ip("fd00::1"), v6_server, 5, false).unwrap();
        }
        ta.eof && tb.eof
    });
    assert!(done, "stalled: B read {}", tb.read);
    assert!(!tb.corrupt);
    let s = p.a.subflow_stats(a).unwrap();
    assert_eq!(s.len(), 2, "{:?}", remotes(&p, a));
    assert!(s[1].local.starts_with("[fd00::1]:") && s[1].remote == "[fd00::2]:80", "{:?}", remotes(&p, a));
    assert!(s[1].bytes_sent > 0, "the IPv6 join carried data");
    assert_eq!(p.b.mptcp_counters(b).unwrap().joins, 1);
    assert_eq!(p.b.stats_endpoint().in_csum_errors, 0, "no corrupt packet");
}

#[test]
fn add_subflow_keeps_to_the_subflow_limit() {
    let mut p = Pair::new(cfg(1, 0), link(), 66);
    for x in ["10.0.1.1", "10.0.2.1"] {
        p.a.add_address(ip(x));
    }
    let (a, _b) = open(&mut p);
    let server = p.server(80);
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).is_some()));
    p.a.add_subflow(p.now, a, ip("10.0.1.1"), server, 1, false).unwrap();
    let over = p.a.add_subflow(p.now, a, ip("10.0.2.1"), server, 2, false);
    assert!(over.is_err(), "a second join beyond the limit of one: {over:?}");
}

/// Break before make (singlepath): the only subflow's address goes away, so
/// its REMOVE_ADDR of id 0 (RFC 8684 §3.4.2: the initial subflow's address)
/// has no live subflow to ride at that moment. It waits for the next one to
/// be established and goes out on it, and B closes the initial subflow
/// there and then; it used to keep it and retransmit on the dead path until
/// its RTO gave up (6 s in the simulator's handover / singlepath).
#[test]
fn singlepath_withdraws_id_0_on_the_subflow_that_replaces_it() {
    use std::cell::Cell;
    use std::rc::Rc;
    let mut c = cfg(1, 0);
    c.mptcp.path_manager = "singlepath".to_owned();
    let mut p = Pair::new(c, link(), 75);
    p.a.add_address(ip("10.0.1.1"));
    let (a, b) = open(&mut p);
    let gone = Rc::new(Cell::new(false));
    let (g1, g2) = (gone.clone(), gone.clone());
    let first = |pkt: &[u8]| pkt[12..16] == [10, 0, 0, 1] || pkt[16..20] == [10, 0, 0, 1];
    p.ab.filter = Some(Box::new(move |pkt| g1.get() && first(pkt)));
    p.ba.filter = Some(Box::new(move |pkt| g2.get() && first(pkt)));
    let mut ta = Bulk::new(0, 1, 2);
    let mut tb = Bulk::new(4 * MB, 2, 1);
    let mut removed_at = None;
    let mut closed_at = None;
    let done = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        if removed_at.is_none() && ta.read > MB {
            gone.set(true);
            p.a.remove_address(p.now, ip("10.0.0.1"));
            removed_at = Some(p.now);
        }
        let initial = p.b.subflow_stats(b).and_then(|s| s.first().map(|s| s.state));
        if closed_at.is_none() && removed_at.is_some() && initial != Some(mptcp_proto::State::Established) {
            closed_at = Some(p.now);
        }
        ta.eof && tb.eof
    });
    assert!(done && !ta.corrupt && !tb.corrupt, "a read {} b read {}", ta.read, tb.read);
    assert_eq!(p.a.subflow_stats(a).unwrap().len(), 2, "{:?}", remotes(&p, a));
    assert_eq!(p.b.mptcp_counters(b).unwrap().rm_addr, 1, "the REMOVE_ADDR reached B");
    let after = closed_at.zip(removed_at).map(|(c, r)| c - r);
    assert!(after.is_some_and(|d| d < Duration::from_secs(1)), "B closed the initial subflow {after:?} after");
    let retrans = p.b.subflow_stats(b).unwrap()[0].retransmitted_bytes;
    assert!(retrans < 100_000, "B did not keep retransmitting on the dead path: {retrans} bytes");
}
