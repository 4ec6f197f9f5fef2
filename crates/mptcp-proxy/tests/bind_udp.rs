//! BIND's two replies and UDP ASSOCIATE's datagrams, on loopback.

mod common;

use common::*;
use mptcp_proxy::socks5::{Addr, Command, ReplyCode, UdpHeader};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn bound_ip(a: &Addr) -> SocketAddr {
    match a {
        Addr::Ip(a) => *a,
        other => panic!("BND.ADDR should be an IP address, got {other}"),
    }
}

#[tokio::test]
async fn bind_two_replies_then_relay() {
    let proxy = start(config());
    let (mut ctl, first) =
        socks_request(proxy.addr, None, Command::Bind, Addr::Ip("127.0.0.1:0".parse().unwrap())).await;
    assert_eq!(first.code, ReplyCode::Succeeded);
    let listen = bound_ip(&first.bound);
    assert_ne!(listen.port(), 0);
    // The "application server" connects to the address of the first reply.
    let mut server = TcpStream::connect(listen).await.unwrap();
    let second = read_reply(&mut ctl).await;
    assert_eq!(second.code, ReplyCode::Succeeded);
    assert_eq!(bound_ip(&second.bound), server.local_addr().unwrap(), "the second reply names the connecting host");
    server.write_all(b"from the server").await.unwrap();
    let mut buf = [0u8; 15];
    ctl.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"from the server");
    ctl.write_all(b"from the client").await.unwrap();
    ctl.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut server).await, b"from the client");
    assert_eq!(proxy.counters.snapshot().replies.get(ReplyCode::Succeeded), 2);
}

#[tokio::test]
async fn bind_refuses_an_unexpected_host() {
    let proxy = start(config());
    // Only 192.0.2.1 may connect; the connection from 127.0.0.1 is refused.
    let (mut ctl, first) =
        socks_request(proxy.addr, None, Command::Bind, Addr::Ip("192.0.2.1:0".parse().unwrap())).await;
    assert_eq!(first.code, ReplyCode::Succeeded);
    let _server = TcpStream::connect(bound_ip(&first.bound)).await.unwrap();
    let second = read_reply(&mut ctl).await;
    assert_eq!(second.code, ReplyCode::NotAllowed);
}

#[tokio::test]
async fn udp_associate_relays_both_ways() {
    let proxy = start(config());
    let echo = udp_echo_server().await;
    // "localhost" may resolve to ::1 first: echo there too on the same port if we can.
    let echo6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, echo.port()));
    if let Ok(s6) = UdpSocket::bind(echo6).await {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok((n, from)) = s6.recv_from(&mut buf).await {
                let _ = s6.send_to(&buf[..n], from).await;
            }
        });
    }
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let from = client.local_addr().unwrap();
    let (ctl, reply) = socks_request(proxy.addr, None, Command::UdpAssociate, Addr::Ip(from)).await;
    assert_eq!(reply.code, ReplyCode::Succeeded);
    let relay = bound_ip(&reply.bound);
    for (i, dst) in [Addr::Ip(echo), Addr::Domain("localhost".into(), echo.port())].into_iter().enumerate() {
        let mut d = Vec::new();
        UdpHeader { frag: 0, addr: dst }.emit(&mut d);
        let payload = format!("datagram {i}");
        d.extend_from_slice(payload.as_bytes());
        client.send_to(&d, relay).await.unwrap();
        let mut buf = vec![0u8; 2048];
        let (n, src) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf)).await.unwrap().unwrap();
        assert_eq!(src, relay, "answers come from the relay's address");
        let (h, used) = UdpHeader::parse(&buf[..n]).unwrap().unwrap();
        assert_eq!(h.frag, 0);
        assert!(h.addr == Addr::Ip(echo) || h.addr == Addr::Ip(echo6), "the header names the echo server: {}", h.addr);
        assert_eq!(&buf[used..n], payload.as_bytes());
    }
    // A fragment (FRAG != 0) is dropped, not relayed.
    let mut d = Vec::new();
    UdpHeader { frag: 1, addr: Addr::Ip(echo) }.emit(&mut d);
    d.extend_from_slice(b"fragment");
    client.send_to(&d, relay).await.unwrap();
    let mut buf = vec![0u8; 2048];
    assert!(tokio::time::timeout(Duration::from_millis(300), client.recv_from(&mut buf)).await.is_err());
    let snap = proxy.counters.snapshot();
    assert_eq!((snap.udp_datagrams_up, snap.udp_datagrams_down, snap.udp_dropped), (2, 2, 1));
    // Closing the control connection ends the association.
    drop(ctl);
    let c = proxy.counters.clone();
    assert!(eventually(|| c.snapshot().active == 0).await);
}

#[tokio::test]
async fn udp_from_a_stranger_is_dropped() {
    let proxy = start(config());
    let echo = udp_echo_server().await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (_ctl, reply) =
        socks_request(proxy.addr, None, Command::UdpAssociate, Addr::Ip(client.local_addr().unwrap())).await;
    let relay = bound_ip(&reply.bound);
    // Another port than the one the request named.
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut d = Vec::new();
    UdpHeader { frag: 0, addr: Addr::Ip(echo) }.emit(&mut d);
    d.extend_from_slice(b"not yours");
    stranger.send_to(&d, relay).await.unwrap();
    let mut buf = vec![0u8; 2048];
    assert!(tokio::time::timeout(Duration::from_millis(300), stranger.recv_from(&mut buf)).await.is_err());
    assert_eq!(proxy.counters.snapshot().udp_dropped, 1);
}
