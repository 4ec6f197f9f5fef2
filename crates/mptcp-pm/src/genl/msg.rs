//! The generic-netlink payload of the `mptcp_pm` family: a command (or event)
//! number and its attributes.

use super::addr::PmAddr;
use netlink_packet_core::{DecodeError, Emitable, NLA_F_NESTED, Nla, NlasIterator, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

/// Top-level command attributes (`MPTCP_PM_ATTR_*`; ENDPOINT_ADDR is ADDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PmAttr {
    /// 1: the local address (or the endpoint, for ADD/DEL_ADDR).
    Addr(PmAddr),
    /// 2
    RcvAddAddrs(u32),
    /// 3
    Subflows(u32),
    /// 4
    Token(u32),
    /// 5
    LocId(u8),
    /// 6
    AddrRemote(PmAddr),
    /// Anything else, or any attribute of a received message (whose meaning
    /// depends on whether it is a reply or an event): kind without the
    /// nested/byte-order bits, and the payload.
    Raw(u16, Vec<u8>),
}

impl Nla for PmAttr {
    fn value_len(&self) -> usize {
        match self {
            PmAttr::Addr(a) | PmAttr::AddrRemote(a) => a.nest_len(),
            PmAttr::RcvAddAddrs(_) | PmAttr::Subflows(_) | PmAttr::Token(_) => 4,
            PmAttr::LocId(_) => 1,
            PmAttr::Raw(_, b) => b.len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            PmAttr::Addr(_) => 1 | NLA_F_NESTED,
            PmAttr::RcvAddAddrs(_) => 2,
            PmAttr::Subflows(_) => 3,
            PmAttr::Token(_) => 4,
            PmAttr::LocId(_) => 5,
            PmAttr::AddrRemote(_) => 6 | NLA_F_NESTED,
            PmAttr::Raw(k, _) => *k,
        }
    }
    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            PmAttr::Addr(a) | PmAttr::AddrRemote(a) => a.emit_nest(buffer),
            PmAttr::RcvAddAddrs(v) | PmAttr::Subflows(v) | PmAttr::Token(v) => {
                buffer[..4].copy_from_slice(&v.to_ne_bytes())
            }
            PmAttr::LocId(v) => buffer[0] = *v,
            PmAttr::Raw(_, b) => buffer[..b.len()].copy_from_slice(b),
        }
    }
}

/// One `mptcp_pm` message: a command we send or a reply/event we receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmMessage {
    pub cmd: u8,
    pub attrs: Vec<PmAttr>,
}

impl GenlFamily for PmMessage {
    fn family_name() -> &'static str {
        super::FAMILY_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        super::FAMILY_VERSION
    }
}

impl Emitable for PmMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for PmMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut attrs = Vec::new();
        for nla in NlasIterator::new(buf) {
            let nla = nla?;
            attrs.push(PmAttr::Raw(nla.kind() & 0x3fff, nla.value().to_vec()));
        }
        Ok(PmMessage { cmd: header.cmd, attrs })
    }
}

impl PmMessage {
    /// The payload of received attribute `kind`, if present.
    pub fn raw(&self, kind: u16) -> Option<&[u8]> {
        self.attrs.iter().find_map(|a| match a {
            PmAttr::Raw(k, v) if *k == kind => Some(v.as_slice()),
            _ => None,
        })
    }
}
