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

fn gap_script() -> String {
    format!("{}/../../scripts/pm-gap.py", env!("CARGO_MANIFEST_DIR"))
}

impl Net {
    /// A kernel MPTCP stream from `server_ns` to a reader in the other
    /// namespace for `secs` seconds (scripts/pm-gap.py); returns the server
    /// and the reader's thread (its JSON line).
    fn stream(&self, server_ns: &str, addr: &str, port: &str, secs: &str) -> (Bg, std::thread::JoinHandle<String>) {
        let srv = bg(server_ns, &["python3", &gap_script(), "serve", addr, port]);
        std::thread::sleep(Duration::from_millis(300));
        let reader_ns = if server_ns == self.c() { self.s() } else { self.c() }.to_owned();
        let (addr, port, secs) = (addr.to_owned(), port.to_owned(), secs.to_owned());
        let t = std::thread::spawn(move || run(&reader_ns, &["python3", &gap_script(), "recv", &addr, &port, &secs]).1);
        (srv, t)
    }
}

#[test]
fn pm_restarted_daemon_adopts_the_connections_and_matches_rules_by_process() {
    let _g = serial();
    let Some(net) = Net::up("pmtrs", &["rate", "20"]) else { return };
    // Only the process rule gives a join: the default is single-path.
    let cfg = std::env::temp_dir().join(format!("pmtrs-{}.toml", std::process::id()));
    std::fs::write(
        &cfg,
        "[default]\npolicy = \"singlepath\"\n[[rule]]\nname = \"py\"\npolicy = \"fullmesh\"\nmatch = { process = \"python3*\" }\n",
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap().to_owned();
    let d = net.daemon(&["--config", &cfg_s]);
    let (_srv, reader) = net.stream(net.s(), "10.231.1.1", "5311", "4");
    std::thread::sleep(Duration::from_millis(1200));
    let before = net.status();
    let first = stop(d).stderr;
    let conns = before["connections"].as_array().cloned().unwrap_or_default();
    assert_eq!(conns.len(), 1, "{before}\n{first}");
    assert_eq!(conns[0]["class"], "py", "matched by process: {before}");
    assert_eq!(conns[0]["subflows"].as_array().map(|s| s.len()), Some(2), "{before}");
    // A new daemon, mid-connection: it finds both subflows and opens nothing.
    let d = net.daemon(&["--config", &cfg_s]);
    let after = net.status();
    let log = stop(d).stderr;
    let out = reader.join().unwrap();
    let _ = std::fs::remove_file(&cfg);
    assert!(log.contains("start-up: 1 connections, 2 subflows found by sock_diag"), "{log}");
    let c = &after["connections"][0];
    assert_eq!(c["class"], "py", "{after}");
    let subs = c["subflows"].as_array().cloned().unwrap_or_default();
    assert_eq!(subs.len(), 2, "{after}");
    assert!(subs.iter().all(|s| s["state"] == "established"), "{after}");
    assert!(subs.iter().any(|s| s["ours"] == true && s["local"].as_str().is_some_and(|l| l.starts_with("10.231.2.2"))));
    assert_eq!(after["counters"]["subflows_created"], 0, "nothing re-opened: {after}\n{log}");
    assert!(out.contains("\"bytes\""), "{out}");
}

#[test]
fn pm_closes_a_subflow_whose_route_goes_away_and_reopens_it_when_it_returns() {
    let _g = serial();
    let Some(net) = Net::up("pmtrt", &["rate", "20"]) else { return };
    let d = net.daemon(&["--policy", "fullmesh"]);
    let (_srv, reader) = net.stream(net.s(), "10.231.1.1", "5312", "3");
    std::thread::sleep(Duration::from_millis(800));
    // Path b loses its route (the link stays up): a blackhole in its table.
    let (ok, out) = run(net.c(), &["ip", "route", "replace", "blackhole", "10.231.1.0/24", "table", "102"]);
    assert!(ok, "{out}");
    std::thread::sleep(Duration::from_millis(800));
    let (ok, out) = run(net.c(), &["ip", "route", "replace", "10.231.1.0/24", "dev", "c1", "table", "102"]);
    assert!(ok, "{out}");
    std::thread::sleep(Duration::from_millis(1000));
    let st = net.status();
    let log = stop(d).stderr;
    reader.join().unwrap();
    assert!(log.contains("route 10.231.2.2 -> 10.231.1.1: gone"), "{log}");
    assert!(log.contains("no route to the peer"), "{log}");
    assert!(log.contains("route 10.231.2.2 -> 10.231.1.1: back"), "{log}");
    assert!(log.contains("re-create 10.231.2.2") || log.contains("open 10.231.2.2"), "{log}");
    assert_eq!(st["counters"]["route_losses"], 1, "{st}");
}

#[test]
fn pm_resets_a_receive_only_subflow_that_goes_silent() {
    let _g = serial();
    let Some(net) = Net::up("pmtrx", &["rate", "20"]) else { return };
    let d = net.daemon(&["--policy", "fullmesh"]);
    // The server streams to us; after 1.2 s its replies to our second
    // address go nowhere: our join only receives, so only silence tells.
    let (_srv, reader) = net.stream(net.s(), "10.231.1.1", "5313", "4");
    std::thread::sleep(Duration::from_millis(1200));
    let (ok, out) = run(net.s(), &["ip", "route", "replace", "blackhole", "10.231.2.2", "table", "102"]);
    assert!(ok, "{out}");
    let out = reader.join().unwrap();
    let log = stop(d).stderr;
    assert!(log.contains("receive-only, no data for"), "{log}");
    assert!(log.contains("reset and reopened"), "{log}");
    assert!(out.contains("\"bytes\""), "{out}");
}

#[test]
fn pm_listens_on_an_announced_port_so_that_the_peer_can_join_it() {
    let _g = serial();
    let Some(net) = Net::up("pmtan", &[]) else { return };
    // Roles swapped: our namespace serves and announces 10.231.2.2:7777;
    // the other side's in-kernel manager joins the announced address.
    let cfg = std::env::temp_dir().join(format!("pmtan-{}.toml", std::process::id()));
    std::fs::write(&cfg, "[default]\npolicy = \"fullmesh\"\nannounce = [\"10.231.2.2:7777\"]\n").unwrap();
    let d = net.daemon(&["--config", cfg.to_str().unwrap()]);
    // Four seconds: the peer's join to the announcement came too late for a
    // two-second stream once in five full runs.
    let (_srv, reader) = net.stream(net.c(), "10.231.1.2", "5314", "4");
    let out = reader.join().unwrap();
    let log = stop(d).stderr;
    let _ = std::fs::remove_file(&cfg);
    assert!(log.contains("listening on 10.231.2.2 port 7777"), "{log}");
    assert!(log.contains("announce 10.231.2.2:7777"), "{log}");
    assert!(nstat(net.c(), "MPTcpExtMPJoinAckRx") >= 1, "no join accepted on the announced port:\n{log}");
    assert!(out.contains("\"bytes\""), "{out}");
}
