//! A peer that never reads: its window closes and stays closed for ten
//! minutes. The sender holds no more than its send buffer, the receiver no
//! more than its receive buffer; the sender probes the closed window with
//! backoff (`TCPWinProbe`), so a lost window update cannot stall it forever,
//! and neither side wakes up more than a few times a minute meanwhile (no
//! busy loop). When the peer reads at last, every byte arrives intact.

mod common;
mod hostile;

use common::{Bulk, Pair, open};
use hostile::{mptcp_cfg, peak_bytes, reset_peak};
use mptcp_proto::Duration;

const MB: u64 = 1_000_000;

/// A transfer of `total` bytes A→B that B does not read for `idle`, then
/// reads whole; `drop_updates`: the first window updates B sends after it
/// starts reading are lost. Returns (A's packets, wakeups) during the idle
/// time.
fn never_reads(seed: u64, total: u64, idle: Duration, drop_updates: u32) -> (u64, u64) {
    let mut p = Pair::new(mptcp_cfg(), hostile::link(), seed);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut ta = Bulk::new(total, 1, 2);
    // B's window is closed for good once A's probes are 5 s apart.
    let mut last_ab = (p.now, 0u64);
    let full = p.run_until(Duration::from_secs(60), |p| {
        ta.pump(&mut p.a, a);
        if p.ab.sent == last_ab.1 {
            return false;
        }
        let quiet = p.now - last_ab.0;
        last_ab = (p.now, p.ab.sent);
        quiet > Duration::from_secs(5)
    });
    assert!(full, "A stopped sending");
    let cfg = mptcp_cfg();
    let sent_before = ta.written;
    assert!(sent_before < total, "A could not write it all: {} of {total}", ta.written);
    let held = p.b.readable(b) as u64;
    assert!(held <= cfg.tcp.recv_buffer as u64, "B holds {held}");
    let queued = p.a.send_outstanding(a).unwrap() as u64;
    assert!(queued <= cfg.tcp.send_buffer as u64, "A holds {queued}");
    // Ten minutes of a closed window.
    let (pkts, start, live) = (p.ab.sent, p.now, hostile::live_bytes());
    let mut wakeups = 0u64;
    p.run_until(idle, |p| {
        wakeups += 1;
        ta.pump(&mut p.a, a);
        p.now - start >= idle
    });
    let idle_pkts = p.ab.sent - pkts;
    let probes = p.a.subflow_stats(a).unwrap()[0].tcp.win_probes;
    eprintln!(
        "never reads: B holds {} kB, A {} kB; over {} s: {idle_pkts} packets from A ({probes} TCPWinProbe in all), {wakeups} wakeups, peak {} kB, {} kB more at the end",
        held >> 10,
        queued >> 10,
        idle.as_micros() / 1_000_000,
        peak_bytes() >> 10,
        (hostile::live_bytes() - live) >> 10
    );
    // Nothing grows while the window stays closed; and at the worst, A's
    // send buffer, B's data-level buffer with its slack (twice the receive
    // buffer), B's subflow holding out-of-order data (one more), and what
    // the link holds.
    let grown = hostile::live_bytes() - live;
    assert!(grown <= 64 << 10, "{grown} bytes more after ten minutes of a closed window");
    let bound = (cfg.tcp.send_buffer + 3 * cfg.tcp.recv_buffer) as i64 + (2 << 20);
    assert!(peak_bytes() < bound, "peak {} of {bound}", peak_bytes());
    // Now B reads; its first window updates may be lost.
    let lost = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let l = lost.clone();
    p.ba.filter = Some(Box::new(move |_| {
        if l.get() < drop_updates {
            l.set(l.get() + 1);
            return true;
        }
        false
    }));
    let mut tb = Bulk::new(0, 2, 1);
    let resumed = p.now;
    let done = p.run_until(Duration::from_secs(600), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        tb.read == total
    });
    assert!(done, "B read {} of {total} in {:?}", tb.read, p.now - resumed);
    assert!(!tb.corrupt, "data differs");
    eprintln!("  then all read in {} ms", (p.now - resumed).as_micros() / 1000);
    (idle_pkts, wakeups)
}

#[test]
fn a_peer_that_never_reads_costs_bounded_memory_and_a_few_probes() {
    let (pkts, wakeups) = never_reads(800, 20 * MB, Duration::from_secs(600), 0);
    assert!(pkts < 200, "{pkts} packets in ten minutes of a closed window");
    assert!(wakeups < 2000, "{wakeups} wakeups in ten minutes");
}

#[test]
fn the_closed_window_is_probed_so_lost_window_updates_do_not_stall_it() {
    let (pkts, _) = never_reads(801, 20 * MB, Duration::from_secs(600), 20);
    assert!(pkts >= 1, "A probed the closed window");
}
