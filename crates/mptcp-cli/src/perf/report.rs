//! perf's output: iperf3's JSON (`start`, `intervals`, `end` with `streams`,
//! `sum_sent`, `sum_received`...; the same keys, so scripts written for
//! iperf3 read it) with per-subflow figures added under `subflows` and
//! `mptcp`, and iperf3's text lines.

use super::streams::{Snap, SubflowSnap};
use serde_json::{Value, json};

/// iperf3's byte figures: powers of 1024 (`KBytes`, `MBytes`, `GBytes`).
pub fn bytes_text(b: f64) -> String {
    const K: f64 = 1024.0;
    if b >= K * K * K {
        format!("{:.2} GBytes", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.2} MBytes", b / (K * K))
    } else if b >= K {
        format!("{:.2} KBytes", b / K)
    } else {
        format!("{b:.0} Bytes")
    }
}

/// iperf3's rates: powers of 1000 (`Kbits/sec`, `Mbits/sec`, `Gbits/sec`).
pub fn rate_text(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gbits/sec", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbits/sec", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} Kbits/sec", bps / 1e3)
    } else {
        format!("{bps:.0} bits/sec")
    }
}

fn rate(bytes: u64, secs: f64) -> f64 {
    if secs > 0.0 { bytes as f64 * 8.0 / secs } else { 0.0 }
}

/// One stream's interval, in iperf3's keys, and its text lines.
pub struct IntervalStream {
    pub json: Value,
    pub bytes: u64,
    pub retransmits: Option<u64>,
    pub text: Vec<String>,
}

/// Builds a stream's interval from two snapshots.
pub fn interval_stream(id: u32, sender: bool, t0: f64, t1: f64, prev: &Snap, now: &Snap) -> IntervalStream {
    let secs = t1 - t0;
    let bytes =
        if sender { now.delivered().saturating_sub(prev.delivered()) } else { now.read.saturating_sub(prev.read) };
    let retransmits =
        if sender { now.retransmits.map(|r| r.saturating_sub(prev.retransmits.unwrap_or(0))) } else { None };
    let subflows: Vec<Value> = now.subflows.iter().map(|s| subflow_interval(s, prev, secs)).collect();
    let mut j = json!({
        "socket": id, "start": t0, "end": t1, "seconds": secs, "bytes": bytes,
        "bits_per_second": rate(bytes, secs), "omitted": false, "sender": sender,
    });
    if sender {
        j["retransmits"] = json!(retransmits.unwrap_or(0));
        j["snd_cwnd"] = json!(now.cwnd.unwrap_or(0));
        j["rtt"] = json!(now.rtt_us.unwrap_or(0));
        j["rttvar"] = json!(now.rttvar_us.unwrap_or(0));
        j["pmtu"] = json!(now.pmtu.unwrap_or(0));
    }
    if !subflows.is_empty() {
        j["subflows"] = Value::Array(subflows.clone());
    }
    let mut text = vec![stream_line(&format!("{id:>3}"), t0, t1, bytes, secs, retransmits, now.cwnd, sender)];
    for s in &subflows {
        text.push(format!(
            "        subflow {} -> {}{}: {} sent, {} received, srtt {:.1} ms, cwnd {}, retr {}",
            s["local"].as_str().unwrap_or("?"),
            s["remote"].as_str().unwrap_or("?"),
            if s["backup"] == json!(true) { " (backup)" } else { "" },
            bytes_text(s["bytes_sent"].as_f64().unwrap_or(0.0)),
            bytes_text(s["bytes_received"].as_f64().unwrap_or(0.0)),
            s["srtt_us"].as_f64().unwrap_or(0.0) / 1000.0,
            bytes_text(s["cwnd"].as_f64().unwrap_or(0.0)),
            s["retransmits"],
        ));
    }
    IntervalStream { json: j, bytes, retransmits, text }
}

/// A subflow's figures over the interval (bytes and retransmissions as
/// deltas from the same subflow in `prev`).
fn subflow_interval(s: &SubflowSnap, prev: &Snap, secs: f64) -> Value {
    let before = prev.subflows.iter().find(|p| p.local == s.local && p.remote == s.remote);
    let d = |f: fn(&SubflowSnap) -> u64| f(s).saturating_sub(before.map_or(0, f));
    let (sent, received) = (d(|x| x.bytes_sent), d(|x| x.bytes_received));
    json!({
        "local": s.local, "remote": s.remote, "backup": s.backup,
        "bytes_sent": sent, "bytes_received": received,
        "bits_per_second": rate(sent.max(received), secs),
        "srtt_us": s.srtt_us, "cwnd": s.cwnd, "retransmits": d(|x| x.retransmits),
    })
}

/// iperf3's interval line: `[  5]   0.00-1.00   sec  5.88 MBytes  49.3 Mbits/sec    0   1.20 MBytes`.
#[allow(clippy::too_many_arguments)]
pub fn stream_line(
    id: &str,
    t0: f64,
    t1: f64,
    bytes: u64,
    secs: f64,
    retr: Option<u64>,
    cwnd: Option<u64>,
    sender: bool,
) -> String {
    let mut l = format!(
        "[{id}] {:>6.2}-{:<6.2} sec  {:>12}  {:>15}",
        t0,
        t1,
        bytes_text(bytes as f64),
        rate_text(rate(bytes, secs))
    );
    if sender {
        l.push_str(&format!("  {:>4}", retr.map_or("-".to_owned(), |r| r.to_string())));
        if let Some(c) = cwnd {
            l.push_str(&format!("   {}", bytes_text(c as f64)));
        }
    }
    l
}

/// A sum over streams, in iperf3's keys.
pub fn sum(t0: f64, t1: f64, bytes: u64, retransmits: Option<u64>, sender: bool) -> Value {
    let secs = t1 - t0;
    let mut j = json!({
        "start": t0, "end": t1, "seconds": secs, "bytes": bytes,
        "bits_per_second": rate(bytes, secs), "omitted": false, "sender": sender,
    });
    if let Some(r) = retransmits {
        j["retransmits"] = json!(r);
    }
    j
}

/// One direction of a stream at the end: `sender` or `receiver`.
pub fn end_side(
    id: u32,
    secs: f64,
    bytes: u64,
    retransmits: Option<i64>,
    local_sender: bool,
    snap: Option<&Snap>,
) -> Value {
    let mut j = json!({
        "socket": id, "start": 0.0, "end": secs, "seconds": secs, "bytes": bytes,
        "bits_per_second": rate(bytes, secs), "sender": local_sender,
    });
    if let Some(r) = retransmits {
        j["retransmits"] = json!(r.max(0));
    }
    if let Some(s) = snap {
        j["max_snd_cwnd"] = json!(s.cwnd.unwrap_or(0));
        j["mean_rtt"] = json!(s.rtt_us.unwrap_or(0));
    }
    j
}

/// CPU time this process used, in seconds (user, system), from /proc.
pub fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return (0.0, 0.0) };
    // Fields after the command name (which is in parentheses): utime is the 14th field, stime the 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0; // USER_HZ on Linux
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}
