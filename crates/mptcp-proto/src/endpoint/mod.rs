//! The endpoint: owns the connections of one host, demultiplexes packets by
//! 4-tuple, answers SYNs on listening ports, and resets strays.

use crate::cc::{self, CongestionControl};
use crate::error::Error;
use crate::mptcp::keys::KeyGen;
use crate::mptcp::{MptcpConn, MptcpCounters, SubflowStats};
use crate::sched;
use crate::tcp::conn::{CcCtx, ConnEvent, State, TcpConn};
use crate::tcp::isn::IsnGenerator;
use crate::tcp::segment::Segment;
use crate::tcp::{CloseReason, ConnStats};
use crate::time::Instant;
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::tcp::{Flags, TcpPacket, tcp_checksum};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

mod addresses;
mod admission;
mod config;
mod connect;
mod cookie_ack;
mod input;
mod output;
mod pm;
mod stats;
mod syncookie;

pub use config::{ConnectOptions, EndpointConfig};
pub use stats::EndpointStats;

/// A connection's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// What the endpoint tells the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An active open completed.
    Connected(ConnId),
    /// A connection to a listening port completed its handshake.
    Accepted {
        /// The new connection.
        id: ConnId,
        /// Our address.
        local: SocketAddr,
        /// The peer's.
        remote: SocketAddr,
    },
    /// Data (or the end of the stream) can be read.
    Readable(ConnId),
    /// Send buffer space freed after a short write.
    Writable(ConnId),
    /// The connection is gone; its id stays valid until the application
    /// closes it (to read what is left, and the reason).
    Closed {
        /// Which.
        id: ConnId,
        /// Why.
        reason: CloseReason,
    },
}

/// How to put one packet written by [`Endpoint::poll_transmit_gso`] on a
/// device with offloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Packet length (IP header included).
    pub len: usize,
    /// Cut the TCP payload into segments of this size, each with the same
    /// headers (TSO); 0: the packet is one segment.
    pub gso_size: u16,
    /// The TCP checksum field holds only the pseudo-header sum: the device
    /// completes it.
    pub checksum_partial: bool,
    /// Where the TCP header starts (the IP header's length).
    pub l4_offset: usize,
}

/// A connection: plain TCP, or MPTCP with its subflows.
enum Kind {
    Tcp { conn: Box<TcpConn>, cc: Box<dyn CongestionControl> },
    Mptcp(Box<MptcpConn>),
}

struct Slot {
    kind: Kind,
    /// The application knows this id (it opened it, or was told of it).
    announced: bool,
    passive: bool,
    queued: bool,
    /// Counted in the endpoint's half-open connections (accepted from a SYN,
    /// not yet announced).
    half_open: bool,
}

impl Slot {
    fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        match &mut self.kind {
            Kind::Tcp { conn, .. } => conn.write(data),
            Kind::Mptcp(m) => m.write(data),
        }
    }
    fn write_bytes(&mut self, data: bytes::Bytes) -> Result<usize, Error> {
        match &mut self.kind {
            Kind::Tcp { conn, .. } => {
                let n = data.len();
                if !matches!(conn.state(), State::SynSent | State::SynReceived | State::Established | State::CloseWait)
                {
                    return Err(Error::NotConnected);
                }
                Ok(if conn.write_bytes(data) { n } else { 0 })
            }
            Kind::Mptcp(m) => m.write_bytes(data),
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        match &mut self.kind {
            Kind::Tcp { conn, .. } => conn.read(buf),
            Kind::Mptcp(m) => m.read(buf),
        }
    }
    fn read_with(&mut self, max: usize, f: &mut dyn FnMut(&[u8])) -> Result<usize, Error> {
        match &mut self.kind {
            Kind::Tcp { conn, .. } => conn.read_with(max, f),
            Kind::Mptcp(m) => m.read_with(max, f),
        }
    }
    fn poll_event(&mut self) -> Option<ConnEvent> {
        match &mut self.kind {
            Kind::Tcp { conn, .. } => conn.poll_event(),
            Kind::Mptcp(m) => m.poll_event(),
        }
    }
    fn next_timeout(&self) -> Option<Instant> {
        match &self.kind {
            Kind::Tcp { conn, .. } => conn.next_timeout(),
            Kind::Mptcp(m) => m.next_timeout(),
        }
    }
    fn on_timeout(&mut self, now: Instant) {
        match &mut self.kind {
            Kind::Tcp { conn, cc } => conn.on_timeout(now, &mut CcCtx::plain(&mut **cc)),
            Kind::Mptcp(m) => m.on_timeout(now),
        }
    }
    /// Closed for good, and nobody needs it any more.
    fn finished(&self) -> bool {
        match &self.kind {
            Kind::Tcp { conn, .. } => {
                conn.state() == State::Closed && (conn.app_closed() || !self.announced) && !conn.wants_transmit()
            }
            Kind::Mptcp(m) => m.closed().is_some() && (m.app_closed() || !self.announced) && !m.wants_transmit(),
        }
    }
    fn local(&self) -> SocketAddr {
        match &self.kind {
            Kind::Tcp { conn, .. } => conn.local(),
            Kind::Mptcp(m) => m.tuples().next().map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |t| t.1),
        }
    }
    fn remote(&self) -> SocketAddr {
        match &self.kind {
            Kind::Tcp { conn, .. } => conn.remote(),
            Kind::Mptcp(m) => m.tuples().next().map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |t| t.2),
        }
    }
    fn tuples(&self) -> Vec<(SocketAddr, SocketAddr)> {
        match &self.kind {
            Kind::Tcp { conn, .. } => vec![(conn.local(), conn.remote())],
            Kind::Mptcp(m) => m.tuples().map(|(_, l, r)| (l, r)).collect(),
        }
    }
}

/// Whether a SYN's options hold MP_CAPABLE, and the token of an MP_JOIN.
fn syn_mptcp(raw: &[u8]) -> (bool, Option<u32>) {
    use mptcp_wire::mptcp::{MpJoin, MptcpOption};
    use mptcp_wire::tcp::{TcpOption, TcpOptionIter};
    let mut mpc = false;
    let mut join = None;
    for o in TcpOptionIter::new(raw).flatten() {
        match o {
            TcpOption::Mptcp(MptcpOption::MpCapable(m)) => mpc = m.flags_acceptable() && m.version >= 1,
            TcpOption::Mptcp(MptcpOption::MpJoin(MpJoin::Syn { token, .. })) => join = Some(token),
            _ => {}
        }
    }
    (mpc, join)
}

/// A RST to a segment that matched no connection (RFC 9293 §3.10.7.1), or
/// to a refused MP_JOIN SYN.
#[derive(Debug, Clone, Copy)]
struct Reset {
    local: SocketAddr,
    remote: SocketAddr,
    seq: u32,
    ack: Option<u32>,
    /// MP_TCPRST reason to carry (RFC 8684 §3.6), for refused joins.
    mptcp_reason: Option<u8>,
}

/// One host's TCP: the sans-IO entry point.
///
/// Call discipline: after `handle`, `handle_timeout` or any call on a
/// connection (`write`, `read`, `close`...), drain `poll_transmit` until it
/// returns None and `poll_event` likewise; then sleep until `poll_timeout`.
pub struct Endpoint {
    cfg: EndpointConfig,
    addrs: Vec<IpAddr>,
    /// Addresses as path-manager endpoints: address id, flags (backup among
    /// them) and port. An entry outlives the address's removal, so an address
    /// that comes back keeps its id and flags.
    endpoints: FxHashMap<IpAddr, EndpointMeta>,
    /// The next address id to give (1..=255).
    next_endpoint_id: u8,
    /// The latest `now` the endpoint was given.
    last_now: Instant,
    listeners: FxHashSet<u16>,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    /// 4-tuple → connection and subflow index.
    by_tuple: FxHashMap<(SocketAddr, SocketAddr), (ConnId, usize)>,
    /// MPTCP tokens of our keys → connection.
    tokens: FxHashMap<u32, ConnId>,
    keys: KeyGen,
    isn: IsnGenerator,
    rng: u64,
    events: VecDeque<Event>,
    resets: VecDeque<Reset>,
    queue: VecDeque<ConnId>,
    stats: EndpointStats,
    /// Path-manager timers: when, for which connection, with what token.
    pm_timers: Vec<(Instant, ConnId, u64)>,
    /// Events for an outside path manager (`external`), in order.
    pm_out: VecDeque<(ConnId, crate::pm::PmEvent)>,
    /// The keyed functions of our SYN cookies.
    cookies: syncookie::SynCookies,
    /// Passive connections accepted from a SYN whose handshake is not complete.
    half_open: usize,
    /// SYN/ACKs with a cookie waiting to go out (fixed-size entries, bounded).
    cookie_synacks: VecDeque<cookie_ack::CookieSynAck>,
    /// When the last cookie was sent: ACKs are checked for one only for a while after.
    last_cookie: Option<Instant>,
    /// Accepted joins not yet known to be established: connection, subflow, 4-tuple.
    pending_joins: Vec<(ConnId, usize, (SocketAddr, SocketAddr))>,
}

/// What an owned address is, as a path-manager endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EndpointMeta {
    id: u8,
    flags: crate::pm::EndpointFlags,
    /// The port announced with it (ADD_ADDR with a port), if any.
    port: Option<u16>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint").field("addrs", &self.addrs).field("connections", &self.by_tuple.len()).finish()
    }
}

impl Endpoint {
    /// An endpoint; `seed` makes its ISN secret and port choices (and so the
    /// whole run) reproducible.
    pub fn new(cfg: EndpointConfig, seed: u64) -> Self {
        Self::build(cfg, Sha256::digest(seed.to_be_bytes()).into(), seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// An endpoint whose secrets (ISN key, MPTCP keys and nonces, port
    /// choices) all derive from a 256-bit `secret`: drivers on real networks
    /// pass the operating system's randomness, so keys are unpredictable.
    pub fn with_secret(cfg: EndpointConfig, secret: [u8; 32]) -> Self {
        let rng =
            u64::from_be_bytes(Sha256::digest([&secret[..], b"ports"].concat())[..8].try_into().unwrap_or([0; 8]));
        Self::build(cfg, secret, rng)
    }

    fn build(cfg: EndpointConfig, secret: [u8; 32], rng: u64) -> Self {
        Endpoint {
            cfg,
            addrs: Vec::new(),
            endpoints: FxHashMap::default(),
            next_endpoint_id: 1,
            last_now: Instant::ZERO,
            listeners: FxHashSet::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_tuple: FxHashMap::default(),
            tokens: FxHashMap::default(),
            keys: KeyGen::new(Sha256::digest([&secret[..], b"mptcp keys"].concat()).into()),
            isn: IsnGenerator::new(secret),
            rng,
            events: VecDeque::new(),
            resets: VecDeque::new(),
            queue: VecDeque::new(),
            stats: EndpointStats::default(),
            pm_timers: Vec::new(),
            pm_out: VecDeque::new(),
            cookies: syncookie::SynCookies::new(Sha256::digest([&secret[..], b"syn cookies"].concat()).into()),
            half_open: 0,
            cookie_synacks: VecDeque::new(),
            last_cookie: None,
            pending_joins: Vec::new(),
        }
    }

    /// Accepts connections to `port` on every owned address.
    pub fn listen(&mut self, port: u16) -> Result<(), Error> {
        if !self.listeners.insert(port) {
            return Err(Error::AddrInUse);
        }
        Ok(())
    }

    /// Stops accepting on `port`.
    pub fn unlisten(&mut self, port: u16) {
        self.listeners.remove(&port);
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    /// Counters of the endpoint as a whole.
    pub fn stats_endpoint(&self) -> &EndpointStats {
        &self.stats
    }

    fn next_random(&mut self) -> u64 {
        // SplitMix64: enough for port choice, deterministic by seed.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Per-subflow figures of MPTCP connection `id`.
    pub fn subflow_stats(&self, id: ConnId) -> Option<Vec<SubflowStats>> {
        match &self.slot(id).ok()?.kind {
            Kind::Mptcp(m) => Some(m.subflow_stats()),
            Kind::Tcp { .. } => None,
        }
    }

    /// MPTCP counters of connection `id`.
    pub fn mptcp_counters(&self, id: ConnId) -> Option<MptcpCounters> {
        match &self.slot(id).ok()?.kind {
            Kind::Mptcp(m) => Some(m.counters().clone()),
            Kind::Tcp { .. } => None,
        }
    }

    /// Whether the peer of MPTCP connection `id` set C in its MP_CAPABLE
    /// (it refuses joins to its initial address and port, RFC 8684 §3.1).
    pub fn mptcp_peer_denies_join_initial(&self, id: ConnId) -> Option<bool> {
        match &self.slot(id).ok()?.kind {
            Kind::Mptcp(m) => Some(m.peer_denies_join_initial()),
            Kind::Tcp { .. } => None,
        }
    }

    /// Whether `id` is an MPTCP connection, and if it fell back, why.
    pub fn mptcp_fallback(&self, id: ConnId) -> Option<Option<crate::mptcp::Fallback>> {
        match &self.slot(id).ok()?.kind {
            Kind::Mptcp(m) => Some(m.fallback()),
            Kind::Tcp { .. } => None,
        }
    }

    fn iss(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) -> u32 {
        self.cfg.fixed_isn.unwrap_or_else(|| self.isn.isn(now, local, remote))
    }

    fn slot(&self, id: ConnId) -> Result<&Slot, Error> {
        self.slots.get(id.0 as usize).and_then(Option::as_ref).ok_or(Error::NoSuchConnection)
    }

    fn slot_mut(&mut self, id: ConnId) -> Result<&mut Slot, Error> {
        self.slots.get_mut(id.0 as usize).and_then(Option::as_mut).ok_or(Error::NoSuchConnection)
    }

    fn mark(&mut self, id: ConnId) {
        if let Ok(s) = self.slot_mut(id)
            && !s.queued
        {
            s.queued = true;
            self.queue.push_back(id);
        }
    }

    /// Queues bytes to send; returns how many fit (0 when the buffer is full).
    pub fn write(&mut self, id: ConnId, data: &[u8]) -> Result<usize, Error> {
        let n = self.slot_mut(id)?.write(data)?;
        self.mark(id);
        Ok(n)
    }

    /// Queues `data` without copying it (the stack keeps a reference to its
    /// memory until the peer has acknowledged it), if it fits whole; returns
    /// its length, or 0 when it does not fit now.
    pub fn write_bytes(&mut self, id: ConnId, data: bytes::Bytes) -> Result<usize, Error> {
        let n = self.slot_mut(id)?.write_bytes(data)?;
        self.mark(id);
        Ok(n)
    }

    /// Reads bytes: `Ok(0)` is the end of the stream, `Err(WouldBlock)` means none yet.
    pub fn read(&mut self, id: ConnId, buf: &mut [u8]) -> Result<usize, Error> {
        let r = self.slot_mut(id)?.read(buf);
        self.mark(id);
        r
    }

    /// Reads in place: `f` sees up to `max` bytes (one or two pieces), which
    /// are then consumed; otherwise as [`Endpoint::read`] (no copy into a
    /// buffer of the caller's, for one that hashes or parses in place).
    pub fn read_with(&mut self, id: ConnId, max: usize, f: &mut dyn FnMut(&[u8])) -> Result<usize, Error> {
        let r = self.slot_mut(id)?.read_with(max, f);
        self.mark(id);
        r
    }

    /// Bytes readable now on `id`.
    pub fn readable(&self, id: ConnId) -> usize {
        self.slot(id).map_or(0, |s| match &s.kind {
            Kind::Tcp { conn, .. } => conn.readable(),
            Kind::Mptcp(m) => m.readable(),
        })
    }

    /// Room in `id`'s send buffer.
    pub fn send_buffer_free(&self, id: ConnId) -> usize {
        self.slot(id).map_or(0, |s| match &s.kind {
            Kind::Tcp { conn, .. } => conn.send_buffer_free(),
            Kind::Mptcp(m) => m.send_buffer_free(),
        })
    }

    /// Half-close: a FIN follows the queued data.
    pub fn shutdown(&mut self, id: ConnId) -> Result<(), Error> {
        match &mut self.slot_mut(id)?.kind {
            Kind::Tcp { conn, .. } => conn.shutdown()?,
            Kind::Mptcp(m) => m.shutdown(),
        }
        self.mark(id);
        self.collect(id);
        Ok(())
    }

    /// Closes `id`; the endpoint forgets it once the close completes.
    pub fn close(&mut self, id: ConnId) {
        if let Ok(s) = self.slot_mut(id) {
            match &mut s.kind {
                Kind::Tcp { conn, .. } => conn.close(),
                Kind::Mptcp(m) => m.close(),
            }
            self.mark(id);
            self.collect(id);
        }
    }

    /// Resets `id` now.
    pub fn abort(&mut self, id: ConnId) {
        if let Ok(s) = self.slot_mut(id) {
            match &mut s.kind {
                Kind::Tcp { conn, .. } => conn.abort(),
                Kind::Mptcp(m) => m.abort(),
            }
            self.mark(id);
            self.collect(id);
        }
    }

    /// Counters and state of `id`.
    pub fn stats(&self, id: ConnId) -> Option<ConnStats> {
        self.slot(id).ok().and_then(|s| match &s.kind {
            Kind::Tcp { conn, cc } => Some(conn.stats(&**cc)),
            Kind::Mptcp(m) => m.first_stats(),
        })
    }

    /// Bytes written to `id` that the peer has not acknowledged yet (at the
    /// data level for MPTCP); None once the connection is gone. A sender's
    /// transfer is over when this reaches 0.
    pub fn send_outstanding(&self, id: ConnId) -> Option<usize> {
        self.slot(id).ok().map(|s| match &s.kind {
            Kind::Tcp { conn, .. } => conn.send_queued(),
            Kind::Mptcp(m) => m.send_outstanding(),
        })
    }

    /// State of `id`.
    pub fn state(&self, id: ConnId) -> Option<State> {
        self.slot(id).ok().map(|s| match &s.kind {
            Kind::Tcp { conn, .. } => conn.state(),
            Kind::Mptcp(m) => match m.closed() {
                Some(_) => State::Closed,
                None => m.first_stats().map_or(State::Closed, |st| st.state),
            },
        })
    }

    /// Local address of `id`.
    pub fn local_addr(&self, id: ConnId) -> Option<SocketAddr> {
        self.slot(id).ok().map(Slot::local)
    }

    /// Remote address of `id`.
    pub fn remote_addr(&self, id: ConnId) -> Option<SocketAddr> {
        self.slot(id).ok().map(Slot::remote)
    }

    /// Connections held.
    pub fn connection_count(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Moves a connection's events to the endpoint's queue, and forgets the
    /// connection once it is closed and nobody needs it.
    fn collect(&mut self, id: ConnId) {
        let Ok(slot) = self.slot_mut(id) else { return };
        let mut out: arrayvec::ArrayVec<Event, 8> = arrayvec::ArrayVec::new();
        let mut overflow = Vec::new();
        let mut was_half_open = false;
        while let Some(e) = slot.poll_event() {
            let ev = match e {
                ConnEvent::Connected if slot.passive => {
                    slot.announced = true;
                    was_half_open |= std::mem::take(&mut slot.half_open);
                    Event::Accepted { id, local: slot.local(), remote: slot.remote() }
                }
                ConnEvent::Connected => Event::Connected(id),
                ConnEvent::Readable => Event::Readable(id),
                ConnEvent::Writable => Event::Writable(id),
                ConnEvent::Closed(reason) => Event::Closed { id, reason },
            };
            if !slot.announced {
                continue;
            }
            if let Err(e) = out.try_push(ev) {
                overflow.push(e.element());
            }
        }
        let done = slot.finished();
        was_half_open |= done && std::mem::take(&mut slot.half_open);
        let tuples = if done { slot.tuples() } else { Vec::new() };
        let token = match &slot.kind {
            Kind::Mptcp(m) if done => Some(m.local_token()),
            _ => None,
        };
        self.half_open -= usize::from(was_half_open);
        self.events.extend(out);
        self.events.extend(overflow);
        // The path manager hears of everything, the connection's end included.
        self.pm_events(id);
        if done {
            for t in tuples {
                if self.by_tuple.get(&t).is_some_and(|(c, _)| *c == id) {
                    self.by_tuple.remove(&t);
                }
            }
            if let Some(t) = token {
                self.tokens.remove(&t);
            }
            tracing::debug!(conn = id.0, "connection finished");
            self.slots[id.0 as usize] = None;
            self.free.push(id.0);
            self.pm_timers.retain(|t| t.1 != id);
        }
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let pm = self.pm_timers.iter().map(|t| t.0).min();
        self.slots.iter().flatten().filter_map(Slot::next_timeout).chain(pm).min()
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        for i in 0..self.slots.len() {
            let id = ConnId(i as u32);
            let Some(slot) = self.slots[i].as_mut() else { continue };
            if slot.next_timeout().is_some_and(|t| t <= now) {
                let _conn = tracing::debug_span!("conn", id = id.0).entered();
                slot.on_timeout(now);
                self.mark(id);
                self.collect(id);
            }
        }
        self.fire_pm_timers(now);
    }
}
