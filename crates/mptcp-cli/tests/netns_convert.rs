//! RFC 8803 end to end in network namespaces: `tests/netns/convert.sh` runs
//! `mptcp proxy convert-server` in front of `python3 -m http.server`, and
//! checks it with a Python client written from the RFC (data in the SYN,
//! SHA-256 of a download), Error TLVs for unreachable destinations and
//! malformed messages, and curl through `mptcp proxy convert-client` (a fixed
//! destination, and transparent behind an iptables REDIRECT and a TPROXY).
//!
//! Needs root (a loud skip without it, a failure under CI). Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_convert -- --nocapture`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn convert_server_and_client_in_namespaces() {
    if !can_run("convert_server_and_client_in_namespaces", &["python3", "curl", "iptables", "nstat", "sha256sum"]) {
        return;
    }
    let _serial = serial();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/convert.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mptcp"))
        .arg("20")
        .output()
        .expect("run tests/netns/convert.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "convert.sh failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("convert.sh: all checks passed"), "{stdout}");
}
