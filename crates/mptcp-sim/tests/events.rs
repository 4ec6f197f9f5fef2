//! Changes over time: a link that goes down delivers nothing until it comes
//! back (and the TCP flow resumes once it is back); a rate trace and a `set`
//! event change the link under a running flow.

mod common;

#[test]
fn a_down_link_delivers_nothing_and_tcp_resumes() {
    let (_, r) = common::run_builtin("tcp-link-failure", &["record.interval=\"100ms\""], 1);
    common::assert_accounted(&r);
    let t = &r.series.t_s;
    let wan = r.series.links.iter().find(|l| l.name == "wan:router>server").expect("wan series");
    let flow = &r.series.flows[0];
    // Intervals entirely inside the outage (5 s to 8 s): nothing sent, nothing read.
    for i in 1..t.len() {
        if t[i - 1] >= 5.0 && t[i] <= 8.0 {
            assert_eq!(wan.utilisation[i], 0.0, "link busy at {}", t[i]);
            assert_eq!(flow.goodput_bps[i], 0.0, "data read at {}", t[i]);
        }
    }
    let l = r.links.iter().find(|l| l.name == "wan" && l.direction == "a-to-b").unwrap();
    assert!(l.counters.drop_down > 0, "packets sent into the dead link are counted as down drops");
    // Before and after: data flows.
    let read_between = |a: f64, b: f64| -> f64 {
        (1..t.len())
            .filter(|&i| t[i - 1] >= a && t[i] <= b)
            .map(|i| flow.goodput_bps[i] * (t[i] - t[i - 1]) / 8.0)
            .sum()
    };
    assert!(read_between(1.0, 5.0) > 1e6);
    let after = read_between(8.0, 20.0);
    eprintln!(
        "bytes read after the link came back: {after:.0}; longest gap {:.3} s; {} RTOs",
        r.flows[0].max_gap_s, r.flows[0].timeouts
    );
    assert!(after > 10_000.0, "TCP resumed after the link came back");
    let gap = r.headline.value.unwrap();
    assert!((3.0..10.0).contains(&gap), "gap {gap}");
}

/// Mean goodput (bit/s) of `flow` over the sample intervals inside [a, b].
fn goodput_between(r: &mptcp_sim::Results, flow: usize, a: f64, b: f64) -> f64 {
    let t = &r.series.t_s;
    let g = &r.series.flows[flow].goodput_bps;
    let (mut bits, mut secs) = (0.0, 0.0);
    for i in 1..t.len() {
        if t[i - 1] >= a && t[i] <= b {
            bits += g[i] * (t[i] - t[i - 1]);
            secs += t[i] - t[i - 1];
        }
    }
    bits / secs
}

#[test]
fn a_rate_trace_and_a_set_event_change_the_link() {
    let text = r#"
duration = "12s"
[record]
interval = "100ms"
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[links]]
name = "l"
a = "a"
b = "b"
rate = "10Mbit"
delay = "10ms"
queue = "1bdp"
[[traces]]
link = "l"
direction = "a-to-b"
points = [["4s", "2Mbit"], ["7s", "10Mbit"]]
[[events]]
at = "9s"
link = "l"
action = "set"
delay = "50ms"
[[flows]]
from = "a"
to = "b"
"#;
    let (_, r) = common::run(text, 1);
    common::assert_accounted(&r);
    let slow = goodput_between(&r, 0, 5.0, 7.0);
    let fast = goodput_between(&r, 0, 2.0, 4.0);
    eprintln!("goodput 2-4 s {fast:.0}, 5-7 s {slow:.0} bit/s");
    assert!(slow < 2.0e6 && slow > 1.5e6, "{slow}");
    assert!(fast > 5.0e6, "{fast}");
    // The link stayed busy through the change: utilisation is relative to the rate in force.
    let l = r.links.iter().find(|l| l.direction == "a-to-b").unwrap();
    assert!(l.utilisation.unwrap() > 0.7, "{:?}", l.utilisation);
    // After the delay change (50 ms each way) the RTT is about 100 ms.
    let srtt = r.series.flows[0].srtt_ms.last().copied().unwrap();
    assert!((100.0..140.0).contains(&srtt), "srtt {srtt}");
}
