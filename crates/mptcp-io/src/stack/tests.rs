//! Two stacks joined by an in-memory link: the driver, the streams and the
//! listener end to end, without root or a TUN device.

use super::*;
use crate::memdev::{LinkFilter, MemoryDevice};
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2));

fn pair(a_to_b: Option<LinkFilter>, b_to_a: Option<LinkFilter>) -> (Stack, Stack) {
    let (da, db) = MemoryDevice::pair_with(1500, 4096, a_to_b, b_to_a);
    let cfg = |addr| {
        let mut c = StackConfig { addresses: vec![addr], seed: Some(7), ..StackConfig::default() };
        c.endpoint.mptcp.enabled = false; // the driver over plain TCP; MPTCP in tests/mptcp_stream.rs
        c
    };
    (Stack::new(da, cfg(A)), Stack::new(db, cfg(B)))
}

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(salt)).collect()
}

/// Each side sends `n` bytes and reads the other's, at the same time.
async fn exchange(client: Stack, server: Stack, n: usize) {
    let listener = server.listen(5000).unwrap();
    let up = pattern(n, 1);
    let down = pattern(n, 2);
    let (up2, down2) = (up.clone(), down.clone());
    let srv = tokio::spawn(async move {
        let (s, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.ip(), A);
        let (mut rd, mut wr) = tokio::io::split(s);
        let send = async {
            wr.write_all(&down2).await.unwrap();
            wr.shutdown().await.unwrap();
        };
        let recv = async {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = tokio::join!(send, recv);
        assert!(got == up2, "server got {} bytes, wanted {}", got.len(), up2.len());
        server.linger(Duration::from_secs(5)).await;
    });
    let s = client.connect(SocketAddr::new(B, 5000)).await.unwrap();
    assert_eq!(s.peer_addr().unwrap(), SocketAddr::new(B, 5000));
    let (mut rd, mut wr) = tokio::io::split(s);
    let send = async {
        wr.write_all(&up).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let recv = async {
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        got
    };
    let ((), got) = tokio::join!(send, recv);
    assert!(got == down, "client got {} bytes, wanted {}", got.len(), down.len());
    let s = rd.unsplit(wr);
    let stats = s.stats().unwrap();
    assert_eq!(stats.bytes_received, n as u64);
    drop(s);
    srv.await.unwrap();
    assert!(client.linger(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_megabyte_each_way() {
    let (client, server) = pair(None, None);
    tokio::time::timeout(Duration::from_secs(30), exchange(client, server, 1 << 20)).await.expect("in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_megabyte_each_way_with_loss() {
    // Drop one packet in 50 each way, deterministically.
    let every = |k: u64| -> LinkFilter {
        let mut n = 0u64;
        Box::new(move |_| {
            n += 1;
            !n.is_multiple_of(k)
        })
    };
    let (client, server) = pair(Some(every(50)), Some(every(53)));
    tokio::time::timeout(Duration::from_secs(60), exchange(client, server, 1 << 20)).await.expect("in time");
}

#[tokio::test]
async fn refused_without_listener() {
    let (client, _server) = pair(None, None);
    let e = client.connect(SocketAddr::new(B, 5001)).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
}

#[tokio::test]
async fn listen_twice_is_addr_in_use() {
    let (_client, server) = pair(None, None);
    let _l = server.listen(80).unwrap();
    assert_eq!(server.listen(80).unwrap_err().kind(), io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn no_address_of_the_family() {
    let (client, _server) = pair(None, None);
    let e = client.connect("[fd00::1]:80".parse().unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AddrNotAvailable);
}

#[test]
fn unseeded_stacks_take_their_secrets_from_the_os() {
    let (a, b) = (super::os_random(), super::os_random());
    assert_ne!(a, b, "two draws of 256 bits agree: not random");
    assert_ne!(a, [0u8; 32]);
}

#[tokio::test]
async fn chunk_writer_sends_bytes_by_reference_while_the_stream_reads() {
    let (client, server) = pair(None, None);
    let listener = server.listen(5001).unwrap();
    let data = bytes::Bytes::from(pattern(3 << 20, 3));
    let want = data.clone();
    let srv = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert!(got == want[..], "server got {} bytes, wanted {}", got.len(), want.len());
        server.linger(Duration::from_secs(5)).await;
    });
    let mut s = client.connect(SocketAddr::new(B, 5001)).await.unwrap();
    let w = s.chunk_writer();
    for start in (0..data.len()).step_by(50_000) {
        w.write(data.slice(start..(start + 50_000).min(data.len()))).await.unwrap();
    }
    // Larger than the whole send buffer: refused, not waited for forever.
    let huge = bytes::Bytes::from(vec![0u8; (4 << 20) + 1]);
    assert_eq!(w.write(huge).await.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    drop(s);
    srv.await.unwrap();
    client.linger(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn chunk_reader_sees_the_stream_in_place() {
    let (client, server) = pair(None, None);
    let listener = server.listen(5002).unwrap();
    let data = pattern(2 << 20, 5);
    let sent = data.clone();
    let srv = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(&sent).await.unwrap();
        s.shutdown().await.unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        server.linger(Duration::from_secs(5)).await;
    });
    let mut s = client.connect(SocketAddr::new(B, 5002)).await.unwrap();
    let r = s.chunk_reader();
    let mut got = Vec::new();
    let mut calls = 0;
    loop {
        // At most 10,000 bytes a call, in one or two pieces.
        let n = r.read_with(10_000, |piece| got.extend_from_slice(piece)).await.unwrap();
        if n == 0 {
            break;
        }
        assert!(n <= 10_000);
        calls += 1;
    }
    assert!(got == data, "read {} bytes in place, wanted {}", got.len(), data.len());
    assert!(calls >= data.len() / 10_000);
    s.shutdown().await.unwrap();
    drop(s);
    srv.await.unwrap();
    client.linger(Duration::from_secs(5)).await;
}
