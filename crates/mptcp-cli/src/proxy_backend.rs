//! The MPTCP side of `mptcp proxy socks5` and `convert-server` on either
//! backend: `--kernel` (the kernel's MPTCP sockets, the default) or `--tun
//! DEV --addr IP... [--endpoint IP,FLAGS]...` (our userspace stack on a TUN
//! device, with the same flags as `mptcp listen`). The plain TCP side,
//! toward targets and servers, stays on the host's sockets either way.

use crate::net::LINGER;
use crate::proxy::{serve_with_stats, stop_signal};
use crate::stack_args::StackArgs;
use anyhow::Context as _;
use mptcp_proxy::backend::stack::StackListener;
use mptcp_proxy::{Converter, ConverterConfig, Socks5Config, Socks5Server};
use std::net::SocketAddr;
use std::time::Duration;

/// `--kernel`, or the userspace stack's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ProxyBackendArgs {
    /// Use the kernel's MPTCP sockets (the default without --tun).
    #[arg(long, conflicts_with_all = ["tun", "create_tun", "addrs", "mtu", "no_offload"])]
    pub kernel: bool,
    #[command(flatten)]
    pub stack: StackArgs,
}

impl ProxyBackendArgs {
    /// Whether the userspace stack was asked for (any of its flags given;
    /// [`StackArgs::check`] then insists on --tun and an address).
    pub fn on_stack(&self) -> bool {
        let s = &self.stack;
        s.tun.is_some()
            || s.create_tun
            || !s.addrs.is_empty()
            || s.mtu.is_some()
            || s.no_offload
            || s.busy_poll != 0
            || s.cc.is_some()
            || s.sched.is_some()
            || !s.endpoints.is_empty()
            || s.limits.is_some()
            || s.checksum
            || s.deny_join_initial
            || s.syn_backlog.is_some()
            || s.no_syncookies
    }
}

/// How the counters are shown: `--json`, `--stats-interval`.
pub struct Stats {
    pub json: bool,
    pub interval: Option<Duration>,
}

/// Starts the stack and its listener on `listen` (on one thread, as `mptcp
/// listen` does), runs `serve` until SIGINT or SIGTERM, then waits a moment
/// for the last FINs to be acknowledged.
fn on_stack<F>(stack: &StackArgs, mptcp: bool, listen: SocketAddr, serve: F) -> anyhow::Result<()>
where
    F: AsyncFnOnce(StackListener, Vec<SocketAddr>, String) -> anyhow::Result<()>,
{
    stack.check(!mptcp)?;
    crate::net::runtime()?.block_on(async move {
        let (st, desc) = stack.start(mptcp)?;
        let listener = StackListener::bind(&st, listen).with_context(|| format!("listening on {listen}"))?;
        let addrs = listener.addresses(&st);
        let result = serve(listener, addrs, desc).await;
        st.linger(LINGER).await;
        result
    })
}

fn show(addrs: &[SocketAddr]) -> String {
    addrs.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(" ")
}

/// `mptcp proxy socks5 --tun ...`; `what` ends the "listening on" line.
pub fn socks5(stack: &StackArgs, config: Socks5Config, what: String, stats: Stats) -> anyhow::Result<()> {
    let (mptcp, listen) = (config.client_mptcp, config.listen);
    on_stack(stack, mptcp, listen, async move |listener, addrs, desc| {
        let server = Socks5Server::with_listener(listener, mptcp, config);
        let proto = if mptcp { "MPTCP" } else { "TCP" };
        eprintln!("mptcp proxy socks5: listening on {} ({proto}, {desc}), {what}", show(&addrs));
        let counters = server.counters();
        serve_with_stats(move || counters.snapshot(), stats.json, stats.interval, server.run(stop_signal())).await
    })
}

/// `mptcp proxy convert-server --tun ...`; `what` ends the "listening on" line.
pub fn convert_server(stack: &StackArgs, config: ConverterConfig, what: String, stats: Stats) -> anyhow::Result<()> {
    let (mptcp, listen) = (config.client_mptcp, config.listen);
    on_stack(stack, mptcp, listen, async move |listener, addrs, desc| {
        let server = Converter::with_listener(listener, mptcp, config);
        let proto = if mptcp { "MPTCP" } else { "TCP" };
        // Our stack takes no data in the SYN: a client's Fast Open SYN is
        // answered without its data, which the client sends again.
        eprintln!(
            "mptcp proxy convert-server: listening on {} ({proto}, {desc}; Convert message after the handshake), {what}",
            show(&addrs)
        );
        let counters = server.counters();
        serve_with_stats(move || counters.snapshot(), stats.json, stats.interval, server.run(stop_signal())).await
    })
}
