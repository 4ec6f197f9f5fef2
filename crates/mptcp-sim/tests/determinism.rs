//! The same scenario and seed give identical results.json, byte for byte,
//! even with every source of randomness at work (random and bursty loss,
//! jitter, CoDel, random sequence offsets, ECMP salts, the traffic matrix).

mod common;

const RANDOM_EVERYTHING: &str = r#"
duration = "6s"
[[hosts]]
name = "a"
[[hosts]]
name = "b"
[[routers]]
name = "r1"
[[routers]]
name = "r2"
[[links]]
name = "access"
a = "a"
b = "r1"
rate = "50Mbit"
delay = "2ms"
jitter = "1ms"
middleboxes = [{ kind = "seq-rewrite" }]
[[links]]
name = "p1"
a = "r1"
b = "r2"
rate = "10Mbit"
delay = "10ms"
loss = "0.5%"
aqm = "codel"
queue = "200pkt"
[[links]]
name = "p2"
a = "r1"
b = "r2"
rate = "10Mbit"
delay = "12ms"
gilbert = { p = 0.01, r = 0.3 }
[[links]]
a = "r2"
b = "b"
rate = "1Gbit"
delay = "1ms"
[[flows]]
name = "one"
from = "a"
to = "b"
[[flows]]
name = "two"
from = "a"
to = "b"
bytes = "1MB"
start = "1s"
"#;

fn json(text: &str, seed: u64) -> String {
    let (_, r) = common::run(text, seed);
    serde_json::to_string_pretty(&r).unwrap()
}

#[test]
fn same_seed_same_results() {
    let a = json(RANDOM_EVERYTHING, 7);
    let b = json(RANDOM_EVERYTHING, 7);
    assert_eq!(a, b);
    assert_ne!(a, json(RANDOM_EVERYTHING, 8), "the seed must matter");
}

#[test]
fn builtins_are_deterministic() {
    for name in ["single-tcp", "tcp-middleboxes"] {
        let (_, a) = common::run_builtin(name, &[], 3);
        let (_, b) = common::run_builtin(name, &[], 3);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap(), "{name}");
    }
}
