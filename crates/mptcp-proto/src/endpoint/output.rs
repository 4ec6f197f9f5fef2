//! Packets out: connections in turn, then the IP header; resets for
//! segments no connection takes.

use super::*;

impl Endpoint {
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
        self.transmit(now, buf, None)
    }

    /// Like [`Endpoint::poll_transmit_gso`], with the payload by reference:
    /// `buf` receives the IP and TCP headers (`Transmit::len` bytes) and
    /// `payload` the references to the chunks that follow them on the wire,
    /// in order, with no byte copied (a driver writes them with `writev`).
    /// Packets with no payload, and data when checksum offload is off, come
    /// whole in `buf` with `payload` left empty. Each call clears `payload`.
    pub fn poll_transmit_parts(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        payload: &mut Vec<bytes::Bytes>,
    ) -> Option<Transmit> {
        payload.clear();
        self.transmit(now, buf, Some(payload))
    }

    fn transmit(&mut self, now: Instant, buf: &mut [u8], mut refs: Option<&mut Vec<bytes::Bytes>>) -> Option<Transmit> {
        let by_ref = refs.is_some();
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
        if let Some(c) = self.cookie_synacks.pop_front() {
            let l4_offset = if c.local.is_ipv4() { 20 } else { 40 };
            return self.emit_cookie_synack(now, &c, buf).map(|len| Transmit {
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
                    conn.set_tx_by_ref(by_ref);
                    let out = buf
                        .get_mut(ip_len..)
                        .and_then(|b| conn.poll_transmit(now, &mut CcCtx::plain(&mut **cc), b))
                        .map(|n| (l, r, n));
                    if out.is_some()
                        && let Some(refs) = refs.as_deref_mut()
                    {
                        conn.take_tx_refs(refs);
                    }
                    out
                }
                // Subflows of one connection may be of either family: the
                // connection writes the TCP segment behind room for its header.
                Kind::Mptcp(m) => {
                    m.set_tx_by_ref(by_ref);
                    let out = m.poll_transmit(now, buf);
                    if out.is_some()
                        && let Some(refs) = refs.as_deref_mut()
                    {
                        m.take_tx_refs(refs);
                    }
                    out
                }
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
                    // What went by reference is not in `buf`.
                    let by_refs: usize = refs.as_deref().map_or(0, |r| r.iter().map(|b| b.len()).sum());
                    return Some(Transmit {
                        len: ip_len + n - by_refs,
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

    pub(super) fn emit_reset(&mut self, r: Reset, buf: &mut [u8]) -> Option<usize> {
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
