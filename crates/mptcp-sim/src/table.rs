//! The human report: a table a person reads at a glance.

use crate::results::{FlowResult, HeadlineFigure, Results};
use crate::units::fmt_rate;
use std::fmt::Write;

/// Left-aligned columns separated by two spaces; numeric columns (given by
/// `right`) right-aligned.
fn columns(rows: &[Vec<String>], right: &[bool]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..n).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c > 0 {
                line.push_str("  ");
            }
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

/// Bytes with a unit: `812 B`, `64.0 kB`, `12.3 MB`.
fn fmt_bytes(b: u64) -> String {
    match b {
        0..1_000 => format!("{b} B"),
        1_000..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        _ => format!("{:.2} GB", b as f64 / 1e9),
    }
}

/// The subflows of the MPTCP flows (when they fit on a screen), then what
/// their connections did at the data level.
fn subflows(out: &mut String, flows: &[FlowResult]) {
    const MAX_SUBFLOW_ROWS: usize = 24;
    let mp: Vec<&FlowResult> = flows.iter().filter(|f| f.mptcp.is_some()).collect();
    if mp.is_empty() {
        return;
    }
    out.push('\n');
    let n: usize = mp.iter().map(|f| f.subflows.len()).sum();
    if n > MAX_SUBFLOW_ROWS {
        let _ = writeln!(out, "{n} subflows of {} MPTCP flows (all in results.json)", mp.len());
    } else {
        let mut rows = vec![vec![
            "FLOW".into(),
            "SUBFLOW".into(),
            "KIND".into(),
            "STATE".into(),
            "SENT".into(),
            "SHARE".into(),
            "RETX".into(),
            "SRTT".into(),
            "CWND".into(),
        ]];
        for f in &mp {
            let total: u64 = f.subflows.iter().map(|s| s.stats.bytes_sent).sum();
            for s in &f.subflows {
                let kind = match (s.join, s.backup) {
                    (Some(true), Some(true)) => "join, backup",
                    (Some(true), _) => "join",
                    (_, Some(true)) => "initial, backup",
                    _ => "initial",
                };
                let share = (total > 0).then(|| s.stats.bytes_sent as f64 / total as f64);
                rows.push(vec![
                    f.name.clone(),
                    s.label(),
                    kind.into(),
                    serde_json::to_value(s.stats.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    fmt_bytes(s.stats.bytes_sent),
                    pct(share),
                    s.stats.retransmits.to_string(),
                    format!("{:.1} ms", s.stats.srtt_us as f64 / 1000.0),
                    fmt_bytes(s.stats.cwnd),
                ]);
            }
        }
        out.push_str(&columns(&rows, &[false, false, false, false, true, true, true, true, true]));
    }
    for f in &mp {
        let Some(m) = &f.mptcp else { continue };
        let c = m.counters.clone().unwrap_or_default();
        let rc = m.receiver_counters.clone().unwrap_or_default();
        let mut notes = Vec::new();
        if let Some(why) = m.fallback {
            let why = serde_json::to_value(why).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            notes.push(format!("fell back to TCP ({why})"));
        }
        if c.reinjected_bytes > 0 {
            notes.push(format!("{} reinjected", fmt_bytes(c.reinjected_bytes)));
        }
        if c.join_hmac_failures + rc.join_hmac_failures > 0 {
            notes.push(format!("{} MP_JOIN HMAC failures", c.join_hmac_failures + rc.join_hmac_failures));
        }
        if c.data_csum_err + rc.data_csum_err > 0 {
            notes.push(format!("{} DSS checksum errors", c.data_csum_err + rc.data_csum_err));
        }
        if rc.unmapped_bytes > 0 {
            notes.push(format!("{} received without a mapping (dropped)", fmt_bytes(rc.unmapped_bytes)));
        }
        if !notes.is_empty() && (mp.len() <= MAX_SUBFLOW_ROWS || m.fallback.is_some()) {
            let _ = writeln!(out, "{}: {}", f.name, notes.join(", "));
        }
    }
}

/// A headline value with its unit.
fn fmt_figure(h: &HeadlineFigure) -> String {
    let v = h.value.map_or("n/a".to_owned(), |v| format!("{v:.3}"));
    if h.unit.is_empty() { v } else { format!("{v} {}", h.unit) }
}

/// The comparison runs beside this one: per run its flows, goodput and headline.
fn comparisons(out: &mut String, r: &Results) {
    if r.comparisons.is_empty() {
        return;
    }
    let _ = writeln!(out, "\ncompared, each run on its own with seed {}:", r.seed);
    let mut rows = vec![vec!["RUN".into(), "FLOWS".into(), "GOODPUT".into(), r.headline.metric.to_uppercase()]];
    let row = |name: &str, flows: &[FlowResult], h: &HeadlineFigure| {
        let what = match flows {
            [f] if f.subflows.len() > 1 => {
                format!("{} {} {} -> {} ({} subflows)", proto(f), f.cc, f.from, f.to, f.subflows.len())
            }
            [f] => format!("{} {} {} -> {}", proto(f), f.cc, f.from, f.to),
            _ => format!("{} flows", flows.len()),
        };
        let total: f64 = flows.iter().map(|f| f.goodput_bps).sum();
        vec![name.to_owned(), what, fmt_rate(total), fmt_figure(h)]
    };
    rows.push(row(r.run_name.as_deref().unwrap_or("this run"), &r.flows, &r.headline));
    for c in &r.comparisons {
        let mut cells = row(&c.name, &c.flows, &c.headline);
        if c.headline.metric != r.headline.metric {
            cells[3] = format!("{} ({})", cells[3], c.headline.label);
        }
        rows.push(cells);
    }
    out.push_str(&columns(&rows, &[false, false, true, true]));
}

fn proto(f: &FlowResult) -> String {
    serde_json::to_value(f.protocol).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn flow_row(f: &FlowResult) -> Vec<String> {
    let done = match (&f.error, f.completion_s) {
        (Some(e), _) => format!("failed: {e}"),
        (None, Some(s)) => format!("{s:.3} s"),
        (None, None) if f.bytes.is_some() => "not done".into(),
        (None, None) => "-".into(),
    };
    let corrupt = if f.corrupt_bytes > 0 { format!(" ({} bytes corrupted)", f.corrupt_bytes) } else { String::new() };
    vec![
        f.name.clone(),
        proto(f),
        f.cc.clone(),
        format!("{} -> {}", f.from, f.to),
        fmt_rate(f.goodput_bps),
        pct(f.share),
        f.retransmits.to_string(),
        format!("{done}{corrupt}"),
    ]
}

/// Renders the results as text.
pub fn render(r: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario {}: {}", r.scenario, r.description);
    let _ = writeln!(
        out,
        "seed {}, {:.2} s simulated{}",
        r.seed,
        r.duration_s,
        if r.warmup_s > 0.0 { format!(" (measured after a {:.2} s warm-up)", r.warmup_s) } else { String::new() }
    );
    out.push('\n');

    let mut rows = vec![vec![
        "FLOW".into(),
        "PROTO".into(),
        "CC".into(),
        "FROM -> TO".into(),
        "GOODPUT".into(),
        "SHARE".into(),
        "RETX".into(),
        "DONE".into(),
    ]];
    const MAX_ROWS: usize = 20;
    for f in r.flows.iter().take(MAX_ROWS) {
        rows.push(flow_row(f));
    }
    out.push_str(&columns(&rows, &[false, false, false, false, true, true, true, false]));
    if r.flows.len() > MAX_ROWS {
        let _ = writeln!(out, "... and {} more flows (all in results.json)", r.flows.len() - MAX_ROWS);
    }
    if r.flows.len() > 1 {
        let mut g: Vec<f64> = r.flows.iter().map(|f| f.goodput_bps).collect();
        g.sort_by(f64::total_cmp);
        let total: f64 = g.iter().sum();
        let _ = writeln!(
            out,
            "{} flows: total {}, min {}, median {}, max {}",
            g.len(),
            fmt_rate(total),
            fmt_rate(g[0]),
            fmt_rate(g[g.len() / 2]),
            fmt_rate(g[g.len() - 1])
        );
    }
    subflows(&mut out, &r.flows);
    for (i, f) in r.flows.iter().enumerate() {
        if let Some(s) = crate::stall::of_flow(r, i, f) {
            let _ = writeln!(
                out,
                "{}: STALLED {:.1} s from {:.1} s (goodput under a tenth of its usual rate)",
                f.name, s.length_s, s.from_s
            );
        }
    }
    out.push('\n');

    let mut links: Vec<&crate::results::LinkResult> = r.links.iter().filter(|l| l.counters.sent > 0).collect();
    let hidden = links.len().saturating_sub(MAX_ROWS);
    if hidden > 0 {
        links.sort_by(|a, b| b.utilisation.unwrap_or(0.0).total_cmp(&a.utilisation.unwrap_or(0.0)));
        links.truncate(MAX_ROWS);
    }
    let mut rows = vec![vec![
        "LINK".into(),
        "FROM -> TO".into(),
        "RATE".into(),
        "UTIL".into(),
        "SENT".into(),
        "DELIVERED".into(),
        "DROPPED (queue/aqm/loss/down/mtu)".into(),
    ]];
    for l in &links {
        let c = &l.counters;
        rows.push(vec![
            l.name.clone(),
            format!("{} -> {}", l.from, l.to),
            if l.rate_bps == 0 { "unlimited".into() } else { fmt_rate(l.rate_bps as f64) },
            pct(l.utilisation),
            c.sent.to_string(),
            c.delivered.to_string(),
            format!("{} ({}/{}/{}/{}/{})", c.dropped(), c.drop_queue, c.drop_aqm, c.drop_loss, c.drop_down, c.drop_mtu),
        ]);
    }
    out.push_str(&columns(&rows, &[false, false, true, true, true, true, false]));
    if hidden > 0 {
        let _ = writeln!(out, "... and {hidden} more link directions (busiest shown; all in results.json)");
    }

    if !r.middleboxes.is_empty() {
        out.push('\n');
        let mut rows = vec![vec![
            "MIDDLEBOX".into(),
            "LINK".into(),
            "IN".into(),
            "OUT".into(),
            "MODIFIED".into(),
            "DROPPED".into(),
            "CREATED".into(),
            "MERGED".into(),
        ]];
        for b in &r.middleboxes {
            let c = &b.counters;
            rows.push(vec![
                b.kind.to_owned(),
                b.link.clone(),
                c.packets_in.to_string(),
                c.packets_out.to_string(),
                c.modified.to_string(),
                c.dropped.to_string(),
                c.created.to_string(),
                c.merged.to_string(),
            ]);
        }
        out.push_str(&columns(&rows, &[false, false, true, true, true, true, true, true]));
    }

    comparisons(&mut out, r);

    let l = &r.ledger;
    out.push('\n');
    let _ = writeln!(
        out,
        "packets: {} sent by hosts, {} received, {} dropped (links {}, routers {}, hosts {}, middleboxes {}), {} in flight; {} link hops; {}",
        l.host_sent,
        l.host_received,
        l.dropped_links + l.dropped_routers + l.dropped_hosts + l.dropped_middleboxes,
        l.dropped_links,
        l.dropped_routers,
        l.dropped_hosts,
        l.dropped_middleboxes,
        l.in_flight_links + l.held_middleboxes,
        l.hops,
        if l.balanced { "all accounted for" } else { "LEDGER DOES NOT BALANCE" }
    );
    let h = &r.headline;
    let others: Vec<String> = r.comparisons.iter().map(|c| format!("{} {}", c.name, fmt_figure(&c.headline))).collect();
    let _ = write!(out, "headline: {} = {}", h.label, fmt_figure(h));
    if others.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, " ({}; against {})", r.run_name.as_deref().unwrap_or("this run"), others.join(", "));
    }
    out
}
