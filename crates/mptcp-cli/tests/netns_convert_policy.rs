//! Hybrid-access policies of `mptcp proxy convert-client` in network
//! namespaces: `tests/netns/convert_policy.sh` runs the client with
//! `--policy lte-backup` and `--policy overflow` over two shaped links
//! (fixed line and LTE) to `mptcp proxy convert-server`, and checks from the
//! client's per-link counters and the server's logs that LTE carries almost
//! nothing while the fixed line is up and takes over when it goes down, that
//! overflow uses both, that a `--bypass` port reaches the server directly,
//! and that the client removes the path-manager endpoints it added.
//!
//! Needs root (a loud skip without it, a failure under CI). Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_convert_policy -- --nocapture`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn hybrid_access_policies_in_namespaces() {
    if !can_run("hybrid_access_policies_in_namespaces", &["python3", "curl", "iptables", "tc", "nstat", "sha256sum"]) {
        return;
    }
    let _serial = serial();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/convert_policy.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mptcp"))
        .output()
        .expect("run tests/netns/convert_policy.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "convert_policy.sh failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("convert_policy.sh: all checks passed"), "{stdout}");
    assert!(stdout.contains("(c) lte-backup, fixed line down"), "{stdout}");
}
