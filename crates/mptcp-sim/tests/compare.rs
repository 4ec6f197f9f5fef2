//! Comparison runs (`[[compare]]`): MPTCP beside TCP over each path alone in
//! `wifi-lte`, the three handover modes side by side in `handover`.

mod common;

use mptcp_sim::Results;
use mptcp_sim::scenario::schema::Protocol;

/// Runs a built-in and its comparisons, as `mptcp sim` does.
fn run_with_comparisons(name: &str) -> Results {
    let (_, mut r) = common::run_builtin(name, &[], 1);
    common::assert_accounted(&r);
    mptcp_sim::run_comparisons(name, &[], &mut r).unwrap_or_else(|e| panic!("{e}"));
    r
}

#[test]
fn wifi_lte_mptcp_beats_tcp_over_either_path_alone() {
    let r = run_with_comparisons("wifi-lte");
    assert_eq!(r.headline.metric, "aggregation");
    assert_eq!(r.run_name.as_deref(), Some("mptcp"));
    let names: Vec<&str> = r.comparisons.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["tcp-wifi", "tcp-lte"]);
    let mptcp = &r.flows[0];
    assert_eq!(mptcp.protocol, Protocol::Mptcp);
    // The headline is the goodput over the sum of both links (30 Mbit/s).
    let agg = r.headline.value.expect("aggregation");
    assert!((agg - mptcp.goodput_bps / 30e6).abs() < 1e-9, "{agg}");
    let mut best_single = 0.0f64;
    for (c, iface, rate) in [(&r.comparisons[0], "wifi", 20e6), (&r.comparisons[1], "lte", 10e6)] {
        let [f] = &c.flows[..] else { panic!("{}: one flow", c.name) };
        assert_eq!(f.protocol, Protocol::Tcp, "{}", c.name);
        assert_eq!(f.subflows.len(), 1, "{}", c.name);
        assert_eq!(f.subflows[0].peer_interface, iface, "{}", c.name);
        assert!(f.goodput_bps > 0.8 * rate && f.goodput_bps <= rate, "{}: {}", c.name, f.goodput_bps);
        let a = c.headline.value.expect("aggregation");
        assert!((a - f.goodput_bps / 30e6).abs() < 1e-9, "{}: {a}", c.name);
        best_single = best_single.max(f.goodput_bps);
    }
    assert!(mptcp.goodput_bps > 1.2 * best_single, "MPTCP {} vs best single path {best_single}", mptcp.goodput_bps);
    assert!(agg > 0.8 && agg <= 1.0, "{agg}");
    let text = mptcp_sim::table::render(&r);
    assert!(text.contains("tcp-wifi") && text.contains("AGGREGATION"), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["comparisons"][1]["name"], "tcp-lte");
    assert_eq!(json["comparisons"][0]["headline"]["metric"], "aggregation");
}

#[test]
fn handover_reports_the_gap_of_each_mode() {
    let r = run_with_comparisons("handover");
    assert_eq!(r.headline.metric, "max-gap");
    assert_eq!(r.run_name.as_deref(), Some("backup"));
    assert_eq!(r.flows[0].mptcp.as_ref().map(|m| m.path_manager.as_str()), Some("backup"));
    let mut gaps = vec![r.headline.value.expect("gap")];
    for (c, pm) in r.comparisons.iter().zip(["fullmesh", "singlepath"]) {
        assert_eq!(c.name, pm);
        assert_eq!(c.flows[0].mptcp.as_ref().map(|m| m.path_manager.as_str()), Some(pm));
        gaps.push(c.headline.value.expect("gap"));
    }
    assert_eq!(gaps.len(), 3);
    for g in gaps {
        // The download survives the handover: a gap, but far from the 10 s left.
        assert!(g.is_finite() && g > 0.0 && g < 3.0, "{g}");
    }
}

#[test]
fn comparisons_take_the_command_line_first_and_fail_by_name() {
    let (main, runs) = mptcp_sim::load_comparisons("handover", &["duration=\"11s\"".into()], 7).unwrap();
    assert_eq!(main.as_deref(), Some("backup"));
    assert_eq!(runs.len(), 2);
    for c in &runs {
        assert_eq!(c.model.seed, 7);
        assert_eq!(c.model.duration, mptcp_proto::Duration::from_secs(11));
    }
    // A scenario without comparisons has none.
    let (main, runs) = mptcp_sim::load_comparisons("single-tcp", &[], 1).unwrap();
    assert!(main.is_none() && runs.is_empty());
    // The TCP comparisons cannot take an MPTCP scheduler.
    let e = mptcp_sim::load_comparisons("wifi-lte", &["flows.0.sched=\"minrtt\"".into()], 1).unwrap_err().0;
    assert!(e.starts_with("comparison 'tcp-wifi': ") && !e.contains('\n'), "{e}");
    let e = mptcp_sim::load("wifi-lte", &["headline.links=[\"wlan\"]".into()], None).unwrap_err().0;
    assert!(e.contains("headline: no link named 'wlan'"), "{e}");
}
