//! Real clients nobody here wrote: curl (`--socks5`, `--socks5-hostname`,
//! with RFC 1929 credentials, under `mptcpize` for MPTCP) through the proxy,
//! fetching from a local tokio HTTP server and from `python3 -m http.server`.
//! Skipped loudly when a program is missing, except under CI=true.

mod common;

use common::*;
use mptcp_proxy::socks5::Credentials;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::Command;

/// Whether `prog` runs here; when it does not, skip loudly, or fail under CI.
fn have(prog: &str, test: &str) -> bool {
    let ok = std::process::Command::new(prog)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!under_ci(), "{test}: {prog} is missing under CI");
        eprintln!("SKIPPED {test}: {prog} is not installed (install it to run this test)");
    }
    ok
}

/// An HTTP/1.1 server answering every request with `body`.
async fn http_server(body: Vec<u8>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let body = std::sync::Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// Runs curl with `args`; its exit code and stdout.
async fn curl(prefix: &[&str], args: &[&str]) -> (i32, Vec<u8>) {
    let (prog, rest): (&str, Vec<&str>) = match prefix.split_first() {
        Some((p, r)) => (p, r.iter().copied().chain(["curl"]).chain(args.iter().copied()).collect()),
        None => ("curl", args.to_vec()),
    };
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(prog).args(&rest).args(["--max-time", "30"]).stderr(Stdio::inherit()).output(),
    )
    .await
    .expect("curl finished in time")
    .expect("curl ran");
    (out.status.code().unwrap_or(-1), out.stdout)
}

fn with_alice() -> mptcp_proxy::Socks5Config {
    let mut cfg = config();
    let mut c = Credentials::new();
    c.add("alice", "s3cret");
    cfg.credentials = c;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_socks5_and_socks5_hostname() {
    if !have("curl", "curl_socks5_and_socks5_hostname") {
        return;
    }
    let body = pattern(3 << 20);
    let web = http_server(body.clone()).await;
    let proxy = start(config());
    let p = proxy.addr.to_string();
    // --socks5: curl resolves the name itself and sends an IPv4 address.
    let (rc, got) = curl(&[], &["-s", "--socks5", &p, &format!("http://127.0.0.1:{}/file", web.port())]).await;
    assert_eq!(rc, 0);
    assert!(got == body, "3 MiB through --socks5, byte for byte");
    // --socks5-hostname: the proxy resolves "localhost" (ATYP 3).
    let (rc, got) = curl(&[], &["-s", "--socks5-hostname", &p, &format!("http://localhost:{}/file", web.port())]).await;
    assert_eq!(rc, 0);
    assert!(got == body, "3 MiB through --socks5-hostname");
    let snap = proxy.counters.snapshot();
    assert_eq!(snap.replies.get(mptcp_proxy::socks5::ReplyCode::Succeeded), 2);
    assert!(snap.bytes_down >= 2 * body.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_with_username_password() {
    if !have("curl", "curl_with_username_password") {
        return;
    }
    let body = pattern(1 << 20);
    let web = http_server(body.clone()).await;
    let proxy = start(with_alice());
    let p = proxy.addr.to_string();
    let url = format!("http://localhost:{}/", web.port());
    let (rc, got) = curl(&[], &["-s", "--socks5-hostname", &p, "-U", "alice:s3cret", &url]).await;
    assert_eq!(rc, 0, "curl -U alice:s3cret");
    assert!(got == body);
    let (rc, got) = curl(&[], &["-s", "-x", &format!("socks5h://alice:s3cret@{p}"), &url]).await;
    assert_eq!(rc, 0, "curl -x socks5h://alice:s3cret@...");
    assert!(got == body);
    // A wrong password: curl gives up with its proxy error (97), nothing fetched.
    let (rc, got) = curl(&[], &["-s", "--socks5-hostname", &p, "-U", "alice:wrong", &url]).await;
    assert_ne!(rc, 0);
    assert!(got.is_empty());
    // No credentials at all: the proxy answers 0xFF.
    let (rc, _) = curl(&[], &["-s", "--socks5-hostname", &p, &url]).await;
    assert_ne!(rc, 0);
    let snap = proxy.counters.snapshot();
    assert_eq!((snap.auth_failures, snap.no_acceptable_method), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_under_mptcpize_is_an_mptcp_client() {
    let test = "curl_under_mptcpize_is_an_mptcp_client";
    if !have("curl", test) || !have("mptcpize", test) {
        return;
    }
    if !kernel_mptcp() {
        assert!(!under_ci(), "{test}: the kernel refuses MPTCP under CI");
        eprintln!("SKIPPED {test}: the kernel refuses MPTCP sockets");
        return;
    }
    let body = pattern(2 << 20);
    let web = http_server(body.clone()).await;
    let proxy = start(with_alice());
    let p = proxy.addr.to_string();
    let url = format!("http://localhost:{}/", web.port());
    let (rc, got) = curl(&["mptcpize", "run"], &["-s", "--socks5-hostname", &p, "-U", "alice:s3cret", &url]).await;
    assert_eq!(rc, 0);
    assert!(got == body);
    assert_eq!(proxy.counters.snapshot().accepted_mptcp, 1, "curl's socket, made MPTCP by mptcpize, spoke MPTCP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_from_python_http_server() {
    let test = "curl_from_python_http_server";
    if !have("curl", test) || !have("python3", test) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("mptcp-proxy-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = pattern(5 << 20);
    std::fs::write(dir.join("file.bin"), &body).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 -m http.server");
    let web: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(web).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "python3 -m http.server listening on {web}");
    let proxy = start(with_alice());
    let p = proxy.addr.to_string();
    let (rc, got) =
        curl(&[], &["-s", "-x", &format!("socks5h://alice:s3cret@{p}"), &format!("http://localhost:{port}/file.bin")])
            .await;
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rc, 0);
    assert!(got == body, "5 MiB from python's http.server through the proxy");
}
