//! The interop harness: our stack on TUN against the Linux kernel's MPTCP
//! across the two paths of `tests/netns/twopath.sh`, one `#[test]` per
//! scenario (named like the scenario, `-` as `_`), each run in both roles:
//! our client to a kernel server, and a kernel client to our server.
//!
//! Every role builds a fresh topology, moves 50 MiB each way over one
//! connection (both sides `--send`), compares SHA-256 both ways, reads the
//! kernel's MPTcpExt* counters (`nstat -asz`) before and after, captures the
//! kernel's side (header only, `dumpcap -s 200`) and checks `mptcp analyze
//! --json` on the capture. Run one scenario with `tests/netns/interop.sh
//! NAME`; `tests/netns/README.md` says what each one does and checks.
//! Captures are kept in `$CARGO_TARGET_TMPDIR/interop/SCENARIO-ROLE.pcapng`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Bytes each way.
const SIZE: u64 = 50 << 20;
const PORT: u16 = 5001;
/// Per-path rate (Mbit/s, each direction) of most scenarios: a transfer
/// lasts a few seconds and the header-only capture keeps up.
const RATE: u32 = 200;
/// Per-path rate of the scenarios that act mid-transfer: slower, so there
/// is a "mid".
const SLOW: u32 = 100;
/// `--timeout` of each process.
const TIMEOUT_S: &str = "60";
/// The `--at` size of our side's and the kernel side's mid-transfer actions.
const AT: &str = "20M";
/// The kernel-side mid-transfer actions fire once this many bytes crossed
/// the kernel's two veths (both directions; the transfer moves 100 MiB).
const MID_BYTES: u64 = 40 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Our client connects to a kernel server.
    OurClient,
    /// A kernel client connects to our server.
    KernelClient,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::OurClient => "our-client",
            Role::KernelClient => "kernel-client",
        }
    }
}

/// The addresses of one family (from `twopath.sh env`).
#[derive(Clone, Debug)]
struct Addrs {
    /// Our stack's, path a and b.
    s1: String,
    s2: String,
    /// The kernel's, path a (on k0) and b (on k1).
    k1: String,
    k2: String,
}

impl Addrs {
    fn of(topo: &Topo, v6: bool) -> Addrs {
        let f = if v6 { "V6" } else { "V4" };
        Addrs {
            s1: topo.get(&format!("STACK_{f}")).to_owned(),
            s2: topo.get(&format!("STACK_{f}_2")).to_owned(),
            k1: topo.get(&format!("KERN_{f}")).to_owned(),
            k2: topo.get(&format!("KERN_{f}_2")).to_owned(),
        }
    }
}

fn sock(ip: &str, port: u16) -> String {
    if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") }
}

/// A command run in a namespace mid-transfer.
#[derive(Clone, Debug)]
struct Mid {
    /// In the kernel's namespace (else in ours, NS_US).
    in_kern: bool,
    cmd: String,
}

/// What one role of a scenario runs.
#[derive(Clone, Debug)]
struct Spec {
    v6: bool,
    /// Per-path rate, Mbit/s (0: unshaped).
    rate: u32,
    /// Extra flags of our side's `mptcp`.
    ours: Vec<String>,
    /// Extra flags of the kernel side's `mptcp --kernel`.
    kernel: Vec<String>,
    /// Shell lines run in the kernel's namespace before the transfer.
    kern_setup: Vec<String>,
    /// Shell lines run in NS_US (the forwarding namespace) before.
    us_setup: Vec<String>,
    mid: Option<Mid>,
    /// Both sides exit 0 and everything arrives (else: an abort scenario).
    complete: bool,
    /// MPTCP end to end, no fallback (else: a fallback scenario).
    mptcp: bool,
}

impl Spec {
    fn new() -> Spec {
        Spec {
            v6: false,
            rate: RATE,
            ours: Vec::new(),
            kernel: Vec::new(),
            kern_setup: Vec::new(),
            us_setup: Vec::new(),
            mid: None,
            complete: true,
            mptcp: true,
        }
    }

    fn ours(mut self, flags: &[&str]) -> Spec {
        self.ours.extend(flags.iter().map(|s| (*s).to_owned()));
        self
    }

    fn kernel(mut self, flags: &[&str]) -> Spec {
        self.kernel.extend(flags.iter().map(|s| (*s).to_owned()));
        self
    }

    fn kern_setup(mut self, line: impl Into<String>) -> Spec {
        self.kern_setup.push(line.into());
        self
    }

    fn us_setup(mut self, line: impl Into<String>) -> Spec {
        self.us_setup.push(line.into());
        self
    }

    fn mid(mut self, in_kern: bool, cmd: impl Into<String>) -> Spec {
        self.mid = Some(Mid { in_kern, cmd: cmd.into() });
        self.rate = SLOW;
        self
    }
}

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

/// Runs a shell line in a namespace; panics if it fails.
fn sh(ns: &str, line: &str) {
    let out = Command::new("ip").args(["netns", "exec", ns, "sh", "-c", line]).output().expect("sh");
    assert!(
        out.status.success(),
        "[{ns}] {line}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Bytes that crossed the kernel's two veths, both directions.
fn veth_bytes(ns: &str) -> u64 {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", "cat /sys/class/net/k[01]/statistics/[rt]x_bytes"])
        .output()
        .expect("cat");
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse::<u64>().ok()).sum()
}

/// dumpcap in a namespace, header only.
struct Capture {
    child: Child,
    path: PathBuf,
}

impl Capture {
    fn start(ns: &str, path: PathBuf) -> Capture {
        let _ = std::fs::remove_file(&path);
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "dumpcap", "-q", "-i", "any", "-s", "200", "-B", "16", "-f", "tcp", "-w"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap");
        // dumpcap creates the file once it captures.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
                panic!("dumpcap did not start capturing into {}", path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        Capture { child, path }
    }

    /// Stops it (SIGINT: it writes what it has) and runs `mptcp analyze --json`.
    fn analyze(mut self) -> Value {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        let out = Command::new(env!("CARGO_BIN_EXE_mptcp")).arg("analyze").arg("--json").arg(&self.path).output();
        let out = out.expect("mptcp analyze");
        // A failure here is reported by the checks, after the processes' own.
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            let why = format!("mptcp analyze {}: {e}; {}", self.path.display(), String::from_utf8_lossy(&out.stderr));
            serde_json::json!({ "error": why, "connections": [] })
        })
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What one role of a scenario gave.
struct Run {
    role: Role,
    ours: Finished,
    kernel: Finished,
    before: HashMap<String, u64>,
    after: HashMap<String, u64>,
    analyze: Value,
    capture: PathBuf,
    /// When the mid-transfer command ran, seconds after the client started.
    mid_at: Option<f64>,
}

impl Run {
    /// How much a kernel counter grew.
    fn d(&self, key: &str) -> u64 {
        self.after.get(key).copied().unwrap_or(0).saturating_sub(self.before.get(key).copied().unwrap_or(0))
    }

    /// The counters that grew, for the log.
    fn grown(&self) -> String {
        let m: BTreeMap<&str, u64> = self
            .after
            .keys()
            .map(|k| (k.as_str(), self.d(k)))
            .filter(|(k, d)| *d > 0 && !k.contains("WndShared") && *k != "MPCurrEstab")
            .collect();
        m.iter().map(|(k, d)| format!("{k}={d}")).collect::<Vec<_>>().join(" ")
    }

    fn our(&self) -> &Value {
        self.ours.json.as_ref().unwrap_or_else(|| panic!("no JSON report from our side: {:?}", self.ours))
    }

    fn kern(&self) -> &Value {
        self.kernel.json.as_ref().unwrap_or_else(|| panic!("no JSON report from the kernel side: {:?}", self.kernel))
    }

    fn client(&self) -> &Value {
        if self.role == Role::OurClient { self.our() } else { self.kern() }
    }

    fn server(&self) -> &Value {
        if self.role == Role::OurClient { self.kern() } else { self.our() }
    }

    /// The connection to the test port in the capture.
    fn conn(&self) -> &Value {
        if let Some(e) = self.analyze["error"].as_str() {
            panic!("{e}");
        }
        let conns = self.analyze["connections"].as_array().expect("connections");
        let ours: Vec<&Value> =
            conns.iter().filter(|c| c["server"].as_str().is_some_and(|s| s.ends_with(&format!(":{PORT}")))).collect();
        assert_eq!(ours.len(), 1, "one connection to port {PORT} in {}: {:#}", self.capture.display(), self.analyze);
        ours[0]
    }

    fn subflows(&self) -> &Vec<Value> {
        self.conn()["subflows"].as_array().expect("subflows")
    }

    /// Our report's `mptcp.fallback`.
    fn our_fallback(&self) -> &Value {
        &self.our()["mptcp"]["fallback"]
    }
}

/// Runs one role of a scenario on a fresh topology.
fn run_role(name: &str, role: Role, build: &dyn Fn(Role, &Addrs) -> Spec) -> Run {
    let topo = Topo::up_script("twopath.sh", "io", &[]);
    let (us, kern) = (topo.get("NS_US").to_owned(), topo.get("NS_KERN").to_owned());
    let v6_probe = build(role, &Addrs::of(&topo, false));
    let a = Addrs::of(&topo, v6_probe.v6);
    let spec = build(role, &a);
    if spec.rate > 0 {
        topo.set(&["rate", &spec.rate.to_string()]);
    }
    for line in &spec.kern_setup {
        sh(&kern, line);
    }
    for line in &spec.us_setup {
        sh(&us, line);
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop");
    std::fs::create_dir_all(&dir).expect("capture dir");
    let path = dir.join(format!("{name}-{}.pcapng", role.label()));
    let capture = Capture::start(&kern, path.clone());
    let before = nstat(&kern);

    let size = SIZE.to_string();
    let mut ours: Vec<String> =
        ["--tun", topo.get("TUN"), "--addr", &a.s1, "--send", &size].iter().map(|s| (*s).to_owned()).collect();
    ours.extend(spec.ours.iter().cloned());
    let mut kernel: Vec<String> = ["--kernel", "--send", &size].iter().map(|s| (*s).to_owned()).collect();
    kernel.extend(spec.kernel.iter().cloned());
    let listen = |ns: &str, extra: &[String]| {
        let mut args: Vec<String> = ["listen", "--json", "--timeout", TIMEOUT_S, "--port", &PORT.to_string()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.extend(extra.iter().cloned());
        let mut p = spawn(ns, &args.iter().map(String::as_str).collect::<Vec<_>>());
        p.wait_for("listening on", Duration::from_secs(20));
        p
    };
    let connect = |ns: &str, target: String, extra: &[String]| {
        let mut args: Vec<String> =
            vec!["connect".into(), target, "--json".into(), "--timeout".into(), TIMEOUT_S.into()];
        args.extend(extra.iter().cloned());
        spawn(ns, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (server, client) = match role {
        Role::OurClient => {
            let server = listen(&kern, &kernel);
            (server, connect(&us, sock(&a.k1, PORT), &ours))
        }
        Role::KernelClient => {
            let server = listen(&us, &ours);
            kernel.extend(["--addr".to_owned(), a.k1.clone()]);
            (server, connect(&kern, sock(&a.s1, PORT), &kernel))
        }
    };
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let mid = spec.mid.clone().map(|m| {
        let (ns, kern, done) = (if m.in_kern { kern.clone() } else { us.clone() }, kern.clone(), done.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(40);
            while veth_bytes(&kern) < MID_BYTES {
                if done.load(Ordering::Relaxed) || Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let at = start.elapsed().as_secs_f64();
            sh(&ns, &m.cmd);
            Some(at)
        })
    });
    let (client, server) = finish_both(client, server);
    done.store(true, Ordering::Relaxed);
    let mid_at = mid.and_then(|h| h.join().expect("mid-transfer thread"));
    // The last ACKs and counters settle.
    std::thread::sleep(Duration::from_millis(300));
    let after = nstat(&kern);
    let analyze = capture.analyze();
    let (ours, kernel) = if role == Role::OurClient { (client, server) } else { (server, client) };
    let run = Run { role, ours, kernel, before, after, analyze, capture: path, mid_at };
    if spec.mid.is_some() {
        let at = run.mid_at.unwrap_or_else(|| panic!("the mid-transfer command never ran: {:?}", spec.mid));
        let end = run.client()["duration_s"].as_f64().unwrap_or(0.0);
        eprintln!("  mid-transfer `{}` at {at:.2} s of {end:.2} s", spec.mid.as_ref().map(|m| m.cmd.as_str()).unwrap());
    }
    eprintln!(
        "  kernel counters that grew: {}; our report's mptcp.counters: {}",
        run.grown(),
        run.ours.json.as_ref().map_or(Value::Null, |o| o["mptcp"]["counters"].clone())
    );
    check_common(&run, &spec);
    run
}

/// Waits for both processes; once one has failed, the other gets 10 s more
/// (not the whole timeout) before it is killed.
fn finish_both(mut client: Proc, mut server: Proc) -> (Finished, Finished) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let failed = [client.exited(), server.exited()].into_iter().any(|e| e == Some(false));
        if failed || Instant::now() > deadline {
            std::thread::sleep(Duration::from_secs(1));
            let grace = Duration::from_secs(10);
            for p in [&mut client, &mut server] {
                p.kill_after(grace);
            }
            break;
        }
        if client.exited().is_some() && server.exited().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (client.finish(Duration::from_secs(90)), server.finish(Duration::from_secs(90)))
}

/// The checks every scenario makes.
fn check_common(r: &Run, spec: &Spec) {
    if spec.complete {
        assert!(r.ours.success, "our side failed: {}\n{}", r.ours.status, r.ours.stderr);
        assert!(r.kernel.success, "the kernel side failed: {}\n{}", r.kernel.status, r.kernel.stderr);
        assert_same_bytes(r.client(), r.server(), SIZE);
        assert_same_bytes(r.server(), r.client(), SIZE);
    }
    if spec.mptcp {
        for (k, _) in r.after.iter() {
            let bad = k.contains("Fallback")
                || k.contains("HMacFailure")
                || k.starts_with("DSSCorruption")
                || matches!(k.as_str(), "DSSNotMatching" | "DataCsumErr" | "InfiniteMapRx" | "MPFailRx");
            if bad {
                assert_eq!(r.d(k), 0, "the kernel counted {k} += {}: {}", r.d(k), r.grown());
            }
        }
        let mpc = match r.role {
            Role::OurClient => r.d("MPCapableSYNRX"),
            Role::KernelClient => r.d("MPCapableSYNACKRX"),
        };
        assert!(mpc >= 1, "the kernel saw no MP_CAPABLE from us: {}", r.grown());
        let c = r.conn();
        assert_eq!(c["mptcp"], true, "{c:#}");
        assert!(c["fallback"].is_null(), "the capture shows a fallback: {c:#}");
        if spec.complete {
            assert!(r.our_fallback().is_null(), "our report: {}", r.our());
        }
        // Joins that were answered (a SYN/ACK came): every HMAC verified.
        // Refused ones (no SYN/ACK) are the scenarios' to judge, by counting
        // the subflows.
        for s in r.subflows() {
            if !s["join"].is_null() && !s["join"]["synack_hmac_ok"].is_null() {
                assert_eq!(s["join"]["hmac_ok"], true, "a join whose HMACs did not verify: {s:#}");
            }
        }
        for a in c["add_addr"].as_array().expect("add_addr") {
            if a["echo"] == false {
                assert_eq!(a["hmac_ok"], true, "an ADD_ADDR whose HMAC did not verify: {a:#}");
            }
        }
    }
    if spec.complete {
        let c = r.conn();
        if spec.mptcp {
            assert_eq!(c["data_to_server"], SIZE, "the capture's data to the server: {c:#}");
            assert_eq!(c["data_to_client"], SIZE, "the capture's data to the client: {c:#}");
            assert_eq!(c["complete"], true, "the capture's data-level streams: {c:#}");
        } else {
            // After a fallback the TCP stream is the data: count it on the one subflow.
            assert_subflows(r, 1);
            let s = &r.subflows()[0];
            assert_eq!(s["bytes_to_server"], SIZE, "the capture's TCP bytes to the server: {c:#}");
            assert_eq!(s["bytes_to_client"], SIZE, "the capture's TCP bytes to the client: {c:#}");
        }
    }
}

/// Runs `build` in both roles, then `check` on each; reports both roles'
/// outcomes before failing.
fn scenario(name: &str, build: impl Fn(Role, &Addrs) -> Spec, check: impl Fn(&Run)) {
    if !can_run(name, &["nstat", "dumpcap", "tc"]) {
        return;
    }
    let _serial = serial();
    // A failing role's panic is reported in its FAIL line: one line, no backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("  panicked at {}", info.location().map_or(String::new(), |l| l.to_string()))
    }));
    let mut failed = Vec::new();
    for role in [Role::OurClient, Role::KernelClient] {
        eprintln!("[{name} {}] running", role.label());
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let r = run_role(name, role, &build);
            check(&r);
            r
        }));
        match outcome {
            Ok(r) => {
                let rates = match (r.ours.json.as_ref(), r.kernel.json.as_ref()) {
                    (Some(o), Some(k)) => {
                        format!("to us {:.0} Mbit/s, to the kernel {:.0} Mbit/s, ", recv_mbps(o), recv_mbps(k))
                    }
                    _ => String::new(),
                };
                eprintln!(
                    "[{name} {}] PASS in {:.1} s: {rates}{} subflow(s); kernel: {}",
                    role.label(),
                    t0.elapsed().as_secs_f64(),
                    r.analyze["connections"][0]["subflows"].as_array().map_or(0, Vec::len),
                    r.grown()
                );
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                eprintln!("[{name} {}] FAIL in {:.1} s: {msg}", role.label(), t0.elapsed().as_secs_f64());
                // Keep the evidence: the next run overwrites the capture.
                let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop");
                let cap = dir.join(format!("{name}-{}.pcapng", role.label()));
                let kept = dir.join(format!("{name}-{}-failed.pcapng", role.label()));
                if std::fs::rename(&cap, &kept).is_ok() {
                    eprintln!("[{name} {}] capture kept: {}", role.label(), kept.display());
                }
                failed.push(format!("{}: {msg}", role.label()));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(failed.is_empty(), "{name} failed in {} role(s):\n{}", failed.len(), failed.join("\n"));
}

fn endpoint(ip: &str, flags: &str) -> String {
    if flags.is_empty() { ip.to_owned() } else { format!("{ip},{flags}") }
}

fn assert_subflows(r: &Run, n: usize) {
    let subflows = r.subflows();
    assert_eq!(subflows.len(), n, "subflows in the capture: {:#}", r.conn());
    for s in subflows {
        let carried = s["bytes_to_server"].as_u64().unwrap_or(0) + s["bytes_to_client"].as_u64().unwrap_or(0);
        assert!(carried > 0, "a subflow carried nothing: {s:#}");
    }
}

/// The reset the other side of an abort sees.
fn assert_reset(f: &Finished) {
    assert!(!f.success, "{} exited 0 after its peer aborted: {}", f.what, f.stdout);
    assert!(f.stderr.to_lowercase().contains("reset"), "{}: no 'connection reset' error: {}", f.what, f.stderr);
}

// ---------------------------------------------------------------- scenarios

#[test]
fn single() {
    scenario("single", |_, _| Spec::new(), |r| assert_subflows(r, 1));
}

/// Two subflows: our second address (path b) joins the kernel's first, or the
/// kernel's second address joins ours.
fn join_ours_spec(role: Role, a: &Addrs, v6: bool) -> Spec {
    let mut s = Spec::new();
    s.v6 = v6;
    match role {
        Role::OurClient => s.ours(&["--endpoint", &endpoint(&a.s2, "subflow")]),
        Role::KernelClient => s.kern_setup(format!("ip mptcp endpoint add {} id 2 subflow", a.k2)),
    }
}

fn join_ours_check(r: &Run) {
    match r.role {
        Role::OurClient => {
            assert!(r.d("MPJoinSynRx") >= 1 && r.d("MPJoinAckRx") >= 1, "no join received: {}", r.grown())
        }
        Role::KernelClient => {
            assert!(r.d("MPJoinSynTx") >= 1 && r.d("MPJoinSynAckRx") >= 1, "no join answered: {}", r.grown())
        }
    }
    assert_subflows(r, 2);
}

#[test]
fn join_ours() {
    scenario("join-ours", |role, a| join_ours_spec(role, a, false), join_ours_check);
}

#[test]
fn join_ours_v6() {
    scenario("join-ours-v6", |role, a| join_ours_spec(role, a, true), join_ours_check);
}

/// We announce our second address; the kernel joins it.
fn our_addaddr_spec(a: &Addrs, v6: bool) -> Spec {
    let mut s = Spec::new()
        .ours(&["--endpoint", &endpoint(&a.s2, "signal")])
        .kern_setup("ip mptcp limits set subflows 2 add_addr_accepted 1");
    s.v6 = v6;
    s
}

fn our_addaddr_check(r: &Run) {
    assert!(r.d("AddAddr") >= 1, "the kernel got no ADD_ADDR: {}", r.grown());
    assert!(r.d("EchoAddTx") >= 1, "the kernel echoed no ADD_ADDR: {}", r.grown());
    assert!(r.d("MPJoinSynTx") >= 1 && r.d("MPJoinSynAckRx") >= 1, "no join to our address: {}", r.grown());
    assert_subflows(r, 2);
}

#[test]
fn join_after_our_addaddr() {
    scenario("join-after-our-addaddr", |_, a| our_addaddr_spec(a, false), our_addaddr_check);
}

#[test]
fn join_after_our_addaddr_v6() {
    scenario("join-after-our-addaddr-v6", |_, a| our_addaddr_spec(a, true), our_addaddr_check);
}

/// The kernel announces its second address (with a port or not); we join it.
fn kernel_addaddr_spec(a: &Addrs, v6: bool, port: Option<u16>) -> Spec {
    let port = port.map(|p| format!(" port {p}")).unwrap_or_default();
    let mut s =
        Spec::new().ours(&["--limits", "2,1"]).kern_setup(format!("ip mptcp endpoint add {} id 2 signal{port}", a.k2));
    s.v6 = v6;
    s
}

fn kernel_addaddr_check(r: &Run, port: Option<u16>) {
    assert!(r.d("AddAddrTx") >= 1, "the kernel sent no ADD_ADDR: {}", r.grown());
    assert!(r.d("EchoAdd") >= 1, "the kernel got no echo: {}", r.grown());
    if r.role == Role::KernelClient && port.is_none() {
        // An ADD_ADDR without a port means the port of the subflow it came on
        // (RFC 8684 3.4.1): for our server, the kernel client's ephemeral
        // port, where the kernel does not listen. Our joins there are refused
        // (RST); the transfer stays on the initial subflow.
        let subflows = r.subflows();
        let carrying = subflows.iter().filter(|s| s["bytes_to_server"].as_u64().unwrap_or(0) > 0).count();
        assert_eq!(carrying, 1, "{:#}", r.conn());
        let refused = subflows.iter().filter(|s| s["join"].is_object() && s["rst"] == true).count();
        assert_eq!(refused + 1, subflows.len(), "{:#}", r.conn());
        assert_eq!(r.d("MPJoinSynRx"), 0, "{}", r.grown());
        eprintln!("  our server tried {refused} join(s) to the kernel client's announced address; all refused (RST)");
        return;
    }
    assert!(r.d("MPJoinSynRx") >= 1, "no join from us: {}", r.grown());
    if let Some(p) = port {
        assert!(r.d("MPJoinPortSynRx") >= 1, "no join to the announced port: {}", r.grown());
        let joined = r.subflows().iter().any(|s| {
            s["join"].is_object() && s["server"].as_str().unwrap_or("").ends_with(&format!(":{p}"))
                || s["client"].as_str().unwrap_or("").ends_with(&format!(":{p}"))
        });
        assert!(joined, "no subflow to port {p}: {:#}", r.conn());
    }
    assert_subflows(r, 2);
}

#[test]
fn join_after_kernel_addaddr() {
    scenario(
        "join-after-kernel-addaddr",
        |_, a| kernel_addaddr_spec(a, false, None),
        |r| kernel_addaddr_check(r, None),
    );
}

#[test]
fn join_after_kernel_addaddr_v6() {
    scenario(
        "join-after-kernel-addaddr-v6",
        |_, a| kernel_addaddr_spec(a, true, None),
        |r| kernel_addaddr_check(r, None),
    );
}

#[test]
fn join_after_kernel_addaddr_port() {
    scenario(
        "join-after-kernel-addaddr-port",
        |_, a| kernel_addaddr_spec(a, false, Some(10100)),
        |r| kernel_addaddr_check(r, Some(10100)),
    );
}

/// Both sides two addresses, every pair a subflow: the client's two fullmesh
/// endpoints, the server announcing its second address.
#[test]
fn fullmesh_2x2() {
    scenario(
        "fullmesh-2x2",
        |role, a| match role {
            Role::OurClient => Spec::new()
                .ours(&[
                    "--endpoint",
                    &endpoint(&a.s1, "subflow,fullmesh"),
                    "--endpoint",
                    &endpoint(&a.s2, "subflow,fullmesh"),
                    "--limits",
                    "4,4",
                ])
                .kern_setup("ip mptcp limits set subflows 4 add_addr_accepted 4")
                .kern_setup(format!("ip mptcp endpoint add {} id 2 signal", a.k2)),
            Role::KernelClient => Spec::new()
                .ours(&["--endpoint", &endpoint(&a.s2, "signal"), "--limits", "4,4"])
                .kern_setup("ip mptcp limits set subflows 4 add_addr_accepted 4")
                .kern_setup(format!("ip mptcp endpoint add {} id 1 subflow fullmesh", a.k1))
                .kern_setup(format!("ip mptcp endpoint add {} id 2 subflow fullmesh", a.k2)),
        },
        |r| {
            assert!(r.d("MPJoinSynRx") + r.d("MPJoinSynTx") >= 3, "fewer than 3 joins: {}", r.grown());
            assert_subflows(r, 4);
        },
    );
}

/// The join subflow (the second path) was backup, then an MP_PRIO made it a
/// regular one.
fn assert_backup_then_regular(r: &Run) {
    let joined: Vec<&Value> = r.subflows().iter().filter(|s| s["join"].is_object()).collect();
    assert_eq!(joined.len(), 1, "{:#}", r.conn());
    let s = joined[0];
    let history = s["backup_history"].as_array().expect("backup_history");
    assert!(history.iter().any(|h| h["backup"] == true), "the join was never backup: {s:#}");
    assert!(history.iter().any(|h| h["via"] == "mp_prio" && h["backup"] == false), "no MP_PRIO to regular: {s:#}");
    assert_eq!(s["backup"], false, "{s:#}");
}

/// Our second address is backup (our join, or the address we announce), then
/// we switch it with MP_PRIO at 20 MiB received.
#[test]
fn backup_ours() {
    scenario(
        "backup-ours",
        |role, a| {
            let at = format!("{AT}:nobackup={}", a.s2);
            let s = Spec::new().ours(&["--at", &at]);
            let mut s = match role {
                Role::OurClient => s.ours(&["--endpoint", &endpoint(&a.s2, "subflow,backup")]),
                Role::KernelClient => s
                    .ours(&["--endpoint", &endpoint(&a.s2, "signal,backup")])
                    .kern_setup("ip mptcp limits set subflows 2 add_addr_accepted 1"),
            };
            s.rate = SLOW;
            s
        },
        |r| {
            match r.role {
                Role::OurClient => assert!(r.d("MPJoinSynBackupRx") >= 1, "no backup join: {}", r.grown()),
                Role::KernelClient => {
                    assert!(r.d("MPJoinSynAckBackupRx") >= 1, "no backup SYN/ACK from us: {}", r.grown())
                }
            }
            assert!(r.d("MPPrioRx") >= 1, "the kernel got no MP_PRIO: {}", r.grown());
            assert_backup_then_regular(r);
        },
    );
}

/// The kernel's second address is backup, then `ip mptcp endpoint change id 2
/// nobackup` mid-transfer.
#[test]
fn backup_kernel() {
    scenario(
        "backup-kernel",
        |role, a| {
            let s = match role {
                Role::OurClient => Spec::new()
                    .ours(&["--limits", "2,1"])
                    .kern_setup(format!("ip mptcp endpoint add {} id 2 signal backup", a.k2)),
                Role::KernelClient => {
                    Spec::new().kern_setup(format!("ip mptcp endpoint add {} id 2 subflow backup", a.k2))
                }
            };
            s.mid(true, "ip mptcp endpoint change id 2 nobackup")
        },
        |r| {
            assert!(r.d("MPPrioTx") >= 1, "the kernel sent no MP_PRIO: {}", r.grown());
            assert_backup_then_regular(r);
        },
    );
}

/// Two subflows; the client removes its second address mid-transfer
/// (REMOVE_ADDR); the transfer completes over the first.
#[test]
fn remove_addr() {
    scenario(
        "remove-addr",
        |role, a| match role {
            Role::OurClient => {
                let at = format!("{AT}:remove={}", a.s2);
                let mut s = Spec::new().ours(&["--endpoint", &endpoint(&a.s2, "subflow"), "--at", &at]);
                s.rate = SLOW;
                s
            }
            Role::KernelClient => Spec::new()
                .kern_setup(format!("ip mptcp endpoint add {} id 2 subflow", a.k2))
                .mid(true, "ip mptcp endpoint del id 2"),
        },
        |r| {
            match r.role {
                Role::OurClient => assert!(r.d("RmAddr") >= 1, "the kernel got no REMOVE_ADDR: {}", r.grown()),
                Role::KernelClient => assert!(r.d("RmAddrTx") >= 1, "the kernel sent no REMOVE_ADDR: {}", r.grown()),
            }
            let events = r.conn()["events"].as_array().expect("events");
            assert!(events.iter().any(|e| e["kind"] == "remove_addr"), "no REMOVE_ADDR in the capture: {:#}", r.conn());
            assert_subflows(r, 2);
        },
    );
}

/// Two subflows; path b's link goes down mid-transfer; the transfer
/// completes over path a.
#[test]
fn link_down() {
    scenario(
        "link-down",
        |role, a| join_ours_spec(role, a, false).mid(false, "ip link set b0 down"),
        |r| assert_subflows(r, 2),
    );
}

fn assert_checksums(r: &Run) {
    let c = r.conn();
    assert_eq!(c["checksum"], true, "the capture shows no DSS checksum: {c:#}");
    assert_eq!(c["checksum_failures"], 0, "{c:#}");
    assert_eq!(r.d("DataCsumErr"), 0);
    assert_subflows(r, 2);
}

/// The kernel asks for DSS checksums (`net.mptcp.checksum_enabled=1`); two subflows.
#[test]
fn checksum_kernel() {
    scenario(
        "checksum-kernel",
        |role, a| join_ours_spec(role, a, false).kern_setup("sysctl -qw net.mptcp.checksum_enabled=1"),
        assert_checksums,
    );
}

/// We ask for DSS checksums (`--checksum`); two subflows.
#[test]
fn checksum_ours() {
    scenario("checksum-ours", |role, a| join_ours_spec(role, a, false).ours(&["--checksum"]), assert_checksums);
}

/// An abort scenario: not complete, and unshaped: with a full HTB queue the
/// one RST carrying MP_FASTCLOSE can be tail-dropped (nothing retransmits it).
fn aborting(mut s: Spec) -> Spec {
    s.complete = false;
    s.rate = 0;
    s
}

/// We abort at 20 MiB received: RST with MP_FASTCLOSE.
#[test]
fn fastclose_ours() {
    scenario(
        "fastclose-ours",
        |_, _| aborting(Spec::new().ours(&["--at", &format!("{AT}:abort")])),
        |r| {
            assert!(r.ours.success, "our side (aborting) failed: {}", r.ours.stderr);
            assert_reset(&r.kernel);
            assert!(r.d("MPFastcloseRx") >= 1, "the kernel got no MP_FASTCLOSE: {}", r.grown());
            let c = r.conn();
            assert_eq!(c["fastclose"], true, "{c:#}");
            assert_eq!(c["fastclose_key_ok"], true, "{c:#}");
        },
    );
}

/// The kernel side aborts at 20 MiB received (SO_LINGER 0, close): MP_FASTCLOSE.
#[test]
fn fastclose_kernel() {
    scenario(
        "fastclose-kernel",
        |_, _| aborting(Spec::new().kernel(&["--at", &format!("{AT}:abort")])),
        |r| {
            assert!(r.kernel.success, "the kernel side (aborting) failed: {}", r.kernel.stderr);
            assert_reset(&r.ours);
            assert!(r.d("MPFastcloseTx") >= 1, "the kernel sent no MP_FASTCLOSE: {}", r.grown());
            let c = r.conn();
            assert_eq!(c["fastclose"], true, "{c:#}");
            assert_eq!(c["fastclose_key_ok"], true, "{c:#}");
        },
    );
}

/// The client closes at 20 MiB received with data still unread (ours when
/// our client, the kernel's when the kernel's): the peer sees a reset.
#[test]
fn abort_unread() {
    scenario(
        "abort-unread",
        |role, _| {
            let at = format!("{AT}:close");
            let mut s = aborting(match role {
                Role::OurClient => Spec::new().ours(&["--at", &at]),
                Role::KernelClient => Spec::new().kernel(&["--at", &at]),
            });
            // Shaped, so that the peer is still sending when reading stops
            // and the close finds data unread: unshaped, our stack now reads
            // the whole 50 MiB before the 20 MiB action fires, and a close
            // with nothing unread is rightly a graceful one.
            s.rate = SLOW;
            s
        },
        |r| match r.role {
            Role::OurClient => {
                assert!(r.ours.success, "our side (closing) failed: {}", r.ours.stderr);
                assert_reset(&r.kernel);
                let seen = r.d("MPFastcloseRx") + r.d("MPRstRx");
                assert!(seen >= 1, "the kernel saw neither MP_FASTCLOSE nor MP_TCPRST: {}", r.grown());
            }
            Role::KernelClient => {
                assert!(r.kernel.success, "the kernel side (closing) failed: {}", r.kernel.stderr);
                assert_reset(&r.ours);
                assert!(r.d("MPFastcloseTx") >= 1, "the kernel sent no MP_FASTCLOSE: {}", r.grown());
            }
        },
    );
}

fn fallback(mut s: Spec) -> Spec {
    s.mptcp = false;
    s
}

/// Our report says we fell back (or never had MPTCP), with a reason.
fn assert_our_fallback(r: &Run) {
    let fb = r.our_fallback();
    assert!(fb.is_string(), "our report names no fallback: {}", r.our());
    eprintln!("  our fallback: {fb}");
}

/// The kernel side speaks plain TCP.
#[test]
fn fallback_plain() {
    scenario(
        "fallback-plain",
        |_, _| fallback(Spec::new().kernel(&["--no-mptcp"])),
        |r| {
            assert_eq!(r.d("MPCapableSYNRX") + r.d("MPCapableSYNACKRX"), 0, "{}", r.grown());
            if r.role == Role::OurClient {
                assert_our_fallback(r);
            }
        },
    );
}

/// A middlebox strips MPTCP options (kind 30) from SYNs, both directions.
#[test]
fn fallback_strip_syn() {
    scenario(
        "fallback-strip-syn",
        |_, _| {
            fallback(
                Spec::new().us_setup(
                    "iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN SYN -j TCPOPTSTRIP --strip-options 30",
                ),
            )
        },
        |r| {
            match r.role {
                Role::OurClient => {
                    assert_eq!(r.d("MPCapableSYNRX"), 0, "the kernel saw our MP_CAPABLE: {}", r.grown());
                    assert_our_fallback(r);
                }
                Role::KernelClient => assert!(
                    r.d("MPCapableFallbackSYNACK") >= 1,
                    "the kernel client did not fall back on our SYN/ACK: {}",
                    r.grown()
                ),
            }
            // The capture is in the kernel's namespace: the kernel client's SYN
            // is seen before the middlebox, ours after it (a plain TCP SYN).
            match r.role {
                Role::OurClient => assert_eq!(r.conn()["mptcp"], false, "{:#}", r.conn()),
                Role::KernelClient => assert_eq!(r.conn()["fallback"], "syn-ack-without-mpc", "{:#}", r.conn()),
            }
        },
    );
}

/// A middlebox strips MPTCP options from every packet after the handshake
/// (all non-SYN packets): the third ACK loses its MP_CAPABLE, data has no DSS.
#[test]
fn fallback_strip_all() {
    scenario(
        "fallback-strip-all",
        |_, _| {
            fallback(Spec::new().us_setup(
                "iptables -t mangle -A FORWARD -p tcp ! --tcp-flags SYN SYN -j TCPOPTSTRIP --strip-options 30",
            ))
        },
        |r| {
            assert!(r.d("MPCapableSYNRX") + r.d("MPCapableSYNACKRX") >= 1, "{}", r.grown());
            let kernel_fell_back: u64 =
                r.after.keys().filter(|k| k.contains("Fallback") && !k.contains("Failed")).map(|k| r.d(k)).sum();
            assert!(kernel_fell_back >= 1, "the kernel counted no fallback: {}", r.grown());
            assert_our_fallback(r);
        },
    );
}

/// Goodput over both paths shaped to 50 Mbit/s (HTB): our client with two
/// subflows to a kernel server, next to the kernel's client (in NS_US, with
/// a `subflow` endpoint on b0) to the same server, in one run.
#[test]
fn htb_goodput() {
    let name = "htb-goodput";
    if !can_run(name, &["nstat", "tc"]) {
        return;
    }
    let _serial = serial();
    let topo = Topo::up_script("twopath.sh", "io", &["rate", "50"]);
    let (us, kern) = (topo.get("NS_US"), topo.get("NS_KERN"));
    let a = Addrs::of(&topo, false);
    let size = SIZE.to_string();
    let server = || {
        let mut p =
            spawn(kern, &["listen", "--json", "--timeout", TIMEOUT_S, "--port", "5001", "--kernel", "--send", &size]);
        p.wait_for("listening on", Duration::from_secs(20));
        p
    };
    let target = sock(&a.k1, PORT);
    // Ours.
    let s = server();
    let before = nstat(kern);
    let s2 = endpoint(&a.s2, "subflow");
    let c = spawn(
        us,
        &[
            "connect",
            &target,
            "--json",
            "--timeout",
            TIMEOUT_S,
            "--tun",
            "tun0",
            "--addr",
            &a.s1,
            "--send",
            &size,
            "--endpoint",
            &s2,
        ],
    );
    let (oc, os) = (c.report(Duration::from_secs(90)), s.report(Duration::from_secs(90)));
    let after = nstat(kern);
    assert_same_bytes(&oc, &os, SIZE);
    assert_same_bytes(&os, &oc, SIZE);
    let joins = after.get("MPJoinAckRx").copied().unwrap_or(0) - before.get("MPJoinAckRx").copied().unwrap_or(0);
    // The kernel's.
    sh(us, &format!("ip mptcp endpoint add {} subflow", topo.get("US_V4_2")));
    let s = server();
    let c = spawn(
        us,
        &[
            "connect",
            &target,
            "--json",
            "--timeout",
            TIMEOUT_S,
            "--kernel",
            "--addr",
            topo.get("US_V4"),
            "--send",
            &size,
        ],
    );
    let (kc, ks) = (c.report(Duration::from_secs(90)), s.report(Duration::from_secs(90)));
    // The reference is the kernel talking to itself: its byte counts must be
    // right for the figure, but a corrupted stream there is the kernel's bug,
    // not ours (seen once in CI, after an MPTCP-level retransmission): it is
    // reported loudly, and does not fail our test.
    for (from, to, what) in [(&kc, &ks, "client to server"), (&ks, &kc, "server to client")] {
        assert_eq!(from["bytes_sent"].as_u64(), Some(SIZE), "kernel reference {what}: {from}");
        assert_eq!(to["bytes_received"].as_u64(), Some(SIZE), "kernel reference {what}: {to}");
        if from["sha256_sent"] != to["sha256_received"] {
            eprintln!("************************************************************************");
            eprintln!("** [{name}] KERNEL-TO-KERNEL DATA CORRUPTION, {what}: the Linux kernel's");
            eprintln!("** MPTCP delivered {SIZE} bytes with another SHA-256 (no userspace stack");
            eprintln!("** on this path). sender {from}");
            eprintln!("** receiver {to}");
            eprintln!("************************************************************************");
        }
    }
    let (our_up, our_down) = (recv_mbps(&os), recv_mbps(&oc));
    let (k_up, k_down) = (recv_mbps(&ks), recv_mbps(&kc));
    eprintln!("[{name}] two paths of 50 Mbit/s each (HTB), 50 MiB each way at once:");
    eprintln!("[{name}]   our client, 2 subflows ({joins} join): up {our_up:.1} Mbit/s, down {our_down:.1} Mbit/s");
    eprintln!("[{name}]   kernel client, 2 subflows:          up {k_up:.1} Mbit/s, down {k_down:.1} Mbit/s");
    eprintln!(
        "[{name}]   ratio ours/kernel: up {:.2}, down {:.2} (simult_flows.sh expects ~89 Mbit/s: the sum less 11%)",
        our_up / k_up,
        our_down / k_down
    );
    assert!(joins >= 1, "our second subflow never joined");
    assert!(our_up > 50.0, "our client sent at {our_up:.1} Mbit/s: not more than one path");
    assert!(our_down > 50.0, "our client received at {our_down:.1} Mbit/s: not more than one path");
}
