//! The data streams of a test: one task per connection, writing blocks (a
//! sender) or reading and counting (a receiver), and answering requests for
//! a snapshot of its figures (the backend's view of the connection: bytes
//! acknowledged, RTT, window, retransmissions, subflows) between two I/Os.
//!
//! A sender's bytes are counted when the peer has acknowledged them where the
//! backend says so (our stack: each subflow's acknowledged bytes; the kernel:
//! `MPTCP_INFO`'s data-level `bytes_acked`, or `tcp_info`'s): bytes a stack
//! has only buffered are not goodput.

use crate::net::Conn;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};

/// One subflow at one moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubflowSnap {
    pub local: String,
    pub remote: String,
    /// Backup subflow (None: the kernel does not say).
    pub backup: Option<bool>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub srtt_us: u64,
    pub cwnd: u64,
    pub retransmits: u64,
}

/// A stream's figures at one moment (cumulative since the connection opened).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snap {
    /// Bytes handed to the connection.
    pub written: u64,
    /// Bytes read from it.
    pub read: u64,
    /// Bytes the peer acknowledged, where the backend says.
    pub acked: Option<u64>,
    /// Segments retransmitted (all subflows), where known.
    pub retransmits: Option<u64>,
    /// Congestion window in bytes (all subflows together).
    pub cwnd: Option<u64>,
    pub rtt_us: Option<u64>,
    pub rttvar_us: Option<u64>,
    pub pmtu: Option<u64>,
    /// Subflows (MPTCP only).
    pub subflows: Vec<SubflowSnap>,
    /// MPTCP connection counters, where known.
    pub mptcp: Option<serde_json::Value>,
}

impl Snap {
    /// What a sender has delivered: acknowledged bytes (never more than written), else written.
    pub fn delivered(&self) -> u64 {
        self.acked.map_or(self.written, |a| a.min(self.written))
    }
}

/// What the backend says of `conn` now.
pub fn snapshot(conn: &Conn, written: u64, read: u64) -> Snap {
    let mut s = Snap { written, read, ..Snap::default() };
    match conn {
        Conn::Stack(st) => {
            if let Some(subs) = st.subflow_stats() {
                s.subflows = subs
                    .iter()
                    .map(|f| SubflowSnap {
                        local: f.local.clone(),
                        remote: f.remote.clone(),
                        backup: Some(f.backup),
                        bytes_sent: f.bytes_sent,
                        bytes_received: f.bytes_received,
                        srtt_us: f.srtt_us,
                        cwnd: f.cwnd,
                        retransmits: f.tcp.retransmits,
                    })
                    .collect();
                s.acked = Some(subs.iter().map(|f| f.tcp.bytes_acked).sum());
                s.retransmits = Some(subs.iter().map(|f| f.tcp.retransmits).sum());
                s.cwnd = Some(subs.iter().map(|f| f.cwnd).sum());
                s.mptcp = st.mptcp_counters().and_then(|c| serde_json::to_value(c).ok());
            }
            if let Some(t) = st.stats() {
                if s.subflows.is_empty() {
                    s.acked = Some(t.bytes_acked);
                    s.retransmits = Some(t.retransmits);
                    s.cwnd = Some(t.cwnd);
                }
                s.rtt_us = Some(t.srtt_us);
                s.rttvar_us = Some(t.rttvar_us);
                s.pmtu = Some(u64::from(t.mss) + 40);
            }
        }
        Conn::Kernel(k) => {
            let info = mptcp_io::kernel::tcp_info(k).ok();
            if let Some(i) = info {
                s.acked = Some(i.bytes_acked);
                s.retransmits = Some(u64::from(i.total_retrans));
                s.cwnd = Some(u64::from(i.cwnd_segments) * u64::from(i.snd_mss));
                s.rtt_us = Some(u64::from(i.srtt_us));
                s.rttvar_us = Some(u64::from(i.rttvar_us));
            }
            if mptcp_io::kernel::is_mptcp(k) {
                if let Ok(m) = mptcp_io::kernel::mptcp_info(k) {
                    if !m.fallback {
                        // Data-level figures: the subflows' would count reinjections twice.
                        s.acked = Some(m.bytes_acked);
                    }
                    s.mptcp = serde_json::to_value(m).ok();
                }
                if let Ok(subs) = mptcp_io::kernel::mptcp_subflows(k) {
                    let show = |a: Option<std::net::SocketAddr>| a.map_or_else(|| "?".to_owned(), |a| a.to_string());
                    s.subflows = subs
                        .iter()
                        .map(|f| SubflowSnap {
                            local: show(f.local),
                            remote: show(f.remote),
                            backup: None,
                            bytes_sent: f.tcp.bytes_acked,
                            bytes_received: f.tcp.bytes_received,
                            srtt_us: u64::from(f.tcp.srtt_us),
                            cwnd: u64::from(f.tcp.cwnd_segments) * u64::from(f.tcp.snd_mss),
                            retransmits: u64::from(f.tcp.total_retrans),
                        })
                        .collect();
                    if !subs.is_empty() {
                        s.retransmits = Some(subs.iter().map(|f| u64::from(f.tcp.total_retrans)).sum());
                        s.cwnd = Some(s.subflows.iter().map(|f| f.cwnd).sum());
                    }
                }
            }
        }
    }
    s
}

/// A shared budget of bytes to send (`-n`), taken block by block.
#[derive(Debug)]
pub struct Budget(AtomicU64);

impl Budget {
    pub fn new(bytes: u64) -> Arc<Budget> {
        Arc::new(Budget(AtomicU64::new(bytes)))
    }

    /// Takes up to `want` bytes; 0 when it is spent.
    fn take(&self, want: u64) -> u64 {
        let mut left = self.0.load(Ordering::Relaxed);
        loop {
            let n = left.min(want);
            if n == 0 {
                return 0;
            }
            match self.0.compare_exchange_weak(left, left - n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return n,
                Err(now) => left = now,
            }
        }
    }
}

/// The running side of a stream: ask it for snapshots, stop it.
pub struct Stream {
    /// iperf3's id.
    pub id: u32,
    /// We send on it (else we receive).
    pub sender: bool,
    ask: mpsc::Sender<oneshot::Sender<Snap>>,
    task: Option<tokio::task::JoinHandle<Snap>>,
    last: Snap,
}

impl Stream {
    /// Starts the stream's task once `go` turns true; it runs until `stop` does.
    pub fn start(
        id: u32,
        sender: bool,
        conn: Conn,
        block: usize,
        budget: Option<Arc<Budget>>,
        go: watch::Receiver<bool>,
        stop: watch::Receiver<bool>,
    ) -> Stream {
        let (ask, asks) = mpsc::channel(4);
        let task = tokio::spawn(run(conn, sender, block, budget, go, stop, asks));
        Stream { id, sender, ask, task: Some(task), last: Snap::default() }
    }

    /// A snapshot now (the last one when the task has ended).
    pub async fn snap(&mut self) -> Snap {
        let (tx, rx) = oneshot::channel();
        if self.ask.send(tx).await.is_ok()
            && let Ok(s) = rx.await
        {
            self.last = s;
        }
        self.last.clone()
    }

    /// Waits for the task (after `stop`) and returns its last snapshot.
    pub async fn finish(&mut self) -> Snap {
        if let Some(t) = self.task.take()
            && let Ok(s) = t.await
        {
            self.last = s;
        }
        self.last.clone()
    }
}

async fn run(
    mut conn: Conn,
    sender: bool,
    block: usize,
    budget: Option<Arc<Budget>>,
    mut go: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
    mut asks: mpsc::Receiver<oneshot::Sender<Snap>>,
) -> Snap {
    let buf_len = if sender { block } else { block.max(128 * 1024) };
    // iperf3 sends a pattern it fills once; any bytes do.
    let mut buf: Vec<u8> = (0..buf_len).map(|i| (i % 251) as u8).collect();
    let (mut written, mut read) = (0u64, 0u64);
    // Bytes taken from the budget (or the next block) and not yet written.
    let mut pending = 0usize;
    let mut open = true;
    let _ = go.wait_for(|g| *g).await;
    loop {
        if sender && open && pending == 0 {
            pending = match &budget {
                Some(b) => b.take(buf_len as u64) as usize,
                None => buf_len,
            };
        }
        let writing = sender && open && pending > 0;
        let reading = !sender && open;
        let step = {
            let io = async {
                if writing {
                    // One write at a time (cancel-safe: a write that did not complete wrote nothing).
                    Step::Wrote(conn.write(&buf[..pending]).await)
                } else if reading {
                    Step::Read(conn.read(&mut buf).await)
                } else {
                    // Nothing left to do but answer snapshots.
                    std::future::pending().await
                }
            };
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => Step::Stop,
                reply = asks.recv() => Step::Ask(reply),
                s = io => s,
            }
        };
        match step {
            Step::Stop => break,
            Step::Ask(Some(reply)) => {
                let _ = reply.send(snapshot(&conn, written, read));
            }
            Step::Ask(None) => break,
            Step::Wrote(Ok(n)) if n > 0 => {
                written += n as u64;
                pending -= n;
            }
            Step::Read(Ok(n)) if n > 0 => read += n as u64,
            Step::Wrote(_) | Step::Read(_) => open = false,
        }
    }
    let last = snapshot(&conn, written, read);
    if sender {
        // What was acknowledged is counted; the rest may go or not, as iperf3's would.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), conn.shutdown()).await;
    } else if open {
        // The test is over, but the peer may still be writing until it
        // hears so on the control connection. Dropping a connection with
        // data arriving resets it (RFC 2525 §2.17), and iperf3's server,
        // its write failing, would abort the results exchange: keep
        // reading, uncounted, until the peer closes (10 s at most).
        tokio::spawn(async move {
            let mut sink = vec![0u8; 64 * 1024];
            let drain = async { while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drain).await;
        });
    }
    last
}

enum Step {
    Stop,
    Ask(Option<oneshot::Sender<Snap>>),
    Wrote(std::io::Result<usize>),
    Read(std::io::Result<usize>),
}
