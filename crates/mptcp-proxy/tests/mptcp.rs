//! The proxy's sockets really are MPTCP: a client on an IPPROTO_MPTCP
//! socket gets an MPTCP connection (MPTCP_INFO on both ends), a TCP client
//! a TCP one, and targets are reached over MPTCP where they take it.

mod common;

use common::*;
use mptcp_proxy::socket;
use mptcp_proxy::socks5::{Addr, Command, Greeting, ReplyCode, Request};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Skips (loudly) where the kernel has no MPTCP; under CI=true that fails.
fn need_mptcp(test: &str) -> bool {
    if kernel_mptcp() {
        return true;
    }
    assert!(!under_ci(), "{test}: the kernel refuses MPTCP sockets under CI (net.mptcp.enabled=1 expected)");
    eprintln!("SKIPPED {test}: the kernel refuses MPTCP sockets (net.mptcp.enabled=0 or no CONFIG_MPTCP)");
    false
}

async fn mptcp_connect(addr: SocketAddr) -> TcpStream {
    socket::connect(addr, true).await.expect("MPTCP connect")
}

/// CONNECT to `target` over an already open control connection.
async fn connect_through(s: &mut TcpStream, target: SocketAddr) -> ReplyCode {
    let mut out = Vec::new();
    Greeting { methods: vec![0] }.emit(&mut out);
    Request { command: Command::Connect, dst: Addr::Ip(target) }.emit(&mut out);
    s.write_all(&out).await.unwrap();
    let mut sel = [0u8; 2];
    s.read_exact(&mut sel).await.unwrap();
    assert_eq!(sel, [5, 0]);
    read_reply(s).await.code
}

#[tokio::test]
async fn an_mptcp_client_gets_an_mptcp_connection() {
    if !need_mptcp("an_mptcp_client_gets_an_mptcp_connection") {
        return;
    }
    let proxy = start(config());
    assert!(proxy.mptcp, "the listener is MPTCP");
    let echo = echo_server().await;
    let mut s = mptcp_connect(proxy.addr).await;
    assert_eq!(connect_through(&mut s, echo).await, ReplyCode::Succeeded);
    assert!(socket::is_mptcp(&s), "MPTCP_INFO on the client's socket: MPTCP, not fallen back");
    s.write_all(b"over mptcp").await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"over mptcp");
    assert_eq!(proxy.counters.snapshot().accepted_mptcp, 1, "the proxy's accepted socket answered MPTCP_INFO");
    // A plain TCP client of the same listener is served over TCP.
    let mut t = TcpStream::connect(proxy.addr).await.unwrap();
    assert_eq!(connect_through(&mut t, echo).await, ReplyCode::Succeeded);
    assert!(!socket::is_mptcp(&t));
    let snap = proxy.counters.snapshot();
    assert_eq!((snap.accepted, snap.accepted_mptcp), (2, 1));
}

#[tokio::test]
async fn no_mptcp_listens_with_tcp() {
    if !need_mptcp("no_mptcp_listens_with_tcp") {
        return;
    }
    let mut cfg = config();
    cfg.client_mptcp = false;
    let proxy = start(cfg);
    assert!(!proxy.mptcp);
    let echo = echo_server().await;
    let mut s = mptcp_connect(proxy.addr).await;
    assert_eq!(connect_through(&mut s, echo).await, ReplyCode::Succeeded);
    assert!(!socket::is_mptcp(&s), "the MPTCP client fell back to TCP against a TCP listener");
    assert_eq!(proxy.counters.snapshot().accepted_mptcp, 0);
}

/// An echo server on an MPTCP listener.
async fn mptcp_echo_server() -> SocketAddr {
    let (l, is_mptcp) = socket::listen("127.0.0.1:0".parse().unwrap(), true).unwrap();
    assert!(is_mptcp);
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn targets_are_reached_over_mptcp_unless_target_tcp() {
    if !need_mptcp("targets_are_reached_over_mptcp_unless_target_tcp") {
        return;
    }
    let target = mptcp_echo_server().await;
    let proxy = start(config());
    let (_s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    assert_eq!(proxy.counters.snapshot().targets_mptcp, 1, "MPTCP to an MPTCP target");
    // A plain TCP target: the kernel falls back by itself.
    let tcp_target = echo_server().await;
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(tcp_target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    s.write_all(b"fallback works").await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"fallback works");
    assert_eq!(proxy.counters.snapshot().targets_mptcp, 1);
    let mut cfg = config();
    cfg.target_mptcp = false;
    let tcp_only = start(cfg);
    let (_s, reply) = socks_request(tcp_only.addr, None, Command::Connect, Addr::Ip(target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    assert_eq!(tcp_only.counters.snapshot().targets_mptcp, 0, "--target-tcp: plain TCP to the MPTCP target");
}
