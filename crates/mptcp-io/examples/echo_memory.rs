//! Two userspace stacks in one process, joined by an in-memory link (no root,
//! no TUN device): the server echoes, the client opens an MPTCP connection
//! with a second subflow from another address, sends some bytes, reads them
//! back and prints what each subflow carried.
//!
//! Run it with `cargo run -p mptcp-io --example echo_memory`.

use mptcp_io::{MemoryDevice, MptcpListener, MptcpStream, Stack, StackConfig};
use mptcp_proto::pm::EndpointFlags;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const CLIENT2: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const PORT: u16 = 7;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // One link, 1500-byte packets, up to 1024 queued each way.
    let (client_dev, server_dev) = MemoryDevice::pair(1500, 1024);
    // A default StackConfig speaks MPTCP (and falls back to TCP against a plain peer).
    let client = Stack::new(client_dev, StackConfig { addresses: vec![CLIENT], ..StackConfig::default() });
    let server = Stack::new(server_dev, StackConfig { addresses: vec![SERVER], ..StackConfig::default() });
    // Like `ip mptcp endpoint add 192.0.2.11 subflow`: the client's path
    // manager opens a second subflow from this address.
    client.add_endpoint(CLIENT2, EndpointFlags::parse("subflow").map_err(std::io::Error::other)?, None);

    let listener: MptcpListener = server.listen(PORT)?;
    let echo = tokio::spawn(async move {
        let (mut stream, peer) = listener.accept().await?;
        println!("server: accepted {peer}");
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).await?;
        }
        stream.shutdown().await?;
        drop(stream);
        server.linger(Duration::from_secs(2)).await;
        Ok::<_, std::io::Error>(())
    });

    let mut stream: MptcpStream = client.connect(SocketAddr::new(SERVER, PORT)).await?;
    println!("client: connected {} -> {}", stream.local_addr()?, stream.peer_addr()?);
    let message: Vec<u8> = b"hello over Multipath TCP! ".iter().copied().cycle().take(256 * 1024).collect();
    let (mut rd, mut wr) = tokio::io::split(&mut stream);
    let send = async {
        wr.write_all(&message).await?;
        wr.shutdown().await
    };
    let mut echoed = Vec::new();
    let (sent, read) = tokio::join!(send, rd.read_to_end(&mut echoed));
    sent?;
    read?;
    assert!(echoed == message, "the echo differs from what was sent");
    println!("client: {} bytes echoed intact: {:?}...", echoed.len(), String::from_utf8_lossy(&echoed[..26]));
    println!("MPTCP: {}", if stream.mptcp_fallback() == Some(None) { "yes" } else { "no (fell back to TCP)" });
    for s in stream.subflow_stats().unwrap_or_default() {
        println!(
            "  subflow {} {} -> {}: sent {} B, received {} B, srtt {} us",
            s.id, s.local, s.remote, s.bytes_sent, s.bytes_received, s.srtt_us
        );
    }
    drop(stream);
    echo.await.map_err(std::io::Error::other)??;
    client.linger(Duration::from_secs(2)).await;
    Ok(())
}
