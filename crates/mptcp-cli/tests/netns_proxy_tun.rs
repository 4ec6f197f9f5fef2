//! The proxies on our userspace stack (`--tun`) in network namespaces:
//! `tests/netns/proxy_tun.sh` runs `mptcp proxy socks5 --tun` and `mptcp
//! proxy convert-server --tun` in front of `python3 -m http.server`, and
//! checks them with clients no one here wrote: curl under `mptcpize` (a
//! second path as an `ip mptcp` endpoint; SHA-256 of a 30 MB download, the
//! join, with and without `--auth`, a wrong password refused) and the RFC
//! 8803 Python client of `convert.sh` (its Fast Open SYN, as tshark sees it).
//!
//! Needs root (a loud skip without it, a failure under CI). Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_proxy_tun -- --nocapture`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn proxies_on_the_userspace_stack_in_namespaces() {
    let tools = ["python3", "curl", "mptcpize", "nstat", "sha256sum", "tshark", "tc"];
    if !can_run("proxies_on_the_userspace_stack_in_namespaces", &tools) {
        return;
    }
    let _serial = serial();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/proxy_tun.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mptcp"))
        .args(["50", "30"])
        .output()
        .expect("run tests/netns/proxy_tun.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "proxy_tun.sh failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("proxy_tun.sh: all checks passed"), "{stdout}");
}
