//! Sockets on the kernel's MPTCP: `socket(AF_INET*, SOCK_STREAM,
//! IPPROTO_MPTCP)` through socket2, with plain TCP where the kernel refuses
//! MPTCP (no `CONFIG_MPTCP`, or `net.mptcp.enabled=0`), and a check of
//! whether an established connection really speaks MPTCP (`MPTCP_INFO`).

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// The listen backlog.
const BACKLOG: i32 = 1024;

/// Set once the kernel has refused an MPTCP socket, so the warning is said once.
static MPTCP_REFUSED_WARNED: AtomicBool = AtomicBool::new(false);

/// A stream socket for `addr`'s family: MPTCP when `mptcp` is asked and the
/// kernel gives one, TCP otherwise. The flag says which it is.
pub(crate) fn stream_socket(addr: &SocketAddr, mptcp: bool) -> io::Result<(Socket, bool)> {
    let domain = Domain::for_address(*addr);
    if mptcp {
        match Socket::new(domain, Type::STREAM, Some(Protocol::MPTCP)) {
            Ok(s) => return Ok((s, true)),
            // Out of descriptors or memory is not a refusal of MPTCP.
            Err(e) if !kernel_refuses_mptcp(&e) => return Err(e),
            Err(e) => {
                if !MPTCP_REFUSED_WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!("the kernel refuses MPTCP sockets ({e}); using plain TCP");
                }
            }
        }
    }
    Ok((Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?, false))
}

/// Whether `socket(..., IPPROTO_MPTCP)` failed because the kernel does not
/// give MPTCP (not built, `net.mptcp.enabled=0`, an old kernel).
fn kernel_refuses_mptcp(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EPROTONOSUPPORT | libc::ENOPROTOOPT | libc::EINVAL | libc::EAFNOSUPPORT | libc::EPERM | libc::EACCES
        )
    )
}

/// Listens on `addr`: MPTCP when `mptcp` and the kernel allows it (the flag
/// returned says whether it does). An MPTCP listener also accepts plain TCP
/// clients (the kernel falls back per connection).
pub fn listen(addr: SocketAddr, mptcp: bool) -> io::Result<(TcpListener, bool)> {
    listen_with(addr, mptcp, |_| Ok(()))
}

/// [`listen`] with `configure` called on the socket before it is bound (for
/// options such as `TCP_FASTOPEN` or `IP_TRANSPARENT`).
pub fn listen_with(
    addr: SocketAddr,
    mptcp: bool,
    configure: impl FnOnce(&Socket) -> io::Result<()>,
) -> io::Result<(TcpListener, bool)> {
    let (socket, is_mptcp) = stream_socket(&addr, mptcp)?;
    configure(&socket)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok((TcpListener::from_std(socket.into())?, is_mptcp))
}

/// Connects to `addr`, over MPTCP when `mptcp` (the kernel falls back to TCP
/// by itself when the peer does not take MPTCP). `TCP_NODELAY` is set: the
/// proxy writes what it read, at once.
pub async fn connect(addr: SocketAddr, mptcp: bool) -> io::Result<TcpStream> {
    connect_from(addr, None, mptcp).await
}

/// [`connect`] from `source` when given (see [`bind_source`]).
pub async fn connect_from(addr: SocketAddr, source: Option<IpAddr>, mptcp: bool) -> io::Result<TcpStream> {
    let (socket, _) = stream_socket(&addr, mptcp)?;
    socket.set_nonblocking(true)?;
    if let Some(ip) = source {
        bind_source(&socket, ip)?;
    }
    let socket = TcpSocket::from_std_stream(socket.into());
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `IP_BIND_ADDRESS_NO_PORT` (uapi `linux/in.h`): the port is chosen at
/// connect time, for the whole 4-tuple, so bound sockets do not run out of ports.
const IP_BIND_ADDRESS_NO_PORT: libc::c_int = 24;

/// Binds a socket about to connect to `ip` (any port): the connection's
/// first subflow leaves from that address (policy routing sends it over the
/// link that holds it).
pub fn bind_source(socket: &Socket, ip: IpAddr) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: the descriptor is open for the borrow of `socket`; the value is a c_int.
    // Best effort: without it the port is chosen at bind time.
    let _ = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    socket.bind(&SocketAddr::new(ip, 0).into())
}

/// `SOL_MPTCP` and `MPTCP_INFO` (uapi `linux/mptcp.h`).
const SOL_MPTCP: libc::c_int = 284;
const MPTCP_INFO: libc::c_int = 1;
/// `mptcp_info.mptcpi_flags` (offset 8): the connection fell back to TCP.
const MPTCP_INFO_FLAG_FALLBACK: u32 = 1 << 0;
/// The peer's key was received: MPTCP on the wire.
const MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED: u32 = 1 << 1;

/// Whether an established connection speaks MPTCP on the wire: `MPTCP_INFO`
/// answers (a plain TCP socket, such as the one an MPTCP listener hands out
/// for a TCP client, does not), without the fallback flag, with the peer's
/// key received.
pub fn is_mptcp(stream: &TcpStream) -> bool {
    // The kernel copies at most this much of `struct mptcp_info` (about 80
    // bytes today); the flags are the u32 at offset 8.
    let mut raw = [0u8; 256];
    let mut len = raw.len() as libc::socklen_t;
    // SAFETY: the descriptor stays open for the borrow of `stream`; `raw` is
    // `len` bytes and the kernel writes at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(stream.as_raw_fd(), SOL_MPTCP, MPTCP_INFO, raw.as_mut_ptr().cast::<libc::c_void>(), &mut len)
    };
    if rc != 0 || len < 12 {
        return false;
    }
    let flags = u32::from_ne_bytes([raw[8], raw[9], raw[10], raw[11]]);
    flags & MPTCP_INFO_FLAG_FALLBACK == 0 && flags & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED != 0
}

/// Makes the next close of `stream` send a RST (`SO_LINGER` 0), to carry an
/// abort from one side of the relay to the other.
pub fn reset_on_close(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
}
