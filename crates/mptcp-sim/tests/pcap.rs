//! A host's capture (what `--pcap HOST` writes) is a pcap that
//! `mptcp_analyze` reads, and it shows the connection complete.

mod common;

use common::Capture;

#[test]
fn capture_parses_and_shows_the_connection_complete() {
    let mut sim = common::sim(
        r#"
duration = "10s"
stop_when_done = true
[[hosts]]
name = "client"
[[hosts]]
name = "server"
[[routers]]
name = "r"
[[links]]
a = "client"
b = "r"
rate = "20Mbit"
delay = "5ms"
[[links]]
a = "r"
b = "server"
rate = "20Mbit"
delay = "5ms"
[[flows]]
name = "bulk"
from = "client"
to = "server"
bytes = "1MB"
"#,
        1,
    );
    let cap = Capture::attach(&mut sim, "client");
    sim.run(&mut |_, _| {});
    let r = sim.results();
    assert_eq!(r.flows[0].bytes_received, 1_000_000);
    let out = mptcp_analyze::analyze(&cap.bytes()[..], mptcp_analyze::Options::default(), |_| {}).unwrap();
    assert!(out.cut.is_none());
    let rep = &out.report;
    assert_eq!(rep.malformed_segments, 0);
    assert_eq!(rep.connections.len(), 1);
    let c = &rep.connections[0];
    assert!(!c.mptcp);
    assert_eq!(c.data_to_server, 1_000_000);
    assert!(c.complete, "{c:?}");
    assert!(c.client.starts_with("10.0.0.1:") && c.server == "10.0.0.2:5001", "{} -> {}", c.client, c.server);
    // The capture holds what the host sent and received, in time order.
    assert_eq!(rep.packets, r.hosts[0].counters.sent + r.hosts[0].counters.received);
}
