//! Shared pieces of the integration tests: the proxy run in-process on
//! loopback, local servers, and a small SOCKS5 client written from RFC 1928.

#![allow(dead_code)]

use mptcp_proxy::socks5::{Addr, Command, Greeting, Reply, Request, UserPass};
use mptcp_proxy::{Counters, Socks5Config, Socks5Server};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// A running proxy.
pub struct Proxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    pub mptcp: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A default configuration on 127.0.0.1, port chosen by the kernel.
pub fn config() -> Socks5Config {
    Socks5Config::new("127.0.0.1:0".parse().unwrap())
}

/// Starts the proxy in this runtime.
pub fn start(config: Socks5Config) -> Proxy {
    let server = Socks5Server::bind(config).expect("bind the proxy");
    let addr = server.local_addr().unwrap();
    let counters = server.counters();
    let mptcp = server.listens_mptcp();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Proxy { addr, counters, mptcp, stop: Some(tx) }
}

/// A TCP echo server on 127.0.0.1 (each connection echoes until EOF, then
/// closes its write side).
pub async fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

/// A UDP echo server on 127.0.0.1.
pub async fn udp_echo_server() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            let _ = s.send_to(&buf[..n], from).await;
        }
    });
    addr
}

/// A port on 127.0.0.1 where nothing listens (bound then closed).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Reads one reply (`VER REP RSV ATYP ADDR PORT`) from `s`.
pub async fn read_reply(s: &mut TcpStream) -> Reply {
    let mut buf = Vec::new();
    loop {
        if let Some((r, used)) = Reply::parse(&buf).expect("a valid reply") {
            assert_eq!(used, buf.len(), "no bytes behind the reply yet");
            return r;
        }
        let mut b = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await.expect("reply in time").unwrap();
        assert!(n > 0, "proxy closed before its reply");
        buf.push(b[0]);
    }
}

/// Greets (no authentication, or RFC 1929 with `auth`), checking the
/// method reply and status, then sends `cmd dst`, and reads the reply.
pub async fn socks_request(
    proxy: SocketAddr,
    auth: Option<(&str, &str)>,
    cmd: Command,
    dst: Addr,
) -> (TcpStream, Reply) {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    let methods = if auth.is_some() { vec![2] } else { vec![0] };
    let mut out = Vec::new();
    Greeting { methods }.emit(&mut out);
    s.write_all(&out).await.unwrap();
    let mut sel = [0u8; 2];
    s.read_exact(&mut sel).await.unwrap();
    if let Some((u, p)) = auth {
        assert_eq!(sel, [5, 2]);
        out.clear();
        UserPass { user: u.into(), pass: p.into() }.emit(&mut out);
        s.write_all(&out).await.unwrap();
        let mut st = [0u8; 2];
        s.read_exact(&mut st).await.unwrap();
        assert_eq!(st, [1, 0], "authentication accepted");
    } else {
        assert_eq!(sel, [5, 0]);
    }
    out.clear();
    Request { command: cmd, dst }.emit(&mut out);
    s.write_all(&out).await.unwrap();
    let r = read_reply(&mut s).await;
    (s, r)
}

/// Reads until EOF, with a timeout.
pub async fn read_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut v)).await.expect("EOF in time").unwrap();
    v
}

/// Whether the kernel takes MPTCP sockets here (net.mptcp.enabled=1).
pub fn kernel_mptcp() -> bool {
    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, Some(socket2::Protocol::MPTCP)).is_ok()
}

/// Whether CI asks for every test to run (CI=true).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Waits until `cond` holds, at most 5 s.
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Deterministic test bytes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}
