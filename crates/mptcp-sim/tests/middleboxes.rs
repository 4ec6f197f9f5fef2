//! Middleboxes do what they say, checked on the real packets the hosts see:
//! option stripping, NAT, sequence rewriting, splitting and coalescing,
//! payload rewriting; and TCP gets through each (or, for payload rewriting,
//! cannot notice it: the byte checker does).

mod common;

use common::{Capture, seg};

const TWO_HOPS: &str = r#"
duration = "20s"
stop_when_done = true
[[hosts]]
name = "client"
[[hosts]]
name = "server"
[[routers]]
name = "r"
[[links]]
name = "inside"
a = "client"
b = "r"
rate = "20Mbit"
delay = "5ms"
queue = "1bdp"
MIDDLEBOXES_IN
[[links]]
name = "outside"
a = "r"
b = "server"
rate = "20Mbit"
delay = "5ms"
MIDDLEBOXES_OUT
[[flows]]
name = "bulk"
from = "client"
to = "server"
bytes = "500KB"
"#;

fn scenario(inside: &str, outside: &str) -> String {
    TWO_HOPS.replace("MIDDLEBOXES_IN", inside).replace("MIDDLEBOXES_OUT", outside)
}

/// Runs with both hosts captured; checks the transfer completed intact.
fn run(text: &str) -> (mptcp_sim::Results, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut sim = common::sim(text, 5);
    let c = Capture::attach(&mut sim, "client");
    let s = Capture::attach(&mut sim, "server");
    sim.run(&mut |_, _| {});
    let r = sim.results();
    common::assert_accounted(&r);
    let f = &r.flows[0];
    assert_eq!(f.bytes_received, 500_000, "{:?}", f.error);
    assert!(f.error.is_none(), "{:?}", f.error);
    (r, c.packets(), s.packets())
}

fn from_client(pkts: &[Vec<u8>], client_port_hint: Option<u16>) -> Vec<common::Seg> {
    pkts.iter()
        .map(|p| seg(p))
        .filter(|s| s.dst.port() == 5001 && client_port_hint.is_none_or(|p| s.src.port() == p))
        .collect()
}

#[test]
fn option_stripping_removes_the_kinds_and_tcp_completes() {
    // Timestamps (8) and MPTCP (30) removed from every segment, SACK-permitted (4) from SYNs.
    let text = scenario(
        r#"middleboxes = [{ kind = "strip-options", kinds = [8, 30], on = "all" }, { kind = "strip-options", kinds = [4] }]"#,
        "",
    );
    let (r, client, server) = run(&text);
    let sent = from_client(&client, None);
    let got = from_client(&server, None);
    assert!(sent[0].option_kinds.contains(&8) && sent[0].option_kinds.contains(&4), "the client offers them");
    assert!(got.iter().all(|s| !s.option_kinds.contains(&8) && !s.option_kinds.contains(&30)));
    assert!(!got[0].option_kinds.contains(&4), "SACK-permitted stripped from the SYN");
    // The server, not offered timestamps, answers without them.
    let replies: Vec<_> = client.iter().map(|p| seg(p)).filter(|s| s.src.port() == 5001).collect();
    assert!(replies.iter().all(|s| !s.option_kinds.contains(&8)));
    assert!(r.middleboxes[0].counters.modified >= 1 && r.middleboxes[1].counters.modified >= 1);
}

#[test]
fn nat_rewrites_addresses_consistently() {
    let text = scenario(r#"middleboxes = [{ kind = "nat", public = "203.0.113.7", first_port = 61000 }]"#, "");
    let (r, client, server) = run(&text);
    let c_out = from_client(&client, None);
    let s_in = from_client(&server, None);
    let private = c_out[0].src;
    assert!(c_out.iter().all(|s| s.src == private));
    assert_eq!(private.ip().to_string(), "10.0.0.1");
    let public: std::net::SocketAddr = "203.0.113.7:61000".parse().unwrap();
    assert!(s_in.iter().all(|s| s.src == public), "the server sees only the public address and port");
    // Replies reach the client at its private address.
    assert!(client.iter().map(|p| seg(p)).filter(|s| s.src.port() == 5001).all(|s| s.dst == private));
    assert!(r.middleboxes[0].counters.modified > 0);
}

#[test]
fn sequence_rewriting_offsets_seq_one_way_and_ack_the_other() {
    let text = scenario(r#"middleboxes = [{ kind = "seq-rewrite", offset = 1000000 }]"#, "");
    let (_, client, server) = run(&text);
    let c_syn = from_client(&client, None)[0].seq;
    let s_syn = from_client(&server, None)[0].seq;
    assert_eq!(s_syn.wrapping_sub(c_syn), 1_000_000);
}

#[test]
fn split_then_coalesce_keeps_the_byte_stream() {
    let text = scenario(
        r#"middleboxes = [{ kind = "split", size = 300, direction = "a-to-b" }]"#,
        r#"middleboxes = [{ kind = "coalesce", max = 1500, hold = "500us" }]"#,
    );
    let (r, client, server) = run(&text);
    assert_eq!(r.flows[0].corrupt_bytes, 0, "the receiver checked every byte");
    let split = &r.middleboxes[0].counters;
    let coalesce = &r.middleboxes[1].counters;
    assert!(split.created > 0 && coalesce.merged > 0, "{split:?} {coalesce:?}");
    let sent_max = from_client(&client, None).iter().map(|s| s.payload_len).max().unwrap();
    let got: Vec<usize> = from_client(&server, None).iter().map(|s| s.payload_len).collect();
    assert!(sent_max > 1000);
    assert!(got.iter().all(|&n| n <= 1500), "merged segments stay within the limit");
    assert!(got.iter().any(|&n| n > 300), "some pieces were merged again");
}

#[test]
fn payload_rewriting_goes_unnoticed_by_tcp() {
    // Two printable bytes that occur in the flow's byte pattern.
    let p = mptcp_sim::app::Pattern::new();
    let stream = p.slice(0, 60_000);
    let pos = stream.windows(2).position(|w| w.iter().all(u8::is_ascii_lowercase)).expect("a lowercase pair");
    let find = std::str::from_utf8(&stream[pos..pos + 2]).unwrap().to_owned();
    let replace = find.to_ascii_uppercase();
    let text = scenario(
        &format!(r#"middleboxes = [{{ kind = "payload-rewrite", find = "{find}", replace = "{replace}" }}]"#),
        "",
    );
    let (r, _, _) = run(&text);
    assert!(r.middleboxes[0].counters.modified > 0);
    assert!(r.flows[0].corrupt_bytes > 0, "TCP delivered the rewritten bytes; only the byte check sees it");
}
