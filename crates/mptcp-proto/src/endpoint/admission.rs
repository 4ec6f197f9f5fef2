//! Admission of SYNs: a listening port holds at most `syn_backlog`
//! half-open connections; beyond, SYNs are answered with SYN cookies (or
//! dropped without them). MP_JOIN SYNs cannot be cookied (the join's state,
//! nonces and HMAC, does not fit a cookie): at most `join_backlog` of them are
//! half-open at once, and each connection takes at most its subflow limit.

use super::cookie_ack::CookieSynAck;
use super::syncookie::CookieSyn;
use super::*;
use mptcp_wire::mptcp::ResetReason;

/// Cookie SYN/ACKs waiting to go out at most; a SYN beyond is dropped.
const MAX_QUEUED_COOKIES: usize = 1024;

impl Endpoint {
    /// Half-open connections now (accepted from a SYN, handshake not complete).
    pub fn half_open_count(&self) -> usize {
        self.half_open
    }

    /// A SYN (MP_CAPABLE or plain) to a listening port, with no connection.
    pub(super) fn on_listen_syn(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &Segment<'_>,
        mpc: bool,
    ) {
        let mpc = mpc && self.cfg.mptcp.enabled;
        if self.half_open < self.cfg.syn_backlog {
            self.accept_syn(now, local, remote, seg, mpc);
        } else if self.cfg.syn_cookies {
            self.stats.req_q_full_do_cookies += 1;
            self.send_cookie(now, local, remote, seg, mpc);
        } else {
            self.stats.req_q_full_drop += 1;
            self.stats.listen_drops += 1;
        }
    }

    /// The half-open connection a SYN makes below the limit.
    fn accept_syn(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, seg: &Segment<'_>, mpc: bool) {
        let iss = self.iss(now, local, remote);
        let conn = TcpConn::accept(&self.cfg.tcp, local, remote, iss, self.cfg.mtu, seg, now);
        let id = if mpc {
            let key = self.new_key();
            self.insert_passive_mptcp(key, conn, seg.options_raw)
        } else {
            self.insert(conn, true)
        };
        if let Ok(slot) = self.slot_mut(id)
            && !slot.announced
        {
            slot.half_open = true;
            self.half_open += 1;
        }
    }

    /// A passive MPTCP connection with our `key`, from the SYN's options.
    pub(super) fn insert_passive_mptcp(&mut self, key: u64, conn: TcpConn, syn_options: &[u8]) -> ConnId {
        let (cc, sc) = self.new_mptcp_parts();
        let mut m = MptcpConn::accept(key, conn, syn_options, &self.cfg.mptcp, &self.cfg.tcp, cc, sc);
        if let Some(f) = &self.cfg.mptcp.pm_factory {
            m.set_path_manager(f.build(false));
        } else if self.cfg.mptcp.path_manager == "external" {
            m.set_external_pm();
        }
        let id = self.insert_kind(Kind::Mptcp(Box::new(m)), true);
        self.dispatch_pm(id, crate::pm::PmEvent::Created);
        id
    }

    /// Answers a SYN with a cookie SYN/ACK, keeping nothing but the queued
    /// SYN/ACK (a fixed-size entry, gone once sent).
    fn send_cookie(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, seg: &Segment<'_>, mpc: bool) {
        if self.cookie_synacks.len() >= MAX_QUEUED_COOKIES {
            self.stats.listen_drops += 1;
            return;
        }
        let syn = CookieSyn::from_syn(seg, local.is_ipv4(), mpc);
        let iss = self.cookies.make(now, local, remote, seg.seq.0, &syn);
        let key = if mpc {
            let k = self.cookies.mptcp_key(local, remote, iss);
            // A key is unique among ours (RFC 8684 §3.1); this one cannot be drawn again.
            if self.tokens.contains_key(&mptcp_wire::crypto::token(k)) {
                self.stats.listen_drops += 1;
                return;
            }
            Some(k)
        } else {
            None
        };
        self.cookie_synacks.push_back(CookieSynAck {
            local,
            remote,
            iss,
            ack: (seg.seq + 1).0,
            sack_permitted: seg.sack_permitted,
            wscale: seg.wscale.is_some(),
            tsecr: seg.timestamps.map(|t| t.0),
            key,
        });
        self.stats.syncookies_sent += 1;
        self.last_cookie = Some(now);
    }

    /// An MP_JOIN SYN (RFC 8684 §3.2: it names its connection by token):
    /// accepted, or refused with a RST.
    pub(super) fn on_join_syn(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        token: u32,
        seg: &Segment<'_>,
    ) {
        let refused = if !self.cfg.mptcp.enabled {
            Some(None)
        } else if !self.join_room() {
            self.stats.join_syn_backlog_drop += 1;
            Some(Some(ResetReason::Resources.code()))
        } else {
            self.accept_join(now, local, remote, token, seg)
        };
        match refused {
            None => {
                if let Some(&(id, k)) = self.by_tuple.get(&(local, remote)) {
                    self.pending_joins.push((id, k, (local, remote)));
                }
            }
            Some(reason) if self.resets.len() < 1024 => {
                let ack = Some((seg.seq + seg.seq_len()).0);
                self.resets.push_back(Reset { local, remote, seq: 0, ack, mptcp_reason: reason });
            }
            Some(_) => {}
        }
    }

    /// Whether another join may be half-open: the list of accepted joins is
    /// pruned of the established and gone ones only once it is full.
    fn join_room(&mut self) -> bool {
        if self.pending_joins.len() < self.cfg.join_backlog {
            return true;
        }
        let (slots, by_tuple) = (&self.slots, &self.by_tuple);
        self.pending_joins.retain(|&(id, k, t)| {
            by_tuple.get(&t) == Some(&(id, k))
                && slots.get(id.0 as usize).and_then(Option::as_ref).is_some_and(|s| match &s.kind {
                    Kind::Mptcp(m) => m.subflow_half_open(k),
                    Kind::Tcp { .. } => false,
                })
        });
        self.pending_joins.len() < self.cfg.join_backlog
    }
}
