//! What `listen` and `connect` share: the network flags, the choice of
//! backend (our userspace stack on a TUN device, or the host kernel's
//! sockets), and one connection type over both.

use crate::actions::{Action, At};
use crate::stack_args::StackArgs;
use crate::transfer::{ConnFigures, ModeArgs, MptcpFigures, SubflowFigures};
use anyhow::{Context as _, bail};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How to reach the network: our userspace stack on a TUN device, or the
/// host kernel's sockets. Shared by `listen`, `connect` and `perf`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Use the host kernel's sockets instead of the userspace stack: MPTCP
    /// sockets (IPPROTO_MPTCP), or plain TCP with --no-mptcp.
    #[arg(long, conflicts_with_all = ["tun", "create_tun", "mtu", "no_offload"])]
    pub kernel: bool,
    /// Plain TCP instead of Multipath TCP (MPTCP is the default; it falls
    /// back to TCP by itself when the peer or a middlebox does not take it).
    #[arg(long)]
    pub no_mptcp: bool,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Give up connecting after this many seconds (the default, 127, is
    /// how long the kernel's SYN retries last with net.ipv4.tcp_syn_retries=6).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, default_value = "127")]
    pub connect_timeout: Duration,
}

/// Flags shared by `listen` and `connect`.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    /// At SIZE bytes moved (sent or received, whichever is more), do ACTION:
    /// abort (reset; MP_FASTCLOSE), close (close without reading the rest),
    /// remove=IP (REMOVE_ADDR), backup=IP / nobackup=IP (MP_PRIO). Only abort
    /// and close work with --kernel. Repeatable.
    #[arg(long = "at", value_name = "SIZE:ACTION", value_parser = crate::actions::parse_at)]
    pub at: Vec<At>,
    /// Print the stats as one line of JSON per connection (on stderr when
    /// stdout carries the data).
    #[arg(long)]
    pub json: bool,
    /// Give up with an error after this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
    /// Say more on stderr: the human report in netcat mode too.
    #[arg(short, long)]
    pub verbose: bool,
    /// Say less: no "listening on" / "connected" lines on stderr.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Count what arrives without hashing it (SHA-256 costs about a core at
    /// 15 Gbit/s, which would bound a benchmark); the report's
    /// sha256_received is then empty.
    #[arg(long)]
    pub no_hash: bool,
    #[command(flatten)]
    pub mode: ModeArgs,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("bad duration '{s}': expected seconds, like 30 or 0.5"))?;
    if !(v.is_finite() && v > 0.0 && v < 1e9) {
        return Err(format!("bad duration '{s}': must be positive"));
    }
    Ok(Duration::from_secs_f64(v))
}

impl std::ops::Deref for NetArgs {
    type Target = BackendArgs;
    fn deref(&self) -> &BackendArgs {
        &self.backend
    }
}

impl BackendArgs {
    /// Which kernel protocol `--kernel` uses.
    pub fn kernel_proto(&self) -> mptcp_io::kernel::KernelProto {
        if self.no_mptcp { mptcp_io::kernel::KernelProto::Tcp } else { mptcp_io::kernel::KernelProto::Mptcp }
    }

    /// The protocol's name in reports.
    pub fn protocol_name(&self) -> &'static str {
        if self.no_mptcp { "tcp" } else { "mptcp" }
    }

    /// Checks the flags of the userspace-stack backend.
    pub fn check_stack(&self) -> anyhow::Result<()> {
        self.stack.check(self.no_mptcp)
    }
}

impl std::ops::Deref for BackendArgs {
    type Target = StackArgs;
    fn deref(&self) -> &StackArgs {
        &self.stack
    }
}

impl NetArgs {
    /// Checks the flags of the userspace-stack backend.
    pub fn check_stack(&self) -> anyhow::Result<()> {
        self.backend.check_stack()?;
        for a in &self.at {
            if a.action.needs_stack() && self.no_mptcp {
                bail!("--at {}: an MPTCP signal, but --no-mptcp was given", a.action);
            }
        }
        Ok(())
    }

    /// Checks the flags of the kernel backend.
    pub fn check_kernel(&self) -> anyhow::Result<()> {
        if let Some(a) = self.at.iter().find(|a| a.action.needs_stack()) {
            bail!(
                "--at {} needs the userspace stack; for the kernel use `ip mptcp endpoint` (del, change ... backup)",
                a.action
            );
        }
        Ok(())
    }

    /// Prints a progress line on stderr unless `--quiet`.
    pub fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("mptcp: {line}");
        }
    }
}

/// Builds the tokio runtime the commands run on: one thread, which runs the
/// application's half (the `block_on` future) and the stack's driver task
/// both, so that they share a thread and its caches instead of handing the
/// endpoint's lock back and forth between two cores (the kernel's half of
/// every TUN write runs in our thread anyway). A multi-thread runtime with one
/// worker still ran `block_on` on the main thread: two threads waking each
/// other through a futex for every write and window update.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the tokio runtime")
}

/// Runs `fut` with the `--timeout` deadline, if one was given.
pub async fn with_timeout<T>(
    timeout: Option<Duration>,
    fut: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match timeout {
        None => fut.await,
        Some(d) => match tokio::time::timeout(d, fut).await {
            Ok(r) => r,
            Err(_) => bail!("timed out after {:.1} s (--timeout)", d.as_secs_f64()),
        },
    }
}

/// Opens the TUN device and starts the userspace stack on it (inside the runtime).
pub fn start_stack(net: &BackendArgs) -> anyhow::Result<(mptcp_io::Stack, String)> {
    net.stack.start(!net.no_mptcp)
}

/// How long a command waits, before exiting, for its connections' FINs to be acknowledged.
pub const LINGER: Duration = Duration::from_secs(3);

/// One connection, over either backend.
pub enum Conn {
    /// A kernel socket (TCP or MPTCP).
    Kernel(tokio::net::TcpStream),
    /// A connection of the userspace stack.
    Stack(mptcp_io::TcpStream),
}

impl Conn {
    /// A probe of the bytes written and not yet acknowledged by the peer
    /// (None when it cannot tell: the sender's clock then stops at the
    /// half-close).
    pub fn outstanding_probe(&self) -> Box<dyn Fn() -> Option<usize> + Send + Sync> {
        match self {
            Conn::Kernel(s) => {
                let fd = std::os::fd::AsRawFd::as_raw_fd(s);
                Box::new(move || mptcp_io::kernel::send_outstanding(fd).ok())
            }
            Conn::Stack(s) => Box::new(s.outstanding_probe()),
        }
    }

    /// Our address.
    pub fn local(&self) -> String {
        match self {
            Conn::Kernel(s) => show(s.local_addr()),
            Conn::Stack(s) => show(s.local_addr()),
        }
    }

    /// The peer's.
    pub fn remote(&self) -> String {
        match self {
            Conn::Kernel(s) => show(s.peer_addr()),
            Conn::Stack(s) => show(s.peer_addr()),
        }
    }

    /// What the backend knows of the connection, after the transfer.
    pub fn figures(&self) -> ConnFigures {
        match self {
            Conn::Kernel(s) => match mptcp_io::kernel::tcp_info(s) {
                Ok(info) => ConnFigures {
                    retransmitted_bytes: None,
                    retransmitted_segments: Some(u64::from(info.total_retrans)),
                    srtt_us: Some(u64::from(info.srtt_us)),
                    cwnd_bytes: Some(u64::from(info.cwnd_segments) * u64::from(info.snd_mss)),
                    details: Some(serde_json::json!({
                        "mptcp_socket": mptcp_io::kernel::is_mptcp(s),
                        "rttvar_us": info.rttvar_us,
                        "cwnd_segments": info.cwnd_segments,
                        "snd_mss": info.snd_mss,
                        "bytes_acked": info.bytes_acked,
                        "bytes_received": info.bytes_received,
                    })),
                    mptcp: kernel_mptcp_figures(s),
                },
                Err(_) => ConnFigures::default(),
            },
            Conn::Stack(s) => match s.stats() {
                Some(st) => ConnFigures {
                    retransmitted_bytes: Some(st.retransmitted_bytes),
                    retransmitted_segments: Some(st.retransmits),
                    srtt_us: Some(st.srtt_us),
                    cwnd_bytes: Some(st.cwnd),
                    details: serde_json::to_value(&st).ok(),
                    mptcp: stack_mptcp_figures(s),
                },
                None => ConnFigures::default(),
            },
        }
    }

    /// Carries out an `--at` action that ends the transfer, on the stream.
    async fn finish(self, action: Action) {
        if let (Conn::Stack(st), Action::Close) = (&self, action) {
            // Close with data unread, as asked: reading stopped, so what the
            // peer still sends piles up; wait (a little) for some.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while st.unread() == 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        match (self, action) {
            (Conn::Stack(s), Action::Abort) => s.abort(),
            (Conn::Kernel(s), Action::Abort) => {
                // SO_LINGER 0: close() resets (the kernel's MPTCP sends MP_FASTCLOSE).
                if let Err(e) = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)) {
                    eprintln!("mptcp: warning: cannot set SO_LINGER 0: {e}");
                }
            }
            // Dropped with data unread: the backend resets it.
            _ => {}
        }
    }
}

/// The MPTCP part of the report, for a kernel MPTCP socket (`MPTCP_INFO`:
/// counters, no per-subflow figures).
fn kernel_mptcp_figures(s: &tokio::net::TcpStream) -> Option<MptcpFigures> {
    if !mptcp_io::kernel::is_mptcp(s) {
        return None;
    }
    let info = mptcp_io::kernel::mptcp_info(s).ok()?;
    Some(MptcpFigures {
        // The kernel says that it fell back, not why.
        fallback: info.fallback.then(|| "fallback (the kernel does not say why)".to_owned()),
        counters: serde_json::to_value(info).unwrap_or_default(),
        subflows: Vec::new(),
    })
}

/// The MPTCP part of the report, for a connection of our stack.
fn stack_mptcp_figures(s: &mptcp_io::TcpStream) -> Option<MptcpFigures> {
    let fallback = s.mptcp_fallback()?;
    let counters = s.mptcp_counters().and_then(|c| serde_json::to_value(c).ok()).unwrap_or_default();
    let subflows = s
        .subflow_stats()
        .unwrap_or_default()
        .into_iter()
        .map(|f| SubflowFigures {
            local: f.local,
            remote: f.remote,
            state: format!("{:?}", f.state),
            backup: f.backup,
            join: f.join,
            bytes_sent: f.bytes_sent,
            bytes_received: f.bytes_received,
            srtt_us: f.srtt_us,
            cwnd: f.cwnd,
            retransmitted_bytes: f.retransmitted_bytes,
            challenge_acks: Some(f.tcp.challenge_acks),
            dropped_segments: Some(f.tcp.dropped_segments),
        })
        .collect();
    let fallback = fallback.and_then(|f| serde_json::to_value(f).ok()).and_then(|v| v.as_str().map(str::to_owned));
    Some(MptcpFigures { fallback, counters, subflows })
}

fn show(a: io::Result<SocketAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|_| "?".to_owned())
}

impl crate::transfer::ZeroCopy for Conn {
    fn chunk_writer(&self) -> Option<mptcp_io::ChunkWriter> {
        match self {
            Conn::Kernel(_) => None,
            Conn::Stack(s) => Some(s.chunk_writer()),
        }
    }
    fn chunk_reader(&self) -> Option<mptcp_io::ChunkReader> {
        match self {
            Conn::Kernel(_) => None,
            Conn::Stack(s) => Some(s.chunk_reader()),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Kernel(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Stack(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Kernel(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Stack(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Kernel(s) => Pin::new(s).poll_flush(cx),
            Conn::Stack(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Kernel(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Stack(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Runs the chosen mode over one connection and prints its report.
pub async fn serve(
    conn: Conn,
    role: &'static str,
    backend: &'static str,
    net: &NetArgs,
    stack: Option<&mptcp_io::Stack>,
) -> anyhow::Result<()> {
    let mode = net.mode.mode();
    let ctx = crate::transfer::Context {
        role,
        backend,
        protocol: net.protocol_name(),
        local: conn.local(),
        remote: conn.remote(),
    };
    let what = if role == "server" { "accepted" } else { "connected" };
    net.say(&format!("{what} {} -> {} ({}, {backend})", ctx.local, ctx.remote, ctx.protocol));
    let progress = !net.json && !net.quiet;
    let mut act = |a: Action| {
        net.say(&format!("--at: {a}"));
        match (a, stack) {
            (Action::Remove(ip), Some(st)) => st.remove_address(ip),
            (Action::Backup(ip, b), Some(st)) => st.set_backup(ip, b),
            // Abort and close act on the stream, once the transfer has stopped.
            _ => {}
        }
    };
    let outstanding = conn.outstanding_probe();
    let (conn, transfer) = crate::transfer::run(conn, mode, progress, !net.no_hash, &net.at, &mut act, &*outstanding)
        .await
        .with_context(|| format!("connection {} -> {}", ctx.local, ctx.remote))?;
    let mut report = crate::transfer::Report::new(&ctx, mode, &transfer, conn.figures());
    report.endpoint = stack.and_then(|st| serde_json::to_value(st.endpoint_stats()).ok());
    if let Some(a) = transfer.stopped {
        conn.finish(a).await;
    }
    crate::transfer::print_report(&report, mode, net.json, net.verbose).context("cannot print the report")?;
    Ok(())
}
