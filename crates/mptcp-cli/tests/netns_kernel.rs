//! The harness checked against itself: `mptcp connect --kernel` to
//! `mptcp listen --kernel` across the two veth hops of `tests/netns/topo.sh`,
//! 100 MB each way, plain TCP over IPv4 and MPTCP over IPv6, SHA-256 identical.

mod common;

use common::*;

fn one_way(topo: &Topo, server: &str, client_to: &str, client_bind: &str, proto: &[&str], client_sends: bool) -> f64 {
    let size = MB100.to_string();
    let (server_mode, client_mode): (Vec<&str>, Vec<&str>) =
        if client_sends { (vec!["--recv"], vec!["--send", &size]) } else { (vec!["--send", &size], vec!["--recv"]) };
    let mut server_args = vec!["--kernel", "--port", "5001", "--addr", server];
    server_args.extend_from_slice(proto);
    server_args.extend_from_slice(&server_mode);
    let mut client_args = vec!["--kernel", "--addr", client_bind];
    client_args.extend_from_slice(proto);
    client_args.extend_from_slice(&client_mode);
    let o = transfer(topo.get("NS_KERN"), &server_args, topo.get("NS_US"), client_to, &client_args);
    let (sender, receiver) = if client_sends { (&o.client, &o.server) } else { (&o.server, &o.client) };
    assert_same_bytes(sender, receiver, MB100);
    let mbps = recv_mbps(receiver);
    let dir = if client_sends { "client -> server" } else { "server -> client" };
    eprintln!("kernel <-> kernel {} {dir}: 100 MiB at {mbps:.0} Mbit/s", proto.join(" "));
    mbps
}

#[test]
fn kernel_to_kernel_100mb_both_ways() {
    if !can_run("kernel_to_kernel_100mb_both_ways", &[]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("kk", &[]);
    let v4 = format!("{}:5001", topo.get("KERN_V4"));
    let v6 = format!("[{}]:5001", topo.get("KERN_V6"));
    for client_sends in [true, false] {
        one_way(&topo, topo.get("KERN_V4"), &v4, topo.get("US_V4"), &["--no-mptcp"], client_sends);
        one_way(&topo, topo.get("KERN_V6"), &v6, topo.get("US_V6"), &[], client_sends);
    }
}

#[test]
fn kernel_to_kernel_with_loss() {
    if !can_run("kernel_to_kernel_with_loss", &["iptables", "ethtool"]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("kl", &["loss", "1"]);
    let v4 = format!("{}:5001", topo.get("KERN_V4"));
    let mbps = one_way(&topo, topo.get("KERN_V4"), &v4, topo.get("US_V4"), &["--no-mptcp"], true);
    assert!(mbps > 0.0);
}
