//! `mptcp proxy convert-server` and `mptcp proxy convert-client`: RFC 8803's
//! Transport Converter and its client from `mptcp-proxy`, with the flags,
//! counters and access log of `mptcp proxy socks5`.

use crate::proxy::{parse_duration, serve_with_stats, stop_signal};
use crate::proxy_backend::{self, ProxyBackendArgs, Stats};
use anyhow::{Context, bail};
use mptcp_proxy::convert_client::Destination;
use mptcp_proxy::convert_client::bypass::Bypass;
use mptcp_proxy::convert_client::links::HybridConfig;
use mptcp_proxy::convert_client::policy::Policy;
use mptcp_proxy::converter::cookie::CookieKey;
use mptcp_proxy::tfo::{self, Role};
use mptcp_proxy::{ConvertClient, ConvertClientConfig, Converter, ConverterConfig, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub const SERVER_AFTER_HELP: &str = "\
On the kernel's sockets (--kernel, the default) it needs net.ipv4.tcp_fastopen with the server bit (2) for the
Convert message to come in the SYN, and refuses to start without it. With --tun DEV --addr IP (the flags of
`mptcp listen`) it runs on our userspace stack, which takes no data in the SYN: a Fast Open client's SYN is
answered without its data, which the client sends again after the handshake. Destinations that are loopback, multicast or broadcast addresses are refused with a
Malformed Message error (RFC 8803 §4.2.2) unless --allow-loopback. A failed connection to the server is answered
with an Error TLV: Connection Reset (96) for a RST, Destination Unreachable (97) with the ICMP code for an
unreachable network (0) or host (1) or no answer in time (1), Resource Exceeded (64) or Network Failure (65).

With --require-cookie every Convert message must carry a Cookie TLV: the first 16 bytes of an HMAC-SHA256 of the
client's address under the converter's secret (RFC 8803 §4.2.5, validated as RFC 7413's Fast Open cookies).
convert-client caches the cookie a Missing Cookie error carries and retries with it at once.

Counters (connections, data in SYN, Error TLVs by code, bytes each way) are printed on stdout when it stops
(SIGINT or SIGTERM), and on stderr on SIGUSR1 and every --stats-interval; JSON with --json.

Example: sysctl -w net.ipv4.tcp_fastopen=3; mptcp proxy convert-server --listen 0.0.0.0:5124 --kernel
         mptcp proxy convert-server --listen 10.1.0.2:5124 --tun tun0 --addr 10.1.0.2 --endpoint 10.2.0.2,signal";

pub const CLIENT_AFTER_HELP: &str = "\
Needs net.ipv4.tcp_fastopen with the client bit (1) to put the Convert message in the SYN (not with
--no-syn-data). With --transparent the destination is where the connection was going before an iptables/nftables
REDIRECT (SO_ORIGINAL_DST) or TPROXY (the accepted socket's local address; the listener gets IP_TRANSPARENT). An
Error TLV from the converter resets the client's connection.

Hybrid access (--policy with --fixed DEV --lte DEV): each new connection's first subflow leaves from the fixed line's
address while that link is up (else from LTE's; policy routing by source address must send each address over its
link). The kernel offers no per-socket choice of backup subflows, so the policy is carried out on the in-kernel path
manager's endpoints, which hold for every MPTCP connection of the network namespace: both addresses become `subflow`
endpoints, and the LTE one carries the `backup` flag as the policy says (live connections learn a change by MP_PRIO).
  lte-backup  LTE is a backup subflow while the fixed line is up (the peer sends nothing on it), a regular one while
              the fixed line is down.
  overflow    both are regular subflows: the kernel's scheduler sends on the one that can take data soonest, so the
              fixed line carries what it can and LTE the rest.
Endpoints the client added are removed when it stops. Links are polled every --link-poll; their state, endpoint flag
and bytes (the converter connections' subflows, sampled at each poll: the bytes of a subflow's last poll interval
before it closes can be missed) are in the counters (`links` in --json).
--bypass PORT|IP[/LEN] (repeatable): connections to that port or network go straight to their destination as plain
TCP, without the converter.

Example: mptcp proxy convert-client --listen 127.0.0.1:8080 --converter 192.0.2.1:5124 --destination 198.51.100.7:80";

/// Flags both sides share.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Connections served at once; a client beyond it is closed at once (and counted).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Time for the Convert message (server) or the converter's reply (client) to arrive.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    handshake_timeout: Duration,
    /// A relay in which nothing moves either way for this long is closed.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Time to reach the server (server) or the converter (client).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Print the counters on stderr this often.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) stats_interval: Option<Duration>,
    /// Append the access log to FILE instead of stderr.
    #[arg(long, value_name = "FILE")]
    pub(crate) access_log: Option<PathBuf>,
    /// Print the counters as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

impl CommonArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            handshake_timeout: self.handshake_timeout,
            idle_timeout: self.idle_timeout,
            connect_timeout: self.connect_timeout,
        }
    }
}

/// `mptcp proxy convert-server`.
#[derive(Debug, clap::Args)]
pub struct ConvertServerArgs {
    /// The address clients connect to, IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    listen: SocketAddr,
    /// Listen with plain TCP instead of MPTCP.
    #[arg(long)]
    no_mptcp: bool,
    /// Reach servers with plain TCP (MPTCP only when a Connect asks for kind 30).
    #[arg(long)]
    target_tcp: bool,
    /// Take loopback destinations (refused by RFC 8803; for tests on one host).
    #[arg(long)]
    allow_loopback: bool,
    #[command(flatten)]
    backend: ProxyBackendArgs,
    /// Error TLVs sent per second at most (RFC 8803 asks for a limit); past it a refused client is reset without
    /// one. 0: no limit.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    error_rate: u32,
    /// Require a valid Cookie TLV bound to the client's address (RFC 8803 §4.2.5): without one a client gets
    /// Missing Cookie with its cookie, with a wrong one Not Authorized.
    #[arg(long)]
    require_cookie: bool,
    /// The cookies' secret, 64 hex digits (give every instance behind one load balancer the same); default: random.
    #[arg(long, value_name = "HEX", requires = "require_cookie", value_parser = CookieKey::from_hex)]
    cookie_key: Option<CookieKey>,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// `mptcp proxy convert-client`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("where").required(true).args(["transparent", "destination"])))]
pub struct ConvertClientArgs {
    /// The address plain TCP clients connect to (or are redirected to), IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    listen: SocketAddr,
    /// The converter, IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    converter: SocketAddr,
    /// Send each connection where it was going before a REDIRECT or TPROXY rule sent it here.
    #[arg(long)]
    transparent: bool,
    /// Send every connection to this server, IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    destination: Option<SocketAddr>,
    /// Reach the converter with plain TCP instead of MPTCP.
    #[arg(long)]
    no_mptcp: bool,
    /// Use the kernel's MPTCP sockets (the default, and the only backend of the client so far).
    #[arg(long)]
    kernel: bool,
    /// Send the Convert message right after the handshake instead of in the SYN (one round trip more; on
    /// Linux 6.18 an MPTCP connection opened with data in the SYN is slow once a second subflow joins).
    #[arg(long)]
    no_syn_data: bool,
    /// A hybrid-access policy over --fixed and --lte: lte-backup or overflow (see below).
    #[arg(long, value_name = "POLICY", requires_all = ["fixed", "lte"])]
    policy: Option<Policy>,
    /// The fixed line's interface (with --policy).
    #[arg(long, value_name = "DEV", requires = "policy")]
    fixed: Option<String>,
    /// The LTE link's interface (with --policy).
    #[arg(long, value_name = "DEV", requires = "policy")]
    lte: Option<String>,
    /// How often the links' state and bytes are polled (with --policy).
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    link_poll: Duration,
    /// Connections to this port or IP[/LEN] bypass conversion: plain TCP straight to the destination (repeatable).
    #[arg(long, value_name = "PORT|IP[/LEN]")]
    bypass: Vec<Bypass>,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// Fails, with the sysctl to set, when Fast Open lacks `role`'s bit.
fn check_fastopen(role: Role) -> anyhow::Result<()> {
    let value = tfo::read_sysctl().with_context(|| format!("reading {}", tfo::SYSCTL_PATH))?;
    tfo::check(value, role).map_err(anyhow::Error::msg)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Runs `mptcp proxy convert-server`.
pub fn server(a: ConvertServerArgs) -> anyhow::Result<ExitCode> {
    let mut config = ConverterConfig::new(a.listen);
    config.client_mptcp = !a.no_mptcp;
    config.server_mptcp = !a.target_tcp;
    config.allow_loopback = a.allow_loopback;
    config.error_rate = a.error_rate;
    config.limits = a.common.limits();
    if a.require_cookie {
        config.cookies = Some(match a.cookie_key.clone() {
            Some(k) => k,
            None => CookieKey::random().context("a random cookie key")?,
        });
    }
    let what = format!(
        "servers over {}{}",
        if a.target_tcp { "TCP" } else { "MPTCP where the server takes it" },
        if a.require_cookie { ", cookies required" } else { "" }
    );
    if a.backend.on_stack() {
        let stats = Stats { json: a.common.json, interval: a.common.stats_interval };
        proxy_backend::convert_server(&a.backend.stack, config, what, stats)?;
        return Ok(ExitCode::SUCCESS);
    }
    check_fastopen(Role::Server)?;
    runtime()?.block_on(async move {
        let server = Converter::bind(config).with_context(|| format!("listening on {}", a.listen))?;
        let local = server.local_addr()?;
        if !a.no_mptcp && !server.listens_mptcp() {
            eprintln!("mptcp: warning: the kernel refuses MPTCP sockets (net.mptcp.enabled=0?); listening with TCP");
        }
        eprintln!(
            "mptcp proxy convert-server: listening on {local} ({}, kernel, TCP Fast Open), {what}",
            if server.listens_mptcp() { "MPTCP" } else { "TCP" },
        );
        let counters = server.counters();
        let c = &a.common;
        serve_with_stats(move || counters.snapshot(), c.json, c.stats_interval, server.run(stop_signal())).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `mptcp proxy convert-client`.
pub fn client(a: ConvertClientArgs) -> anyhow::Result<ExitCode> {
    if !a.no_syn_data {
        check_fastopen(Role::Client)?;
    }
    let destination = match (a.transparent, a.destination) {
        (true, None) => Destination::Transparent,
        (false, Some(d)) => Destination::Fixed(d),
        _ => bail!("give either --transparent or --destination IP:PORT"),
    };
    let mut config = ConvertClientConfig::new(a.listen, a.converter, destination);
    config.mptcp = !a.no_mptcp;
    config.syn_data = !a.no_syn_data;
    config.limits = a.common.limits();
    config.bypass = a.bypass.clone();
    if let (Some(policy), Some(fixed), Some(lte)) = (a.policy, &a.fixed, &a.lte) {
        config.hybrid = Some(HybridConfig { policy, fixed: fixed.clone(), lte: lte.clone(), interval: a.link_poll });
    }
    runtime()?.block_on(async move {
        let client = ConvertClient::bind(config).with_context(|| format!("listening on {}", a.listen))?;
        eprintln!(
            "mptcp proxy convert-client: listening on {} (TCP), converter {} over {} (Convert message {}), \
             destination {}",
            client.local_addr()?,
            a.converter,
            if a.no_mptcp { "TCP" } else { "MPTCP" },
            if a.no_syn_data { "after the handshake" } else { "in the SYN" },
            match destination {
                Destination::Transparent => "the original one (REDIRECT or TPROXY)".to_owned(),
                Destination::Fixed(d) => d.to_string(),
            }
        );
        if let (Some(p), Some(f), Some(l)) = (a.policy, &a.fixed, &a.lte) {
            eprintln!("mptcp proxy convert-client: policy {p}, fixed line {f}, LTE {l}");
        }
        if !a.bypass.is_empty() {
            let b: Vec<String> = a.bypass.iter().map(ToString::to_string).collect();
            eprintln!("mptcp proxy convert-client: bypass {}", b.join(", "));
        }
        let counters = client.counters();
        let c = &a.common;
        serve_with_stats(move || counters.snapshot(), c.json, c.stats_interval, client.run(stop_signal())).await
    })?;
    Ok(ExitCode::SUCCESS)
}
