//! Packets in: demultiplexing to connections and subflows, and admission
//! (SYNs, MP_CAPABLE, MP_JOIN to a known token and an allowed port).

use super::*;
use mptcp_wire::mptcp::ResetReason;

impl Endpoint {
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
            self.deliver(now, (id, k), (local, remote), &seg);
            return;
        }
        let f = seg.flags;
        if f.syn() && !f.ack() && !f.rst() {
            let (mpc, join) = syn_mptcp(seg.options_raw);
            if let Some(token) = join {
                self.on_join_syn(now, local, remote, token, &seg);
                return;
            }
            if self.listeners.contains(&local.port()) {
                self.on_listen_syn(now, local, remote, &seg, mpc);
                return;
            }
        }
        if f.ack() && !f.syn() && !f.rst() && self.on_cookie_ack(now, local, remote, &seg) {
            return;
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

    /// Hands a segment to subflow `k` of connection `id`.
    pub(super) fn deliver(
        &mut self,
        now: Instant,
        (id, k): (ConnId, usize),
        tuple: (SocketAddr, SocketAddr),
        seg: &Segment<'_>,
    ) {
        let _conn = tracing::debug_span!("conn", id = id.0).entered();
        let (local, remote) = tuple;
        let _subflow = tracing::debug_span!("subflow", k, %local, %remote).entered();
        if let Ok(slot) = self.slot_mut(id) {
            match &mut slot.kind {
                Kind::Tcp { conn, cc } => conn.on_segment(now, seg, &mut CcCtx::plain(&mut **cc)),
                Kind::Mptcp(m) => m.on_segment(now, k, seg),
            }
        }
        self.mark(id);
        self.collect(id);
    }

    /// Takes an MP_JOIN SYN (RFC 8684 §3.2). None: accepted; otherwise it
    /// is refused with a RST carrying this MP_TCPRST reason, as the kernel
    /// does: unknown token → "MPTCP-specific error"; a port neither
    /// listening nor announced, or a connection that takes no join now →
    /// "administratively prohibited".
    pub(super) fn accept_join(
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
                return Some(Some(ResetReason::MptcpError.code()));
            }
        };
        let port_ok = self.listeners.contains(&local.port())
            || matches!(&self.slot(id).ok()?.kind, Kind::Mptcp(m) if m.joinable_port(local.port()));
        if !port_ok {
            self.stats.join_port_mismatch += 1;
            return Some(Some(ResetReason::Prohibited.code()));
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
            return Some(Some(ResetReason::Prohibited.code()));
        }
        let Ok(slot) = self.slot_mut(id) else { return Some(Some(ResetReason::MptcpError.code())) };
        let Kind::Mptcp(m) = &mut slot.kind else { return Some(Some(ResetReason::MptcpError.code())) };
        let reused = m.reusable_subflow();
        match m.accept_join(tcp, seg.options_raw, nonce, max, backup) {
            Some(k) => {
                tracing::debug!(conn = id.0, subflow = k, %local, %remote, backup, "subflow joined");
                self.forget_reused(id, k, reused);
                self.by_tuple.insert((local, remote), (id, k));
                self.mark(id);
                None
            }
            None => {
                self.stats.join_rejected += 1;
                Some(Some(ResetReason::Prohibited.code()))
            }
        }
    }

    /// Subflow `k` of `id` took the place of a gone one (`reused`): that
    /// one's 4-tuple no longer leads there.
    pub(super) fn forget_reused(&mut self, id: ConnId, k: usize, reused: Option<(usize, SocketAddr, SocketAddr)>) {
        if let Some((r, l, rm)) = reused
            && r == k
            && self.by_tuple.get(&(l, rm)) == Some(&(id, k))
        {
            self.by_tuple.remove(&(l, rm));
        }
    }
}
