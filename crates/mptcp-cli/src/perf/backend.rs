//! Where perf's connections come from: our userspace stack on a TUN device,
//! or the host kernel's sockets (MPTCP by default).

use crate::net::{BackendArgs, Conn, start_stack};
use anyhow::{Context as _, bail};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A started backend.
pub enum Backend {
    Kernel { proto: mptcp_io::kernel::KernelProto, bind: Option<IpAddr> },
    Stack { stack: mptcp_io::Stack, addrs: Vec<IpAddr> },
}

/// A listener of either backend.
pub enum Listener {
    Kernel(tokio::net::TcpListener),
    Stack(mptcp_io::TcpListener),
}

impl Backend {
    /// Starts the backend the flags ask for (inside the runtime).
    pub fn start(args: &BackendArgs, say: impl Fn(&str)) -> anyhow::Result<Backend> {
        if args.kernel {
            return Ok(Backend::Kernel { proto: args.kernel_proto(), bind: args.addrs.first().copied() });
        }
        args.check_stack()?;
        let (stack, desc) = start_stack(args)?;
        say(&desc);
        Ok(Backend::Stack { stack, addrs: args.stack_addresses() })
    }

    /// "kernel" or "userspace".
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Kernel { .. } => "kernel",
            Backend::Stack { .. } => "userspace",
        }
    }

    /// Opens a connection to `remote`, giving up after `limit`.
    pub async fn connect(&self, remote: SocketAddr, limit: std::time::Duration) -> anyhow::Result<Conn> {
        match self {
            Backend::Kernel { proto, bind } => {
                let fut = mptcp_io::kernel::connect(remote, *bind, *proto);
                Ok(Conn::Kernel(crate::connect::connect_within(limit, remote, fut).await?))
            }
            Backend::Stack { stack, addrs } => {
                let Some(local) = addrs.iter().copied().find(|a| a.is_ipv4() == remote.is_ipv4()) else {
                    bail!("no --addr of {remote}'s family (IPv4 or IPv6) for the stack to connect from");
                };
                let fut = stack.connect_from(local, remote);
                Ok(Conn::Stack(crate::connect::connect_within(limit, remote, fut).await?))
            }
        }
    }

    /// Listens on `port` (the kernel: on the first --addr, or on every address).
    pub fn listen(&self, port: u16) -> anyhow::Result<(Listener, String)> {
        match self {
            Backend::Kernel { proto, bind } => {
                let addr = SocketAddr::new(bind.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), port);
                let l = mptcp_io::kernel::listen(addr, *proto).with_context(|| format!("cannot listen on {addr}"))?;
                Ok((Listener::Kernel(l), addr.to_string()))
            }
            Backend::Stack { stack, addrs } => {
                let l = stack.listen(port).with_context(|| format!("cannot listen on port {port}"))?;
                let shown: Vec<String> = addrs.iter().map(|a| SocketAddr::new(*a, port).to_string()).collect();
                Ok((Listener::Stack(l), shown.join(", ")))
            }
        }
    }

    /// Waits (a little) for the stack's last FINs to be acknowledged.
    pub async fn linger(&self) {
        if let Backend::Stack { stack, .. } = self {
            stack.linger(crate::net::LINGER).await;
        }
    }
}

impl Listener {
    pub async fn accept(&self) -> anyhow::Result<Conn> {
        Ok(match self {
            Listener::Kernel(l) => {
                let (s, _) = l.accept().await.context("accept")?;
                let _ = s.set_nodelay(true);
                Conn::Kernel(s)
            }
            Listener::Stack(l) => Conn::Stack(l.accept().await.context("accept")?.0),
        })
    }
}
