//! The relay: bytes copied both ways between a client and a target until
//! both directions have ended. A direction that reads EOF shuts the other
//! socket's write side (the half-close is carried through) while the other
//! direction goes on; an error on either ends both, with a RST toward the
//! side that did not fail; nothing moving either way for the idle timeout
//! ends both.

use crate::counters::Counters;
use crate::socket::reset_on_close;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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

/// One direction: copies until EOF (then shuts `to`'s write side) or an error.
async fn pump(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    buf_size: usize,
    moved: &AtomicU64,
    total: &AtomicU64,
    activity: &Activity,
) -> io::Result<()> {
    // The buffer is allocated once the first byte is there: an idle
    // connection holds no buffer.
    from.readable().await?;
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            // The peer sent FIN: send ours the other way, keep the reverse open.
            let _ = to.shutdown().await;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
        Counters::add(total, n as u64);
        activity.touch();
    }
}

/// Relays between `client` and `target`, counting bytes into `counters` as
/// they move.
pub async fn relay(
    client: TcpStream,
    target: TcpStream,
    idle_timeout: Duration,
    buf_size: usize,
    counters: &Arc<Counters>,
) -> RelayOutcome {
    let (mut cr, mut cw) = client.into_split();
    let (mut tr, mut tw) = target.into_split();
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
        reset_on_close(cw.as_ref());
        reset_on_close(tw.as_ref());
    }
    if matches!(end, RelayEnd::Idle) {
        Counters::bump(&counters.idle_timeouts);
    }
    RelayOutcome { up: up.load(Ordering::Relaxed), down: down.load(Ordering::Relaxed), end }
}
