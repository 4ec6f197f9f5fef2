//! Per-subflow state from sock_diag: a dump of the TCP sockets that are
//! MPTCP subflows (ULP "mptcp"), with their `tcp_info`, for stale detection.
//!
//! The request (`inet_diag_req_v2`), the reply (`inet_diag_msg`), the
//! `tcp_info` fields and the MPTCP ULP attributes are laid out as in
//! `linux/inet_diag.h`, `linux/tcp.h` and `linux/mptcp.h`.

use crate::engine::Health;
use crate::nl::{ReqError, ReqSocket};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_INFO: u16 = 2;
const INET_DIAG_ULP_INFO: u16 = 19;
const INET_ULP_INFO_MPTCP: u16 = 3;
const MPTCP_SUBFLOW_ATTR_TOKEN_LOC: u16 = 2;
const TCP_ESTABLISHED: u32 = 1;

/// One MPTCP subflow as sock_diag shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubflowDiag {
    pub token: u32,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub health: Health,
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
        let mut out = Vec::new();
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            let seq = self.req.next_seq();
            let reply = self.req.request(&request(family, seq), seq)?;
            out.extend(reply.iter().filter_map(|f| parse(&f.bytes[16..])));
        }
        Ok(out)
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
    let mut token = None;
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
            INET_DIAG_ULP_INFO => token = ulp_token(v),
            _ => {}
        }
        off += len.div_ceil(4) * 4;
    }
    Some(SubflowDiag { token: token?, local, remote, health: health? })
}

fn tcp_info(v: &[u8]) -> Option<Health> {
    Some(Health {
        rto_count: *v.get(2)?,
        unacked: u32_at(v, 24)?,
        last_send_ms: u32_at(v, 44)?,
        last_ack_ms: u32_at(v, 56)?,
        rtt_us: u32_at(v, 68)?,
        total_retrans: u32_at(v, 100).unwrap_or(0),
    })
}

/// The MPTCP ULP nest: INET_ULP_INFO_MPTCP { MPTCP_SUBFLOW_ATTR_TOKEN_LOC }.
fn ulp_token(v: &[u8]) -> Option<u32> {
    let mut off = 0;
    while v.len() >= off + 4 {
        let len = u16::from_ne_bytes([v[off], v[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([v[off + 2], v[off + 3]]) & 0x3fff;
        if len < 4 || off + len > v.len() {
            return None;
        }
        if kind == INET_ULP_INFO_MPTCP {
            let inner = &v[off + 4..off + len];
            let mut o = 0;
            while inner.len() >= o + 4 {
                let l = u16::from_ne_bytes([inner[o], inner[o + 1]]) as usize;
                let k = u16::from_ne_bytes([inner[o + 2], inner[o + 3]]) & 0x3fff;
                if l < 4 || o + l > inner.len() {
                    return None;
                }
                if k == MPTCP_SUBFLOW_ATTR_TOKEN_LOC {
                    return u32_at(inner, o + 4);
                }
                o += l.div_ceil(4) * 4;
            }
        }
        off += len.div_ceil(4) * 4;
    }
    None
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
        let mut info = vec![0u8; 104];
        info[2] = 3;
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
        // A plain TCP socket (no ULP info) is not a subflow; truncations never panic.
        assert_eq!(parse(&b[..72 + 108]), None);
        for n in 0..b.len() {
            let _ = parse(&b[..n]);
        }
    }
}
