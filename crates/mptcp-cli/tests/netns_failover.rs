//! Failover through the proxies in network namespaces:
//! `tests/netns/failover.sh` takes path a of two HTB-shaped client paths
//! down in the middle of a 30 MB download through `mptcp proxy
//! convert-client` -> `convert-server`, and through dante-server under
//! `mptcpize` on the same chain, and prints the longest pause of each. It
//! fails if a download through ours is cut or wrong or pauses 1 s or more,
//! or if a connection made while path a is down fails on either proxy.
//!
//! Needs root, mptcpize and danted (a loud skip without them, a failure
//! under CI). Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_failover -- --nocapture`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn failover_through_the_converters_and_dante() {
    if !can_run("failover_through_the_converters_and_dante", &["python3", "tc", "mptcpize", "danted", "sha256sum"]) {
        return;
    }
    let _serial = serial();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/failover.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mptcp"))
        .args(["50", "30", "3"])
        .output()
        .expect("run tests/netns/failover.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "failover.sh failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("longest pause, path a down mid-download (ms): ours"), "{stdout}");
    assert!(stdout.contains("failover.sh: all checks passed"), "{stdout}");
}
