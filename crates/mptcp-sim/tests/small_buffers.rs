//! NSDI 2012's small-buffer case (the `small-buffers` built-in): a fast and
//! a slow path into a small receive buffer. Bytes waiting on the slow path
//! hold the window and stop the fast one (head-of-line blocking). The
//! default scheduler does not put bytes on the slow path when the fast one
//! would run out of window meanwhile; opportunistic retransmission and
//! penalisation recover when bytes are stuck there anyway (shown with
//! round-robin, which spreads blindly).

mod common;

use mptcp_sim::Results;

fn run(overrides: &[&str]) -> (f64, Results) {
    let (_, r) = common::run_builtin("small-buffers", overrides, 1);
    common::assert_accounted(&r);
    let f = &r.flows[0];
    assert!(f.error.is_none() && f.corrupt_bytes == 0, "{:?}", f.error);
    (f.goodput_bps, r)
}

#[test]
fn the_default_scheduler_is_not_below_tcp_on_the_fast_path() {
    for buf in ["64KiB", "128KiB"] {
        let size = format!("tcp.recv_buffer=\"{buf}\"");
        let (mptcp, _) = run(&[&size]);
        let (tcp, _) = run(&[&size, "flows.0.protocol=\"tcp\"", "flows.0.cc=\"cubic\"", "flows.0.to=\"phone:wifi\""]);
        eprintln!("{buf}: MPTCP {:.2}, TCP over WiFi {:.2} Mbit/s", mptcp / 1e6, tcp / 1e6);
        assert!(mptcp >= 0.95 * tcp, "{buf}: MPTCP {mptcp:.0} vs TCP over WiFi {tcp:.0} bit/s");
    }
    // With room for both paths, both are used.
    let (big, _) = run(&["tcp.recv_buffer=\"1MiB\""]);
    assert!(big > 8.5e6, "1 MiB: {big:.0} bit/s, more than WiFi's 8 Mbit/s");
}

#[test]
fn opportunistic_retransmission_and_penalisation_free_a_blocked_window() {
    let rr = "flows.0.sched=\"roundrobin\"";
    let (with, r) = run(&[rr]);
    let (without, _) = run(&[rr, "flows.0.opportunistic=false"]);
    let c = r.flows[0].mptcp.as_ref().and_then(|m| m.counters.clone()).expect("the sender's counters");
    eprintln!(
        "round-robin, 64 KiB: with {:.2}, without {:.2} Mbit/s; {} opportunistic reinjections, {} penalisations",
        with / 1e6,
        without / 1e6,
        c.opportunistic_reinjections,
        c.penalisations
    );
    assert!(c.opportunistic_reinjections > 0 && c.penalisations > 0, "{c:?}");
    assert!(with > without * 1.2, "with {with:.0} vs without {without:.0} bit/s");
}
