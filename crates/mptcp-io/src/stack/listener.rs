//! [`TcpListener`]: the connections completed on a listening port.

use super::{Handle, TcpStream, set_waker};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

/// A listening port of the stack (on every address it owns).
pub struct TcpListener {
    handle: Handle,
    port: u16,
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener").field("port", &self.port).finish()
    }
}

impl TcpListener {
    pub(super) fn new(handle: Handle, port: u16) -> Self {
        TcpListener { handle, port }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the next connection that completed its handshake; gives it
    /// with the peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let mut inner = self.handle.lock();
        if let Some(e) = inner.dead_error() {
            return Poll::Ready(Err(e));
        }
        let Some(l) = inner.listeners.get_mut(&self.port) else {
            return Poll::Ready(Err(io::Error::other("listener gone")));
        };
        match l.queue.pop_front() {
            Some((id, _local, remote)) => {
                drop(inner);
                Poll::Ready(Ok((TcpStream::new(self.handle.clone(), id), remote)))
            }
            None => {
                set_waker(&mut l.waker, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let mut inner = self.handle.lock();
        inner.ep.unlisten(self.port);
        if let Some(l) = inner.listeners.remove(&self.port) {
            // Completed but never accepted: reset them.
            for (id, _, _) in l.queue {
                inner.ep.abort(id);
                inner.ep.close(id);
                inner.conns.remove(&id);
            }
        }
        drop(inner);
        self.handle.kick();
    }
}
