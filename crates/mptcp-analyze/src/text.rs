//! The report as a table for people.

use crate::report::{Connection, Report, Subflow};
use std::fmt::Write;

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn opt_ok(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "ok",
        Some(false) => "BAD",
        None => "-",
    }
}

fn subflow_row(out: &mut String, i: usize, s: &Subflow) {
    let join = match &s.join {
        None => "initial".to_string(),
        Some(j) => format!("join({})", if j.hmac_ok { "hmac ok" } else { "HMAC BAD" }),
    };
    let _ = writeln!(
        out,
        "    {i:<2} {:<24} {:<24} {:<16} {:<6} {:>12} {:>12} {:>8}",
        s.client,
        s.server,
        join,
        yes(s.backup),
        s.bytes_to_server,
        s.bytes_to_client,
        s.retransmitted_bytes
    );
}

fn connection(out: &mut String, n: usize, c: &Connection) {
    let kind = if !c.mptcp {
        "TCP".to_string()
    } else {
        format!("MPTCP v{}", c.version.map_or("?".into(), |v| v.to_string()))
    };
    let _ = writeln!(out, "connection {n}: {} -> {}  {kind}", c.client, c.server);
    if c.mptcp {
        let _ = writeln!(
            out,
            "  checksum: {}  fallback: {}  mp_fail: {}  checksum failures: {} (verified {})  fastclose: {}",
            yes(c.checksum),
            c.fallback.as_deref().unwrap_or("none"),
            c.mp_fail,
            c.checksum_failures,
            c.checksums_verified,
            yes(c.fastclose)
        );
        if let (Some(ck), Some(sk)) = (&c.client_key, &c.server_key) {
            let _ = writeln!(
                out,
                "  keys: client {ck} (token {}), server {sk} (token {})",
                c.client_token.as_deref().unwrap_or("-"),
                c.server_token.as_deref().unwrap_or("-")
            );
        }
    }
    let _ = writeln!(
        out,
        "  data: {} B to server, {} B to client; complete: {} (to server {}, to client {})",
        c.data_to_server,
        c.data_to_client,
        yes(c.complete),
        yes(c.complete_to_server),
        yes(c.complete_to_client)
    );
    let _ = writeln!(
        out,
        "    {:<2} {:<24} {:<24} {:<16} {:<6} {:>12} {:>12} {:>8}",
        "#", "subflow client", "subflow server", "kind", "backup", "to server", "to client", "retrans"
    );
    for (i, s) in c.subflows.iter().enumerate() {
        subflow_row(out, i, s);
    }
    for a in &c.add_addr {
        let what = if a.echo { "ADD_ADDR echo" } else { "ADD_ADDR" };
        let _ = writeln!(
            out,
            "  {:>9.6}s {:<6} {what} id {} {} hmac {}",
            a.time_s,
            a.from,
            a.addr_id,
            a.addr,
            opt_ok(a.hmac_ok)
        );
    }
    for e in &c.events {
        let _ = writeln!(out, "  {:>9.6}s {:<6} {} on subflow {} {}", e.time_s, e.from, e.kind, e.subflow, e.detail);
    }
    for r in &c.resets {
        let _ = writeln!(
            out,
            "  {:>9.6}s {:<6} RST on subflow {} reason {} ({}){}",
            r.time_s,
            r.from,
            r.subflow,
            r.code,
            r.reason,
            if r.transient { " transient" } else { "" }
        );
    }
}

/// Renders the report as text.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let mptcp = r.connections.iter().filter(|c| c.mptcp).count();
    let _ = writeln!(
        out,
        "{} packets ({} TCP, {} skipped, {} malformed, {} cut by the snapshot length) over {:.3} s: {} connections, {} MPTCP{}",
        r.packets,
        r.tcp_packets,
        r.skipped_packets,
        r.malformed_segments,
        r.snapped_segments,
        r.duration_s,
        r.connections.len(),
        mptcp,
        if r.truncated { "; CAPTURE CUT SHORT" } else { "" }
    );
    for (i, c) in r.connections.iter().enumerate() {
        out.push('\n');
        connection(&mut out, i + 1, c);
    }
    if !r.orphan_joins.is_empty() {
        let _ = writeln!(out, "\nMP_JOIN subflows with an unknown token:");
        for (i, s) in r.orphan_joins.iter().enumerate() {
            subflow_row(&mut out, i, s);
        }
    }
    out
}
