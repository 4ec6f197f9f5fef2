//! The two ends of a SYN-cookie handshake: the SYN/ACK sent without a
//! connection, and the ACK that brings the cookie back, from which the
//! connection is built as the normal path would have built it from the SYN
//! (RFC 4987 §3.6; with MPTCP v1, RFC 8684 §3.1, the third ACK echoes both
//! keys, so our key is checked against the one the cookie derives).

use super::syncookie::CookieSyn;
use super::*;
use crate::tcp::conn::SynAckParams;
use crate::tcp::seq::Seq;
use mptcp_wire::mptcp::{MpCapable, MptcpOption};
use mptcp_wire::tcp::{TcpOption, TcpOptionIter, emit_options};

/// After the last cookie sent, ACKs are checked for one this long (a
/// cookie's lifetime); before any, or later, an ACK to no connection is
/// reset at once, as without cookies.
const COOKIE_LIFE: crate::time::Duration = crate::time::Duration::from_secs(128);

/// A SYN/ACK with a cookie, waiting to go out: what it answers, nothing more.
#[derive(Debug, Clone, Copy)]
pub(super) struct CookieSynAck {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The cookie.
    pub iss: u32,
    /// The peer's ISN + 1.
    pub ack: u32,
    /// The SYN offered SACK.
    pub sack_permitted: bool,
    /// The SYN offered window scaling.
    pub wscale: bool,
    /// The SYN's TSval, if it carried timestamps.
    pub tsecr: Option<u32>,
    /// Our MPTCP key, if the SYN carried MP_CAPABLE and we take MPTCP.
    pub key: Option<u64>,
}

/// The MP_CAPABLE of a segment, if it has an acceptable one (v1, flags).
fn mp_capable(raw: &[u8]) -> Option<MpCapable> {
    TcpOptionIter::new(raw).flatten().find_map(|o| match o {
        TcpOption::Mptcp(MptcpOption::MpCapable(m)) if m.flags_acceptable() && m.version >= 1 => Some(m),
        _ => None,
    })
}

impl Endpoint {
    /// Writes a cookie SYN/ACK: the options and window a connection
    /// accepting that SYN would have sent, in the same order.
    pub(super) fn emit_cookie_synack(&mut self, now: Instant, c: &CookieSynAck, buf: &mut [u8]) -> Option<usize> {
        let t = &self.cfg.tcp;
        let p = SynAckParams::new(t, c.local, self.cfg.mtu, c.iss, now);
        let mut opts: arrayvec::ArrayVec<TcpOption<'_>, 8> = arrayvec::ArrayVec::new();
        opts.push(TcpOption::MaxSegmentSize(p.mss));
        if t.sack && c.sack_permitted {
            opts.push(TcpOption::SackPermitted);
        }
        if t.timestamps
            && let Some(tsecr) = c.tsecr
        {
            opts.push(TcpOption::Timestamps { tsval: p.tsval, tsecr });
        }
        if t.window_scaling && c.wscale {
            opts.push(TcpOption::NoOperation);
            opts.push(TcpOption::WindowScale(p.rcv_shift));
        }
        if let Some(key) = c.key {
            let m = &self.cfg.mptcp;
            let flags = MpCapable::FLAG_H
                | if m.checksum { MpCapable::FLAG_A } else { 0 }
                | if m.deny_join_initial { MpCapable::FLAG_C } else { 0 };
            opts.push(TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable {
                sender_key: Some(key),
                ..MpCapable::syn(flags)
            })));
        }
        let ip_len = if c.local.is_ipv4() { 20 } else { 40 };
        let seg = buf.get_mut(ip_len..)?;
        let opt_len = emit_options(&opts, seg.get_mut(20..)?).ok()?;
        let tcp_len = 20 + opt_len;
        let seg = seg.get_mut(..tcp_len)?;
        seg[0..2].copy_from_slice(&c.local.port().to_be_bytes());
        seg[2..4].copy_from_slice(&c.remote.port().to_be_bytes());
        seg[4..8].copy_from_slice(&c.iss.to_be_bytes());
        seg[8..12].copy_from_slice(&c.ack.to_be_bytes());
        seg[12] = ((tcp_len / 4) as u8) << 4;
        seg[13] = (Flags::SYN | Flags::ACK).0;
        seg[14..16].copy_from_slice(&p.window.to_be_bytes());
        seg[16..20].copy_from_slice(&[0; 4]);
        let sum = tcp_checksum(c.local.ip(), c.remote.ip(), seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        emit_ip_header(c.local.ip(), c.remote.ip(), PROTO_TCP, self.cfg.hop_limit, tcp_len, buf).ok()?;
        self.stats.out_packets += 1;
        Some(ip_len + tcp_len)
    }

    /// An ACK to a listening port that matched no connection, while cookies
    /// are in use: if it carries a good cookie, the connection it completes
    /// is built and the ACK handed to it. Returns whether it was taken.
    pub(super) fn on_cookie_ack(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &Segment<'_>,
    ) -> bool {
        let recent = self.last_cookie.is_some_and(|t| now.saturating_since(t) < COOKIE_LIFE);
        if !recent || !self.listeners.contains(&local.port()) {
            return false;
        }
        let (iss, irs) = (seg.ack.0.wrapping_sub(1), seg.seq.0.wrapping_sub(1));
        let Some(cookie) = self.cookies.check(now, local, remote, irs, iss) else {
            self.stats.syncookies_failed += 1;
            return false;
        };
        let mpc = mp_capable(seg.options_raw);
        let key = if cookie.mp_capable && self.cfg.mptcp.enabled {
            let k = self.cookies.mptcp_key(local, remote, iss);
            // RFC 8684 §3.1: the third ACK echoes our key; one that is not
            // ours, or a key whose token came into use since, is refused.
            let echoed_wrong = mpc.is_some_and(|m| m.receiver_key != Some(k));
            if echoed_wrong || self.tokens.contains_key(&mptcp_wire::crypto::token(k)) {
                self.stats.syncookies_failed += 1;
                return false;
            }
            Some(k)
        } else {
            None
        };
        self.stats.syncookies_recv += 1;
        let id = self.accept_cookie(now, (local, remote), seg, &cookie, key, mpc);
        self.deliver(now, (id, 0), (local, remote), seg);
        true
    }

    /// The connection a good cookie ACK completes: accepted from the SYN the
    /// cookie describes, its SYN/ACK taken as sent.
    fn accept_cookie(
        &mut self,
        now: Instant,
        (local, remote): (SocketAddr, SocketAddr),
        ack: &Segment<'_>,
        cookie: &CookieSyn,
        key: Option<u64>,
        mpc: Option<MpCapable>,
    ) -> ConnId {
        // The SYN's MP_CAPABLE flags come back in the ACK's (A, C, H).
        let mut syn_opts = [0u8; 4];
        let n = match key {
            Some(_) => {
                let flags = mpc.map_or(MpCapable::FLAG_H, |m| m.flags);
                MpCapable::syn(flags).emit(&mut syn_opts).unwrap_or(0)
            }
            None => 0,
        };
        let syn = Segment {
            seq: Seq(ack.seq.0.wrapping_sub(1)),
            ack: Seq(0),
            flags: Flags::SYN,
            window: ack.window,
            mss: Some(cookie.mss),
            wscale: cookie.wscale,
            sack_permitted: cookie.sack_permitted,
            sack: Default::default(),
            // Timestamps were agreed if the ACK carries them.
            timestamps: ack.timestamps.map(|(tsval, _)| (tsval, 0)),
            options_raw: &syn_opts[..n],
            payload: &[],
        };
        let iss = ack.ack.0.wrapping_sub(1);
        let mut conn = TcpConn::accept(&self.cfg.tcp, local, remote, iss, self.cfg.mtu, &syn, now);
        conn.assume_synack_sent(now, ack.timestamps.map(|(_, tsecr)| tsecr));
        match key {
            Some(k) => self.insert_passive_mptcp(k, conn, syn.options_raw),
            None => self.insert(conn, true),
        }
    }
}
