//! An MPTCP connection (RFC 8684): keys and tokens, subflows, the data
//! sequence space with its mappings, DATA_ACK and DATA_FIN, and the fallback
//! to regular TCP. The receive side of the data sequence space (mapping
//! checks, DSS checksums, MP_FAIL and mid-stream fallback) is in `receive`.

mod receive;
mod send;

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
}

/// MPTCP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MptcpConfig {
    /// Open connections with MP_CAPABLE, and accept MPTCP on listeners
    /// (true by default; false makes the endpoint plain TCP).
    pub enabled: bool,
    /// Ask for DSS checksums (the A flag).
    pub checksum: bool,
    /// Congestion control for MPTCP connections (`lia` by default; any name works).
    pub cc: String,
    /// Scheduler by name (`minrtt` by default).
    pub scheduler: String,
    /// A scheduler of the user's own, built for each connection; it takes
    /// the place of `scheduler` (and of a name given at connect time).
    pub scheduler_factory: Option<Plugin<dyn SchedulerFactory>>,
    /// A congestion control of the user's own for MPTCP connections, built
    /// for each; it takes the place of `cc`.
    pub cc_factory: Option<Plugin<dyn CongestionControlFactory>>,
    /// A path manager of the user's own, built for each connection (both
    /// sides); it takes the place of `path_manager`.
    pub pm_factory: Option<Plugin<dyn crate::pm::PathManagerFactory>>,
    /// Most subflows per connection (the initial one included): the kernel's
    /// `subflows` limit plus one. Joins beyond it are refused.
    pub max_subflows: usize,
    /// Addresses announced by the peer that the `kernel` path manager joins
    /// (the kernel's `add_addr_accepted` limit).
    pub add_addr_accepted: usize,
    /// Path manager by name (`kernel` by default, which behaves like the
    /// Linux kernel's in-kernel one); it runs on the side that connects, and
    /// `kernel` also on the side that accepts.
    pub path_manager: String,
    /// Subflows in all for `ndiffports`.
    pub subflows_per_path: usize,
    /// Announce our other addresses (of the peer's family) with ADD_ADDR once
    /// a connection is established, like the kernel's `signal` endpoints.
    pub announce: bool,
    /// Set C in our MP_CAPABLE and refuse joins to our initial address and
    /// port (RFC 8684 §3.1; the kernel's `allow_join_initial_addr_port = 0`).
    pub deny_join_initial: bool,
}

impl Default for MptcpConfig {
    fn default() -> Self {
        MptcpConfig {
            enabled: true,
            checksum: false,
            cc: "lia".to_owned(),
            scheduler: "minrtt".to_owned(),
            scheduler_factory: None,
            cc_factory: None,
            pm_factory: None,
            // The kernel's default limits: 2 additional subflows, no announced address joined.
            max_subflows: 3,
            add_addr_accepted: 0,
            path_manager: "kernel".to_owned(),
            subflows_per_path: 1,
            announce: false,
            deny_join_initial: false,
        }
    }
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
}

impl SegOptions {
    fn parse(raw: &[u8]) -> Self {
        let mut s = SegOptions::default();
        for o in TcpOptionIter::new(raw).flatten() {
            if let TcpOption::Mptcp(m) = o {
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

/// Per-subflow figures for people and tools.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubflowStats {
    /// The subflow's id within its connection.
    pub id: u32,
    /// Local address.
    pub local: String,
    /// Remote address.
    pub remote: String,
    /// TCP state.
    pub state: State,
    /// A backup subflow (either side asked).
    pub backup: bool,
    /// Joined with MP_JOIN (false for the initial subflow).
    pub join: bool,
    /// Payload bytes sent and received on it.
    pub bytes_sent: u64,
    /// See `bytes_sent`.
    pub bytes_received: u64,
    /// Retransmitted payload bytes.
    pub retransmitted_bytes: u64,
    /// Smoothed RTT, microseconds.
    pub srtt_us: u64,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Everything TCP knows of it.
    pub tcp: crate::tcp::ConnStats,
}

/// Connection-level counters, named after the kernel's MIB where one exists.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MptcpCounters {
    /// MP_JOIN subflows established.
    pub joins: u32,
    /// `MPJoinSynAckHMacFailure` / `MPJoinAckHMacFailure`.
    pub join_hmac_failures: u32,
    /// `DataCsumErr`.
    pub data_csum_err: u32,
    /// Bytes received without a mapping (dropped).
    pub unmapped_bytes: u64,
    /// Bytes reinjected on another subflow after theirs failed.
    pub reinjected_bytes: u64,
    /// `NoDSSInWindow`: mapped data that fell beyond the data level's
    /// window and was dropped (after its subflow acknowledged it).
    pub no_dss_in_window: u32,
    /// `MPTCPRetrans`: data-level retransmissions (data the peer acknowledged
    /// on a subflow but never at the data level).
    pub data_retransmits: u32,
    /// `AddAddr`: ADD_ADDR received with a good HMAC.
    pub add_addr: u32,
    /// `AddAddrDrop`: ADD_ADDR ignored for a bad HMAC.
    pub add_addr_drop: u32,
    /// `AddAddrTx`: ADD_ADDR sent (retransmissions included).
    pub add_addr_tx: u32,
    /// `EchoAdd`: echoes of our ADD_ADDR received.
    pub echo_add: u32,
    /// `RmAddr`: REMOVE_ADDR received.
    pub rm_addr: u32,
    /// `RmAddrTx`: REMOVE_ADDR sent.
    pub rm_addr_tx: u32,
    /// `MPPrioRx`: MP_PRIO received.
    pub mp_prio_rx: u32,
    /// `MPPrioTx`: MP_PRIO sent.
    pub mp_prio_tx: u32,
    /// ADD_ADDRs not sent because they cannot fit beside the segment's other
    /// options (an IPv6 address with a port and its HMAC, 30 bytes, next to
    /// TCP timestamps: the kernel cannot send those either).
    pub add_addr_too_long: u32,
    /// `MPFailTx`: checksum failures answered with MP_FAIL.
    pub mp_fail_tx: u32,
    /// `MPFailRx`: MP_FAIL received.
    pub mp_fail_rx: u32,
    /// `InfiniteMapTx`: infinite mappings sent.
    pub infinite_map_tx: u32,
    /// `InfiniteMapRx`: infinite mappings received.
    pub infinite_map_rx: u32,
    /// `DssFallback`: fallbacks to TCP after data flowed.
    pub dss_fallback: u32,
    /// `FallbackFailed`: subflows reset because fallback was no longer allowed.
    pub fallback_failed: u32,
    /// `DSSNotMatching`: mappings that contradicted the data or an earlier mapping.
    pub dss_not_matching: u32,
    /// Bytes dropped after MP_FAIL, before the infinite mapping (sent again by the peer).
    pub mp_fail_dropped_bytes: u64,
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
    /// Receive staging: subflow bytes on their way to the data level.
    scratch: Vec<u8>,
    /// The GSO segment size of the segment last written (0: one segment).
    last_gso: u16,
    /// Bytes the application read since the last window update it caused.
    rcv_freed: u64,
    /// The data-level receive buffer's size.
    rcv_capacity: usize,
    snd_cap: usize,
    snd_una: u64,
    snd_nxt: u64,
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
            scratch: vec![0u8; 65_536],
            last_gso: 0,
            rcv_freed: 0,
            rcv_capacity: tcp_cfg.recv_buffer,
            snd_cap: tcp_cfg.send_buffer,
            // RFC 8684 §3.3: our first data byte is numbered IDSN + 1.
            snd_una: crypto::idsn(local_key).wrapping_add(1),
            snd_nxt: crypto::idsn(local_key).wrapping_add(1),
            reinject: VecDeque::new(),
            snd_wnd_end: None,
            data_rtx_at: None,
            data_rtx_backoff: 0,
            sched_wake: None,
            join_reserve: None,
            pm_external: false,
            fin_queued: false,
            fin_dsn: None,
            fin_acked: false,
            fin_resend_at: None,
            rcv: RecvBuffer::new(tcp_cfg.recv_buffer, tcp_cfg.max_ooo_ranges),
            rcv_base: 0,
            ack_wide: false,
            peer_fin: None,
            peer_fin_consumed: false,
            app_closed: false,
            closing_subflows: false,
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
            deny_join_initial: cfg.deny_join_initial,
            peer_deny_join_initial: false,
        }
    }

    /// A live subflow that can carry a signal (one not from `avoid`).
    fn signal_subflow(&self, avoid: Option<std::net::IpAddr>) -> Option<usize> {
        self.subflows
            .iter()
            .position(|s| s.mp.ready && !s.mp.gone && !s.mp.stale && Some(s.tcp.local().ip()) != avoid)
            .or_else(|| self.subflows.iter().position(|s| s.mp.ready && !s.mp.gone))
    }

    /// Announces `addr` (and `port`) with ADD_ADDR under address id `id`;
    /// it is sent again until echoed (RFC 8684 §3.4.1).
    pub fn announce(&mut self, now: Instant, id: u8, addr: std::net::IpAddr, port: Option<u16>) {
        if self.fallback.is_some() || self.announced.iter().any(|a| a.id == id) {
            return;
        }
        self.announced.push(Announcement { id, addr, port, echoed: false, tries: 0, resend_at: Some(now) });
        self.send_announcements(now);
    }

    fn send_announcements(&mut self, now: Instant) {
        let Some(rk) = self.remote_key else { return };
        let rto = self.subflows.iter().map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
        let interval = rto.saturating_mul(4).max(Duration::from_millis(200)).min(Duration::from_secs(120));
        for k in 0..self.announced.len() {
            let a = self.announced[k];
            if a.echoed || a.resend_at.is_none_or(|t| t > now) {
                continue;
            }
            let Some(i) = self.signal_subflow(None) else { return };
            // RFC 8684 §3.4.1: HMAC(Key-sender || Key-receiver, id || address || port), rightmost 64 bits.
            let hmac = crypto::add_addr_hmac(self.local_key, rk, a.id, a.addr, a.port);
            let sf = &mut self.subflows[i].mp;
            sf.signal = Some(AddAddr { echo: false, addr_id: a.id, addr: a.addr, port: a.port, hmac: Some(hmac) });
            sf.ack_due = true;
            let a = &mut self.announced[k];
            a.tries += 1;
            a.resend_at = (a.tries <= ADD_ADDR_RETRANS_MAX).then(|| now + interval);
        }
    }

    /// Withdraws the address id `id` with REMOVE_ADDR (RFC 8684 §3.4.2).
    pub fn withdraw(&mut self, id: u8, gone_addr: Option<std::net::IpAddr>) {
        if self.fallback.is_some() || self.remote_key.is_none() {
            return;
        }
        self.announced.retain(|a| a.id != id);
        let Some(i) = self.signal_subflow(gone_addr) else { return };
        let sf = &mut self.subflows[i].mp;
        if !sf.rm_ids.contains(&id) {
            let _ = sf.rm_ids.try_push(id);
        }
        sf.rm_due = true;
        sf.ack_due = true;
    }

    /// The local address id used on subflows from `addr`, if any.
    pub fn local_id_of(&self, addr: std::net::IpAddr) -> Option<u8> {
        self.announced
            .iter()
            .find(|a| a.addr == addr)
            .map(|a| a.id)
            .or_else(|| self.subflows.iter().find(|s| s.tcp.local().ip() == addr).map(|s| s.mp.local_id))
    }

    /// Subflows from `addr` become (or stop being) backups: MP_PRIO tells the peer.
    pub fn set_backup_from(&mut self, addr: std::net::IpAddr, backup: bool) {
        for sf in self.subflows.iter_mut().filter(|s| s.tcp.local().ip() == addr && !s.mp.gone) {
            if sf.mp.backup != backup {
                sf.mp.backup = backup;
                sf.mp.prio_due = Some(backup);
                sf.mp.ack_due = true;
            }
        }
    }

    /// The address signals of a segment on subflow `i`.
    fn on_signals(&mut self, now: Instant, i: usize, opts: &SegOptions) {
        for a in &opts.add_addr {
            if a.echo {
                if let Some(x) = self.announced.iter_mut().find(|x| x.id == a.addr_id && x.addr == a.addr) {
                    x.echoed = true;
                    x.resend_at = None;
                    self.counters.echo_add += 1;
                }
                continue;
            }
            let Some(rk) = self.remote_key else { continue };
            // RFC 8684 §3.4.1: an ADD_ADDR whose HMAC does not verify is ignored.
            if a.hmac != Some(crypto::add_addr_hmac(rk, self.local_key, a.addr_id, a.addr, a.port)) {
                self.counters.add_addr_drop += 1;
                continue;
            }
            self.counters.add_addr += 1;
            let sf = &mut self.subflows[i].mp;
            sf.signal = Some(AddAddr { echo: true, hmac: None, ..*a });
            sf.ack_due = true;
            if !self.remote_addrs.iter().any(|r| r.0 == a.addr_id) {
                self.remote_addrs.push((a.addr_id, a.addr, a.port));
                let port = a.port.or_else(|| self.initial_remote().map(|r| r.port())).unwrap_or(0);
                self.pm_events
                    .push_back(PmEvent::AddressAnnounced { id: a.addr_id, addr: SocketAddr::new(a.addr, port) });
            }
        }
        if !opts.remove.is_empty() {
            self.counters.rm_addr += 1;
            self.remote_addrs.retain(|r| !opts.remove.contains(&r.0));
            for &id in &opts.remove {
                self.pm_events.push_back(PmEvent::AddressRemoved { id });
            }
            // RFC 8684 §3.4.2: subflows using a withdrawn address close.
            for sf in self.subflows.iter_mut() {
                if !sf.mp.gone && sf.mp.remote_id.is_some_and(|id| opts.remove.contains(&id)) {
                    sf.tcp.abort();
                }
            }
            self.after_events(now);
        }
        if let Some(backup) = opts.prio {
            self.counters.mp_prio_rx += 1;
            self.subflows[i].mp.peer_backup = backup;
            let subflow = self.pm_subflow(i);
            self.pm_events.push_back(PmEvent::PriorityChanged { subflow, backup });
        }
    }

    /// Closes subflow `i` (a FIN; what it carried and was not DATA_ACKed
    /// goes out on the others once it is gone).
    pub fn close_subflow(&mut self, i: usize) {
        if let Some(sf) = self.subflows.get_mut(i)
            && !sf.mp.gone
        {
            sf.tcp.close();
        }
    }

    /// Makes subflow `i` a backup or not, telling the peer (MP_PRIO).
    pub fn set_subflow_backup(&mut self, i: usize, backup: bool) {
        if let Some(sf) = self.subflows.get_mut(i)
            && !sf.mp.gone
            && sf.mp.backup != backup
        {
            sf.mp.backup = backup;
            sf.mp.prio_due = Some(backup);
            sf.mp.ack_due = true;
        }
    }

    /// An outside path manager drives this connection: its events go out
    /// through `Endpoint::poll_pm_event` (the path manager `external`).
    pub fn set_external_pm(&mut self) {
        self.pm = None;
        self.pm_external = true;
    }

    /// Whether an outside path manager drives this connection.
    pub fn pm_external(&self) -> bool {
        self.pm_external
    }

    /// Gives the connection a path manager (the side that connects runs one).
    pub fn set_path_manager(&mut self, pm: Box<dyn crate::pm::PathManager>) {
        self.pm = Some(pm);
    }

    /// Takes the path manager out for a call (the endpoint puts it back).
    pub fn take_path_manager(&mut self) -> Option<Box<dyn crate::pm::PathManager>> {
        self.pm.take()
    }

    /// The next event for the path manager.
    pub fn take_pm_event(&mut self) -> Option<PmEvent> {
        self.pm_events.pop_front()
    }

    /// Whether this side runs a path manager (the side that connected).
    pub fn has_path_manager(&self) -> bool {
        self.pm.is_some()
    }

    /// The subflows as path managers see them.
    pub fn pm_subflows(&self) -> Vec<SubflowInfo> {
        (0..self.subflows.len()).map(|i| self.pm_subflow(i)).collect()
    }

    /// Subflow `i` as path managers see it.
    pub fn pm_subflow(&self, i: usize) -> SubflowInfo {
        let s = &self.subflows[i];
        SubflowInfo {
            id: s.id.0,
            local: s.tcp.local(),
            remote: s.tcp.remote(),
            alive: !s.mp.gone,
            established: s.mp.ready,
            backup: s.mp.backup || s.mp.peer_backup,
            error: if s.mp.gone { s.tcp.close_reason() } else { None },
            reset_reason: s.mp.peer_reset_reason.or(s.mp.reset_reason),
        }
    }

    /// The peer's address on the initial subflow.
    pub fn initial_remote(&self) -> Option<SocketAddr> {
        self.subflows.first().map(|s| s.tcp.remote())
    }

    /// Resets every subflow from `addr` (the address went away).
    pub fn reset_subflows_from(&mut self, now: Instant, addr: std::net::IpAddr) {
        for sf in self.subflows.iter_mut().filter(|s| s.tcp.local().ip() == addr && !s.mp.gone) {
            sf.tcp.abort();
        }
        self.after_events(now);
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
        c.push_subflow(tcp, SubflowMp::new(SubflowRole::InitialActive, 0, false));
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
        c.push_subflow(tcp, SubflowMp::new(SubflowRole::InitialPassive, 0, false));
        c
    }

    fn push_subflow(&mut self, mut tcp: TcpConn, mp: SubflowMp) -> usize {
        let id = SubflowId(self.next_subflow_id);
        self.next_subflow_id += 1;
        tcp.set_subflow_id(id);
        self.subflows.push(Subflow { tcp, id, mp });
        self.subflows.len() - 1
    }

    /// Our token (the peer names this connection by it in MP_JOIN).
    pub fn local_token(&self) -> u32 {
        crypto::token(self.local_key)
    }

    /// The subflows' 4-tuples, by index.
    pub fn tuples(&self) -> impl Iterator<Item = (usize, SocketAddr, SocketAddr)> + '_ {
        self.subflows.iter().enumerate().map(|(i, s)| (i, s.tcp.local(), s.tcp.remote()))
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

    /// The views of every live subflow but `me`.
    fn views_except(&self, me: SubflowId) -> arrayvec::ArrayVec<PathView, MAX_SUBFLOWS> {
        self.views().into_iter().filter(|v| v.id != me).collect()
    }

    fn views(&self) -> arrayvec::ArrayVec<PathView, MAX_SUBFLOWS> {
        self.subflows
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.mp.gone && s.tcp.is_synchronized())
            .take(MAX_SUBFLOWS)
            .map(|(i, _)| self.path_view(i))
            .collect()
    }

    /// What the algorithms see of subflow `i`.
    fn path_view(&self, i: usize) -> PathView {
        let s = &self.subflows[i];
        let mut v = s.tcp.view(&*self.cc);
        v.index = i;
        v.backup = s.mp.backup || s.mp.peer_backup;
        v.stale = s.mp.stale;
        v
    }

    fn learn_remote_key(&mut self, key: u64) {
        if self.remote_key.is_none() {
            self.remote_key = Some(key);
            self.rcv_base = crypto::idsn(key).wrapping_add(1);
        }
    }

    fn fall_back(&mut self, why: Fallback) {
        if self.fallback.is_none() {
            tracing::debug!(?why, "mptcp fallback");
            self.fallback = Some(why);
            self.rcv_base = 0;
        }
    }

    /// Processes a segment that arrived on subflow `i`.
    pub fn on_segment(&mut self, now: Instant, i: usize, seg: &Segment<'_>) {
        let opts = if self.fallback.is_some() { SegOptions::default() } else { SegOptions::parse(seg.options_raw) };
        if seg.flags.rst() && opts.rst_reason.is_some() {
            self.subflows[i].mp.peer_reset_reason = opts.rst_reason;
        }
        // RFC 8684 §3.5: MP_FASTCLOSE with our key ends the whole connection.
        if opts.fastclose == Some(self.local_key) {
            for sf in &mut self.subflows {
                if !sf.mp.gone {
                    sf.tcp.abort();
                    sf.mp.gone = true;
                }
            }
            self.finish(CloseReason::Reset);
            return;
        }
        if let Some(dsn) = opts.fail
            && self.on_mp_fail(now, i, dsn, seg.flags.rst())
        {
            self.after_events(now);
            return;
        }
        let was_synchronized = self.subflows[i].tcp.is_synchronized();
        let role = self.subflows[i].mp.role;
        let f = seg.flags;
        if f.syn() && f.ack() && !was_synchronized {
            match role {
                SubflowRole::InitialActive => match opts.mpc {
                    Some(m) if m.flags_acceptable() && m.sender_key.is_some() => {
                        self.learn_remote_key(m.sender_key.unwrap_or_default());
                        self.checksum |= m.checksum_required();
                        self.peer_deny_join_initial = m.deny_join_id0();
                    }
                    // RFC 8684 §3.1: no MP_CAPABLE in the SYN/ACK: regular TCP.
                    _ => self.fall_back(Fallback::SynAckWithoutMpc),
                },
                SubflowRole::JoinActive => {
                    let ok = match (opts.join, self.remote_key) {
                        (Some(MpJoin::SynAck { backup, addr_id, hmac, nonce }), Some(rk)) => {
                            let sf = &mut self.subflows[i].mp;
                            sf.peer_backup = backup;
                            sf.remote_id = Some(addr_id);
                            sf.join.remote_nonce = Some(nonce);
                            // RFC 8684 §3.2: the listener proves it knows both keys.
                            crypto::join_synack_hmac(rk, self.local_key, nonce, sf.join.local_nonce) == hmac
                        }
                        _ => false,
                    };
                    if !ok {
                        self.counters.join_hmac_failures += 1;
                        self.reset_subflow(now, i, 1);
                        return;
                    }
                    let rto = self.subflows[i].tcp.rto();
                    let sf = &mut self.subflows[i].mp;
                    sf.third_ack_due = true;
                    sf.ack_due = true;
                    // RFC 8684 §3.2: the third ACK is sent again until the fourth ACK.
                    sf.third_ack_resend_at = Some(now + rto);
                }
                _ => {}
            }
        }
        if !f.syn() && f.ack() && !f.rst() {
            match role {
                SubflowRole::InitialPassive if !self.fully_established && self.fallback.is_none() => match opts.mpc {
                    Some(m) if m.sender_key.is_some() && m.receiver_key == Some(self.local_key) => {
                        self.learn_remote_key(m.sender_key.unwrap_or_default());
                        self.peer_deny_join_initial = m.deny_join_id0();
                        if !self.fully_established {
                            self.fully_established = true;
                            self.pm_events.push_back(PmEvent::Established);
                        }
                    }
                    _ if self.remote_key.is_some() => {}
                    _ => self.fall_back(Fallback::AckWithoutMpc),
                },
                SubflowRole::InitialPassive => {}
                SubflowRole::JoinPassive if !self.subflows[i].mp.ready => {
                    let ok = match (opts.join, self.remote_key, self.subflows[i].mp.join.remote_nonce) {
                        (Some(MpJoin::Ack { hmac }), Some(rk), Some(rn)) => {
                            let ln = self.subflows[i].mp.join.local_nonce;
                            crypto::join_ack_hmac(rk, self.local_key, rn, ln) == hmac
                        }
                        _ => false,
                    };
                    if !ok {
                        self.counters.join_hmac_failures += 1;
                        self.reset_subflow(now, i, 3);
                        return;
                    }
                    let sf = &mut self.subflows[i].mp;
                    sf.ready = true;
                    // The fourth ACK: tell the joiner it may send data.
                    sf.ack_due = true;
                    self.counters.joins += 1;
                    self.pm_events.push_back(PmEvent::SubflowEstablished(self.pm_subflow(i)));
                }
                SubflowRole::JoinPassive if matches!(opts.join, Some(MpJoin::Ack { .. })) => {
                    // The third ACK again: our fourth ACK was lost, send another.
                    self.subflows[i].mp.ack_due = true;
                }
                SubflowRole::JoinActive if self.subflows[i].mp.third_ack_due => {
                    // The fourth ACK arrived: the subflow may carry data.
                    let sf = &mut self.subflows[i].mp;
                    sf.third_ack_due = false;
                    sf.third_ack_resend_at = None;
                    sf.ready = true;
                    sf.first_mapping_pending = true;
                    self.counters.joins += 1;
                    self.pm_events.push_back(PmEvent::SubflowEstablished(self.pm_subflow(i)));
                }
                _ => {}
            }
        }
        {
            let facts = self.facts();
            // Coupled congestion control sees the other subflows (RFC 6356).
            let others = self.views_except(self.subflows[i].id);
            let sf = &mut self.subflows[i];
            let mut hook = Hook { mp: &mut sf.mp, conn: facts };
            let mut ctx = CcCtx { cc: &mut *self.cc, others: &others, hook: Some(&mut hook) };
            let una = sf.tcp.una_rel_seq();
            sf.tcp.on_segment(now, seg, &mut ctx);
            if sf.tcp.una_rel_seq() > una {
                sf.mp.stale = false;
            }
        }
        // RFC 8684 §3.1: data with MP_CAPABLE (the client's first data, sent
        // until the connection is fully established) maps from IDSN + 1 at
        // subflow sequence 1, for the data-level length it carries.
        if self.fallback.is_none()
            && role == SubflowRole::InitialPassive
            && let Some(MpCapable { data_len: Some(len), sender_key: Some(k), checksum, .. }) = opts.mpc
            && Some(k) == self.remote_key
        {
            let dsn = crypto::idsn(k).wrapping_add(1);
            let m = RecvMapping { rel_ssn: 1, dsn, len: u64::from(len), checksum, data_fin: false };
            self.add_recv_mapping(now, i, m);
        }
        let mut mapped = opts.mpc.is_some_and(|m| m.data_len.is_some());
        if self.fallback.is_none()
            && let Some(dss) = opts.dss
        {
            mapped |= dss.mapping.is_some();
            self.on_dss(now, i, &dss, seg);
        }
        if matches!(role, SubflowRole::InitialActive | SubflowRole::InitialPassive)
            && self.subflows[i].tcp.is_synchronized()
        {
            self.subflows[i].mp.ready = true;
        }
        if self.fallback.is_none() && (!opts.add_addr.is_empty() || !opts.remove.is_empty() || opts.prio.is_some()) {
            // RFC 8684 §3.1: a non-echo ADD_ADDR also makes the client fully established.
            if opts.add_addr.iter().any(|a| !a.echo) && !self.fully_established && self.remote_key.is_some() {
                self.fully_established = true;
                self.pm_events.push_back(PmEvent::Established);
            }
            self.on_signals(now, i, &opts);
        }
        if !self.subflows[i].mp.gone {
            self.drain_subflow(now, i, mapped);
        }
        self.after_events(now);
    }

    /// The joiner sends its third ACK again, with backoff, until the fourth
    /// ACK comes (RFC 8684 §3.2); after `THIRD_ACK_TRIES` it gives up.
    fn resend_third_acks(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            let sf = &mut self.subflows[i];
            if sf.mp.gone || !sf.mp.third_ack_due || sf.mp.third_ack_resend_at.is_none_or(|t| t > now) {
                continue;
            }
            if sf.mp.third_ack_tries >= THIRD_ACK_TRIES {
                sf.mp.third_ack_resend_at = None;
                self.reset_subflow(now, i, 0);
                continue;
            }
            sf.mp.third_ack_tries += 1;
            sf.mp.ack_due = true;
            let backoff = sf.tcp.rto().saturating_mul(1 << sf.mp.third_ack_tries);
            sf.mp.third_ack_resend_at = Some(now + backoff.min(Duration::from_secs(60)));
        }
    }

    fn reset_subflow(&mut self, _now: Instant, i: usize, reason: u8) {
        let sf = &mut self.subflows[i];
        sf.mp.reset_reason = Some(reason);
        sf.tcp.abort();
    }

    /// Queues application bytes; returns how many fit.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        if self.fin_queued {
            return Err(Error::InvalidState("the sending side is shut down"));
        }
        let n = data.len().min(self.send_buffer_free());
        Ok(self.snd_buf.write(&data[..n]))
    }

    /// Queues `data` without copying it, if it fits whole; returns how many
    /// bytes were taken (all or none).
    pub fn write_bytes(&mut self, data: bytes::Bytes) -> Result<usize, Error> {
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        if self.fin_queued {
            return Err(Error::InvalidState("the sending side is shut down"));
        }
        let n = data.len();
        if n > self.send_buffer_free() || !self.snd_buf.write_bytes(data) {
            return Ok(0);
        }
        Ok(n)
    }

    /// Drops the first `n` queued bytes (acknowledged, or handed to TCP in fallback).
    pub(super) fn snd_drop(&mut self, n: u64) {
        let n = n.min(self.snd_buf.len() as u64);
        self.snd_buf.advance_to(self.snd_buf.start() + n);
        self.snd_una = self.snd_una.wrapping_add(n);
    }

    /// Reads in-order data-level bytes; `Ok(0)` is the end of the stream.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let n = self.rcv.read(out);
        if n > 0 {
            let cap = self.rcv.window() as u64;
            for sf in &mut self.subflows {
                sf.tcp.set_window_cap(Some(cap));
            }
            // The window opened: tell the peer once it opened by enough
            // (RFC 1122 §4.2.3.3's rule, at the data level), on any subflow.
            self.rcv_freed += n as u64;
            let step = (self.rcv_capacity as u64 / 4).min(128 * 1024);
            if self.rcv_freed >= step && self.fallback.is_none() {
                self.rcv_freed = 0;
                if let Some(sf) = self.subflows.iter_mut().find(|s| s.mp.ready && !s.mp.gone) {
                    sf.mp.ack_due = true;
                }
            }
            return Ok(n);
        }
        if self.peer_fin_consumed || (self.fallback.is_some() && self.fallback_eof()) {
            return Ok(0);
        }
        if self.closed.is_some() {
            return Err(Error::NotConnected);
        }
        Err(Error::WouldBlock)
    }

    fn fallback_eof(&mut self) -> bool {
        let sf = &mut self.subflows[0];
        matches!(sf.tcp.read(&mut []), Ok(0))
            && sf.tcp.readable() == 0
            && {
                let mut probe = [0u8; 0];
                sf.tcp.read(&mut probe).is_ok()
            }
            && matches!(
                sf.tcp.state(),
                State::CloseWait | State::LastAck | State::TimeWait | State::Closed | State::Closing
            )
    }

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        self.rcv.readable()
    }

    /// Bytes written and not yet acknowledged by the peer: at the data level,
    /// and in the one subflow after a fallback.
    pub fn send_outstanding(&self) -> usize {
        let tcp = if self.fallback.is_some() { self.subflows.first().map_or(0, |s| s.tcp.send_queued()) } else { 0 };
        self.snd_buf.len() + tcp
    }

    /// Room in the send buffer.
    pub fn send_buffer_free(&self) -> usize {
        self.snd_cap.saturating_sub(self.snd_buf.len())
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

    /// Subflow-level events: the handshake, failures and closes.
    fn after_events(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            while let Some(e) = self.subflows[i].tcp.poll_event() {
                match e {
                    ConnEvent::Connected if i == 0 => self.events.push_back(ConnEvent::Connected),
                    ConnEvent::Closed(reason) => self.subflow_gone(now, i, reason),
                    _ => {}
                }
            }
        }
        if !self.closing_subflows && self.fallback.is_none() {
            self.close_single_subflows(now);
        }
        // After both DATA_FINs, a subflow lingering in TIME-WAIT is done as far
        // as the connection goes.
        let closing = self.closing_subflows;
        let done = |s: &Subflow| s.mp.gone || (closing && s.tcp.state() == State::TimeWait);
        if self.subflows.iter().all(done) && !self.subflows.is_empty() && self.closed.is_none() {
            if self.closing_subflows || self.fallback.is_some() || !self.fully_established {
                let reason = if self.closing_subflows {
                    CloseReason::Normal
                } else {
                    self.subflows.first().and_then(|s| s.tcp.close_reason()).unwrap_or(CloseReason::Reset)
                };
                self.finish(reason);
            } else if self.orphan_deadline.is_none() {
                // No subflow left, but one may come (break-before-make): wait.
                self.orphan_deadline = Some(now + CLOSE_TIMEOUT);
            }
        } else if self.subflows.iter().any(|s| !s.mp.gone) {
            self.orphan_deadline = None;
        }
    }

    /// A subflow closed on its own, the connection going on (RFC 8684
    /// §3.3.3: a FIN without DATA_FIN closes that subflow only): the peer's
    /// FIN is answered with ours while another subflow carries the
    /// connection, and one closed both ways is gone for the connection
    /// (its TIME-WAIT goes on in TCP).
    fn close_single_subflows(&mut self, now: Instant) {
        for i in 0..self.subflows.len() {
            if self.subflows[i].mp.gone {
                continue;
            }
            match self.subflows[i].tcp.state() {
                State::CloseWait => {
                    let other = self
                        .subflows
                        .iter()
                        .enumerate()
                        .any(|(k, s)| k != i && s.mp.ready && !s.mp.gone && s.tcp.state() == State::Established);
                    if other {
                        self.subflows[i].tcp.close();
                    }
                }
                State::TimeWait => self.subflow_gone(now, i, CloseReason::Normal),
                _ => {}
            }
        }
    }

    fn subflow_gone(&mut self, _now: Instant, i: usize, reason: CloseReason) {
        let sf = &mut self.subflows[i];
        if sf.mp.gone {
            return;
        }
        sf.mp.gone = true;
        self.cc.on_subflow_removed(sf.id);
        if self.closed.is_none() && !self.closing_subflows && self.fallback.is_none() {
            let mut info = self.pm_subflow(i);
            info.error = info.error.or(Some(reason));
            self.pm_events.push_back(PmEvent::SubflowClosed(info));
        }
        // Data mapped on it and not acknowledged at the data level goes out again elsewhere.
        self.reinject_from(i);
    }

    /// Queues for reinjection the data mapped on subflow `i` and not yet
    /// acknowledged at the data level.
    fn reinject_from(&mut self, i: usize) {
        let una = self.snd_una;
        let ranges: Vec<(u64, u64)> = self.subflows[i].mp.sent.outstanding().collect();
        for (dsn, len) in ranges {
            let end = dsn.wrapping_add(len);
            if end.wrapping_sub(una) as i64 > 0 {
                let start = if dsn.wrapping_sub(una) as i64 >= 0 { dsn } else { una };
                let n = end.wrapping_sub(start);
                self.counters.reinjected_bytes += n;
                self.reinject.push_back((start, n));
            }
        }
    }

    /// When the connection-level timer is due.
    pub fn next_timeout(&self) -> Option<Instant> {
        let sub = self.subflows.iter().filter_map(|s| s.tcp.next_timeout()).min();
        let add = self.announced.iter().filter(|a| !a.echoed).filter_map(|a| a.resend_at).min();
        let third = self.subflows.iter().filter(|s| !s.mp.gone).filter_map(|s| s.mp.third_ack_resend_at).min();
        let fail = self.subflows.iter().filter(|s| !s.mp.gone).filter_map(|s| s.mp.mp_fail_deadline).min();
        [sub, self.fin_resend_at, self.orphan_deadline, add, third, self.data_rtx_at, fail, self.sched_wake]
            .into_iter()
            .flatten()
            .min()
    }

    /// The data-level retransmission timeout: a few of the slowest subflow's
    /// RTT, 200 ms at least, doubled per unanswered retransmission.
    fn data_rto(&self) -> Duration {
        let srtt = self.subflows.iter().filter(|s| !s.mp.gone).map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
        let base = srtt.saturating_mul(4).max(Duration::from_millis(200));
        base.saturating_mul(1 << self.data_rtx_backoff.min(8)).min(Duration::from_secs(60))
    }

    /// The data-level retransmission timer fired: when every subflow has had
    /// all it carried acknowledged and still the DATA_ACK lags, the peer
    /// dropped that data at the data level (beyond its window, say): send the
    /// oldest unacknowledged data again.
    fn on_data_rtx_timeout(&mut self, now: Instant) {
        self.data_rtx_at = None;
        if self.fallback.is_some() || self.snd_una == self.snd_nxt {
            return;
        }
        if self.join_reserve.is_some_and(|(_, dsn, _)| dsn == self.snd_una) {
            // The oldest bytes are a join's first mapping, about to go out there.
            self.data_rtx_at = Some(now + self.data_rto());
            return;
        }
        let idle = self
            .subflows
            .iter()
            .filter(|s| s.mp.ready && !s.mp.gone)
            .all(|s| s.tcp.una_rel_seq() == s.tcp.write_rel_seq());
        if idle && self.reinject.is_empty() {
            let len = self.snd_nxt.wrapping_sub(self.snd_una).min(MAX_MAPPING as u64);
            self.reinject.push_back((self.snd_una, len));
            self.counters.data_retransmits += 1;
            self.counters.reinjected_bytes += len;
            self.data_rtx_backoff += 1;
        }
        self.data_rtx_at = Some(now + self.data_rto());
    }

    /// Runs the timers due at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        let facts = self.facts();
        let mut stale = Vec::new();
        for i in 0..self.subflows.len() {
            if self.subflows[i].tcp.next_timeout().is_none_or(|t| t > now) {
                continue;
            }
            let others = self.views_except(self.subflows[i].id);
            let sf = &mut self.subflows[i];
            let before = sf.tcp.stats(&*self.cc).timeouts;
            let mut hook = Hook { mp: &mut sf.mp, conn: facts };
            let mut ctx = CcCtx { cc: &mut *self.cc, others: &others, hook: Some(&mut hook) };
            sf.tcp.on_timeout(now, &mut ctx);
            if sf.tcp.stats(&*self.cc).timeouts > before && sf.mp.ready && !sf.mp.gone && !sf.mp.stale {
                sf.mp.stale = true;
                stale.push(i);
            }
        }
        // A subflow whose RTO fired may be dead (its path gone, RFC 8041
        // §2.2): while another works, its data goes out there as well.
        if self.subflows.iter().any(|s| s.mp.ready && !s.mp.gone && !s.mp.stale) {
            for i in stale {
                self.reinject_from(i);
            }
        }
        if self.announced.iter().any(|a| !a.echoed && a.resend_at.is_some_and(|t| t <= now)) {
            self.send_announcements(now);
        }
        if self.sched_wake.is_some_and(|t| t <= now) {
            // The scheduler's wait is over: it decides again on the next poll.
            self.sched_wake = None;
        }
        if self.data_rtx_at.is_some_and(|t| t <= now) {
            self.on_data_rtx_timeout(now);
        }
        self.resend_third_acks(now);
        self.mp_fail_timeouts(now);
        if self.orphan_deadline.is_some_and(|t| t <= now) {
            self.orphan_deadline = None;
            let reason = self.subflows.first().and_then(|s| s.tcp.close_reason()).unwrap_or(CloseReason::Reset);
            self.finish(reason);
        }
        if self.fin_resend_at.is_some_and(|t| t <= now) {
            self.fin_resend_at = None;
            if !self.fin_acked {
                for sf in self.subflows.iter_mut().filter(|s| s.mp.ready && !s.mp.gone) {
                    sf.mp.ack_due = true;
                }
            }
        }
        self.after_events(now);
    }

    /// Closes the subflows once both DATA_FINs are through (RFC 8684 §3.3.3).
    fn maybe_close_subflows(&mut self, now: Instant) {
        if self.fallback.is_some() || self.closing_subflows {
            return;
        }
        if self.fin_acked && self.peer_fin_consumed {
            self.closing_subflows = true;
            for sf in &mut self.subflows {
                if !sf.mp.gone {
                    sf.tcp.close();
                }
            }
        } else if self.fin_dsn.is_some() && !self.fin_acked && self.fin_resend_at.is_none() {
            let srtt = self.subflows.iter().map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
            self.fin_resend_at = Some(now + srtt.saturating_mul(2).max(Duration::from_millis(200)));
        }
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
            let sent = sf.tcp.poll_transmit(now, &mut ctx, tcp_buf);
            // Signals count once written (see `Hook::on_emitted`).
            let signals = std::mem::take(&mut sf.mp.sent_signals);
            self.counters.add_addr_tx += signals.add_addr;
            self.counters.rm_addr_tx += signals.rm_addr;
            self.counters.mp_prio_tx += signals.mp_prio;
            self.counters.add_addr_too_long += signals.add_addr_too_long;
            if let Some(len) = sent {
                self.last_gso = sf.tcp.last_gso_size();
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
