//! The Transport Converter of RFC 8803, on either backend
//! ([`crate::backend`]): on the kernel's sockets an MPTCP listener with Fast
//! Open (the client's Convert message may come in the SYN), on the
//! userspace stack its listener (the message comes after the handshake), and per client a session ([`session`]) that reads the message,
//! decides ([`request`]), connects to the server, answers (a Convert header
//! with an Extended TCP Header TLV, or an Error TLV from [`failure`]), then
//! relays.
//!
//! The kernel answers a SYN at once, so unlike RFC 8803 §6 the converter's
//! SYN+ACK does not wait for the server's; the Convert reply then comes
//! right after the handshake, once the server's answer is known.

pub mod cookie;
pub mod failure;
pub mod ratelimit;
pub mod request;
mod session;

use crate::backend::ProxyListener;
use crate::convert_counters::{ConvertCounters, ConvertSnapshot};
use crate::counters::Counters;
use crate::limits::{Limits, Slot};
use crate::{socket, tfo};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::net::TcpListener;
use tracing::Instrument;

/// A converter's configuration.
#[derive(Debug, Clone)]
pub struct ConverterConfig {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// Listen with an MPTCP socket (plain TCP if the kernel refuses MPTCP).
    pub client_mptcp: bool,
    /// Reach servers over MPTCP (the kernel falls back to TCP by itself);
    /// off, only a Connect asking for kind 30 gets MPTCP.
    pub server_mptcp: bool,
    /// Connection and time limits (`handshake_timeout`: from accept to a
    /// whole Convert message).
    pub limits: Limits,
    /// Take loopback destinations (RFC 8803 §4.2.2 refuses them; tests on
    /// one machine need them).
    pub allow_loopback: bool,
    /// Error TLVs sent per second at most (as many at once); past it a
    /// refused client is reset without one. 0: no limit.
    pub error_rate: u32,
    /// The Fast Open queue of the listener.
    pub fastopen_queue: i32,
    /// The relay's buffer size per direction.
    pub relay_buffer: usize,
    /// Require a valid Cookie TLV (RFC 8803 §4.2.5) in every Convert
    /// message, bound to the client's address under this secret.
    pub cookies: Option<cookie::CookieKey>,
}

impl ConverterConfig {
    /// MPTCP both ways, default limits.
    pub fn new(listen: SocketAddr) -> ConverterConfig {
        ConverterConfig {
            listen,
            client_mptcp: true,
            server_mptcp: true,
            limits: Limits::default(),
            allow_loopback: false,
            error_rate: 1000,
            fastopen_queue: 1024,
            relay_buffer: crate::config::DEFAULT_RELAY_BUFFER,
            cookies: None,
        }
    }
}

/// What every session shares.
pub(crate) struct Ctx {
    pub(crate) config: ConverterConfig,
    pub(crate) counters: Arc<ConvertCounters>,
    pub(crate) error_limit: ratelimit::RateLimit,
}

/// A converter bound to its address, ready to run: on the kernel's sockets
/// ([`Converter::bind`]) or another backend's listener
/// ([`Converter::with_listener`]).
pub struct Converter<L = TcpListener> {
    listener: L,
    listens_mptcp: bool,
    ctx: Arc<Ctx>,
}

impl Converter {
    /// Binds the listening socket with Fast Open. `net.ipv4.tcp_fastopen`
    /// is not checked here (see [`tfo::check`]): without its server bit the
    /// message simply comes after the handshake.
    pub fn bind(config: ConverterConfig) -> io::Result<Converter> {
        let queue = config.fastopen_queue;
        let (listener, listens_mptcp) =
            socket::listen_with(config.listen, config.client_mptcp, |s| tfo::listener_options(s, queue))?;
        let error_limit = ratelimit::RateLimit::new(config.error_rate);
        let ctx = Arc::new(Ctx { config, counters: Arc::new(ConvertCounters::default()), error_limit });
        Ok(Converter { listener, listens_mptcp, ctx })
    }
}

impl<L: ProxyListener> Converter<L> {
    /// A converter on `listener` (the userspace stack's, say);
    /// `config.listen` and `config.fastopen_queue` are not used.
    pub fn with_listener(listener: L, listens_mptcp: bool, config: ConverterConfig) -> Converter<L> {
        let error_limit = ratelimit::RateLimit::new(config.error_rate);
        let ctx = Arc::new(Ctx { config, counters: Arc::new(ConvertCounters::default()), error_limit });
        Converter { listener, listens_mptcp, ctx }
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Whether the listening socket is MPTCP.
    pub fn listens_mptcp(&self) -> bool {
        self.listens_mptcp
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
                tracing::debug!(client = %peer, "refused: max-connections reached");
                drop(stream);
                continue;
            };
            let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let span = tracing::debug_span!("convert", id, client = %peer);
            tokio::spawn(session::serve(stream, peer, Arc::clone(&self.ctx), slot).instrument(span));
        }
    }
}
