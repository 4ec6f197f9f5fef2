//! A SYN flood on the network of `tests/netns/topo.sh`, through
//! `tests/netns/synflood.sh`: 50,000 spoofed MP_CAPABLE SYNs (scapy, from
//! the kernel's namespace) at our listener on TUN and then at a kernel MPTCP
//! listener with SYN cookies, while and right after a kernel MPTCP client
//! moves 10 MiB through each one's echo. The echo must come back whole every
//! time, our listener's peak RSS stay under 64 MiB, and its SYN cookies be
//! the ones that took the flood. Both listeners' figures go to stderr.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The interpreter synflood.sh runs synflood.py with (Debian's, where
/// python3-scapy installs).
const PYTHON: &str = "/usr/bin/python3";

/// Our listener's peak resident set, at most.
const RSS_LIMIT_KIB: u64 = 64 << 10;

const SYNS: u64 = 50_000;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/synflood.sh")
}

/// Runs synflood.sh; its rounds, by listener ("ours", "kernel").
fn flood() -> (Vec<Value>, Duration) {
    let name = format!("sf-{}", std::process::id() % 100_000);
    let t0 = Instant::now();
    let out = Command::new(script())
        .arg(&name)
        .env("MPTCP", env!("CARGO_BIN_EXE_mptcp"))
        .env("PYTHON", PYTHON)
        .env("SYNS", SYNS.to_string())
        .output()
        .expect("run synflood.sh");
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "synflood.sh {name}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    let rounds: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect();
    assert_eq!(rounds.len(), 2, "one line per listener:\n{stdout}\nstderr:\n{stderr}");
    (rounds, took)
}

fn check_round(r: &Value) {
    let who = r["listener"].as_str().unwrap_or("?");
    assert_eq!(r["flood"]["sent"].as_u64(), Some(SYNS), "{who}: the whole flood went out: {r}");
    for when in ["during", "after"] {
        assert_eq!(r[when]["intact"], true, "{who}: the 10 MiB echo {when} the flood came back whole: {r}");
    }
    assert!(r["vmhwm_kib"].as_u64().is_some_and(|k| k > 0), "{who}: VmHWM read: {r}");
}

#[test]
fn syn_flood_against_our_listener_and_the_kernels() {
    if !can_run("syn_flood_against_our_listener_and_the_kernels", &["nstat", PYTHON]) {
        return;
    }
    if !python_has(PYTHON, "scapy.all") {
        skip_or_fail(
            "syn_flood_against_our_listener_and_the_kernels needs python3-scapy (apt-get install python3-scapy)",
        );
        return;
    }
    let _serial = serial();
    let (rounds, took) = flood();
    let (ours, kernel) = (&rounds[0], &rounds[1]);
    assert_eq!((ours["listener"].as_str(), kernel["listener"].as_str()), (Some("ours"), Some("kernel")));
    check_round(ours);
    check_round(kernel);
    let c = &ours["counters"];
    let cookies = c["syncookies_sent"].as_u64().unwrap_or(0);
    // Beyond the 1024 half-open connections, every SYN got a cookie.
    assert!(cookies >= SYNS - 1024 - 100, "our SYN cookies: {c}");
    assert_eq!(c["listen_drops"].as_u64(), Some(0), "{c}");
    let k = &kernel["counters"];
    assert!(k["TcpExtSyncookiesSent"].as_u64().unwrap_or(0) > 0, "the kernel used cookies too: {k}");
    let rss = ours["vmhwm_kib"].as_u64().unwrap_or(u64::MAX);
    eprintln!(
        "SYN flood ({SYNS} SYNs in {}s at each listener; whole run {:.1}s): peak RSS ours {} KiB, kernel listener process {} KiB \
         (its request socks are kernel memory); cookies sent ours {cookies}, kernel {}; echo intact both times each",
        ours["flood"]["seconds"],
        took.as_secs_f64(),
        rss,
        kernel["vmhwm_kib"],
        k["TcpExtSyncookiesSent"]
    );
    assert!(rss < RSS_LIMIT_KIB, "our listener's peak RSS {rss} KiB, over {RSS_LIMIT_KIB} KiB: {ours}");
    assert!(took < Duration::from_secs(90), "the run took {took:?}");
}
