//! `mptcp sim --no-compare`: the scenario alone, so that an override meant
//! for the main run (a scheduler, on a scenario whose comparisons are TCP)
//! does not make the comparisons refuse it.

use std::process::{Command, Output};

fn sim(flags: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mptcp"))
        .args(["sim", "wifi-lte", "--json", "--set", "duration=\"3s\"", "--set", "record.warmup=\"1s\""])
        .args(flags)
        .output()
        .unwrap()
}

#[test]
fn no_compare_runs_the_scenario_alone() {
    let blest = ["--set", "flows.0.sched=\"blest\""];
    // wifi-lte's comparison runs are TCP: a scheduler is an error there.
    let out = sim(&blest);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("comparison") && err.contains("protocol = \"mptcp\""), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // Alone it runs, with no comparisons in results.json.
    let mut flags = blest.to_vec();
    flags.push("--no-compare");
    let out = sim(&flags);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["comparisons"].as_array().map_or(0, Vec::len), 0, "{}", v["comparisons"]);
    assert_eq!(v["flows"][0]["mptcp"]["scheduler"], "blest");
    assert!(v["flows"][0]["goodput_bps"].as_f64().is_some_and(|g| g > 10e6));
    // Without the override, the comparisons are there.
    let out = sim(&[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // (tcp-wifi and tcp-lte; the `mptcp` entry names this run itself.)
    assert_eq!(v["comparisons"].as_array().map(Vec::len), Some(2));
}
