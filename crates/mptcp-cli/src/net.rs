//! What `listen` and `connect` share: the network flags, the choice of
//! backend (our userspace stack on a TUN device, or the host kernel's
//! sockets), and one connection type over both.

use crate::transfer::{ConnFigures, ModeArgs};
use anyhow::{Context as _, bail};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Flags shared by `listen` and `connect`.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    /// Use the host kernel's sockets instead of the userspace stack: MPTCP
    /// sockets (IPPROTO_MPTCP), or plain TCP with --no-mptcp.
    #[arg(long, conflicts_with_all = ["tun", "create_tun", "mtu", "no_offload"])]
    pub kernel: bool,
    /// Plain TCP instead of Multipath TCP. The userspace stack speaks only
    /// plain TCP for now, so it needs this flag.
    #[arg(long)]
    pub no_mptcp: bool,
    /// The TUN device the userspace stack attaches to (make it with
    /// `ip tuntap add dev DEV mode tun`; the kernel must route the stack's
    /// addresses into it).
    #[arg(long, value_name = "DEV")]
    pub tun: Option<String>,
    /// Create the TUN device when it does not exist (it goes away when the
    /// command ends).
    #[arg(long)]
    pub create_tun: bool,
    /// An IP address the userspace stack owns, one the host kernel does not
    /// (repeat for several; the first is the primary). With --kernel, the
    /// local address to bind.
    #[arg(long = "addr", value_name = "IP")]
    pub addrs: Vec<IpAddr>,
    /// MTU of the stack and of the TUN device (default: the device's).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u16).range(576..=65535))]
    pub mtu: Option<u16>,
    /// Turn off the TUN device's offloads (TSO/GSO and checksum offload with
    /// batched reads and coalesced writes): one packet per system call.
    #[arg(long)]
    pub no_offload: bool,
    /// Congestion control of the userspace stack: cubic or reno.
    #[arg(long, value_name = "NAME", value_parser = ["cubic", "reno"])]
    pub cc: Option<String>,
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

impl NetArgs {
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
        if self.tun.is_none() {
            bail!("the userspace stack needs a TUN device: pass --tun DEV (or --kernel for the kernel's sockets)");
        }
        if self.addrs.is_empty() {
            bail!("the userspace stack needs an address to own: pass --addr IP");
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

/// Builds the tokio runtime the commands run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
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
pub fn start_stack(net: &NetArgs) -> anyhow::Result<(mptcp_io::Stack, String)> {
    let tun =
        mptcp_io::TunConfig { name: net.tun.clone(), create: net.create_tun, offload: !net.no_offload, mtu: net.mtu };
    let dev = mptcp_io::TunDevice::open(&tun).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound && !net.create_tun {
            anyhow::anyhow!("{e}, or pass --create-tun")
        } else {
            anyhow::Error::from(e)
        }
    })?;
    for addr in &net.addrs {
        // An address the host kernel owns never reaches the TUN device.
        if std::net::UdpSocket::bind(SocketAddr::new(*addr, 0)).is_ok() {
            eprintln!(
                "mptcp: warning: the host kernel owns {addr}: packets to it stay in the kernel and never reach {}",
                dev.name()
            );
        }
    }
    let desc = format!(
        "userspace stack on {}, MTU {}, offloads {}",
        dev.name(),
        mptcp_io::PacketDevice::mtu(&dev),
        if dev.offload() { "on" } else { "off" }
    );
    let mut config = mptcp_io::StackConfig { addresses: net.addrs.clone(), ..Default::default() };
    // MPTCP unless --no-mptcp: MP_CAPABLE on our SYNs, and accepted on our listeners.
    config.endpoint.mptcp.enabled = !net.no_mptcp;
    if let Some(cc) = &net.cc {
        config.endpoint.tcp.cc = cc.clone();
    }
    Ok((mptcp_io::Stack::new(dev, config), desc))
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
                },
                None => ConnFigures::default(),
            },
        }
    }
}

fn show(a: io::Result<SocketAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|_| "?".to_owned())
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
pub async fn serve(conn: Conn, role: &'static str, backend: &'static str, net: &NetArgs) -> anyhow::Result<()> {
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
    let (conn, transfer) = crate::transfer::run(conn, mode, progress)
        .await
        .with_context(|| format!("connection {} -> {}", ctx.local, ctx.remote))?;
    let report = crate::transfer::Report::new(&ctx, mode, &transfer, conn.figures());
    crate::transfer::print_report(&report, mode, net.json, net.verbose).context("cannot print the report")?;
    Ok(())
}
