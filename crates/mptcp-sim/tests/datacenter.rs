//! The FatTree with ECMP and single-path TCP under a permutation matrix: the
//! literature (Raiciu et al., SIGCOMM 2011) has it near 50% of optimal,
//! because flows collide on core links. Checked loosely: the figure must be
//! computed and plausible.

mod common;

#[test]
fn datacenter_tcp_is_well_below_optimal() {
    let (sim, r) = common::run_builtin("datacenter-tcp", &[], 1);
    common::assert_accounted(&r);
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
    assert!(sim.hops() > 1_000_000);
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
