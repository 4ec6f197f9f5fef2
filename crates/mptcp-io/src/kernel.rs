//! The host kernel's own sockets, TCP or MPTCP (`IPPROTO_MPTCP`), as a second
//! backend for the same tools: one side of a test can be the Linux stack.
//!
//! The streams are plain [`tokio::net::TcpStream`]s: an MPTCP socket is a
//! stream socket like any other, only its protocol number differs.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// `IPPROTO_MPTCP` (Linux).
pub const IPPROTO_MPTCP: i32 = 262;

/// Which kernel protocol a socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelProto {
    /// Plain TCP.
    Tcp,
    /// Multipath TCP (falls back to TCP when the peer does not speak it).
    Mptcp,
}

fn new_socket(domain: Domain, proto: KernelProto) -> io::Result<Socket> {
    let protocol = match proto {
        KernelProto::Tcp => Protocol::TCP,
        KernelProto::Mptcp => Protocol::from(IPPROTO_MPTCP),
    };
    Socket::new(domain, Type::STREAM, Some(protocol)).map_err(|e| {
        if proto == KernelProto::Mptcp
            && matches!(e.raw_os_error(), Some(libc::EPROTONOSUPPORT) | Some(libc::EINVAL) | Some(libc::ENOPROTOOPT))
        {
            io::Error::new(e.kind(), "the kernel does not offer MPTCP sockets (check sysctl net.mptcp.enabled)")
        } else {
            e
        }
    })
}

/// Opens a connection to `remote`, from `local` when given (port chosen by the kernel).
pub async fn connect(remote: SocketAddr, local: Option<IpAddr>, proto: KernelProto) -> io::Result<TcpStream> {
    let socket = new_socket(Domain::for_address(remote), proto)?;
    socket.set_nonblocking(true)?;
    if let Some(ip) = local {
        socket
            .bind(&SockAddr::from(SocketAddr::new(ip, 0)))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind to {ip}: {e}")))?;
    }
    let socket = TcpSocket::from_std_stream(socket.into());
    socket.set_nodelay(true)?;
    socket.connect(remote).await.map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {remote}: {e}")))
}

/// Listens on `addr`. An unspecified IPv6 address (`[::]`) accepts IPv4 too.
pub fn listen(addr: SocketAddr, proto: KernelProto) -> io::Result<TcpListener> {
    let socket = new_socket(Domain::for_address(addr), proto)?;
    socket.set_reuse_address(true)?;
    if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
        socket.set_only_v6(false)?;
    }
    socket.bind(&SockAddr::from(addr)).map_err(|e| io::Error::new(e.kind(), format!("cannot bind to {addr}: {e}")))?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// Whether the connected socket is an MPTCP socket.
pub fn is_mptcp(stream: &TcpStream) -> bool {
    matches!(socket2::SockRef::from(stream).protocol(), Ok(Some(p)) if p == Protocol::from(IPPROTO_MPTCP))
}

/// What the kernel says of a TCP connection (`TCP_INFO`; for an MPTCP
/// socket, of its first subflow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelTcpInfo {
    /// Smoothed RTT, microseconds.
    pub srtt_us: u32,
    /// RTT variation, microseconds.
    pub rttvar_us: u32,
    /// Congestion window, segments.
    pub cwnd_segments: u32,
    /// Sender MSS, bytes.
    pub snd_mss: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// Bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// Reads `TCP_INFO` from a connected socket.
pub fn tcp_info(stream: &TcpStream) -> io::Result<KernelTcpInfo> {
    // SAFETY: `tcp_info` is plain old data (integers only), so all-zero bytes
    // are a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow of `stream`; the kernel
    // writes at most `len` bytes into `info`, which is that large, and
    // updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(KernelTcpInfo {
        srtt_us: info.tcpi_rtt,
        rttvar_us: info.tcpi_rttvar,
        cwnd_segments: info.tcpi_snd_cwnd,
        snd_mss: info.tcpi_snd_mss,
        total_retrans: info.tcpi_total_retrans,
        bytes_acked: info.tcpi_bytes_acked,
        bytes_received: info.tcpi_bytes_received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn round_trip(proto: KernelProto) {
        let listener = match listen("127.0.0.1:0".parse().unwrap(), proto) {
            Ok(l) => l,
            Err(e) if proto == KernelProto::Mptcp => {
                eprintln!("SKIP: no kernel MPTCP here: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            s.shutdown().await.unwrap();
        });
        let mut c = connect(addr, Some("127.0.0.1".parse().unwrap()), proto).await.unwrap();
        assert_eq!(is_mptcp(&c), proto == KernelProto::Mptcp);
        c.write_all(b"hello kernel").await.unwrap();
        c.shutdown().await.unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello kernel");
        let info = tcp_info(&c).unwrap();
        assert!(info.snd_mss > 0);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn tcp_round_trip() {
        round_trip(KernelProto::Tcp).await;
    }

    #[tokio::test]
    async fn mptcp_round_trip() {
        round_trip(KernelProto::Mptcp).await;
    }
}
