//! TCP Fast Open on the kernel's sockets, as RFC 8803 uses it: data in the
//! SYN. The converter's listener takes it (`TCP_FASTOPEN`, and
//! `TCP_FASTOPEN_NO_COOKIE` so that no cookie is needed, RFC 8803 §3.1); the
//! client sends its Convert message with `sendto(MSG_FASTOPEN)`. Both need
//! the right bit of `net.ipv4.tcp_fastopen`: 1 for a client, 2 for a server.
//!
//! A listener without the server bit answers an MPTCP SYN that carries data
//! with a plain TCP SYN+ACK (seen on Linux 6.18): the connection falls back
//! to TCP. The converter therefore insists on the bit.

use socket2::Socket;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where the kernel says whether Fast Open is on.
pub const SYSCTL_PATH: &str = "/proc/sys/net/ipv4/tcp_fastopen";
/// `net.ipv4.tcp_fastopen` bit: a client may send data in its SYN.
pub const CLIENT_BIT: u32 = 1;
/// `net.ipv4.tcp_fastopen` bit: a listener may take data in a SYN.
pub const SERVER_BIT: u32 = 2;

/// `TCP_FASTOPEN_NO_COOKIE` (uapi `linux/tcp.h`); libc does not name it.
const TCP_FASTOPEN_NO_COOKIE: libc::c_int = 34;

/// Which side of Fast Open a program needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends data in the SYN.
    Client,
    /// Takes data in the SYN.
    Server,
}

impl Role {
    fn bit(self) -> u32 {
        match self {
            Role::Client => CLIENT_BIT,
            Role::Server => SERVER_BIT,
        }
    }
}

/// Reads `net.ipv4.tcp_fastopen`.
pub fn read_sysctl() -> io::Result<u32> {
    let text = std::fs::read_to_string(SYSCTL_PATH)?;
    text.trim().parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("{SYSCTL_PATH}: {text:?}")))
}

/// Whether `value` (of `net.ipv4.tcp_fastopen`) has `role`'s bit; when not,
/// a one-line message naming the sysctl and the value to set.
pub fn check(value: u32, role: Role) -> Result<(), String> {
    let bit = role.bit();
    if value & bit != 0 {
        return Ok(());
    }
    let (side, what) = match role {
        Role::Client => ("client", "send the Convert message in the SYN"),
        Role::Server => ("server", "take the Convert message in the SYN"),
    };
    Err(format!(
        "net.ipv4.tcp_fastopen is {value}, which lacks the {side} bit ({bit}) needed to {what}: \
         run `sysctl -w net.ipv4.tcp_fastopen={}`",
        value | bit
    ))
}

fn setsockopt_int(socket: &Socket, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the descriptor is open for the borrow of `socket`; the option
    // value is a c_int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Sets a listener up for data in the SYN: `TCP_FASTOPEN` with a queue of
/// `queue` pending Fast Open requests, and `TCP_FASTOPEN_NO_COOKIE` (the
/// client of RFC 8803 sends no cookie). The second is best-effort: old
/// kernels lack it, and then only clients with a cookie get 0-RTT.
pub fn listener_options(socket: &Socket, queue: i32) -> io::Result<()> {
    setsockopt_int(socket, libc::IPPROTO_TCP, libc::TCP_FASTOPEN, queue)?;
    if let Err(e) = setsockopt_int(socket, libc::IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1) {
        tracing::warn!("TCP_FASTOPEN_NO_COOKIE on the listener: {e}; data in the SYN needs a cookie");
    }
    Ok(())
}

/// Connects to `addr` (MPTCP when `mptcp` and the kernel gives it) with
/// `data` in the SYN (`sendto(MSG_FASTOPEN)`, without a cookie where the
/// kernel allows it), waits for the connection, then sends what the SYN did
/// not carry. Returns the stream and how many bytes went with the SYN call.
pub async fn connect_with_data(addr: SocketAddr, mptcp: bool, data: &[u8]) -> io::Result<(TcpStream, usize)> {
    connect_with_data_from(addr, None, mptcp, data).await
}

/// [`connect_with_data`] from `source` when given (the first subflow's
/// address; the port is left to the kernel).
pub async fn connect_with_data_from(
    addr: SocketAddr,
    source: Option<std::net::IpAddr>,
    mptcp: bool,
    data: &[u8],
) -> io::Result<(TcpStream, usize)> {
    let (socket, _) = crate::socket::stream_socket(&addr, mptcp)?;
    socket.set_nonblocking(true)?;
    if let Some(ip) = source {
        crate::socket::bind_source(&socket, ip)?;
    }
    if let Err(e) = setsockopt_int(&socket, libc::IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1) {
        tracing::debug!("TCP_FASTOPEN_NO_COOKIE: {e}; the first connection asks for a cookie");
    }
    let in_syn = match socket.send_to_with_flags(data, &addr.into(), libc::MSG_FASTOPEN) {
        Ok(n) => n,
        // No cookie yet (or Fast Open off): the SYN went without data.
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => 0,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        // Fast Open is off for clients (no bit 1 in net.ipv4.tcp_fastopen):
        // a plain connect, the data after the handshake.
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => match socket.connect(&addr.into()) {
            Ok(()) => 0,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => 0,
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let std_stream: std::net::TcpStream = socket.into();
    let stream = TcpStream::from_std(std_stream)?;
    // Writable once the handshake is over, or failed.
    stream.writable().await?;
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    // A connection refused shows as an error here, or as a peer address missing.
    stream.peer_addr()?;
    stream.set_nodelay(true)?;
    let mut rest = &data[in_syn..];
    while !rest.is_empty() {
        stream.writable().await?;
        match stream.try_write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok((stream, in_syn))
}

/// [`connect_with_data`] within `timeout` (a `TimedOut` error past it).
pub async fn connect_with_data_timeout(
    addr: SocketAddr,
    source: Option<std::net::IpAddr>,
    mptcp: bool,
    data: &[u8],
    timeout: Duration,
) -> io::Result<(TcpStream, usize)> {
    match tokio::time::timeout(timeout, connect_with_data_from(addr, source, mptcp, data)).await {
        Ok(r) => r,
        Err(_) => {
            Err(io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {addr}: no answer in {timeout:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_names_the_sysctl_and_the_value_to_set() {
        assert!(check(3, Role::Server).is_ok());
        assert!(check(2, Role::Server).is_ok());
        assert!(check(1, Role::Client).is_ok());
        let e = check(1, Role::Server).unwrap_err();
        assert!(e.contains("net.ipv4.tcp_fastopen") && e.contains("tcp_fastopen=3"), "{e}");
        let e = check(0x200, Role::Client).unwrap_err();
        assert!(e.contains("tcp_fastopen=513"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[tokio::test]
    async fn data_goes_to_a_fast_open_listener_and_refusals_are_errors() {
        let (listener, _) =
            crate::socket::listen_with("127.0.0.1:0".parse().unwrap(), false, |s| listener_options(s, 16))
                .expect("listen");
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (mut s, _) = connect_with_data(addr, false, &payload).await.expect("connect");
        tokio::io::AsyncWriteExt::shutdown(&mut s).await.unwrap();
        assert_eq!(accept.await.unwrap(), payload, "every byte arrives, in the SYN or after");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap();
        drop(closed);
        let e = connect_with_data(port, false, b"x").await.expect_err("nothing listens");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    }
}
