use super::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
/// What a path manager is shown: the peer at 10.0.0.2:80, default limits, our side connected.
fn ctx<'a>(local_addrs: &'a [LocalAddr], subflows: &'a [SubflowInfo]) -> PmContext<'a> {
    PmContext {
        remote: sa("10.0.0.2:80"),
        local_addrs,
        subflows,
        limits: Limits::default(),
        active: true,
        peer_denies_join_initial: false,
        now: crate::time::Instant::ZERO,
    }
}

/// A subflow from `local` to `remote`.
fn sub(local: &str, remote: &str, alive: bool, established: bool) -> SubflowInfo {
    SubflowInfo {
        id: 0,
        local: sa(local),
        remote: sa(remote),
        alive,
        established,
        backup: false,
        error: None,
        reset_reason: None,
    }
}

fn la(s: &str, backup: bool) -> LocalAddr {
    LocalAddr { addr: s.parse().unwrap(), backup, id: 0, flags: EndpointFlags::default() }
}

#[test]
fn fullmesh_opens_from_every_other_address_of_the_family() {
    let addrs = [la("10.0.0.1", false), la("10.0.1.1", true), la("dead::1", false)];
    let subs = [sub("10.0.0.1:5000", "10.0.0.2:80", true, true)];
    let ctx = ctx(&addrs, &subs);
    let acts = by_name("fullmesh", 1).unwrap().on_event(&ctx, &PmEvent::Established);
    assert_eq!(
        acts,
        vec![PmAction::OpenSubflow { local: "10.0.1.1".parse().unwrap(), remote: sa("10.0.0.2:80"), backup: true }]
    );
}

#[test]
fn ndiffports_tops_up_from_the_same_address() {
    let addrs = [la("10.0.0.1", false)];
    let subs = [sub("10.0.0.1:5000", "10.0.0.2:80", true, true)];
    let ctx = ctx(&addrs, &subs);
    assert_eq!(by_name("ndiffports", 4).unwrap().on_event(&ctx, &PmEvent::Established).len(), 3);
}

#[test]
fn singlepath_replaces_only_when_nothing_is_left() {
    let addrs = [la("10.0.0.1", false), la("10.0.1.1", false)];
    let dead = sub("10.0.0.1:5000", "10.0.0.2:80", false, true);
    let subs = [dead];
    let ctx = ctx(&addrs, &subs);
    let mut pm = by_name("singlepath", 1).unwrap();
    assert!(pm.on_event(&ctx, &PmEvent::Established).is_empty());
    let acts = pm.on_event(&ctx, &PmEvent::SubflowClosed(dead));
    assert_eq!(acts.len(), 1);
    assert!(matches!(acts[0], PmAction::OpenSubflow { local, .. } if local == "10.0.1.1".parse::<IpAddr>().unwrap()));
    let alive = SubflowInfo { alive: true, ..dead };
    let ctx = PmContext { subflows: &[alive], ..ctx };
    assert!(pm.on_event(&ctx, &PmEvent::LocalAddressAdded("10.0.2.1".parse().unwrap())).is_empty());
}

#[test]
fn kernel_reopens_a_closed_subflow_but_not_a_refused_join() {
    let mut addrs = [la("10.0.0.1", false), la("10.0.1.1", false)];
    addrs[1].flags = EndpointFlags::parse("subflow").unwrap();
    let first = sub("10.0.0.1:5000", "10.0.0.2:80", true, true);
    let join = sub("10.0.1.1:5001", "10.0.0.2:80", false, true);
    let subs = [first, join];
    let ctx = ctx(&addrs, &subs);
    let mut pm = by_name("kernel", 1).unwrap();
    let acts = pm.on_event(&ctx, &PmEvent::SubflowClosed(join));
    assert_eq!(
        acts,
        vec![PmAction::OpenSubflow { local: "10.0.1.1".parse().unwrap(), remote: join.remote, backup: false }]
    );
    let refused = SubflowInfo { established: false, ..join };
    let subs = [first, refused];
    let ctx = PmContext { subflows: &subs, ..ctx };
    assert!(pm.on_event(&ctx, &PmEvent::SubflowClosed(refused)).is_empty(), "a refused join is not tried again");
}

#[test]
fn fullmesh_does_not_retry_a_refused_join() {
    let addrs = [la("10.0.0.1", false), la("10.0.1.1", false)];
    let first = sub("10.0.0.1:5000", "10.0.0.2:80", true, true);
    let refused = sub("10.0.1.1:5001", "10.0.0.2:80", false, false);
    let subs = [first, refused];
    let ctx = ctx(&addrs, &subs);
    let mut pm = by_name("fullmesh", 1).unwrap();
    assert!(pm.on_event(&ctx, &PmEvent::SubflowClosed(refused)).is_empty());
    let failed = SubflowInfo { established: true, ..refused };
    let subs = [first, failed];
    let ctx = PmContext { subflows: &subs, ..ctx };
    assert_eq!(pm.on_event(&ctx, &PmEvent::SubflowClosed(failed)).len(), 1, "one that carried data is opened again");
}

#[test]
fn kernel_forgets_an_announced_address_the_peer_removes() {
    let addrs = [la("10.0.0.1", false)];
    let first = sub("10.0.0.1:5000", "10.0.0.2:80", true, true);
    let subs = [first];
    let mut ctx = ctx(&addrs, &subs);
    ctx.limits.add_addr_accepted = 1;
    let mut pm = by_name("kernel", 1).unwrap();
    let announced = PmEvent::AddressAnnounced { id: 4, addr: sa("10.0.9.2:80") };
    assert_eq!(pm.on_event(&ctx, &announced).len(), 1, "joined");
    // Its subflow closes after carrying data, then the peer withdraws the address.
    let join = sub("10.0.0.1:5001", "10.0.9.2:80", false, true);
    let subs = [first, join];
    let ctx = PmContext { subflows: &subs, ..ctx };
    assert!(pm.on_event(&ctx, &PmEvent::AddressRemoved { id: 4 }).is_empty());
    assert!(pm.on_event(&ctx, &PmEvent::SubflowClosed(join)).is_empty(), "not reopened to a withdrawn address");
    // And the limit's place is free for another announcement.
    let other = PmEvent::AddressAnnounced { id: 5, addr: sa("10.0.8.2:80") };
    assert_eq!(pm.on_event(&ctx, &other).len(), 1);
}
