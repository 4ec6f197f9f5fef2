//! `mptcp connect HOST:PORT`: open a connection, then move data as the mode says.

use crate::net::{Conn, LINGER, NetArgs, runtime, serve, start_stack, with_timeout};
use anyhow::{Context as _, anyhow, bail};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

/// Arguments of `mptcp connect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server: IPV4:PORT, [IPV6]:PORT or HOSTNAME:PORT.
    #[arg(value_name = "HOST:PORT")]
    target: String,
    #[command(flatten)]
    net: NetArgs,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let net = args.net;
    if net.kernel {
        net.check_kernel()?;
    } else {
        net.check_stack()?;
    }
    let rt = runtime()?;
    rt.block_on(with_timeout(net.timeout, async {
        let remote = resolve(&args.target, net.addrs.first().copied()).await?;
        if net.kernel {
            let stream = connect_within(
                net.connect_timeout,
                remote,
                mptcp_io::kernel::connect(remote, net.addrs.first().copied(), net.kernel_proto()),
            )
            .await?;
            return serve(Conn::Kernel(stream), "client", "kernel", &net, None).await;
        }
        let (stack, desc) = start_stack(&net)?;
        let local = match net.stack_addresses().into_iter().find(|a| a.is_ipv4() == remote.is_ipv4()) {
            Some(ip) => ip,
            None => bail!("no --addr of {remote}'s family (IPv4 or IPv6) for the stack to connect from"),
        };
        net.say(&format!("connecting {local} -> {remote} ({desc})"));
        let stream = connect_within(net.connect_timeout, remote, stack.connect_from(local, remote)).await?;
        let result = serve(Conn::Stack(stream), "client", "userspace", &net, Some(&stack)).await;
        stack.linger(LINGER).await;
        result
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Waits for a connection to `remote` for at most `limit` (`--connect-timeout`).
pub async fn connect_within<T>(
    limit: std::time::Duration,
    remote: SocketAddr,
    fut: impl Future<Output = std::io::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.with_context(|| format!("cannot connect to {remote}")),
        Err(_) => bail!(
            "cannot connect to {remote}: no answer in {:.1} s (--connect-timeout; is the server up, and routed?)",
            limit.as_secs_f64()
        ),
    }
}

/// HOST:PORT to an address, of the family of `local` when several are found.
pub async fn resolve(target: &str, local: Option<IpAddr>) -> anyhow::Result<SocketAddr> {
    if let Ok(addr) = target.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = || anyhow!("bad address '{target}': expected HOST:PORT, like 10.0.0.1:5000 or [fd00::1]:5000");
    let (host, port) = target.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || host.contains(':') {
        return Err(bad());
    }
    let found: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.with_context(|| format!("cannot resolve '{host}'"))?.collect();
    let same_family = found.iter().find(|a| local.is_none_or(|l| l.is_ipv4() == a.is_ipv4()));
    same_family.or(found.first()).copied().ok_or_else(|| anyhow!("'{host}' has no address"))
}
