//! No packet disappears uncounted: per link direction, per middlebox, and for
//! the whole network, through loss, queue overflow, AQM, MTU drops, links and
//! interfaces going down, routing failures, splitting and coalescing.

mod common;

#[test]
fn every_packet_is_accounted_for() {
    let text = r#"
duration = "5s"
[[hosts]]
name = "a"
interfaces = ["wifi", "lte"]
[[hosts]]
name = "b"
[[hosts]]
name = "c"
# The stack is told 1500 while its link carries 1000: its full-size packets are dropped.
tcp = { mtu = 1500 }
[[routers]]
name = "r"
[[links]]
name = "wifi"
a = "a:wifi"
b = "r"
rate = "20Mbit"
delay = "5ms"
loss = "1%"
queue = "20pkt"
middleboxes = [{ kind = "split", size = 400 }, { kind = "coalesce", max = 1200 }]
[[links]]
name = "lte"
a = "a:lte"
b = "r"
rate = "5Mbit"
delay = "30ms"
gilbert = { p = 0.02, r = 0.2 }
queue = "8KB"
aqm = "codel"
[[links]]
name = "to-b"
a = "r"
b = "b"
rate = "8Mbit"
delay = "2ms"
queue = "10pkt"
[[links]]
name = "to-c"
a = "r"
b = "c"
rate = "100Mbit"
delay = "1ms"
mtu = 1000
[[flows]]
name = "wifi-flow"
from = "a:wifi"
to = "b"
[[flows]]
name = "lte-flow"
from = "a:lte"
to = "b"
[[flows]]
name = "too-big"
from = "c"
to = "a:lte"
bytes = "100KB"
[[events]]
at = "2s"
link = "to-b"
action = "down"
[[events]]
at = "3s"
link = "to-b"
action = "up"
[[events]]
at = "3.5s"
interface = "a:lte"
action = "down"
"#;
    let (_, r) = common::run(text, 11);
    common::assert_accounted(&r);
    let l = &r.ledger;
    eprintln!("{l:?}");
    let link = |n: &str, d: &str| r.links.iter().find(|x| x.name == n && x.direction == d).unwrap();
    assert!(link("wifi", "a-to-b").counters.drop_loss > 0);
    assert!(link("to-b", "b-to-a").counters.drop_down + link("to-b", "a-to-b").counters.drop_down > 0);
    assert!(link("to-c", "b-to-a").counters.drop_mtu > 0, "1500-byte packets on a 1000-byte MTU link");
    assert!(r.middleboxes.iter().any(|b| b.counters.created > 0));
    assert!(l.dropped_links > 0 && l.hops > l.host_sent);
}

#[test]
fn builtins_balance() {
    for (name, o) in [("tcp-middleboxes", vec![]), ("tcp-link-failure", vec!["duration=\"10s\""])] {
        let (_, r) = common::run_builtin(name, &o, 2);
        common::assert_accounted(&r);
    }
}
