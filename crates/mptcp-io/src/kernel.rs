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

/// Bytes written to a kernel socket and not yet acknowledged by the peer
/// (`SIOCOUTQ`; for an MPTCP socket, at the data level; a FIN or DATA_FIN
/// not yet acknowledged counts one).
pub fn send_outstanding(fd: std::os::fd::RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which points at `n`.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &raw mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
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
    Ok(KernelTcpInfo::from(&info))
}

impl From<&libc::tcp_info> for KernelTcpInfo {
    fn from(info: &libc::tcp_info) -> Self {
        KernelTcpInfo {
            srtt_us: info.tcpi_rtt,
            rttvar_us: info.tcpi_rttvar,
            cwnd_segments: info.tcpi_snd_cwnd,
            snd_mss: info.tcpi_snd_mss,
            total_retrans: info.tcpi_total_retrans,
            bytes_acked: info.tcpi_bytes_acked,
            bytes_received: info.tcpi_bytes_received,
        }
    }
}

/// What the kernel says of an MPTCP connection (`MPTCP_INFO`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelMptcpInfo {
    /// Additional subflows in use.
    pub subflows: u8,
    /// Addresses we announced.
    pub add_addr_signal: u8,
    /// The peer's announcements acted upon.
    pub add_addr_accepted: u8,
    /// The limit on additional subflows.
    pub subflows_max: u8,
    /// It fell back to regular TCP.
    pub fallback: bool,
    /// The peer's key is known (the connection is MPTCP on the wire).
    pub remote_key_received: bool,
    /// Our token.
    pub token: u32,
    /// DSS checksums are in use.
    pub csum_enabled: bool,
    /// Data-level retransmissions.
    pub retransmits: u32,
    /// Bytes retransmitted at the data level.
    pub bytes_retrans: u64,
    /// Data-level bytes sent, received and acknowledged.
    pub bytes_sent: u64,
    /// See `bytes_sent`.
    pub bytes_received: u64,
    /// See `bytes_sent`.
    pub bytes_acked: u64,
    /// Subflows open, the initial one included (0 once they have closed).
    pub subflows_total: u8,
}

/// `struct mptcp_info` of the kernel's uapi, as far as we read it (the
/// kernel copies at most what we give room for; the tail is for newer fields).
#[repr(C)]
struct RawMptcpInfo {
    subflows: u8,
    add_addr_signal: u8,
    add_addr_accepted: u8,
    subflows_max: u8,
    add_addr_signal_max: u8,
    add_addr_accepted_max: u8,
    flags: u32,
    token: u32,
    write_seq: u64,
    snd_una: u64,
    rcv_nxt: u64,
    local_addr_used: u8,
    local_addr_max: u8,
    csum_enabled: u8,
    retransmits: u32,
    bytes_retrans: u64,
    bytes_sent: u64,
    bytes_received: u64,
    bytes_acked: u64,
    subflows_total: u8,
    tail: [u8; 64],
}

/// `SOL_MPTCP` and its `MPTCP_INFO` option (uapi `linux/mptcp.h`).
const SOL_MPTCP: libc::c_int = 284;
const MPTCP_INFO: libc::c_int = 1;
const MPTCP_INFO_FLAG_FALLBACK: u32 = 1 << 0;
const MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED: u32 = 1 << 1;

/// Reads `MPTCP_INFO` from a connected MPTCP socket.
pub fn mptcp_info(stream: &TcpStream) -> io::Result<KernelMptcpInfo> {
    // SAFETY: `RawMptcpInfo` is plain integers: all-zero bytes are a valid value.
    let mut raw: RawMptcpInfo = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<RawMptcpInfo>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow of `stream`; `raw` is
    // plain integers, `len` bytes large, and the kernel writes at most that.
    let rc = unsafe {
        libc::getsockopt(stream.as_raw_fd(), SOL_MPTCP, MPTCP_INFO, (&raw mut raw).cast::<libc::c_void>(), &mut len)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(KernelMptcpInfo {
        subflows: raw.subflows,
        add_addr_signal: raw.add_addr_signal,
        add_addr_accepted: raw.add_addr_accepted,
        subflows_max: raw.subflows_max,
        fallback: raw.flags & MPTCP_INFO_FLAG_FALLBACK != 0,
        remote_key_received: raw.flags & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED != 0,
        token: raw.token,
        csum_enabled: raw.csum_enabled != 0,
        retransmits: raw.retransmits,
        bytes_retrans: raw.bytes_retrans,
        bytes_sent: raw.bytes_sent,
        bytes_received: raw.bytes_received,
        bytes_acked: raw.bytes_acked,
        subflows_total: raw.subflows_total,
    })
}

/// One subflow of a kernel MPTCP socket (`MPTCP_TCPINFO` and
/// `MPTCP_SUBFLOW_ADDRS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSubflowInfo {
    /// Our address and port (None when the kernel did not say).
    pub local: Option<SocketAddr>,
    /// The peer's.
    pub remote: Option<SocketAddr>,
    /// The subflow's `tcp_info`.
    pub tcp: KernelTcpInfo,
}

/// `struct mptcp_subflow_data` (uapi `linux/mptcp.h`): the header of the
/// per-subflow getsockopts.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawSubflowData {
    size_subflow_data: u32,
    num_subflows: u32,
    size_kernel: u32,
    size_user: u32,
}

const MPTCP_TCPINFO: libc::c_int = 2;
const MPTCP_SUBFLOW_ADDRS: libc::c_int = 3;
/// The most subflows read (the kernel's own limit is 8 additional ones).
const MAX_SUBFLOWS: usize = 16;

/// Reads one array getsockopt of `T` per subflow; how many the kernel has.
fn subflow_array<T: Copy>(stream: &TcpStream, opt: libc::c_int, zero: T) -> io::Result<Vec<T>> {
    #[repr(C)]
    struct Buf<T> {
        head: RawSubflowData,
        items: [T; MAX_SUBFLOWS],
    }
    let mut buf = Buf {
        head: RawSubflowData {
            size_subflow_data: std::mem::size_of::<RawSubflowData>() as u32,
            num_subflows: 0,
            size_kernel: 0,
            size_user: std::mem::size_of::<T>() as u32,
        },
        items: [zero; MAX_SUBFLOWS],
    };
    let mut len = std::mem::size_of::<Buf<T>>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow of `stream`; `buf` is
    // `len` bytes of plain integers; the kernel writes the header and at most
    // `len` bytes, each item `size_user` bytes apart (the size we gave).
    let rc = unsafe {
        libc::getsockopt(stream.as_raw_fd(), SOL_MPTCP, opt, (&raw mut buf).cast::<libc::c_void>(), &mut len)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let n = (buf.head.num_subflows as usize).min(MAX_SUBFLOWS);
    Ok(buf.items[..n].to_vec())
}

fn sockaddr_of(raw: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(raw.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which is smaller.
            let a: libc::sockaddr_in = unsafe { std::ptr::read((raw as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(IpAddr::from(u32::from_be(a.sin_addr.s_addr).to_be_bytes()), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6, which is smaller.
            let a: libc::sockaddr_in6 = unsafe { std::ptr::read((raw as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::new(IpAddr::from(a.sin6_addr.s6_addr), u16::from_be(a.sin6_port)))
        }
        _ => None,
    }
}

/// Per-subflow figures of a connected kernel MPTCP socket: each subflow's
/// addresses and `tcp_info` (Linux 5.16 and later).
pub fn mptcp_subflows(stream: &TcpStream) -> io::Result<Vec<KernelSubflowInfo>> {
    // SAFETY: `tcp_info` is plain integers: all-zero bytes are a valid value.
    let zero_info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let infos = subflow_array(stream, MPTCP_TCPINFO, zero_info)?;
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Addrs {
        local: libc::sockaddr_storage,
        remote: libc::sockaddr_storage,
    }
    // SAFETY: sockaddr_storage is plain integers: all-zero bytes are valid.
    let zero_addrs: Addrs = unsafe { std::mem::zeroed() };
    let addrs = subflow_array(stream, MPTCP_SUBFLOW_ADDRS, zero_addrs).unwrap_or_default();
    Ok(infos
        .iter()
        .enumerate()
        .map(|(i, info)| KernelSubflowInfo {
            local: addrs.get(i).and_then(|a| sockaddr_of(&a.local)),
            remote: addrs.get(i).and_then(|a| sockaddr_of(&a.remote)),
            tcp: KernelTcpInfo::from(info),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn round_trip(proto: KernelProto) {
        let listener = match listen("127.0.0.1:0".parse().unwrap(), proto) {
            Ok(l) => l,
            // Outside CI a machine without MPTCP skips, loudly; under CI it
            // fails (the test would otherwise pass having checked nothing).
            Err(e) if proto == KernelProto::Mptcp && std::env::var_os("CI").is_none() => {
                eprintln!("SKIP: no kernel MPTCP here ({e}); under CI=true this fails");
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
        // The echo came back after our FIN: everything we sent is acknowledged.
        assert_eq!(send_outstanding(std::os::fd::AsRawFd::as_raw_fd(&c)).unwrap(), 0);
        if proto == KernelProto::Mptcp {
            let m = mptcp_info(&c).unwrap();
            assert!(m.token != 0 && m.remote_key_received && !m.fallback, "{m:?}");
            assert_eq!(m.bytes_sent, 12, "{m:?}");
            assert_eq!(m.bytes_received, 12, "{m:?}");
            // The data-level counters sit after the u8/u32 fields: matching
            // them checks the layout we read.
            assert!(m.bytes_acked == 12 || m.bytes_acked == 13, "the DATA_FIN may count: {m:?}");
        }
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
