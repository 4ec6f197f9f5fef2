//! The endpoint: owns the connections of one host, demultiplexes packets by
//! 4-tuple, answers SYNs on listening ports, and resets strays.

use crate::cc::{self, CongestionControl};
use crate::error::Error;
use crate::mptcp::keys::KeyGen;
use crate::mptcp::{MptcpConfig, MptcpConn, MptcpCounters, SubflowStats};
use crate::sched;
use crate::tcp::conn::{CcCtx, ConnEvent, State, TcpConn};
use crate::tcp::isn::IsnGenerator;
use crate::tcp::segment::Segment;
use crate::tcp::{CloseReason, ConnStats, TcpConfig};
use crate::time::Instant;
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::tcp::{Flags, TcpPacket, tcp_checksum};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

mod pm;

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

/// Settings of an endpoint.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Largest IP packet, bytes (the MSS follows from it).
    pub mtu: usize,
    /// TCP settings for every connection.
    pub tcp: TcpConfig,
    /// Ephemeral port range for active opens (inclusive).
    pub ephemeral_ports: (u16, u16),
    /// IP TTL / hop limit of sent packets.
    pub hop_limit: u8,
    /// Use this ISN for every connection instead of RFC 6528's keyed hash.
    /// Predictable, so insecure: for tests and reproducible captures only.
    pub fixed_isn: Option<u32>,
    /// Multipath TCP.
    pub mptcp: MptcpConfig,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            mtu: 1500,
            tcp: TcpConfig::default(),
            ephemeral_ports: (49_152, 65_535),
            hop_limit: 64,
            fixed_isn: None,
            mptcp: MptcpConfig::default(),
        }
    }
}

/// Per-connection choices for `connect_with`; `None` takes the endpoint's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Open with MPTCP (MP_CAPABLE) or as plain TCP.
    pub mptcp: Option<bool>,
    /// Congestion control by name.
    pub cc: Option<String>,
    /// Scheduler by name (MPTCP).
    pub scheduler: Option<String>,
    /// Path manager by name (MPTCP).
    pub path_manager: Option<String>,
    /// Subflows in all for `ndiffports`.
    pub subflows: Option<usize>,
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

/// Counters of what the endpoint dropped or answered, named after the
/// kernel's TCP MIB where one exists.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EndpointStats {
    /// Packets received.
    pub in_packets: u64,
    /// Packets that were not IP/TCP for us, or malformed (`InErrs`).
    pub in_errs: u64,
    /// TCP checksum failures (`InCsumErrors`).
    pub in_csum_errors: u64,
    /// RSTs sent for segments to no connection (`OutRsts`).
    pub out_rsts: u64,
    /// Packets sent.
    pub out_packets: u64,
    /// `MPJoinNoTokenFound`: MP_JOIN SYNs naming no connection of ours
    /// (answered with RST + MP_TCPRST "MPTCP-specific error").
    pub join_no_token: u64,
    /// `MPJoinRejected`: MP_JOIN SYNs refused by their connection (not fully
    /// established, fallen back, over the subflow limit, or to an initial
    /// address and port closed to joins by C), answered with RST +
    /// MP_TCPRST "administratively prohibited".
    pub join_rejected: u64,
    /// `MismatchPortSynRx`: MP_JOIN SYNs to a port neither listening nor
    /// announced (RST + MP_TCPRST "administratively prohibited").
    pub join_port_mismatch: u64,
    /// MP_JOIN SYNs the path manager refused (RST + MP_TCPRST
    /// "administratively prohibited").
    pub join_refused_by_pm: u64,
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

/// MP_TCPRST reason: an MPTCP-specific error (RFC 8684 §3.6).
const RST_EMPTCP: u8 = 1;
/// MP_TCPRST reason: administratively prohibited (RFC 8684 §3.6).
const RST_EPROHIBIT: u8 = 3;

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
        }
    }

    /// Adds an address this stack owns; path managers of open connections
    /// hear of it (and may open subflows from it).
    pub fn add_address(&mut self, addr: IpAddr) {
        let meta = *self.endpoint_meta(addr);
        self.add_endpoint(addr, meta.flags, meta.port);
    }

    /// The endpoint entry of `addr`, made (with a fresh address id) if new.
    fn endpoint_meta(&mut self, addr: IpAddr) -> &mut EndpointMeta {
        let next = &mut self.next_endpoint_id;
        self.endpoints.entry(addr).or_insert_with(|| {
            let id = *next;
            *next = next.checked_add(1).unwrap_or(1);
            EndpointMeta { id, flags: crate::pm::EndpointFlags::default(), port: None }
        })
    }

    /// Whether subflows from `addr` are backups.
    fn is_backup(&self, addr: IpAddr) -> bool {
        self.endpoints.get(&addr).is_some_and(|e| e.flags.backup)
    }

    /// Adds (or updates) an owned address as a path-manager endpoint with
    /// `flags`, like `ip mptcp endpoint add ADDR FLAGS [port PORT]`: `port`
    /// is announced with it (a `signal` endpoint), and joins to it are accepted.
    pub fn add_endpoint(&mut self, addr: IpAddr, flags: crate::pm::EndpointFlags, port: Option<u16>) {
        let meta = self.endpoint_meta(addr);
        meta.flags = flags;
        meta.port = port;
        if self.addrs.contains(&addr) {
            return;
        }
        self.addrs.push(addr);
        for id in self.mptcp_ids() {
            self.dispatch_pm(id, crate::pm::PmEvent::LocalAddressAdded(addr));
            self.announce_addresses(id);
        }
    }

    /// The address went away (an interface is gone): connections and
    /// subflows from it are reset, and path managers react (a single-path
    /// connection opens a subflow elsewhere).
    pub fn remove_address(&mut self, now: Instant, addr: IpAddr) {
        self.last_now = self.last_now.max(now);
        self.addrs.retain(|a| *a != addr);
        for i in 0..self.slots.len() {
            let id = ConnId(i as u32);
            let Some(slot) = self.slots[i].as_mut() else { continue };
            match &mut slot.kind {
                Kind::Tcp { conn, .. } if conn.local().ip() == addr => conn.abort(),
                Kind::Mptcp(m) => {
                    // RFC 8684 §3.4.2: withdraw the address from the peer too.
                    if let Some(aid) = m.local_id_of(addr) {
                        m.withdraw(aid, Some(addr));
                    }
                    m.reset_subflows_from(now, addr)
                }
                Kind::Tcp { .. } => continue,
            }
            self.mark(id);
            self.collect(id);
        }
        for id in self.mptcp_ids() {
            self.dispatch_pm(id, crate::pm::PmEvent::LocalAddressRemoved(addr));
        }
    }

    /// Subflows from `addr` are to be backups (RFC 8684 §3.3.8).
    pub fn set_address_backup(&mut self, addr: IpAddr, backup: bool) {
        self.endpoint_meta(addr).flags.backup = backup;
        // Subflows already open from it change priority with MP_PRIO.
        for id in self.mptcp_ids() {
            if let Ok(slot) = self.slot_mut(id)
                && let Kind::Mptcp(m) = &mut slot.kind
            {
                m.set_backup_from(addr, backup);
            }
            self.mark(id);
        }
    }

    fn mptcp_ids(&self) -> Vec<ConnId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| matches!(s.kind, Kind::Mptcp(_))))
            .map(|(i, _)| ConnId(i as u32))
            .collect()
    }

    /// The addresses this stack owns.
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addrs
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

    /// Counters.
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

    fn new_cc(&self) -> Box<dyn CongestionControl> {
        cc::by_name(&self.cfg.tcp.cc).unwrap_or_else(|| Box::new(cc::Cubic::default()))
    }

    fn new_mptcp_parts(&self) -> (Box<dyn CongestionControl>, Box<dyn sched::Scheduler>) {
        self.mptcp_parts(None, None)
    }

    /// An MPTCP connection's controller and scheduler: the configured
    /// factories first, then the names (a connect-time name before the
    /// configured one), then LIA and lowest-RTT.
    fn mptcp_parts(
        &self,
        cc_name: Option<&str>,
        sched_name: Option<&str>,
    ) -> (Box<dyn CongestionControl>, Box<dyn sched::Scheduler>) {
        let m = &self.cfg.mptcp;
        let cc = match &m.cc_factory {
            Some(f) => f.build(),
            None => cc::by_name(cc_name.unwrap_or(&m.cc)).unwrap_or_else(|| Box::new(cc::Lia::default())),
        };
        let sc = match &m.scheduler_factory {
            Some(f) => f.build(),
            None => sched::by_name(sched_name.unwrap_or(&m.scheduler)).unwrap_or_else(|| Box::new(sched::MinRtt)),
        };
        (cc, sc)
    }

    fn new_key(&mut self) -> u64 {
        let tokens = &self.tokens;
        self.keys.key(|t| tokens.contains_key(&t))
    }

    fn insert(&mut self, conn: TcpConn, passive: bool) -> ConnId {
        let cc = self.new_cc();
        self.insert_kind(Kind::Tcp { conn: Box::new(conn), cc }, passive)
    }

    fn insert_kind(&mut self, kind: Kind, passive: bool) -> ConnId {
        let slot = Slot { kind, announced: !passive, passive, queued: false };
        let tuples = slot.tuples();
        let token = match &slot.kind {
            Kind::Mptcp(m) => Some(m.local_token()),
            Kind::Tcp { .. } => None,
        };
        let id = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(slot);
                ConnId(i)
            }
            None => {
                self.slots.push(Some(slot));
                ConnId(self.slots.len() as u32 - 1)
            }
        };
        tracing::debug!(conn = id.0, passive, mptcp = token.is_some(), tuple = ?tuples.first(), "connection created");
        for (k, t) in tuples.into_iter().enumerate() {
            self.by_tuple.insert(t, (id, k));
        }
        if let Some(t) = token {
            self.tokens.insert(t, id);
        }
        self.mark(id);
        id
    }

    /// Opens a connection from `local` (an owned address) to `remote`, with
    /// the endpoint's configuration.
    pub fn connect(&mut self, now: Instant, local: IpAddr, remote: SocketAddr) -> Result<ConnId, Error> {
        self.connect_with(now, local, remote, &ConnectOptions::default())
    }

    /// Opens a connection with per-connection choices.
    pub fn connect_with(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: SocketAddr,
        opts: &ConnectOptions,
    ) -> Result<ConnId, Error> {
        self.last_now = self.last_now.max(now);
        if !self.addrs.contains(&local) {
            return Err(Error::AddrNotAvailable);
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(Error::InvalidState("local and remote addresses of different families"));
        }
        let (lo, hi) = self.cfg.ephemeral_ports;
        let span = u64::from(hi.saturating_sub(lo)) + 1;
        let start = self.next_random() % span;
        let port = (0..span)
            .map(|i| lo + ((start + i) % span) as u16)
            .find(|&p| !self.by_tuple.contains_key(&(SocketAddr::new(local, p), remote)))
            .ok_or(Error::NoPorts)?;
        self.connect_from_with(now, SocketAddr::new(local, port), remote, opts)
    }

    /// Opens a connection from a given local address and port.
    pub fn connect_from(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) -> Result<ConnId, Error> {
        self.connect_from_with(now, local, remote, &ConnectOptions::default())
    }

    fn connect_from_with(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        opts: &ConnectOptions,
    ) -> Result<ConnId, Error> {
        if !self.addrs.contains(&local.ip()) {
            return Err(Error::AddrNotAvailable);
        }
        if self.by_tuple.contains_key(&(local, remote)) {
            return Err(Error::AddrInUse);
        }
        let name_ok = |n: &Option<String>, names: &[&str]| n.as_deref().is_none_or(|n| names.contains(&n));
        if !name_ok(&opts.cc, cc::NAMES) {
            return Err(Error::InvalidState("unknown congestion control"));
        }
        if !name_ok(&opts.scheduler, sched::NAMES) {
            return Err(Error::InvalidState("unknown scheduler"));
        }
        if !name_ok(&opts.path_manager, crate::pm::NAMES) {
            return Err(Error::InvalidState("unknown path manager"));
        }
        let iss = self.iss(now, local, remote);
        let conn = TcpConn::connect(&self.cfg.tcp, local, remote, iss, self.cfg.mtu);
        if opts.mptcp.unwrap_or(self.cfg.mptcp.enabled) {
            let key = self.new_key();
            let (cc, sc) = self.mptcp_parts(opts.cc.as_deref(), opts.scheduler.as_deref());
            let m = &self.cfg.mptcp;
            let pm_name = opts.path_manager.as_deref().unwrap_or(&m.path_manager);
            let pm = crate::pm::by_name(pm_name, opts.subflows.unwrap_or(m.subflows_per_path))
                .unwrap_or_else(|| Box::new(crate::pm::InKernel::default()));
            let external = pm_name == "external";
            let pm = match &m.pm_factory {
                Some(f) => f.build(true),
                None => pm,
            };
            let external = external && m.pm_factory.is_none();
            let mut mc = MptcpConn::connect(key, conn, &self.cfg.mptcp, &self.cfg.tcp, cc, sc);
            if external {
                mc.set_external_pm();
            } else {
                mc.set_path_manager(pm);
            }
            let id = self.insert_kind(Kind::Mptcp(Box::new(mc)), false);
            self.dispatch_pm(id, crate::pm::PmEvent::Created);
            return Ok(id);
        }
        let id = self.insert(conn, false);
        if let Some(name) = &opts.cc
            && let (Some(c), Ok(slot)) = (cc::by_name(name), self.slot_mut(id))
            && let Kind::Tcp { cc, .. } = &mut slot.kind
        {
            *cc = c;
        }
        Ok(id)
    }

    /// Opens another subflow of MPTCP connection `id` from `local` (an owned
    /// address) to `remote` with MP_JOIN; `addr_id` is our address id for it.
    pub fn add_subflow(
        &mut self,
        now: Instant,
        id: ConnId,
        local: IpAddr,
        remote: SocketAddr,
        addr_id: u8,
        backup: bool,
    ) -> Result<(), Error> {
        if !self.addrs.contains(&local) {
            return Err(Error::AddrNotAvailable);
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(Error::InvalidState("a subflow's two addresses must be of one family"));
        }
        let max = self.cfg.mptcp.max_subflows.min(crate::mptcp::MAX_SUBFLOWS);
        if let Kind::Mptcp(m) = &self.slot(id)?.kind
            && m.subflow_count() >= max
        {
            return Err(Error::InvalidState("the connection has as many subflows as its limit allows"));
        }
        let (lo, hi) = self.cfg.ephemeral_ports;
        let span = u64::from(hi.saturating_sub(lo)) + 1;
        let start = self.next_random() % span;
        let port = (0..span)
            .map(|i| lo + ((start + i) % span) as u16)
            .find(|&p| !self.by_tuple.contains_key(&(SocketAddr::new(local, p), remote)))
            .ok_or(Error::NoPorts)?;
        let local = SocketAddr::new(local, port);
        let iss = self.iss(now, local, remote);
        let nonce = self.keys.nonce();
        let tcp = TcpConn::connect(&self.cfg.tcp, local, remote, iss, self.cfg.mtu);
        let slot = self.slot_mut(id)?;
        let Kind::Mptcp(m) = &mut slot.kind else { return Err(Error::InvalidState("not an MPTCP connection")) };
        let k = m.add_subflow(tcp, addr_id, backup, nonce)?;
        tracing::debug!(conn = id.0, subflow = k, %local, %remote, backup, "subflow opened");
        self.by_tuple.insert((local, remote), (id, k));
        self.mark(id);
        Ok(())
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

    fn iss(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> u32 {
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
        while let Some(e) = slot.poll_event() {
            let ev = match e {
                ConnEvent::Connected if slot.passive => {
                    slot.announced = true;
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
        let tuples = if done { slot.tuples() } else { Vec::new() };
        let token = match &slot.kind {
            Kind::Mptcp(m) if done => Some(m.local_token()),
            _ => None,
        };
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

    /// Feeds one IPv4 or IPv6 packet received at `now`.
    pub fn handle(&mut self, now: Instant, packet: &[u8]) {
        self.handle_offloaded(now, packet, false);
    }

    /// Feeds one packet from a device with receive offloads: it may be a
    /// super-segment of up to 64 KiB (GRO: several wire segments with one
    /// header), taken as one segment; with `checksum_valid` the device has
    /// verified the TCP checksum, or the packet never crossed a wire (a
    /// virtio-net header's DATA_VALID or NEEDS_CSUM), and it is not checked again.
    pub fn handle_offloaded(&mut self, now: Instant, packet: &[u8], checksum_valid: bool) {
        self.last_now = self.last_now.max(now);
        self.stats.in_packets += 1;
        let Ok(ip) = IpPacket::parse(packet) else {
            self.stats.in_errs += 1;
            return;
        };
        if ip.protocol != PROTO_TCP || ip.fragment || !self.addrs.contains(&ip.dst) {
            self.stats.in_errs += 1;
            return;
        }
        let Ok(tcp) = TcpPacket::new_checked(ip.payload) else {
            self.stats.in_errs += 1;
            return;
        };
        if !checksum_valid && !tcp.verify_checksum(ip.src, ip.dst) {
            self.stats.in_csum_errors += 1;
            return;
        }
        let seg = Segment::parse(&tcp);
        let local = SocketAddr::new(ip.dst, tcp.dst_port());
        let remote = SocketAddr::new(ip.src, tcp.src_port());
        if let Some(&(id, k)) = self.by_tuple.get(&(local, remote)) {
            let _conn = tracing::debug_span!("conn", id = id.0).entered();
            let _subflow = tracing::debug_span!("subflow", k, %local, %remote).entered();
            if let Ok(slot) = self.slot_mut(id) {
                match &mut slot.kind {
                    Kind::Tcp { conn, cc } => conn.on_segment(now, &seg, &mut CcCtx::plain(&mut **cc)),
                    Kind::Mptcp(m) => m.on_segment(now, k, &seg),
                }
            }
            self.mark(id);
            self.collect(id);
            return;
        }
        let f = seg.flags;
        if f.syn() && !f.ack() && !f.rst() {
            let (mpc, join) = syn_mptcp(seg.options_raw);
            if let Some(token) = join {
                // RFC 8684 §3.2: an MP_JOIN SYN names its connection by token.
                let refused =
                    if self.cfg.mptcp.enabled { self.accept_join(now, local, remote, token, &seg) } else { Some(None) };
                if let Some(reason) = refused
                    && self.resets.len() < 1024
                {
                    let ack = Some((seg.seq + seg.seq_len()).0);
                    self.resets.push_back(Reset { local, remote, seq: 0, ack, mptcp_reason: reason });
                }
                return;
            }
            if self.listeners.contains(&local.port()) {
                let iss = self.iss(now, local, remote);
                let conn = TcpConn::accept(&self.cfg.tcp, local, remote, iss, self.cfg.mtu, &seg, now);
                if mpc && self.cfg.mptcp.enabled {
                    let key = self.new_key();
                    let (cc, sc) = self.new_mptcp_parts();
                    let mut m = MptcpConn::accept(key, conn, seg.options_raw, &self.cfg.mptcp, &self.cfg.tcp, cc, sc);
                    if let Some(f) = &self.cfg.mptcp.pm_factory {
                        m.set_path_manager(f.build(false));
                    } else if self.cfg.mptcp.path_manager == "external" {
                        m.set_external_pm();
                    }
                    let id = self.insert_kind(Kind::Mptcp(Box::new(m)), true);
                    self.dispatch_pm(id, crate::pm::PmEvent::Created);
                } else {
                    self.insert(conn, true);
                }
                return;
            }
        }
        if !f.rst() {
            // RFC 9293 §3.10.7.1: no connection: reset.
            let reset = if f.ack() {
                Reset { local, remote, seq: seg.ack.0, ack: None, mptcp_reason: None }
            } else {
                Reset { local, remote, seq: 0, ack: Some((seg.seq + seg.seq_len()).0), mptcp_reason: None }
            };
            if self.resets.len() < 1024 {
                self.resets.push_back(reset);
            }
        }
    }

    /// Takes an MP_JOIN SYN (RFC 8684 §3.2). None: accepted; otherwise it
    /// is refused with a RST carrying this MP_TCPRST reason, as the kernel
    /// does: unknown token → "MPTCP-specific error"; a port neither
    /// listening nor announced, or a connection that takes no join now →
    /// "administratively prohibited".
    fn accept_join(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        token: u32,
        seg: &Segment<'_>,
    ) -> Option<Option<u8>> {
        let id = match self.tokens.get(&token) {
            Some(&id) if self.slot(id).is_ok_and(|s| matches!(s.kind, Kind::Mptcp(_))) => id,
            _ => {
                self.stats.join_no_token += 1;
                return Some(Some(RST_EMPTCP));
            }
        };
        let port_ok = self.listeners.contains(&local.port())
            || matches!(&self.slot(id).ok()?.kind, Kind::Mptcp(m) if m.joinable_port(local.port()));
        if !port_ok {
            self.stats.join_port_mismatch += 1;
            return Some(Some(RST_EPROHIBIT));
        }
        let iss = self.iss(now, local, remote);
        let nonce = self.keys.nonce();
        let tcp = TcpConn::accept(&self.cfg.tcp, local, remote, iss, self.cfg.mtu, seg, now);
        let max = self.cfg.mptcp.max_subflows.min(crate::mptcp::MAX_SUBFLOWS);
        // Our `backup` endpoint: the subflow is a backup from our side too.
        let backup = self.is_backup(local.ip());
        let join = crate::pm::SubflowInfo {
            id: 0,
            local,
            remote,
            alive: true,
            established: false,
            backup,
            error: None,
            reset_reason: None,
        };
        if self.join_verdict(id, &join) == crate::pm::JoinVerdict::Refuse {
            self.stats.join_refused_by_pm += 1;
            return Some(Some(RST_EPROHIBIT));
        }
        let Ok(slot) = self.slot_mut(id) else { return Some(Some(RST_EMPTCP)) };
        let Kind::Mptcp(m) = &mut slot.kind else { return Some(Some(RST_EMPTCP)) };
        match m.accept_join(tcp, seg.options_raw, nonce, max, backup) {
            Some(k) => {
                tracing::debug!(conn = id.0, subflow = k, %local, %remote, backup, "subflow joined");
                self.by_tuple.insert((local, remote), (id, k));
                self.mark(id);
                None
            }
            None => {
                self.stats.join_rejected += 1;
                Some(Some(RST_EPROHIBIT))
            }
        }
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

    /// Writes the next IP packet to send into `buf` (at least `mtu` bytes);
    /// returns its length, or None when nothing is due.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.poll_transmit_gso(now, buf).map(|t| t.len)
    }

    /// Like [`Endpoint::poll_transmit`], for a driver whose device segments
    /// (`TcpConfig::gso_max_size`) or completes checksums
    /// (`TcpConfig::checksum_offload`): says how to cut the packet. `buf`
    /// should hold `gso_max_size` bytes.
    pub fn poll_transmit_gso(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.last_now = self.last_now.max(now);
        // A buffer that cannot hold one packet of the MTU gets nothing and
        // costs nothing: no connection is dequeued, no byte counted as sent.
        if buf.len() < self.cfg.mtu {
            return None;
        }
        if let Some(r) = self.resets.pop_front() {
            self.stats.out_rsts += 1;
            let l4_offset = if r.local.is_ipv4() { 20 } else { 40 };
            return self.emit_reset(r, buf).map(|len| Transmit {
                len,
                gso_size: 0,
                checksum_partial: false,
                l4_offset,
            });
        }
        while let Some(id) = self.queue.pop_front() {
            let hop_limit = self.cfg.hop_limit;
            let Some(slot) = self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) else { continue };
            // The IP header's length depends on the family; every subflow of a
            // connection is written after a header of its own family.
            let out = match &mut slot.kind {
                Kind::Tcp { conn, cc } => {
                    let ip_len = if conn.local().is_ipv4() { 20 } else { 40 };
                    let (l, r) = (conn.local(), conn.remote());
                    buf.get_mut(ip_len..)
                        .and_then(|b| conn.poll_transmit(now, &mut CcCtx::plain(&mut **cc), b))
                        .map(|n| (l, r, n))
                }
                // Subflows of one connection may be of either family: the
                // connection writes the TCP segment behind room for its header.
                Kind::Mptcp(m) => m.poll_transmit(now, buf),
            };
            let gso = match &slot.kind {
                Kind::Tcp { conn, .. } => conn.last_gso_size(),
                Kind::Mptcp(m) => m.last_gso_size(),
            };
            match out {
                Some((l, r, n)) => {
                    let (src, dst) = (l.ip(), r.ip());
                    let ip_len = if src.is_ipv4() { 20 } else { 40 };
                    // Still queued: round-robin between connections with output.
                    self.queue.push_back(id);
                    emit_ip_header(src, dst, PROTO_TCP, hop_limit, n, buf).ok()?;
                    self.collect(id);
                    self.stats.out_packets += 1;
                    return Some(Transmit {
                        len: ip_len + n,
                        gso_size: gso,
                        checksum_partial: self.cfg.tcp.checksum_offload,
                        l4_offset: ip_len,
                    });
                }
                None => {
                    if let Some(slot) = self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) {
                        slot.queued = false;
                    }
                    self.collect(id);
                }
            }
        }
        None
    }

    fn emit_reset(&mut self, r: Reset, buf: &mut [u8]) -> Option<usize> {
        let ip_len = if r.local.is_ipv4() { 20 } else { 40 };
        // RFC 8684 §3.6: MP_TCPRST (4 bytes) says why a join was refused.
        let tcp_len = if r.mptcp_reason.is_some() { 24 } else { 20 };
        let seg = buf.get_mut(ip_len..ip_len + tcp_len)?;
        seg[0..2].copy_from_slice(&r.local.port().to_be_bytes());
        seg[2..4].copy_from_slice(&r.remote.port().to_be_bytes());
        seg[4..8].copy_from_slice(&r.seq.to_be_bytes());
        seg[8..12].copy_from_slice(&r.ack.unwrap_or(0).to_be_bytes());
        seg[12] = ((tcp_len / 4) as u8) << 4;
        seg[13] = if r.ack.is_some() { (Flags::RST | Flags::ACK).0 } else { Flags::RST.0 };
        seg[14..20].copy_from_slice(&[0; 6]);
        if let Some(reason) = r.mptcp_reason {
            let opt = mptcp_wire::mptcp::MpTcpRst { flags: 0, reason };
            opt.emit(&mut seg[20..24]).ok()?;
        }
        let c = tcp_checksum(r.local.ip(), r.remote.ip(), seg);
        seg[16..18].copy_from_slice(&c.to_be_bytes());
        emit_ip_header(r.local.ip(), r.remote.ip(), PROTO_TCP, self.cfg.hop_limit, tcp_len, buf).ok()?;
        self.stats.out_packets += 1;
        Some(ip_len + tcp_len)
    }
}
