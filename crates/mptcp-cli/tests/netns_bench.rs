//! The TUN benchmark: goodput of our stack on the TUN device against the
//! kernel's TCP, next to kernel-to-kernel TCP over the same unthrottled path
//! of `tests/netns/topo.sh` (two veth hops and a router), in one run, as a
//! ratio; and, to show what the offloads bring, our stack with them off
//! (one packet per read or write). Each figure is the best of a few 200 MiB transfers, measured at the
//! receiver. The target is a ratio of at least 1/3 each way.
//!
//! Run it alone with
//! `cargo test --release -p mptcp-cli --test netns_bench -- --nocapture` (as root).

mod common;

use common::*;

const SIZE: u64 = 200 << 20;
const ROUNDS: usize = 3;

/// Best receiver goodput, Mbit/s, over `ROUNDS` transfers.
fn best(server_ns: &str, server: &[&str], client_ns: &str, to: &str, client: &[&str], client_sends: bool) -> f64 {
    let size = SIZE.to_string();
    let mut figures = Vec::new();
    for _ in 0..ROUNDS {
        let mut s = server.to_vec();
        let mut c = client.to_vec();
        if client_sends {
            s.push("--recv");
            c.extend(["--send", &size]);
        } else {
            s.extend(["--send", &size]);
            c.push("--recv");
        }
        let o = transfer(server_ns, &s, client_ns, to, &c);
        let (sender, receiver) = if client_sends { (&o.client, &o.server) } else { (&o.server, &o.client) };
        assert_same_bytes(sender, receiver, SIZE);
        figures.push(recv_mbps(receiver));
    }
    figures.into_iter().fold(0.0, f64::max)
}

#[test]
fn goodput_tun_vs_kernel() {
    if !can_run("goodput_tun_vs_kernel", &[]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("bn", &[]);
    let (us, kern) = (topo.get("NS_US"), topo.get("NS_KERN"));
    let server = ["--kernel", "--no-mptcp", "--port", "5001", "--addr", topo.get("KERN_V4")];
    let to = format!("{}:5001", topo.get("KERN_V4"));
    let kernel_client = ["--kernel", "--no-mptcp", "--addr", topo.get("US_V4")];
    let tun_client = ["--no-mptcp", "--tun", topo.get("TUN"), "--addr", topo.get("STACK_V4")];
    let plain_tun_client = ["--no-mptcp", "--tun", topo.get("TUN"), "--addr", topo.get("STACK_V4"), "--no-offload"];

    let mut rows = Vec::new();
    for (dir, client_sends) in [("upload (client sends)", true), ("download (server sends)", false)] {
        let k = best(kern, &server, us, &to, &kernel_client, client_sends);
        let t = best(kern, &server, us, &to, &tun_client, client_sends);
        let p = best(kern, &server, us, &to, &plain_tun_client, client_sends);
        rows.push((dir, k, t, p));
    }
    eprintln!();
    eprintln!("TUN benchmark, {} MiB, best of {ROUNDS}, receiver goodput:", SIZE >> 20);
    eprintln!(
        "  {:<24} {:>16} {:>16} {:>7} {:>18} {:>7}",
        "direction", "kernel->kernel", "ours on TUN", "ratio", "ours, no offload", "ratio"
    );
    for (dir, k, t, p) in &rows {
        eprintln!("  {dir:<24} {k:>11.0} Mbit/s {t:>11.0} Mbit/s {:>7.2} {p:>13.0} Mbit/s {:>7.2}", t / k, p / k);
    }
    eprintln!();
    for (dir, k, t, _) in rows {
        assert!(t / k >= 1.0 / 3.0, "{dir}: ours on TUN {t:.0} Mbit/s is under a third of the kernel's {k:.0} Mbit/s");
    }
}
