//! `mptcp analyze --json` on every shared kernel capture reports what the
//! captures' README says happened.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const N: u64 = 150_000;

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures").join(name)
}

fn analyze(name: &str) -> Value {
    let out =
        Command::new(env!("CARGO_BIN_EXE_mptcp")).arg("analyze").arg("--json").arg(capture(name)).output().unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The one connection of a capture (each shared capture holds one).
fn only_connection(v: &Value) -> &Value {
    let conns = v["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{v:#}");
    &conns[0]
}

fn assert_complete_transfer(c: &Value) {
    assert_eq!(c["data_to_server"], N);
    assert_eq!(c["data_to_client"], N);
    assert_eq!(c["complete"], true);
}

fn assert_joined(c: &Value) {
    let subflows = c["subflows"].as_array().unwrap();
    assert_eq!(subflows.len(), 2, "{c:#}");
    assert!(subflows[0]["join"].is_null());
    assert_eq!(subflows[1]["join"]["hmac_ok"], true, "{c:#}");
    for s in subflows {
        let carried = s["bytes_to_server"].as_u64().unwrap() + s["bytes_to_client"].as_u64().unwrap();
        assert!(carried > 0, "a subflow carried nothing: {s:#}");
    }
}

fn assert_signalled(c: &Value) {
    let adds = c["add_addr"].as_array().unwrap();
    let announced: Vec<_> = adds.iter().filter(|a| a["echo"] == false).collect();
    assert!(!announced.is_empty(), "{c:#}");
    assert!(announced.iter().all(|a| a["hmac_ok"] == true), "{c:#}");
    assert!(adds.iter().any(|a| a["echo"] == true), "no echo: {c:#}");
}

#[test]
fn mpc_basic() {
    let v = analyze("mpc-basic.pcap");
    let c = only_connection(&v);
    assert_eq!(c["mptcp"], true);
    assert_eq!(c["version"], 1);
    assert_eq!(c["checksum"], false);
    assert!(c["fallback"].is_null());
    assert_eq!(c["subflows"].as_array().unwrap().len(), 1);
    assert_complete_transfer(c);
    assert!(c["client"].as_str().unwrap().starts_with("10.0.1.1:"));
    assert_eq!(c["server"], "10.0.1.2:8080");
}

#[test]
fn join_signal() {
    let v = analyze("join-signal.pcap");
    let c = only_connection(&v);
    assert!(c["fallback"].is_null());
    assert_joined(c);
    assert_signalled(c);
    assert_complete_transfer(c);
}

#[test]
fn ipv6_join_signal() {
    let v = analyze("ipv6-join-signal.pcap");
    let c = only_connection(&v);
    assert!(c["server"].as_str().unwrap().starts_with("[dead:1::2]:"));
    assert_joined(c);
    assert_signalled(c);
    assert_complete_transfer(c);
}

#[test]
fn checksum_join() {
    let v = analyze("checksum-join.pcap");
    let c = only_connection(&v);
    assert_eq!(c["checksum"], true);
    assert_eq!(c["checksum_failures"], 0);
    assert!(c["checksums_verified"].as_u64().unwrap() > 10, "{c:#}");
    assert_joined(c);
    assert_complete_transfer(c);
}

#[test]
fn join_subflow_prio_remove() {
    let v = analyze("join-subflow-prio-remove.pcap");
    let c = only_connection(&v);
    assert_joined(c);
    assert_complete_transfer(c);
    let events = c["events"].as_array().unwrap();
    let prio = events.iter().find(|e| e["kind"] == "mp_prio").expect("an MP_PRIO event");
    let remove = events.iter().find(|e| e["kind"] == "remove_addr").expect("a REMOVE_ADDR event");
    assert_eq!(prio["from"], "client");
    assert!(prio["time_s"].as_f64().unwrap() <= remove["time_s"].as_f64().unwrap());
    // The MP_PRIO went over the second subflow and marked it backup.
    let second = &c["subflows"][1];
    assert_eq!(second["backup"], true, "{second:#}");
    assert!(second["backup_history"].as_array().unwrap().iter().any(|h| h["via"] == "mp_prio"));
}

#[test]
fn fallback_plain_server() {
    let v = analyze("fallback-plain-server.pcap");
    let c = only_connection(&v);
    assert_eq!(c["mptcp"], true);
    assert_eq!(c["fallback"], "syn-ack-without-mpc");
    assert_complete_transfer(c);
}

#[test]
fn fallback_syn_option_stripped() {
    let v = analyze("fallback-syn-option-stripped.pcap");
    let c = only_connection(&v);
    assert_eq!(c["fallback"], "syn-ack-without-mpc");
    assert_complete_transfer(c);
}

#[test]
fn fastclose() {
    let v = analyze("fastclose.pcap");
    let c = only_connection(&v);
    assert!(c["fallback"].is_null());
    assert_eq!(c["fastclose"], true);
    assert_eq!(c["fastclose_key_ok"], true);
    assert!(!c["resets"].as_array().unwrap().is_empty(), "an MP_TCPRST on the RST: {c:#}");
    // Both sides' data arrived whole; the abort means no DATA_FIN from the client.
    assert_eq!(c["data_to_server"], N);
    assert_eq!(c["data_to_client"], N);
}

#[test]
fn text_output_and_dump_data() {
    let dir = std::env::temp_dir().join(format!("mptcp-dump-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .args(["analyze", "--dump-data"])
        .arg(&dir)
        .arg(capture("join-signal.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("MPTCP v1") && text.contains("hmac ok"), "{text}");
    // The README's patterns: client byte i = 7i+1, server byte i = 7i+2 (mod 256).
    let to_server = std::fs::read(dir.join("conn1-to-server.bin")).unwrap();
    let to_client = std::fs::read(dir.join("conn1-to-client.bin")).unwrap();
    assert_eq!(to_server.len() as u64, N);
    assert!(to_server.iter().enumerate().all(|(i, &b)| b == (i * 7 + 1) as u8));
    assert!(to_client.iter().enumerate().all(|(i, &b)| b == (i * 7 + 2) as u8));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_fail_with_one_line() {
    let dir = std::env::temp_dir().join(format!("mptcp-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |path: &PathBuf| Command::new(env!("CARGO_BIN_EXE_mptcp")).arg("analyze").arg(path).output().unwrap();

    let missing = dir.join("does-not-exist.pcap");
    let out = run(&missing);
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);

    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture at all, just text\n").unwrap();
    let out = run(&garbage);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");

    // A pcap header with no packets: no TCP.
    let empty = dir.join("empty.pcap");
    let whole = std::fs::read(capture("mpc-basic.pcap")).unwrap();
    std::fs::write(&empty, &whole[..24]).unwrap();
    let out = run(&empty);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no TCP"));

    // Cut in the middle of a record: reports what it read, says so, fails.
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() / 2 + 7]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mptcp")).args(["analyze", "--json"]).arg(&cut).output().unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], true);
    assert_eq!(v["connections"].as_array().unwrap().len(), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut short"));
    let _ = std::fs::remove_dir_all(&dir);
}
