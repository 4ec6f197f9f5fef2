//! The FatTree with ECMP under a permutation matrix: the literature
//! (Raiciu et al., SIGCOMM 2011) has single-path TCP near 50% of optimal,
//! because flows collide on core links, and MPTCP with 8 subflows near 90%.
//! Checked loosely: the figures must be computed and plausible.

mod common;

use mptcp_sim::Results;
use std::sync::OnceLock;

/// The TCP run (shared by the tests of this file), with its packet-hops.
fn tcp() -> &'static (Results, u64) {
    static TCP: OnceLock<(Results, u64)> = OnceLock::new();
    TCP.get_or_init(|| {
        let (sim, r) = common::run_builtin("datacenter-tcp", &[], 1);
        (r, sim.hops())
    })
}

#[test]
fn datacenter_tcp_is_well_below_optimal() {
    let (r, hops) = tcp();
    common::assert_accounted(r);
    let pct = r.headline.value.expect("percent of optimal");
    assert_eq!(r.headline.metric, "percent-of-optimal");
    assert_eq!(r.flows.len(), 16);
    let mut g: Vec<f64> = r.flows.iter().map(|f| f.goodput_bps / 1e6).collect();
    g.sort_by(f64::total_cmp);
    eprintln!("datacenter-tcp (k=4): {pct:.1}% of optimal; per-flow goodput (Mbit/s, ranked): {g:.1?}");
    assert!((30.0..85.0).contains(&pct), "{pct}");
    // ECMP spreads flows: paths between pods differ, and some flows collide.
    let cores: std::collections::BTreeSet<&str> = r
        .flows
        .iter()
        .flat_map(|f| f.subflows[0].path.iter())
        .filter(|p| p.contains(">c"))
        .map(String::as_str)
        .collect();
    assert!(cores.len() > 4, "flows use several core links: {cores:?}");
    assert!(r.flows.iter().all(|f| f.capacity_bps == Some(100e6)));
    assert!(*hops > 1_000_000);
}

#[test]
fn mptcp_with_8_subflows_beats_tcp() {
    let (_, r) = common::run_builtin("datacenter", &[], 1);
    common::assert_accounted(&r);
    let mptcp = r.headline.value.expect("percent of optimal");
    let tcp = tcp().0.headline.value.expect("percent of optimal");
    let mut g: Vec<f64> = r.flows.iter().map(|f| f.goodput_bps / 1e6).collect();
    g.sort_by(f64::total_cmp);
    eprintln!("datacenter (k=4): MPTCP, 8 subflows: {mptcp:.1}% of optimal, TCP {tcp:.1}%; ranked: {g:.1?}");
    for f in &r.flows {
        assert!(f.error.is_none() && f.corrupt_bytes == 0, "{}: {:?}", f.name, f.error);
        let open = f.mptcp.as_ref().map_or(0, |m| m.subflows_open);
        assert_eq!(open, 8, "{}: {} subflows opened, {open} open", f.name, f.subflows.len());
    }
    assert!(r.flows.iter().all(|f| f.capacity_bps == Some(100e6)), "a host's link is the bottleneck");
    // ECMP spreads the subflows of a connection between pods over several core links.
    let spread = r
        .flows
        .iter()
        .map(|f| {
            let cores: std::collections::BTreeSet<&str> = f
                .subflows
                .iter()
                .flat_map(|s| s.path.iter())
                .filter(|p| p.contains(">c"))
                .map(String::as_str)
                .collect();
            cores.len()
        })
        .max();
    assert!(spread > Some(1), "{spread:?}");
    assert!(mptcp > tcp + 5.0, "MPTCP {mptcp:.1}% vs TCP {tcp:.1}%");
    assert!((60.0..=100.0).contains(&mptcp), "{mptcp}");
}

#[test]
fn the_matrix_is_a_permutation_and_depends_on_the_seed() {
    let m = mptcp_sim::load("datacenter-tcp", &[], Some(1)).unwrap();
    let mut dsts: Vec<usize> = m.flows.iter().map(|f| f.receiver.0).collect();
    assert!(m.flows.iter().all(|f| f.sender.0 != f.receiver.0));
    dsts.sort_unstable();
    dsts.dedup();
    assert_eq!(dsts.len(), 16);
    let other = mptcp_sim::load("datacenter-tcp", &[], Some(2)).unwrap();
    assert_ne!(
        m.flows.iter().map(|f| f.receiver.0).collect::<Vec<_>>(),
        other.flows.iter().map(|f| f.receiver.0).collect::<Vec<_>>()
    );
    let k8 = mptcp_sim::load("datacenter-tcp", &["topology.k=8".into()], Some(1)).unwrap();
    assert_eq!((k8.hosts.len(), k8.routers.len(), k8.flows.len()), (128, 80, 128));
}
