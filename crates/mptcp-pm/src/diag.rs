//! Per-subflow state from sock_diag: a dump of the TCP sockets that are
//! MPTCP subflows (ULP "mptcp"), with their `tcp_info`, for stale detection.
//!
//! The request (`inet_diag_req_v2`), the reply (`inet_diag_msg`), the
//! `tcp_info` fields and the MPTCP ULP attributes are laid out as in
//! `linux/inet_diag.h`, `linux/tcp.h` and `linux/mptcp.h`.

use crate::engine::{ConnInfo, ConnSnapshot, Health, SubflowSnapshot};
use crate::nl::{ReqError, ReqSocket};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_INFO: u16 = 2;
const INET_DIAG_ULP_INFO: u16 = 19;
const INET_ULP_INFO_MPTCP: u16 = 3;
const MPTCP_SUBFLOW_ATTR_TOKEN_LOC: u16 = 2;
const MPTCP_SUBFLOW_ATTR_FLAGS: u16 = 8;
const MPTCP_SUBFLOW_ATTR_ID_REM: u16 = 9;
const MPTCP_SUBFLOW_ATTR_ID_LOC: u16 = 10;
/// `MPTCP_SUBFLOW_FLAG_*` (linux/mptcp.h).
pub const FLAG_MCAP_LOC: u32 = 0x2;
pub const FLAG_JOIN_REM: u32 = 0x4;
pub const FLAG_JOIN_LOC: u32 = 0x8;
pub const FLAG_BKUP_REM: u32 = 0x10;
pub const FLAG_BKUP_LOC: u32 = 0x20;
pub const FLAG_FULLY_ESTABLISHED: u32 = 0x40;
const TCP_ESTABLISHED: u32 = 1;

/// One MPTCP subflow as sock_diag shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubflowDiag {
    pub token: u32,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub health: Health,
    /// `MPTCP_SUBFLOW_ATTR_ID_LOC` / `_ID_REM` (0 when the kernel omits them).
    pub loc_id: u8,
    pub rem_id: u8,
    /// `MPTCP_SUBFLOW_ATTR_FLAGS`: who opened it, B bits, fully established.
    pub flags: u32,
}

impl SubflowDiag {
    /// The initial subflow (MP_CAPABLE), not a join.
    pub fn initial(&self) -> bool {
        self.flags & (FLAG_JOIN_LOC | FLAG_JOIN_REM) == 0
    }
    /// We sent the SYN: the initial subflow of a client, or a join we opened.
    pub fn ours(&self) -> bool {
        self.flags & (FLAG_MCAP_LOC | FLAG_JOIN_LOC) != 0
    }
}

/// A sock_diag socket.
pub struct Diag {
    req: ReqSocket,
}

impl Diag {
    pub fn open() -> std::io::Result<Diag> {
        Ok(Diag { req: ReqSocket::new(NETLINK_SOCK_DIAG)? })
    }

    /// Every established MPTCP subflow of both families.
    pub fn subflows(&mut self) -> Result<Vec<SubflowDiag>, ReqError> {
        self.subflows_in(1 << TCP_ESTABLISHED)
    }

    /// Every MPTCP subflow of both families in one of the TCP states of
    /// `states` (a mask of `1 << TCP_*`): with the closing states too, a
    /// subflow's last byte counts are seen before it goes.
    pub fn subflows_in(&mut self, states: u32) -> Result<Vec<SubflowDiag>, ReqError> {
        let mut out = Vec::new();
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            let seq = self.req.next_seq();
            let mut v = request(family, seq);
            v[20..24].copy_from_slice(&states.to_ne_bytes());
            let reply = self.req.request(&v, seq)?;
            out.extend(reply.iter().filter_map(|f| parse(f.bytes.get(16..)?)));
        }
        Ok(out)
    }
}

/// Groups subflows into connections, for [`crate::engine::Event::Resync`]:
/// the connection's addresses are its initial subflow's (else its first
/// subflow's, when the initial one is gone), and we are its server when we
/// did not send that subflow's SYN.
pub fn connections(subs: &[SubflowDiag]) -> Vec<ConnSnapshot> {
    let mut by_token: std::collections::BTreeMap<u32, Vec<&SubflowDiag>> = Default::default();
    for s in subs {
        by_token.entry(s.token).or_default().push(s);
    }
    let canon = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    by_token
        .into_iter()
        .filter_map(|(token, subs)| {
            let first = subs.iter().find(|s| s.initial()).or(subs.first())?;
            let server_side = if first.initial() { !first.ours() } else { !subs.iter().any(|s| s.ours()) };
            Some(ConnSnapshot {
                info: ConnInfo {
                    token,
                    local: canon(first.local),
                    remote: canon(first.remote),
                    server_side,
                    deny_join_id0: false,
                    process: None,
                },
                subflows: subs
                    .iter()
                    .map(|s| SubflowSnapshot {
                        local: canon(s.local),
                        remote: canon(s.remote),
                        loc_id: s.loc_id,
                        rem_id: s.rem_id,
                        initial: s.initial(),
                        ours: s.ours(),
                        backup: s.flags & FLAG_BKUP_LOC != 0,
                        peer_backup: s.flags & FLAG_BKUP_REM != 0,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// `INET_DIAG_REQ_PROTOCOL`: the protocol, for those above 255 (MPTCP).
const INET_DIAG_REQ_PROTOCOL: u16 = 3;
const IPPROTO_MPTCP: u32 = 262;

impl Diag {
    /// The inode of the MPTCP socket with this token (the file a process
    /// holds), from the MPTCP diag's lookup by token (`idiag_cookie[0]`).
    pub fn mptcp_inode(&mut self, token: u32) -> Result<Option<u32>, ReqError> {
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            let seq = self.req.next_seq();
            let mut v = request(family, seq);
            v[6..8].copy_from_slice(&(0x1u16 | 0x4).to_ne_bytes()); // NLM_F_REQUEST | NLM_F_ACK
            v[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // any state
            v[64..68].copy_from_slice(&token.to_ne_bytes()); // id.idiag_cookie[0]
            v.extend_from_slice(&8u16.to_ne_bytes());
            v.extend_from_slice(&INET_DIAG_REQ_PROTOCOL.to_ne_bytes());
            v.extend_from_slice(&IPPROTO_MPTCP.to_ne_bytes());
            let len = v.len() as u32;
            v[0..4].copy_from_slice(&len.to_ne_bytes());
            match self.req.request(&v, seq) {
                Ok(reply) => {
                    if let Some(inode) = reply.iter().find_map(|f| u32_at(&f.bytes, 16 + 68)) {
                        return Ok(Some(inode));
                    }
                }
                Err(ReqError::Kernel(e)) if e.errno == libc::ENOENT => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// The dump request: TCP, established, with INET_DIAG_INFO (which also
/// brings the ULP info to a CAP_NET_ADMIN caller).
pub fn request(family: u8, seq: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(72);
    v.extend_from_slice(&72u32.to_ne_bytes());
    v.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    v.extend_from_slice(&(0x1u16 | 0x300).to_ne_bytes()); // NLM_F_REQUEST | NLM_F_DUMP
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.push(family);
    v.push(libc::IPPROTO_TCP as u8);
    v.push(1 << (INET_DIAG_INFO - 1));
    v.push(0);
    v.extend_from_slice(&(1u32 << TCP_ESTABLISHED).to_ne_bytes());
    v.extend_from_slice(&[0u8; 48]); // inet_diag_sockid: any
    v
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn addr(family: u8, b: &[u8]) -> Option<IpAddr> {
    if family == libc::AF_INET as u8 {
        let o: [u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(IpAddr::V4(Ipv4Addr::from(o)))
    } else {
        let o: [u8; 16] = b.get(..16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(o)))
    }
}

/// Parses one `inet_diag_msg` with its attributes; `None` unless it is an
/// MPTCP subflow with a `tcp_info`.
pub fn parse(b: &[u8]) -> Option<SubflowDiag> {
    let family = *b.first()?;
    let id = b.get(4..52)?;
    let sport = u16::from_be_bytes([id[0], id[1]]);
    let dport = u16::from_be_bytes([id[2], id[3]]);
    let local = SocketAddr::new(addr(family, &id[4..20])?, sport);
    let remote = SocketAddr::new(addr(family, &id[20..36])?, dport);
    let mut ulp = None;
    let mut health = None;
    let mut off = 72;
    while b.len() >= off + 4 {
        let len = u16::from_ne_bytes([b[off], b[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([b[off + 2], b[off + 3]]) & 0x3fff;
        if len < 4 || off + len > b.len() {
            break;
        }
        let v = &b[off + 4..off + len];
        match kind {
            INET_DIAG_INFO => health = tcp_info(v),
            INET_DIAG_ULP_INFO => ulp = ulp_info(v),
            _ => {}
        }
        off += len.div_ceil(4) * 4;
    }
    let u = ulp?;
    Some(SubflowDiag {
        token: u.token?,
        local,
        remote,
        health: health?,
        loc_id: u.loc_id,
        rem_id: u.rem_id,
        flags: u.flags,
    })
}

fn tcp_info(v: &[u8]) -> Option<Health> {
    Some(Health {
        rto_count: *v.get(2)?,
        unacked: u32_at(v, 24)?,
        last_send_ms: u32_at(v, 44)?,
        last_ack_ms: u32_at(v, 56)?,
        rtt_us: u32_at(v, 68)?,
        total_retrans: u32_at(v, 100).unwrap_or(0),
        last_recv_ms: u32_at(v, 52)?,
        bytes_received: u64_at(v, 128).unwrap_or(0),
        bytes_acked: u64_at(v, 120).unwrap_or(0),
    })
}

#[derive(Default)]
struct Ulp {
    token: Option<u32>,
    loc_id: u8,
    rem_id: u8,
    flags: u32,
}

/// Netlink attributes in `v`: (kind, value).
fn attrs(v: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0;
    std::iter::from_fn(move || {
        let len = u16::from_ne_bytes([*v.get(off)?, *v.get(off + 1)?]) as usize;
        let kind = u16::from_ne_bytes([*v.get(off + 2)?, *v.get(off + 3)?]) & 0x3fff;
        if len < 4 || off + len > v.len() {
            return None;
        }
        let a = &v[off + 4..off + len];
        off += len.div_ceil(4) * 4;
        Some((kind, a))
    })
}

/// The MPTCP ULP nest: INET_ULP_INFO_MPTCP { MPTCP_SUBFLOW_ATTR_* }.
fn ulp_info(v: &[u8]) -> Option<Ulp> {
    let (_, inner) = attrs(v).find(|(k, _)| *k == INET_ULP_INFO_MPTCP)?;
    let mut u = Ulp::default();
    for (k, a) in attrs(inner) {
        match k {
            MPTCP_SUBFLOW_ATTR_TOKEN_LOC => u.token = u32_at(a, 0),
            MPTCP_SUBFLOW_ATTR_FLAGS => u.flags = u32_at(a, 0).unwrap_or(0),
            MPTCP_SUBFLOW_ATTR_ID_REM => u.rem_id = a.first().copied().unwrap_or(0),
            MPTCP_SUBFLOW_ATTR_ID_LOC => u.loc_id = a.first().copied().unwrap_or(0),
            _ => {}
        }
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_an_inet_diag_req_v2_dump() {
        let r = request(2, 7);
        assert_eq!(r.len(), 72);
        assert_eq!(&r[16..20], &[2, 6, 2, 0]);
        assert_eq!(u32_at(&r, 20), Some(2));
    }

    #[test]
    fn parses_a_subflow_with_tcp_info_and_its_token() {
        let mut b = vec![0u8; 72];
        b[0] = 2;
        b[4..6].copy_from_slice(&41000u16.to_be_bytes());
        b[6..8].copy_from_slice(&5201u16.to_be_bytes());
        b[8..12].copy_from_slice(&[10, 0, 2, 2]);
        b[24..28].copy_from_slice(&[10, 0, 1, 1]);
        let mut info = vec![0u8; 136];
        info[2] = 3;
        info[120..128].copy_from_slice(&7000u64.to_ne_bytes());
        info[128..136].copy_from_slice(&9000u64.to_ne_bytes());
        info[24..28].copy_from_slice(&9u32.to_ne_bytes());
        info[56..60].copy_from_slice(&2500u32.to_ne_bytes());
        b.extend_from_slice(&((4 + info.len()) as u16).to_ne_bytes());
        b.extend_from_slice(&INET_DIAG_INFO.to_ne_bytes());
        b.extend_from_slice(&info);
        let tok = [8u8, 0, 2, 0, 0xef, 0xbe, 0xad, 0xde];
        let mut ulp = vec![12u8, 0, 3, 0x80];
        ulp.extend_from_slice(&tok);
        b.extend_from_slice(&((4 + ulp.len()) as u16).to_ne_bytes());
        b.extend_from_slice(&(INET_DIAG_ULP_INFO | 0x8000).to_ne_bytes());
        b.extend_from_slice(&ulp);
        let s = parse(&b).unwrap();
        assert_eq!(s.token, u32::from_ne_bytes([0xef, 0xbe, 0xad, 0xde]));
        assert_eq!(s.local, "10.0.2.2:41000".parse().unwrap());
        assert_eq!(s.remote, "10.0.1.1:5201".parse().unwrap());
        assert_eq!((s.health.rto_count, s.health.unacked, s.health.last_ack_ms), (3, 9, 2500));
        assert_eq!((s.health.bytes_acked, s.health.bytes_received), (7000, 9000));
        // A plain TCP socket (no ULP info) is not a subflow; truncations never panic.
        assert_eq!(parse(&b[..72 + 140]), None);
        for n in 0..b.len() {
            let _ = parse(&b[..n]);
        }
    }
}
