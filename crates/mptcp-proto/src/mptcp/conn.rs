//! An MPTCP connection (RFC 8684): keys and tokens, subflows, the data
//! sequence space with its mappings, DATA_ACK and DATA_FIN, and the fallback
//! to regular TCP. The receive side of the data sequence space (mapping
//! checks, DSS checksums, MP_FAIL and mid-stream fallback) is in `receive`.

mod config;
mod counters;
mod direct;
mod lifecycle;
mod opportunistic;
mod read;
mod receive;
mod segment;
mod send;
mod signals;
mod timers;
mod views;

pub use config::MptcpConfig;
pub use counters::{MptcpCounters, SubflowStats};

use super::MAX_SUBFLOWS;
use super::mapping::{MAX_MAPPING, RecvMapping};
use super::subflow::{ConnFacts, Hook, Subflow, SubflowMp, SubflowRole};
use crate::Error;
use crate::cc::CongestionControlFactory;
use crate::cc::{CongestionControl, SubflowId};
use crate::path::PathView;
use crate::plugin::Plugin;
use crate::pm::{PmEvent, SubflowInfo};
use crate::sched::{Scheduler, SchedulerFactory};
use crate::tcp::recv_buf::RecvBuffer;
use crate::tcp::segment::Segment;
use crate::tcp::send_buf::ChunkQueue;
use crate::tcp::{CcCtx, CloseReason, ConnEvent, State, TcpConn};
use crate::time::{Duration, Instant};
use mptcp_wire::crypto;
use mptcp_wire::mptcp::{AddAddr, Dss, MpCapable, MpJoin, MptcpOption};
use mptcp_wire::tcp::{TcpOption, TcpOptionIter};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Why a connection fell back to regular TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// The SYN/ACK carried no MP_CAPABLE.
    SynAckWithoutMpc,
    /// The third ACK carried no MP_CAPABLE.
    AckWithoutMpc,
    /// Data arrived on the initial subflow without a DSS mapping (RFC 8684 §3.7).
    DataWithoutDss,
    /// A mapping did not cover the data it came with, or contradicted one
    /// in progress (the kernel's `DSSNotMatching`).
    BadMapping,
    /// The peer sent an infinite mapping (data-level length 0) unasked.
    InfiniteMapping,
    /// A DSS checksum failed: MP_FAIL, then the infinite mapping (§3.7).
    MpFail,
    /// The peer acknowledged our first data with a plain TCP header, no
    /// MPTCP option (RFC 8684 §3.7: it fell back, or something stripped
    /// the options after the SYNs).
    DataAckedWithoutDss,
}

/// The MPTCP options of one segment.
#[derive(Default)]
struct SegOptions {
    mpc: Option<MpCapable>,
    join: Option<MpJoin>,
    dss: Option<Dss>,
    fastclose: Option<u64>,
    add_addr: arrayvec::ArrayVec<AddAddr, 2>,
    remove: arrayvec::ArrayVec<u8, 8>,
    prio: Option<bool>,
    fail: Option<u64>,
    rst_reason: Option<u8>,
    /// Any MPTCP option at all, understood or not.
    any: bool,
}

impl SegOptions {
    fn parse(raw: &[u8]) -> Self {
        let mut s = SegOptions::default();
        for o in TcpOptionIter::new(raw).flatten() {
            if let TcpOption::Mptcp(m) = o {
                s.any = true;
                match m {
                    MptcpOption::MpCapable(c) => s.mpc = Some(c),
                    MptcpOption::MpJoin(j) => s.join = Some(j),
                    MptcpOption::Dss(d) => s.dss = Some(d),
                    MptcpOption::MpFastclose(f) => s.fastclose = Some(f.receiver_key),
                    MptcpOption::AddAddr(a) => {
                        let _ = s.add_addr.try_push(a);
                    }
                    MptcpOption::RemoveAddr(r) => {
                        for &id in r.ids.iter().take(8) {
                            let _ = s.remove.try_push(id);
                        }
                    }
                    MptcpOption::MpPrio(p) => s.prio = Some(p.backup),
                    MptcpOption::MpFail(f) => s.fail = Some(f.dsn),
                    MptcpOption::MpTcpRst(r) => s.rst_reason = Some(r.reason),
                    _ => {}
                }
            }
        }
        s
    }
}

/// An address we announced, until it is echoed (RFC 8684 §3.4.1).
#[derive(Debug, Clone, Copy)]
struct Announcement {
    id: u8,
    addr: std::net::IpAddr,
    port: Option<u16>,
    echoed: bool,
    tries: u8,
    resend_at: Option<Instant>,
}

/// The size of the receive staging buffer.
pub(super) const SCRATCH_LEN: usize = 65_536;

/// ADD_ADDR retransmissions when no echo comes (the kernel's ADD_ADDR_RETRANS_MAX).
const ADD_ADDR_RETRANS_MAX: u8 = 3;

/// An MPTCP connection.
pub struct MptcpConn {
    client: bool,
    local_key: u64,
    remote_key: Option<u64>,
    checksum_request: bool,
    checksum: bool,
    fully_established: bool,
    fallback: Option<Fallback>,
    subflows: Vec<Subflow>,
    next_subflow_id: u32,
    cc: Box<dyn CongestionControl>,
    sched: Box<dyn Scheduler>,
    // Sending: the bytes from `snd_una` on (the queue's first byte is
    // `snd_una`); `snd_nxt` is the next one to map. Subflows hold references
    // to these chunks, never copies.
    snd_buf: ChunkQueue,
    /// Receive staging: subflow bytes on their way to the data level
    /// (`SCRATCH_LEN` once the general path is first taken).
    scratch: Vec<u8>,
    /// The GSO segment size of the segment last written (0: one segment).
    last_gso: u16,
    /// Subflows emit payload by reference (`TcpConn::set_tx_by_ref`).
    tx_by_ref: bool,
    /// The subflow that wrote the last segment.
    last_emitter: usize,
    /// Bytes the application read since the last window update it caused.
    rcv_freed: u64,
    /// The data-level receive buffer's size.
    rcv_capacity: usize,
    snd_cap: usize,
    /// `held_before_una` when last looked at (less of it frees room: Writable).
    held_last: usize,
    /// A write fell short since the last Writable (fallback wakes it).
    write_short: bool,
    snd_una: u64,
    snd_nxt: u64,
    /// Opportunistic retransmission and penalisation (`MptcpConfig::opportunistic`):
    /// on, the oldest byte last sent again so and when, and when a subflow
    /// was last penalised.
    opportunistic: bool,
    opportunistic_dsn: Option<u64>,
    opportunistic_at: Option<Instant>,
    penalised_at: Option<Instant>,
    /// Ranges to send again on another subflow (dsn, len).
    reinject: VecDeque<(u64, u64)>,
    /// The right edge of the peer's data-level receive window: DATA_ACK plus
    /// the window of the segment that carried it (RFC 8684 §3.3.5). None
    /// until the first DATA_ACK.
    snd_wnd_end: Option<u64>,
    /// The data-level retransmission timer: data acknowledged on its subflow
    /// but not at the data level (the peer dropped it) is sent again.
    data_rtx_at: Option<Instant>,
    data_rtx_backoff: u32,
    /// The data-level persist timer (see `timers.rs`) and its backoff.
    window_probe_at: Option<Instant>,
    window_probe_backoff: u32,
    /// The scheduler asked to be asked again then (`Decision::Wait`).
    sched_wake: Option<Instant>,
    /// Bytes set aside for a join's first mapping (subflow, DSN, length):
    /// it goes out once the DATA_ACK reaches it (see `SubflowMp::first_mapping_pending`).
    join_reserve: Option<(usize, u64, u64)>,
    /// An outside path manager drives it (`external`).
    pm_external: bool,
    fin_queued: bool,
    fin_dsn: Option<u64>,
    fin_acked: bool,
    fin_resend_at: Option<Instant>,
    // Receiving: offsets from `rcv_base` (the peer's IDSN + 1).
    rcv: RecvBuffer,
    rcv_base: u64,
    ack_wide: bool,
    peer_fin: Option<u64>,
    peer_fin_consumed: bool,
    app_closed: bool,
    closing_subflows: bool,
    /// The peer's DATA_FIN came before ours: we are the passive closer, and
    /// leave the subflows' first FINs to the peer (RFC 8041 §3.6).
    passive_close: bool,
    /// Until then, the passive closer waits for the peer's subflow FINs.
    passive_fin_deadline: Option<Instant>,
    closed: Option<CloseReason>,
    events: VecDeque<ConnEvent>,
    rr: usize,
    counters: MptcpCounters,
    pm: Option<Box<dyn crate::pm::PathManager>>,
    pm_events: VecDeque<PmEvent>,
    /// Every subflow is gone but the connection waits for a new one until then
    /// (the kernel's `close_timeout`).
    orphan_deadline: Option<Instant>,
    /// We aborted: our RSTs carry MP_FASTCLOSE (RFC 8684 §3.5).
    fastclose: bool,
    /// What we announced.
    announced: Vec<Announcement>,
    /// What the peer announced: (id, address, port).
    remote_addrs: Vec<(u8, std::net::IpAddr, Option<u16>)>,
    /// Address ids withdrawn while no live subflow could carry the REMOVE_ADDR
    /// (with the address that went away, which must not carry it): it goes
    /// out on the next subflow established.
    pending_rm: arrayvec::ArrayVec<(u8, Option<std::net::IpAddr>), 8>,
    /// We set C: no joins to our initial address and port.
    deny_join_initial: bool,
    /// The peer set C (RFC 8684 §3.1).
    peer_deny_join_initial: bool,
}

/// Third ACKs a joiner sends again before it resets the subflow.
const THIRD_ACK_TRIES: u8 = 6;

/// How long a connection outlives its last subflow, waiting for a new one.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(60);

impl core::fmt::Debug for MptcpConn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MptcpConn")
            .field("client", &self.client)
            .field("subflows", &self.subflows.len())
            .field("fallback", &self.fallback)
            .finish()
    }
}

impl MptcpConn {
    fn new(
        client: bool,
        local_key: u64,
        cfg: &MptcpConfig,
        tcp_cfg: &crate::tcp::TcpConfig,
        cc: Box<dyn CongestionControl>,
        sched: Box<dyn Scheduler>,
    ) -> Self {
        MptcpConn {
            client,
            local_key,
            remote_key: None,
            checksum_request: cfg.checksum,
            checksum: cfg.checksum,
            fully_established: false,
            fallback: None,
            subflows: Vec::new(),
            next_subflow_id: 0,
            cc,
            sched,
            snd_buf: ChunkQueue::new(usize::MAX, 0),
            scratch: Vec::new(),
            last_gso: 0,
            tx_by_ref: false,
            last_emitter: 0,
            rcv_freed: 0,
            rcv_capacity: tcp_cfg.recv_buffer,
            snd_cap: tcp_cfg.send_buffer,
            held_last: 0,
            write_short: false,
            // RFC 8684 §3.3: our first data byte is numbered IDSN + 1.
            snd_una: crypto::idsn(local_key).wrapping_add(1),
            snd_nxt: crypto::idsn(local_key).wrapping_add(1),
            opportunistic: cfg.opportunistic,
            opportunistic_dsn: None,
            opportunistic_at: None,
            penalised_at: None,
            reinject: VecDeque::new(),
            snd_wnd_end: None,
            data_rtx_at: None,
            data_rtx_backoff: 0,
            window_probe_at: None,
            window_probe_backoff: 0,
            sched_wake: None,
            join_reserve: None,
            pm_external: false,
            fin_queued: false,
            fin_dsn: None,
            fin_acked: false,
            fin_resend_at: None,
            rcv: {
                // Linux sends past the data level's edge by up to a window
                // (`tcp/recv_buf.rs`, `set_slack`): held, not dropped.
                // Out-of-order ranges at the data level: subflows of unequal
                // RTTs leave a hole every mapping or so, far more than one
                // TCP connection's reordering; a range per KiB of buffer (6,144
                // for 6 MiB, a few hundred KiB of map) still bounds a hostile
                // peer's slivers.
                let ranges = tcp_cfg.max_ooo_ranges.max(tcp_cfg.recv_buffer / 1024);
                let mut rcv = RecvBuffer::new(tcp_cfg.recv_buffer, ranges);
                rcv.set_slack(tcp_cfg.recv_buffer);
                rcv
            },
            rcv_base: 0,
            ack_wide: false,
            peer_fin: None,
            peer_fin_consumed: false,
            app_closed: false,
            closing_subflows: false,
            passive_close: false,
            passive_fin_deadline: None,
            closed: None,
            events: VecDeque::new(),
            rr: 0,
            counters: MptcpCounters::default(),
            pm: None,
            pm_events: VecDeque::new(),
            orphan_deadline: None,
            fastclose: false,
            announced: Vec::new(),
            remote_addrs: Vec::new(),
            pending_rm: arrayvec::ArrayVec::new(),
            deny_join_initial: cfg.deny_join_initial,
            peer_deny_join_initial: false,
        }
    }

    /// The peer's address on the initial subflow.
    pub fn initial_remote(&self) -> Option<SocketAddr> {
        self.subflows.first().map(|s| s.tcp.remote())
    }

    /// An active open: the initial subflow's SYN carries MP_CAPABLE.
    pub fn connect(
        local_key: u64,
        tcp: TcpConn,
        cfg: &MptcpConfig,
        tcp_cfg: &crate::tcp::TcpConfig,
        cc: Box<dyn CongestionControl>,
        sched: Box<dyn Scheduler>,
    ) -> Self {
        let mut c = Self::new(true, local_key, cfg, tcp_cfg, cc, sched);
        let mut mp = SubflowMp::new(SubflowRole::InitialActive, 0, false);
        // RFC 8684 §3.4.1: the initial subflow's addresses are id 0 on both sides.
        mp.remote_id = Some(0);
        c.push_subflow(tcp, mp);
        c
    }

    /// A passive open from a SYN with MP_CAPABLE.
    pub fn accept(
        local_key: u64,
        tcp: TcpConn,
        syn_options: &[u8],
        cfg: &MptcpConfig,
        tcp_cfg: &crate::tcp::TcpConfig,
        cc: Box<dyn CongestionControl>,
        sched: Box<dyn Scheduler>,
    ) -> Self {
        let mut c = Self::new(false, local_key, cfg, tcp_cfg, cc, sched);
        // RFC 8684 §3.1: checksums are used if either side sets A.
        if let Some(m) = SegOptions::parse(syn_options).mpc {
            c.checksum |= m.checksum_required();
        }
        let mut mp = SubflowMp::new(SubflowRole::InitialPassive, 0, false);
        // RFC 8684 §3.4.1: the initial subflow's addresses are id 0 on both sides.
        mp.remote_id = Some(0);
        c.push_subflow(tcp, mp);
        c
    }

    /// Our token (the peer names this connection by it in MP_JOIN).
    pub fn local_token(&self) -> u32 {
        crypto::token(self.local_key)
    }

    /// The subflows' 4-tuples, by index.
    pub fn tuples(&self) -> impl Iterator<Item = (usize, SocketAddr, SocketAddr)> + '_ {
        self.subflows.iter().enumerate().map(|(i, s)| (i, s.tcp.local(), s.tcp.remote()))
    }

    /// Whether subflow `k` is still in its handshake (a SYN answered, no ACK yet).
    pub fn subflow_half_open(&self, k: usize) -> bool {
        self.subflows.get(k).is_some_and(|s| !s.mp.gone && s.tcp.state() == crate::tcp::conn::State::SynReceived)
    }

    /// Subflows held (gone ones included until the connection ends).
    pub fn subflow_count(&self) -> usize {
        self.subflows.iter().filter(|s| !s.mp.gone).count()
    }

    /// Whether it fell back to TCP, and why.
    pub fn fallback(&self) -> Option<Fallback> {
        self.fallback
    }

    /// Whether new subflows can be added now.
    pub fn can_join(&self) -> bool {
        self.fallback.is_none()
            && self.remote_key.is_some()
            && self.closed.is_none()
            && !self.closing_subflows
            // After our MP_FAIL the connection may fall back (RFC 8684 §3.7).
            && !self.subflows.iter().any(|s| s.mp.awaiting_infinite)
    }

    /// The peer set C in its MP_CAPABLE: it refuses joins to its initial
    /// address and port (RFC 8684 §3.1).
    pub fn peer_denies_join_initial(&self) -> bool {
        self.peer_deny_join_initial
    }

    /// Our address and port on the initial subflow.
    pub fn initial_local(&self) -> Option<SocketAddr> {
        self.subflows.first().map(|s| s.tcp.local())
    }

    /// The ports the peer may join besides listening ones: the initial
    /// subflow's and the ones we announced.
    pub fn joinable_port(&self, port: u16) -> bool {
        self.initial_local().is_some_and(|l| l.port() == port) || self.announced.iter().any(|a| a.port == Some(port))
    }

    /// Opens another subflow with MP_JOIN; `tcp` is a fresh active-open TCP connection.
    pub fn add_subflow(&mut self, tcp: TcpConn, local_id: u8, backup: bool, nonce: u32) -> Result<usize, Error> {
        if !self.can_join() {
            return Err(Error::InvalidState("the connection cannot take subflows now"));
        }
        let mut mp = SubflowMp::new(SubflowRole::JoinActive, local_id, backup);
        mp.join.local_nonce = nonce;
        let i = self.push_subflow(tcp, mp);
        self.pm_events.push_back(PmEvent::SubflowCreated(self.pm_subflow(i)));
        Ok(i)
    }

    /// Takes a SYN with MP_JOIN addressed to this connection; returns the new
    /// subflow's index, or None if it must be refused (the kernel's
    /// `MPJoinRejected`: not fully established, fallen back, or over the limit).
    pub fn accept_join(
        &mut self,
        tcp: TcpConn,
        syn_options: &[u8],
        nonce: u32,
        max_subflows: usize,
        backup: bool,
    ) -> Option<usize> {
        if !self.can_join() || !self.fully_established || self.subflow_count() >= max_subflows.min(MAX_SUBFLOWS) {
            return None;
        }
        // RFC 8684 §3.1: with C set, the initial address and port take no joins.
        if self.deny_join_initial && self.initial_local() == Some(tcp.local()) {
            return None;
        }
        let Some(MpJoin::Syn { backup: peer_backup, addr_id, nonce: remote_nonce, .. }) =
            SegOptions::parse(syn_options).join
        else {
            return None;
        };
        // Our address id on it: the one we announced for that address, if any.
        let local_id = self.local_id_of(tcp.local().ip()).unwrap_or(0);
        let mut mp = SubflowMp::new(SubflowRole::JoinPassive, local_id, backup);
        mp.peer_backup = peer_backup;
        mp.remote_id = Some(addr_id);
        mp.join.local_nonce = nonce;
        mp.join.remote_nonce = Some(remote_nonce);
        let i = self.push_subflow(tcp, mp);
        self.pm_events.push_back(PmEvent::SubflowCreated(self.pm_subflow(i)));
        Some(i)
    }

    fn facts(&self) -> ConnFacts {
        let data_ack = self.remote_key.map(|_| self.data_ack());
        let data_fin = match (self.fin_dsn, self.fin_acked) {
            (Some(d), false) => Some(d),
            _ => None,
        };
        ConnFacts {
            local_key: self.local_key,
            remote_key: self.remote_key,
            checksum_request: self.checksum_request,
            checksum: self.checksum,
            fallback: self.fallback.is_some(),
            mpc_pending: self.client && !self.fully_established,
            data_ack,
            ack_wide: self.ack_wide,
            data_fin,
            remote_token: self.remote_key.map_or(0, crypto::token),
            fastclose: self.fastclose,
            deny_join_initial: self.deny_join_initial,
        }
    }

    /// The next data sequence number we expect (our DATA_ACK).
    fn data_ack(&self) -> u64 {
        let consumed = u64::from(self.peer_fin_consumed);
        self.rcv_base.wrapping_add(self.rcv.next()).wrapping_add(consumed)
    }

    /// Drops the first `n` queued bytes (acknowledged, or handed to TCP in fallback).
    pub(super) fn snd_drop(&mut self, n: u64) {
        let n = n.min(self.snd_buf.len() as u64);
        self.snd_buf.advance_to(self.snd_buf.start() + n);
        self.snd_una = self.snd_una.wrapping_add(n);
    }

    /// Bytes written and not yet acknowledged by the peer: at the data level,
    /// and in the one subflow after a fallback.
    pub fn send_outstanding(&self) -> usize {
        let tcp = if self.fallback.is_some() { self.subflows.first().map_or(0, |s| s.tcp.send_queued()) } else { 0 };
        self.snd_buf.len() + tcp
    }

    /// Half-close: a DATA_FIN follows the data.
    pub fn shutdown(&mut self) {
        // In fallback the subflow's FIN follows once the queued data is in it (see `schedule`).
        self.fin_queued = true;
    }

    /// Full close.
    pub fn close(&mut self) {
        // Unread data at close: the connection is reset, with MP_FASTCLOSE
        // (the kernel does the same; RFC 2525 §2.17 for TCP, as TcpConn::close).
        if self.readable() > 0 && self.closed.is_none() {
            self.abort();
            return;
        }
        self.app_closed = true;
        self.shutdown();
    }

    /// Resets every subflow.
    pub fn abort(&mut self) {
        self.app_closed = true;
        // RFC 8684 §3.5: the RSTs carry MP_FASTCLOSE so the peer ends it too.
        self.fastclose = self.fallback.is_none() && self.remote_key.is_some();
        for sf in &mut self.subflows {
            if !sf.mp.gone {
                sf.tcp.abort();
            }
        }
        self.finish(CloseReason::Aborted);
    }

    /// The application released it.
    pub fn app_closed(&self) -> bool {
        self.app_closed
    }

    /// Closed, and why.
    pub fn closed(&self) -> Option<CloseReason> {
        self.closed
    }

    fn finish(&mut self, reason: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(reason);
            self.events.push_back(ConnEvent::Closed(reason));
            self.pm_events.push_back(PmEvent::Closed);
        }
    }

    /// Next event for the owner.
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// Writes the next segment of any subflow into `buf`, behind room for
    /// the IP header of that subflow's family (20 bytes for IPv4, 40 for
    /// IPv6); returns its 4-tuple and the TCP segment's length.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, SocketAddr, usize)> {
        self.schedule(now);
        self.maybe_close_subflows(now);
        let facts = self.facts();
        let views = self.views();
        let n = self.subflows.len();
        for k in 0..n {
            let i = (self.rr + k) % n;
            let sf = &mut self.subflows[i];
            let mut hook = Hook { mp: &mut sf.mp, conn: facts };
            let mut ctx = CcCtx { cc: &mut *self.cc, others: &views, hook: Some(&mut hook) };
            let ip_len = if sf.tcp.local().is_ipv4() { 20 } else { 40 };
            let Some(tcp_buf) = buf.get_mut(ip_len..) else { continue };
            sf.tcp.set_tx_by_ref(self.tx_by_ref);
            let sent = sf.tcp.poll_transmit(now, &mut ctx, tcp_buf);
            // Signals count once written (see `Hook::on_emitted`).
            let signals = std::mem::take(&mut sf.mp.sent_signals);
            self.counters.add_addr_tx += signals.add_addr;
            self.counters.rm_addr_tx += signals.rm_addr;
            self.counters.mp_prio_tx += signals.mp_prio;
            self.counters.add_addr_too_long += signals.add_addr_too_long;
            if let Some(len) = sent {
                self.last_gso = sf.tcp.last_gso_size();
                self.last_emitter = i;
                self.rr = (i + 1) % n;
                let (l, r) = (sf.tcp.local(), sf.tcp.remote());
                sf.mp.sent.acked_to(sf.tcp.una_rel_seq());
                self.after_events(now);
                return Some((l, r, len));
            }
        }
        self.after_events(now);
        None
    }

    /// The segment size the device is to cut the segment last written by
    /// `poll_transmit` into, or 0 when it is a single segment.
    pub fn last_gso_size(&self) -> u16 {
        self.last_gso
    }

    /// Subflows write payload by reference (see `TcpConn::set_tx_by_ref`).
    pub fn set_tx_by_ref(&mut self, on: bool) {
        self.tx_by_ref = on;
    }

    /// The payload references of the segment `poll_transmit` just wrote.
    pub fn take_tx_refs(&mut self, out: &mut Vec<bytes::Bytes>) {
        if let Some(sf) = self.subflows.get_mut(self.last_emitter) {
            sf.tcp.take_tx_refs(out);
        }
    }

    /// Figures per subflow.
    pub fn subflow_stats(&self) -> Vec<SubflowStats> {
        self.subflows
            .iter()
            .map(|s| {
                let t = s.tcp.stats(&*self.cc);
                SubflowStats {
                    id: s.id.0,
                    local: t.local.clone(),
                    remote: t.remote.clone(),
                    state: t.state,
                    backup: s.mp.backup || s.mp.peer_backup,
                    join: matches!(s.mp.role, SubflowRole::JoinActive | SubflowRole::JoinPassive),
                    bytes_sent: t.bytes_sent,
                    bytes_received: t.bytes_received,
                    retransmitted_bytes: t.retransmitted_bytes,
                    srtt_us: t.srtt_us,
                    cwnd: t.cwnd,
                    tcp: t,
                }
            })
            .collect()
    }

    /// Connection-level counters.
    pub fn counters(&self) -> &MptcpCounters {
        &self.counters
    }

    /// Stats of the initial subflow, in the plain-TCP shape.
    pub fn first_stats(&self) -> Option<crate::tcp::ConnStats> {
        self.subflows.first().map(|s| s.tcp.stats(&*self.cc))
    }

    /// Whether a subflow still wants to send (so the endpoint polls it).
    pub fn wants_transmit(&self) -> bool {
        self.subflows.iter().any(|s| s.tcp.wants_transmit() || s.mp.ack_due) || !self.reinject.is_empty()
    }
}
