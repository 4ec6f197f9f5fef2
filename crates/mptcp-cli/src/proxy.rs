//! `mptcp proxy socks5`: the MPTCP SOCKS5 proxy of `mptcp-proxy`, its flags
//! mapped to the library's configuration, its counters printed on exit, on
//! SIGUSR1 and every `--stats-interval`, its access log on stderr or a file.
//! `mptcp proxy convert-server` and `convert-client` (RFC 8803) are in
//! [`crate::proxy_convert`] and share those pieces.

use crate::proxy_backend::{self, ProxyBackendArgs, Stats};
use crate::proxy_convert::{self, ConvertClientArgs, ConvertServerArgs};
use anyhow::{Context, bail};
use mptcp_proxy::log::ACCESS_TARGET;
use mptcp_proxy::rules::Prefix;
use mptcp_proxy::socks5::Credentials;
use mptcp_proxy::{Socks5Config, Socks5Server};
use serde::Serialize;
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Arguments of `mptcp proxy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// A SOCKS5 proxy (RFC 1928: CONNECT, BIND, UDP ASSOCIATE; RFC 1929 username/password) that takes clients
    /// over MPTCP (on the kernel's sockets, or with --tun on our userspace stack) and reaches targets over MPTCP
    /// where they take it (TCP otherwise) with the kernel's sockets.
    #[command(after_help = SOCKS5_AFTER_HELP)]
    Socks5(Socks5Args),
    /// An RFC 8803 Transport Converter: takes MPTCP connections whose first bytes are a Convert message (in the
    /// SYN with TCP Fast Open, or after it), connects to the server its Connect TLV names, answers, then relays.
    #[command(after_help = proxy_convert::SERVER_AFTER_HELP)]
    ConvertServer(ConvertServerArgs),
    /// An RFC 8803 client: takes plain TCP connections (redirected to it, or for one --destination) and carries
    /// each to a converter over MPTCP, its Connect TLV and first bytes in the SYN (TCP Fast Open).
    #[command(after_help = proxy_convert::CLIENT_AFTER_HELP)]
    ConvertClient(ConvertClientArgs),
}

impl Command {
    fn access_log(&self) -> Option<&PathBuf> {
        match self {
            Command::Socks5(a) => a.access_log.as_ref(),
            Command::ConvertServer(a) => a.common.access_log.as_ref(),
            Command::ConvertClient(a) => a.common.access_log.as_ref(),
        }
    }

    fn stats_interval(&self) -> Option<Duration> {
        match self {
            Command::Socks5(a) => a.stats_interval,
            Command::ConvertServer(a) => a.common.stats_interval,
            Command::ConvertClient(a) => a.common.stats_interval,
        }
    }
}

const SOCKS5_AFTER_HELP: &str = "\
Durations are written 10, 10s, 500ms, 5m or 1h.

Counters (connections, replies by code, bytes each way, refusals, auth failures) are printed on stdout when the
proxy stops (SIGINT or SIGTERM), and on stderr on SIGUSR1 and every --stats-interval; one JSON object per print
with --json. The access log has one line per client connection: client, user, command, target, reply, bytes up
and down, duration, how it ended.

The MPTCP side runs on the kernel's sockets (--kernel, the default) or, with --tun DEV --addr IP... [--endpoint
IP,FLAGS]... (the flags of `mptcp listen`), on our userspace stack on a TUN device; targets are reached with the
kernel's sockets either way. On the userspace stack BIND and UDP ASSOCIATE fail (their sockets would be the
kernel's, on an address only the stack owns).

Example: mptcp proxy socks5 --listen 0.0.0.0:1080 --auth alice:s3cret
         mptcp proxy socks5 --listen 10.1.0.2:1080 --tun tun0 --addr 10.1.0.2
         curl -x socks5h://alice:s3cret@PROXY:1080 http://example.com/";

#[derive(Debug, clap::Args)]
struct Socks5Args {
    /// The address clients connect to, IP:PORT (e.g. 0.0.0.0:1080 or [::]:1080).
    #[arg(long, value_name = "IP:PORT")]
    listen: SocketAddr,
    /// An account, USER:PASS (RFC 1929); repeatable. With none, no authentication is asked for.
    #[arg(long = "auth", value_name = "USER:PASS", value_parser = parse_account)]
    auth: Vec<(String, String)>,
    #[command(flatten)]
    backend: ProxyBackendArgs,
    /// Listen with plain TCP instead of MPTCP.
    #[arg(long)]
    no_mptcp: bool,
    /// Reach targets with plain TCP instead of MPTCP.
    #[arg(long)]
    target_tcp: bool,
    /// Connections served at once; a client beyond it is closed at once (and counted).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Time a client has from connect to the end of its request.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    handshake_timeout: Duration,
    /// A relay in which nothing moves either way for this long is closed (also BIND's wait).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Name resolution plus connection attempts to a target; past it the reply is 0x06 (TTL expired).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Refuse destinations in this prefix (ADDR/LEN or ADDR) with reply 0x02; repeatable.
    #[arg(long, value_name = "PREFIX")]
    deny: Vec<Prefix>,
    /// Print the counters on stderr this often.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    stats_interval: Option<Duration>,
    /// Append the access log to FILE instead of stderr.
    #[arg(long, value_name = "FILE")]
    access_log: Option<PathBuf>,
    /// Print the counters as JSON.
    #[arg(long)]
    json: bool,
}

/// `USER:PASS`.
fn parse_account(s: &str) -> Result<(String, String), String> {
    Credentials::parse_account(s)
}

/// `10`, `10s`, `500ms`, `5m`, `1h`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 10s, 500ms, 5m)"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("{s:?}: unknown unit {other:?} (ms, s, m or h)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("{s:?}: a duration must be above zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Installs the subscriber for `mptcp proxy`: the usual stderr log (as
/// `logging::init`) without the access lines, plus the access log (INFO
/// events of `mptcp_proxy::access`) on stderr or in `--access-log FILE`.
pub fn init_logging(verbosity: u8, args: &Args) -> anyhow::Result<()> {
    let fallback = match verbosity {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let base = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => fallback.to_owned(),
    };
    let filter = EnvFilter::try_new(format!("{base},{ACCESS_TARGET}=off"))
        .or_else(|_| EnvFilter::try_new(format!("{fallback},{ACCESS_TARGET}=off")))
        .context("log filter")?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr_layer =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi).with_filter(filter);
    let access_filter = Targets::new().with_target(ACCESS_TARGET, LevelFilter::INFO);
    let access_layer = match args.command.access_log() {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--access-log {}", path.display()))?;
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_filter(access_filter)
                .boxed()
        }
        None => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_filter(access_filter)
            .boxed(),
    };
    let _ = tracing_subscriber::registry().with(stderr_layer).with(access_layer).try_init();
    Ok(())
}

/// Runs `mptcp proxy ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Socks5(a) => socks5(a),
        Command::ConvertServer(a) => proxy_convert::server(a),
        Command::ConvertClient(a) => proxy_convert::client(a),
    }
}

fn socks5(a: Socks5Args) -> anyhow::Result<ExitCode> {
    let mut config = Socks5Config::new(a.listen);
    for (user, pass) in &a.auth {
        config.credentials.add(user.as_str(), pass.as_str());
    }
    config.client_mptcp = !a.no_mptcp;
    config.target_mptcp = !a.target_tcp;
    config.limits.max_connections = usize::try_from(a.max_connections).unwrap_or(usize::MAX);
    config.limits.handshake_timeout = a.handshake_timeout;
    config.limits.idle_timeout = a.idle_timeout;
    config.limits.connect_timeout = a.connect_timeout;
    config.rules.deny = a.deny.clone();
    let what = format!(
        "{}, targets over {}",
        match a.auth.len() {
            0 => "no authentication".to_owned(),
            n => format!("username/password ({n} account{})", if n == 1 { "" } else { "s" }),
        },
        if a.target_tcp { "TCP" } else { "MPTCP where the target takes it" },
    );
    if a.backend.on_stack() {
        let stats = Stats { json: a.json, interval: a.stats_interval };
        proxy_backend::socks5(&a.backend.stack, config, what, stats)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let server = Socks5Server::bind(config).with_context(|| format!("listening on {}", a.listen))?;
        let local = server.local_addr()?;
        if !a.no_mptcp && !server.listens_mptcp() {
            eprintln!("mptcp: warning: the kernel refuses MPTCP sockets (net.mptcp.enabled=0?); listening with TCP");
        }
        eprintln!(
            "mptcp proxy socks5: listening on {local} ({}, kernel), {what}",
            if server.listens_mptcp() { "MPTCP" } else { "TCP" },
        );
        let counters = server.counters();
        serve_with_stats(move || counters.snapshot(), a.json, a.stats_interval, server.run(stop_signal())).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `serve` until it ends, printing `snapshot()` on stderr on SIGUSR1
/// and every `interval`, and on stdout at the end.
pub(crate) async fn serve_with_stats<S: Serialize + Display + Send + 'static>(
    snapshot: impl Fn() -> S + Send + Sync + 'static,
    json: bool,
    interval: Option<Duration>,
    serve: impl Future<Output = std::io::Result<()>>,
) -> anyhow::Result<()> {
    let snapshot = std::sync::Arc::new(snapshot);
    let for_stats = std::sync::Arc::clone(&snapshot);
    let stats = tokio::spawn(async move {
        let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok();
        let mut tick = interval.map(|d| {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            i
        });
        loop {
            tokio::select! {
                Some(()) = async { match usr1.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {}
                _ = async { match tick.as_mut() { Some(t) => t.tick().await, None => std::future::pending().await } } => {}
            }
            eprintln!("{}", render(&for_stats(), json));
        }
    });
    let result = serve.await;
    stats.abort();
    println!("{}", render(&snapshot(), json));
    Ok(result?)
}

/// SIGINT or SIGTERM.
pub(crate) async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The counters as text or one line of JSON.
fn render<S: Serialize + Display>(s: &S, json: bool) -> String {
    if json { serde_json::to_string(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) } else { s.to_string() }
}

/// Fails on flag combinations clap cannot express.
pub fn check(args: &Args) -> anyhow::Result<()> {
    if args.command.stats_interval().is_some_and(|d| d < Duration::from_millis(10)) {
        bail!("--stats-interval must be at least 10ms");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10d").is_err());
    }
}
