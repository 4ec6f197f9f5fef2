//! Blind injection (RFC 5961) on the network of `tests/netns/topo.sh`,
//! through `tests/netns/hostile.sh`: while a kernel MPTCP client moves
//! 10 MiB through our listener's echo on TUN, scapy (beside the client, in
//! the kernel's namespace) forges RSTs and SYNs in the subflow's window and
//! data acknowledging what was never sent, from the client's address and
//! port, and opens joins (the token from the MP_CAPABLE keys it saw) whose
//! third ACK has a bad HMAC. The echo must come back whole, our listener
//! must have answered with challenge ACKs (`TCPChallengeACK`), reset and
//! counted every join (`MPJoinAckHMacFailure`) and kept at most one more
//! subflow record, and its peak RSS stay under 64 MiB. Its figures go to
//! stderr.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The interpreter hostile.sh runs hostile_inject.py with (Debian's, where
/// python3-scapy installs).
const PYTHON: &str = "/usr/bin/python3";

/// Our listener's peak resident set, at most.
const RSS_LIMIT_KIB: u64 = 64 << 10;

/// Forged segments of each kind.
const COUNT: u64 = 300;

/// Joins with a bad HMAC.
const JOINS: u64 = 20;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/hostile.sh")
}

#[test]
fn blind_injection_and_bad_hmac_joins_into_our_listeners_connection() {
    if !can_run("blind_injection_and_bad_hmac_joins_into_our_listeners_connection", &[PYTHON, "iptables"]) {
        return;
    }
    if !python_has(PYTHON, "scapy.all") {
        skip_or_fail(
            "blind_injection_and_bad_hmac_joins_into_our_listeners_connection needs python3-scapy (apt-get install python3-scapy)",
        );
        return;
    }
    let _serial = serial();
    let name = format!("hs-{}", std::process::id() % 100_000);
    let out = Command::new(script())
        .arg(&name)
        .env("MPTCP", env!("CARGO_BIN_EXE_mptcp"))
        .env("PYTHON", PYTHON)
        .env("COUNT", COUNT.to_string())
        .env("JOINS", JOINS.to_string())
        .output()
        .expect("run hostile.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hostile.sh {name}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    let line = stdout.lines().rfind(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no result:\n{stdout}\n{stderr}"));
    let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line:?}: {e}"));
    for kind in ["rst", "syn", "data"] {
        assert_eq!(r["inject"]["sent"][kind].as_u64(), Some(COUNT), "all the forged {kind} went out: {r}");
    }
    assert_eq!(r["echo"]["intact"], true, "the 10 MiB echo came back whole: {r}\nstderr:\n{stderr}");
    let subflows = r["subflows"].as_array().cloned().unwrap_or_default();
    let sum = |key: &str| subflows.iter().filter_map(|s| s[key].as_u64()).sum::<u64>();
    let (challenges, dropped) = (sum("challenge_acks"), sum("dropped_segments"));
    let rss = r["vmhwm_kib"].as_u64().unwrap_or(u64::MAX);
    eprintln!(
        "blind injection ({COUNT} each of RST, SYN, bad-ACK data; {JOINS} bad-HMAC joins): echo intact, our listener \
         sent {challenges} challenge ACKs, dropped {dropped} segments, MPJoinAckHMacFailure {}, {} subflow records, \
         peak RSS {rss} KiB",
        r["counters"]["join_hmac_failures"],
        subflows.len()
    );
    assert!(challenges >= 1, "challenge ACKs: {r}");
    let j = &r["join"];
    assert_eq!(
        (j["synacks"].as_u64(), j["rsts"].as_u64()),
        (Some(JOINS), Some(JOINS)),
        "each join answered, then reset: {r}"
    );
    let c = &r["counters"];
    assert_eq!(c["join_hmac_failures"].as_u64(), Some(JOINS), "{c}");
    assert_eq!(c["joins"].as_u64(), Some(0), "{c}");
    assert!(subflows.len() <= 2, "the refused joins took one place in turn: {r}");
    assert!(rss < RSS_LIMIT_KIB, "peak RSS {rss} KiB: {r}");
}
