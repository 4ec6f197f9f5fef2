//! [`TcpStream`]: one connection of the stack, as tokio `AsyncRead` + `AsyncWrite`.

use super::{ConnState, Handle, close_error, io_error, set_waker};
use mptcp_proto::{ConnId, ConnStats};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection of the userspace stack: MPTCP when the stack's
/// configuration enables it (falling back to regular TCP transparently when
/// the peer or a middlebox does not take it), plain TCP otherwise.
///
/// Reads and writes copy straight between the caller's buffer and the
/// stack's buffers. `poll_shutdown` half-closes (a FIN follows the queued
/// data); dropping the stream closes it (with a reset if data was left
/// unread, as the kernel does).
pub struct TcpStream {
    handle: Handle,
    id: ConnId,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    shut: bool,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("id", &self.id)
            .field("local", &self.local)
            .field("remote", &self.remote)
            .finish()
    }
}

impl TcpStream {
    pub(super) fn new(handle: Handle, id: ConnId) -> TcpStream {
        let (local, remote) = {
            let inner = handle.lock();
            (inner.ep.local_addr(id), inner.ep.remote_addr(id))
        };
        TcpStream { handle, id, local, remote, shut: false }
    }

    /// Waits for the handshake.
    pub(super) async fn established(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut inner = self.handle.lock();
            if let Some(e) = inner.dead_error() {
                return Poll::Ready(Err(e));
            }
            let Some(c) = inner.conns.get_mut(&self.id) else {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::NotConnected, "connection gone")));
            };
            if let Some(reason) = c.closed {
                return Poll::Ready(Err(close_error(reason)));
            }
            if c.connected {
                return Poll::Ready(Ok(()));
            }
            set_waker(&mut c.write_waker, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// The connection's id in the endpoint.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.local.ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no local address"))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.remote.ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no peer address"))
    }

    /// The connection's counters and state (RTT, window, retransmissions...).
    pub fn stats(&self) -> Option<ConnStats> {
        self.handle.lock().ep.stats(self.id)
    }

    /// A probe of the bytes written and not yet acknowledged by the peer (at
    /// the data level for MPTCP; None once the connection is gone): a
    /// sender's transfer is over when it reads 0.
    pub fn outstanding_probe(&self) -> impl Fn() -> Option<usize> + Send + Sync + 'static {
        let handle = self.handle.clone();
        let id = self.id;
        move || handle.lock().ep.send_outstanding(id)
    }

    /// Bytes received and not yet read.
    pub fn unread(&self) -> usize {
        self.handle.lock().ep.readable(self.id)
    }

    /// Per-subflow figures, for an MPTCP connection (None for plain TCP).
    pub fn subflow_stats(&self) -> Option<Vec<mptcp_proto::mptcp::SubflowStats>> {
        self.handle.lock().ep.subflow_stats(self.id)
    }

    /// The MPTCP connection's counters (None for plain TCP).
    pub fn mptcp_counters(&self) -> Option<mptcp_proto::mptcp::MptcpCounters> {
        self.handle.lock().ep.mptcp_counters(self.id)
    }

    /// Whether this is an MPTCP connection (`Some`), and if it fell back to
    /// regular TCP, why (`Some(Some(reason))`).
    pub fn mptcp_fallback(&self) -> Option<Option<mptcp_proto::mptcp::Fallback>> {
        self.handle.lock().ep.mptcp_fallback(self.id)
    }

    /// Resets the connection now (an MPTCP connection with MP_FASTCLOSE).
    pub fn abort(&self) {
        self.handle.lock().ep.abort(self.id);
        self.handle.kick();
    }

    fn state_error(c: Option<&ConnState>) -> Option<io::Error> {
        match c {
            None => Some(io::Error::new(io::ErrorKind::NotConnected, "connection gone")),
            Some(c) => c.closed.map(close_error),
        }
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut inner = this.handle.lock();
        if let Some(e) = inner.dead_error() {
            return Poll::Ready(Err(e));
        }
        match inner.ep.read(this.id, buf.initialize_unfilled()) {
            Ok(n) => {
                buf.advance(n);
                drop(inner);
                // Reading opens the window: the driver may owe the peer an update.
                this.handle.kick();
                Poll::Ready(Ok(()))
            }
            Err(mptcp_proto::Error::WouldBlock) => {
                let c = inner.conns.get_mut(&this.id);
                if let Some(e) = Self::state_error(c.as_deref()) {
                    return Poll::Ready(Err(e));
                }
                if let Some(c) = c {
                    set_waker(&mut c.read_waker, cx.waker());
                }
                Poll::Pending
            }
            Err(e) => {
                let closed = inner.conns.get(&this.id).and_then(|c| c.closed);
                match closed {
                    // After a normal close every byte has been read: end of stream.
                    Some(mptcp_proto::CloseReason::Normal) => Poll::Ready(Ok(())),
                    Some(reason) => Poll::Ready(Err(close_error(reason))),
                    None => Poll::Ready(Err(io_error(e))),
                }
            }
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut inner = this.handle.lock();
        if let Some(e) = inner.dead_error() {
            return Poll::Ready(Err(e));
        }
        if let Some(e) = Self::state_error(inner.conns.get(&this.id)) {
            return Poll::Ready(Err(e));
        }
        match inner.ep.write(this.id, data) {
            Ok(0) | Err(mptcp_proto::Error::WouldBlock) => {
                if let Some(c) = inner.conns.get_mut(&this.id) {
                    set_waker(&mut c.write_waker, cx.waker());
                }
                Poll::Pending
            }
            Ok(n) => {
                drop(inner);
                this.handle.kick();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-close: our FIN follows the data already written.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.shut {
            return Poll::Ready(Ok(()));
        }
        let mut inner = this.handle.lock();
        if let Some(e) = inner.dead_error() {
            return Poll::Ready(Err(e));
        }
        let r = inner.ep.shutdown(this.id);
        drop(inner);
        match r {
            Ok(()) => {
                this.shut = true;
                this.handle.kick();
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let mut inner = self.handle.lock();
        inner.ep.close(self.id);
        // Deliver the events of this connection before its id can be reused.
        inner.dispatch_events();
        inner.conns.remove(&self.id);
        inner.closing.insert(self.id);
        drop(inner);
        self.handle.kick();
    }
}

/// Writes `bytes::Bytes` to a connection without copying them (the stack
/// keeps a reference until the peer has acknowledged them), next to the
/// stream's `AsyncWrite` (from [`TcpStream::chunk_writer`]; it may be used
/// while the stream reads).
#[derive(Clone)]
pub struct ChunkWriter {
    handle: Handle,
    id: ConnId,
}

impl std::fmt::Debug for ChunkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkWriter").field("id", &self.id).finish()
    }
}

impl TcpStream {
    /// A zero-copy writer for this connection.
    pub fn chunk_writer(&self) -> ChunkWriter {
        ChunkWriter { handle: self.handle.clone(), id: self.id }
    }
}

impl ChunkWriter {
    /// Queues `data` whole, waiting until the send buffer has room for all
    /// of it; a chunk larger than the whole send buffer is an error
    /// (`InvalidInput`), so keep chunks to a fraction of it.
    pub async fn write(&self, data: bytes::Bytes) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        poll_fn(|cx| {
            let mut inner = self.handle.lock();
            if let Some(e) = inner.dead_error() {
                return Poll::Ready(Err(e));
            }
            if let Some(e) = TcpStream::state_error(inner.conns.get(&self.id)) {
                return Poll::Ready(Err(e));
            }
            if data.len() > inner.ep.config().tcp.send_buffer {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "chunk larger than the send buffer",
                )));
            }
            match inner.ep.write_bytes(self.id, data.clone()) {
                Ok(0) | Err(mptcp_proto::Error::WouldBlock) => {
                    if let Some(c) = inner.conns.get_mut(&self.id) {
                        set_waker(&mut c.write_waker, cx.waker());
                    }
                    Poll::Pending
                }
                Ok(_) => {
                    drop(inner);
                    self.handle.kick();
                    Poll::Ready(Ok(()))
                }
                Err(e) => Poll::Ready(Err(io_error(e))),
            }
        })
        .await
    }
}

/// Reads a connection's bytes in place, next to the stream's `AsyncRead`
/// (from [`TcpStream::chunk_reader`]; it may be used while the stream
/// writes): for a reader that hashes, checks or parses the bytes where the
/// stack holds them, with no copy into a buffer of its own.
#[derive(Clone)]
pub struct ChunkReader {
    handle: Handle,
    id: ConnId,
}

impl std::fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkReader").field("id", &self.id).finish()
    }
}

impl TcpStream {
    /// An in-place reader for this connection.
    pub fn chunk_reader(&self) -> ChunkReader {
        ChunkReader { handle: self.handle.clone(), id: self.id }
    }
}

impl ChunkReader {
    /// Waits for bytes, then shows `f` up to `max` of them (one or two
    /// pieces) and consumes them; returns how many, 0 at the end of the stream.
    pub async fn read_with(&self, max: usize, mut f: impl FnMut(&[u8])) -> io::Result<usize> {
        if max == 0 {
            return Ok(0);
        }
        poll_fn(|cx| {
            let mut inner = self.handle.lock();
            if let Some(e) = inner.dead_error() {
                return Poll::Ready(Err(e));
            }
            match inner.ep.read_with(self.id, max, &mut f) {
                Ok(n) => {
                    drop(inner);
                    // Reading opens the window: the driver may owe the peer an update.
                    self.handle.kick();
                    Poll::Ready(Ok(n))
                }
                Err(mptcp_proto::Error::WouldBlock) => {
                    let c = inner.conns.get_mut(&self.id);
                    if let Some(e) = TcpStream::state_error(c.as_deref()) {
                        return Poll::Ready(Err(e));
                    }
                    if let Some(c) = c {
                        set_waker(&mut c.read_waker, cx.waker());
                    }
                    Poll::Pending
                }
                Err(e) => match inner.conns.get(&self.id).and_then(|c| c.closed) {
                    Some(mptcp_proto::CloseReason::Normal) => Poll::Ready(Ok(0)),
                    Some(reason) => Poll::Ready(Err(close_error(reason))),
                    None => Poll::Ready(Err(io_error(e))),
                },
            }
        })
        .await
    }
}
