//! The per-packet work: find the flow, follow its handshake, apply its MPTCP
//! options, and move its payload to the data level.

use crate::conn::{Conn, fallback};
use crate::flow::{Flow, JoinState, Role, Side};
use crate::mapping::{ChecksumOutcome, Mapping, Piece};
use crate::report::{AddAddrEvent, BackupChange, Event, ResetEvent};
use mptcp_wire::crypto;
use mptcp_wire::ip::{IpPacket, PROTO_TCP};
use mptcp_wire::mptcp::expand_dsn;
use mptcp_wire::mptcp::{AddAddr, Dss, MpCapable, MpJoin, MptcpOption};
use mptcp_wire::tcp::{Flags, TcpOption, TcpPacket};
use rustc_hash::FxHashMap;
use std::net::SocketAddr;

/// What the analyzer does besides counting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep every stream's bytes (for `--dump-data`); otherwise only which
    /// ranges arrived.
    pub keep_data: bool,
}

/// The MPTCP options of one segment, sorted by kind. A segment can carry several.
#[derive(Default)]
struct SegmentOptions<'a> {
    mpc: Option<MpCapable>,
    join: Option<MpJoin>,
    dss: Option<Dss>,
    others: arrayvec::ArrayVec<MptcpOption<'a>, 8>,
    malformed: bool,
}

impl<'a> SegmentOptions<'a> {
    fn parse(tcp: &TcpPacket<&'a [u8]>) -> Self {
        let mut s = SegmentOptions::default();
        for o in mptcp_wire::tcp::TcpOptionIter::new(tcp.options_raw_ref()) {
            match o {
                Ok(TcpOption::Mptcp(m)) => match m {
                    MptcpOption::MpCapable(c) => s.mpc = Some(c),
                    MptcpOption::MpJoin(j) => s.join = Some(j),
                    MptcpOption::Dss(d) => s.dss = Some(d),
                    other => {
                        let _ = s.others.try_push(other);
                    }
                },
                Ok(_) => {}
                Err(_) => s.malformed = true,
            }
        }
        s
    }

    fn any_mptcp(&self) -> bool {
        self.mpc.is_some() || self.join.is_some() || self.dss.is_some() || !self.others.is_empty()
    }
}

/// Rebuilds connections from packets fed in capture order.
#[derive(Debug, Default)]
pub struct Analyzer {
    opts: Options,
    flow_index: FxHashMap<(SocketAddr, SocketAddr), usize>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) conns: Vec<Conn>,
    /// Token → (connection, whose key).
    tokens: FxHashMap<u32, (usize, Side)>,
    pub(crate) first_ts: Option<u64>,
    pub(crate) last_ts: u64,
    pub(crate) packets: u64,
    pub(crate) tcp_packets: u64,
    pub(crate) skipped: u64,
    pub(crate) malformed: u64,
    /// Segments whose payload the capture cut short (snapshot length).
    pub(crate) snapped: u64,
    /// Zeros standing in for payload bytes the capture did not keep.
    filler: Vec<u8>,
}

impl Analyzer {
    /// An analyzer with nothing seen yet.
    pub fn new(opts: Options) -> Self {
        Analyzer { opts, ..Default::default() }
    }

    /// Counts a record that held no IP packet.
    pub fn skip(&mut self, ts_nanos: u64) {
        self.stamp(ts_nanos);
        self.skipped += 1;
    }

    fn stamp(&mut self, ts: u64) {
        self.packets += 1;
        self.first_ts.get_or_insert(ts);
        self.last_ts = self.last_ts.max(ts);
    }

    /// Seconds from the first record to `ts`.
    pub(crate) fn secs(&self, ts: u64) -> f64 {
        ts.saturating_sub(self.first_ts.unwrap_or(ts)) as f64 / 1e9
    }

    /// Feeds one IP packet (IPv4 or IPv6) captured at `ts_nanos`.
    pub fn packet(&mut self, ts_nanos: u64, ip_bytes: &[u8]) {
        self.stamp(ts_nanos);
        // A capture with a small snapshot length keeps the headers only: the
        // sequence space is accounted for, the missing bytes are not checked.
        let (ip, declared) = match IpPacket::parse(ip_bytes) {
            Ok(p) => (p, p.payload.len()),
            Err(mptcp_wire::Error::Truncated) => match IpPacket::parse_snapped(ip_bytes) {
                Ok(x) => x,
                Err(_) => {
                    self.skipped += 1;
                    return;
                }
            },
            Err(_) => {
                self.skipped += 1;
                return;
            }
        };
        if ip.protocol != PROTO_TCP || ip.fragment {
            self.skipped += 1;
            return;
        }
        let tcp = match TcpPacket::new_checked(ip.payload) {
            Ok(t) => t,
            Err(_) => {
                self.tcp_packets += 1;
                self.malformed += 1;
                return;
            }
        };
        self.tcp_packets += 1;
        let opts = SegmentOptions::parse(&tcp);
        if opts.malformed {
            self.malformed += 1;
        }
        let src = SocketAddr::new(ip.src, tcp.src_port());
        let dst = SocketAddr::new(ip.dst, tcp.dst_port());
        let (fi, d) = self.flow_for(src, dst, &tcp, ts_nanos);
        let full = declared.saturating_sub(tcp.header_len());
        let snapped = declared > ip.payload.len() && full > tcp.payload_ref().len();
        if snapped {
            self.snapped += 1;
            self.filler.clear();
            self.filler.extend_from_slice(tcp.payload_ref());
            self.filler.resize(full, 0);
            let payload = std::mem::take(&mut self.filler);
            self.segment(fi, d, ts_nanos, &tcp, &opts, Some(&payload));
            self.filler = payload;
        } else {
            self.segment(fi, d, ts_nanos, &tcp, &opts, None);
        }
    }

    /// Finds or creates the flow of a segment; returns it and the direction.
    fn flow_for(&mut self, src: SocketAddr, dst: SocketAddr, tcp: &TcpPacket<&[u8]>, ts: u64) -> (usize, usize) {
        let flags = tcp.flags();
        let is_syn = flags.syn() && !flags.ack();
        if let Some(&fi) = self.flow_index.get(&(src, dst)) {
            let f = &self.flows[fi];
            let d = usize::from(f.client != src);
            // A new SYN with another ISN on a used 4-tuple starts a new connection.
            let reused = is_syn && d == 0 && f.dir[0].isn.is_some_and(|isn| isn != tcp.seq());
            if !reused {
                return (fi, d);
            }
        }
        let (client, server) = if flags.syn() && flags.ack() { (dst, src) } else { (src, dst) };
        let fi = self.flows.len();
        self.flows.push(Flow::new(client, server, ts, self.opts.keep_data));
        self.flow_index.insert((client, server), fi);
        self.flow_index.insert((server, client), fi);
        (fi, usize::from(client != src))
    }

    /// `snapped`: the whole payload, zero-filled where the capture cut it.
    fn segment(
        &mut self,
        fi: usize,
        d: usize,
        ts: u64,
        tcp: &TcpPacket<&[u8]>,
        opts: &SegmentOptions<'_>,
        snapped: Option<&[u8]>,
    ) {
        let flags = tcp.flags();
        self.flows[fi].last_ts = ts;
        if flags.syn() {
            self.syn(fi, d, ts, tcp, opts);
        }
        let payload = snapped.unwrap_or(tcp.payload_ref());
        let pos = {
            let dir = &mut self.flows[fi].dir[d];
            // The SYN takes one sequence number: data starts one after it.
            let seq = if flags.syn() { tcp.seq().wrapping_add(1) } else { tcp.seq() };
            let pos = dir.rel(seq);
            dir.bytes.set_base(1);
            dir.bytes.insert(pos, payload);
            if flags.fin() {
                dir.fin = Some(pos + payload.len() as u64);
            }
            pos
        };
        if flags.rst() {
            self.flows[fi].rst = true;
        }
        let Some(ci) = self.flows[fi].conn() else {
            if let Role::Join { .. } = self.flows[fi].role {
                self.join_options(fi, d, tcp, opts, None);
            }
            return;
        };
        let side = self.flows[fi].sender(d);
        if !flags.syn() {
            match self.flows[fi].role {
                Role::Initial { .. } => self.initial_subflow(fi, d, ci, side, opts),
                Role::Join { .. } => self.join_options(fi, d, tcp, opts, Some(ci)),
                Role::Plain => {}
            }
        }
        if self.conns[ci].data_from_flow {
            return;
        }
        if let Some(dss) = &opts.dss {
            self.dss(fi, d, ci, side, ts, pos, dss);
        }
        for o in &opts.others {
            self.other_option(fi, ci, side, ts, flags, o);
        }
        if !payload.is_empty() {
            self.map_payload(fi, d, ci, side, pos, payload, snapped.is_none());
        }
        if flags.fin() {
            // After a fallback by infinite mapping, the subflow's FIN ends the data stream.
            let fin = self.flows[fi].dir[d].fin;
            if let (Some(m), Some(fin)) = (self.flows[fi].dir[d].mappings.infinite(), fin) {
                let dsn = m.dsn + fin.saturating_sub(m.ssn);
                self.conns[ci].data_fin[side.idx()].get_or_insert(dsn);
            }
        }
    }

    /// SYN and SYN/ACK: decide the flow's role and take the keys and nonces.
    fn syn(&mut self, fi: usize, d: usize, ts: u64, tcp: &TcpPacket<&[u8]>, opts: &SegmentOptions<'_>) {
        let flags = tcp.flags();
        self.flows[fi].dir[d].isn = Some(tcp.seq());
        if d == 0 && !flags.ack() {
            if self.flows[fi].role != Role::Plain || self.flows[fi].join.is_some() {
                return; // a retransmitted SYN
            }
            if let Some(mpc) = opts.mpc {
                let ci = self.new_conn(true, fi);
                let c = &mut self.conns[ci];
                c.version = Some(mpc.version);
                c.checksum |= mpc.checksum_required();
                self.flows[fi].role = Role::Initial { conn: ci };
                self.flows[fi].addr_ids = [Some(0), Some(0)];
            } else if let Some(MpJoin::Syn { backup, addr_id, token, nonce }) = opts.join {
                let (conn, initiator) = match self.tokens.get(&token) {
                    // The token names the listener's key, so the joiner is its peer.
                    Some(&(ci, owner)) => (Some(ci), owner.peer()),
                    None => (None, Side::Client),
                };
                let f = &mut self.flows[fi];
                f.role = Role::Join { conn, initiator };
                f.join = Some(JoinState { token, joiner_nonce: nonce, ..Default::default() });
                f.addr_ids[0] = Some(addr_id);
                f.backup_history.push(BackupChange { time_s: 0.0, from: initiator.name(), via: "mp_join", backup });
                f.backup = backup;
                if let Some(ci) = conn {
                    self.flows[fi].subflow_index = self.conns[ci].subflows.len();
                    self.conns[ci].subflows.push(fi);
                }
                let t = self.secs(ts);
                if let Some(h) = self.flows[fi].backup_history.last_mut() {
                    h.time_s = t;
                }
            } else if self.flows[fi].conn().is_none() {
                let ci = self.new_conn(false, fi);
                self.flows[fi].role = Role::Initial { conn: ci };
            }
            return;
        }
        if d == 1 && flags.ack() {
            self.synack(fi, ts, opts);
        }
    }

    fn new_conn(&mut self, mptcp: bool, fi: usize) -> usize {
        self.conns.push(Conn::new(mptcp, fi, self.opts.keep_data));
        self.conns.len() - 1
    }

    fn synack(&mut self, fi: usize, ts: u64, opts: &SegmentOptions<'_>) {
        if self.flows[fi].synack_seen {
            return;
        }
        self.flows[fi].synack_seen = true;
        match self.flows[fi].role {
            Role::Initial { conn: ci } if self.conns[ci].mptcp => match opts.mpc {
                Some(mpc) if mpc.sender_key.is_some() => {
                    let c = &mut self.conns[ci];
                    c.version = Some(mpc.version);
                    c.checksum |= mpc.checksum_required();
                    if let Some(k) = mpc.sender_key {
                        self.learn_key(ci, Side::Server, k);
                    }
                }
                _ => {
                    let c = &mut self.conns[ci];
                    c.fall_back(fallback::SYN_ACK_WITHOUT_MPC);
                    c.data_from_flow = true;
                }
            },
            Role::Join { conn, initiator } => {
                if let Some(MpJoin::SynAck { backup, addr_id, hmac, nonce }) = opts.join {
                    let t = self.secs(ts);
                    let f = &mut self.flows[fi];
                    f.addr_ids[1] = Some(addr_id);
                    if let Some(j) = &mut f.join {
                        j.listener_nonce = Some(nonce);
                        j.synack_hmac = Some(hmac);
                    }
                    f.backup_history.push(BackupChange {
                        time_s: t,
                        from: initiator.peer().name(),
                        via: "mp_join",
                        backup,
                    });
                    // A subflow is a backup when either side asked (as Linux treats it).
                    f.backup |= backup;
                    if let Some(ci) = conn {
                        self.verify_synack(fi, ci);
                    }
                }
            }
            _ => {}
        }
    }

    fn learn_key(&mut self, ci: usize, side: Side, key: u64) {
        let c = &mut self.conns[ci];
        if c.keys[side.idx()].is_some() {
            return;
        }
        c.keys[side.idx()] = Some(key);
        // RFC 8684 §3.3: the first data byte is numbered IDSN + 1.
        c.data[side.idx()].set_base(crypto::idsn(key).wrapping_add(1));
        self.tokens.insert(crypto::token(key), (ci, side));
    }

    /// The keys of a join's joiner and listener, when both are known.
    fn join_keys(&self, fi: usize, ci: usize) -> Option<(u64, u64)> {
        let initiator = self.flows[fi].sender(0);
        let keys = &self.conns[ci].keys;
        Some((keys[initiator.idx()]?, keys[initiator.peer().idx()]?))
    }

    fn verify_synack(&mut self, fi: usize, ci: usize) {
        let Some((ka, kb)) = self.join_keys(fi, ci) else { return };
        if let Some(j) = &mut self.flows[fi].join
            && let (Some(rb), Some(h)) = (j.listener_nonce, j.synack_hmac)
        {
            // RFC 8684 §3.2: the SYN/ACK carries HMAC(Key-B || Key-A, R-B || R-A), leftmost 64 bits.
            j.synack_ok = Some(crypto::join_synack_hmac(kb, ka, rb, j.joiner_nonce) == h);
        }
    }

    /// Options on a join subflow after its SYN/ACK: the third ACK's HMAC.
    fn join_options(
        &mut self,
        fi: usize,
        d: usize,
        tcp: &TcpPacket<&[u8]>,
        opts: &SegmentOptions<'_>,
        ci: Option<usize>,
    ) {
        if tcp.flags().syn() || d != 0 {
            return;
        }
        let Some(MpJoin::Ack { hmac }) = opts.join else { return };
        let keys = ci.and_then(|ci| self.join_keys(fi, ci));
        if let Some(j) = &mut self.flows[fi].join
            && j.ack_ok.is_none()
            && let (Some((ka, kb)), Some(rb)) = (keys, j.listener_nonce)
        {
            // RFC 8684 §3.2: the third ACK carries HMAC(Key-A || Key-B, R-A || R-B), leftmost 160 bits.
            j.ack_ok = Some(crypto::join_ack_hmac(ka, kb, j.joiner_nonce, rb) == hmac);
        }
    }

    /// The initial subflow past the SYNs: the third ACK's keys, MP_CAPABLE with
    /// data, and fallbacks decided by the handshake.
    fn initial_subflow(&mut self, fi: usize, d: usize, ci: usize, side: Side, opts: &SegmentOptions<'_>) {
        if !self.conns[ci].mptcp || self.conns[ci].data_from_flow {
            return;
        }
        let first = !self.flows[fi].dir[d].past_handshake;
        self.flows[fi].dir[d].past_handshake = true;
        if let Some(mpc) = opts.mpc {
            if let (Some(sk), Some(rk)) = (mpc.sender_key, mpc.receiver_key) {
                self.learn_key(ci, side, sk);
                self.learn_key(ci, side.peer(), rk);
                self.conns[ci].checksum |= mpc.checksum_required() && side == Side::Client;
            }
            if let (Some(len), Some(k)) = (mpc.data_len, mpc.sender_key) {
                // RFC 8684 §3.1: data with MP_CAPABLE maps from IDSN + 1 at subflow sequence 1.
                let dsn = crypto::idsn(k).wrapping_add(1);
                let m = Mapping::new(dsn, 1, 1, len, false, mpc.checksum);
                self.flows[fi].dir[d].mappings.add(m);
            }
        } else if first && d == 0 && !opts.any_mptcp() {
            // RFC 8684 §3.1: a third ACK without MP_CAPABLE means the server runs plain TCP.
            let c = &mut self.conns[ci];
            c.fall_back(fallback::ACK_WITHOUT_MPC);
            c.data_from_flow = true;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn dss(&mut self, fi: usize, d: usize, ci: usize, side: Side, ts: u64, pos: u64, dss: &Dss) {
        let Some(m) = dss.mapping else { return };
        let s = side.idx();
        let dsn = if m.dsn_wide { m.dsn } else { expand_dsn(m.dsn as u32, self.conns[ci].data_reference(s)) };
        // The mapping's subflow sequence number is relative to the ISN; unwrap it near this segment.
        let near = pos as i64 + i64::from((m.ssn).wrapping_sub(pos as u32) as i32);
        let ssn = near.max(0) as u64;
        if m.len == 0 {
            // RFC 8684 §3.7: a data-level length of 0 is the infinite mapping.
            let c = &mut self.conns[ci];
            let reason = if c.mp_fail > 0 { fallback::MP_FAIL } else { fallback::INFINITE_MAPPING };
            c.fall_back(reason);
            let ev = Event {
                time_s: self.secs(ts),
                from: side.name(),
                kind: "infinite_mapping",
                subflow: self.flows[fi].subflow_index,
                detail: format!("dsn {dsn}"),
            };
            self.conns[ci].events.push(ev);
            self.flows[fi].dir[d].mappings.add(Mapping::infinite(dsn, ssn.max(1)));
            return;
        }
        if dss.data_fin {
            // RFC 8684 §3.3.3: the DATA_FIN takes the last data sequence number of the mapping.
            let fin = dsn + u64::from(m.len) - 1;
            self.conns[ci].data_fin[s].get_or_insert(fin);
        }
        if m.ssn == 0 && m.len == 1 && dss.data_fin {
            return; // a bare DATA_FIN maps no subflow byte
        }
        self.flows[fi].dir[d].mappings.add(Mapping::new(dsn, ssn, m.ssn, m.len, dss.data_fin, m.checksum));
    }

    /// Moves payload to the data level through the mappings.
    /// `checkable`: the bytes are the real ones (not a capture's zero filler),
    /// so DSS checksums can be verified over them.
    #[allow(clippy::too_many_arguments)]
    fn map_payload(&mut self, fi: usize, d: usize, ci: usize, side: Side, pos: u64, payload: &[u8], checkable: bool) {
        let s = side.idx();
        let initial = self.flows[fi].role == (Role::Initial { conn: ci });
        let dir = &mut self.flows[fi].dir[d];
        if dir.mappings.is_empty() && initial {
            // RFC 8684 §3.7: data without a mapping on the only subflow: fall back.
            let c = &mut self.conns[ci];
            c.fall_back(fallback::DATA_WITHOUT_DSS);
            let dsn = c.data[s].base().map_or(pos, |b| b.max(c.data[s].contiguous_end()));
            dir.mappings.add(Mapping::infinite(dsn, pos));
        } else if initial
            && self.conns[ci].subflows.len() == 1
            && dir.mappings.infinite().is_none()
            && let Some(dsn) = dir.mappings.continued(pos)
        {
            // RFC 8684 §3.7: data with no mapping after mapped data, on the only
            // subflow: a fallback in mid-stream; the stream goes on in order.
            self.conns[ci].fall_back(fallback::DATA_WITHOUT_DSS);
            dir.mappings.add(Mapping::infinite(dsn, pos));
        }
        let conn = &mut self.conns[ci];
        dir.mappings.translate(pos, payload.len(), |p| {
            if let Piece::Mapped { at, len, dsn } = p {
                conn.data[s].insert(dsn, &payload[at..at + len]);
            }
        });
        if conn.checksum && checkable {
            dir.mappings.feed_checksums(pos, payload, |o| match o {
                ChecksumOutcome::Ok => conn.checksums_verified += 1,
                ChecksumOutcome::Failed => conn.checksum_failures += 1,
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn other_option(&mut self, fi: usize, ci: usize, side: Side, ts: u64, flags: Flags, o: &MptcpOption<'_>) {
        let time_s = self.secs(ts);
        let subflow = self.flows[fi].subflow_index;
        let event = |kind: &'static str, detail: String| Event { time_s, from: side.name(), kind, subflow, detail };
        match o {
            MptcpOption::AddAddr(a) => {
                let hmac_ok = self.verify_add_addr(ci, side, a);
                let addr = match a.port {
                    Some(p) => SocketAddr::new(a.addr, p).to_string(),
                    None => a.addr.to_string(),
                };
                let ev = AddAddrEvent { time_s, from: side.name(), echo: a.echo, addr_id: a.addr_id, addr, hmac_ok };
                self.conns[ci].add_addr.push(ev);
            }
            MptcpOption::RemoveAddr(r) => {
                self.conns[ci].events.push(event("remove_addr", format!("ids {:?}", r.ids)));
            }
            MptcpOption::MpPrio(p) => {
                let f = &mut self.flows[fi];
                f.backup = p.backup;
                f.backup_history.push(BackupChange { time_s, from: side.name(), via: "mp_prio", backup: p.backup });
                self.conns[ci].events.push(event("mp_prio", format!("backup {}", p.backup)));
            }
            MptcpOption::MpFail(m) => {
                self.conns[ci].mp_fail += 1;
                self.conns[ci].events.push(event("mp_fail", format!("dsn {}", m.dsn)));
            }
            MptcpOption::MpFastclose(m) => {
                // RFC 8684 §3.5: the option carries the receiver's key.
                let c = &mut self.conns[ci];
                let ok = c.keys[side.peer().idx()].map(|k| k == m.receiver_key);
                c.fastclose = true;
                c.fastclose_key_ok = match (c.fastclose_key_ok, ok) {
                    (Some(a), Some(b)) => Some(a && b),
                    (a, b) => a.or(b),
                };
                c.events.push(event("mp_fastclose", String::new()));
            }
            MptcpOption::MpTcpRst(r) if flags.rst() => {
                let reason = r.reason();
                self.conns[ci].resets.push(ResetEvent {
                    time_s,
                    from: side.name(),
                    subflow,
                    code: r.reason,
                    reason: reason.name(),
                    transient: r.flags & mptcp_wire::mptcp::MpTcpRst::FLAG_T != 0,
                });
            }
            _ => {}
        }
    }

    fn verify_add_addr(&self, ci: usize, side: Side, a: &AddAddr) -> Option<bool> {
        if a.echo {
            return None;
        }
        let keys = &self.conns[ci].keys;
        let (ks, kr) = (keys[side.idx()]?, keys[side.peer().idx()]?);
        // RFC 8684 §3.4.1: HMAC(Key-sender || Key-receiver, id || address || port), rightmost 64 bits.
        Some(a.hmac == Some(crypto::add_addr_hmac(ks, kr, a.addr_id, a.addr, a.port)))
    }
}
