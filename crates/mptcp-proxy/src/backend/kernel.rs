//! The kernel backend: tokio's sockets, MPTCP or TCP as
//! [`crate::socket`] opened them.

use super::{ProxyListener, ProxyStream};
use crate::socket;
use crate::tcpinfo::Negotiated;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};

impl ProxyStream for TcpStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }

    fn speaks_mptcp(&self) -> bool {
        socket::is_mptcp(self)
    }

    fn syn_data(&self) -> bool {
        Negotiated::of(self).is_some_and(Negotiated::syn_data)
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on)
    }

    fn reset_on_close(&self) {
        socket::reset_on_close(self);
    }
}

impl ProxyListener for TcpListener {
    type Stream = TcpStream;

    fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}
