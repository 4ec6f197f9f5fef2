//! The engine in memory: each policy opens exactly the subflows it should.

use super::*;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const ETH: u32 = 2;
const WLAN: u32 = 3;
const TOKEN: Token = 0xabcd;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A host with eth0 10.0.1.2/24 and wlan0 10.0.2.2/24, a connection from
/// eth0 to 10.0.1.1:5201, established at t=0.
fn engine(p: Policy) -> (Engine, Vec<Action>) {
    let mut e = Engine::new(Config { default: p, rules: vec![] });
    let t = ms(0);
    e.handle(t, Event::LinkUp { ifindex: 1, name: "lo".into() });
    e.handle(t, Event::AddrAdded(LocalAddr { ifindex: 1, addr: ip("127.0.0.1"), prefix_len: 8 }));
    e.handle(t, Event::LinkUp { ifindex: ETH, name: "eth0".into() });
    e.handle(t, Event::AddrAdded(LocalAddr { ifindex: ETH, addr: ip("10.0.1.2"), prefix_len: 24 }));
    e.handle(t, Event::LinkUp { ifindex: WLAN, name: "wlan0".into() });
    e.handle(t, Event::AddrAdded(LocalAddr { ifindex: WLAN, addr: ip("10.0.2.2"), prefix_len: 24 }));
    let info = conn_info(false, false);
    assert!(e.handle(t, Event::ConnCreated(info.clone())).is_empty(), "nothing before ESTABLISHED");
    let a = e.handle(t, Event::ConnEstablished(info));
    (e, a)
}

fn conn_info(server_side: bool, deny_join_id0: bool) -> ConnInfo {
    ConnInfo {
        token: TOKEN,
        local: sa("10.0.1.2:40000"),
        remote: sa("10.0.1.1:5201"),
        server_side,
        deny_join_id0,
        process: None,
    }
}

fn creates(a: &[Action]) -> Vec<(SocketAddr, u8, SocketAddr, bool)> {
    a.iter()
        .filter_map(|a| match a {
            Action::CreateSubflow { local, loc_id, remote, backup, .. } => Some((*local, *loc_id, *remote, *backup)),
            _ => None,
        })
        .collect()
}

fn sub(local: &str, remote: &str, loc_id: u8, rem_id: u8) -> SubflowInfo {
    SubflowInfo { token: TOKEN, local: sa(local), remote: sa(remote), loc_id, rem_id, backup: false, ifindex: None }
}

#[test]
fn fullmesh_joins_every_other_local_address_then_every_announced_one() {
    let (mut e, a) = engine(Policy::new(PolicyKind::Fullmesh));
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    let a = e.handle(ms(10), Event::AddrAnnounced { token: TOKEN, rem_id: 1, addr: sa("10.0.2.1:5201") });
    assert_eq!(
        creates(&a),
        vec![(sa("10.0.1.2:0"), 0, sa("10.0.2.1:5201"), false), (sa("10.0.2.2:0"), 1, sa("10.0.2.1:5201"), false)]
    );
    // Nothing more on an unrelated event: every slot is taken.
    let a = e.handle(ms(20), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    assert!(a.is_empty(), "{a:?}");
}

#[test]
fn fullmesh_respects_max_subflows_and_loopback_is_never_used() {
    let (mut e, a) = engine(Policy { max_subflows: 2, ..Policy::new(PolicyKind::Fullmesh) });
    assert_eq!(creates(&a).len(), 1);
    let a = e.handle(ms(10), Event::AddrAnnounced { token: TOKEN, rem_id: 1, addr: sa("10.0.2.1:5201") });
    assert!(creates(&a).is_empty(), "limit of 2 reached: {a:?}");
}

#[test]
fn same_subnet_pairs_only_addresses_of_one_subnet() {
    let (mut e, a) = engine(Policy { same_subnet: true, ..Policy::new(PolicyKind::Fullmesh) });
    assert!(creates(&a).is_empty(), "10.0.2.2 is not in 10.0.1.0/24: {a:?}");
    let a = e.handle(ms(10), Event::AddrAnnounced { token: TOKEN, rem_id: 1, addr: sa("10.0.2.1:5201") });
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.2.1:5201"), false)]);
}

#[test]
fn interface_deny_and_allow_rules() {
    let (_, a) = engine(Policy { deny: vec!["wlan*".into()], ..Policy::new(PolicyKind::Fullmesh) });
    assert!(creates(&a).is_empty(), "{a:?}");
    let (_, a) = engine(Policy { allow: vec!["eth*".into()], ..Policy::new(PolicyKind::Fullmesh) });
    assert!(creates(&a).is_empty(), "{a:?}");
    let (_, a) = engine(Policy { allow: vec!["eth*".into(), "wl?n0".into()], ..Policy::new(PolicyKind::Fullmesh) });
    assert_eq!(creates(&a).len(), 1);
}

#[test]
fn ndiffports_opens_n_minus_one_joins_on_the_initial_pair_from_chosen_ports() {
    let (_, a) = engine(Policy { subflows: 4, port_base: 30000, ..Policy::new(PolicyKind::Ndiffports) });
    assert_eq!(
        creates(&a),
        vec![
            (sa("10.0.1.2:30000"), 0, sa("10.0.1.1:5201"), false),
            (sa("10.0.1.2:30001"), 0, sa("10.0.1.1:5201"), false),
            (sa("10.0.1.2:30002"), 0, sa("10.0.1.1:5201"), false),
        ]
    );
    let (mut e, a) = engine(Policy { subflows: 2, ..Policy::new(PolicyKind::Ndiffports) });
    assert_eq!(creates(&a), vec![(sa("10.0.1.2:0"), 0, sa("10.0.1.1:5201"), false)]);
    // A port already taken: retried at once with an ephemeral port.
    let failed = a[0].clone();
    let (mut e2, a2) = engine(Policy { subflows: 2, port_base: 30000, ..Policy::new(PolicyKind::Ndiffports) });
    let a = e2.handle(ms(5), Event::ActionFailed { action: a2[0].clone(), errno: 98 });
    assert_eq!(creates(&a), vec![(sa("10.0.1.2:0"), 0, sa("10.0.1.1:5201"), false)]);
    // An announced address does not widen ndiffports.
    let a = e.handle(ms(10), Event::AddrAnnounced { token: TOKEN, rem_id: 1, addr: sa("10.0.2.1:5201") });
    assert!(creates(&a).is_empty(), "{a:?} after {failed:?}");
}

fn backup_policy() -> Policy {
    Policy { backup: vec!["wlan0".into()], ..Policy::new(PolicyKind::Backup) }
}

#[test]
fn backup_marks_the_chosen_interface_and_promotes_it_when_the_primary_link_goes_down() {
    let (mut e, a) = engine(backup_policy());
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), true)]);
    assert!(e.handle(ms(20), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0))).is_empty());
    let a = e.handle(ms(2000), Event::LinkDown { ifindex: ETH });
    assert_eq!(
        a,
        vec![
            Action::SetBackup { token: TOKEN, local: sa("10.0.2.2:41000"), remote: sa("10.0.1.1:5201"), backup: false },
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.1.2:40000"), remote: sa("10.0.1.1:5201") },
            Action::Remove { token: TOKEN, id: 0 },
        ]
    );
    // Its SUB_CLOSED is expected: no retry.
    let closed = Event::SubflowClosed { sub: sub("10.0.1.2:40000", "10.0.1.1:5201", 0, 0), error: None, reset: None };
    assert!(e.handle(ms(2001), closed).is_empty());
    // The link comes back: the primary is re-opened; the backup is demoted once it is up.
    let a = e.handle(ms(5000), Event::LinkUp { ifindex: ETH, name: "eth0".into() });
    assert_eq!(creates(&a), vec![(sa("10.0.1.2:0"), 0, sa("10.0.1.1:5201"), false)]);
    let a = e.handle(ms(5010), Event::SubflowEstablished(sub("10.0.1.2:42000", "10.0.1.1:5201", 0, 0)));
    assert_eq!(
        a,
        vec![Action::SetBackup {
            token: TOKEN,
            local: sa("10.0.2.2:41000"),
            remote: sa("10.0.1.1:5201"),
            backup: true
        }]
    );
}

#[test]
fn singlepath_opens_nothing_until_its_path_fails_then_makes_before_it_breaks() {
    let (mut e, a) = engine(Policy::new(PolicyKind::Singlepath));
    assert!(a.is_empty(), "{a:?}");
    let a = e.handle(ms(2000), Event::LinkDown { ifindex: ETH });
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    assert_eq!(a.len(), 1, "the initial subflow stays until the new one is up: {a:?}");
    let a = e.handle(ms(2010), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    assert_eq!(
        a,
        vec![
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.1.2:40000"), remote: sa("10.0.1.1:5201") },
            Action::Remove { token: TOKEN, id: 0 },
        ]
    );
    // eth0 back: single path keeps the path in use.
    assert!(e.handle(ms(3000), Event::LinkUp { ifindex: ETH, name: "eth0".into() }).is_empty());
}

#[test]
fn a_failed_subflow_is_recreated_with_backoff_and_a_prohibited_one_is_not() {
    let (mut e, a) = engine(Policy::new(PolicyKind::Fullmesh));
    assert_eq!(creates(&a).len(), 1);
    let s = sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0);
    e.handle(ms(10), Event::SubflowEstablished(s.clone()));
    let a = e.handle(ms(100), Event::SubflowClosed { sub: s.clone(), error: Some(110), reset: None });
    assert!(a.is_empty());
    assert_eq!(e.poll_timeout(), Some(ms(1100)));
    assert!(e.handle(ms(1099), Event::Timer).is_empty());
    let a = e.handle(ms(1100), Event::Timer);
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    // Fails again, before being established (SYN timeout): 2 s.
    let a = e.handle(
        ms(1200),
        Event::SubflowClosed { sub: sub("10.0.2.2:43000", "10.0.1.1:5201", 1, 0), error: Some(110), reset: None },
    );
    assert!(a.is_empty());
    assert_eq!(e.poll_timeout(), Some(ms(3200)));
    // Then prohibited by the peer: given up.
    let a = e.handle(ms(3200), Event::Timer);
    assert_eq!(creates(&a).len(), 1);
    let reset = Some(ResetReason { code: 3, transient: false });
    e.handle(
        ms(3300),
        Event::SubflowClosed { sub: sub("10.0.2.2:44000", "10.0.1.1:5201", 1, 0), error: Some(104), reset },
    );
    assert_eq!(e.poll_timeout(), None);
    let c = e.conn(TOKEN).unwrap();
    let s = c.subflows.iter().find(|s| s.key.local_ip == ip("10.0.2.2")).unwrap();
    assert_eq!(s.state, SubState::Failed { retry_at_ms: None });
    assert!(s.why.contains("prohibits"), "{}", s.why);
}

fn stale() -> Health {
    Health { rto_count: 3, unacked: 10, last_ack_ms: 2000, ..Health::default() }
}

#[test]
fn a_stale_join_is_reset_and_reopened_on_a_new_port() {
    let (mut e, _) = engine(Policy::new(PolicyKind::Fullmesh));
    e.handle(ms(10), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    let healthy = Health { rto_count: 0, unacked: 3, last_ack_ms: 5, ..Health::default() };
    let ev =
        |h| Event::SubflowHealth { token: TOKEN, local: sa("10.0.2.2:41000"), remote: sa("10.0.1.1:5201"), health: h };
    assert!(e.handle(ms(500), ev(healthy)).is_empty());
    let a = e.handle(ms(3000), ev(stale()));
    assert_eq!(
        a,
        vec![
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.2.2:41000"), remote: sa("10.0.1.1:5201") },
            Action::CreateSubflow {
                token: TOKEN,
                local: sa("10.0.2.2:0"),
                loc_id: 1,
                remote: sa("10.0.1.1:5201"),
                backup: false,
                ifindex: Some(WLAN)
            },
        ]
    );
    assert_eq!(e.counters().stale_resets, 1);
}

#[test]
fn a_stale_initial_subflow_fails_over_to_another_interface_then_closes() {
    let (mut e, a) = engine(Policy::new(PolicyKind::Singlepath));
    assert!(a.is_empty());
    let a = e.handle(
        ms(3000),
        Event::SubflowHealth {
            token: TOKEN,
            local: sa("10.0.1.2:40000"),
            remote: sa("10.0.1.1:5201"),
            health: stale(),
        },
    );
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    let a = e.handle(ms(3010), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    assert_eq!(
        a,
        vec![
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.1.2:40000"), remote: sa("10.0.1.1:5201") },
            Action::Remove { token: TOKEN, id: 0 },
        ]
    );
    assert_eq!(e.counters().initial_failovers, 1);
}

#[test]
fn deny_join_id0_keeps_joins_off_the_peers_initial_address() {
    let mut e = Engine::new(Config::default());
    e.handle(ms(0), Event::LinkUp { ifindex: ETH, name: "eth0".into() });
    e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: ETH, addr: ip("10.0.1.2"), prefix_len: 24 }));
    e.handle(ms(0), Event::LinkUp { ifindex: WLAN, name: "wlan0".into() });
    e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: WLAN, addr: ip("10.0.2.2"), prefix_len: 24 }));
    let a = e.handle(ms(0), Event::ConnEstablished(conn_info(false, true)));
    assert!(a.is_empty(), "{a:?}");
    let a = e.handle(ms(1), Event::AddrAnnounced { token: TOKEN, rem_id: 4, addr: sa("10.0.9.1:5201") });
    assert_eq!(creates(&a).len(), 2);
}

#[test]
fn a_server_announces_and_opens_nothing() {
    let p = Policy { announce: vec!["*".into(), "10.0.7.7:6000".into()], ..Policy::new(PolicyKind::Fullmesh) };
    let mut e = Engine::new(Config { default: p, rules: vec![] });
    e.handle(ms(0), Event::LinkUp { ifindex: ETH, name: "eth0".into() });
    e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: ETH, addr: ip("10.0.1.2"), prefix_len: 24 }));
    e.handle(ms(0), Event::LinkUp { ifindex: WLAN, name: "wlan0".into() });
    e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: WLAN, addr: ip("10.0.2.2"), prefix_len: 24 }));
    let a = e.handle(ms(0), Event::ConnEstablished(conn_info(true, false)));
    assert_eq!(
        a,
        vec![
            Action::Announce { token: TOKEN, id: 1, addr: sa("10.0.2.2:0") },
            Action::Announce { token: TOKEN, id: 2, addr: sa("10.0.7.7:6000") },
        ]
    );
    // The peer's joins are recorded, not answered.
    let a = e.handle(ms(5), Event::SubflowEstablished(sub("10.0.2.2:5201", "10.0.1.1:33000", 1, 0)));
    assert!(a.is_empty());
    assert_eq!(e.conn(TOKEN).unwrap().subflows.len(), 2);
}

#[test]
fn rules_choose_the_policy_per_connection_class() {
    let text = r#"
        [default]
        policy = "singlepath"

        [[rule]]
        name = "iperf"
        match = { remote_port = 5201 }
        policy = "ndiffports"
        subflows = 3
    "#;
    let cfg = Config::from_toml(text).unwrap();
    let mut e = Engine::new(cfg);
    e.handle(ms(0), Event::LinkUp { ifindex: ETH, name: "eth0".into() });
    e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: ETH, addr: ip("10.0.1.2"), prefix_len: 24 }));
    let a = e.handle(ms(0), Event::ConnEstablished(conn_info(false, false)));
    assert_eq!(creates(&a).len(), 2);
    assert_eq!(e.conn(TOKEN).unwrap().class, "iperf");
    let other = ConnInfo { token: 7, remote: sa("10.0.1.1:80"), ..conn_info(false, false) };
    assert!(e.handle(ms(0), Event::ConnEstablished(other)).is_empty());
    assert_eq!(e.conn(7).unwrap().class, "default");
    assert!(Config::from_toml("[default]\npolicy = \"nope\"").is_err());
    assert!(Config::from_toml("[default]\nsubflows = 0").is_err());
}

#[test]
fn closed_connections_are_forgotten_and_status_serialises() {
    let (mut e, _) = engine(Policy::new(PolicyKind::Fullmesh));
    let st = serde_json::to_value(e.status(ms(5))).unwrap();
    assert_eq!(st["connections"][0]["subflows"].as_array().unwrap().len(), 2);
    assert_eq!(st["connections"][0]["subflows"][1]["state"], "pending");
    e.handle(ms(9), Event::ConnClosed { token: TOKEN });
    assert!(e.conn(TOKEN).is_none());
    assert_eq!(e.poll_timeout(), None);
}

fn snap_sub(local: &str, remote: &str, loc_id: u8, initial: bool, ours: bool) -> SubflowSnapshot {
    SubflowSnapshot {
        local: sa(local),
        remote: sa(remote),
        loc_id,
        rem_id: 0,
        initial,
        ours,
        backup: false,
        peer_backup: false,
    }
}

#[test]
fn a_restarted_engine_adopts_the_connections_sock_diag_shows_and_opens_nothing_more() {
    let mut e = Engine::new(Config { default: Policy::new(PolicyKind::Fullmesh), rules: vec![] });
    for (i, n, a) in [(ETH, "eth0", "10.0.1.2"), (WLAN, "wlan0", "10.0.2.2")] {
        e.handle(ms(0), Event::LinkUp { ifindex: i, name: n.into() });
        e.handle(ms(0), Event::AddrAdded(LocalAddr { ifindex: i, addr: ip(a), prefix_len: 24 }));
    }
    let snap = ConnSnapshot {
        info: conn_info(false, false),
        subflows: vec![
            snap_sub("10.0.1.2:40000", "10.0.1.1:5201", 0, true, true),
            snap_sub("10.0.2.2:41000", "10.0.1.1:5201", 1, false, true),
        ],
    };
    let a = e.handle(ms(10), Event::Resync { conns: vec![snap.clone()] });
    assert!(a.is_empty(), "both wanted subflows are there: {a:?}");
    let c = e.conn(TOKEN).unwrap();
    assert_eq!(c.subflows.len(), 2);
    assert!(c.subflows[1].ours && c.subflows[1].established());
    // Lost events: the join died meanwhile. The resync closes it; the policy re-creates it.
    let mut lost = snap.clone();
    lost.subflows.truncate(1);
    let a = e.handle(ms(20), Event::Resync { conns: vec![lost] });
    assert!(a.is_empty(), "re-created after the backoff, not at once: {a:?}");
    let a = e.handle(ms(2000), Event::Timer);
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    // The connection closed while events were lost: forgotten.
    assert!(e.handle(ms(3000), Event::Resync { conns: vec![] }).is_empty());
    assert!(e.conn(TOKEN).is_none());
    assert_eq!(e.counters().resyncs, 3);
}

#[test]
fn a_subflow_whose_route_goes_away_is_replaced_and_returns_with_the_route() {
    let (mut e, _) = engine(Policy::new(PolicyKind::Fullmesh));
    e.handle(ms(20), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    assert!(e.route_pairs().contains(&(ip("10.0.2.2"), ip("10.0.1.1"))));
    let a = e.handle(ms(1000), Event::PathRoute { local: ip("10.0.2.2"), remote: ip("10.0.1.1"), routable: false });
    assert_eq!(
        a,
        vec![
            Action::Remove { token: TOKEN, id: 1 },
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.2.2:41000"), remote: sa("10.0.1.1:5201") },
        ]
    );
    assert!(!e.routable(ip("10.0.2.2"), ip("10.0.1.1")));
    let why = &e.conn(TOKEN).unwrap().subflows[1].why;
    assert!(why.contains("no route"), "{why}");
    let closed = Event::SubflowClosed { sub: sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0), error: None, reset: None };
    assert!(e.handle(ms(1001), closed).is_empty());
    let a = e.handle(ms(2000), Event::PathRoute { local: ip("10.0.2.2"), remote: ip("10.0.1.1"), routable: true });
    assert_eq!(creates(&a), vec![(sa("10.0.2.2:0"), 1, sa("10.0.1.1:5201"), false)]);
    assert_eq!(e.counters().route_losses, 1);
}

#[test]
fn a_receive_only_subflow_that_goes_silent_while_another_receives_is_reset_and_reopened() {
    let (mut e, _) = engine(Policy::new(PolicyKind::Fullmesh));
    e.handle(ms(20), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    let rx = |last_recv_ms: u32| Health { last_recv_ms, bytes_received: 1 << 20, ..Health::default() };
    let poll = |e: &mut Engine, t: u64, init: u32, join: u32| {
        let mut a = e.handle(
            ms(t),
            Event::SubflowHealth {
                token: TOKEN,
                local: sa("10.0.1.2:40000"),
                remote: sa("10.0.1.1:5201"),
                health: rx(init),
            },
        );
        a.extend(e.handle(
            ms(t),
            Event::SubflowHealth {
                token: TOKEN,
                local: sa("10.0.2.2:41000"),
                remote: sa("10.0.1.1:5201"),
                health: rx(join),
            },
        ));
        a
    };
    // Both receive; then the join hears nothing for a while, the initial still receives.
    assert!(poll(&mut e, 100, 1, 2).is_empty());
    assert!(poll(&mut e, 1000, 1, 900).is_empty(), "not yet stale_ms");
    let a = poll(&mut e, 1700, 1, 1600);
    assert_eq!(
        a,
        vec![
            Action::DestroySubflow { token: TOKEN, local: sa("10.0.2.2:41000"), remote: sa("10.0.1.1:5201") },
            Action::CreateSubflow {
                token: TOKEN,
                local: sa("10.0.2.2:0"),
                loc_id: 1,
                remote: sa("10.0.1.1:5201"),
                backup: false,
                ifindex: Some(WLAN)
            },
        ]
    );
    assert_eq!(e.counters().stale_resets, 1);
}

#[test]
fn an_idle_connection_or_a_never_used_subflow_is_not_judged_stale_by_silence() {
    let (mut e, _) = engine(Policy::new(PolicyKind::Fullmesh));
    e.handle(ms(20), Event::SubflowEstablished(sub("10.0.2.2:41000", "10.0.1.1:5201", 1, 0)));
    let h = |last_recv_ms: u32, bytes_received: u64| Health { last_recv_ms, bytes_received, ..Health::default() };
    let ev = |local: &str, health| Event::SubflowHealth {
        token: TOKEN,
        local: sa(local),
        remote: sa("10.0.1.1:5201"),
        health,
    };
    // The join never received anything (the peer does not use it): not stale.
    for t in [100, 2000, 4000] {
        assert!(e.handle(ms(t), ev("10.0.1.2:40000", h(1, 1000))).is_empty());
        assert!(e.handle(ms(t), ev("10.0.2.2:41000", h(t as u32, 0))).is_empty());
    }
    // Both silent (the peer stopped sending): not stale either.
    assert!(e.handle(ms(5000), ev("10.0.2.2:41000", h(1, 10))).is_empty());
    assert!(e.handle(ms(9000), ev("10.0.1.2:40000", h(5000, 1000))).is_empty());
    assert!(e.handle(ms(9000), ev("10.0.2.2:41000", h(4000, 10))).is_empty());
    assert_eq!(e.counters().stale_resets, 0);
}

#[test]
fn a_rule_matches_by_owning_process() {
    let rule = Rule {
        name: "curl".into(),
        matches: Match { process: Some("cur*".into()), ..Match::default() },
        policy: Policy::new(PolicyKind::Singlepath),
    };
    let mut e = Engine::new(Config { default: Policy::new(PolicyKind::Fullmesh), rules: vec![rule] });
    assert!(e.needs_process());
    let mut info = conn_info(false, false);
    info.process = Some("curl".into());
    e.handle(ms(0), Event::ConnEstablished(info.clone()));
    assert_eq!(e.conn(TOKEN).unwrap().class, "curl");
    info.token = 2;
    info.process = Some("iperf3".into());
    e.handle(ms(0), Event::ConnEstablished(info.clone()));
    assert_eq!(e.conn(2).unwrap().class, "default");
    info.token = 3;
    info.process = None;
    e.handle(ms(0), Event::ConnEstablished(info));
    assert_eq!(e.conn(3).unwrap().class, "default", "no owner known: no match");
}
