//! `RUST_LOG` and `-v` route the stack's tracing to stderr, with connection
//! and subflow spans, and never into `--json` on stdout. No root needed: the
//! simulator runs the real endpoints.

use serde_json::Value;
use std::process::{Command, Output};

/// A short run of the default scenario (an MPTCP download over two paths).
fn sim(env_log: Option<&str>, flags: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mptcp"));
    cmd.args(flags).args(["sim", "--json", "--set", "duration=\"3s\"", "--set", "record.warmup=\"1s\""]);
    match env_log {
        Some(v) => cmd.env("RUST_LOG", v),
        None => cmd.env_remove("RUST_LOG"),
    };
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "mptcp sim failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn rust_log_debug_logs_on_stderr_and_json_stays_clean() {
    let out = sim(Some("debug"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connection created"), "no connection log on stderr: {err}");
    assert!(err.contains("subflow opened") || err.contains("subflow joined"), "no subflow log: {err}");
    // Events inside the core carry the connection's and the subflow's span.
    assert!(err.contains("conn{id=") && err.contains("subflow{k="), "no conn/subflow spans: {err}");
    let v = json(&out);
    assert!(v.is_object(), "{v}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("connection created") && !stdout.contains("DEBUG"), "log lines on stdout");
}

#[test]
fn dash_v_logs_and_quiet_by_default() {
    let v = sim(None, &["-v"]);
    assert!(String::from_utf8_lossy(&v.stderr).contains("connection created"));
    json(&v);
    let quiet = sim(None, &[]);
    let err = String::from_utf8_lossy(&quiet.stderr);
    assert!(!err.contains("connection created") && !err.contains("DEBUG"), "logs without -v: {err}");
    // Same seed, same figures: logging does not change the run.
    assert_eq!(json(&quiet), json(&v));
}
