//! MP_TCPRST (RFC 8684 §3.6): why a subflow was reset.

use super::{expect_len, header, subtype};
use crate::Result;

/// MP_TCPRST, carried on a RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpTcpRst {
    /// The four flag bits U, V, W, T (T = 0x1: the error is transient).
    pub flags: u8,
    /// The reason code (see [`ResetReason`]).
    pub reason: u8,
}

/// MP_TCPRST reason codes (RFC 8684 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetReason {
    /// 0x00: unspecified error.
    Unspecified,
    /// 0x01: MPTCP-specific error.
    MptcpError,
    /// 0x02: lack of resources.
    Resources,
    /// 0x03: administratively prohibited.
    Prohibited,
    /// 0x04: too much outstanding data.
    TooMuchOutstanding,
    /// 0x05: unacceptable performance.
    BadPerformance,
    /// 0x06: middlebox interference.
    Middlebox,
    /// Any other code.
    Other(u8),
}

impl ResetReason {
    /// From the wire code.
    pub fn from_code(c: u8) -> Self {
        match c {
            0 => ResetReason::Unspecified,
            1 => ResetReason::MptcpError,
            2 => ResetReason::Resources,
            3 => ResetReason::Prohibited,
            4 => ResetReason::TooMuchOutstanding,
            5 => ResetReason::BadPerformance,
            6 => ResetReason::Middlebox,
            c => ResetReason::Other(c),
        }
    }
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            ResetReason::Unspecified => 0,
            ResetReason::MptcpError => 1,
            ResetReason::Resources => 2,
            ResetReason::Prohibited => 3,
            ResetReason::TooMuchOutstanding => 4,
            ResetReason::BadPerformance => 5,
            ResetReason::Middlebox => 6,
            ResetReason::Other(c) => c,
        }
    }
    /// A short stable name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            ResetReason::Unspecified => "unspecified",
            ResetReason::MptcpError => "mptcp-error",
            ResetReason::Resources => "resources",
            ResetReason::Prohibited => "prohibited",
            ResetReason::TooMuchOutstanding => "too-much-outstanding",
            ResetReason::BadPerformance => "bad-performance",
            ResetReason::Middlebox => "middlebox",
            ResetReason::Other(_) => "other",
        }
    }
}

impl MpTcpRst {
    /// Bytes on the wire.
    pub const LEN: usize = 4;
    /// T: transient error.
    pub const FLAG_T: u8 = 0x1;

    /// The reason, decoded.
    pub fn reason(&self) -> ResetReason {
        ResetReason::from_code(self.reason)
    }

    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[Self::LEN], "MP_TCPRST length is not 4")?;
        Ok(MpTcpRst { flags: opt[2] & 0x0f, reason: opt[3] })
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let out = header(buf, Self::LEN, subtype::MP_TCPRST, self.flags)?;
        out[3] = self.reason;
        Ok(Self::LEN)
    }
}
