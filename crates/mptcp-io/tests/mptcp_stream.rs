//! `MptcpStream` / `MptcpListener` between two stacks over an in-memory
//! link: MPTCP with a second subflow from a `subflow` endpoint, and the
//! transparent fallback to TCP when the peer does not speak MPTCP.

use mptcp_io::{MemoryDevice, MptcpListener, MptcpStream, Stack, StackConfig};
use mptcp_proto::mptcp::Fallback;
use mptcp_proto::pm::EndpointFlags;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 98, 0, 1));
const A2: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 98, 1, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 98, 0, 2));

fn stack(dev: MemoryDevice, addr: IpAddr, mptcp: bool) -> Stack {
    let mut cfg = StackConfig { addresses: vec![addr], seed: Some(11), ..StackConfig::default() };
    cfg.endpoint.mptcp.enabled = mptcp;
    Stack::new(dev, cfg)
}

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(13).wrapping_add(salt)).collect()
}

/// Sends `data` and reads to the end, at once.
async fn both_ways(s: MptcpStream, data: Vec<u8>) -> (MptcpStream, Vec<u8>) {
    let (mut rd, mut wr) = tokio::io::split(s);
    let send = async {
        wr.write_all(&data).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let recv = async {
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        got
    };
    let ((), got) = tokio::join!(send, recv);
    (rd.unsplit(wr), got)
}

/// A 2 MiB exchange; returns the client's and the server's streams' fallback
/// and subflow count, seen after the transfer.
async fn run(client: Stack, server: Stack) -> [(Option<Option<Fallback>>, usize); 2] {
    let n = 2 << 20;
    let listener: MptcpListener = server.listen(6000).unwrap();
    let srv = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let (s, got) = both_ways(s, pattern(n, 2)).await;
        assert!(got == pattern(n, 1), "server got {} bytes", got.len());
        let r = (s.mptcp_fallback(), s.subflow_stats().map_or(0, |v| v.len()));
        drop(s);
        server.linger(Duration::from_secs(5)).await;
        r
    });
    let s = client.connect(SocketAddr::new(B, 6000)).await.unwrap();
    let (s, got) = both_ways(s, pattern(n, 1)).await;
    assert!(got == pattern(n, 2), "client got {} bytes", got.len());
    let c = (s.mptcp_fallback(), s.subflow_stats().map_or(0, |v| v.len()));
    drop(s);
    let srv = srv.await.unwrap();
    client.linger(Duration::from_secs(5)).await;
    [c, srv]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mptcp_with_a_second_subflow() {
    let (da, db) = MemoryDevice::pair(1500, 4096);
    let (client, server) = (stack(da, A, true), stack(db, B, true));
    client.add_endpoint(A2, EndpointFlags::parse("subflow").unwrap(), None);
    let [c, s] = tokio::time::timeout(Duration::from_secs(30), run(client, server)).await.expect("in time");
    assert_eq!(c.0, Some(None), "MPTCP, no fallback");
    assert_eq!(s.0, Some(None));
    assert_eq!(c.1, 2, "the subflow endpoint's join");
    assert_eq!(s.1, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_to_tcp_without_the_application_noticing() {
    let (da, db) = MemoryDevice::pair(1500, 4096);
    let (client, server) = (stack(da, A, true), stack(db, B, false));
    let [c, s] = tokio::time::timeout(Duration::from_secs(30), run(client, server)).await.expect("in time");
    assert_eq!(c.0, Some(Some(Fallback::SynAckWithoutMpc)), "the client fell back");
    assert_eq!(s.0, None, "the server spoke plain TCP");
}
