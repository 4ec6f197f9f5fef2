//! The client's control connection during the negotiation: one read buffer
//! that every message is parsed from (bytes read past a message stay for
//! the next one, and what follows the request is handed to the target), and
//! one write buffer for the replies, sent only when the proxy must wait for
//! the client or is done negotiating. A client that sends greeting,
//! authentication, request and data in one go gets every reply in one
//! segment, with no round trip waited for.

use crate::backend::ProxyStream;
use crate::socks5::{CodecError, Parsed};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How much is read at a time while negotiating.
const READ_CHUNK: usize = 4096;

/// How long a closed client's late bytes are read and dropped.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Why the next message could not be had.
#[derive(Debug)]
pub enum NextError {
    /// The client closed before the message was whole.
    Eof,
    /// The bytes are not the message.
    Codec(CodecError),
    /// The socket failed.
    Io(io::Error),
}

/// The control connection with its buffers.
pub struct ControlConn<S> {
    stream: S,
    inbuf: Vec<u8>,
    pos: usize,
    outbuf: Vec<u8>,
}

impl<S: ProxyStream> ControlConn<S> {
    /// Wraps an accepted client.
    pub fn new(stream: S) -> ControlConn<S> {
        ControlConn { stream, inbuf: Vec::new(), pos: 0, outbuf: Vec::new() }
    }

    /// The socket.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The next message: parsed from what is buffered, reading more (after
    /// sending the replies queued, which the client may be waiting for) only
    /// while it is short.
    pub async fn next<T>(&mut self, parse: impl Fn(&[u8]) -> Parsed<T>) -> Result<T, NextError> {
        loop {
            match parse(&self.inbuf[self.pos..]) {
                Ok(Some((msg, used))) => {
                    self.pos += used;
                    return Ok(msg);
                }
                Ok(None) => {}
                Err(e) => return Err(NextError::Codec(e)),
            }
            self.flush().await.map_err(NextError::Io)?;
            if self.read_more().await.map_err(NextError::Io)? == 0 {
                return Err(NextError::Eof);
            }
        }
    }

    /// Reads what the client sends into the buffer; 0 at EOF. Cancel-safe:
    /// dropped before it completes, it has read and added nothing.
    pub async fn read_more(&mut self) -> io::Result<usize> {
        if self.pos == self.inbuf.len() {
            self.inbuf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.stream.read(&mut chunk).await?;
        self.inbuf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Queues bytes for the client (a method selection, a status, a reply).
    pub fn queue(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        f(&mut self.outbuf);
    }

    /// Sends what is queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.outbuf.is_empty() {
            self.stream.write_all(&self.outbuf).await?;
            self.outbuf.clear();
        }
        Ok(())
    }

    /// Drops what is buffered from the client.
    pub fn discard(&mut self) {
        self.pos = self.inbuf.len();
    }

    /// Sends what is queued, then the socket and the bytes past the request.
    pub async fn finish(mut self) -> io::Result<(S, Vec<u8>)> {
        self.flush().await?;
        let rest = self.inbuf.split_off(self.pos);
        Ok((self.stream, rest))
    }

    /// Sends what is queued (a failure reply) and closes: FIN, then what the
    /// client still sends is read and dropped for a moment (closing with
    /// unread bytes would send a RST, which can destroy the reply before the
    /// client reads it).
    pub async fn close(mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
        let drain = async {
            let mut sink = [0u8; READ_CHUNK];
            let mut budget = 256 * 1024usize;
            while let Ok(n @ 1..) = self.stream.read(&mut sink).await {
                budget = budget.saturating_sub(n);
                if budget == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    }
}
