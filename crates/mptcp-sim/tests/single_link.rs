//! One TCP flow on a 10 Mbit/s, 20 ms link keeps the link busy.

mod common;

#[test]
fn single_tcp_fills_the_link() {
    let (_, r) = common::run_builtin("single-tcp", &[], 1);
    let util = r.headline.value.expect("utilisation") / 100.0;
    let f = &r.flows[0];
    eprintln!(
        "single-tcp: link utilisation {:.1}%, goodput {:.2} Mbit/s, {} retransmissions",
        util * 100.0,
        f.goodput_bps / 1e6,
        f.retransmits
    );
    assert!(util >= 0.90, "utilisation {util:.3}");
    assert!(f.goodput_bps > 8.5e6, "goodput {}", f.goodput_bps);
    assert_eq!(f.corrupt_bytes, 0);
    common::assert_accounted(&r);
}

#[test]
fn a_sized_transfer_completes_and_reports_its_time() {
    let (_, r) = common::run_builtin("single-tcp", &["flows.0.bytes=\"2MB\"", "stop_when_done=true"], 1);
    let f = &r.flows[0];
    assert_eq!(f.bytes_received, 2_000_000);
    let t = f.completion_s.expect("completed");
    // 2 MB at 10 Mbit/s is 1.6 s, plus the handshake and slow start.
    assert!((1.6..4.0).contains(&t), "completion {t}");
    // The run stops once the flow is done: the receiver's FIN reached the sender.
    assert!(r.duration_s >= t && r.duration_s - t < 0.2, "ran {} s", r.duration_s);
    common::assert_accounted(&r);
}
