//! The relay: bytes copied both ways between a client and a target until
//! both directions have ended. A direction that reads EOF shuts the other
//! socket's write side (the half-close is carried through) while the other
//! direction goes on; an error on either ends both, with a RST toward the
//! side that did not fail; nothing moving either way for the idle timeout
//! ends both. Written once over [`ProxyStream`]: the kernel's sockets and
//! the userspace stack's connections relay the same way.

use crate::backend::ProxyStream;
use crate::counters::Counters;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::Instant;

/// How a relay ended.
#[derive(Debug)]
pub enum RelayEnd {
    /// Both directions reached EOF.
    Closed,
    /// Nothing moved for the idle timeout.
    Idle,
    /// A read or write failed.
    Error(io::Error),
}

impl RelayEnd {
    /// A word for the access log.
    pub fn describe(&self) -> String {
        match self {
            RelayEnd::Closed => "closed".to_owned(),
            RelayEnd::Idle => "idle-timeout".to_owned(),
            RelayEnd::Error(e) => format!("error: {e}"),
        }
    }
}

/// What a relay moved and how it ended.
#[derive(Debug)]
pub struct RelayOutcome {
    /// Bytes client to target.
    pub up: u64,
    /// Bytes target to client.
    pub down: u64,
    /// How it ended.
    pub end: RelayEnd,
}

/// The last time a byte moved, as milliseconds since the relay started.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Reads what `from` has now, without waiting: 0 when nothing is there
/// (or at EOF, which the next read sees again).
async fn read_ready<R: AsyncRead + Unpin>(from: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut rb = ReadBuf::new(buf);
    std::future::poll_fn(|cx| match Pin::new(&mut *from).poll_read(cx, &mut rb) {
        Poll::Ready(r) => Poll::Ready(r.map(|()| rb.filled().len())),
        Poll::Pending => Poll::Ready(Ok(0)),
    })
    .await
}

/// One direction: copies until EOF (then shuts `to`'s write side) or an error.
async fn pump<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    from: &mut R,
    to: &mut W,
    buf_size: usize,
    moved: &AtomicU64,
    total: &AtomicU64,
    activity: &Activity,
) -> io::Result<()> {
    // The buffer is allocated once the first byte is there (read alone, on
    // its own): an idle connection holds no buffer.
    let mut first = [0u8; 1];
    let mut n = from.read(&mut first).await?;
    let mut buf = Vec::new();
    if n == 1 {
        buf = vec![0u8; buf_size.max(1)];
        buf[0] = first[0];
        n += read_ready(from, &mut buf[1..]).await?;
    }
    loop {
        if n == 0 {
            // The peer sent FIN: send ours the other way, keep the reverse open.
            let _ = to.shutdown().await;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
        Counters::add(total, n as u64);
        activity.touch();
        n = from.read(&mut buf).await?;
    }
}

/// Relays between `client` and `target`, counting bytes into `counters` as
/// they move.
pub async fn relay<C: ProxyStream, T: ProxyStream>(
    client: C,
    target: T,
    idle_timeout: Duration,
    buf_size: usize,
    counters: &Arc<Counters>,
) -> RelayOutcome {
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut tr, mut tw) = tokio::io::split(target);
    let up = AtomicU64::new(0);
    let down = AtomicU64::new(0);
    let activity = Activity { start: Instant::now(), last_ms: AtomicU64::new(0) };
    let both = async {
        tokio::try_join!(
            pump(&mut cr, &mut tw, buf_size, &up, &counters.bytes_up, &activity),
            pump(&mut tr, &mut cw, buf_size, &down, &counters.bytes_down, &activity),
        )
    };
    let idle = async {
        loop {
            let deadline = activity.last() + idle_timeout;
            tokio::time::sleep_until(deadline).await;
            if activity.last() + idle_timeout <= Instant::now() {
                return;
            }
        }
    };
    let end = tokio::select! {
        r = both => match r {
            Ok(_) => RelayEnd::Closed,
            Err(e) => RelayEnd::Error(e),
        },
        () = idle => RelayEnd::Idle,
    };
    if !matches!(end, RelayEnd::Closed) {
        // Abort both sides: whoever is still there learns it by a RST.
        cr.unsplit(cw).reset_on_close();
        tr.unsplit(tw).reset_on_close();
    }
    if matches!(end, RelayEnd::Idle) {
        Counters::bump(&counters.idle_timeouts);
    }
    RelayOutcome { up: up.load(Ordering::Relaxed), down: down.load(Ordering::Relaxed), end }
}
