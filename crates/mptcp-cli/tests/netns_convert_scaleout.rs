//! Scale-out of `mptcp proxy convert-server` (RFC 8041 §3.12) in network
//! namespaces: `tests/netns/convert_scaleout.sh` puts three instances behind
//! an nftables DNAT chosen by a jhash of the 4-tuple, each with the C flag
//! (`net.mptcp.allow_join_initial_addr_port=0`) and its own address
//! announced in ADD_ADDR, and checks that 30 downloads through
//! `convert-client` spread over every instance with every SHA-256 equal, and
//! that every instance counted joins and none for a connection it does not
//! hold (`MPTcpExtMPJoinNoTokenFound` 0).
//!
//! Needs root (a loud skip without it, a failure under CI). Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_convert_scaleout -- --nocapture`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn converters_scale_out_behind_a_hashing_load_balancer() {
    if !can_run("converters_scale_out_behind_a_hashing_load_balancer", &["python3", "curl", "nft", "tc", "nstat"]) {
        return;
    }
    let _serial = serial();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/convert_scaleout.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_mptcp"))
        .arg("30")
        .output()
        .expect("run tests/netns/convert_scaleout.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "convert_scaleout.sh failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("downloads: 30 of 30"), "{stdout}");
    assert!(stdout.contains("convert_scaleout.sh: all checks passed"), "{stdout}");
}
