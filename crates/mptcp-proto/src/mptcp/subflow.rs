//! One subflow of an MPTCP connection: a TCP connection plus what MPTCP
//! keeps for it (role, MP_JOIN state, the mappings it carries), and the hook
//! that puts MPTCP options on its segments.

use super::mapping::{RecvMapping, RecvMappings, SentMappings};
use crate::cc::SubflowId;
use crate::tcp::{OutSegment, SubflowHook, TcpConn};
use crate::time::Instant;
use arrayvec::ArrayVec;
use mptcp_wire::crypto;
use mptcp_wire::mptcp::{
    AddAddr, DataAck, Dss, DssMapping, MpCapable, MpFail, MpFastclose, MpJoin, MpPrio, MpTcpRst, MptcpOption,
    RemoveAddr,
};

/// Option room a data segment keeps for its DSS: 4 + a 64-bit DATA_ACK + a
/// 64-bit mapping (14) + the checksum (2) = 28 bytes.
pub(crate) const DSS_ROOM: usize = 28;
/// How a subflow came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubflowRole {
    /// The initial subflow, we sent the SYN (MP_CAPABLE).
    InitialActive,
    /// The initial subflow, we answered the SYN.
    InitialPassive,
    /// An additional subflow we opened (MP_JOIN).
    JoinActive,
    /// An additional subflow the peer opened.
    JoinPassive,
}

/// MP_JOIN state of a join subflow.
#[derive(Debug, Clone, Copy, Default)]
pub struct JoinState {
    /// Our nonce.
    pub local_nonce: u32,
    /// The peer's nonce.
    pub remote_nonce: Option<u32>,
}

/// What MPTCP keeps per subflow.
#[derive(Debug)]
pub struct SubflowMp {
    /// How it came to be.
    pub role: SubflowRole,
    /// Mappings of the data we wrote to it.
    pub sent: SentMappings,
    /// Mappings the peer sent on it.
    pub recv: RecvMappings,
    /// We asked for it to be a backup.
    pub backup: bool,
    /// The peer asked for it to be a backup.
    pub peer_backup: bool,
    /// Our address id on it.
    pub local_id: u8,
    /// The peer's address id on it.
    pub remote_id: Option<u8>,
    /// MP_JOIN nonces.
    pub join: JoinState,
    /// It may carry data (initial: synchronized; join: after the fourth ACK).
    pub ready: bool,
    /// The joiner's third ACK (with the full HMAC) is to be sent.
    pub third_ack_due: bool,
    /// A segment should go out for an option's sake (the fourth ACK, a DATA_FIN...).
    pub ack_due: bool,
    /// The reason to put in MP_TCPRST on our RST.
    pub reset_reason: Option<u8>,
    /// The reason in the MP_TCPRST of the peer's RST.
    pub peer_reset_reason: Option<u8>,
    /// Signals planned for the segment being built (committed by `on_emitted`).
    pub planned: PlannedSignals,
    /// Signals sent since the connection last counted them: ADD_ADDR (not
    /// echoes), REMOVE_ADDR, MP_PRIO; and ADD_ADDRs dropped as too long.
    pub sent_signals: SentSignals,
    /// Counted as gone by the connection already.
    pub gone: bool,
    /// Its retransmission timer fired and nothing was acknowledged since: the
    /// scheduler leaves it alone while another subflow works.
    pub stale: bool,
    /// An ADD_ADDR (or its echo) to send on the next pure ACK.
    pub signal: Option<AddAddr>,
    /// Address ids to withdraw with REMOVE_ADDR, and whether it is due.
    pub rm_ids: ArrayVec<u8, 8>,
    /// See `rm_ids`.
    pub rm_due: bool,
    /// An MP_PRIO to send: the backup flag it carries.
    pub prio_due: Option<bool>,
    /// With checksums, the mapping being received and its bytes so far: it
    /// is delivered once whole and verified (RFC 8684 §3.3.1).
    pub csum_stage: Option<(RecvMapping, Vec<u8>)>,
    /// MP_FAIL to send (on ACKs, or on our RST): the DSN of the failed mapping (§3.7).
    pub mp_fail_due: Option<u64>,
    /// We sent MP_FAIL and wait for the infinite mapping: received bytes are dropped.
    pub awaiting_infinite: bool,
    /// When to give up waiting for that answer (the subflow is then reset).
    pub mp_fail_deadline: Option<crate::time::Instant>,
    /// Subflow bytes before this relative sequence number are dropped (they
    /// precede the infinite mapping that answered our MP_FAIL).
    pub discard_until: Option<u64>,
    /// An infinite mapping to send on the segment at this relative subflow
    /// sequence number, and its data sequence number (§3.7).
    pub infinite_map: Option<(u64, u64)>,
    /// When the joiner sends its third ACK again (until the fourth ACK).
    pub third_ack_resend_at: Option<Instant>,
    /// Third ACKs sent again so far.
    pub third_ack_tries: u8,
    /// A subflow we joined that has carried no mapping yet. Its first
    /// mapping goes out only once every byte before it is DATA_ACKed: Linux,
    /// when a join completes while its connection's lock is held, attaches
    /// the subflow later and re-bases the mapping it has already taken from
    /// that subflow on its DATA_ACK of that moment (`mptcp_subflow_joined`).
    /// With nothing outstanding before the mapping, that DATA_ACK is the
    /// mapping's own DSN; otherwise the bytes land at the wrong place
    /// (seen in a capture: a join's first 14,200 bytes read at DSN 14,200
    /// instead of 32,660). Bytes are set aside for it meanwhile
    /// (`MptcpConn::reserve_for_join`). See docs/ARCHITECTURE.md.
    pub first_mapping_pending: bool,
}

/// Which signals the segment being built carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlannedSignals {
    /// The ADD_ADDR (or its echo) in `signal`.
    pub signal: bool,
    /// REMOVE_ADDR of `rm_ids`.
    pub remove: bool,
    /// MP_PRIO of `prio_due`.
    pub prio: bool,
}

/// Signals written, not yet counted by the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentSignals {
    /// ADD_ADDR announcements (echoes not counted).
    pub add_addr: u32,
    /// REMOVE_ADDR.
    pub rm_addr: u32,
    /// MP_PRIO.
    pub mp_prio: u32,
    /// ADD_ADDRs that cannot fit beside the segment's other options.
    pub add_addr_too_long: u32,
}

impl SubflowMp {
    /// MPTCP state for a new subflow.
    pub fn new(role: SubflowRole, local_id: u8, backup: bool) -> Self {
        SubflowMp {
            role,
            sent: SentMappings::default(),
            recv: RecvMappings::default(),
            backup,
            peer_backup: false,
            local_id,
            remote_id: None,
            join: JoinState::default(),
            ready: false,
            third_ack_due: false,
            ack_due: false,
            reset_reason: None,
            peer_reset_reason: None,
            planned: PlannedSignals::default(),
            sent_signals: SentSignals::default(),
            gone: false,
            stale: false,
            signal: None,
            rm_ids: ArrayVec::new(),
            rm_due: false,
            prio_due: None,
            csum_stage: None,
            mp_fail_due: None,
            awaiting_infinite: false,
            mp_fail_deadline: None,
            discard_until: None,
            infinite_map: None,
            third_ack_resend_at: None,
            third_ack_tries: 0,
            first_mapping_pending: false,
        }
    }
}

/// A subflow.
#[derive(Debug)]
pub struct Subflow {
    /// Its TCP connection.
    pub tcp: TcpConn,
    /// The id congestion control knows it by.
    pub id: SubflowId,
    /// MPTCP's state for it.
    pub mp: SubflowMp,
}

/// Connection-level facts the hook needs to build options.
#[derive(Debug, Clone, Copy)]
pub struct ConnFacts {
    /// Our key.
    pub local_key: u64,
    /// The peer's key, once known.
    pub remote_key: Option<u64>,
    /// Checksums: ours requested (for the SYN / SYN-ACK A flag), and in use.
    pub checksum_request: bool,
    /// DSS checksums in use.
    pub checksum: bool,
    /// The connection fell back to TCP: no more MPTCP options.
    pub fallback: bool,
    /// The client's initial subflow still sends MP_CAPABLE (not fully established).
    pub mpc_pending: bool,
    /// The DATA_ACK to send, once data can be acknowledged.
    pub data_ack: Option<u64>,
    /// Send DATA_ACK as 64 bits (the peer uses 64-bit DSNs).
    pub ack_wide: bool,
    /// A bare DATA_FIN to send: its DSN.
    pub data_fin: Option<u64>,
    /// The peer's token (for MP_JOIN SYNs).
    pub remote_token: u32,
    /// Put MP_FASTCLOSE on RSTs.
    pub fastclose: bool,
    /// Set C in our MP_CAPABLE: no joins to our initial address and port.
    pub deny_join_initial: bool,
}

/// The hook for one call: a subflow's MPTCP state and the connection's facts.
pub struct Hook<'a> {
    /// The subflow's MPTCP state.
    pub mp: &'a mut SubflowMp,
    /// The connection's facts.
    pub conn: ConnFacts,
}

/// The MP_CAPABLE flags we send: H (HMAC-SHA256), A when we want checksums,
/// and C (on the SYN/ACK and the third ACK) when we refuse joins to our
/// initial address and port (RFC 8684 §3.1).
fn mpc_flags(checksum: bool, deny_join_initial: bool) -> u8 {
    MpCapable::FLAG_H
        | if checksum { MpCapable::FLAG_A } else { 0 }
        | if deny_join_initial { MpCapable::FLAG_C } else { 0 }
}

impl SubflowHook for Hook<'_> {
    fn reserved_option_len(&self) -> usize {
        if self.conn.fallback && self.mp.infinite_map.is_none() { 0 } else { DSS_ROOM }
    }

    fn max_payload(&self, rel_seq: u64) -> usize {
        match self.mp.sent.covering(rel_seq) {
            Some(m) => (m.rel_ssn + u64::from(m.len) - rel_seq) as usize,
            None => usize::MAX,
        }
    }

    fn wants_ack(&self) -> bool {
        self.mp.ack_due
    }

    fn on_emitted(&mut self, _seg: &OutSegment) {
        let p = std::mem::take(&mut self.mp.planned);
        if p.signal
            && let Some(a) = self.mp.signal.take()
            && !a.echo
        {
            self.mp.sent_signals.add_addr += 1;
        }
        if p.remove {
            self.mp.rm_due = false;
            self.mp.sent_signals.rm_addr += 1;
        }
        if p.prio {
            self.mp.prio_due = None;
            self.mp.sent_signals.mp_prio += 1;
        }
    }

    fn options(&mut self, seg: &OutSegment, room: usize) -> ArrayVec<MptcpOption<'_>, 4> {
        let mut out = ArrayVec::new();
        let c = &self.conn;
        let f = seg.flags;
        if f.rst() {
            if let (true, Some(rk)) = (c.fastclose, c.remote_key) {
                out.push(MptcpOption::MpFastclose(MpFastclose { receiver_key: rk }));
            }
            if !c.fallback {
                // RFC 8684 §3.7: a subflow reset for a checksum failure says where.
                if let Some(dsn) = self.mp.mp_fail_due {
                    out.push(MptcpOption::MpFail(MpFail { dsn }));
                }
                // RFC 8684 §3.6: every RST of a subflow says why.
                let reason = self.mp.reset_reason.unwrap_or(0);
                out.push(MptcpOption::MpTcpRst(MpTcpRst { flags: 0, reason }));
            }
            return out;
        }
        // A pure ACK is the segment that was due (a data segment carries its
        // own mapping, not a bare DATA_FIN, so it does not count).
        if !f.syn() && seg.len == 0 {
            self.mp.ack_due = false;
        }
        // RFC 8684 §3.7: the infinite mapping rides the segment that starts
        // the unmapped stream (and, before it is sent, the pure ACKs at that
        // sequence number), even though the connection fell back.
        if let Some((rel, dsn)) = self.mp.infinite_map
            && !f.syn()
            && seg.rel_seq == rel
        {
            let checksum = c.checksum.then_some(0);
            let mapping = Some(DssMapping { dsn, dsn_wide: true, ssn: rel as u32, len: 0, checksum });
            out.push(MptcpOption::Dss(Dss { data_ack: None, mapping, data_fin: false }));
            return out;
        }
        // Bytes mapped before the fallback and sent only now (held in the
        // subflow's queue) still carry their mappings: the peer learns of the
        // fallback at the infinite mapping, and data without a DSS before
        // it would make it fall back for a reason of its own.
        let mapped_before = self.mp.infinite_map.is_some_and(|(rel, _)| seg.len > 0 && seg.rel_seq < rel);
        if c.fallback && !mapped_before {
            return out;
        }
        if f.syn() {
            let opt = match (self.mp.role, f.ack()) {
                (SubflowRole::InitialActive, false) => {
                    MptcpOption::MpCapable(MpCapable::syn(mpc_flags(c.checksum_request, false)))
                }
                (SubflowRole::InitialPassive, true) => MptcpOption::MpCapable(MpCapable {
                    sender_key: Some(c.local_key),
                    ..MpCapable::syn(mpc_flags(c.checksum_request, c.deny_join_initial))
                }),
                (SubflowRole::JoinActive, false) => MptcpOption::MpJoin(MpJoin::Syn {
                    backup: self.mp.backup,
                    addr_id: self.mp.local_id,
                    token: c.remote_token,
                    nonce: self.mp.join.local_nonce,
                }),
                (SubflowRole::JoinPassive, true) => {
                    let (Some(rk), Some(rn)) = (c.remote_key, self.mp.join.remote_nonce) else { return out };
                    // RFC 8684 §3.2: HMAC(Key-B || Key-A, R-B || R-A), leftmost 64 bits.
                    let hmac = crypto::join_synack_hmac(c.local_key, rk, self.mp.join.local_nonce, rn);
                    MptcpOption::MpJoin(MpJoin::SynAck {
                        backup: self.mp.backup,
                        addr_id: self.mp.local_id,
                        hmac,
                        nonce: self.mp.join.local_nonce,
                    })
                }
                _ => return out,
            };
            out.push(opt);
            return out;
        }
        if self.mp.third_ack_due && seg.len == 0 {
            let (Some(rk), Some(rn)) = (c.remote_key, self.mp.join.remote_nonce) else { return out };
            // RFC 8684 §3.2: HMAC(Key-A || Key-B, R-A || R-B), leftmost 160 bits.
            let hmac = crypto::join_ack_hmac(c.local_key, rk, self.mp.join.local_nonce, rn);
            out.push(MptcpOption::MpJoin(MpJoin::Ack { hmac }));
            return out;
        }
        let mut used = 0;
        let mut withdraw = false;
        // Planned now, committed once the segment is written (`on_emitted`).
        self.mp.planned = PlannedSignals::default();
        if seg.len == 0 && !c.mpc_pending {
            // RFC 8684 §3.4: address signals ride pure ACKs (as the kernel sends them).
            if let Some(a) = self.mp.signal {
                if a.len() <= room {
                    used += a.len();
                    self.mp.planned.signal = true;
                    out.push(MptcpOption::AddAddr(a));
                } else {
                    // It will never fit (an IPv6 address with a port and its
                    // HMAC, 30 bytes, beside TCP timestamps' 12): dropped, and said.
                    tracing::warn!(len = a.len(), room, "ADD_ADDR too long for the option space: not sent");
                    self.mp.signal = None;
                    self.mp.sent_signals.add_addr_too_long += 1;
                }
            }
            if self.mp.rm_due && !self.mp.rm_ids.is_empty() && used + 3 + self.mp.rm_ids.len() <= room {
                self.mp.planned.remove = true;
                withdraw = true;
                used += 3 + self.mp.rm_ids.len();
            }
        }
        // MP_FAIL rides ACKs until the infinite mapping answers it (§3.7).
        let fail = match self.mp.mp_fail_due {
            Some(dsn) if seg.len == 0 && used + MpFail::LEN + 12 <= room => {
                used += MpFail::LEN;
                Some(MpFail { dsn })
            }
            _ => None,
        };
        // Only on a pure ACK: on a data segment it could crowd out the DSS
        // mapping, and data without a mapping makes the kernel reset the
        // subflow (MP_TCPRST EMIDDLEBOX).
        if let Some(backup) = self.mp.prio_due
            && seg.len == 0
            && used + 3 + 12 <= room
        {
            // RFC 8684 §3.3.8: MP_PRIO on the subflow whose priority changes.
            self.mp.planned.prio = true;
            used += 3;
            out.push(MptcpOption::MpPrio(MpPrio { backup, addr_id: None }));
        }
        let mapping = if seg.len > 0 { self.mp.sent.covering(seg.rel_seq).copied() } else { None };
        if c.mpc_pending && self.mp.role == SubflowRole::InitialActive {
            let Some(rk) = c.remote_key else { return out };
            let first = mapping.filter(|m| m.rel_ssn == 1 && m.dsn == crypto::idsn(c.local_key).wrapping_add(1));
            if seg.len == 0 || first.is_some() {
                // RFC 8684 §3.1: the third ACK, and data before the connection is
                // fully established, carry both keys (with the data-level length).
                out.push(MptcpOption::MpCapable(MpCapable {
                    version: 1,
                    flags: mpc_flags(c.checksum_request, c.deny_join_initial),
                    sender_key: Some(c.local_key),
                    receiver_key: Some(rk),
                    data_len: first.map(|m| m.len),
                    checksum: first.and_then(|m| m.checksum).filter(|_| c.checksum),
                }));
                return out;
            }
        }
        let data_ack = c.data_ack.map(|value| DataAck { value, wide: c.ack_wide });
        let (map, data_fin) = match (mapping, c.data_fin) {
            (Some(m), _) => (
                Some(DssMapping {
                    dsn: m.dsn,
                    dsn_wide: true,
                    ssn: m.rel_ssn as u32,
                    len: m.len,
                    checksum: if c.checksum { m.checksum } else { None },
                }),
                false,
            ),
            (None, Some(fin)) if seg.len == 0 => {
                // RFC 8684 §3.3.3: a DATA_FIN with no data: subflow sequence 0, length 1.
                let checksum = c.checksum.then(|| crypto::dss_checksum(fin, 0, 1, &[]));
                (Some(DssMapping { dsn: fin, dsn_wide: true, ssn: 0, len: 1, checksum }), true)
            }
            _ => (None, false),
        };
        if data_ack.is_none() && map.is_none() {
            if let Some(f) = fail {
                let _ = out.try_push(MptcpOption::MpFail(f));
            }
            if withdraw {
                out.push(MptcpOption::RemoveAddr(RemoveAddr { ids: &self.mp.rm_ids }));
            }
            return out;
        }
        let dss = Dss { data_ack, mapping: map, data_fin };
        if used + dss.len() <= room {
            out.push(MptcpOption::Dss(dss));
        }
        if let Some(f) = fail {
            let _ = out.try_push(MptcpOption::MpFail(f));
        }
        if withdraw {
            let _ = out.try_push(MptcpOption::RemoveAddr(RemoveAddr { ids: &self.mp.rm_ids }));
        }
        out
    }
}
