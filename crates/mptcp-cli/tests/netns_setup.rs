//! Setup that explains itself: each misconfiguration of the userspace
//! stack's TUN device gives a one-line diagnosis with the command that fixes
//! it, and a connection to nowhere ends at the connect timeout. Each case in
//! a namespace of its own (root only: a loud skip otherwise, a failure
//! under CI).

mod common;

use common::{can_run, spawn};
use std::process::Command;
use std::time::Duration;

/// A bare namespace, deleted when dropped.
struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Ns {
        let name = format!("perfcfg{tag}{}", std::process::id() % 100_000);
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        assert!(Command::new("ip").args(["netns", "add", &name]).status().expect("ip").success());
        let ns = Ns(name);
        ns.sh("ip link set lo up");
        ns
    }

    fn sh(&self, line: &str) {
        let out = Command::new("ip").args(["netns", "exec", &self.0, "sh", "-c", line]).output().expect("sh");
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Runs `mptcp ARGS` in it; must fail; its last stderr line.
    fn fails(&self, args: &[&str]) -> String {
        let f = spawn(&self.0, args).finish(Duration::from_secs(20));
        assert!(!f.success, "{} succeeded; stderr:\n{}", f.what, f.stderr);
        let last = f.stderr.lines().last().unwrap_or("").to_owned();
        assert!(last.starts_with("mptcp: error: "), "{}: {}", f.what, f.stderr);
        last
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn addr_not_routed_into_the_tun_device() {
    if !can_run("addr_not_routed_into_the_tun_device", &[]) {
        return;
    }
    let ns = Ns::new("r");
    ns.sh("ip tuntap add dev tun0 mode tun && ip link set tun0 up && ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up");
    ns.sh("ip addr add 10.77.0.1/24 dev d0");
    // 10.77.0.2 is on d0's subnet: the kernel sends its packets there.
    for cmd in [&["perf", "-s", "-1"][..], &["listen", "--port", "5000"][..]] {
        let mut args = cmd.to_vec();
        args.extend(["--tun", "tun0", "--addr", "10.77.0.2"]);
        let e = ns.fails(&args);
        assert!(e.contains("routes 10.77.0.2 via d0, not into tun0"), "{e}");
        assert!(e.ends_with("run `ip route add 10.77.0.2/32 dev tun0`"), "{e}");
    }
    // IPv6, with no route at all.
    let e = ns.fails(&["perf", "-s", "--tun", "tun0", "--addr", "fd00:77::2"]);
    assert!(e.ends_with("run `ip -6 route add fd00:77::2/128 dev tun0`"), "{e}");
    // Once routed, the check passes (the server starts and listens).
    ns.sh("ip route add 10.77.0.2/32 dev tun0");
    let mut p = spawn(&ns.0, &["perf", "-s", "-1", "--tun", "tun0", "--addr", "10.77.0.2"]);
    p.wait_for("perf server listening on 10.77.0.2:5201", Duration::from_secs(10));
}

#[test]
fn create_tun_without_a_route() {
    if !can_run("create_tun_without_a_route", &[]) {
        return;
    }
    let ns = Ns::new("c");
    let e = ns.fails(&["perf", "-s", "--create-tun", "--tun", "mtun7", "--addr", "10.78.0.2"]);
    assert!(e.contains("--create-tun made mtun7 just now, without routes"), "{e}");
    assert!(
        e.ends_with("run `ip tuntap add dev mtun7 mode tun && ip link set mtun7 up && ip route add 10.78.0.2/32 dev mtun7` first"),
        "{e}"
    );
    // The command it names works.
    ns.sh("ip tuntap add dev mtun7 mode tun && ip link set mtun7 up && ip route add 10.78.0.2/32 dev mtun7");
    let mut p = spawn(&ns.0, &["perf", "-s", "-1", "--create-tun", "--tun", "mtun7", "--addr", "10.78.0.2"]);
    p.wait_for("perf server listening", Duration::from_secs(10));
}

#[test]
fn addr_the_kernel_owns() {
    if !can_run("addr_the_kernel_owns", &[]) {
        return;
    }
    let ns = Ns::new("o");
    ns.sh("ip tuntap add dev tun0 mode tun && ip link set tun0 up && ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up");
    ns.sh("ip addr add 10.79.0.1/24 dev d0");
    let e = ns.fails(&["connect", "10.79.0.9:5000", "--tun", "tun0", "--addr", "10.79.0.1"]);
    assert!(e.contains("the host kernel owns 10.79.0.1 (on d0)"), "{e}");
    assert!(e.ends_with("run `ip addr del 10.79.0.1/24 dev d0`"), "{e}");
}

#[test]
fn connect_gives_up_at_the_connect_timeout() {
    if !can_run("connect_gives_up_at_the_connect_timeout", &[]) {
        return;
    }
    let ns = Ns::new("t");
    ns.sh("ip tuntap add dev tun0 mode tun && ip link set tun0 up && ip route add 10.80.0.2/32 dev tun0");
    // The SYNs go into the kernel, which drops them.
    ns.sh("ip route add blackhole 10.80.9.9/32");
    let started = std::time::Instant::now();
    for cmd in [&["perf", "-c", "10.80.9.9"][..], &["connect", "10.80.9.9:5201"][..]] {
        let mut args = cmd.to_vec();
        args.extend(["--tun", "tun0", "--addr", "10.80.0.2", "--connect-timeout", "1.5"]);
        let e = ns.fails(&args);
        assert!(e.contains("cannot connect to 10.80.9.9:5201: no answer in 1.5 s (--connect-timeout"), "{e}");
    }
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    // Without the flag, the default is the kernel's (127 s): in the help.
    let help = Command::new(env!("CARGO_BIN_EXE_mptcp")).args(["connect", "--help"]).output().expect("help");
    assert!(String::from_utf8_lossy(&help.stdout).contains("[default: 127]"));
}
