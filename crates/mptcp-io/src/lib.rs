//! The tokio runtime for the mptcp-proto stack, over a TUN device.
//!
//! This crate is where the sans-IO core meets a real network: it attaches to a
//! TUN device ([`tun`]), feeds the packets the kernel routes there to the stack
//! with a monotonic clock, sleeps on the stack's timers, writes what the stack
//! sends back into the device, and gives applications tokio-style
//! `TcpStream` / `TcpListener` types. It also wraps the host kernel's own
//! TCP/MPTCP sockets ([`kernel`]) so one tool can run either stack.
//!
//! It contains no protocol logic: every decision is mptcp-proto's.
//!
//! A default [`StackConfig`] speaks MPTCP. `examples/echo_memory.rs` runs a
//! client and a server stack over an in-memory link ([`MemoryDevice`]), no
//! root needed: `cargo run -p mptcp-io --example echo_memory`.

#![warn(missing_docs)]

pub mod device;
pub mod kernel;
pub mod memdev;
pub mod stack;
mod timer;
pub mod tun;

pub use device::{PacketBatch, PacketDevice};
pub use memdev::MemoryDevice;
pub use stack::{ChunkReader, ChunkWriter, Stack, StackConfig, TcpListener, TcpStream};

/// An MPTCP connection of the userspace stack (tokio `AsyncRead` +
/// `AsyncWrite`): the same type as [`TcpStream`], which speaks MPTCP when
/// [`mptcp_proto::mptcp::MptcpConfig::enabled`] is set and falls back to
/// regular TCP without the application noticing.
///
/// It reads and writes like a tokio socket; its MPTCP side shows in
/// [`TcpStream::mptcp_fallback`] and [`TcpStream::subflow_stats`]:
///
/// ```
/// use mptcp_io::{MemoryDevice, MptcpStream, Stack, StackConfig};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (dev_a, dev_b) = MemoryDevice::pair(1500, 256);
/// let a = Stack::new(dev_a, StackConfig { addresses: vec!["192.0.2.1".parse().unwrap()], ..Default::default() });
/// let b = Stack::new(dev_b, StackConfig { addresses: vec!["192.0.2.2".parse().unwrap()], ..Default::default() });
/// let listener = b.listen(7)?;
/// let server = tokio::spawn(async move {
///     let (mut s, _) = listener.accept().await?;
///     let mut word = [0u8; 5];
///     s.read_exact(&mut word).await?;
///     s.write_all(&word).await?; // echo
///     s.shutdown().await
/// });
/// let mut stream: MptcpStream = a.connect("192.0.2.2:7".parse().unwrap()).await?;
/// stream.write_all(b"hello").await?;
/// let mut back = Vec::new();
/// stream.read_to_end(&mut back).await?;
/// assert_eq!(back, b"hello");
/// assert_eq!(stream.mptcp_fallback(), Some(None), "MPTCP, no fallback");
/// assert_eq!(stream.subflow_stats().map(|s| s.len()), Some(1));
/// server.await.unwrap()?;
/// # Ok(())
/// # }
/// ```
pub type MptcpStream = TcpStream;

/// A listener of the userspace stack that accepts MPTCP connections (and
/// plain TCP ones from peers without MPTCP): the same type as [`TcpListener`].
///
/// It listens on a port of every address the stack owns:
///
/// ```no_run
/// use mptcp_io::{MptcpListener, Stack, StackConfig, TunConfig, TunDevice};
///
/// # #[tokio::main]
/// # async fn main() -> std::io::Result<()> {
/// // Needs CAP_NET_ADMIN and a route to 10.0.1.1 into the device.
/// let dev = TunDevice::open(&TunConfig { name: Some("mptcp0".into()), ..Default::default() })?;
/// let stack = Stack::new(dev, StackConfig { addresses: vec!["10.0.1.1".parse().unwrap()], ..Default::default() });
/// let listener: MptcpListener = stack.listen(5201)?;
/// loop {
///     let (stream, peer) = listener.accept().await?;
///     println!("{peer}: MPTCP {}", stream.mptcp_fallback() == Some(None));
/// }
/// # }
/// ```
pub type MptcpListener = TcpListener;
pub use tun::{DeviceCounters, TunConfig, TunDevice};
