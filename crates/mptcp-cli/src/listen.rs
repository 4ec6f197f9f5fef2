//! `mptcp listen --port N`: serve one connection (or every one with
//! `--keep-open`), moving data as the mode says.

use crate::net::{Conn, LINGER, NetArgs, runtime, serve, start_stack, with_timeout};
use crate::transfer::Mode;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `mptcp listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TCP port to listen on (on every address the stack owns; with
    /// --kernel, on the first --addr or on all addresses).
    #[arg(long, short)]
    port: u16,
    /// Serve every connection instead of only the first: one after another in
    /// netcat mode, side by side in the other modes.
    #[arg(long, short = 'k')]
    keep_open: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let net = Arc::new(args.net);
    if net.kernel {
        net.check_kernel()?;
    } else {
        net.check_stack()?;
    }
    let rt = runtime()?;
    let (port, keep_open) = (args.port, args.keep_open);
    rt.block_on(with_timeout(net.timeout, async {
        if net.kernel {
            return listen_kernel(port, keep_open, net.clone()).await;
        }
        listen_stack(port, keep_open, net.clone()).await
    }))?;
    Ok(ExitCode::SUCCESS)
}

async fn listen_kernel(port: u16, keep_open: bool, net: Arc<NetArgs>) -> anyhow::Result<()> {
    let ip = net.addrs.first().copied().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let addr = SocketAddr::new(ip, port);
    let listener = mptcp_io::kernel::listen(addr, net.kernel_proto())?;
    net.say(&format!("listening on {addr} ({}, kernel)", net.protocol_name()));
    let concurrent = keep_open && net.mode.mode() != Mode::Netcat;
    loop {
        let (stream, _) = listener.accept().await?;
        let conn = Conn::Kernel(stream);
        if !keep_open {
            return serve(conn, "server", "kernel", &net, None).await;
        }
        if concurrent {
            let net = net.clone();
            tokio::spawn(async move {
                if let Err(e) = serve(conn, "server", "kernel", &net, None).await {
                    eprintln!("mptcp: error: {e:#}");
                }
            });
        } else if let Err(e) = serve(conn, "server", "kernel", &net, None).await {
            eprintln!("mptcp: error: {e:#}");
        }
    }
}

async fn listen_stack(port: u16, keep_open: bool, net: Arc<NetArgs>) -> anyhow::Result<()> {
    let (stack, desc) = start_stack(&net)?;
    let listener = stack.listen(port)?;
    let addrs: Vec<String> = stack.addresses().iter().map(|a| SocketAddr::new(*a, port).to_string()).collect();
    net.say(&format!("listening on {} ({}, {desc})", addrs.join(" "), net.protocol_name()));
    let concurrent = keep_open && net.mode.mode() != Mode::Netcat;
    loop {
        let (stream, _) = listener.accept().await?;
        let conn = Conn::Stack(stream);
        if !keep_open {
            drop(listener);
            let result = serve(conn, "server", "userspace", &net, Some(&stack)).await;
            stack.linger(LINGER).await;
            return result;
        }
        if concurrent {
            let net = net.clone();
            let stack = stack.clone();
            tokio::spawn(async move {
                if let Err(e) = serve(conn, "server", "userspace", &net, Some(&stack)).await {
                    eprintln!("mptcp: error: {e:#}");
                }
            });
        } else if let Err(e) = serve(conn, "server", "userspace", &net, Some(&stack)).await {
            eprintln!("mptcp: error: {e:#}");
        }
    }
}
