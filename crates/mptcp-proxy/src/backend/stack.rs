//! The userspace backend: our MPTCP stack (`mptcp_io`) on a TUN device.
//! A listener of the stack takes a port on every address the stack owns;
//! [`StackListener`] keeps to the one address asked for, unless it is the
//! unspecified address.
//!
//! The stack does not take data in a SYN (no TCP Fast Open): its SYN+ACK
//! acknowledges the SYN alone, so a client that put data in its SYN sends it
//! again after the handshake (RFC 7413 §4.2.2's fallback), and a Convert
//! message comes as the connection's first bytes either way. A Linux 6.18
//! MPTCP client sends those bytes with a DSS (a DATA_ACK only) and no
//! MP_CAPABLE, so the stack falls back to TCP for that connection
//! (`tests/netns/proxy_tun.sh` (c) shows it on the wire).
//!
//! Not done: RFC 8803 §6's SYN+ACK held until the server has answered.
//! The stack's endpoint answers a SYN by itself; holding it would need the
//! endpoint to queue the SYN (its options and, with Fast Open, its data) as
//! a pending connection the listener hands out before any SYN+ACK, plus a
//! way for the application to complete it (send the SYN+ACK, with the data
//! acknowledged) or refuse it (a RST), with the SYN's retransmissions
//! absorbed meanwhile.

use super::{ProxyListener, ProxyStream};
use mptcp_io::{MptcpListener, MptcpStream, Stack};
use std::io;
use std::net::SocketAddr;

impl ProxyStream for MptcpStream {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        MptcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        MptcpStream::peer_addr(self)
    }

    fn speaks_mptcp(&self) -> bool {
        // Some(None): an MPTCP connection that has not fallen back.
        self.mptcp_fallback() == Some(None)
    }

    fn syn_data(&self) -> bool {
        false
    }

    fn set_nodelay(&self, _on: bool) -> io::Result<()> {
        // The stack's Nagle is off unless its configuration turns it on.
        Ok(())
    }

    fn reset_on_close(&self) {
        self.abort();
    }
}

/// A listener of the userspace stack on one address (or, for the
/// unspecified address, on every address the stack owns) and port.
#[derive(Debug)]
pub struct StackListener {
    listener: MptcpListener,
    addr: SocketAddr,
}

impl StackListener {
    /// Listens on `addr`: its port on the stack, its IP one the stack owns
    /// (or unspecified: all of them).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<StackListener> {
        if addr.port() == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the userspace stack needs a listening port"));
        }
        let ip = addr.ip();
        if !ip.is_unspecified() && !stack.addresses().iter().any(|a| a.to_canonical() == ip.to_canonical()) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{ip} is not an address of the userspace stack (give it with --addr, or listen on 0.0.0.0)"),
            ));
        }
        Ok(StackListener { listener: stack.listen(addr.port())?, addr })
    }

    /// The addresses the stack listens on: the one asked for, or each the
    /// stack owns.
    pub fn addresses(&self, stack: &Stack) -> Vec<SocketAddr> {
        if !self.addr.ip().is_unspecified() {
            return vec![self.addr];
        }
        stack.addresses().iter().map(|a| SocketAddr::new(*a, self.addr.port())).collect()
    }

    /// Whether a connection that reached `local` is for this listener.
    fn wanted(&self, local: io::Result<SocketAddr>) -> bool {
        self.addr.ip().is_unspecified() || local.is_ok_and(|l| l.ip().to_canonical() == self.addr.ip().to_canonical())
    }
}

impl ProxyListener for StackListener {
    type Stream = MptcpStream;

    async fn accept(&self) -> io::Result<(MptcpStream, SocketAddr)> {
        loop {
            let (stream, peer) = self.listener.accept().await?;
            if self.wanted(stream.local_addr()) {
                return Ok((stream, peer));
            }
            // Another address of the stack: not ours to serve.
            tracing::debug!(client = %peer, "refused: reached an address the proxy does not listen on");
            stream.abort();
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
