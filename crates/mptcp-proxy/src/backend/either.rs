//! A connection the proxy opened on one backend or the other, chosen at
//! run time (the convert client's upstream toward the converter): the
//! kernel's socket or a connection of the userspace stack, as one
//! [`ProxyStream`].

use super::ProxyStream;
use mptcp_io::{MptcpStream, Stack};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A kernel socket or a connection of the userspace stack.
#[derive(Debug)]
pub enum EitherStream {
    /// The kernel's (MPTCP or TCP).
    Kernel(TcpStream),
    /// The userspace stack's.
    Stack(MptcpStream),
}

/// Opens a connection to `to` on the userspace stack, from its first
/// address of `to`'s family.
pub async fn connect_on_stack(stack: &Stack, to: SocketAddr) -> io::Result<EitherStream> {
    let Some(local) = stack.addresses().iter().copied().find(|a| a.is_ipv4() == to.is_ipv4()) else {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("the userspace stack has no address of {to}'s family"),
        ));
    };
    Ok(EitherStream::Stack(stack.connect_from(local, to).await?))
}

impl ProxyStream for EitherStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            EitherStream::Kernel(s) => ProxyStream::local_addr(s),
            EitherStream::Stack(s) => ProxyStream::local_addr(s),
        }
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            EitherStream::Kernel(s) => ProxyStream::peer_addr(s),
            EitherStream::Stack(s) => ProxyStream::peer_addr(s),
        }
    }

    fn speaks_mptcp(&self) -> bool {
        match self {
            EitherStream::Kernel(s) => s.speaks_mptcp(),
            EitherStream::Stack(s) => s.speaks_mptcp(),
        }
    }

    fn syn_data(&self) -> bool {
        match self {
            EitherStream::Kernel(s) => s.syn_data(),
            EitherStream::Stack(s) => s.syn_data(),
        }
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            EitherStream::Kernel(s) => ProxyStream::set_nodelay(s, on),
            EitherStream::Stack(s) => ProxyStream::set_nodelay(s, on),
        }
    }

    fn reset_on_close(&self) {
        match self {
            EitherStream::Kernel(s) => s.reset_on_close(),
            EitherStream::Stack(s) => s.reset_on_close(),
        }
    }
}

impl AsyncRead for EitherStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EitherStream::Kernel(s) => Pin::new(s).poll_read(cx, buf),
            EitherStream::Stack(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for EitherStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            EitherStream::Kernel(s) => Pin::new(s).poll_write(cx, buf),
            EitherStream::Stack(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EitherStream::Kernel(s) => Pin::new(s).poll_flush(cx),
            EitherStream::Stack(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            EitherStream::Kernel(s) => Pin::new(s).poll_shutdown(cx),
            EitherStream::Stack(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
