//! Where a redirected connection was going: `SO_ORIGINAL_DST` after an
//! iptables/nftables REDIRECT (or DNAT), or, after a TPROXY, the accepted
//! socket's own local address (the listener has `IP_TRANSPARENT`).

use socket2::Socket;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use tokio::net::TcpStream;

/// `SO_ORIGINAL_DST` and `IP6T_SO_ORIGINAL_DST` (uapi netfilter headers).
const SO_ORIGINAL_DST: libc::c_int = 80;
/// `IP_TRANSPARENT` and `IPV6_TRANSPARENT` (uapi `linux/in.h`, `linux/in6.h`).
const IP_TRANSPARENT: libc::c_int = 19;
const IPV6_TRANSPARENT: libc::c_int = 75;

/// The address conntrack knows as the connection's destination before NAT.
fn original_dst(stream: &TcpStream) -> io::Result<SocketAddr> {
    let local = stream.local_addr()?;
    // SAFETY (both arms): the descriptor stays open for the borrow of
    // `stream`; the buffer is a zeroed sockaddr of the length passed.
    match local {
        SocketAddr::V4(_) => {
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = unsafe {
                libc::getsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_IP,
                    SO_ORIGINAL_DST,
                    (&mut sa as *mut libc::sockaddr_in).cast::<libc::c_void>(),
                    &mut len,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            let ip = Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sa.sin_port))))
        }
        SocketAddr::V6(_) => {
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            let rc = unsafe {
                libc::getsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_IPV6,
                    SO_ORIGINAL_DST,
                    (&mut sa as *mut libc::sockaddr_in6).cast::<libc::c_void>(),
                    &mut len,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            let ip = Ipv6Addr::from(sa.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(ip, u16::from_be(sa.sin6_port), 0, 0)))
        }
    }
}

/// The destination of a connection a firewall sent to the listener on
/// `listen`: `SO_ORIGINAL_DST` where conntrack has it, else the local
/// address (TPROXY). A connection made straight to the listener has no
/// other destination: that is an error (relaying it would loop).
pub fn destination(stream: &TcpStream, listen: SocketAddr) -> io::Result<SocketAddr> {
    let dst = match original_dst(stream) {
        Ok(d) => d,
        Err(_) => stream.local_addr()?,
    };
    let is_listener = dst.port() == listen.port() && (listen.ip().is_unspecified() || dst.ip() == listen.ip());
    if is_listener {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("connection to {dst} was not redirected (no REDIRECT or TPROXY rule sent it here)"),
        ));
    }
    Ok(dst)
}

/// Sets `IP_TRANSPARENT` (or `IPV6_TRANSPARENT`) on a listener so TPROXY can
/// hand it connections to any address (needs `CAP_NET_ADMIN`).
pub fn set_transparent(socket: &Socket, v6: bool) -> io::Result<()> {
    let (level, name) = if v6 { (libc::SOL_IPV6, IPV6_TRANSPARENT) } else { (libc::SOL_IP, IP_TRANSPARENT) };
    let one: libc::c_int = 1;
    // SAFETY: the descriptor is open for the borrow of `socket`; the value is a c_int.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&one as *const libc::c_int).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("IP_TRANSPARENT (TPROXY needs CAP_NET_ADMIN): {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_direct_connection_has_no_other_destination() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = l.local_addr().unwrap();
        let _c = TcpStream::connect(listen).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        let e = destination(&s, listen).expect_err("not redirected");
        assert!(e.to_string().contains("not redirected"), "{e}");
        // Seen from a listener on another port (as after TPROXY), the local address is the destination.
        let other: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(destination(&s, other).unwrap(), listen);
    }
}
