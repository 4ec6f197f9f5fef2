//! The SOCKS5 server, on either backend ([`crate::backend`]): the accept loop (with the
//! connection limit) and, per client, a session that negotiates
//! ([`session`]) and then serves CONNECT ([`connect`] then the relay), BIND
//! ([`bind`]) or UDP ASSOCIATE ([`udp`]).

mod bind;
mod conn;
mod connect;
mod session;
mod udp;

use crate::backend::ProxyListener;
use crate::config::Socks5Config;
use crate::counters::{Counters, Snapshot};
use crate::limits::Slot;
use crate::socket;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::net::TcpListener;
use tracing::Instrument;

/// What every session shares.
pub(crate) struct Ctx {
    pub(crate) config: Socks5Config,
    pub(crate) counters: Arc<Counters>,
}

/// A SOCKS5 proxy bound to its address, ready to run: on the kernel's
/// sockets (a `TcpListener`, from [`Socks5Server::bind`]) or on another
/// backend's listener ([`Socks5Server::with_listener`]).
pub struct Socks5Server<L = TcpListener> {
    listener: L,
    listens_mptcp: bool,
    ctx: Arc<Ctx>,
}

impl Socks5Server {
    /// Binds the listening socket (MPTCP unless `client_mptcp` is off or the
    /// kernel refuses it, then TCP with a warning).
    pub fn bind(config: Socks5Config) -> io::Result<Socks5Server> {
        let (listener, listens_mptcp) = socket::listen(config.listen, config.client_mptcp)?;
        let ctx = Arc::new(Ctx { config, counters: Arc::new(Counters::default()) });
        Ok(Socks5Server { listener, listens_mptcp, ctx })
    }
}

impl<L: ProxyListener> Socks5Server<L> {
    /// A proxy on `listener` (the userspace stack's, say); `config.listen`
    /// is not used. `listens_mptcp`: whether the listener takes MPTCP.
    pub fn with_listener(listener: L, listens_mptcp: bool, config: Socks5Config) -> Socks5Server<L> {
        let ctx = Arc::new(Ctx { config, counters: Arc::new(Counters::default()) });
        Socks5Server { listener, listens_mptcp, ctx }
    }

    /// The address clients connect to (the port chosen if 0 was asked).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Whether the listening socket is MPTCP.
    pub fn listens_mptcp(&self) -> bool {
        self.listens_mptcp
    }

    /// The live counters (they go on counting while the server runs).
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.ctx.counters)
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        self.ctx.counters.snapshot()
    }

    /// Accepts and serves clients until `shutdown` completes. Sessions in
    /// progress are left to the runtime.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        tokio::pin!(shutdown);
        let next_id = AtomicU64::new(0);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and the like: wait a little instead of spinning.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            Counters::bump(&self.ctx.counters.accepted);
            let Some(slot) = Slot::try_take(&self.ctx.counters, self.ctx.config.limits.max_connections) else {
                Counters::bump(&self.ctx.counters.refused_max_connections);
                tracing::debug!(client = %peer, "refused: max-connections reached");
                drop(stream);
                continue;
            };
            let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let span = tracing::debug_span!("socks5", id, client = %peer);
            tokio::spawn(session::serve(stream, peer, Arc::clone(&self.ctx), slot).instrument(span));
        }
    }
}
