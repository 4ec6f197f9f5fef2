//! Helpers for the network-namespace tests: the topology of
//! `tests/netns/topo.sh`, and the `mptcp` binary run inside it.
//!
//! Those tests need root. Without it they print a loud SKIP and pass, unless
//! `CI` is set: there, a skipped interop test is a failure.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Size of the interop transfers.
pub const MB100: u64 = 100 << 20;

/// One netns test at a time in a test binary: they measure goodput.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock that keeps the netns tests of this binary one at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn topo_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns/topo.sh")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether this test can run: root, and `tools` installed. Without them: a
/// loud skip (false), or under CI a failure.
pub fn can_run(test: &str, tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root".to_owned());
    }
    for t in ["ip"].iter().chain(tools) {
        if !have(t) {
            missing.push((*t).to_owned());
        }
    }
    if missing.is_empty() {
        return true;
    }
    skip_or_fail(&format!("{test} needs {} (network namespaces)", missing.join(", ")))
}

/// Whether `python` imports `module` (python3-scapy, say).
pub fn python_has(python: &str, module: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A test that cannot run for `why`: a loud skip (false), or under CI a failure.
pub fn skip_or_fail(why: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!();
    eprintln!("************************************************************************");
    eprintln!("** SKIPPED: {why}");
    eprintln!("** run the tests as root (scripts/setup.sh installs the tools) to run them");
    eprintln!("************************************************************************");
    eprintln!();
    false
}

/// A topology from `topo.sh`, torn down when dropped.
pub struct Topo {
    pub name: String,
    pub env: HashMap<String, String>,
    script: PathBuf,
}

impl Topo {
    /// `topo.sh up NAME OPTIONS...`; the name gets the process id appended,
    /// so two test runs on one machine do not collide.
    pub fn up(tag: &str, options: &[&str]) -> Topo {
        Topo::up_with(topo_script(), tag, options)
    }

    /// The same with another script of `tests/netns/` taking the same
    /// `up|set|down|env NAME` commands (`twopath.sh`).
    pub fn up_script(script: &str, tag: &str, options: &[&str]) -> Topo {
        Topo::up_with(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/netns").join(script), tag, options)
    }

    fn up_with(script: PathBuf, tag: &str, options: &[&str]) -> Topo {
        let name = format!("{tag}{}", std::process::id() % 100_000);
        let out = Command::new(&script).arg("up").arg(&name).args(options).output().expect("run topo.sh");
        assert!(out.status.success(), "{} up {name}: {}", script.display(), String::from_utf8_lossy(&out.stderr));
        let out = Command::new(&script).arg("env").arg(&name).output().expect("run topo.sh env");
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Topo { name, env, script }
    }

    /// A value of `topo.sh env`.
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).map(String::as_str).unwrap_or_else(|| panic!("topo.sh env has no {key}"))
    }

    /// `topo.sh set NAME OPTIONS...`.
    pub fn set(&self, options: &[&str]) {
        let out = Command::new(&self.script).arg("set").arg(&self.name).args(options).output().expect("topo.sh");
        assert!(out.status.success(), "topo.sh set: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Topo {
    fn drop(&mut self) {
        let _ = Command::new(&self.script).arg("down").arg(&self.name).status();
    }
}

/// An `mptcp` process in a namespace.
pub struct Proc {
    child: Child,
    what: String,
    stderr_lines: mpsc::Receiver<String>,
    stderr_all: std::sync::Arc<Mutex<String>>,
}

/// Starts `mptcp ARGS...` in namespace `ns`, stdout piped, stdin closed.
pub fn spawn(ns: &str, args: &[&str]) -> Proc {
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_mptcp")])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mptcp");
    let (tx, rx) = mpsc::channel();
    let all = std::sync::Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let all2 = all.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut a) = all2.lock() {
                a.push_str(&line);
                a.push('\n');
            }
            let _ = tx.send(line);
        }
    });
    Proc { child, what: format!("[{ns}] mptcp {}", args.join(" ")), stderr_lines: rx, stderr_all: all }
}

impl Proc {
    /// Waits for a stderr line containing `needle` (the listener's "listening on").
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("{}: no '{needle}' on stderr in {timeout:?}; stderr:\n{}", self.what, self.stderr());
                }
            }
        }
    }

    /// Whether it has ended: Some(true) with success, Some(false) without.
    pub fn exited(&mut self) -> Option<bool> {
        self.child.try_wait().ok().flatten().map(|s| s.success())
    }

    /// Gives it `grace` to end, then kills it (its report then says so).
    pub fn kill_after(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.exited().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                if let Ok(mut a) = self.stderr_all.lock() {
                    a.push_str(&format!("(killed by the harness after its peer failed, {grace:?} later)\n"));
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        self.stderr_all.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the process to end (killing it after `timeout`), checks it
    /// succeeded, and parses the JSON report on its stdout.
    pub fn report(self, timeout: Duration) -> Value {
        let f = self.finish(timeout);
        assert!(f.success, "{}: {}; stderr:\n{}", f.what, f.status, f.stderr);
        f.json.unwrap_or_else(|| panic!("{}: no JSON report on stdout: {:?}; stderr:\n{}", f.what, f.stdout, f.stderr))
    }

    /// Waits for the process to end (killing it after `timeout`, which is a
    /// failure) and returns how it ended, whether it succeeded or not.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{}: still running after {timeout:?}; stderr:\n{}", self.what, self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        // Let the stderr thread finish reading.
        std::thread::sleep(Duration::from_millis(20));
        let json = out
            .lines()
            .rfind(|l| l.starts_with('{'))
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: bad JSON {line:?}: {e}", self.what)));
        Finished {
            what: self.what.clone(),
            success: status.success(),
            status: status.to_string(),
            json,
            stdout: out,
            stderr: self.stderr(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How an `mptcp` process ended.
#[derive(Debug)]
pub struct Finished {
    /// The command line, with its namespace.
    pub what: String,
    pub success: bool,
    /// The exit status, as text.
    pub status: String,
    /// The last JSON line on stdout (the report), if any.
    pub json: Option<Value>,
    pub stdout: String,
    pub stderr: String,
}

/// A transfer's result, read from the two reports.
#[derive(Debug)]
pub struct Outcome {
    pub server: Value,
    pub client: Value,
}

/// Starts a listener in `server_ns`, then a client in `client_ns`, and
/// returns both reports. `server_args` and `client_args` get `--json` and a
/// timeout added; the client's target is `target`.
pub fn transfer(server_ns: &str, server_args: &[&str], client_ns: &str, target: &str, client_args: &[&str]) -> Outcome {
    let limit = Duration::from_secs(240);
    let mut server_full: Vec<&str> = vec!["listen", "--json", "--timeout", "200"];
    server_full.extend_from_slice(server_args);
    let mut server = spawn(server_ns, &server_full);
    server.wait_for("listening on", Duration::from_secs(20));
    let mut client_full: Vec<&str> = vec!["connect", target, "--json", "--timeout", "200"];
    client_full.extend_from_slice(client_args);
    let client = spawn(client_ns, &client_full);
    let client = client.report(limit);
    let server = server.report(limit);
    Outcome { server, client }
}

/// Goodput in Mbit/s of a report's receiving direction.
pub fn recv_mbps(report: &Value) -> f64 {
    report["recv_goodput_bps"].as_f64().unwrap_or(0.0) / 1e6
}

/// Checks that `receiver` got exactly what `sender` sent.
pub fn assert_same_bytes(sender: &Value, receiver: &Value, bytes: u64) {
    assert_eq!(sender["bytes_sent"].as_u64(), Some(bytes), "sender: {sender}");
    assert_eq!(receiver["bytes_received"].as_u64(), Some(bytes), "receiver: {receiver}");
    assert_eq!(
        sender["sha256_sent"], receiver["sha256_received"],
        "SHA-256 differs: {} bytes are not the pattern, the first at stream offset {}\nsender {sender}\nreceiver {receiver}",
        receiver["non_pattern_bytes"], receiver["first_non_pattern_byte"]
    );
}
