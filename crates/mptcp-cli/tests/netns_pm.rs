//! `mptcp pm` against the Linux kernel, in network namespaces
//! (tests/netns/pm.sh): unmodified programs (iperf3 under `mptcpize`, curl)
//! on a client whose path manager is our daemon, a server with the in-kernel
//! one. Each policy opens exactly the subflows it should (the kernel's
//! MPTcpExtMPJoin* counters), reacts to a link going down, re-creates a
//! failed subflow, and moves a stale initial subflow. Needs root; skips
//! loudly without it, fails under CI.

mod common;

use common::{Proc, Topo, can_run, serial, spawn};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A program we started in a namespace, killed (by its pid) when dropped.
struct Bg(Child);

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bg(ns: &str, args: &[&str]) -> Bg {
    Bg(Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn"))
}

/// Runs a command in `ns` to its end; returns (success, stdout + stderr).
fn run(ns: &str, args: &[&str]) -> (bool, String) {
    let o = Command::new("ip").args(["netns", "exec", ns]).args(args).output().expect("run");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn nstat(ns: &str, counter: &str) -> u64 {
    let (_, out) = run(ns, &["nstat", "-asz", counter]);
    out.lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(counter)).then(|| w.next().and_then(|v| v.parse().ok())).flatten()
        })
        .unwrap_or(0)
}

struct Net {
    topo: Topo,
}

impl Net {
    fn up(tag: &str, opts: &[&str]) -> Option<Net> {
        if !can_run(tag, &["iperf3", "mptcpize", "nstat", "tc"]) {
            return None;
        }
        Some(Net { topo: Topo::up_script("pm.sh", tag, opts) })
    }
    fn c(&self) -> &str {
        self.topo.get("NS_CLIENT")
    }
    fn s(&self) -> &str {
        self.topo.get("NS_SERVER")
    }
    /// Starts the daemon with `args` and waits until it listens.
    fn daemon(&self, args: &[&str]) -> Proc {
        let mut all = vec!["pm", "run"];
        all.extend_from_slice(args);
        let mut p = spawn(self.c(), &all);
        p.wait_for("listening for mptcp_pm events", Duration::from_secs(10));
        p
    }
    /// An iperf3 server (one test) in the server namespace.
    fn iperf3_server(&self, port: &str) -> Bg {
        let b = bg(self.s(), &["mptcpize", "run", "iperf3", "-s", "-1", "-p", port]);
        std::thread::sleep(Duration::from_millis(300));
        b
    }
    /// iperf3 client to the server's first address; returns its JSON report.
    fn iperf3(&self, port: &str, extra: &[&str]) -> Value {
        let mut args = vec!["mptcpize", "run", "iperf3", "-c", "10.231.1.1", "-p", port, "-J"];
        args.extend_from_slice(extra);
        let (ok, out) = run(self.c(), &args);
        let json = out.find('{').map(|i| &out[i..]).unwrap_or("");
        let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        assert!(ok, "iperf3 failed: {out}");
        v
    }
    fn status(&self) -> Value {
        let (ok, out) = run(self.c(), &[env!("CARGO_BIN_EXE_mptcp"), "pm", "status", "--json"]);
        assert!(ok, "mptcp pm status: {out}");
        serde_json::from_str(&out).expect("status JSON")
    }
}

fn received_bytes(report: &Value) -> u64 {
    report["end"]["sum_received"]["bytes"].as_u64().unwrap_or(0)
}

/// Stops a process we started and returns what it wrote.
fn stop(mut p: Proc) -> common::Finished {
    p.kill_after(Duration::ZERO);
    p.finish(Duration::from_secs(5))
}

/// iperf3 opens two MPTCP connections per test (control and data).
const IPERF3_CONNS: u64 = 2;

#[test]
fn pm_refuses_without_the_userspace_path_manager_or_cap_net_admin() {
    let _g = serial();
    let Some(net) = Net::up("pmtrf", &[]) else { return };
    // CAP_NET_ADMIN dropped from the bounding set: root execs without it.
    let (ok, out) = run(net.c(), &["setpriv", "--bounding-set=-net_admin", env!("CARGO_BIN_EXE_mptcp"), "pm", "run"]);
    assert!(!ok);
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    assert!(out.contains("needs CAP_NET_ADMIN"), "{out}");
    run(net.c(), &["sysctl", "-qw", "net.mptcp.path_manager=kernel"]);
    let (ok, out) = run(net.c(), &[env!("CARGO_BIN_EXE_mptcp"), "pm", "run"]);
    assert!(!ok);
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    assert!(out.contains("net.mptcp.path_manager is \"kernel\""), "{out}");
}

#[test]
fn pm_fullmesh_opens_one_join_per_connection_and_status_explains_it() {
    let _g = serial();
    let Some(net) = Net::up("pmtfm", &[]) else { return };
    let d = net.daemon(&["--policy", "fullmesh"]);
    let _srv = net.iperf3_server("5201");
    let r = net.iperf3("5201", &["-t", "1"]);
    assert!(received_bytes(&r) > 0);
    assert_eq!(nstat(net.c(), "MPTcpExtMPJoinSynAckRx"), IPERF3_CONNS);
    assert_eq!(nstat(net.s(), "MPTcpExtMPJoinAckRx"), IPERF3_CONNS);
    let st = net.status();
    assert_eq!(st["policy"], "fullmesh");
    assert_eq!(st["counters"]["subflows_created"], IPERF3_CONNS);
    stop(d);
}

#[test]
fn pm_fullmesh_with_curl() {
    let _g = serial();
    let Some(net) = Net::up("pmtcu", &[]) else { return };
    if !can_run("pm_fullmesh_with_curl", &["curl", "python3"]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pmt-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("f"), vec![7u8; 4 << 20]).unwrap();
    let d = dir.to_string_lossy().into_owned();
    let _daemon = net.daemon(&["--policy", "fullmesh"]);
    let _http =
        bg(net.s(), &["mptcpize", "run", "python3", "-m", "http.server", "8080", "--bind", "10.231.1.1", "-d", &d]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let (ok, out) = loop {
        let (ok, out) = run(
            net.c(),
            &[
                "mptcpize",
                "run",
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                "http://10.231.1.1:8080/f",
            ],
        );
        if ok || Instant::now() > deadline {
            break (ok, out);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "curl: {out}");
    assert!(out.trim().ends_with(&(4u64 << 20).to_string()), "{out}");
    assert!(nstat(net.c(), "MPTcpExtMPJoinSynAckRx") >= 1, "curl's connection got no join");
}

#[test]
fn pm_ndiffports_opens_n_minus_one_joins_on_the_initial_path() {
    let _g = serial();
    let Some(net) = Net::up("pmtnd", &[]) else { return };
    let d = net.daemon(&["--policy", "ndiffports", "--subflows", "3"]);
    let _srv = net.iperf3_server("5201");
    net.iperf3("5201", &["-t", "1"]);
    assert_eq!(nstat(net.c(), "MPTcpExtMPJoinSynAckRx"), 2 * IPERF3_CONNS);
    let st = stop(d).stderr;
    assert!(!st.contains("10.231.2.2:0"), "ndiffports used the second address:\n{st}");
}

#[test]
fn pm_backup_sets_the_b_bit_and_promotes_the_backup_when_the_link_goes_down() {
    let _g = serial();
    let Some(net) = Net::up("pmtbk", &["rate", "20"]) else { return };
    let mut mon = spawn(net.s(), &["pm", "monitor", "--json"]);
    mon.wait_for("monitoring", Duration::from_secs(5));
    let d = net.daemon(&["--policy", "backup", "--backup", "c1"]);
    let _srv = net.iperf3_server("5201");
    let c = net.c().to_owned();
    let down = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        run(&c, &["ip", "link", "set", "c0", "down"]);
    });
    let r = net.iperf3("5201", &["-R", "-t", "3"]);
    down.join().unwrap();
    // 20 Mbit/s for 3 s is 7.5 MB; the handover must not stall it for long.
    assert!(received_bytes(&r) > 5_000_000, "{}", received_bytes(&r));
    let log = stop(d).stderr;
    assert!(log.contains("backup promoted"), "{log}");
    let events = stop(mon).stdout;
    let backup_join = events.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).any(|e| {
        e["kind"] == "sub_established"
            && e["daddr"].as_str().is_some_and(|a| a.ends_with("10.231.2.2"))
            && e["backup"] == true
    });
    assert!(backup_join, "the server saw no join with the B bit:\n{events}");
}

#[test]
fn pm_singlepath_opens_nothing_until_the_link_goes_down() {
    let _g = serial();
    let Some(net) = Net::up("pmtsp", &["rate", "20"]) else { return };
    let d = net.daemon(&["--policy", "singlepath"]);
    let _srv = net.iperf3_server("5201");
    let c = net.c().to_owned();
    let down = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let before = nstat(&c, "MPTcpExtMPJoinSynTx");
        run(&c, &["ip", "link", "set", "c0", "down"]);
        before
    });
    let r = net.iperf3("5201", &["-R", "-t", "3"]);
    assert_eq!(down.join().unwrap(), 0, "single path opened a join before its path failed");
    assert_eq!(nstat(net.c(), "MPTcpExtMPJoinSynAckRx"), IPERF3_CONNS);
    assert!(received_bytes(&r) > 5_000_000, "{}", received_bytes(&r));
    let log = stop(d).stderr;
    assert!(log.contains("single path: the previous path failed"), "{log}");
    assert!(log.contains("remove address id 0"), "{log}");
}

#[test]
fn pm_recreates_a_subflow_the_peer_reset() {
    let _g = serial();
    let Some(net) = Net::up("pmtre", &["rate", "50"]) else { return };
    if !can_run("pm_recreates_a_subflow_the_peer_reset", &["ss"]) {
        return;
    }
    let d = net.daemon(&["--policy", "fullmesh"]);
    let _srv = net.iperf3_server("5201");
    let s = net.s().to_owned();
    let kill = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        run(&s, &["ss", "-K", "dst", "10.231.2.2"])
    });
    net.iperf3("5201", &["-R", "-t", "3"]);
    let (ok, out) = kill.join().unwrap();
    assert!(ok, "ss -K: {out}");
    // One join per connection, then each killed one re-created after 1 s.
    let joins = nstat(net.c(), "MPTcpExtMPJoinSynAckRx");
    let log = stop(d).stderr;
    assert!(log.contains("re-create 10.231.2.2"), "{log}");
    assert!(joins > IPERF3_CONNS, "joins {joins}:\n{log}");
}

#[test]
fn pm_moves_a_stale_initial_subflow_to_the_other_interface() {
    let _g = serial();
    let Some(net) = Net::up("pmtst", &["rate", "20"]) else { return };
    let d = net.daemon(&["--policy", "singlepath"]);
    let _srv = net.iperf3_server("5201");
    let s = net.s().to_owned();
    // Path a goes silent after 1 s (a blackhole route in the server: its
    // replies to our first address go nowhere), the link staying up: only
    // the subflow's state tells.
    let blackhole = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        run(&s, &["ip", "route", "add", "blackhole", "10.231.1.2/32"])
    });
    let r = net.iperf3("5201", &["-t", "4"]);
    blackhole.join().unwrap();
    let log = stop(d).stderr;
    assert!(log.contains("is stale"), "{log}");
    assert!(log.contains("remove address id 0"), "{log}");
    assert!(r["end"]["sum_sent"]["bytes"].as_u64().unwrap_or(0) > 3_000_000, "{r}");
}
