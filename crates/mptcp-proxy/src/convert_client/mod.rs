//! The client side of RFC 8803 on the kernel's sockets: it takes plain TCP
//! connections (redirected to it transparently, or made to it for one fixed
//! destination), and carries each to a converter over MPTCP with a Connect
//! TLV in the SYN (Fast Open, no cookie), along with the first bytes the
//! client sent if they are already there ([`session`]). Optionally with a
//! hybrid-access policy over two links ([`policy`], [`links`]) and classes
//! of traffic that bypass conversion ([`bypass`]).

pub mod bypass;
mod cookies;
pub mod links;
pub mod origdst;
pub mod policy;
mod session;

use crate::convert_counters::{ConvertCounters, ConvertSnapshot};
use crate::counters::Counters;
use crate::limits::{Limits, Slot};
use crate::socket;
use bypass::Bypass;
use links::{Hybrid, HybridConfig};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::net::TcpListener;
use tracing::Instrument;

/// Where a client's connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Where it was going before a REDIRECT or TPROXY rule sent it here.
    Transparent,
    /// Always there.
    Fixed(SocketAddr),
}

/// A Convert client's configuration.
#[derive(Debug, Clone)]
pub struct ConvertClientConfig {
    /// Where the plain TCP clients connect (or are redirected to).
    pub listen: SocketAddr,
    /// The converter.
    pub converter: SocketAddr,
    /// Where clients' connections go.
    pub destination: Destination,
    /// Reach the converter over MPTCP (plain TCP if the kernel refuses it).
    pub mptcp: bool,
    /// Send the Convert message in the SYN (TCP Fast Open, RFC 8803's 0-RTT);
    /// off, it goes right after the handshake, one round trip later. Linux
    /// 6.18 MPTCP connections opened with data in the SYN run far below the
    /// paths' rate once a second subflow joins (`tests/netns/convert_bench.sh`),
    /// so multipath deployments may prefer it off.
    pub syn_data: bool,
    /// Connection and time limits (`connect_timeout`: reaching the
    /// converter; `handshake_timeout`: its Convert reply).
    pub limits: Limits,
    /// The relay's buffer size per direction.
    pub relay_buffer: usize,
    /// Connections to these go straight to their destination as plain TCP.
    pub bypass: Vec<Bypass>,
    /// A hybrid-access policy over two links (none: the routing table and
    /// the path manager's endpoints as they are decide).
    pub hybrid: Option<HybridConfig>,
}

impl ConvertClientConfig {
    /// MPTCP to the converter, default limits.
    pub fn new(listen: SocketAddr, converter: SocketAddr, destination: Destination) -> ConvertClientConfig {
        ConvertClientConfig {
            listen,
            converter,
            destination,
            mptcp: true,
            syn_data: true,
            limits: Limits::default(),
            relay_buffer: crate::config::DEFAULT_RELAY_BUFFER,
            bypass: Vec::new(),
            hybrid: None,
        }
    }
}

/// What every session shares.
pub(crate) struct Ctx {
    pub(crate) config: ConvertClientConfig,
    pub(crate) counters: Arc<ConvertCounters>,
    pub(crate) hybrid: Option<Arc<Hybrid>>,
    pub(crate) cookies: cookies::CookieCache,
}

/// Stops the link poller and removes the endpoints the client added.
/// The counters get the links' last state first.
struct RestoreOnDrop(Arc<Hybrid>, tokio::task::JoinHandle<()>, Arc<ConvertCounters>);

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        self.1.abort();
        if self.0.poll().is_ok() {
            self.2.set_links(self.0.snapshot());
        }
        self.0.restore();
    }
}

/// A Convert client bound to its address, ready to run.
pub struct ConvertClient {
    listener: TcpListener,
    ctx: Arc<Ctx>,
}

impl ConvertClient {
    /// Binds the listening socket (plain TCP; `IP_TRANSPARENT` when
    /// transparent, so that TPROXY can hand it connections), and with a
    /// policy sets up the links' path-manager endpoints.
    pub fn bind(config: ConvertClientConfig) -> io::Result<ConvertClient> {
        let transparent = config.destination == Destination::Transparent;
        let v6 = config.listen.is_ipv6();
        let (listener, _) = socket::listen_with(config.listen, false, |s| {
            if transparent { origdst::set_transparent(s, v6) } else { Ok(()) }
        })?;
        let mut config = config;
        config.listen = listener.local_addr()?;
        let counters = Arc::new(ConvertCounters::default());
        let hybrid = match &config.hybrid {
            Some(h) => {
                let h = Hybrid::start(h.clone(), config.converter)?;
                counters.set_links(h.snapshot());
                Some(h)
            }
            None => None,
        };
        let ctx = Arc::new(Ctx { config, counters, hybrid, cookies: cookies::CookieCache::default() });
        Ok(ConvertClient { listener, ctx })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The live counters.
    pub fn counters(&self) -> Arc<ConvertCounters> {
        Arc::clone(&self.ctx.counters)
    }

    /// The counters now.
    pub fn snapshot(&self) -> ConvertSnapshot {
        self.ctx.counters.snapshot()
    }

    /// Accepts and serves clients until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        tokio::pin!(shutdown);
        let _hybrid = self.ctx.hybrid.clone().map(|h| {
            let poller = tokio::spawn(Arc::clone(&h).run(Arc::clone(&self.ctx.counters)));
            RestoreOnDrop(h, poller, Arc::clone(&self.ctx.counters))
        });
        let next_id = AtomicU64::new(0);
        let base = Arc::clone(&self.ctx.counters.base);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            Counters::bump(&base.accepted);
            let Some(slot) = Slot::try_take(&base, self.ctx.config.limits.max_connections) else {
                Counters::bump(&base.refused_max_connections);
                socket::reset_on_close(&stream);
                drop(stream);
                continue;
            };
            let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let span = tracing::debug_span!("convert-client", id, client = %peer);
            tokio::spawn(session::serve(stream, peer, Arc::clone(&self.ctx), slot).instrument(span));
        }
    }
}
