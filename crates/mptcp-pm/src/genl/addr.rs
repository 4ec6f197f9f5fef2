//! The address nest (`MPTCP_PM_ADDR_ATTR_*`) used by ENDPOINT_ADDR, ATTR_ADDR
//! and ATTR_ADDR_REMOTE.

use netlink_packet_core::{DecodeError, Emitable, NLA_F_NESTED, Nla, NlasIterator};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const FAMILY: u16 = 1;
const ID: u16 = 2;
const ADDR4: u16 = 3;
const ADDR6: u16 = 4;
const PORT: u16 = 5;
const FLAGS: u16 = 6;
const IF_IDX: u16 = 7;

/// `AF_INET`, `AF_INET6`.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// One address nest. `None` fields are left out of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PmAddr {
    /// Sent whenever `ip` is set (the kernel needs it for ANNOUNCE and SUBFLOW_*).
    pub ip: Option<IpAddr>,
    pub id: Option<u8>,
    /// Host byte order on the wire (the kernel does `htons(nla_get_u16())`).
    pub port: Option<u16>,
    pub flags: Option<u32>,
    pub ifindex: Option<i32>,
}

impl PmAddr {
    pub fn ip(ip: IpAddr) -> PmAddr {
        PmAddr { ip: Some(ip), ..PmAddr::default() }
    }

    fn parts(&self) -> Vec<Part> {
        let mut v = Vec::new();
        if let Some(ip) = self.ip {
            v.push(Part::U16(FAMILY, if ip.is_ipv4() { AF_INET } else { AF_INET6 }));
        }
        if let Some(id) = self.id {
            v.push(Part::U8(ID, id));
        }
        match self.ip {
            Some(IpAddr::V4(a)) => v.push(Part::Bytes(ADDR4, a.octets().to_vec())),
            Some(IpAddr::V6(a)) => v.push(Part::Bytes(ADDR6, a.octets().to_vec())),
            None => {}
        }
        if let Some(p) = self.port {
            v.push(Part::U16(PORT, p));
        }
        if let Some(f) = self.flags {
            v.push(Part::U32(FLAGS, f));
        }
        if let Some(i) = self.ifindex {
            v.push(Part::U32(IF_IDX, i as u32));
        }
        v
    }

    /// Length of the nest's payload (its inner attributes).
    pub(crate) fn nest_len(&self) -> usize {
        self.parts().as_slice().buffer_len()
    }

    /// Writes the nest's payload.
    pub(crate) fn emit_nest(&self, buffer: &mut [u8]) {
        self.parts().as_slice().emit(buffer)
    }

    /// Parses the payload of an address nest (as GET_ADDR replies carry).
    pub fn parse(payload: &[u8]) -> Result<PmAddr, DecodeError> {
        let mut a = PmAddr::default();
        for nla in NlasIterator::new(payload) {
            let nla = nla?;
            let v = nla.value();
            match nla.kind() & !NLA_F_NESTED {
                ID if !v.is_empty() => a.id = Some(v[0]),
                ADDR4 if v.len() >= 4 => a.ip = Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
                ADDR6 if v.len() >= 16 => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(&v[..16]);
                    a.ip = Some(IpAddr::V6(Ipv6Addr::from(o)));
                }
                PORT if v.len() >= 2 => a.port = Some(u16::from_ne_bytes([v[0], v[1]])),
                FLAGS if v.len() >= 4 => a.flags = Some(u32::from_ne_bytes([v[0], v[1], v[2], v[3]])),
                IF_IDX if v.len() >= 4 => a.ifindex = Some(i32::from_ne_bytes([v[0], v[1], v[2], v[3]])),
                _ => {}
            }
        }
        Ok(a)
    }
}

/// A scalar attribute, in native byte order unless it is raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    U8(u16, u8),
    U16(u16, u16),
    U32(u16, u32),
    Bytes(u16, Vec<u8>),
}

impl Nla for Part {
    fn value_len(&self) -> usize {
        match self {
            Part::U8(..) => 1,
            Part::U16(..) => 2,
            Part::U32(..) => 4,
            Part::Bytes(_, b) => b.len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Part::U8(k, _) | Part::U16(k, _) | Part::U32(k, _) | Part::Bytes(k, _) => *k,
        }
    }
    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Part::U8(_, v) => buffer[0] = *v,
            Part::U16(_, v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            Part::U32(_, v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Part::Bytes(_, b) => buffer[..b.len()].copy_from_slice(b),
        }
    }
}
