//! The proxies on the userspace backend, in-process and without root: the
//! SOCKS5 proxy and the converter listen on our MPTCP stack (one end of an
//! in-memory link), a client on a second stack (the other end) talks to
//! them over MPTCP, and they reach a target on the host's loopback with
//! the kernel's TCP. Relay with half-close both ways, authentication
//! refused, the Convert exchange, and the stack's listener keeping to its
//! address.

mod common;

use common::*;
use mptcp_io::{MemoryDevice, MptcpStream, Stack, StackConfig};
use mptcp_proxy::backend::ProxyStream;
use mptcp_proxy::backend::stack::StackListener;
use mptcp_proxy::convert::{Connect, Message, Tlv};
use mptcp_proxy::socks5::{Addr, Command, Greeting, Reply, ReplyCode, Request, UserPass};
use mptcp_proxy::{Converter, ConverterConfig, Socks5Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT_IP: &str = "192.0.2.1";
const PROXY_IP: &str = "192.0.2.2";

/// A client stack and a proxy stack joined by an in-memory link.
fn stacks() -> (Stack, Stack) {
    let (a, b) = MemoryDevice::pair(1500, 1024);
    let conf = |ip: &str| StackConfig { addresses: vec![ip.parse().unwrap()], ..Default::default() };
    (Stack::new(a, conf(CLIENT_IP)), Stack::new(b, conf(PROXY_IP)))
}

fn proxy_addr(port: u16) -> SocketAddr {
    SocketAddr::new(PROXY_IP.parse().unwrap(), port)
}

/// Starts a SOCKS5 proxy on `stack` at PROXY_IP:1080 with `accounts`.
fn start_socks5(stack: &Stack, accounts: &[(&str, &str)]) -> (tokio::sync::oneshot::Sender<()>, Proxy2) {
    let listener = StackListener::bind(stack, proxy_addr(1080)).expect("listen on the stack");
    let mut config = config();
    for (u, p) in accounts {
        config.credentials.add(*u, *p);
    }
    let server = Socks5Server::with_listener(listener, true, config);
    let counters = server.counters();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    (tx, Proxy2 { counters })
}

struct Proxy2 {
    counters: std::sync::Arc<mptcp_proxy::Counters>,
}

/// A SOCKS5 exchange over `s`; returns the reply, or None when the
/// authentication was refused.
async fn negotiate(s: &mut MptcpStream, auth: Option<(&str, &str)>, dst: SocketAddr) -> Option<Reply> {
    let mut out = Vec::new();
    Greeting { methods: vec![if auth.is_some() { 2 } else { 0 }] }.emit(&mut out);
    if let Some((u, p)) = auth {
        UserPass { user: u.into(), pass: p.into() }.emit(&mut out);
    }
    // Greeting, credentials and request in one go: the optimistic client.
    Request { command: Command::Connect, dst: Addr::Ip(dst) }.emit(&mut out);
    s.write_all(&out).await.unwrap();
    let mut sel = [0u8; 2];
    s.read_exact(&mut sel).await.unwrap();
    assert_eq!(sel[1], if auth.is_some() { 2 } else { 0 });
    if auth.is_some() {
        let mut st = [0u8; 2];
        s.read_exact(&mut st).await.unwrap();
        if st[1] != 0 {
            return None;
        }
    }
    let mut buf = Vec::new();
    loop {
        if let Some((r, _)) = Reply::parse(&buf).expect("a valid reply") {
            return Some(r);
        }
        let mut b = [0u8; 1];
        assert_eq!(s.read(&mut b).await.unwrap(), 1, "the proxy closed before its reply");
        buf.push(b[0]);
    }
}

/// Writes `data` then half-closes while reading everything back.
async fn echo_through(s: &mut MptcpStream, data: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = tokio::io::split(s);
    let send = async {
        w.write_all(data).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let recv = async {
        r.read_to_end(&mut back).await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(send, recv) }).await.expect("relay in time");
    back
}

#[tokio::test(flavor = "current_thread")]
async fn socks5_on_the_stack_relays_with_half_close() {
    let (client, proxy) = stacks();
    let (_stop, p) = start_socks5(&proxy, &[("alice", "s3cret")]);
    let target = echo_server().await;

    let mut s = client.connect(proxy_addr(1080)).await.unwrap();
    let reply = negotiate(&mut s, Some(("alice", "s3cret")), target).await.expect("authenticated");
    assert_eq!(reply.code, ReplyCode::Succeeded);
    let data = pattern(1 << 20);
    assert!(echo_through(&mut s, &data).await == data, "the echo came back whole");
    assert_eq!(s.mptcp_fallback(), Some(None), "the client's side spoke MPTCP");
    assert!(eventually(|| p.counters.snapshot().bytes_down == data.len() as u64).await);
    let snap = p.counters.snapshot();
    assert_eq!((snap.accepted, snap.accepted_mptcp), (1, 1), "{snap:?}");
    assert_eq!(snap.bytes_up, data.len() as u64);

    let mut bad = client.connect(proxy_addr(1080)).await.unwrap();
    assert!(negotiate(&mut bad, Some(("alice", "wrong")), target).await.is_none(), "a wrong password is refused");
    assert!(eventually(|| p.counters.snapshot().auth_failures == 1).await);
}

/// The address as RFC 8803 carries it: IPv4 as IPv4-mapped IPv6.
fn mapped(a: SocketAddr) -> std::net::Ipv6Addr {
    match a.ip() {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn converter_on_the_stack_answers_then_relays() {
    let (client, proxy) = stacks();
    let listener = StackListener::bind(&proxy, proxy_addr(5124)).expect("listen on the stack");
    let mut config = ConverterConfig::new(proxy_addr(5124));
    config.allow_loopback = true;
    let conv = Converter::with_listener(listener, true, config);
    let counters = conv.counters();
    let (_stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(conv.run(async move {
        let _ = rx.await;
    }));
    let target = echo_server().await;

    let mut s = client.connect(proxy_addr(5124)).await.unwrap();
    let mut msg = Vec::new();
    Message { tlvs: vec![Tlv::Connect(Connect { port: target.port(), addr: mapped(target), options: vec![] })] }
        .emit(&mut msg);
    let data = pattern(300_000);
    let mut first = msg.clone();
    first.extend_from_slice(&data);
    let back = echo_through(&mut s, &first).await;
    let (reply, used) = Message::parse(&back).expect("a Convert reply").expect("whole");
    assert!(matches!(reply.tlvs.first(), Some(Tlv::ExtendedTcpHeader(_))), "{reply:?}");
    assert!(back[used..] == data[..], "the data behind the reply is the echo");
    let snap = counters.snapshot();
    assert_eq!((snap.connected, snap.accepted_mptcp, snap.data_in_syn), (1, 1, 0), "{snap:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_stack_listener_keeps_to_its_address() {
    let (_client, proxy) = stacks();
    let err = StackListener::bind(&proxy, "198.51.100.1:1080".parse().unwrap()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
    assert!(StackListener::bind(&proxy, proxy_addr(0)).is_err(), "port 0");
    let any = StackListener::bind(&proxy, "0.0.0.0:1081".parse().unwrap()).unwrap();
    assert_eq!(any.addresses(&proxy), vec![proxy_addr(1081)]);
}

#[tokio::test(flavor = "current_thread")]
async fn stack_streams_say_what_they_are() {
    let (client, proxy) = stacks();
    let listener = proxy.listen(7).unwrap();
    let (c, s) = tokio::join!(client.connect(proxy_addr(7)), listener.accept());
    let (c, (s, peer)) = (c.unwrap(), s.unwrap());
    assert_eq!(ProxyStream::peer_addr(&s).unwrap(), peer);
    assert_eq!(ProxyStream::local_addr(&s).unwrap(), proxy_addr(7));
    assert!(s.speaks_mptcp() && c.speaks_mptcp());
    assert!(!s.syn_data(), "the stack takes no data in the SYN");
    s.reset_on_close();
    let mut c = c;
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_secs(5), c.read(&mut b)).await.expect("the reset in time");
    assert!(r.is_err(), "the peer sees a reset, not an EOF: {r:?}");
}
