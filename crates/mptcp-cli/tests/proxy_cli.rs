//! `mptcp proxy socks5` as a program: flags, a CONNECT through it, the
//! access log in its file, and the JSON counters printed when it stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_mptcp");

#[test]
fn bad_flags_give_a_one_line_error() {
    for args in [
        vec!["proxy", "socks5", "--listen", "nonsense"],
        vec!["proxy", "socks5", "--listen", "127.0.0.1:0", "--auth", "nocolon"],
        vec!["proxy", "socks5", "--listen", "127.0.0.1:0", "--idle-timeout", "3 weeks"],
        vec!["proxy", "socks5", "--listen", "127.0.0.1:0", "--deny", "10.0.0.0/40"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("");
        assert!(first.starts_with("error: invalid value"), "{args:?}: {err}");
    }
    let out = Command::new(BIN).args(["proxy", "socks5", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--listen", "--auth", "--no-mptcp", "--target-tcp", "--max-connections", "--access-log"] {
        assert!(help.contains(flag), "--help names {flag}");
    }
}

#[test]
fn connect_through_the_binary_then_counters_on_sigint() {
    let echo = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = echo.accept() {
            let mut buf = [0u8; 64];
            while let Ok(n @ 1..) = s.read(&mut buf) {
                let _ = s.write_all(&buf[..n]);
            }
        }
    });
    let log = std::env::temp_dir().join(format!("mptcp-proxy-access-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new(BIN)
        .args(["proxy", "socks5", "--listen", "127.0.0.1:0", "--auth", "u:p", "--json", "--access-log"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    // "mptcp proxy socks5: listening on 127.0.0.1:PORT (MPTCP), ..."
    let addr: SocketAddr = first
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("a startup line naming the address: {first:?}"));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = vec![5, 1, 2, 1, 1, b'u', 1, b'p', 5, 1, 0, 1, 127, 0, 0, 1];
    req.extend_from_slice(&target.port().to_be_bytes());
    req.extend_from_slice(b"ping");
    s.write_all(&req).unwrap();
    let mut got = [0u8; 2 + 2 + 10 + 4];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got[..5], [5, 2, 1, 0, 5]);
    assert_eq!(got[5], 0, "reply succeeded");
    assert_eq!(&got[14..], b"ping");
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    // SIGUSR1: the counters on stderr, one JSON line, and the proxy goes on.
    assert!(Command::new("kill").args(["-USR1", &pid]).status().unwrap().success());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let on_usr1: serde_json::Value = serde_json::from_str(&line).expect("JSON counters on stderr after SIGUSR1");
    assert_eq!(on_usr1["accepted"], 1);
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let counters: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON counters on stdout");
    assert_eq!(counters["accepted"], 1);
    assert_eq!(counters["replies"]["succeeded"], 1);
    assert_eq!(counters["bytes_up"], 4);
    assert_eq!(counters["bytes_down"], 4);
    let access = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert_eq!(access.lines().count(), 1, "{access}");
    assert!(access.contains("reply=\"succeeded\"") && access.contains("up=4 down=4"), "{access}");
    assert!(access.contains(&format!("target={target}")), "{access}");
}

#[test]
fn convert_flags_and_the_fast_open_check() {
    for args in [
        vec!["proxy", "convert-client", "--listen", "127.0.0.1:0", "--converter", "127.0.0.1:1"],
        vec!["proxy", "convert-client", "--listen", "127.0.0.1:0", "--converter", "x", "--transparent"],
        vec![
            "proxy",
            "convert-client",
            "--listen",
            "127.0.0.1:0",
            "--converter",
            "127.0.0.1:1",
            "--transparent",
            "--destination",
            "127.0.0.1:2",
        ],
        vec!["proxy", "convert-server", "--listen", "127.0.0.1"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().next().unwrap_or("").starts_with("error:"), "{args:?}: {err}");
    }
    // Without the server bit of net.ipv4.tcp_fastopen the converter does not
    // start and says what to set; with it, it listens.
    let value: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_fastopen").unwrap().trim().parse().unwrap();
    let mut child = Command::new(BIN)
        .args(["proxy", "convert-server", "--listen", "127.0.0.1:0", "--kernel"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    if value & 2 == 0 {
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(
            first.contains("net.ipv4.tcp_fastopen") && first.contains(&format!("tcp_fastopen={}", value | 2)),
            "{first}"
        );
    } else {
        assert!(first.contains("listening on"), "{first}");
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn backend_flags_kernel_or_tun() {
    // --kernel and --tun exclude each other, for both proxies.
    for cmd in ["socks5", "convert-server"] {
        let out = Command::new(BIN)
            .args(["proxy", cmd, "--listen", "10.9.0.1:1080", "--kernel", "--tun", "t0", "--addr", "10.9.0.1"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().next().unwrap_or("").contains("'--kernel' cannot be used with"), "{cmd}: {err}");
    }
    // The stack's flags without a device, and a device that does not exist
    // (the converter on the stack does not ask for Fast Open first).
    let cases: [(&[&str], &str); 3] = [
        (&["socks5", "--addr", "10.9.0.1"], "needs a TUN device"),
        (&["socks5", "--tun", "t0"], "needs an address to own"),
        (&["convert-server", "--tun", "mptcp-no-such", "--addr", "10.9.0.1"], "mptcp-no-such does not exist"),
    ];
    for (args, want) in cases {
        let out = Command::new(BIN)
            .args(["proxy"])
            .args(&args[..1])
            .args(["--listen", "10.9.0.1:1080"])
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("mptcp: error: ") && err.contains(want), "{args:?}: {err}");
    }
    let out = Command::new(BIN).args(["proxy", "socks5", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--kernel", "--tun <DEV>", "--addr <IP>", "--endpoint <IP[,FLAGS]>", "--limits"] {
        assert!(help.contains(flag), "--help names {flag}");
    }
}
