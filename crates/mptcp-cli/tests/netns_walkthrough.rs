//! The README's walkthrough, run as written: its shell block (after the
//! `<!-- walkthrough` marker) from the repository's root, with two changes
//! only: the namespaces get a name of their own (so runs do not collide) and
//! `target/release/mptcp` is this build's binary (the `cargo build` line is
//! skipped: the binary under test is built already). The transfer must use
//! both paths: more than one 50 Mbit/s path carries, and both subflows moved
//! data. Root only (a loud skip otherwise, a failure under CI).

mod common;

use common::can_run;
use std::path::PathBuf;
use std::process::Command;

fn walkthrough(readme: &str) -> Vec<String> {
    let after = readme.split_once("<!-- walkthrough").expect("README has the walkthrough marker").1;
    let block = after.split_once("```sh\n").expect("a sh block").1.split_once("```").expect("closed").0;
    // Join continued lines.
    block.replace("\\\n", " ").lines().map(str::to_owned).collect()
}

#[test]
fn readme_walkthrough_moves_data_over_two_paths() {
    if !can_run("readme_walkthrough_moves_data_over_two_paths", &["iperf3", "mptcpize", "tc"]) {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let name = format!("wt{}", std::process::id() % 100_000);
    let mut script = String::from("set -e\n");
    script.push_str(&format!("trap 'tests/netns/twopath.sh down {name} >/dev/null 2>&1 || true' EXIT\n"));
    for line in walkthrough(&readme) {
        if line.starts_with("cargo build") {
            continue;
        }
        let line = line.replace("demo", &name).replace("target/release/mptcp", env!("CARGO_BIN_EXE_mptcp"));
        script.push_str(&line);
        script.push('\n');
    }
    let out = Command::new("timeout").args(["90", "bash", "-c", &script]).current_dir(&root).output().expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the walkthrough failed:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // Both paths' addresses carried data in the end report's subflow lines.
    // Our end report (iperf3's server, in the background, prints to the same stdout after it).
    let ours = stdout.split_once("perf Done.").map_or("", |(o, _)| o);
    let end = ours.rsplit_once("- - - -").map_or("", |(_, e)| e);
    for addr in ["10.201.1.2", "10.201.2.2"] {
        let line = end.lines().find(|l| l.contains("subflow") && l.contains(addr));
        let line = line.unwrap_or_else(|| panic!("no subflow from {addr} in the end report:\n{stdout}"));
        let sent: f64 =
            line.split(": ").nth(1).and_then(|r| r.split(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        assert!(sent > 1.0, "the subflow from {addr} moved nothing: {line}");
    }
    // The receiver's rate: more than one path's 50 Mbit/s.
    let receiver =
        end.lines().find(|l| l.contains("receiver")).unwrap_or_else(|| panic!("no receiver line:\n{stdout}"));
    let mbps: f64 = receiver
        .split("sec")
        .nth(1)
        .and_then(|r| r.split("Bytes").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(receiver.contains("Mbits/sec") && mbps > 60.0, "one path only? {receiver}");
}
