//! CONNECT through the proxy on loopback: relaying, authentication, names,
//! every failure's reply code, half-close and optimistic data.

mod common;

use common::*;
use mptcp_proxy::socks5::{Addr, Command, Credentials, ReplyCode};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn connect_relays_to_an_echo_server() {
    let proxy = start(config());
    let echo = echo_server().await;
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    assert_ne!(reply.bound.port(), 0, "BND.PORT is the proxy's port toward the target");
    let data = pattern(1 << 20);
    let (mut r, mut w) = s.split();
    let send = async {
        w.write_all(&data).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let recv = r.read_to_end(&mut back);
    let ((), n) = tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(send, recv) }).await.unwrap();
    assert_eq!(n.unwrap(), data.len());
    assert!(back == data, "the echo came back byte for byte");
    let c = proxy.counters.clone();
    assert!(eventually(|| c.snapshot().active == 0).await);
    let snap = proxy.counters.snapshot();
    assert_eq!(snap.bytes_up, data.len() as u64);
    assert_eq!(snap.bytes_down, data.len() as u64);
    assert_eq!(snap.replies.get(ReplyCode::Succeeded), 1);
    assert_eq!(snap.accepted, 1);
}

#[tokio::test]
async fn connect_over_ipv6() {
    let Ok(l) = TcpListener::bind("[::1]:0").await else {
        assert!(!under_ci(), "no IPv6 loopback under CI");
        eprintln!("SKIPPED connect_over_ipv6: no IPv6 loopback here");
        return;
    };
    let target = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(b"hello over v6").await.unwrap();
    });
    let mut cfg = config();
    cfg.listen = "[::1]:0".parse().unwrap();
    let proxy = start(cfg);
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    assert!(matches!(reply.bound, Addr::Ip(a) if a.is_ipv6()));
    assert_eq!(read_to_end(&mut s).await, b"hello over v6");
}

fn with_auth() -> mptcp_proxy::Socks5Config {
    let mut cfg = config();
    let mut creds = Credentials::new();
    creds.add("alice", "s3cret");
    creds.add("bob", "hunter2");
    cfg.credentials = creds;
    cfg
}

#[tokio::test]
async fn username_password_accepted() {
    let proxy = start(with_auth());
    let echo = echo_server().await;
    let (mut s, reply) = socks_request(proxy.addr, Some(("bob", "hunter2")), Command::Connect, Addr::Ip(echo)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    s.write_all(b"authenticated").await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"authenticated");
    assert_eq!(proxy.counters.snapshot().auth_failures, 0);
}

#[tokio::test]
async fn wrong_password_refused_and_counted() {
    let proxy = start(with_auth());
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(&[5, 1, 2]).await.unwrap();
    let mut sel = [0u8; 2];
    s.read_exact(&mut sel).await.unwrap();
    assert_eq!(sel, [5, 2]);
    s.write_all(&[1, 5, b'a', b'l', b'i', b'c', b'e', 5, b'w', b'r', b'o', b'n', b'g']).await.unwrap();
    let rest = read_to_end(&mut s).await;
    assert_eq!(rest, [1, 1], "a failure status, then the close");
    assert_eq!(proxy.counters.snapshot().auth_failures, 1);
}

#[tokio::test]
async fn no_acceptable_method_is_0xff() {
    let proxy = start(with_auth());
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    // Only "no authentication" offered to a proxy that requires a password.
    s.write_all(&[5, 1, 0]).await.unwrap();
    assert_eq!(read_to_end(&mut s).await, [5, 0xff]);
    // And GSSAPI alone to a proxy without accounts.
    let open = start(config());
    let mut s = TcpStream::connect(open.addr).await.unwrap();
    s.write_all(&[5, 1, 1]).await.unwrap();
    assert_eq!(read_to_end(&mut s).await, [5, 0xff]);
    assert_eq!(proxy.counters.snapshot().no_acceptable_method, 1);
}

#[tokio::test]
async fn domain_name_resolved_by_the_proxy() {
    let proxy = start(config());
    let echo = echo_server().await;
    let (mut s, reply) =
        socks_request(proxy.addr, None, Command::Connect, Addr::Domain("localhost".into(), echo.port())).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    s.write_all(b"by name").await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"by name");
}

#[tokio::test]
async fn unresolvable_name_is_host_unreachable() {
    let proxy = start(config());
    let (_s, reply) =
        socks_request(proxy.addr, None, Command::Connect, Addr::Domain("no-such-host.invalid".into(), 80)).await;
    assert_eq!(reply.code, ReplyCode::HostUnreachable);
}

#[tokio::test]
async fn refused_port_is_0x05() {
    let proxy = start(config());
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(closed_port())).await;
    assert_eq!(reply.code, ReplyCode::ConnectionRefused);
    assert_eq!(read_to_end(&mut s).await, b"", "closed after the reply");
    assert_eq!(proxy.counters.snapshot().replies.get(ReplyCode::ConnectionRefused), 1);
}

#[tokio::test]
async fn unknown_command_is_0x07() {
    let proxy = start(config());
    let (_s, reply) = socks_request(proxy.addr, None, Command::Other(0x09), Addr::Ip(closed_port())).await;
    assert_eq!(reply.code, ReplyCode::CommandNotSupported);
}

#[tokio::test]
async fn unknown_address_type_is_0x08() {
    let proxy = start(config());
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(&[5, 1, 0, 5, 1, 0, 0x05, 0, 0, 0, 0, 0, 0]).await.unwrap();
    let got = read_to_end(&mut s).await;
    assert_eq!(&got[..2], [5, 0]);
    assert_eq!(got[2..4], [5, ReplyCode::AddressTypeNotSupported.byte()]);
}

#[tokio::test]
async fn denied_destination_is_0x02() {
    let mut cfg = config();
    cfg.rules.deny.push("127.0.0.0/8".parse().unwrap());
    let proxy = start(cfg);
    let echo = echo_server().await;
    let (_s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    assert_eq!(reply.code, ReplyCode::NotAllowed);
    let (_s, reply) =
        socks_request(proxy.addr, None, Command::Connect, Addr::Domain("localhost".into(), echo.port())).await;
    assert!(matches!(reply.code, ReplyCode::NotAllowed), "{:?} (every address of the name is denied)", reply.code);
}

#[tokio::test]
async fn connect_timeout_is_0x06() {
    // A listener whose accept queue is full drops further SYNs: the
    // connection attempt hangs until the proxy's connect timeout.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    sock.listen(0).unwrap();
    let full: std::net::SocketAddr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(full)).await {
            fillers.push(s);
        }
    }
    let mut cfg = config();
    cfg.limits.connect_timeout = Duration::from_millis(400);
    let proxy = start(cfg);
    let t = Instant::now();
    let (_s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(full)).await;
    assert_eq!(reply.code, ReplyCode::TtlExpired);
    assert!(t.elapsed() >= Duration::from_millis(350) && t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test]
async fn not_socks_is_closed_without_reply() {
    let proxy = start(config());
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"");
    assert_eq!(proxy.counters.snapshot().malformed, 1);
}

#[tokio::test]
async fn half_close_from_the_client_is_carried_through() {
    // The target reads to EOF, then answers: it can only answer if the
    // client's FIN reached it while the other direction stayed open.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        s.write_all(format!("you sent {} bytes, then FIN", got.len()).as_bytes()).await.unwrap();
    });
    let proxy = start(config());
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    s.write_all(&pattern(100_000)).await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut s).await, b"you sent 100000 bytes, then FIN");
}

#[tokio::test]
async fn half_close_from_the_target_is_carried_through() {
    // The target sends and shuts its write side first; the client sees EOF
    // and can still send, and the target still receives.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = l.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(b"banner").await.unwrap();
        s.shutdown().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        let _ = tx.send(got);
    });
    let proxy = start(config());
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(target)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    let mut banner = Vec::new();
    s.read_to_end(&mut banner).await.unwrap();
    assert_eq!(banner, b"banner");
    s.write_all(b"still talking after your FIN").await.unwrap();
    s.shutdown().await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert_eq!(got, b"still talking after your FIN");
}

#[tokio::test]
async fn optimistic_data_behind_the_greeting() {
    let proxy = start(with_auth());
    let echo = echo_server().await;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    // Greeting, authentication, request and payload in one write, no waiting.
    let mut all = vec![5, 1, 2];
    all.extend_from_slice(&[1, 3, b'b', b'o', b'b', 7]);
    all.extend_from_slice(b"hunter2");
    let mut req = Vec::new();
    mptcp_proxy::socks5::Request { command: Command::Connect, dst: Addr::Ip(echo) }.emit(&mut req);
    all.extend_from_slice(&req);
    all.extend_from_slice(b"payload right behind the request");
    let t = Instant::now();
    s.write_all(&all).await.unwrap();
    // Every reply comes in one segment: the first read holds all of them.
    let mut first = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut first)).await.unwrap().unwrap();
    assert!(n >= 14, "method selection, auth status and reply sent together (first read: {n} bytes)");
    assert_eq!(&first[..4], [5, 2, 1, 0]);
    assert_eq!(&first[4..6], [5, 0]);
    let mut got = first[14..n].to_vec();
    let want = b"payload right behind the request";
    while got.len() < want.len() {
        let mut b = [0u8; 256];
        let k = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await.unwrap().unwrap();
        assert!(k > 0, "closed before the echo");
        got.extend_from_slice(&b[..k]);
    }
    assert_eq!(got, want, "no byte read ahead was lost");
    assert!(t.elapsed() < Duration::from_millis(500), "took {:?}", t.elapsed());
}

#[tokio::test]
async fn max_connections_refuses_by_closing() {
    let mut cfg = config();
    cfg.limits.max_connections = 2;
    let proxy = start(cfg);
    let echo = echo_server().await;
    let (a, ra) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    let (_b, rb) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    assert_eq!((ra.code, rb.code), (ReplyCode::Succeeded, ReplyCode::Succeeded));
    let mut third = TcpStream::connect(proxy.addr).await.unwrap();
    let _ = third.write_all(&[5, 1, 0]).await;
    let mut buf = [0u8; 2];
    let r = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf)).await.unwrap();
    assert!(matches!(r, Ok(0) | Err(_)), "the third is closed without a method reply: {r:?}");
    assert_eq!(proxy.counters.snapshot().refused_max_connections, 1);
    drop(a);
    let c = proxy.counters.clone();
    assert!(eventually(|| c.snapshot().active == 1).await, "the closed one freed its place");
    let (_d, rd) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    assert_eq!(rd.code, ReplyCode::Succeeded);
}

#[tokio::test]
async fn handshake_timeout_closes_a_silent_client() {
    let mut cfg = config();
    cfg.limits.handshake_timeout = Duration::from_millis(200);
    let proxy = start(cfg);
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(&[5]).await.unwrap(); // half a greeting, then nothing
    let t = Instant::now();
    assert_eq!(read_to_end(&mut s).await, b"");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(proxy.counters.snapshot().handshake_timeouts, 1);
}

#[tokio::test]
async fn idle_timeout_ends_a_silent_relay() {
    let mut cfg = config();
    cfg.limits.idle_timeout = Duration::from_millis(300);
    let proxy = start(cfg);
    let echo = echo_server().await;
    let (mut s, reply) = socks_request(proxy.addr, None, Command::Connect, Addr::Ip(echo)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    s.write_all(b"x").await.unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.unwrap();
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await.unwrap();
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    assert!(t.elapsed() >= Duration::from_millis(250), "not before the idle timeout: {:?}", t.elapsed());
    assert_eq!(proxy.counters.snapshot().idle_timeouts, 1);
}
