//! The two halves of a transfer, over any stream: the test pattern out
//! (by reference on the userspace stack, through `AsyncWrite` elsewhere),
//! what arrives counted and hashed (in place on the userspace stack), and
//! the echo.

use crate::pattern::{CHUNK, PatternCheck, PatternMismatch, hex, pattern_block};
use sha2::{Digest, Sha256};
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What has arrived so far (shared with the `--at` watcher).
pub(crate) struct Received {
    pub(crate) bytes: AtomicU64,
    /// None: counting only (`--no-hash`).
    hash: Option<Mutex<(Sha256, PatternCheck)>>,
}

impl Received {
    pub(crate) fn new(hash: bool) -> Self {
        let check = || PatternCheck { block: pattern_block(), offset: 0, mismatch: None };
        Received { bytes: AtomicU64::new(0), hash: hash.then(|| Mutex::new((Sha256::new(), check()))) }
    }

    pub(crate) fn add(&self, data: &[u8]) {
        if let Some(h) = &self.hash {
            let mut g = h.lock().unwrap_or_else(|e| e.into_inner());
            g.0.update(data);
            g.1.add(data);
        }
        self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
    }

    /// SHA-256 of what arrived, hex; empty when not hashing.
    pub(crate) fn sha256(&self) -> String {
        match &self.hash {
            Some(h) => hex(&h.lock().unwrap_or_else(|e| e.into_inner()).0.clone().finalize()),
            None => String::new(),
        }
    }

    /// Where what arrived left the test pattern, if it did (and was checked).
    pub(crate) fn mismatch(&self) -> Option<PatternMismatch> {
        self.hash.as_ref().and_then(|h| h.lock().unwrap_or_else(|e| e.into_inner()).1.mismatch)
    }
}

/// A stream that can also take the pattern by reference (the userspace
/// stack's zero-copy write); others copy it through `AsyncWrite`.
pub trait ZeroCopy {
    /// A writer of `Bytes` for this stream, if it has one.
    fn chunk_writer(&self) -> Option<mptcp_io::ChunkWriter> {
        None
    }
    /// A reader in place for this stream, if it has one.
    fn chunk_reader(&self) -> Option<mptcp_io::ChunkReader> {
        None
    }
}

impl ZeroCopy for tokio::io::DuplexStream {}

/// The pattern as references to one shared block (the stack copies each
/// byte once, into the device), like an application sending from memory it
/// already holds; the kernel's peer in `scripts/bench.sh` writes from one
/// buffer too.
pub(crate) async fn send_pattern_chunks(
    wr: &mptcp_io::ChunkWriter,
    total: u64,
    sent: &AtomicU64,
    bar: &indicatif::ProgressBar,
) -> io::Result<()> {
    let block = bytes::Bytes::from(pattern_block());
    let mut off = 0u64;
    while off < total {
        let len = (total - off).min(CHUNK as u64) as usize;
        let start = (off % 256) as usize;
        wr.write(block.slice(start..start + len)).await?;
        off += len as u64;
        sent.store(off, Ordering::Relaxed);
        bar.inc(len as u64);
    }
    Ok(())
}

pub(crate) async fn send_pattern<W: AsyncWrite + Unpin>(
    wr: &mut W,
    total: u64,
    sent: &AtomicU64,
    bar: &indicatif::ProgressBar,
) -> io::Result<()> {
    let block = pattern_block();
    let mut off = 0u64;
    while off < total {
        let len = (total - off).min(CHUNK as u64) as usize;
        let start = (off % 256) as usize;
        let n = wr.write(&block[start..start + len]).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "connection closed while sending"));
        }
        off += n as u64;
        sent.store(off, Ordering::Relaxed);
        bar.inc(n as u64);
    }
    Ok(())
}

/// Like [`receive`], counting (and hashing) the bytes where the stack holds
/// them, with no copy into a buffer of ours.
pub(crate) async fn receive_in_place(
    rd: &mptcp_io::ChunkReader,
    got: &Received,
    start: Instant,
    bar: &indicatif::ProgressBar,
) -> io::Result<Duration> {
    loop {
        let n = rd.read_with(256 * 1024, |piece| got.add(piece)).await?;
        if n == 0 {
            break;
        }
        if bar.length().is_none() {
            bar.inc(n as u64);
        }
    }
    Ok(start.elapsed())
}

/// Reads until the end of the stream; returns when that came.
pub(crate) async fn receive<R: AsyncRead + Unpin>(
    rd: &mut R,
    got: &Received,
    to_stdout: bool,
    start: Instant,
    bar: &indicatif::ProgressBar,
) -> io::Result<Duration> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut stdout = tokio::io::stdout();
    loop {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got.add(&buf[..n]);
        if to_stdout {
            stdout.write_all(&buf[..n]).await?;
        } else if bar.length().is_none() {
            bar.inc(n as u64);
        }
    }
    if to_stdout {
        stdout.flush().await?;
    }
    Ok(start.elapsed())
}

/// Sends back what arrives; returns when the peer's end of data came.
pub(crate) async fn echo<R, W>(
    rd: &mut R,
    wr: &mut W,
    got: &Received,
    sent: &AtomicU64,
    start: Instant,
    bar: &indicatif::ProgressBar,
) -> io::Result<Duration>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got.add(&buf[..n]);
        bar.inc(n as u64);
        wr.write_all(&buf[..n]).await?;
        sent.fetch_add(n as u64, Ordering::Relaxed);
    }
    let done = start.elapsed();
    wr.shutdown().await?;
    Ok(done)
}
