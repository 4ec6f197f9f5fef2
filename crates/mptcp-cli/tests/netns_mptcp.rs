//! MPTCP interop with the Linux kernel across `tests/netns/topo.sh`: our stack
//! on TUN with MPTCP against the kernel's MPTCP sockets, both roles, 50 MiB
//! each way, SHA-256 identical, and the kernel's own MIB counters read with
//! `nstat` to confirm it saw MPTCP (MP_CAPABLE both ways) and no fallback,
//! no DSS mismatch, no checksum error.

mod common;

use common::*;
use std::collections::HashMap;
use std::process::Command;

const MB50: u64 = 50 << 20;

/// The kernel's MPTcpExt* counters in a namespace (absolute values).
fn nstat(ns: &str) -> HashMap<String, u64> {
    let out = Command::new("ip").args(["netns", "exec", ns, "nstat", "-asz"]).output().expect("nstat");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (k, v) = (it.next()?, it.next()?.parse().ok()?);
            k.starts_with("MPTcpExt").then(|| (k.trim_start_matches("MPTcpExt").to_owned(), v))
        })
        .collect()
}

fn delta(before: &HashMap<String, u64>, after: &HashMap<String, u64>, key: &str) -> u64 {
    after.get(key).copied().unwrap_or(0) - before.get(key).copied().unwrap_or(0)
}

fn assert_clean_mptcp(before: &HashMap<String, u64>, after: &HashMap<String, u64>, label: &str) {
    for (k, v) in after {
        let d = v - before.get(k).copied().unwrap_or(0);
        if k.contains("Fallback") || k == "DSSNotMatching" || k == "DataCsumErr" || k == "MPJoinAckHMacFailure" {
            assert_eq!(d, 0, "{label}: the kernel counted {k} += {d}");
        }
    }
}

fn target(ip: &str) -> String {
    format!("{ip}:5001")
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn our_mptcp_client_and_server_with_the_kernel() {
    if !can_run("our_mptcp_client_and_server_with_the_kernel", &["nstat"]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up("mp", &[]);
    let (us, kern) = (topo.get("NS_US"), topo.get("NS_KERN"));
    let ours = strs(&["--tun", topo.get("TUN"), "--addr", topo.get("STACK_V4")]);
    let kernel = strs(&["--kernel", "--addr", topo.get("KERN_V4")]);
    let size = MB50.to_string();
    for client_sends in [true, false] {
        for our_client in [true, false] {
            let (server_ns, mut server, client_ns, mut client, to) = if our_client {
                (kern, kernel.clone(), us, ours.clone(), target(topo.get("KERN_V4")))
            } else {
                (us, ours.clone(), kern, kernel.clone(), target(topo.get("STACK_V4")))
            };
            server.extend(strs(&["--port", "5001"]));
            let (smode, cmode) = if client_sends {
                (strs(&["--recv"]), strs(&["--send", &size]))
            } else {
                (strs(&["--send", &size]), strs(&["--recv"]))
            };
            server.extend(smode);
            client.extend(cmode);
            let before = nstat(kern);
            let o = transfer(server_ns, &refs(&server), client_ns, &to, &refs(&client));
            let after = nstat(kern);
            let label = format!(
                "{} {} {}",
                if our_client { "our client" } else { "kernel client" },
                if client_sends { "sends to" } else { "receives from" },
                if our_client { "kernel server" } else { "our server" }
            );
            let (sender, receiver) = if client_sends { (&o.client, &o.server) } else { (&o.server, &o.client) };
            assert_same_bytes(sender, receiver, MB50);
            assert_eq!(o.client["protocol"], "mptcp", "{label}");
            // The kernel saw MP_CAPABLE from us: in the SYN (we connect) or the SYN/ACK (we listen).
            let seen = if our_client {
                delta(&before, &after, "MPCapableSYNRX")
            } else {
                delta(&before, &after, "MPCapableSYNACKRX")
            };
            assert!(seen >= 1, "{label}: the kernel saw no MP_CAPABLE from us: {after:?}");
            assert_clean_mptcp(&before, &after, &label);
            eprintln!("{label}: 50 MiB at {:.0} Mbit/s, MPTCP, SHA-256 identical", recv_mbps(receiver));
        }
    }
}
