//! Interop with the Linux kernel's TCP across `tests/netns/topo.sh`: our
//! stack on the TUN device in one namespace, the kernel in another, a router
//! between. 100 MiB each way in both roles, SHA-256 identical; then the same
//! with 1% random loss on the router. Goodput goes to stderr.

mod common;

use common::*;

/// `mptcp` flags for our stack in the topology.
fn ours(topo: &Topo, v6: bool) -> Vec<String> {
    let addr = if v6 { topo.get("STACK_V6") } else { topo.get("STACK_V4") };
    ["--no-mptcp", "--tun", topo.get("TUN"), "--addr", addr].map(str::to_owned).to_vec()
}

fn kernel(bind: &str) -> Vec<String> {
    ["--kernel", "--no-mptcp", "--addr", bind].map(str::to_owned).to_vec()
}

fn target(ip: &str) -> String {
    if ip.contains(':') { format!("[{ip}]:5001") } else { format!("{ip}:5001") }
}

fn modes(client_sends: bool) -> (Vec<String>, Vec<String>) {
    let send = vec!["--send".to_owned(), MB100.to_string()];
    let recv = vec!["--recv".to_owned()];
    if client_sends { (recv, send) } else { (send, recv) }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// One 100 MiB transfer; checks the bytes and returns the receiver's goodput.
fn run(
    label: &str,
    server_ns: &str,
    server: Vec<String>,
    client_ns: &str,
    to: &str,
    client: Vec<String>,
    client_sends: bool,
) -> f64 {
    let (server_mode, client_mode) = modes(client_sends);
    let mut s = server;
    s.extend(["--port".to_owned(), "5001".to_owned()]);
    s.extend(server_mode);
    let mut c = client;
    c.extend(client_mode);
    let o = transfer(server_ns, &refs(&s), client_ns, to, &refs(&c));
    let (sender, receiver) = if client_sends { (&o.client, &o.server) } else { (&o.server, &o.client) };
    assert_same_bytes(sender, receiver, MB100);
    let mbps = recv_mbps(receiver);
    let ours = if o.client["backend"] == "userspace" { &o.client } else { &o.server };
    eprintln!(
        "{label}: 100 MiB at {mbps:.0} Mbit/s (our side retransmitted {} B, srtt {} us)",
        ours["retransmitted_bytes"], ours["srtt_us"]
    );
    mbps
}

fn our_client_rounds(topo: &Topo, tag: &str) {
    let (us, kern) = (topo.get("NS_US"), topo.get("NS_KERN"));
    for client_sends in [true, false] {
        let dir = if client_sends { "our client -> kernel server" } else { "kernel server -> our client" };
        let mbps = run(
            &format!("{tag} IPv4 {dir}"),
            kern,
            kernel(topo.get("KERN_V4")),
            us,
            &target(topo.get("KERN_V4")),
            ours(topo, false),
            client_sends,
        );
        assert!(mbps > 0.0);
    }
    run(
        &format!("{tag} IPv6 our client -> kernel server"),
        kern,
        kernel(topo.get("KERN_V6")),
        us,
        &target(topo.get("KERN_V6")),
        ours(topo, true),
        true,
    );
}

fn our_server_rounds(topo: &Topo, tag: &str) {
    let (us, kern) = (topo.get("NS_US"), topo.get("NS_KERN"));
    for client_sends in [true, false] {
        let dir = if client_sends { "kernel client -> our server" } else { "our server -> kernel client" };
        run(
            &format!("{tag} IPv4 {dir}"),
            us,
            ours(topo, false),
            kern,
            &target(topo.get("STACK_V4")),
            kernel(topo.get("KERN_V4")),
            client_sends,
        );
    }
    run(
        &format!("{tag} IPv6 our server -> kernel client"),
        us,
        ours(topo, true),
        kern,
        &target(topo.get("STACK_V6")),
        kernel(topo.get("KERN_V6")),
        false,
    );
}

#[test]
fn our_client_with_kernel_server() {
    if !can_run("our_client_with_kernel_server", &[]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("sc", &[]);
    our_client_rounds(&topo, "no loss");
}

#[test]
fn kernel_client_with_our_server() {
    if !can_run("kernel_client_with_our_server", &[]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("ss", &[]);
    our_server_rounds(&topo, "no loss");
}

#[test]
fn our_client_with_kernel_server_1pct_loss() {
    if !can_run("our_client_with_kernel_server_1pct_loss", &["iptables", "ethtool"]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("scl", &["loss", "1"]);
    our_client_rounds(&topo, "1% loss");
}

#[test]
fn kernel_client_with_our_server_1pct_loss() {
    if !can_run("kernel_client_with_our_server_1pct_loss", &["iptables", "ethtool"]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("ssl", &["loss", "1"]);
    our_server_rounds(&topo, "1% loss");
}
