//! The two backends a proxy's MPTCP side runs on, behind one pair of
//! traits: the Linux kernel's MPTCP sockets ([`kernel`]: tokio's
//! `TcpListener` and `TcpStream` on `IPPROTO_MPTCP`) and our userspace
//! stack on a TUN device ([`stack`]: `mptcp_io`'s listener and
//! `MptcpStream`). Sessions, the SOCKS5 negotiation, the Convert exchange
//! and the relay are written once over [`ProxyStream`]; the accept loops
//! over [`ProxyListener`]. The plain-TCP side (toward targets and servers)
//! is always the host kernel's sockets.

pub mod kernel;
pub mod stack;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// One accepted (or opened) connection, on either backend: a byte stream
/// with half-close (`poll_shutdown` sends a FIN after the data written)
/// and what the proxy needs to know of it.
pub trait ProxyStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {
    /// Our address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// The peer's address.
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Whether the connection speaks MPTCP on the wire (not fallen back).
    fn speaks_mptcp(&self) -> bool;
    /// Whether the peer's SYN carried data that was accepted (TCP Fast Open).
    fn syn_data(&self) -> bool;
    /// Sends what is written at once (no Nagle wait).
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// Ends the connection with a reset (MP_FASTCLOSE for MPTCP) instead of
    /// a FIN: at close on the kernel's sockets (`SO_LINGER` 0), at once on
    /// the userspace stack. Used to carry an abort through the relay.
    fn reset_on_close(&self);
}

/// Where a proxy's clients come from, on either backend.
pub trait ProxyListener: Send + Sync + 'static {
    /// The connections it hands out.
    type Stream: ProxyStream;
    /// The next connection and its peer's address.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
    /// The address clients connect to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}
