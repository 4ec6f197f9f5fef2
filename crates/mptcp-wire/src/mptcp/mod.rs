//! Multipath TCP options (TCP option kind 30), every suboption of RFC 8684 §3.
//!
//! Each suboption has its own type with `parse` (from the whole option, kind
//! and length included), `len` and `emit`. [`MptcpOption`] dispatches on the
//! subtype. Unknown subtypes are kept as raw bytes so they re-emit unchanged.

mod add_addr;
mod dss;
mod mp_capable;
mod mp_fail;
mod mp_fastclose;
mod mp_join;
mod mp_prio;
mod mp_tcprst;
mod remove_addr;

pub use add_addr::AddAddr;
pub use dss::{DataAck, Dss, DssMapping, expand_dsn};
pub use mp_capable::MpCapable;
pub use mp_fail::MpFail;
pub use mp_fastclose::MpFastclose;
pub use mp_join::MpJoin;
pub use mp_prio::MpPrio;
pub use mp_tcprst::{MpTcpRst, ResetReason};
pub use remove_addr::RemoveAddr;

use crate::tcp::KIND_MPTCP;
use crate::{Error, Result};

/// MPTCP suboption subtypes (RFC 8684 §8, "MPTCP Option Subtypes").
pub mod subtype {
    /// MP_CAPABLE.
    pub const MP_CAPABLE: u8 = 0x0;
    /// MP_JOIN.
    pub const MP_JOIN: u8 = 0x1;
    /// DSS.
    pub const DSS: u8 = 0x2;
    /// ADD_ADDR.
    pub const ADD_ADDR: u8 = 0x3;
    /// REMOVE_ADDR.
    pub const REMOVE_ADDR: u8 = 0x4;
    /// MP_PRIO.
    pub const MP_PRIO: u8 = 0x5;
    /// MP_FAIL.
    pub const MP_FAIL: u8 = 0x6;
    /// MP_FASTCLOSE.
    pub const MP_FASTCLOSE: u8 = 0x7;
    /// MP_TCPRST.
    pub const MP_TCPRST: u8 = 0x8;
    /// MP_EXPERIMENTAL.
    pub const MP_EXPERIMENTAL: u8 = 0xf;
}

/// One MPTCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MptcpOption<'a> {
    /// MP_CAPABLE (§3.1).
    MpCapable(MpCapable),
    /// MP_JOIN (§3.2).
    MpJoin(MpJoin),
    /// Data Sequence Signal (§3.3).
    Dss(Dss),
    /// ADD_ADDR (§3.4.1).
    AddAddr(AddAddr),
    /// REMOVE_ADDR (§3.4.2).
    RemoveAddr(RemoveAddr<'a>),
    /// MP_PRIO (§3.3.8).
    MpPrio(MpPrio),
    /// MP_FAIL (§3.7).
    MpFail(MpFail),
    /// MP_FASTCLOSE (§3.5).
    MpFastclose(MpFastclose),
    /// MP_TCPRST (§3.6).
    MpTcpRst(MpTcpRst),
    /// MP_EXPERIMENTAL (subtype 0xf): the bytes after kind and length.
    Experimental {
        /// Everything after kind and length (the subtype byte included).
        data: &'a [u8],
    },
    /// A subtype this codec does not know: the bytes after kind and length.
    Unknown {
        /// The subtype (high nibble of the third byte).
        subtype: u8,
        /// Everything after kind and length (the subtype byte included).
        data: &'a [u8],
    },
}

impl<'a> MptcpOption<'a> {
    /// Parses a whole MPTCP option (kind, length, then the suboption).
    pub fn parse(opt: &'a [u8]) -> Result<Self> {
        let (kind, len, sub) = match opt {
            [k, l, s, ..] => (*k, usize::from(*l), *s >> 4),
            _ => return Err(Error::Truncated),
        };
        if kind != KIND_MPTCP {
            return Err(Error::Malformed("not an MPTCP option (kind 30)"));
        }
        if len != opt.len() {
            return Err(Error::Malformed("MPTCP option length does not match its bytes"));
        }
        Ok(match sub {
            subtype::MP_CAPABLE => MptcpOption::MpCapable(MpCapable::parse(opt)?),
            subtype::MP_JOIN => MptcpOption::MpJoin(MpJoin::parse(opt)?),
            subtype::DSS => MptcpOption::Dss(Dss::parse(opt)?),
            subtype::ADD_ADDR => MptcpOption::AddAddr(AddAddr::parse(opt)?),
            subtype::REMOVE_ADDR => MptcpOption::RemoveAddr(RemoveAddr::parse(opt)?),
            subtype::MP_PRIO => MptcpOption::MpPrio(MpPrio::parse(opt)?),
            subtype::MP_FAIL => MptcpOption::MpFail(MpFail::parse(opt)?),
            subtype::MP_FASTCLOSE => MptcpOption::MpFastclose(MpFastclose::parse(opt)?),
            subtype::MP_TCPRST => MptcpOption::MpTcpRst(MpTcpRst::parse(opt)?),
            subtype::MP_EXPERIMENTAL => MptcpOption::Experimental { data: &opt[2..] },
            subtype => MptcpOption::Unknown { subtype, data: &opt[2..] },
        })
    }

    /// The subtype of this option.
    pub fn subtype(&self) -> u8 {
        match self {
            MptcpOption::MpCapable(_) => subtype::MP_CAPABLE,
            MptcpOption::MpJoin(_) => subtype::MP_JOIN,
            MptcpOption::Dss(_) => subtype::DSS,
            MptcpOption::AddAddr(_) => subtype::ADD_ADDR,
            MptcpOption::RemoveAddr(_) => subtype::REMOVE_ADDR,
            MptcpOption::MpPrio(_) => subtype::MP_PRIO,
            MptcpOption::MpFail(_) => subtype::MP_FAIL,
            MptcpOption::MpFastclose(_) => subtype::MP_FASTCLOSE,
            MptcpOption::MpTcpRst(_) => subtype::MP_TCPRST,
            MptcpOption::Experimental { .. } => subtype::MP_EXPERIMENTAL,
            MptcpOption::Unknown { subtype, .. } => *subtype,
        }
    }

    /// Bytes on the wire, kind and length included.
    pub fn len(&self) -> usize {
        match self {
            MptcpOption::MpCapable(o) => o.len(),
            MptcpOption::MpJoin(o) => o.len(),
            MptcpOption::Dss(o) => o.len(),
            MptcpOption::AddAddr(o) => o.len(),
            MptcpOption::RemoveAddr(o) => o.len(),
            MptcpOption::MpPrio(o) => o.len(),
            MptcpOption::MpFail(_) => MpFail::LEN,
            MptcpOption::MpFastclose(_) => MpFastclose::LEN,
            MptcpOption::MpTcpRst(_) => MpTcpRst::LEN,
            MptcpOption::Experimental { data } | MptcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option (kind and length included) at the front of `buf`;
    /// returns the bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            MptcpOption::MpCapable(o) => o.emit(buf),
            MptcpOption::MpJoin(o) => o.emit(buf),
            MptcpOption::Dss(o) => o.emit(buf),
            MptcpOption::AddAddr(o) => o.emit(buf),
            MptcpOption::RemoveAddr(o) => o.emit(buf),
            MptcpOption::MpPrio(o) => o.emit(buf),
            MptcpOption::MpFail(o) => o.emit(buf),
            MptcpOption::MpFastclose(o) => o.emit(buf),
            MptcpOption::MpTcpRst(o) => o.emit(buf),
            MptcpOption::Experimental { data } | MptcpOption::Unknown { data, .. } => {
                let len = 2 + data.len();
                if data.is_empty() || len > 255 {
                    return Err(Error::Malformed("raw MPTCP option of impossible length"));
                }
                let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
                out[0] = KIND_MPTCP;
                out[1] = len as u8;
                out[2..].copy_from_slice(data);
                Ok(len)
            }
        }
    }
}

/// Checks `opt`'s length is one of `allowed` (a helper of the suboption parsers).
fn expect_len(opt: &[u8], allowed: &[usize], what: &'static str) -> Result<()> {
    if allowed.contains(&opt.len()) { Ok(()) } else { Err(Error::Malformed(what)) }
}

/// Takes the first `len` bytes of `buf` for an option and writes kind, length
/// and the subtype nibble with `low` in the low nibble of the third byte.
fn header(buf: &mut [u8], len: usize, sub: u8, low: u8) -> Result<&mut [u8]> {
    let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    out.fill(0);
    out[0] = KIND_MPTCP;
    out[1] = len as u8;
    out[2] = (sub << 4) | (low & 0x0f);
    Ok(out)
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}
fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}
